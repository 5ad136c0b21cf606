/* limbo.c — a partition's retired blocks, freed once every reader that could see them has left. */
#include "limbo.h"

#include "block_alloc.h"
#include "crash_point.h"
#include "rcu.h"

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

void sc_limbo_retire(sc_cache *c, struct sc_part *p, uint64_t off)
{
	struct sc_blk *b = sc_blk_at(c, off);
	uint32_t units = sc_to_units(off);
	uint64_t tail = sc_from_units(p->limbo_tail);

	b->retire_epoch = sc_rcu_retire_tag(c);
	b->flags = (uint8_t)((b->flags & SC_BLK_KIND_MASK) | SC_BLK_RETIRED);
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

static void free_safe(sc_cache *c, struct sc_part *p)
{
	while (p->limbo_head && p->limbo_tail) {
		uint64_t off = sc_from_units(p->limbo_head);
		struct sc_blk *b;
		uint32_t next;

		if (!sc_block_retired(c, off)) {
			sc_limbo_forget(p);
			return;
		}
		b = sc_blk_at(c, off);
		if (!sc_rcu_tag_safe(c, b->retire_epoch))
			return;
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
}

void sc_limbo_reclaim(sc_cache *c, struct sc_part *p)
{
	uint64_t due = p->limbo_advance_at > LIMBO_STEP ? p->limbo_advance_at : LIMBO_STEP;

	if (p->limbo_head == 0)
		return;
	free_safe(c, p);
	if (p->limbo_bytes < due)
		return;
	sc_limbo_reclaim_now(c, p);
}

void sc_limbo_reclaim_now(sc_cache *c, struct sc_part *p)
{
	if (p->limbo_head == 0)
		return;
	if (sc_rcu_advance(c) == 0)
		free_safe(c, p);
	/* A reader still holding the rest back costs one more grace period per LIMBO_STEP, no more. */
	p->limbo_advance_at = p->limbo_bytes + LIMBO_STEP;
}
