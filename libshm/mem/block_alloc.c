/* block_alloc.c — a partition's allocator of blocks: size classes carved from slabs, spans for the rest. */
#include "mem/block_alloc.h"

#include <stdbool.h>
#include <string.h>

#include "mem/span_alloc.h"
#include "mem/writer_lane.h"
#include "shm/crash_point.h"

/* The smallest block anything asks for: a header and one number field. */
#define SC_MIN_BLOCK 48u

/* Freed memory is overwritten in test builds, so a reader that touches it sees garbage at once. */
#define SC_POISON 0xdb

/* Classes 0..31: 16..512 bytes in 16-byte steps. Then four classes per doubling up to 64 KiB. */
static uint32_t class_bytes(uint32_t cls)
{
	uint32_t base;

	if (cls < 32)
		return (cls + 1) * SC_UNIT;
	cls -= 32;
	base = 512u << (cls / 4);
	return base + (cls % 4 + 1) * (base / 4);
}

static uint32_t class_of(uint32_t len)
{
	uint32_t d, base;

	if (len <= 512)
		return len <= SC_UNIT ? 0 : (len + SC_UNIT - 1) / SC_UNIT - 1;
	d = (31 - (uint32_t)__builtin_clz(len - 1)) - 9;
	base = 512u << d;
	return 32 + 4 * d + (len - base - 1) / (base / 4);
}

_Static_assert(SC_NCLASSES == 32 + 4 * 7, "classes up to 64 KiB");

uint64_t sc_block_size(const struct sc_blk *b)
{
	if (b->cls == SC_CLS_SPAN)
		return sc_align_up(b->len, SC_PAGE);
	if (b->cls < SC_NCLASSES)
		return class_bytes(b->cls);
	return 0;
}

int sc_block_check(sc_cache *c, uint64_t off)
{
	const struct sc_blk *b;
	uint64_t size;

	if (off % SC_UNIT != 0 || !sc_seg_span_ok(&c->seg, off, sizeof(*b)))
		return 0;
	b = sc_blk_at(c, off);
	size = sc_block_size(b);
	return size != 0 && b->len >= sizeof(*b) && b->len <= size && sc_seg_span_ok(&c->seg, off, size);
}

struct sc_sequence *sc_sequence_at(sc_cache *c, uint64_t off)
{
	struct sc_blk *b;

	if (!sc_block_check(c, off))
		return NULL;
	b = sc_blk_at(c, off);
	if ((b->flags & SC_BLK_KIND_MASK) != SC_BLK_SEQUENCE ||
	    b->len < sizeof(*b) + sizeof(struct sc_sequence))
		return NULL;
	return (struct sc_sequence *)(b + 1);
}

static void push_free(struct sc_lane *l, struct sc_blk *b, uint64_t off)
{
	b->flags = (uint8_t)((b->flags & SC_BLK_KIND_MASK) | SC_BLK_FREE);
	SC_CRASH_POINT();
	b->link = l->free_head[b->cls];
	l->free_head[b->cls] = sc_to_units(off);
	SC_CRASH_POINT();
}

/* The class of the largest block that fits in rest bytes (at least SC_MIN_BLOCK). */
static uint32_t class_fitting(uint64_t rest)
{
	uint32_t cls = rest >= SC_SMALL_MAX ? SC_NCLASSES - 1 : class_of((uint32_t)rest);

	return class_bytes(cls) > rest ? cls - 1 : cls;
}

/*
 * Carve [*from, end) into free blocks, largest classes first, and mark the
 * slab full. Each block gets its header before *from moves past it, so
 * that a walk of the carved part (sc_slab_for_each) never meets a header
 * that was not written; it joins a free list last, and a repair after a
 * writer died finds it FREE whether or not it got there.
 */
