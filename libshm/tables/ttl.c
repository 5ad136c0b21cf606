/* ttl.c — time to live of tuples: reading and extending deadlines, and sc_expire. */
#include <string.h>

#include "index/btree.h"
#include "index/expiry_sweep.h"
#include "index/hash_index.h"
#include "index/hit_list.h"
#include "mem/block_alloc.h"
#include "mem/rcu.h"
#include "mem/record_accounts.h"
#include "forward/forward_client.h"
#include "record/record_deadline.h"
#include "shm/probes.h"
#include "tables/ttl.h"
#include "write/partition.h"

/* The visible records of the routed key: 1 (set, ordered_set, entry) or all of a bag's. */
static int key_records(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit_list *hl)
{
	struct sc_hit hit;
	int r;

	if (!sc_part_is_ordered(c, p))
		return sc_index_find_each(c, p, route, sc_hits_collect, hl);
	r = sc_bt_find(c, p, route, &hit);
	if (r == 1 && sc_hits_push(c, hl, &hit))
		return -ENOMEM;
	return r;
}

/* Milliseconds from now to deadline, rounded up; SC_TTL_FOREVER for none. */
static uint64_t ms_left(uint64_t deadline, uint64_t now)
{
	if (deadline == 0)
		return SC_TTL_FOREVER;
	return deadline > now ? (deadline - now + 999999) / 1000000 : 0;
}

int sc_ttl_routed(sc_cache *c, const struct sc_route *route, uint64_t *ttl_ms)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	struct sc_hit_list hl;
	struct sc_reader *r;
	uint64_t now = sc_clock_ns(), most = 0;
	int found = sc_reader_of(c, &r);

	if (found)
		return found;
	sc_hits_init(&hl);
	sc_trace_note_partition(route->partition);
	sc_rcu_enter(c, r);
	found = key_records(c, p, route, &hl);
	/* A bag's key stays visible as long as its longest-lived tuple. */
	for (size_t i = 0; found > 0 && i < hl.n; i++) {
		uint64_t left = ms_left(sc_rec_deadline(sc_blk_at(c, hl.v[i].rec_off), hl.v[i].rec_len), now);

		most = left > most ? left : most;
	}
	sc_rcu_exit(r);
	sc_hits_free(&hl);
	if (found > 0)
		*ttl_ms = most;
	return found < 0 ? found : found > 0;
}

/*
 * A copy of the record at hit, carrying deadline, with the same version
 * (which orders a bag's tuples). Put in the key's slot in place
 * of the old one, which is retired.
 */
static int copy_with_deadline(sc_cache *c, struct sc_part *p, const struct sc_route *route,
			      const struct sc_hit *hit, uint64_t deadline)
{
	const struct sc_blk *old = sc_blk_at(c, hit->rec_off);
	uint64_t off, replaced = 0;
	struct sc_blk *rec;
	int r = sc_block_alloc(c, p, hit->rec_len + sc_deadline_room(hit->rec_len), SC_BLK_RECORD, &off);

	if (r)
		return r;
	rec = sc_blk_at(c, off);
	sc_rec_set_deadline(rec, deadline);
	memcpy(rec + 1, old + 1, hit->rec_len - sizeof(*rec));
	rec->hash = old->hash;
	rec->nfields = old->nfields;
	rec->version = old->version;
	rec->csum = sc_rec_checksum(rec, rec->len);
	if (sc_part_is_ordered(c, p))
		r = sc_bt_insert(c, p, route, off, &replaced);
	else
		r = sc_index_swap(c, p, route, hit->rec_off, off);
	if (r <= 0 || (sc_part_is_ordered(c, p) && replaced != hit->rec_off)) {
		/* Not published, or a tree that did not hold the record where its key says. */
		if (r <= 0)
			sc_block_free(c, p, off);
		return r < 0 ? r
			     : sc_fail(-EUCLEAN, "cache \"%s\": a record moved under its partition's lock",
				       c->name);
	}
	sc_record_left(c, p, hit->rec_off, SC_LEFT_REPLACED);
	sc_record_joined(c, p, off);
	return 0;
}

int sc_touch_routed(sc_cache *c, const struct sc_route *route, uint64_t deadline)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	struct sc_hit_list hl;
	int found, acked, err = sc_part_lock(c, p);

	if (err)
		return err;
	sc_hits_init(&hl);
	found = key_records(c, p, route, &hl);
	for (size_t i = 0; found > 0 && !err && i < hl.n; i++) {
		uint64_t *word = sc_rec_deadline_word(sc_blk_at(c, hl.v[i].rec_off), hl.v[i].rec_len);

		/* One aligned store: a reader sees the old deadline or the new one. */
		if (word)
			sc_write(word, deadline);
		else if (deadline)
			err = copy_with_deadline(c, p, route, &hl.v[i], deadline);
	}
	acked = sc_part_unlock_write(c, p);
	sc_hits_free(&hl);
	if (found < 0)
		return found;
	return err ? err : (int)sc_write_result(found, acked);
}

