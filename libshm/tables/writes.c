/* writes.c — storing tuples: sc_put, sc_put_batch and the partition-addressed puts. */
#include <stdlib.h>

#include "index/btree.h"
#include "index/evict.h"
#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/record_accounts.h"
#include "record/record_deadline.h"
#include "record/tuple_codec.h"
#include "shm/crash_point.h"
#include "shm/probes.h"
#include "tables/ttl.h"
#include "write/batch_order.h"
#include "write/batch_write.h"
#include "write/partition.h"
#include "write/record_store.h"

/*
 * ETS semantics: a set replaces, a bag ignores an identical tuple, a
 * duplicate_bag keeps all. A structure partition holds one entry per key.
 */
enum sc_insert sc_insert_mode(const sc_cache *c, const struct sc_part *p)
{
	if (sc_part_is_structure(c, p))
		return SC_INSERT_REPLACE;
	switch (c->seg.cfg.table_type) {
	case SC_BAG:
		return SC_INSERT_DISTINCT;
	case SC_DUPLICATE_BAG:
		return SC_INSERT_ALWAYS;
	default:
		return SC_INSERT_REPLACE;
	}
}

/* Inlined into the common put, called by a batch. */
static inline __attribute__((always_inline)) int record_write(sc_cache *c, struct sc_part *p,
							      const struct sc_put_item *w, uint64_t *off)
{
	struct sc_blk *rec;
	int r = sc_block_alloc(c, p, w->deadline ? w->len + sc_deadline_room(w->len) : w->len, SC_BLK_RECORD,
			       off);

	if (r)
		return r;
	SC_CRASH_POINT();
	rec = sc_blk_at(c, *off);
	rec->version = ++p->seq;
	if (w->deadline)
		sc_rec_set_deadline(rec, w->deadline);
	sc_rec_encode(rec, w->tuple, (uint32_t)w->route.key_hash);
	SC_CRASH_POINT();
	return 0;
}

int sc_record_write(sc_cache *c, struct sc_part *p, const struct sc_put_item *w, uint64_t *off)
{
	return record_write(c, p, w, off);
}

static int put_once(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct sc_put_item *w = ctx;
	uint64_t off, old;
	int r = record_write(c, p, w, &off);

	if (r)
		return r;
	if (sc_part_is_ordered(c, p))
		r = sc_bt_insert(c, p, &w->route, off, &old);
	else
		r = sc_index_insert(c, p, &w->route, off, sc_insert_mode(c, p), &old);
	if (r <= 0) {
		/* Never published (an error, or a bag that holds this tuple): freed at once. */
		sc_block_free(c, p, off);
		if (r == 0)
			p->puts++;
		return r;
	}
	SC_CRASH_POINT();
	if (old)
		sc_record_left(c, p, old, SC_LEFT_REPLACED);
	SC_CRASH_POINT();
	sc_record_joined(c, p, off);
	p->puts++;
	return 0;
}

/* Out of memory: what readers have released, or evicting, may make room. */
static int put_locked(sc_cache *c, struct sc_part *p, const struct sc_put_item *w)
{
	int err = put_once(c, p, w);

	return err == -ENOSPC ? sc_retry_with_room(c, p, put_once, w) : err;
}

void sc_retire_removed(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *unused)
{
	(void)unused;
	sc_record_left(c, p, rec_off, SC_LEFT_DELETED);
}

int sc_put_record(sc_cache *c, struct sc_part *p, const sc_tuple *t, const struct sc_route *route,
		  uint32_t len, uint64_t deadline)
{
	struct sc_put_item w = { t, *route, len, deadline };

	return put_locked(c, p, &w);
}

/*
 * Check t and route it: to the partition its partition_pos field picks, or
 * to *partition when the caller picks it (then t needs no partition field).
 */
static int prepare(sc_cache *c, const sc_tuple *t, const uint32_t *partition, struct sc_put_item *w)
{
	int err = sc_tuple_check_put(c, t, partition == NULL, &w->len);

	if (err)
		return err;
	w->tuple = t;
	w->deadline = 0;
	if (!partition) {
		sc_tuple_route(c, t, &w->route);
		return 0;
	}
	sc_route_key(c, &t->fields[c->seg.cfg.key_pos], &w->route);
	w->route.partition = *partition;
	return 0;
}

/*
 * inline: it is the whole of each public put. Left to itself, the compiler
 * stopped inlining it into sc_put once the probes were compiled in, and
 * that one call more made a put about 2% slower.
 */
