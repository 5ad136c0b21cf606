/* replication.h — shipping this node's replication logs to its replicas, and applying its primaries' logs. */
#ifndef SCD_REPLICATION_H
#define SCD_REPLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/cluster_state.h"
#include "cluster/frame.h"
#include "cluster/peer_link.h"
#include "supercache.h"

/*
 * One struct scd_replication per node, on the daemon's event loop, beside
 * its peer links (docs/distributed.md, "Shipping the logs"). Nothing here is
 * thread-safe.
 *
 * Roles come from the partition map in the segment, read again at each
 * scd_replication_map_changed(): log i follows partition i % num_partition.
 * Where the map names this node primary, the log's entries go to each other
 * replica that said where its own log ends; where it names another node
 * primary, this node follows that node's log. Where it names another node
 * primary and this node not among the replicas, this node's copy is emptied
 * and its log started over (sc_repl_reset): it would only be served stale,
 * and named a replica again it is filled from the start. A partition with
 * no primary keeps every copy as it is.
 *
 * Following. A replica sends a position frame with SCD_REPL_FOLLOW (its
 * epoch for the partition, and its log's last lseq and epoch) when it
 * becomes a replica under an epoch, when its link to the primary comes up,
 * and again every follow_retry_usec until the primary answers. The primary
 * takes it only when its own map names it primary of that partition under
 * that same epoch and names the sender among the replicas; it then answers
 * with an entries frame (possibly empty) from the entry after the replica's
 * last, and keeps sending as its log grows.
 *
 * Copying. A replica whose log it cannot continue (its ring no longer holds
 * the entries after the replica's last; or the replica's log diverged: its
 * last entry is not in this log under the same epoch, or it is ahead; or the
 * replica asked, after a resync mark) gets a copy of the partition
 * (sc_repl_snapshot()) in copy frames, and then the log from the copy's
 * point. The replica empties its copy at the first frame
 * (sc_repl_reset()), restores each, and at the last makes its log follow
 * from the copy's point (sc_repl_restore_end()), then acks. Truncating a
 * diverged log is done this way: the partition's data is not the log, so
 * the entries past the divergence cannot be taken back one by one. A copy
 * that cannot be made (no memory) leaves the replica stuck, said once and
 * counted.
 *
 * Applying. A replica applies an entries frame only when it comes from the
 * node its map names primary, under the epoch its map has: a frame of
 * another epoch or sender is dropped (the map will move, and the follow
 * after it restarts the stream). Entries it already holds (lseq at or before
 * its last, same epoch) are skipped; a gap sends a new follow. After each
 * frame applied it answers with a position frame without the flag: the
 * primary's ack.
 *
 * The primary polls its logs every poll_usec for entries not yet sent, and
 * keeps at most SCD_REPL_IN_FLIGHT bytes queued per link. After each change,
 * it writes each log's progress into the segment (sc_repl_progress_write):
 * shipped up to the least any replica was sent; acked up to the least any
 * member of the partition's in-sync set acked, and only while that set is
 * known for the epoch and holds a majority of the replicas (else acked
 * stays, and sync writes wait).
 *
 * The in-sync set (docs/distributed.md, "The in-sync set"). Its owner tells
 * what etcd holds (scd_replication_in_sync_known()). The primary reviews it
 * every poll: a member behind in either log of the partition for longer
 * than lag_usec leaves it, unless that would leave less than a majority; a
 * replica following and holding every entry of both logs joins it. A change
 * goes through propose_in_sync() (an etcd txn: in_sync.h), one at a time per
 * partition, and counts only once its owner says etcd took it
 * (scd_replication_in_sync_written()): a member leaves before any write is
 * acknowledged without it.
 */
struct scd_replication;

/* Bytes a primary keeps queued on one link before it waits for the socket. */
#define SCD_REPL_IN_FLIGHT (1u << 20)

/* What the replication tells its owner as it happens (for probes: docs/telemetry.md). */
enum scd_repl_event_kind {
	SCD_REPL_SHIPPED,     /* log, node, a: the last lseq sent, b: entries in the frame */
	SCD_REPL_ACKED,	      /* log, node, a: the lseq it acknowledged */
	SCD_REPL_IN_SYNC,     /* log: the partition, a: members of its in-sync set now, b: the epoch */
	SCD_REPL_COPYING,     /* log, node, a: the copy's bytes, b: the lseq it follows */
	SCD_REPL_PRIMARY_NOW, /* log: the partition, a: the epoch under which this node became its primary */
};

