/* evict.h — making room at the memory limit: CLOCK eviction over a partition's records. */
#ifndef SC_EVICT_H
#define SC_EVICT_H

#include "shm/cache.h"

/*
 * CLOCK over each partition's index: readers set a record's reference bit
 * (record/reference_bit.h); the hand, a position in the partition's index
 * kept in the partition (a key prefix for an ordered_set's tree), clears
 * the bit of a referenced record and takes one it finds clear. Evicting is
 * a delete by the partition's writer: retired through limbo like any
 * other, so readers never see it happen. docs/internals.md says why CLOCK.
 */

/* A write that needs memory: 0, or a negative errno (-ENOSPC when memory runs short). */
typedef int (*sc_write_fn)(sc_cache *c, struct sc_part *p, const void *ctx);

/*
 * Writer side, under p's lock, after fn failed with -ENOSPC (the caller
 * runs it first, so that a write with room pays for no indirect call):
 * while it fails for want of memory, make room and run it again: first by
 * freeing what readers have left,
 * then, when the cache evicts, by evicting p's records in CLOCK order and
 * waiting (a bounded time) for readers to leave them. Returns fn's result,
 * -ENOSPC when nothing more can be evicted, or -EAGAIN naming the reader
 * that keeps the evicted memory from being reused.
 */
int sc_retry_with_room(sc_cache *c, struct sc_part *p, sc_write_fn fn, const void *ctx);

#endif /* SC_EVICT_H */
