/* hash_index.h — a partition's hash index: lock-free probes for readers, updates under the lock. */
#ifndef SC_HASH_INDEX_H
#define SC_HASH_INDEX_H

#include <stdint.h>

#include "cache.h"
#include "tuple_codec.h"

/*
 * Open addressing over cache-line buckets of eight (tag, offset) slots,
 * probed bucket by bucket from hash & mask. The tag is the low 32 bits of
 * the key's hash, the offset the record's position in 16-byte units; a
 * probe compares tags in one line and touches a record only on a tag match.
 *
 * Readers never lock: a slot changes by single aligned stores (an offset
 * replaced, or turned into a tombstone, never back to empty), and records
 * are immutable once published. A probe stops at the first empty slot,
 * since an insert always takes the first free slot on its probe path.
 * Growth builds a new index beside the old one and publishes it with one
 * store; readers already in the old one finish there, and the old one is
 * retired like any record.
 */

/* Result of a probe for a key. */
struct sc_hit {
	uint64_t rec_off;
	uint32_t rec_len;
};

/*
 * Find the record of the routed key in p. Reader side: call inside a read
 * section. 1 found, 0 absent, -EUCLEAN if the index or a record on the
 * probe path is corrupt.
 */
int sc_index_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, struct sc_hit *hit);

/*
 * Writer side, under the partition lock. Make the index map key to the
 * record at rec_off: replace the key's record (*old_off set to it) or add
 * one (*old_off = 0). May grow the index first.
 */
int sc_index_upsert(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
		    uint64_t *old_off);

/* Writer side: remove key; *old_off is its record, 0 if absent. */
int sc_index_remove(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t *old_off);

/*
 * Writer side: unpublish the whole index (the partition reads as empty),
 * retire it and every record in it. Returns the number of records retired.
 */
int64_t sc_index_clear(sc_cache *c, struct sc_part *p);

/* Slots of the partition's current index (0 before the first insert). */
uint64_t sc_index_capacity(sc_cache *c, struct sc_part *p);

#endif /* SC_HASH_INDEX_H */
