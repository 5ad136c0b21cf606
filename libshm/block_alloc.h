/* block_alloc.h — a partition's allocator of blocks: size classes carved from slabs, spans for the rest. */
#ifndef SC_BLOCK_ALLOC_H
#define SC_BLOCK_ALLOC_H

#include <stdint.h>

#include "cache.h"

/*
 * Blocks of up to 64 KiB come from per-class free lists, else from the
 * partition's current 1 MiB slab; larger ones are spans of their own. Only
 * the partition's writer, holding its lock, allocates or frees, so the
 * lists need no atomics. A block is freed only once no reader can see it
 * (see limbo.h), so its header can be reused as the free-list link.
 */

/* A block able to hold len bytes (header included), with len, cls and kind set. */
int sc_block_alloc(sc_cache *c, struct sc_part *p, uint32_t len, uint8_t kind, uint64_t *out);

/* Give a block back. It must be unreachable by every reader. */
int sc_block_free(sc_cache *c, struct sc_part *p, uint64_t off);

/* Bytes a block occupies (its class's size, or whole pages for a span). */
uint64_t sc_block_size(const struct sc_blk *b);

/* Whether off holds a block header whose claimed size lies inside the heap. */
int sc_block_check(sc_cache *c, uint64_t off);

#endif /* SC_BLOCK_ALLOC_H */
