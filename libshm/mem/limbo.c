/* limbo.c — a partition's retired blocks, freed once every reader that could see them has left. */
#include "mem/limbo.h"

#include "mem/block_alloc.h"
#include "mem/rcu.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "shm/probes.h"

#include <sched.h>
/* Bytes retired between two grace periods: ~1600 100-byte records, so a membarrier every few ms. */
#define LIMBO_STEP (256u * 1024u)

/*
 * The list lives in shared memory and a writer may die between any two of
 * its stores. Every update is ordered so that such a death leaves at worst
 * a block missing from the list (leaked), never a link through a stale or
 * freed block: the list counts as empty unless both ends are set, and the
 * tail end is updated first.
 */

void sc_limbo_forget(struct sc_part *p)
{
	p->limbo_tail = 0;
	p->limbo_head = 0;
	p->limbo_bytes = 0;
	p->limbo_count = 0;
	p->limbo_advance_at = 0;
}

bool sc_block_retired(sc_cache *c, uint64_t off)
{
	return sc_block_check(c, off) && (sc_blk_at(c, off)->flags & SC_BLK_STATE_MASK) == SC_BLK_RETIRED;
}

/*
 * Only the state changes: readers still looking at the block need its
 * deadline flag, and one of them may be setting its referenced bit, so the
 * change is one compare-and-swap that keeps the other bits.
 */
static void set_retired(struct sc_blk *b)
{
	uint8_t old = sc_read(&b->flags), want;

	do
		want = (uint8_t)((old & ~SC_BLK_STATE_MASK) | SC_BLK_RETIRED);
	while (!__atomic_compare_exchange_n(&b->flags, &old, want, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED));
}

void sc_limbo_retire(sc_cache *c, struct sc_part *p, uint64_t off)
{
	struct sc_blk *b = sc_blk_at(c, off);
	uint32_t units = sc_to_units(off);
	uint64_t tail = sc_from_units(p->limbo_tail);

	b->retire_epoch = sc_rcu_retire_tag(c);
	set_retired(b);
	b->link = 0;
	SC_CRASH_POINT();
	/* A tail that is not a retired block was left by a dead writer or a scribbler: start over. */
	if (tail != 0 && p->limbo_head != 0 && !sc_block_retired(c, tail))
		sc_limbo_forget(p);
	if (p->limbo_tail == 0 || p->limbo_head == 0) {
		p->limbo_tail = units;
		p->limbo_head = units;
	} else {
		sc_blk_at(c, tail)->link = units;
		SC_CRASH_POINT();
		p->limbo_tail = units;
	}
	SC_CRASH_POINT();
	p->limbo_bytes += sc_block_size(b);
	p->limbo_count++;
}

static uint64_t free_safe(sc_cache *c, struct sc_part *p)
{
	uint64_t before = p->limbo_bytes;

	while (p->limbo_head && p->limbo_tail) {
		uint64_t off = sc_from_units(p->limbo_head);
		struct sc_blk *b;
		uint32_t next;

		if (!sc_block_retired(c, off)) {
			sc_limbo_forget(p);
			return 0;
		}
		b = sc_blk_at(c, off);
		switch (sc_rcu_tag_state(c, b->retire_epoch)) {
		case SC_TAG_HELD:
			return before - p->limbo_bytes;
		case SC_TAG_IMPOSSIBLE:
			/* Tagged in an epoch that has not begun: when it was retired is unknown, so now. */
			b->retire_epoch = sc_rcu_retire_tag(c);
			return before - p->limbo_bytes;
		case SC_TAG_SAFE:
			break;
		}
		next = b->link;
		if (next == 0)
			p->limbo_tail = 0;
		SC_CRASH_POINT();
		p->limbo_head = next;
		SC_CRASH_POINT();
		p->limbo_bytes -= sc_block_size(b);
		p->limbo_count--;
		sc_block_free(c, p, off);
		SC_CRASH_POINT();
	}
	p->limbo_advance_at = 0;
	return before - p->limbo_bytes;
}

