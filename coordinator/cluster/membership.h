/* membership.h — a node's life in its cluster on etcd: shared configuration, lease, member key, election, the partition records. */
#ifndef SCD_MEMBERSHIP_H
#define SCD_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/cluster_state.h"
#include "cluster/etcd.h"

/*
 * The steps, each a request to etcd from the event loop, each retried
 * after a pause when etcd cannot be reached:
 *
 *   1. config     create /config with the structural options, or read the
 *                 one there and compare: a difference is fatal (the caller
 *                 exits 78), named by key with both values.
 *   2. lease      grant a lease of lease_usec (etcd rounds up to seconds).
 *   3. register   create members/<node> under it; a key held by another
 *                 lease (another process with our name, or our previous
 *                 run) is waited out, never taken.
 *   4. sync       read the whole prefix, then watch it from the next
 *                 revision: the partition map follows every change.
 *   5. running    renew the lease every third of its life; stand for
 *                 controller whenever there is none.
 *
 * Fencing (docs/distributed.md, "Fencing"): the lease deadline is the time
 * the renewal that etcd last confirmed was sent, plus nine tenths of the
 * lease's TTL. etcd can only let the lease expire after it received that
 * renewal, a full TTL later, so the node stops acting as a primary before
 * etcd deletes its member key, which is what lets the controller give its
 * partitions away. A deadline that passes, or a renewal etcd answers with
 * "no such lease", fences the node (deadline 0) and starts again from 2.
 *
 * The controller (the node whose key /controller is) writes partition
 * records, each in a txn that also requires its own controller key to be
 * the one it created and the record's mod_revision to be the one it read:
 * a deposed controller, or one working from an old view, writes nothing.
 */
struct scd_membership;

struct scd_membership_config {
	struct scd_etcd *etcd; /* borrowed */
	const char *cluster, *node, *listen;
	uint32_t num_partition;
	uint32_t replication_factor;
	bool in_sync_only; /* sync or strong mode: the controller's rule (assignment.h) */
	uint64_t lease_usec;
	/* the structural options every node must share, as key = value text (copied) */
	const char *const *shared_keys;
	const char *const *shared_values;
	size_t shared_count;
	/* static membership (cluster_peers): only members listening at one of these hold partitions; none: any (copied) */
	const char *const *static_peers;
	size_t static_peer_count;
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	/* the configuration check's outcome: 0, or -EINVAL (why names the key and both values) */
	void (*config_checked)(void *userdata, int err, const char *why);
	/* what changed (SCD_CHANGED_* bits, SCD_CHANGED_LEASE for the deadline alone) */
	void (*changed)(void *userdata, unsigned what);
	void *userdata;
};

#define SCD_CHANGED_LEASE 8u

int scd_membership_start(sd_event *event, const struct scd_membership_config *cfg,
			 struct scd_membership **out);
/* Stop: no callback after this. The lease is left to expire (scd_membership_leave() gives it back first). */
void scd_membership_free(struct scd_membership *m);

/* Fence this node and give the lease back, so the controller moves its partitions at once; done() when etcd answered or failed. */
void scd_membership_leave(struct scd_membership *m, void (*done)(void *userdata), void *userdata);

/* What the node knows of the cluster (valid until the next callback). */
const struct scd_cluster_state *scd_membership_state(const struct scd_membership *m);

/* The lease deadline on CLOCK_MONOTONIC in ns: 0 while the node is fenced (not yet synced, or lapsed). */
uint64_t scd_membership_deadline_ns(const struct scd_membership *m);

struct scd_membership_stats {
	const char *phase; /* "config", "lease", "register", "sync", "running" */
	bool controller;   /* this node is the controller */
	int64_t lease_id;
	uint64_t lease_ttl_usec;
	uint64_t lapses;	  /* times the lease was lost */
	uint64_t records_written; /* partition records this node wrote as controller */
	uint64_t txn_conflicts;	  /* controller txns etcd refused */
	int64_t revision;	  /* the last etcd revision applied */
};
void scd_membership_stats(const struct scd_membership *m, struct scd_membership_stats *out);

#endif /* SCD_MEMBERSHIP_H */
