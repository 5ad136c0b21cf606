/* cache_repair.c — sc_repair: a damaged cache made whole, the damaged partitions emptied and the page map rebuilt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/reset.h"
#include "mem/block_alloc.h"
#include "mem/rcu.h"
#include "mem/span_alloc.h"
#include "recovery/repair.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"

/*
 * What sc_partition_reset() cannot mend is what lies outside partitions:
 * the page map above all, which says whose each page is, and which a reset
 * trusts. So the whole-cache repair trusts nothing shared. Holding every
 * lock, it walks each partition without the page map (its slabs known by
 * their headers, its large blocks by what it reaches), repairs what a dead
 * writer left, and notes every span the partition uses. A partition whose
 * memory holds damage, or that claims a page another claims too, is
 * emptied. Once no reader can see what the emptied ones held, the page map
 * is written again from the claims, so no page is anyone's twice and every
 * page nobody uses is free; the header's identity is written again from
 * this handle's copy, and the next grace period mends the epochs and the
 * reader registry (mem/rcu.h).
 */

struct claims {
	struct sc_span_claim *v;
	size_t n, cap;
};

static int claim(struct claims *cl, uint64_t off, uint32_t pages, uint32_t part)
{
	if (cl->n == cl->cap) {
		size_t cap = cl->cap ? 2 * cl->cap : 256;
		struct sc_span_claim *v = realloc(cl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cl->v = v;
		cl->cap = cap;
	}
	cl->v[cl->n++] = (struct sc_span_claim){ off, pages, part };
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct sc_span_claim *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Rebuild partition part without the page map and claim the spans it uses. -EUCLEAN: it holds damage. */
static int rebuild_and_claim(sc_cache *c, uint32_t part, struct claims *cl)
{
	struct sc_offsets spans = { 0 };
	int err = sc_part_rebuild(c, sc_part_at(c, part), &spans);

	for (size_t i = 0; !err && i < spans.n; i++) {
		const struct sc_blk *b = sc_blk_at(c, spans.v[i]);
		/*
		 * A slab is known by its header (its first bytes are no block header), and
		 * its length too (0 when it lies); a span by its block's.
		 */
		uint64_t bytes = ((const struct sc_slab *)b)->magic == SC_SLAB_MAGIC &&
						 ((const struct sc_slab *)b)->part == part
					 ? sc_slab_bytes(c, spans.v[i])
					 : sc_align_up(b->len, SC_PAGE);

		if (!bytes || spans.v[i] % SC_PAGE || spans.v[i] + bytes > c->seg.map_len)
			err = sc_fail(-EUCLEAN, "cache \"%s\": partition %u uses a span off the heap",
				      c->name, part);
		else
			err = claim(cl, spans.v[i], (uint32_t)(bytes >> SC_PAGE_SHIFT), part);
	}
	sc_offsets_free(&spans);
	return err;
}

/* Partitions whose claims overlap another's: both are marked in empty[]. Returns how many were new. */
static uint32_t mark_overlaps(struct claims *cl, uint8_t *empty)
{
	uint32_t marked = 0;

	qsort(cl->v, cl->n, sizeof(*cl->v), by_offset);
	for (size_t i = 1; i < cl->n; i++) {
		const struct sc_span_claim *a = &cl->v[i - 1], *b = &cl->v[i];

		if (a->off + ((uint64_t)a->pages << SC_PAGE_SHIFT) <= b->off)
			continue;
		marked += !empty[a->part] + !empty[b->part];
		empty[a->part] = empty[b->part] = 1;
	}
	return marked;
}

/* Drop the claims of the partitions to be emptied. */
static void drop_claims(struct claims *cl, const uint8_t *empty)
{
	size_t kept = 0;

	for (size_t i = 0; i < cl->n; i++)
		if (!empty[cl->v[i].part])
			cl->v[kept++] = cl->v[i];
	cl->n = kept;
}

/* Every partition's lock, in order, then the allocator's: the order writers take them in. */
static int lock_all(sc_cache *c, uint32_t *held)
{
	uint32_t parts = 2 * c->seg.cfg.num_partition;
	struct sc_lock_wait w = { c->seg.dev, c->seg.ino, 0 };
	char whose[32];
	int r;

	for (*held = 0; *held < parts; (*held)++) {
		struct sc_part *p = sc_part_at(c, *held);

		r = sc_shm_mutex_lock_or_take(&p->lock, SC_RESET_LOCK_PATIENCE_S * 1000u, &w);
		if (r == SC_LOCK_OWNER_DIED) {
			p->owner_died++;
			p->lock_taken_from = w.holder;
		} else if (r) {
			snprintf(whose, sizeof(whose), "partition %u's", *held);
			return sc_reset_lock_failed(c, whose, r, w.holder);
		}
	}
	r = sc_shm_mutex_lock_or_take(&sc_hdr(c)->alloc_lock, SC_RESET_LOCK_PATIENCE_S * 1000u, &w);
	if (r == SC_LOCK_OWNER_DIED)
		sc_hdr(c)->alloc_owner_died++;
	else if (r)
		return sc_reset_lock_failed(c, "the allocator's", r, w.holder);
	return 0;
}

static void unlock_all(sc_cache *c, uint32_t held, bool allocator)
{
	if (allocator)
		sc_shm_mutex_unlock(&sc_hdr(c)->alloc_lock);
	while (held)
		sc_shm_mutex_unlock(&sc_part_at(c, --held)->lock);
}

/* Under every lock: the repair proper. The number of partitions emptied, or a negative errno. */
static int repair_locked(sc_cache *c, uint8_t *empty)
{
	uint32_t parts = 2 * c->seg.cfg.num_partition, emptied = 0;
	struct claims cl = { 0 };
	int err = 0;

	sc_seg_header_write(&c->seg);
	for (uint32_t i = 0; i < parts && err != -ENOMEM; i++) {
		err = rebuild_and_claim(c, i, &cl);
		if (err)
			empty[i] = 1;
	}
	if (err == -ENOMEM)
		goto out;
	/* Emptying partitions drops their claims, which can end no overlap: one pass settles it. */
	mark_overlaps(&cl, empty);
	drop_claims(&cl, empty);
	for (uint32_t i = 0; i < parts; i++)
		if (empty[i]) {
			sc_part_unpublish(sc_part_at(c, i));
			emptied++;
		}
	err = sc_wait_for_readers(c, sc_rcu_retire_tag(c), "the damaged partitions are emptied",
				  "sc_repair()");
	if (err)
		goto out;
	for (uint32_t i = 0; i < parts; i++)
		if (empty[i])
			sc_part_forget(sc_part_at(c, i));
	sc_span_map_rebuild(c, cl.v, cl.n);
	sc_rcu_registry_mend(c);
	sc_publish(&sc_hdr(c)->ready, SC_READY);
	/* Mends the epochs and the reader slots (mem/rcu.h). */
	err = sc_rcu_advance(c);
out:
	free(cl.v);
	return err ? err : (int)emptied;
}

static int do_repair(sc_cache *c)
{
	uint8_t *empty;
	uint32_t held;
	int err = sc_cache_check(c);

	if (err)
		return err;
	err = sc_remedy_may_start(c, "sc_repair");
	if (err)
		return err;
	/* A truncated file faults wherever the cut reaches: its size first, the lost part as zeros. */
	err = sc_seg_restore_size(&c->seg);
	if (err)
		return err;
	empty = calloc(2 * c->seg.cfg.num_partition, 1);
	if (!empty)
		return sc_fail(-ENOMEM, "out of memory repairing cache \"%s\"", c->name);
	err = lock_all(c, &held);
	if (!err) {
		err = repair_locked(c, empty);
		unlock_all(c, held, true);
	} else {
		unlock_all(c, held, false);
	}
	free(empty);
	return err;
}

SC_EXPORT int sc_repair(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_REPAIR, do_repair(c));
}
