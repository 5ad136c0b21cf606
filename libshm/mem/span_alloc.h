/* span_alloc.h — the segment-wide allocator of 64 KiB-page spans, over the page map. */
#ifndef SC_SPAN_ALLOC_H
#define SC_SPAN_ALLOC_H

#include <stdint.h>

#include "shm/cache.h"

/*
 * Spans feed partitions their slabs and hold what is too big for a slab
 * (large records, big indexes). Each is owned by one partition, and the
 * page map (shm/layout.h) says which: a partition repairing itself after a
 * writer died finds every span it owns there, whatever moment the writer
 * died at. First fit from the lowest free page, so that the backed part
 * of the segment stays compact; pages are backed with shared memory
 * before they are handed out. All under the segment's allocator lock,
 * which a partition writer takes only for a new slab or a large block.
 */

/*
 * How much of the heap an allocation may take. When the cache evicts,
 * records stop short of the last eighth of the heap, which stays for the
 * indexes and tree nodes that evicting itself needs (a rebuilt index, a
 * tree's copied path), so that eviction can always run.
 */
enum sc_span_use {
	SC_SPAN_FOR_RECORDS,
	SC_SPAN_FOR_INDEXES,
};

/* A span of pages for partition part (its index among all partitions). */
int sc_span_alloc(sc_cache *c, uint32_t part, uint32_t pages, enum sc_span_use use, uint64_t *out);

/* Give back the span of partition part at off, whatever its length in the page map. */
int sc_span_free(sc_cache *c, uint32_t part, uint64_t off);

/* The allocator's lock, for the checker: giving up after seconds; repaired if its holder died. */
int sc_span_lock_within(sc_cache *c, unsigned seconds);
void sc_span_unlock(sc_cache *c);

/* A span a partition uses, found by walking it, for sc_span_map_rebuild(). */
struct sc_span_claim {
	uint64_t off; /* its first page */
	uint32_t pages;
	uint32_t part;
};

/*
 * Write the page map again from what the partitions use (claims, sorted by
 * off, none overlapping, all inside the heap): every other page free. The
 * caller holds every partition's lock and the allocator's, and no reader
 * can still see what the pages left free held. The allocator's counts and
 * the backed mark follow.
 */
void sc_span_map_rebuild(sc_cache *c, const struct sc_span_claim *claims, size_t n);

/* The page map's word for the page at byte offset off (inside the segment). */
static inline uint32_t sc_page_word(const sc_cache *c, uint64_t off)
{
	const uint32_t *map = (const uint32_t *)(c->seg.base + c->seg.geo.pagemap_off);

	return sc_read(&map[off >> SC_PAGE_SHIFT]);
}

/* The first head at or after from of a span partition part owns (from: a page inside the heap), or 0. */
uint64_t sc_span_next_owned(const sc_cache *c, uint32_t part, uint64_t from);

/* Pages of the span whose head is at off: the head and the body pages of its owner after it. */
uint32_t sc_span_pages(const sc_cache *c, uint64_t off);

static inline uint32_t sc_pages_for(uint64_t bytes)
{
	return (uint32_t)((bytes + SC_PAGE - 1) >> SC_PAGE_SHIFT);
}

#endif /* SC_SPAN_ALLOC_H */
