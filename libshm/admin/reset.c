/* reset.c — sc_partition_reset: a damaged partition emptied and made whole, whatever its memory holds. */
#include "admin/reset.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "mem/span_alloc.h"
#include "shm/clock.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"

int sc_wait_for_readers(sc_cache *c, uint32_t tag, const char *what, const char *again)
{
	uint64_t deadline = sc_clock_ns() + SC_RESET_READERS_PATIENCE_S * 1000000000ull;

	for (;;) {
		int err = sc_rcu_advance(c);

		if (err)
			return err;
		if (sc_rcu_tag_state(c, tag) == SC_TAG_SAFE)
			return 0;
		if (sc_clock_ns() > deadline)
			return sc_fail(-EBUSY,
				       "cache \"%s\": a reader has stayed inside a read section for %u s; %s "
				       "but its memory is kept until it leaves (call %s again)",
				       c->name, SC_RESET_READERS_PATIENCE_S, what, again);
		sched_yield();
	}
}

void sc_part_unpublish(struct sc_part *p)
{
	p->needs_repair = 1;
	sc_xchg(&p->index_off, 0);
	sc_index_set_counts(p, 0, 0);
	/*
	 * A dead batch's staged records go with the memory: its intent must
	 * not outlive the index, or a repair after a reset cut short would
	 * publish what the reset freed. The number stays, so that an old
	 * intent elsewhere cannot match a new batch.
	 */
	p->batch_intent = 0;
	p->batch_state &= ~(uint64_t)3;
	p->superseding = 0;
}

void sc_part_forget(struct sc_part *p)
{
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
	p->sweep_tick = 0;
	p->stalled_epoch = 0;
	p->needs_repair = 0;
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
	char what[64];
	int err;

	sc_part_unpublish(p);
	snprintf(what, sizeof(what), "partition %u is emptied", me);
	err = sc_wait_for_readers(c, sc_rcu_retire_tag(c), what, "sc_partition_reset()");
	if (err)
		return err;
	for (uint64_t off = sc_span_next_owned(c, me, c->seg.geo.heap_off); off;
	     off = sc_span_next_owned(c, me, off + SC_PAGE)) {
		err = sc_span_free(c, me, off);
		if (err)
			return err;
	}
	sc_part_forget(p);
	return 0;
}

int sc_remedy_may_start(sc_cache *c, const char *what)
{
	struct sc_reader *r;
	int err = sc_cache_writable(c);

	if (err)
		return err;
	r = sc_reader_find(c);
	if (r && r->nest)
		return sc_fail(-EDEADLK, "%s inside a read section would wait for itself", what);
	return 0;
}

int sc_reset_lock_failed(sc_cache *c, const char *whose, int err, uint32_t holder)
{
	char who[128];

	if (err == -EDEADLK)
		return sc_fail(err, "cache \"%s\": %s lock is held by this thread already", c->name, whose);
	sc_thread_describe(holder, who, sizeof(who));
	return sc_fail(err,
		       "cache \"%s\": %s lock is held by %s, a writer that has held it for more than %u s; "
		       "stop it for good, then call again",
		       c->name, whose, who, SC_RESET_LOCK_PATIENCE_S);
}

static int do_partition_reset(sc_cache *c, uint32_t partition)
{
	struct sc_lock_wait w = { c->seg.dev, c->seg.ino, 0 };
	struct sc_part *p;
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (partition >= 2 * c->seg.cfg.num_partition)
		return sc_fail(
			-ERANGE,
			"partition %u is out of range: cache \"%s\" has %u (and as many for structures)",
			partition, c->name, c->seg.cfg.num_partition);
	err = sc_remedy_may_start(c, "sc_partition_reset");
	if (err)
		return err;
	p = sc_part_at(c, partition);
	err = sc_shm_mutex_lock_or_take(&p->lock, SC_RESET_LOCK_PATIENCE_S * 1000u, &w);
	if (err == SC_LOCK_OWNER_DIED) {
		p->owner_died++;
		p->lock_taken_from = w.holder;
		err = 0;
	}
	if (err) {
		char whose[32];

		snprintf(whose, sizeof(whose), "partition %u's", partition);
		return sc_reset_lock_failed(c, whose, err, w.holder);
	}
	err = reset_locked(c, p);
	sc_shm_mutex_unlock(&p->lock);
	return err;
}

SC_EXPORT int sc_partition_reset(sc_cache *c, uint32_t partition)
{
	return SC_TRACED(c, SC_OP_PARTITION_RESET, do_partition_reset(c, partition));
}