static void seal_slab(sc_cache *c, struct sc_part *p, struct sc_slab *slab, uint64_t *from, uint64_t end)
{
	while (end - *from >= SC_MIN_BLOCK) {
		uint64_t off = *from;
		uint32_t cls = class_fitting(end - off);
		struct sc_blk *b = sc_blk_at(c, off);

		memset(b, 0, sizeof(*b));
		b->cls = (uint8_t)cls;
		b->flags = SC_BLK_FREE;
		SC_CRASH_POINT();
		*from = off + class_bytes(cls);
		SC_CRASH_POINT();
		push_free(sc_lane_mine(p), b, off);
	}
	slab->full = 1;
}

static struct sc_slab *slab_at(sc_cache *c, uint64_t off)
{
	return (struct sc_slab *)sc_seg_at(&c->seg, off);
}

uint64_t sc_slab_bytes(sc_cache *c, uint64_t s)
{
	const struct sc_slab *slab;
	uint64_t bytes;

	if (s % SC_PAGE != 0 || !sc_seg_span_ok(&c->seg, s, sizeof(*slab)))
		return 0;
	slab = slab_at(c, s);
	bytes = (uint64_t)slab->pages * SC_PAGE;
	if (slab->magic != SC_SLAB_MAGIC || slab->pages == 0 || bytes > SC_SLAB ||
	    !sc_seg_span_ok(&c->seg, s, bytes))
		return 0;
	return bytes;
}

/* Whether the page at off is one of p's (the page map says): where p may write a block it takes. */
static bool owns_page(sc_cache *c, const struct sc_part *p, uint64_t off)
{
	uint32_t w = sc_page_word(c, off);

	return (w & SC_PG_OWNER_MASK) == sc_part_index(c, p) && (w & (SC_PG_HEAD | SC_PG_BODY));
}

struct sc_slab *sc_current_slab(sc_cache *c, const struct sc_part *p)
{
	uint64_t s = p->slabs, bytes = sc_slab_bytes(c, s);

	if (!bytes || p->slab_off < s + sizeof(struct sc_slab) || p->slab_off > s + bytes ||
	    p->slab_end != s + bytes)
		return NULL;
	return slab_at(c, s);
}
/* The head of a class's free list, if it checks out; a corrupt list is dropped (its blocks leak). */
static int pop_free_lane(sc_cache *c, struct sc_part *p, struct sc_lane *l, uint32_t cls, uint64_t *out)
{
	uint64_t off = sc_from_units(l->free_head[cls]);
	struct sc_blk *b;

	if (off == 0)
		return 0;
	b = sc_blk_at(c, off);
	/* A link a stray write bent into another partition's memory must not hand out its block. */
	if (off % SC_UNIT || !sc_seg_span_ok(&c->seg, off, class_bytes(cls)) || !owns_page(c, p, off) ||
	    b->cls != cls || (b->flags & SC_BLK_STATE_MASK) != SC_BLK_FREE) {
		l->free_head[cls] = 0;
		return 0;
	}
	l->free_head[cls] = b->link;
	*out = off;
	return 1;
}

/* A free block of class cls: the writer's lane's first, so that a CPU reuses the blocks it retired. */
static int pop_free(sc_cache *c, struct sc_part *p, uint32_t cls, uint64_t *out)
{
	uint32_t mine = sc_lane_index();

	for (uint32_t i = 0; i < SC_LANES; i++)
		if (pop_free_lane(c, p, &p->lanes[(mine + i) % SC_LANES], cls, out))
			return 1;
	return 0;
}

/*
 * The largest slab a partition of c takes: SC_SLAB, or a quarter of a
 * partition's fair share of memory (every partition, structure ones too,
 * counted) when that is less, but a page at least. A partition's current
 * slab is the memory it holds and may not fill: when the heap runs out,
 * each partition wastes at most that, a few percent of the limit.
 */
static uint64_t largest_slab_pages(const sc_cache *c)
{
	uint64_t share = c->seg.cfg.memory_limit / (2ull * c->seg.cfg.num_partition) / 4 / SC_PAGE;

	return share < 1 ? 1 : share > SC_SLAB / SC_PAGE ? SC_SLAB / SC_PAGE : share;
}

/*
 * The pages of p's next slab: twice its latest (one for its first), up to
 * largest_slab_pages(), and at least what a block of size bytes needs;
 * *least is that need alone, which a nearly full heap may still grant.
 */
