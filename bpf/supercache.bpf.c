/* supercache.bpf.c — the telemetry programs: op latency, per-partition counts, lock contention, removals, coordinator events. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "telemetry.h"

/* bpf_probe_read_user, which reading USDT arguments needs, is for GPL-compatible programs only. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The cache to keep to (its trace id, trace_id.h), set before loading; 0 counts every cache. */
const volatile __u64 target_cache = 0;

/* Sized for 1024 tuple partitions and as many structure partitions; beyond that new keys are dropped. */
#define MAX_PARTITIONS 2048
#define MAX_THREADS    16384

/* The maps a reader sees (pinned by supercache-top --pin, and described in docs/telemetry.md). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_TRACE_OP_COUNT);
	__type(key, enum sc_trace_op);
	__type(value, struct sc_histogram);
} op_latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8 * MAX_PARTITIONS);
	__type(key, struct sc_partition_op);
	__type(value, struct sc_op_count);
} partition_ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PARTITIONS);
	__type(key, __u32); /* partition */
	__type(value, struct sc_histogram);
} lock_wait SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PARTITIONS);
	__type(key, __u32); /* partition */
	__type(value, struct sc_histogram);
} lock_hold SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_histogram);
} grace_periods SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_REMOVAL_COUNT *MAX_PARTITIONS);
	__type(key, struct sc_removal_key);
	__type(value, struct sc_amount);
} removals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_COORD_EVENT_COUNT);
	__type(key, enum sc_coordinator_event);
	__type(value, struct sc_coordinator_count);
} coordinator SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_histogram);
} sweeps SEC(".maps");

/*
 * Per-thread state between a start probe and its end: the outermost public
 * call in progress (a public call made inside another only deepens it), and
 * when a timed span began.
 */
struct op_in_flight {
	__u64 start_ns;
	enum sc_trace_op op;
	__u32 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct op_in_flight);
} ops_in_flight SEC(".maps");

enum span_kind { SPAN_LOCK_WAIT, SPAN_LOCK_HOLD, SPAN_GRACE_PERIOD, SPAN_SWEEP };

struct span_key {
	__u64 thread; /* pid_tgid */
	enum span_kind kind;
	__u32 partition;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4 * MAX_THREADS);
	__type(key, struct span_key);
	__type(value, __u64); /* bpf_ktime_get_ns() at its start */
} spans SEC(".maps");

/* What a new entry starts from: zeroes, in .bss (too large for the 512-byte stack). */
static struct sc_histogram empty_histogram;

static __always_inline bool wanted(__u64 cache)
{
	return target_cache == 0 || cache == target_cache;
}

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xffff) << 4;
	v >>= r;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

static __always_inline __u32 hist_slot(__u64 ns)
{
	__u32 hi = ns >> 32;
	__u32 slot = hi ? 32 + log2_u32(hi) : log2_u32((__u32)ns);

	return slot < SC_HIST_SLOTS ? slot : SC_HIST_SLOTS - 1;
}

/* The value under key, made (zeroed) if there is none yet; NULL only when the map is full. */
static __always_inline void *value_of(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline void hist_add(void *map, const void *key, __u64 ns)
{
	struct sc_histogram *h = value_of(map, key, &empty_histogram);
	__u32 slot = hist_slot(ns);

	if (!h)
		return;
	/* Several threads end operations at once: every count is an atomic add. */
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
	__sync_fetch_and_add(&h->slots[slot], 1);
}

static __always_inline void span_begin(enum span_kind kind, __u32 partition)
{
	struct span_key k = { bpf_get_current_pid_tgid(), kind, partition };
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&spans, &k, &now, BPF_ANY);
}

/*
 * End the span this thread began, counting how long it lasted in
 * histograms under the partition (0 in a one-entry array). A span with no
 * beginning (the programs were attached since) is not counted.
 */
