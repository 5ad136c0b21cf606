/* block_alloc.h — a partition's allocator of blocks: size classes carved from slabs, spans for the rest. */
#ifndef SC_BLOCK_ALLOC_H
#define SC_BLOCK_ALLOC_H

#include <stdint.h>

#include "shm/cache.h"

/*
 * Blocks of up to 64 KiB come from per-class free lists, else from the
 * partition's current slab (a page first, twice the last one after, up to
 * 1 MiB); larger ones are spans of their own. Only
 * the partition's writer, holding its lock, allocates or frees, so the
 * lists need no atomics. A block is freed only once no reader can see it
 * (see mem/limbo.h), so its header can be reused as the free-list link.
 *
 * A partition's slabs form a list (struct sc_slab), and every block is
 * carved with its header written first, so that the partition's whole
 * memory can be walked block by block: the checker does, and so does the
 * repair after a writer died (recovery/repair.h).
 */

/* A block able to hold len bytes (header included), with len, cls and kind set. */
int sc_block_alloc(sc_cache *c, struct sc_part *p, uint32_t len, uint8_t kind, uint64_t *out);

/* Give a block back, to the writer's lane (mem/writer_lane.h). It must be unreachable by every reader. */
int sc_block_free(sc_cache *c, struct sc_part *p, uint64_t off);

/* As sc_block_free(), to lane l of p: where a retired block goes back, the lane that retired it. */
int sc_block_free_to(sc_cache *c, struct sc_part *p, struct sc_lane *l, uint64_t off);

/* Bytes a block occupies (its class's size, or whole pages for a span). */
uint64_t sc_block_size(const struct sc_blk *b);

/* Whether off holds a block header whose claimed size lies inside the heap. */
int sc_block_check(sc_cache *c, uint64_t off);

/*
 * The sequence a queue's or stack's header entry names by its block's
 * offset: a block inside the heap, of the sequence kind, large enough to
 * hold one. NULL when off is no such block.
 */
struct sc_sequence *sc_sequence_at(sc_cache *c, uint64_t off);

/* The slab the partition carves from now, or NULL if it has none that checks out. */
struct sc_slab *sc_current_slab(sc_cache *c, const struct sc_part *p);

/* The length of the slab at s as its header says, checked (a page to SC_SLAB, inside the heap), or 0. */
uint64_t sc_slab_bytes(sc_cache *c, uint64_t s);

/* 0 if s is a slab of p (page map, header), else -EUCLEAN with the reason. */
int sc_slab_check(sc_cache *c, const struct sc_part *p, uint64_t s);

/*
 * Walk p's slabs: fn(slab, 0) for each slab, then fn(slab, off) for each
 * block carved from it. 0, fn's first nonzero result, or -EUCLEAN where the
 * list or a block header is broken.
 */
typedef int (*sc_slab_fn)(sc_cache *c, struct sc_part *p, uint64_t slab, uint64_t off, void *ctx);
int sc_slab_walk(sc_cache *c, struct sc_part *p, sc_slab_fn fn, void *ctx);

/* The same, taking each slab's header for its word, not the page map's (which sc_repair() rebuilds). */
int sc_slab_walk_by_headers(sc_cache *c, struct sc_part *p, sc_slab_fn fn, void *ctx);

/* A slab on p's list that is neither current nor carved to the end (a writer died switching slabs). */
int sc_slab_is_abandoned(sc_cache *c, const struct sc_part *p, uint64_t s);

/* Carve an abandoned slab to the end, into free blocks. */
void sc_slab_seal_abandoned(sc_cache *c, struct sc_part *p, uint64_t s);

/* The free lists, for the repair that rebuilds them and the checker that walks them. */
typedef int (*sc_block_fn)(sc_cache *c, struct sc_part *p, uint64_t off, void *ctx);
void sc_free_lists_clear(struct sc_part *p);
void sc_free_list_push(sc_cache *c, struct sc_part *p, uint64_t off);
int sc_free_list_walk(sc_cache *c, struct sc_part *p, uint32_t cls, sc_block_fn fn, void *ctx);

#endif /* SC_BLOCK_ALLOC_H */
