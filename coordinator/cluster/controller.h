/* controller.h — the one node that writes the partition records: elected on etcd, fenced by its own key. */
#ifndef SCD_CONTROLLER_H
#define SCD_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/cluster_state.h"
#include "cluster/etcd.h"

struct scd_controller;

/* What the controller works with: all of it belongs to the node's membership, which outlives it. */
struct scd_controller_env {
	sd_event *event;
	struct scd_etcd *etcd;
	const struct scd_cluster_state *state; /* the node's view of the cluster, kept current by its owner */
	const char *cluster, *node;
	uint32_t replication_factor;
	bool in_sync_only; /* sync or strong mode: a new primary only from the in-sync set (assignment.h) */
	/* static membership: only members listening at one of these hold partitions; none: any */
	const char *const *static_peers;
	size_t static_peer_count;
	int64_t (*lease)(void *userdata); /* the lease the node holds while it runs, 0 otherwise */
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata;
};

int scd_controller_new(const struct scd_controller_env *env, struct scd_controller **out);
void scd_controller_free(struct scd_controller *c);

/*
 * The node's view changed (SCD_CHANGED_* bits) and now reaches revision:
 * stand for controller when there is none; as controller, write every
 * record that assignment.h says must change, each with its in-sync set, in
 * txns of up to SCD_CONTROLLER_BATCH partitions that each require the
 * controller key to be the one this node created, each record's and
 * in-sync set's mod_revision to be the ones it read, and, for a record that
 * names a new primary, the old primary's member key to be as the view had
 * it (gone stays gone). After writing, it waits until its view reaches what
 * it wrote before it looks again, so it never works from its own old view; a
 * txn refused with the view already current is tried again after 250 ms.
 */
#define SCD_CONTROLLER_BATCH 64u
void scd_controller_changed(struct scd_controller *c, unsigned what, int64_t revision);

/* The node lost its lease: it is no controller, and what it had in flight is dropped. */
void scd_controller_stand_down(struct scd_controller *c);

struct scd_controller_stats {
	bool controller;
	uint64_t records_written;
	uint64_t txn_conflicts;
};
void scd_controller_stats(const struct scd_controller *c, struct scd_controller_stats *out);

#endif /* SCD_CONTROLLER_H */
