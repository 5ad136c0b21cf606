/* telemetry.h — what the probes say and what the BPF maps hold: shared by the library, supercached, the BPF programs and supercache-top. */
#ifndef SC_TELEMETRY_H
#define SC_TELEMETRY_H

/*
 * The BPF programs have uint64_t and uint32_t from vmlinux.h (the kernel
 * defines them too); the BPF target has no <stdint.h>.
 */
#ifndef __bpf__
#include <stdint.h>
#endif

/*
 * The operations the op_start and op_end probes name, one per public call
 * family (sc_put, sc_put_ttl and sc_put_partition* are all a put). The
 * number is the probe's argument and the maps' key; the name is what
 * supercache-top, its JSON and its Prometheus labels call it. New kinds go
 * at the end: the numbers are an interface to every BPF tool.
 */
#define SC_TRACE_OPS(X)                               \
	X(PUT, put)                                   \
	X(PUT_BATCH, put_batch)                       \
	X(LAZY_PUT, lazy_put)                         \
	X(FLUSH, flush)                               \
	X(GET, get)                                   \
	X(GET_VIEW, get_view)                         \
	X(MATCH, match)                               \
	X(SCAN, scan)                                 \
	X(DELETE, delete)                             \
	X(DELETE_MATCH, delete_match)                 \
	X(DELETE_ALL, delete_all)                     \
	X(KV_ADD, kv_add)                             \
	X(KV_GET, kv_get)                             \
	X(KV_REMOVE, kv_remove)                       \
	X(KV_REMOVE_ALL, kv_remove_all)               \
	X(KV_KEYS, kv_keys)                           \
	X(KV_VALUES, kv_values)                       \
	X(KV_TO_LIST, kv_to_list)                     \
	X(KV_COUNT, kv_count)                         \
	X(KV_ADD_BATCH, kv_add_batch)                 \
	X(KV_REMOVE_BATCH, kv_remove_batch)           \
	X(QUEUE_ADD, queue_add)                       \
	X(QUEUE_OUT, queue_out)                       \
	X(QUEUE_PEEK, queue_peek)                     \
	X(QUEUE_COUNT, queue_count)                   \
	X(QUEUE_GET_ALL, queue_get_all)               \
	X(STACK_PUSH, stack_push)                     \
	X(STACK_POP, stack_pop)                       \
	X(STACK_COUNT, stack_count)                   \
	X(STACK_GET_ALL, stack_get_all)               \
	X(STRUCT_INIT, struct_init)                   \
	X(STRUCT_ADD, struct_add)                     \
	X(STRUCT_GET, struct_get)                     \
	X(STRUCT_REMOVE, struct_remove)               \
	X(STRUCT_GET_ALL, struct_get_all)             \
	X(STRUCT_REMOVE_ALL, struct_remove_all)       \
	X(TTL, ttl)                                   \
	X(TOUCH, touch)                               \
	X(EXPIRE, expire)                             \
	X(PARTITION_RESET, partition_reset)           \
	X(STATS, stats)                               \
	X(CHECK, check)                               \
	X(RECLAIM, reclaim)                           \
	X(RELEASE_DEAD_READERS, release_dead_readers) \
	X(REPAIR, repair)                             \
	X(KV_INCREMENT, kv_increment)                 \
	X(CLEAR, clear)                               \
	X(KV_UPDATE_FN, kv_update_fn)                 \
	X(KV_UPDATE, kv_update)                       \
	X(KV_REPLACE, kv_replace)                     \
	X(KV_GET_ALL, kv_get_all)                     \
	X(GET_INTO, get_into)                         \
	X(KV_GET_INTO, kv_get_into)

#define SC_TRACE_OP_ENUM(upper, lower) SC_OP_##upper,
enum sc_trace_op { SC_TRACE_OPS(SC_TRACE_OP_ENUM) SC_TRACE_OP_COUNT };
#undef SC_TRACE_OP_ENUM

/*
 * The partition argument of op_end when the operation did not work in
 * exactly one partition: it touched none (a count of an empty cache) or
 * several (a batch, a scan). Structure partitions (KeyValue, queues,
 * stacks, structs) follow the tuple partitions: num_partition + i.
 */
#define SC_TRACE_PARTITION_NONE	   0xffffffffu
#define SC_TRACE_PARTITION_SEVERAL 0xfffffffeu

/*
 * The log2 histograms: slot i counts durations d with 2^i <= d < 2^(i+1)
 * nanoseconds (slot 0 also takes 0 and 1 ns); the last slot takes
 * everything from 2^(SC_HIST_SLOTS - 1) ns (about 9 minutes) up.
 */
#define SC_HIST_SLOTS 40

struct sc_histogram {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t slots[SC_HIST_SLOTS];
};

/* partition_ops: calls that ended, and those of them that returned an error, per partition and kind. */
struct sc_partition_op {
	uint32_t partition;
	enum sc_trace_op op;
};

struct sc_op_count {
	uint64_t calls;
	uint64_t errors;
};

/* What left the cache without a caller asking: the removals map's kinds. */
enum sc_removal {
	SC_REMOVAL_EVICTED,   /* pushed out for room by eviction */
	SC_REMOVAL_EXPIRED,   /* its time to live ran out */
	SC_REMOVAL_RECLAIMED, /* retired memory freed once no reader could see it */
	SC_REMOVAL_COUNT
};

struct sc_removal_key {
	uint32_t partition;
	enum sc_removal kind;
};

struct sc_amount {
	uint64_t count;
	uint64_t bytes;
};

/* supercached's events, counted in the coordinator map. */
enum sc_coordinator_event {
	SC_COORD_SWEEP,	       /* one maintenance pass */
	SC_COORD_HEALTH_CHECK, /* one health check (the HealthCheck signal) */
	SC_COORD_HEALTH_ALERT, /* one alert raised (the HealthAlert signal) */
	SC_COORD_EVENT_COUNT
};

struct sc_coordinator_count {
	uint64_t count;
	uint64_t
		last_value; /* sweep: bytes reclaimed; health check: 1 healthy, 0 not; alert: the measured value */
	uint64_t last_ns; /* bpf_ktime_get_ns() of the latest (CLOCK_MONOTONIC) */
};

#endif
