/* reference_bit.h — a record's reference bit, which readers set and eviction's CLOCK hand reads. */
#ifndef SC_REFERENCE_BIT_H
#define SC_REFERENCE_BIT_H

#include "shm/cache.h"

/*
 * A lookup that finds a record sets its SC_BLK_REFERENCED bit, unless set
 * already: the only store a reader makes, and only in a cache that evicts
 * (index/evict.h). Reader side: a lookup found rec.
 */
static inline void sc_rec_mark_referenced(const sc_cache *c, struct sc_blk *rec)
{
	if (c->marks_references && !(sc_read(&rec->flags) & SC_BLK_REFERENCED))
		__atomic_fetch_or(&rec->flags, (uint8_t)SC_BLK_REFERENCED, __ATOMIC_RELAXED);
}

#endif /* SC_REFERENCE_BIT_H */
