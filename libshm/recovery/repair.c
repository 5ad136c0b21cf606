/* repair.c — a partition made whole again after a writer died holding its lock. */
#include "recovery/repair.h"

#include "index/entry_index.h"
#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "mem/span_alloc.h"
#include "record/entry_key.h"
#include "record/tuple_codec.h"
#include "recovery/batch_resolve.h"
#include "recovery/census.h"

#ifdef SC_TEST_HOOKS
uint64_t sc_crash_countdown;
#endif
struct rebuild {
	bool strict; /* sc_repair(): a block header that makes no sense is damage, not a leftover */
	struct sc_census cs;
	struct sc_offsets slabs;   /* p's slabs, sorted */
	struct sc_offsets orphans; /* neither reachable, nor in limbo, nor free: to limbo */
	int err;
};

/*
 * First pass: list the slabs, carving any abandoned one to the end. A slab
 * a writer abandoned (it died between linking it and making it current)
 * was never carved; one that readers reach into was, and carving it again
 * would write free blocks over live ones: its bookkeeping was scribbled,
 * and the partition is damage for a reset.
 */
static int note_slab(sc_cache *c, struct sc_part *p, uint64_t slab, uint64_t off, void *ctx)
{
	struct rebuild *rb = ctx;

	if (off)
		return 0;
	if (sc_slab_is_abandoned(c, p, slab)) {
		const uint64_t end = slab + sc_slab_bytes(c, slab); /* checked by the walk */

		if (sc_offsets_has_in(&rb->cs.reach, slab, end) ||
		    sc_offsets_has_in(&rb->cs.limbo_sorted, slab, end))
			return sc_fail(-EUCLEAN,
				       "cache \"%s\": partition %u: slab at %llu is in use, yet neither the "
				       "current slab nor carved to its end",
				       c->name, sc_part_index(c, p), (unsigned long long)slab);
		sc_slab_seal_abandoned(c, p, slab);
	}
	return sc_offsets_add(&rb->slabs, slab);
}

/*
 * A slab is walked block by block, each header giving the next one's place:
 * a stray write into a size class puts the walk out of step, and what it
 * then takes for blocks straddles real ones. A block that overlaps one
 * readers reach, or (strict) whose header makes no sense, is damage.
 */
static int block_out_of_step(sc_cache *c, struct sc_part *p, const struct rebuild *rb, uint64_t off)
{
	const struct sc_blk *b = sc_blk_at(c, off);
	uint64_t end = off + sc_block_size(b);
	uint8_t state = b->flags & SC_BLK_STATE_MASK, kind = b->flags & SC_BLK_KIND_MASK;

	bool sensible = state == SC_BLK_FREE ||
			((state == SC_BLK_LIVE || state == SC_BLK_RETIRED) && kind >= SC_BLK_RECORD &&
			 kind <= SC_BLK_INTENT && sc_block_check(c, off));

	if (sc_offsets_has_in(&rb->cs.reach, off + 1, end) ||
	    sc_offsets_has_in(&rb->cs.limbo_sorted, off + 1, end) || (rb->strict && !sensible))
		return sc_fail(-EUCLEAN,
			       "cache \"%s\": partition %u: the block at %llu does not fit among its slab's",
			       c->name, sc_part_index(c, p), (unsigned long long)off);
	return 0;
}

/* Second pass: every carved block to where it belongs. */
static int sort_block(sc_cache *c, struct sc_part *p, uint64_t slab, uint64_t off, void *ctx)
{
	struct rebuild *rb = ctx;
	struct sc_blk *b = sc_blk_at(c, off);
	int err;

	(void)slab;
	if (!off)
		return 0;
	err = block_out_of_step(c, p, rb, off);
	if (err)
		return err;
	if (sc_offsets_has(&rb->cs.reach, off) || sc_offsets_has(&rb->cs.limbo_sorted, off))
		return 0;
	if ((b->flags & SC_BLK_STATE_MASK) == SC_BLK_FREE) {
		sc_free_list_push(c, p, off);
		return 0;
	}
	/* A length a stray write left where no block of the class can have it: the block's class is what counts. */
	if (!sc_block_check(c, off))
		b->len = (uint32_t)sc_block_size(b);
	return sc_offsets_add(&rb->orphans, off);
}

/* Whether a span holds a block header that was written whole: then it may have been published. */
static bool span_block_written(sc_cache *c, uint64_t off)
{
	const struct sc_blk *b = sc_blk_at(c, off);
	uint8_t state = b->flags & SC_BLK_STATE_MASK, kind = b->flags & SC_BLK_KIND_MASK;

	return b->cls == SC_CLS_SPAN && sc_block_check(c, off) &&
	       (state == SC_BLK_LIVE || state == SC_BLK_RETIRED) && kind >= SC_BLK_RECORD &&
	       kind <= SC_BLK_INTENT;
}

