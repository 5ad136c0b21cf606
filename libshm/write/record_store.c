/* record_store.c — storing one checked, routed record under its partition's lock, for every kind of entry. */
#include "write/record_store.h"

#include <stdlib.h>

#include "index/btree.h"
#include "index/evict.h"
#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/record_accounts.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "write/partition.h"

static __attribute__((cold, noinline)) int too_big_to_replicate(const sc_cache *c, uint32_t len)
{
	return sc_fail(-EFBIG,
		       "cache \"%s\" is distributed: a record of %u bytes is over the %u a replication "
		       "log entry holds",
		       c->name, len, SC_REPL_MAX_RECORD);
}

/* Inlined into the common put, called by a batch. */
static inline __attribute__((always_inline)) int record_write(sc_cache *c, struct sc_part *p,
							      const struct sc_put_item *w, uint64_t *off)
{
	struct sc_blk *rec;
	uint32_t len = w->deadline ? w->len + sc_deadline_room(w->len) : w->len;
	int r;

	if (sc_unlikely(c->logs_writes) && len > SC_REPL_MAX_RECORD)
		return too_big_to_replicate(c, len);
	r = sc_block_alloc(c, p, len, SC_BLK_RECORD, off);
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
		r = sc_index_insert(c, p, &w->route, off, sc_insert_mode(c, p, &w->route), &old);
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

int sc_put_record(sc_cache *c, struct sc_part *p, const sc_tuple *t, const struct sc_route *route,
		  uint32_t len, uint64_t deadline)
{
	struct sc_put_item w = { t, *route, len, deadline };

	return put_locked(c, p, &w);
}

/* A record of the key other than the one at *keep. */
static int other_than(sc_cache *c, const struct sc_hit *hit, void *keep)
{
	(void)c;
	return hit->rec_off != *(const uint64_t *)keep;
}

static void superseded(sc_cache *c, struct sc_part *p, uint64_t off, void *unused)
{
	(void)unused;
	sc_record_left(c, p, off, SC_LEFT_SUPERSEDED);
}

static int supersede_once(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct sc_put_item *w = ctx;
	uint64_t off, old;
	int r = record_write(c, p, w, &off);

	if (r)
		return r;
	p->superseding = sc_to_units(off);
	SC_CRASH_POINT();
	r = sc_index_insert(c, p, &w->route, off, SC_INSERT_ALWAYS, &old);
	if (r < 0) {
		p->superseding = 0;
		sc_block_free(c, p, off);
		return r;
	}
	SC_CRASH_POINT();
	/*
	 * Joined before the others leave: a deadline the new record kept from
	 * the newest may pass during the walk, which then takes the new record
	 * out too, as expired, and must find it counted in (and logged) first.
	 */
	sc_record_joined_superseding(c, p, off);
	SC_CRASH_POINT();
	r = sc_index_remove(c, p, &w->route, other_than, &off, superseded, NULL);
	SC_CRASH_POINT();
	p->superseding = 0;
	p->puts++;
	return r < 0 ? r : 0;
}

int sc_put_superseding(sc_cache *c, struct sc_part *p, const sc_tuple *t, const struct sc_route *route,
		       uint32_t len, uint64_t deadline)
{
	struct sc_put_item w = { t, *route, len, deadline };
	int err;

	if (sc_insert_mode(c, p, route) == SC_INSERT_REPLACE)
		return put_locked(c, p, &w);
	err = supersede_once(c, p, &w);
	return err == -ENOSPC ? sc_retry_with_room(c, p, supersede_once, &w) : err;
}

int sc_put_locking(sc_cache *c, const struct sc_put_item *w)
{
	struct sc_part *p = sc_part_at(c, w->route.partition);
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = put_locked(c, p, w);
	return (int)sc_write_result(err, sc_part_unlock_write(c, p));
}

int sc_put_in_order(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	uint32_t nparts = c->seg.cfg.num_partition;
	struct sc_put_item *w = malloc(n * sizeof(*w));
	/* lseq 1 for a partition used, then where its unlock's last entry went */
	struct sc_logged *used = calloc(nparts, sizeof(*used));
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
			used[w[i].route.partition].lseq = 1;
		}
	}
	/* Ascending, as every holder of several partition locks takes them: no deadlock. */
	for (; !err && held < nparts; held++)
		if (used[held].lseq && (err = sc_part_lock(c, sc_part_at(c, held))) != 0)
			break;
	for (size_t i = 0; i < n && !err; i++)
		err = put_locked(c, sc_part_at(c, w[i].route.partition), &w[i]);
	for (uint32_t p = 0; p < held; p++)
		if (used[p].lseq)
			used[p] = sc_part_unlock_logged(c, sc_part_at(c, p));
	for (uint32_t p = 0; p < held; p++)
		err = (int)sc_write_result(err, sc_part_acked(c, sc_part_at(c, p), used[p]));
	free(w);
	free(used);
	return err;
}