static __always_inline void span_end_into(enum span_kind kind, __u32 partition, void *histograms)
{
	struct span_key k = { bpf_get_current_pid_tgid(), kind, partition };
	__u64 *began = bpf_map_lookup_elem(&spans, &k);

	if (!began)
		return;
	hist_add(histograms, &partition, bpf_ktime_get_ns() - *began);
	bpf_map_delete_elem(&spans, &k);
}
SEC("usdt")
int BPF_USDT(op_start, __u64 cache, __u32 op)
{
	__u64 thread = bpf_get_current_pid_tgid();
	struct op_in_flight *f;

	if (!wanted(cache))
		return 0;
	f = bpf_map_lookup_elem(&ops_in_flight, &thread);
	if (f) {
		f->depth++;
	} else {
		struct op_in_flight fresh = { bpf_ktime_get_ns(), (enum sc_trace_op)op, 1 };

		bpf_map_update_elem(&ops_in_flight, &thread, &fresh, BPF_ANY);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(op_end, __u64 cache, __u32 op, __u32 partition, int result)
{
	static const struct sc_op_count no_calls;
	__u64 thread = bpf_get_current_pid_tgid();
	struct sc_partition_op key;
	struct op_in_flight *f;
	struct sc_op_count *n;
	enum sc_trace_op outer;
	__u64 ns;

	if (!wanted(cache))
		return 0;
	f = bpf_map_lookup_elem(&ops_in_flight, &thread);
	if (!f)
		return 0; /* began before the programs were attached */
	if (--f->depth > 0)
		return 0;
	ns = bpf_ktime_get_ns() - f->start_ns;
	outer = f->op;
	bpf_map_delete_elem(&ops_in_flight, &thread);

	hist_add(&op_latency, &outer, ns);
	key.partition = partition;
	key.op = outer;
	n = value_of(&partition_ops, &key, &no_calls);
	if (n) {
		__sync_fetch_and_add(&n->calls, 1);
		if (result < 0)
			__sync_fetch_and_add(&n->errors, 1);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(lock_contended, __u64 cache, __u32 partition)
{
	if (wanted(cache))
		span_begin(SPAN_LOCK_WAIT, partition);
	return 0;
}

SEC("usdt")
int BPF_USDT(lock_acquired, __u64 cache, __u32 partition)
{
	if (!wanted(cache))
		return 0;
	span_end_into(SPAN_LOCK_WAIT, partition, &lock_wait);
	span_begin(SPAN_LOCK_HOLD, partition);
	return 0;
}

SEC("usdt")
int BPF_USDT(lock_released, __u64 cache, __u32 partition)
{
	if (wanted(cache))
		span_end_into(SPAN_LOCK_HOLD, partition, &lock_hold);
	return 0;
}

SEC("usdt")
int BPF_USDT(grace_period_start, __u64 cache)
{
	if (wanted(cache))
		span_begin(SPAN_GRACE_PERIOD, 0);
	return 0;
}

/* A grace period that failed (no membarrier) took its time too: counted all the same. */
SEC("usdt")
int BPF_USDT(grace_period_end, __u64 cache)
{
	if (wanted(cache))
		span_end_into(SPAN_GRACE_PERIOD, 0, &grace_periods);
	return 0;
}

static __always_inline void count_removal(__u64 cache, __u32 partition, enum sc_removal kind, __u64 bytes)
{
	static const struct sc_amount nothing;
	struct sc_removal_key key = { partition, kind };
	struct sc_amount *a;

	if (!wanted(cache))
		return;
	a = value_of(&removals, &key, &nothing);
	if (!a)
		return;
	__sync_fetch_and_add(&a->count, 1);
	__sync_fetch_and_add(&a->bytes, bytes);
}

SEC("usdt")
int BPF_USDT(evict, __u64 cache, __u32 partition, __u64 bytes)
{
	count_removal(cache, partition, SC_REMOVAL_EVICTED, bytes);
	return 0;
}

SEC("usdt")
int BPF_USDT(expire, __u64 cache, __u32 partition, __u64 bytes)
{
	count_removal(cache, partition, SC_REMOVAL_EXPIRED, bytes);
	return 0;
}

SEC("usdt")
int BPF_USDT(reclaim, __u64 cache, __u32 partition, __u64 bytes)
{
	count_removal(cache, partition, SC_REMOVAL_RECLAIMED, bytes);
	return 0;
}

static __always_inline void count_coordinator(enum sc_coordinator_event event, __u64 value)
{
	static const struct sc_coordinator_count none;
	struct sc_coordinator_count *c = value_of(&coordinator, &event, &none);

	if (!c)
		return;
	__sync_fetch_and_add(&c->count, 1);
	/* The latest wins: supercached runs its checks and sweeps on one thread. */
	c->last_value = value;
	c->last_ns = bpf_ktime_get_ns();
}

SEC("usdt")
int BPF_USDT(sweep_start, __u64 cache)
{
	if (wanted(cache))
		span_begin(SPAN_SWEEP, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(sweep_end, __u64 cache, __u64 reclaimed)
{
	if (!wanted(cache))
		return 0;
	span_end_into(SPAN_SWEEP, 0, &sweeps);
	count_coordinator(SC_COORD_SWEEP, reclaimed);
	return 0;
}

SEC("usdt")
int BPF_USDT(health_check, __u64 cache, int healthy)
{
	if (wanted(cache))
		count_coordinator(SC_COORD_HEALTH_CHECK, healthy);
	return 0;
}

SEC("usdt")
int BPF_USDT(health_alert, __u64 cache, __u64 check_name, __s64 value_milli)
{
	if (wanted(cache))
		count_coordinator(SC_COORD_HEALTH_ALERT, value_milli);
	return 0;
}
