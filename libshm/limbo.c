/* limbo.c — a partition's retired blocks, freed once every reader that could see them has left. */
#include "limbo.h"

#include "block_alloc.h"
#include "rcu.h"

/* Bytes retired between two grace periods: ~1600 100-byte records, so a membarrier every few ms. */
#define LIMBO_STEP (256u * 1024u)

void sc_limbo_retire(sc_cache *c, struct sc_part *p, uint64_t off)
{
	struct sc_blk *b = sc_blk_at(c, off);
	uint32_t units = sc_to_units(off);

	b->retire_epoch = sc_rcu_retire_tag(c);
	b->flags = (uint8_t)((b->flags & SC_BLK_KIND_MASK) | SC_BLK_RETIRED);
	b->link = 0;
	if (p->limbo_head == 0)
		p->limbo_head = units;
	else
		sc_blk_at(c, sc_from_units(p->limbo_tail))->link = units;
	p->limbo_tail = units;
	p->limbo_bytes += sc_block_size(b);
	p->limbo_count++;
}

/* The list is the writer's own, but it lives in shared memory: a bad link empties it (leaks). */
static void drop_limbo(struct sc_part *p)
{
	p->limbo_head = 0;
	p->limbo_tail = 0;
	p->limbo_bytes = 0;
	p->limbo_count = 0;
}

static void free_safe(sc_cache *c, struct sc_part *p)
{
	while (p->limbo_head) {
		uint64_t off = sc_from_units(p->limbo_head);
		struct sc_blk *b;

		if (!sc_block_check(c, off)) {
			drop_limbo(p);
			return;
		}
		b = sc_blk_at(c, off);
		if ((b->flags & SC_BLK_STATE_MASK) != SC_BLK_RETIRED) {
			drop_limbo(p);
			return;
		}
		if (!sc_rcu_tag_safe(c, b->retire_epoch))
			return;
		p->limbo_head = b->link;
		if (p->limbo_head == 0) {
			p->limbo_tail = 0;
			p->limbo_advance_at = 0;
		}
		p->limbo_bytes -= sc_block_size(b);
		p->limbo_count--;
		sc_block_free(c, p, off);
	}
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
