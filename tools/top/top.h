/* top.h — what supercache-top's files share: its options, the maps it reads, and one reading of them. */
#ifndef SCTOP_H
#define SCTOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <supercache.h>

#include "telemetry.h"

/* Exit codes: 0, 1 a failure at run time (no BPF, nothing pinned), 2 a usage error. */
enum top_exit { TOP_OK = 0, TOP_FAILED = 1, TOP_USAGE = 2 };

/* The maps' root in the BPF file system: the cache's directory is under it. */
#define TOP_BPFFS	   "/sys/fs/bpf"
#define TOP_PIN_ROOT	   TOP_BPFFS "/supercache"
#define TOP_MAX_NAME	   64	/* the library's SC_NAME_MAX */
#define TOP_MAX_PARTITIONS 2048 /* as the programs' maps are sized: supercache.bpf.c */

struct top_options {
	const char *name;	/* the cache (default "default") */
	const char *library;	/* libsupercache's path; NULL: the one this program runs with */
	const char *daemon;	/* supercached's path; NULL: the installed one, if it is there */
	double interval;	/* seconds between readings */
	const char *prometheus; /* the file to write the metrics to, or NULL */
	bool once, json, pin, unpin;
	char pin_dir[256]; /* TOP_PIN_ROOT/name */
	bool from_pins;	   /* reading maps pinned earlier, not programs of this run's */
};

/* The readable maps (supercache.bpf.c), as struct top_maps numbers them. */
enum top_map {
	TOP_MAP_OP_LATENCY,
	TOP_MAP_PARTITION_OPS,
	TOP_MAP_LOCK_WAIT,
	TOP_MAP_LOCK_HOLD,
	TOP_MAP_GRACE_PERIODS,
	TOP_MAP_REMOVALS,
	TOP_MAP_COORDINATOR,
	TOP_MAP_SWEEPS,
	TOP_MAP_COUNT
};

/* Their file descriptors, whether loaded here or opened from their pins. */
struct top_maps {
	int fd[TOP_MAP_COUNT];
};

/* Their names: also their file names under the pin directory. */
extern const char *const top_map_names[TOP_MAP_COUNT];

/* One partition's share of a reading. */
struct top_partition {
	uint64_t calls, errors;
	uint64_t contended, wait_ns; /* acquisitions that waited, and for how long in all */
	uint64_t evicted, expired;
};

/*
 * A distributed cache's replication logs, read from its segment (not from
 * the probes): counters since the segment was made, or, after
 * top_snapshot_since(), over an interval; the lag as it is now.
 */
struct top_replication {
	bool distributed;	 /* the cache is, and its segment was read */
	uint32_t logs_primary;	 /* logs of partitions this node acts as primary of */
	uint64_t appended;	 /* entries appended to every log */
	uint64_t shipped, acked; /* entries shipped and acknowledged, of the logs this node is primary of */
	uint64_t lag_max;	 /* entries the most behind of those logs has not had acknowledged */
	uint32_t lag_max_log;
	uint64_t lag_total;	 /* ... and all of them together */
	uint64_t unshipped_lost; /* entries a ring wrote over before they were shipped */
	uint64_t resyncs;	 /* times replicas had to be copied whole */
};

/* Everything the maps held at one moment (or, after top_snapshot_since(), over an interval). */
struct top_snapshot {
	double at; /* CLOCK_MONOTONIC seconds */
	struct sc_histogram ops[SC_TRACE_OP_COUNT];
	struct sc_op_count calls[SC_TRACE_OP_COUNT]; /* summed over partitions */
	struct top_partition parts[TOP_MAX_PARTITIONS];
	struct top_partition unrouted; /* SC_TRACE_PARTITION_NONE and _SEVERAL */
	struct sc_histogram lock_wait, lock_hold, grace_periods, sweeps;
	struct sc_amount removed[SC_REMOVAL_COUNT];
	struct sc_coordinator_count coordinator[SC_COORD_EVENT_COUNT];
	struct top_replication replication;
};

/* The operation's name as probes, JSON and Prometheus labels spell it. */
const char *top_op_name(enum sc_trace_op op);

/* Read every map into *s, and the replication logs of cache unless NULL. 0, or a negative errno after printing why. */
int top_snapshot_take(const struct top_maps *m, sc_cache *cache, struct top_snapshot *s);
/* What happened between before and *s: s becomes the difference. */
void top_snapshot_since(struct top_snapshot *s, const struct top_snapshot *before);
/* The q-quantile (0 < q <= 1) of a log2 histogram in ns, interpolated inside its slot; 0 if empty. */
uint64_t top_quantile(const struct sc_histogram *h, double q);

/* The cache's segment when it is distributed, read-only, for its replication logs; NULL otherwise. */
sc_cache *top_replication_open(const struct top_options *o);
void top_replication_close(sc_cache *cache);
/* The logs now into *out (all zero, distributed false, when cache is NULL). */
void top_replication_take(sc_cache *cache, struct top_replication *out);
/* What happened between before and *r: its counters become differences. */
void top_replication_since(struct top_replication *r, const struct top_replication *before);

/* The table: a screenful for the live view, or the --once text. */
void top_render_table(FILE *out, const struct top_options *o, const struct top_snapshot *s, double seconds);
/* One JSON object for --once --json. */
void top_render_json(FILE *out, const struct top_options *o, const struct top_snapshot *s, double seconds);
/* The Prometheus text format of a cumulative reading, written to o->prometheus atomically. 0 or -errno. */
int top_write_prometheus(const struct top_options *o, const struct top_snapshot *s);

/*
 * The programs, loaded and attached to every process using the library
 * (and to supercached): top_attach() fills maps; top_detach() undoes it.
 * top_pin() leaves them attached after this process exits, with the maps
 * and links pinned under o->pin_dir (it keeps s: no top_detach() after it
 * succeeds); top_unpin() removes them, which
 * detaches the programs; top_open_pinned() reads maps pinned earlier.
 * Each returns 0 or a negative errno after printing why.
 */
struct top_session;
int top_attach(const struct top_options *o, struct top_session **out, struct top_maps *maps);
void top_detach(struct top_session *s);
int top_pin(const struct top_options *o, struct top_session *s);
int top_unpin(const struct top_options *o);
int top_open_pinned(const struct top_options *o, struct top_maps *maps);
void top_close_maps(struct top_maps *maps);

#endif