static inline int put_one(sc_cache *c, const sc_tuple *t, const uint32_t *partition, uint64_t deadline)
{
	struct sc_put_item w;
	struct sc_part *p;
	int err = prepare(c, t, partition, &w);

	if (err)
		return err;
	w.deadline = deadline;
	p = sc_part_at(c, w.route.partition);
	err = sc_part_lock(c, p);
	if (err)
		return err;
	err = put_locked(c, p, &w);
	sc_part_unlock(c, p);
	return err;
}

static int do_put(sc_cache *c, const sc_tuple *tuple)
{
	int err = sc_cache_check(c);

	return err ? err : put_one(c, tuple, NULL, 0);
}

SC_EXPORT int sc_put(sc_cache *c, const sc_tuple *tuple)
{
	return SC_TRACED(c, SC_OP_PUT, do_put(c, tuple));
}

static int do_put_ttl(sc_cache *c, const sc_tuple *tuple, uint64_t ttl_ms)
{
	uint64_t deadline = 0;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_deadline_after(ttl_ms, &deadline);
	return err ? err : put_one(c, tuple, NULL, deadline);
}

SC_EXPORT int sc_put_ttl(sc_cache *c, const sc_tuple *tuple, uint64_t ttl_ms)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_ttl(c, tuple, ttl_ms));
}

static int do_put_partition(sc_cache *c, const sc_tuple *tuple, sc_field partition_data)
{
	uint32_t partition;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_field_check(&partition_data, "partition data");
	if (err)
		return err;
	partition = sc_partition_of(c, &partition_data);
	return put_one(c, tuple, &partition, 0);
}

SC_EXPORT int sc_put_partition(sc_cache *c, const sc_tuple *tuple, sc_field partition_data)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_partition(c, tuple, partition_data));
}

static int do_put_partition_by_idx(sc_cache *c, const sc_tuple *tuple, uint32_t idx)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (idx >= c->seg.cfg.num_partition)
		return sc_fail(-ERANGE, "partition %u is out of range: cache \"%s\" has %u", idx, c->name,
			       c->seg.cfg.num_partition);
	return put_one(c, tuple, &idx, 0);
}

SC_EXPORT int sc_put_partition_by_idx(sc_cache *c, const sc_tuple *tuple, uint32_t idx)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_partition_by_idx(c, tuple, idx));
}

int sc_put_in_order(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	uint32_t nparts = c->seg.cfg.num_partition;
	struct sc_put_item *w = malloc(n * sizeof(*w));
	uint8_t *used = calloc(nparts, 1);
	uint32_t held = 0; /* the used partitions below this one are locked */
	int err = 0;

	if (!w || !used)
		err = sc_fail(-ENOMEM, "out of memory for %zu buffered tuples", n);
	/* Checked when they were buffered: only sizes and routes are needed now. */
	for (size_t i = 0; i < n && !err; i++) {
		w[i].tuple = &tuples[i];
		w[i].deadline = 0;
		err = sc_record_len(c, tuples[i].fields, tuples[i].nfields, &w[i].len);
		if (!err) {
			sc_tuple_route(c, &tuples[i], &w[i].route);
			used[w[i].route.partition] = 1;
		}
	}
	/* Ascending, as every holder of several partition locks takes them: no deadlock. */
	for (; !err && held < nparts; held++)
		if (used[held] && (err = sc_part_lock(c, sc_part_at(c, held))) != 0)
			break;
	for (size_t i = 0; i < n && !err; i++)
		err = put_locked(c, sc_part_at(c, w[i].route.partition), &w[i]);
	for (uint32_t p = 0; p < held; p++)
		if (used[p])
			sc_part_unlock(c, sc_part_at(c, p));
	free(w);
	free(used);
	return err;
}

/* All-or-nothing, each partition's lock taken once: batch_write.h. */
static int do_put_batch(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	struct sc_batch_order o = { NULL, NULL };
	struct sc_put_item *w = NULL;
	uint32_t *part = NULL;
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (n == 0)
		return 0;
	if (!tuples)
		return sc_fail(-EINVAL, "batch of %zu tuples at a NULL pointer", n);
	w = malloc(n * sizeof(*w));
	part = malloc(n * sizeof(*part));
	if (!w || !part) {
		err = sc_fail(-ENOMEM, "out of memory for a batch of %zu tuples", n);
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = prepare(c, &tuples[i], NULL, &w[i]);
		if (err)
			sc_fail_item(err, "batch tuple", i);
		part[i] = w[i].route.partition;
	}
	if (!err)
		err = sc_batch_order_make(part, n, c->seg.cfg.num_partition, &o);
	if (!err)
		err = sc_batch_write(c, 0, w, n, &o);
out:
	sc_batch_order_free(&o);
	free(w);
	free(part);
	return err;
}

SC_EXPORT int sc_put_batch(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	return SC_TRACED(c, SC_OP_PUT_BATCH, do_put_batch(c, tuples, n));
}
