/* reset.c — sc_partition_reset: a damaged partition emptied and made whole, whatever its memory holds. */
#include <sched.h>
#include <string.h>
#include <time.h>
#include "block_alloc.h"
#include "clock.h"
#include "limbo.h"
#include "probes.h"
#include "rcu.h"
#include "shm_mutex.h"
#include "span_alloc.h"

/* A scribbled lock is given this long; readers this long to leave the partition's old memory. */
#define LOCK_PATIENCE_S	   2u
#define READERS_PATIENCE_S 5u

/* Until no reader can still see what was unpublished before tag was taken. 0, or -EBUSY. */
static int wait_for_readers(sc_cache *c, uint32_t tag, uint32_t part)
{
	uint64_t deadline = sc_clock_ns() + READERS_PATIENCE_S * 1000000000ull;

	for (;;) {
		int err = sc_rcu_advance(c);

		if (err)
			return err;
		if (sc_rcu_tag_state(c, tag) == SC_TAG_SAFE)
			return 0;
		if (sc_clock_ns() > deadline)
			return sc_fail(-EBUSY,
				       "cache \"%s\": a reader has stayed inside a read section for %u s; "
				       "partition %u is emptied but its memory is kept until it leaves "
				       "(call sc_partition_reset() again)",
				       c->name, READERS_PATIENCE_S, part);
		sched_yield();
	}
}

/*
 * Nothing inside the partition's memory is trusted, not even its slab
 * list: the index is unpublished, and once readers have left, every span
 * the page map says the partition owns goes back to the segment and its
 * bookkeeping starts from nothing.
 */
static int reset_locked(sc_cache *c, struct sc_part *p)
{
	uint32_t me = sc_part_index(c, p);
	int err;

	p->needs_repair = 1;
	sc_xchg(&p->index_off, 0);
	/*
	 * A dead batch's staged records go with the memory: its intent must
	 * not outlive the index, or a repair after a reset cut short would
	 * publish what the reset freed. The number stays, so that an old
	 * intent elsewhere cannot match a new batch.
	 */
	p->batch_intent = 0;
	p->batch_state &= ~(uint64_t)3;
	err = wait_for_readers(c, sc_rcu_retire_tag(c), me);
	if (err)
		return err;
	for (uint64_t off = sc_span_next_owned(c, me, c->seg.geo.heap_off); off;
	     off = sc_span_next_owned(c, me, off + SC_PAGE)) {
		err = sc_span_free(c, me, off);
		if (err)
			return err;
	}
	sc_free_lists_clear(p);
	sc_limbo_forget(p);
	p->slab_off = 0;
	p->slab_end = 0;
	p->slabs = 0;
	p->records = 0;
	p->bytes = 0;
	p->ttl_records = 0;
	p->bt_nodes = 0;
	p->hand_ioff = 0;
	p->hand_bucket = 0;
	memset(p->hand_prefix, 0, sizeof(p->hand_prefix));
	p->sweep_ioff = 0;
	p->sweep_bucket = 0;
	p->needs_repair = 0;
	return 0;
}

/* The lock could not be had: a live writer holds it (-EBUSY), or this thread does (-EDEADLK). */
static int held_by(sc_cache *c, uint32_t partition, int err, uint32_t holder)
{
	char who[128];

	if (err == -EDEADLK)
		return sc_fail(err, "cache \"%s\": partition %u: this thread holds its lock already", c->name,
			       partition);
	sc_thread_describe(holder, who, sizeof(who));
	return sc_fail(err,
		       "cache \"%s\": partition %u's lock is held by %s, a writer that has held it for "
		       "more than %u s; stop it for good, then call again",
		       c->name, partition, who, LOCK_PATIENCE_S);
}

static int do_partition_reset(sc_cache *c, uint32_t partition)
{
	struct sc_lock_wait w = { 0 };
	struct sc_reader *r;
	struct sc_part *p;
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (partition >= 2 * c->seg.cfg.num_partition)
		return sc_fail(
			-ERANGE,
			"partition %u is out of range: cache \"%s\" has %u (and as many for structures)",
			partition, c->name, c->seg.cfg.num_partition);
	r = sc_reader_find(c);
	if (r && r->nest)
		return sc_fail(-EDEADLK, "sc_partition_reset inside a read section would wait for itself");
	p = sc_part_at(c, partition);
	err = sc_shm_mutex_lock_or_take(&p->lock, LOCK_PATIENCE_S * 1000u, &w);
	if (err == SC_LOCK_OWNER_DIED) {
		p->owner_died++;
		p->lock_taken_from = w.holder;
		err = 0;
	}
	if (err)
		return held_by(c, partition, err, w.holder);
	err = reset_locked(c, p);
	sc_shm_mutex_unlock(&p->lock);
	return err;
}

SC_EXPORT int sc_partition_reset(sc_cache *c, uint32_t partition)
{
	return SC_TRACED(c, SC_OP_PARTITION_RESET, do_partition_reset(c, partition));
}