static uint32_t next_slab_pages(sc_cache *c, const struct sc_part *p, uint32_t size, uint32_t *least)
{
	uint64_t latest = p->slabs ? sc_slab_bytes(c, p->slabs) : 0;
	uint64_t pages = latest ? latest / SC_PAGE * 2 : 1, largest = largest_slab_pages(c);

	*least = (uint32_t)(sc_align_up(sizeof(struct sc_slab) + size, SC_PAGE) / SC_PAGE);
	if (pages > largest)
		pages = largest;
	return pages > *least ? (uint32_t)pages : *least;
}

/* The current slab, sealed; a new one with room for a block of size bytes, linked into the list, current. */
static int next_slab(sc_cache *c, struct sc_part *p, enum sc_span_use use, uint32_t size)
{
	uint32_t least, pages = next_slab_pages(c, p, size, &least);
	uint64_t off;
	struct sc_slab *s;
	int err;

	struct sc_slab *cur = sc_current_slab(c, p);

	if (cur)
		seal_slab(c, p, cur, &p->slab_off, p->slab_end);
	err = sc_span_alloc(c, sc_part_index(c, p), pages, use, &off);
	/*
	 * A nearly full heap may still have room for the least: a cache that
	 * does not evict uses it to the end. An evicting one evicts instead,
	 * as it did with slabs of one size: slabs taken page by page up to the
	 * records' share leave its indexes no slack above their reserve, and
	 * an index that cannot grow makes eviction go round the hot records.
	 */
	if (err == -ENOSPC && least < pages && c->seg.cfg.eviction == SC_EVICTION_OFF)
		err = sc_span_alloc(c, sc_part_index(c, p), pages = least, use, &off);
	if (err)
		return err;
	SC_CRASH_POINT();
	s = slab_at(c, off);
	memset(s, 0, sizeof(*s));
	s->magic = SC_SLAB_MAGIC;
	s->part = sc_part_index(c, p);
	s->pages = pages;
	s->next = p->slabs;
	SC_CRASH_POINT();
	p->slabs = off;
	SC_CRASH_POINT();
	/*
	 * Emptied, then moved, then grown: a writer dying between these stores
	 * leaves a current slab that is empty, or that is exactly the new one.
	 */
	p->slab_end = p->slab_off;
	SC_CRASH_POINT();
	p->slab_off = off + sizeof(*s);
	SC_CRASH_POINT();
	p->slab_end = off + (uint64_t)pages * SC_PAGE;
	return 0;
}

static enum sc_span_use span_use(uint8_t flags)
{
	uint8_t kind = flags & SC_BLK_KIND_MASK;

	/* A batch's intent is taken before its records, as one of them. */
	return kind == SC_BLK_RECORD || kind == SC_BLK_INTENT ? SC_SPAN_FOR_RECORDS : SC_SPAN_FOR_INDEXES;
}

/* A block taken off a free list, made a live one of len bytes. */
static int reuse(sc_cache *c, uint64_t off, uint32_t len, uint8_t flags)
{
	struct sc_blk *b = sc_blk_at(c, off);

	SC_CRASH_POINT();
	b->len = len;
	b->flags = flags;
	return 0;
}

/* A small block, its header written before the slab's carved end moves past it. */
static int alloc_small(sc_cache *c, struct sc_part *p, uint32_t len, uint8_t flags, uint64_t *out)
{
	uint32_t cls = class_of(len), size = class_bytes(cls);
	struct sc_blk *b;
	int err;

	if (pop_free(c, p, cls, out))
		return reuse(c, *out, len, flags);
	if (!sc_current_slab(c, p)) {
		p->slab_off = 0;
		p->slab_end = 0;
	}
	if (p->slab_end - p->slab_off < size) {
		err = next_slab(c, p, span_use(flags), size);
		/*
		 * No slab to be had: a free block of a larger class will do,
		 * rather than failing while memory that eviction freed lies in
		 * other classes. The block keeps its class, and goes back to it.
		 */
		for (uint32_t k = cls; err == -ENOSPC && k < SC_NCLASSES; k++)
			if (pop_free(c, p, k, out))
				return reuse(c, *out, len, flags);
		if (err)
			return err;
	}
	*out = p->slab_off;
	b = sc_blk_at(c, *out);
	b->len = len;
	b->cls = (uint8_t)cls;
	b->flags = flags;
	SC_CRASH_POINT();
	p->slab_off += size;
	SC_CRASH_POINT();
	return 0;
}

