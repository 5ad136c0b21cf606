/* span_alloc.h — the segment-wide allocator of 64 KiB-page spans. */
#ifndef SC_SPAN_ALLOC_H
#define SC_SPAN_ALLOC_H

#include <stdint.h>

#include "cache.h"

/*
 * Spans feed partitions their slabs and hold what is too big for a slab
 * (large records, big indexes). Free spans sit in one address-ordered list
 * and coalesce with their neighbours; new pages come from the bump pointer,
 * backed with shared memory before they are handed out. All under the
 * segment's allocator lock; a partition writer takes it only to get a new
 * slab or a large block, so it is rarely contended.
 */
int sc_span_alloc(sc_cache *c, uint32_t pages, uint64_t *out);
int sc_span_free(sc_cache *c, uint64_t off, uint32_t pages);

static inline uint32_t sc_pages_for(uint64_t bytes)
{
	return (uint32_t)((bytes + SC_PAGE - 1) >> SC_PAGE_SHIFT);
}

#endif /* SC_SPAN_ALLOC_H */