uint64_t sc_limbo_free_safe(sc_cache *c, struct sc_part *p)
{
	uint64_t freed = free_safe(c, p);

	if (freed)
		SC_PROBE(reclaim, c->trace_id, sc_part_index(c, p), freed);
	return freed;
}

void sc_limbo_reclaim(sc_cache *c, struct sc_part *p)
{
	uint64_t due = p->limbo_advance_at > LIMBO_STEP ? p->limbo_advance_at : LIMBO_STEP;

	if (p->limbo_head == 0)
		return;
	sc_limbo_free_safe(c, p);
	if (p->limbo_bytes < due)
		return;
	sc_limbo_reclaim_now(c, p);
}

void sc_limbo_reclaim_now(sc_cache *c, struct sc_part *p)
{
	if (p->limbo_head == 0)
		return;
	if (sc_rcu_advance(c) == 0)
		sc_limbo_free_safe(c, p);
	/* A reader still holding the rest back costs one more grace period per LIMBO_STEP, no more. */
	p->limbo_advance_at = p->limbo_bytes + LIMBO_STEP;
}

/* -EAGAIN, naming the reader in the oldest section and what it holds back in p. */
static int held_back(sc_cache *c, struct sc_part *p, const struct sc_oldest_reader *o)
{
	return sc_fail(
		-EAGAIN,
		"cache \"%s\": partition %u cannot reuse %llu retired bytes: reader pid %u (thread %u) "
		"has been in one read section for %llu grace periods",
		c->name, sc_part_index(c, p), (unsigned long long)p->limbo_bytes, o->pid, o->tid,
		(unsigned long long)o->lag);
}

int sc_limbo_drain(sc_cache *c, struct sc_part *p)
{
	struct sc_oldest_reader o;
	struct sc_reader *me;
	uint64_t start = sc_clock_ns();

	for (bool first = true;; first = false) {
		if (sc_rcu_advance(c) == 0)
			sc_limbo_free_safe(c, p);
		if (p->limbo_head == 0 || p->limbo_tail == 0)
			return 0;
		if (first && (me = sc_reader_find(c)) != NULL && me->nest > 0)
			return sc_fail(
				-EDEADLK,
				"cache \"%s\": partition %u cannot reuse %llu retired bytes while this "
				"thread's own read section is open",
				c->name, sc_part_index(c, p), (unsigned long long)p->limbo_bytes);
		if (first) {
			sc_rcu_oldest_reader(c, &o);
			if (o.epoch != 0 && o.epoch == p->stalled_epoch)
				return held_back(c, p, &o);
		}
		if (sc_clock_ns() - start > SC_READER_PATIENCE_MS * 1000000ull)
			break;
		sched_yield();
	}
	p->limbo_advance_at = p->limbo_bytes + LIMBO_STEP;
	sc_rcu_oldest_reader(c, &o);
	p->stalled_epoch = o.epoch;
	return held_back(c, p, &o);
}

uint64_t sc_limbo_bound(const sc_cache *c)
{
	uint64_t share = c->seg.cfg.max_retired / (2ull * c->seg.cfg.num_partition);

	return share > 4 * LIMBO_STEP ? share : 4 * LIMBO_STEP;
}

/* What every partition holds retired, summed without their locks: a moment's figure. */
static uint64_t retired_in_all(const sc_cache *c)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < 2 * c->seg.cfg.num_partition; i++)
		sum += sc_read(&sc_part_at(c, i)->limbo_bytes);
	return sum;
}

int sc_limbo_within_bound(sc_cache *c, struct sc_part *p)
{
	if (sc_likely(p->limbo_bytes < c->retired_bound))
		return 0;
	/* Past its share: max_retired bounds what the cache holds, and the shares others leave are free. */
	if (retired_in_all(c) < c->seg.cfg.max_retired)
		return 0;
	return sc_limbo_drain(c, p);
}