int sc_block_alloc(sc_cache *c, struct sc_part *p, uint32_t len, uint8_t kind, uint64_t *out)
{
	uint8_t flags = (uint8_t)(kind | SC_BLK_LIVE);
	struct sc_blk *b;
	int err;

	if (len <= SC_SMALL_MAX) {
		err = alloc_small(c, p, len, flags, out);
	} else {
		err = sc_span_alloc(c, sc_part_index(c, p), sc_pages_for(len), span_use(flags), out);
		if (!err) {
			b = sc_blk_at(c, *out);
			b->len = len;
			b->cls = SC_CLS_SPAN;
			b->flags = flags;
		}
	}
	if (err)
		return err;
	b = sc_blk_at(c, *out);
	b->link = 0;
	b->retire_epoch = 0;
	return 0;
}

int sc_block_free(sc_cache *c, struct sc_part *p, uint64_t off)
{
	return sc_block_free_to(c, p, sc_lane_mine(p), off);
}

int sc_block_free_to(sc_cache *c, struct sc_part *p, struct sc_lane *l, uint64_t off)
{
	struct sc_blk *b = sc_blk_at(c, off);
	uint64_t size = sc_block_size(b);

	if (size == 0)
		return sc_fail(-EUCLEAN, "cache \"%s\": block at %llu has no valid size class", c->name,
			       (unsigned long long)off);
#ifdef SC_TEST_HOOKS
	memset((uint8_t *)b + offsetof(struct sc_blk, csum), SC_POISON,
	       offsetof(struct sc_blk, cls) - offsetof(struct sc_blk, csum));
	memset((uint8_t *)b + offsetof(struct sc_blk, version), SC_POISON, sizeof(b->version));
	memset(b + 1, SC_POISON, size - sizeof(*b));
#endif
	if (b->cls == SC_CLS_SPAN)
		return sc_span_free(c, sc_part_index(c, p), off);
	push_free(l, b, off);
	return 0;
}

/* Where the carved part of slab s ends: the current slab's carved end, a full slab's last block. */
static uint64_t carved_end(sc_cache *c, const struct sc_part *p, uint64_t s)
{
	if (sc_current_slab(c, p) == slab_at(c, s))
		return p->slab_off;
	return slab_at(c, s)->full ? s + sc_slab_bytes(c, s) : s + sizeof(struct sc_slab);
}

static int broken_slab(sc_cache *c, const struct sc_part *p, uint64_t s, const char *what)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": partition %u: slab at %llu %s", c->name, sc_part_index(c, p),
		       (unsigned long long)s, what);
}

/* The slab at s as its own header and place say, whatever the page map says. */
static int check_slab_header(sc_cache *c, const struct sc_part *p, uint64_t s)
{
	if (s % SC_PAGE != 0 || !sc_seg_span_ok(&c->seg, s, sizeof(struct sc_slab)))
		return broken_slab(c, p, s, "lies outside the heap");
	if (slab_at(c, s)->magic != SC_SLAB_MAGIC || slab_at(c, s)->part != sc_part_index(c, p))
		return broken_slab(c, p, s, "has no slab header of the partition");
	if (!sc_slab_bytes(c, s))
		return broken_slab(c, p, s, "has a length of no slab, or one past the heap");
	return 0;
}

int sc_slab_check(sc_cache *c, const struct sc_part *p, uint64_t s)
{
	int err = check_slab_header(c, p, s);

	if (!err && (sc_page_word(c, s) != (SC_PG_HEAD | sc_part_index(c, p)) ||
		     sc_span_pages(c, s) != slab_at(c, s)->pages))
		return broken_slab(c, p, s, "is not a span the partition owns");
	return err;
}

