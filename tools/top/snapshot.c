/* snapshot.c — reading the telemetry maps into one snapshot, differences between two, and quantiles. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "top.h"

#define OP_NAME(upper, lower) #lower,
static const char *const op_names[SC_TRACE_OP_COUNT] = { SC_TRACE_OPS(OP_NAME) };
#undef OP_NAME

const char *top_op_name(enum sc_trace_op op)
{
	return (unsigned)op < SC_TRACE_OP_COUNT ? op_names[op] : "unknown";
}

/* Called for each key and value of a map: the key and value sizes are the map's. */
typedef void (*entry_fn)(struct top_snapshot *s, const void *key, const void *value);

static int each_entry(int fd, const char *map, struct top_snapshot *s, entry_fn fn, size_t key_size,
		      size_t value_size)
{
	unsigned char key[16], next[16], value[sizeof(struct sc_histogram)];
	void *prev = NULL;

	if (key_size > sizeof(key) || value_size > sizeof(value))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		/* An entry deleted between the two calls is simply not counted in this reading. */
		if (bpf_map_lookup_elem(fd, key, value) == 0)
			fn(s, key, value);
	}
	if (errno != ENOENT) {
		fprintf(stderr, "supercache-top: cannot read map %s: %s\n", map, strerror(errno));
		return -errno;
	}
	return 0;
}

static void hist_add(struct sc_histogram *to, const struct sc_histogram *h)
{
	to->count += h->count;
	to->sum_ns += h->sum_ns;
	for (int i = 0; i < SC_HIST_SLOTS; i++)
		to->slots[i] += h->slots[i];
}

static void hist_sub(struct sc_histogram *h, const struct sc_histogram *before)
{
	h->count -= before->count;
	h->sum_ns -= before->sum_ns;
	for (int i = 0; i < SC_HIST_SLOTS; i++)
		h->slots[i] -= before->slots[i];
}

/* The partition's row, or the shared one for the probes' "none" and "several". */
static struct top_partition *row(struct top_snapshot *s, uint32_t partition)
{
	return partition < TOP_MAX_PARTITIONS ? &s->parts[partition] : &s->unrouted;
}

static void op_latency_entry(struct top_snapshot *s, const void *key, const void *value)
{
	enum sc_trace_op op = *(const enum sc_trace_op *)key;

	if ((unsigned)op < SC_TRACE_OP_COUNT)
		hist_add(&s->ops[op], value);
}

static void partition_op_entry(struct top_snapshot *s, const void *key, const void *value)
{
	const struct sc_partition_op *k = key;
	const struct sc_op_count *n = value;
	struct top_partition *p = row(s, k->partition);

	p->calls += n->calls;
	p->errors += n->errors;
	if ((unsigned)k->op < SC_TRACE_OP_COUNT) {
		s->calls[k->op].calls += n->calls;
		s->calls[k->op].errors += n->errors;
	}
}

static void lock_wait_entry(struct top_snapshot *s, const void *key, const void *value)
{
	const struct sc_histogram *h = value;
	struct top_partition *p = row(s, *(const uint32_t *)key);

	p->contended += h->count;
	p->wait_ns += h->sum_ns;
	hist_add(&s->lock_wait, h);
}

static void lock_hold_entry(struct top_snapshot *s, const void *key, const void *value)
{
	(void)key;
	hist_add(&s->lock_hold, value);
}

static void grace_period_entry(struct top_snapshot *s, const void *key, const void *value)
{
	(void)key;
	hist_add(&s->grace_periods, value);
}

static void sweep_entry(struct top_snapshot *s, const void *key, const void *value)
{
	(void)key;
	hist_add(&s->sweeps, value);
}

static void removal_entry(struct top_snapshot *s, const void *key, const void *value)
{
	const struct sc_removal_key *k = key;
	const struct sc_amount *a = value;
	struct top_partition *p = row(s, k->partition);

	if ((unsigned)k->kind >= SC_REMOVAL_COUNT)
		return;
	s->removed[k->kind].count += a->count;
	s->removed[k->kind].bytes += a->bytes;
	if (k->kind == SC_REMOVAL_EVICTED)
		p->evicted += a->count;
	else if (k->kind == SC_REMOVAL_EXPIRED)
		p->expired += a->count;
}

static void coordinator_entry(struct top_snapshot *s, const void *key, const void *value)
{
	enum sc_coordinator_event e = *(const enum sc_coordinator_event *)key;

	if ((unsigned)e < SC_COORD_EVENT_COUNT)
		s->coordinator[e] = *(const struct sc_coordinator_count *)value;
}