/*
 * How a sweep takes a partition's lock: for as long as it takes (0), or for
 * at most so many seconds, after which the partition is passed over.
 */
static int lock_for_sweep(sc_cache *c, struct sc_part *p, unsigned lock_seconds)
{
	uint64_t epoch;
	int err;

	if (!lock_seconds)
		return sc_part_lock(c, p);
	err = sc_write_fence_part(c, p, &epoch);
	return err ? err : sc_part_lock_within(c, p, lock_seconds);
}

/* A hash index's, bucket by bucket, the lock let go between runs of buckets. */
static int sweep_index(sc_cache *c, struct sc_part *p, unsigned lock_seconds)
{
	struct sc_index_cursor cur = { 0, 0, false };
	int64_t total = 0;
	int err = 0;

	while (!cur.done && !err) {
		uint64_t before;

		err = lock_for_sweep(c, p, lock_seconds);
		if (err)
			break;
		before = p->expirations;
		for (uint32_t i = 0; i < 64 && !cur.done && !err; i++) {
			int r = sc_sweep_bucket(c, p, &cur);

			err = r < 0 ? r : 0;
		}
		total += (int64_t)(p->expirations - before);
		sc_part_unlock(c, p);
	}
	return err ? err : (int)(total > INT32_MAX ? INT32_MAX : total);
}

static int expire_all(sc_cache *c, unsigned lock_seconds)
{
	int64_t total = 0;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_write_fence(c);
	for (uint32_t i = 0; !err && i < 2 * c->seg.cfg.num_partition; i++) {
		struct sc_part *p = sc_part_at(c, i);
		int n;

		if (sc_read(&p->ttl_records) == 0)
			continue;
		if (sc_part_is_ordered(c, p)) {
			n = lock_for_sweep(c, p, lock_seconds);
			if (n == 0) {
				n = sc_sweep_tree(c, p);
				sc_part_unlock(c, p);
			}
		} else {
			n = sweep_index(c, p, lock_seconds);
		}
		if (n == -ETIMEDOUT && lock_seconds)
			continue; /* passed over until the next call */
		if (n < 0)
			err = n;
		else
			total += n;
	}
	return err ? err : (int)(total > INT32_MAX ? INT32_MAX : total);
}

static int do_expire(sc_cache *c)
{
	return expire_all(c, 0);
}

SC_EXPORT int sc_expire(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_EXPIRE, do_expire(c));
}

static int do_expire_within(sc_cache *c, unsigned lock_seconds)
{
	sc_check_arg(lock_seconds, -EINVAL,
		     "sc_expire_within: lock_seconds is 0 (sc_expire waits without a limit)");
	return expire_all(c, lock_seconds);
}

SC_EXPORT int sc_expire_within(sc_cache *c, unsigned lock_seconds)
{
	return SC_TRACED(c, SC_OP_EXPIRE, do_expire_within(c, lock_seconds));
}

static int do_ttl(sc_cache *c, const sc_tuple *data, uint64_t *ttl_ms)
{
	struct sc_route route;
	int err;

	sc_check_arg(ttl_ms, -EINVAL, "sc_ttl: ttl_ms is NULL");
	err = sc_cache_check(c);
	if (!err)
		err = sc_tuple_check_route(c, data, &route);
	return err ? err : sc_ttl_routed(c, &route, ttl_ms);
}

SC_EXPORT int sc_ttl(sc_cache *c, const sc_tuple *data, uint64_t *ttl_ms)
{
	return SC_TRACED(c, SC_OP_TTL, do_ttl(c, data, ttl_ms));
}

static int do_touch(sc_cache *c, const sc_tuple *data, uint64_t ttl_ms)
{
	struct sc_route route;
	uint64_t deadline = 0;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_deadline_after(ttl_ms, &deadline);
	if (!err)
		err = sc_tuple_check_route(c, data, &route);
	err = err ? err : sc_touch_routed(c, &route, deadline);
	return sc_forward_if_remote(err, c, SC_FWD_TOUCH, ttl_ms, data, 1);
}

SC_EXPORT int sc_touch(sc_cache *c, const sc_tuple *data, uint64_t ttl_ms)
{
	return SC_TRACED(c, SC_OP_TOUCH, do_touch(c, data, ttl_ms));
}