static int slab_walk(sc_cache *c, struct sc_part *p, sc_slab_fn fn, void *ctx, bool page_map)
{
	uint64_t budget = (c->seg.map_len >> SC_PAGE_SHIFT) + 1; /* a slab is a page at least */

	for (uint64_t s = p->slabs; s; s = slab_at(c, s)->next) {
		uint64_t end, off;
		int r = !budget--  ? broken_slab(c, p, s, "is on a list with a cycle")
			: page_map ? sc_slab_check(c, p, s)
				   : check_slab_header(c, p, s);

		if (r == 0)
			r = fn(c, p, s, 0, ctx);
		if (r)
			return r;
		end = carved_end(c, p, s);
		for (off = s + sizeof(struct sc_slab); end - off >= SC_MIN_BLOCK && off < end;) {
			const struct sc_blk *b = sc_blk_at(c, off);

			if (b->cls >= SC_NCLASSES || class_bytes(b->cls) > end - off)
				return broken_slab(c, p, s, "holds a block with no valid size class");
			r = fn(c, p, s, off, ctx);
			if (r)
				return r;
			off += class_bytes(b->cls);
		}
	}
	return 0;
}

int sc_slab_walk(sc_cache *c, struct sc_part *p, sc_slab_fn fn, void *ctx)
{
	return slab_walk(c, p, fn, ctx, true);
}

int sc_slab_walk_by_headers(sc_cache *c, struct sc_part *p, sc_slab_fn fn, void *ctx)
{
	return slab_walk(c, p, fn, ctx, false);
}

int sc_slab_is_abandoned(sc_cache *c, const struct sc_part *p, uint64_t s)
{
	return sc_current_slab(c, p) != slab_at(c, s) && !slab_at(c, s)->full;
}

void sc_slab_seal_abandoned(sc_cache *c, struct sc_part *p, uint64_t s)
{
	uint64_t from = s + sizeof(struct sc_slab);

	seal_slab(c, p, slab_at(c, s), &from, s + sc_slab_bytes(c, s));
}

void sc_free_lists_clear(struct sc_part *p)
{
	for (uint32_t i = 0; i < SC_LANES; i++)
		memset(p->lanes[i].free_head, 0, sizeof(p->lanes[i].free_head));
}

void sc_free_list_push(sc_cache *c, struct sc_part *p, uint64_t off)
{
	push_free(sc_lane_mine(p), sc_blk_at(c, off), off);
}

static int walk_lane(sc_cache *c, struct sc_part *p, const struct sc_lane *l, uint32_t cls, sc_block_fn fn,
		     void *ctx)
{
	uint64_t budget = c->seg.map_len / class_bytes(cls) + 1;

	for (uint64_t off = sc_from_units(l->free_head[cls]); off;
	     off = sc_from_units(sc_blk_at(c, off)->link)) {
		const struct sc_blk *b;
		int r;

		if (budget-- == 0 || off % SC_UNIT || !sc_seg_span_ok(&c->seg, off, class_bytes(cls)))
			return sc_fail(
				-EUCLEAN,
				"cache \"%s\": partition %u: lane %u's free list of class %u is broken at %llu",
				c->name, sc_part_index(c, p), (unsigned)(l - p->lanes), cls,
				(unsigned long long)off);
		b = sc_blk_at(c, off);
		if (b->cls != cls || (b->flags & SC_BLK_STATE_MASK) != SC_BLK_FREE)
			return sc_fail(
				-EUCLEAN,
				"cache \"%s\": partition %u: lane %u's free list of class %u holds a block at %llu "
				"that is not a free block of that class",
				c->name, sc_part_index(c, p), (unsigned)(l - p->lanes), cls,
				(unsigned long long)off);
		r = fn(c, p, off, ctx);
		if (r)
			return r;
	}
	return 0;
}

int sc_free_list_walk(sc_cache *c, struct sc_part *p, uint32_t cls, sc_block_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < SC_LANES; i++) {
		int r = walk_lane(c, p, &p->lanes[i], cls, fn, ctx);

		if (r)
			return r;
	}
	return 0;
}
