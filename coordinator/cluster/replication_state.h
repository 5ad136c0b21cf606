/*
 * replication_state.h — inside the replication (replication.h): the state the
 * replica's side and the primary's side (replication_primary.c) share.
 */
#ifndef SCD_REPLICATION_STATE_H
#define SCD_REPLICATION_STATE_H

#include "cluster/replication.h"

/* Bytes of entries in one frame at most: a frame holds several, and always one of the largest. */
#define SCD_REPL_FRAME_ENTRIES (256u << 10)
_Static_assert(SCD_REPL_FRAME_ENTRIES >= SC_REPL_ENTRY_MAX, "a frame takes the largest entry");
_Static_assert(SCD_REPL_ENTRIES_HEADER + SCD_REPL_FRAME_ENTRIES <= SCD_FRAME_MAX_BODY,
	       "a frame's body fits the limit");

/* On the primary: one other replica of a log. */
struct follower {
	char node[SCD_HELLO_NAME_MAX + 1];
	bool following;	    /* it said where its log ends, under this epoch */
	bool stuck;	    /* this log cannot continue its: said once, nothing sent */
	uint64_t pos;	    /* the ring position of the next entry to send it */
	uint64_t sent_lseq; /* the last entry sent (or held when it followed) */
	uint64_t acked_lseq;
	uint64_t told_committed; /* the committed_lseq last sent it */
	uint64_t caught_up_usec; /* CLOCK_MONOTONIC when it last held every entry of the log */
	/* A copy of the partition being sent (sc_repl_snapshot()), before the log goes on from copy_lseq: */
	bool copying;
	uint8_t *copy;
	size_t copy_len, copy_off;
	uint64_t copy_lseq, copy_epoch;
	/*
	 * Why it needs a copy, while the copy waits for it to leave the in-sync
	 * set: a replica being copied holds part of the partition, and a member
	 * of the set may be named primary (replication_primary.c, start_copy()).
	 */
	const char *copy_wanted;
};

enum log_role {
	ROLE_NONE,    /* no map yet, or the partition has no primary: its copy is kept as it is */
	ROLE_PRIMARY, /* the map names this node primary */
	ROLE_REPLICA, /* ... another node primary, and this node among the replicas */
	ROLE_OUTSIDE, /* ... another node primary, and this node not among the replicas */
};

struct log_state {
	enum log_role role;
	uint64_t epoch;
	/* ROLE_REPLICA: */
	char primary[SCD_HELLO_NAME_MAX + 1];
	bool followed;		   /* the primary answered the last follow */
	bool restoring;		   /* a copy of the partition is coming in */
	uint64_t follow_sent_usec; /* CLOCK_MONOTONIC of the last follow sent */
	/* ROLE_PRIMARY: */
	uint32_t follower_count;
	struct follower followers[SC_MAX_REPLICATION_FACTOR];
};

/* A partition this node is primary of: its in-sync set, as etcd holds it. */
struct in_sync_state {
	uint64_t epoch;		 /* the epoch the set belongs to; 0: none known */
	struct scd_isr isr;	 /* revision included */
	uint32_t replica_count;	 /* the map's, the primary's included: a majority of it must be in sync */
	bool proposing;		 /* a change is being written: */
	struct scd_isr proposed; /* ... this set; its added members count for acks already */
	uint64_t proposed_usec;
};

struct scd_replication {
	struct scd_replication_config cfg;
	char node[SCD_HELLO_NAME_MAX + 1];
	uint32_t num_partition, nlogs;
	struct log_state *logs;
	struct in_sync_state *in_sync; /* [num_partition] */
	sc_partition_owners *parts;
	sc_cluster_map map;
	sd_event_source *timer;
	struct scd_ship_bell *bell; /* wakes the primary when a writer publishes */
	uint8_t *frame;		    /* an entries or copy frame's body being built */
	struct scd_replication_stats stats;
};

void scd_repl_logf(const struct scd_replication *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t scd_repl_now_usec(void);
/* Tell the owner of event kind (replication.h), when it listens. */
void scd_repl_event(const struct scd_replication *r, enum scd_repl_event_kind kind, uint32_t log,
		    const char *node, uint64_t a, uint64_t b);

/* The primary's side (replication_primary.c). */
int scd_repl_on_position(struct scd_replication *r, const char *node, const struct scd_repl_position *p);
/* Ship what each follower of log i lacks; record the log's progress when it moved. */
void scd_repl_ship(struct scd_replication *r, uint32_t i, uint64_t now);
/* Review the in-sync set of partition p (a replica behind too long leaves it, one caught up joins). */
void scd_repl_review_in_sync(struct scd_replication *r, uint32_t p, uint64_t now);
/* Start the copies of partition p's logs that waited for their replica to leave its in-sync set. */
void scd_repl_start_waiting_copies(struct scd_replication *r, uint32_t p);
struct follower *scd_repl_follower(struct log_state *l, const char *node);
/* Free the copies l's followers were being sent: before l is overwritten or freed. */
void scd_repl_drop_copies(struct log_state *l);

#endif /* SCD_REPLICATION_STATE_H */
