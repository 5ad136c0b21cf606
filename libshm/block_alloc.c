/* block_alloc.c — a partition's allocator of blocks: size classes carved from slabs, spans for the rest. */
#include "block_alloc.h"

#include <string.h>

#include "span_alloc.h"

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

static void push_free(struct sc_part *p, struct sc_blk *b, uint64_t off)
{
	b->flags = (uint8_t)((b->flags & SC_BLK_KIND_MASK) | SC_BLK_FREE);
	b->link = p->free_head[b->cls];
	p->free_head[b->cls] = sc_to_units(off);
}

/* The smallest block anything asks for: a header and one number field. */
#define SC_MIN_BLOCK 48u

/*
 * Hand what is left of the slab to the free lists, largest classes first.
 * Each block leaves the slab before it joins a list: a writer dying in
 * between leaks the block, where the other order would let it be handed out
 * twice, once from the list and once from the slab.
 */
static void retire_slab_tail(sc_cache *c, struct sc_part *p)
{
	while (p->slab_end - p->slab_off >= SC_MIN_BLOCK) {
		uint64_t off = p->slab_off, rest = p->slab_end - off;
		uint32_t cls = rest >= SC_SMALL_MAX ? SC_NCLASSES - 1 : class_of((uint32_t)rest);
		struct sc_blk *b;

		if (class_bytes(cls) > rest)
			cls--;
		p->slab_off = off + class_bytes(cls);
		b = sc_blk_at(c, off);
		memset(b, 0, sizeof(*b));
		b->cls = (uint8_t)cls;
		push_free(p, b, off);
	}
}

static int slab_valid(sc_cache *c, const struct sc_part *p)
{
	return p->slab_off <= p->slab_end && p->slab_end - p->slab_off <= SC_SLAB &&
	       (p->slab_off == p->slab_end ||
		sc_seg_span_ok(&c->seg, p->slab_off, p->slab_end - p->slab_off));
}

/* The head of a class's free list, if it checks out; a corrupt list is dropped (its blocks leak). */
static int pop_free(sc_cache *c, struct sc_part *p, uint32_t cls, uint64_t *out)
{
	uint64_t off = sc_from_units(p->free_head[cls]);
	struct sc_blk *b;

	if (off == 0)
		return 0;
	b = sc_blk_at(c, off);
	if (!sc_seg_span_ok(&c->seg, off, class_bytes(cls)) || b->cls != cls ||
	    (b->flags & SC_BLK_STATE_MASK) != SC_BLK_FREE) {
		p->free_head[cls] = 0;
		return 0;
	}
	p->free_head[cls] = b->link;
	*out = off;
	return 1;
}

static int alloc_small(sc_cache *c, struct sc_part *p, uint32_t len, uint64_t *out)
{
	uint32_t cls = class_of(len), size = class_bytes(cls);
	int err;

	if (pop_free(c, p, cls, out))
		goto found;
	if (!slab_valid(c, p)) {
		p->slab_off = 0;
		p->slab_end = 0;
	}
	if (p->slab_end - p->slab_off < size) {
		uint64_t slab;

		retire_slab_tail(c, p);
		err = sc_span_alloc(c, SC_SLAB / SC_PAGE, &slab);
		if (err)
			return err;
		/*
		 * Emptied, then moved, then grown: a writer dying between these
		 * stores leaves a slab that is empty, that slab_valid() rejects,
		 * or that is exactly the new one (slabs never overlap).
		 */
		p->slab_end = p->slab_off;
		p->slab_off = slab;
		p->slab_end = slab + SC_SLAB;
	}
	*out = p->slab_off;
	p->slab_off += size;
found:
	sc_blk_at(c, *out)->cls = (uint8_t)cls;
	return 0;
}

int sc_block_alloc(sc_cache *c, struct sc_part *p, uint32_t len, uint8_t kind, uint64_t *out)
{
	struct sc_blk *b;
	int err;

	if (len <= SC_SMALL_MAX) {
		err = alloc_small(c, p, len, out);
	} else {
		err = sc_span_alloc(c, sc_pages_for(len), out);
		if (!err)
			sc_blk_at(c, *out)->cls = SC_CLS_SPAN;
	}
	if (err)
		return err;
	b = sc_blk_at(c, *out);
	b->len = len;
	b->flags = (uint8_t)(kind | SC_BLK_LIVE);
	b->link = 0;
	b->retire_epoch = 0;
	return 0;
}

int sc_block_free(sc_cache *c, struct sc_part *p, uint64_t off)
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
		return sc_span_free(c, off, sc_pages_for(size));
	push_free(p, b, off);
	return 0;
}