/* The spans p owns that are neither slabs nor reachable nor in limbo. */
static int sort_spans(sc_cache *c, struct sc_part *p, struct rebuild *rb)
{
	uint32_t me = sc_part_index(c, p);

	sc_offsets_sort(&rb->slabs);
	for (uint64_t off = sc_span_next_owned(c, me, c->seg.geo.heap_off); off;
	     off = sc_span_next_owned(c, me, off + SC_PAGE)) {
		int err;

		if (sc_offsets_has(&rb->slabs, off) || sc_offsets_has(&rb->cs.reach, off) ||
		    sc_offsets_has(&rb->cs.limbo_sorted, off))
			continue;
		/* Never published (its header was not even written, or it is a slab never linked): back at once. */
		if (!span_block_written(c, off))
			err = sc_span_free(c, me, off);
		else
			err = sc_offsets_add(&rb->orphans, off);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The limbo lists as the census found them (each lane's valid prefix, in
 * order), as one list in lane 0, then the orphans, tagged now. The lanes'
 * tags grow along each lane, not along their concatenation: a block behind
 * an older lane's newer tags waits for them, and is freed late, never early.
 */
static void relink_limbo(sc_cache *c, struct sc_part *p, struct rebuild *rb)
{
	const struct sc_offsets *l = &rb->cs.limbo;
	struct sc_lane *lane = &p->lanes[0];

	sc_limbo_forget(p);
	for (size_t i = 0; i < l->n; i++) {
		struct sc_blk *b = sc_blk_at(c, l->v[i]);

		b->link = i + 1 < l->n ? sc_to_units(l->v[i + 1]) : 0;
		/* A tag the epoch has not reached (a stray write moved one or the other) holds until retagged. */
		if (sc_rcu_tag_state(c, b->retire_epoch) == SC_TAG_IMPOSSIBLE)
			b->retire_epoch = sc_rcu_retire_tag(c);
	}
	lane->limbo_count = l->n;
	lane->limbo_bytes = rb->cs.limbo_bytes;
	if (l->n) {
		lane->limbo_head = sc_to_units(l->v[0]);
		lane->limbo_tail = sc_to_units(l->v[l->n - 1]);
	}
	/* The dead writer's unpublishing stores are long visible; the fence makes the tags follow them here too. */
	sc_full_barrier();
	for (size_t i = 0; i < rb->orphans.n; i++)
		sc_limbo_retire(c, p, rb->orphans.v[i]);
}

/* A queue or stack item outside its sequence's [head, tail): remove it, as its take or push would have. */
static int remove_orphan_item(sc_cache *c, struct sc_part *p, uint64_t off)
{
	const struct sc_blk *rec = sc_blk_at(c, off);
	struct sc_route route;
	sc_field stored, key;
	int r;

	if (sc_rec_field((const uint8_t *)rec, rec->len, 0, &stored))
		return sc_fail(-EUCLEAN, "cache \"%s\": a queue item at %llu has no key", c->name,
			       (unsigned long long)off);
	sc_entry_route_bytes(c, stored.v.p, stored.len, &key, &route);
	r = sc_entry_remove(c, p, &route);
	return r < 0 ? r : 0;
}

/*
 * The repair, but for giving back the spans p owns and does not use, which
 * it does only when the page map is to be trusted (page_map): without it
 * (sc_repair()), the slabs are known by their headers, the page map is not
 * read, and every record's checksum is verified too, as the checker does:
 * what sc_repair() keeps must pass the check.
 */
static int rebuild(sc_cache *c, struct sc_part *p, struct rebuild *rb, bool page_map)
{
	int (*walk)(sc_cache *, struct sc_part *, sc_slab_fn, void *) =
		page_map ? sc_slab_walk : sc_slab_walk_by_headers;
	int err;

	p->needs_repair = 1;
	rb->cs.verify = rb->strict = !page_map;
	err = sc_batch_resolve(c, p);
	if (!err)
		err = sc_supersede_resolve(c, p);
	if (!err)
		err = sc_census_take(c, p, &rb->cs);
	if (!err && rb->cs.damaged)
		err = sc_fail(-EUCLEAN,
			      "cache \"%s\": partition %u is damaged beyond what a dying writer leaves; "
			      "sc_partition_reset() empties it",
			      c->name, sc_part_index(c, p));
	if (!err)
		err = walk(c, p, note_slab, rb);
	if (!err) {
		sc_free_lists_clear(p);
		err = walk(c, p, sort_block, rb);
	}
	if (!err && page_map)
		err = sort_spans(c, p, rb);
	if (!err) {
		relink_limbo(c, p, rb);
		p->records = rb->cs.records;
		p->bytes = rb->cs.record_bytes;
		p->ttl_records = rb->cs.ttl_records;
		p->bt_nodes = rb->cs.nodes;
		sc_index_set_counts(p, rb->cs.index.live, rb->cs.index.tombs);
		for (size_t i = 0; !err && i < rb->cs.orphan_items.n; i++)
			err = remove_orphan_item(c, p, rb->cs.orphan_items.v[i]);
	}
	if (!err)
		p->needs_repair = 0;
	return err;
}

static void rebuild_free(struct rebuild *rb)
{
	sc_census_free(&rb->cs);
	sc_offsets_free(&rb->slabs);
	sc_offsets_free(&rb->orphans);
}

int sc_part_repair(sc_cache *c, struct sc_part *p)
{
	struct rebuild rb = { 0 };
	int err = rebuild(c, p, &rb, true);

	rebuild_free(&rb);
	return err;
}

/* Add off to spans if it is a block that is a span of its own. */
static int add_if_span(sc_cache *c, uint64_t off, struct sc_offsets *spans)
{
	return sc_blk_at(c, off)->cls == SC_CLS_SPAN ? sc_offsets_add(spans, off) : 0;
}

int sc_part_rebuild(sc_cache *c, struct sc_part *p, struct sc_offsets *spans)
{
	struct rebuild rb = { 0 };
	int err = rebuild(c, p, &rb, false);

	for (size_t i = 0; !err && i < rb.slabs.n; i++)
		err = sc_offsets_add(spans, rb.slabs.v[i]);
	for (size_t i = 0; !err && i < rb.cs.reach.n; i++)
		err = add_if_span(c, rb.cs.reach.v[i], spans);
	for (size_t i = 0; !err && i < rb.cs.limbo.n; i++)
		err = add_if_span(c, rb.cs.limbo.v[i], spans);
	rebuild_free(&rb);
	return err;
}