struct scd_repl_event {
	enum scd_repl_event_kind kind;
	uint32_t log;
	const char *node; /* "" when none */
	uint64_t a, b;
};

struct scd_replication_config {
	sd_event *event;
	sc_cache *cache; /* a distributed cache, its map written by this daemon */
	struct scd_peers *peers;
	const char *node;	    /* this node's name */
	uint64_t poll_usec;	    /* > 0 */
	uint64_t follow_retry_usec; /* > 0 */
	uint64_t lag_usec; /* > 0: how long an in-sync replica may be behind before it leaves the set */
	/*
	 * Write want as partition's in-sync set under epoch, replacing the one at
	 * isr_revision: 0 once sent (scd_replication_in_sync_written() follows), or
	 * a negative errno.
	 */
	int (*propose_in_sync)(void *userdata, uint32_t partition, uint64_t epoch, int64_t isr_revision,
			       const struct scd_isr *want);
	void (*on_event)(void *userdata, const struct scd_repl_event *e); /* may be NULL */
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata;
};

/* 0 with *out set, or -EINVAL (a duration of 0, no cache), -ENOMEM, or sd-event's error. */
int scd_replication_new(const struct scd_replication_config *cfg, struct scd_replication **out);
void scd_replication_free(struct scd_replication *r);

/* The segment's map changed: read each log's role again, follow and forget as it says. */
void scd_replication_map_changed(struct scd_replication *r);
/* What etcd holds as partition's in-sync set for epoch (taken when this node is its primary under it). */
void scd_replication_in_sync_known(struct scd_replication *r, uint32_t partition, uint64_t epoch,
				   const struct scd_isr *isr);
/* What became of a propose_in_sync(): result and revision as in_sync.h says. */
void scd_replication_in_sync_written(struct scd_replication *r, uint32_t partition, uint64_t epoch,
				     const struct scd_isr *isr, int result, int64_t revision);

/* node's link went up or down. */
void scd_replication_link_changed(struct scd_replication *r, const char *node, bool up);
/*
 * A replication frame from node (the peer links' received()): 0, or -EPROTO
 * when it does not decode or names no log (the link is closed).
 */
int scd_replication_received(struct scd_replication *r, const char *node, const struct scd_frame *f);

struct scd_replication_stats {
	uint64_t frames_sent, entries_sent, bytes_sent;
	uint64_t frames_applied, entries_applied;
	uint64_t follows_sent, follows_taken, follows_refused;
	uint64_t acks_taken;
	uint64_t dropped;		       /* entries frames of another epoch or sender */
	uint64_t gaps;			       /* entries frames that did not follow this node's log */
	uint64_t in_sync_changes;	       /* in-sync sets this node wrote as primary */
	uint64_t copies_sent, copies_restored; /* partitions copied whole (see "Copying" above) */
	uint32_t stuck;			       /* (log, replica) pairs this primary cannot continue now */
	uint32_t primary_logs, replica_logs;
};

void scd_replication_get_stats(const struct scd_replication *r, struct scd_replication_stats *out);

/* How far one other replica of a partition this node is primary of is behind, over both its logs. */
struct scd_replica_lag {
	char node[SCD_HELLO_NAME_MAX + 1];
	bool in_sync;	      /* in the partition's in-sync set, as etcd holds it */
	bool following;	      /* in both logs */
	bool copying;	      /* a copy of the partition is on its way to it */
	uint64_t acked_lseq;  /* the two logs' acked entries, summed */
	uint64_t behind;      /* entries of the two logs it has not acknowledged */
	uint64_t behind_usec; /* how long since it last held every entry of both; 0 when it does */
};

/* What this node is for a partition, and its logs' last entries (both summed). */
struct scd_partition_replication {
	const char *role; /* "primary", "replica", "outside", or "none" (no map, no primary) */
	uint64_t epoch;
	uint64_t last_lseq;
	char primary[SCD_HELLO_NAME_MAX + 1]; /* as a replica: whom it follows */
	bool restoring;			      /* as a replica: a copy is coming in */
};

/*
 * Partition p as this node sees it into *out, and, when it is p's primary,
 * each other replica's lag into lags[0, cap): how many replicas there are
 * (0 when this node is not p's primary), or -EINVAL for p out of range.
 */
int scd_replication_lag(const struct scd_replication *r, uint32_t p, struct scd_partition_replication *out,
			struct scd_replica_lag *lags, size_t cap);

#endif /* SCD_REPLICATION_H */