/* How each map is read: what its entries add to a snapshot, and their sizes. */
static const struct {
	entry_fn add;
	size_t key_size, value_size;
} readers[TOP_MAP_COUNT] = {
	[TOP_MAP_OP_LATENCY] = { op_latency_entry, sizeof(enum sc_trace_op), sizeof(struct sc_histogram) },
	[TOP_MAP_PARTITION_OPS] = { partition_op_entry, sizeof(struct sc_partition_op),
				    sizeof(struct sc_op_count) },
	[TOP_MAP_LOCK_WAIT] = { lock_wait_entry, sizeof(uint32_t), sizeof(struct sc_histogram) },
	[TOP_MAP_LOCK_HOLD] = { lock_hold_entry, sizeof(uint32_t), sizeof(struct sc_histogram) },
	[TOP_MAP_GRACE_PERIODS] = { grace_period_entry, sizeof(uint32_t), sizeof(struct sc_histogram) },
	[TOP_MAP_REMOVALS] = { removal_entry, sizeof(struct sc_removal_key), sizeof(struct sc_amount) },
	[TOP_MAP_COORDINATOR] = { coordinator_entry, sizeof(enum sc_coordinator_event),
				  sizeof(struct sc_coordinator_count) },
	[TOP_MAP_SWEEPS] = { sweep_entry, sizeof(uint32_t), sizeof(struct sc_histogram) },
};

int top_snapshot_take(const struct top_maps *m, sc_cache *cache, struct top_snapshot *s)
{
	struct timespec now;
	int err = 0;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &now);
	s->at = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	for (int i = 0; i < TOP_MAP_COUNT && !err; i++)
		err = each_entry(m->fd[i], top_map_names[i], s, readers[i].add, readers[i].key_size,
				 readers[i].value_size);
	top_replication_take(cache, &s->replication);
	return err;
}

static void part_sub(struct top_partition *p, const struct top_partition *before)
{
	p->calls -= before->calls;
	p->errors -= before->errors;
	p->contended -= before->contended;
	p->wait_ns -= before->wait_ns;
	p->evicted -= before->evicted;
	p->expired -= before->expired;
}

void top_snapshot_since(struct top_snapshot *s, const struct top_snapshot *before)
{
	for (int i = 0; i < SC_TRACE_OP_COUNT; i++) {
		hist_sub(&s->ops[i], &before->ops[i]);
		s->calls[i].calls -= before->calls[i].calls;
		s->calls[i].errors -= before->calls[i].errors;
	}
	for (int i = 0; i < TOP_MAX_PARTITIONS; i++)
		part_sub(&s->parts[i], &before->parts[i]);
	part_sub(&s->unrouted, &before->unrouted);
	hist_sub(&s->lock_wait, &before->lock_wait);
	hist_sub(&s->lock_hold, &before->lock_hold);
	hist_sub(&s->grace_periods, &before->grace_periods);
	hist_sub(&s->sweeps, &before->sweeps);
	for (int i = 0; i < SC_REMOVAL_COUNT; i++) {
		s->removed[i].count -= before->removed[i].count;
		s->removed[i].bytes -= before->removed[i].bytes;
	}
	/* The coordinator's latest values stay as they are: only its counts are differences. */
	for (int i = 0; i < SC_COORD_EVENT_COUNT; i++)
		s->coordinator[i].count -= before->coordinator[i].count;
	top_replication_since(&s->replication, &before->replication);
}

uint64_t top_quantile(const struct sc_histogram *h, double q)
{
	uint64_t total = 0, seen = 0;
	double rank;

	for (int i = 0; i < SC_HIST_SLOTS; i++)
		total += h->slots[i];
	if (total == 0)
		return 0;
	rank = q * (double)total;
	for (int i = 0; i < SC_HIST_SLOTS; i++) {
		double low = i == 0 ? 0 : (double)(1ull << i), high = (double)(2ull << i);

		if (h->slots[i] == 0 || (double)(seen + h->slots[i]) < rank) {
			seen += h->slots[i];
			continue;
		}
		/* As Prometheus' histogram_quantile does: evenly spread within the slot. */
		return (uint64_t)(low + (high - low) * (rank - (double)seen) / (double)h->slots[i]);
	}
	return 2ull << (SC_HIST_SLOTS - 1);
}
