/* batch_write.h — a batch of puts or removes, all-or-nothing: staged everywhere, committed once, then done. */
#ifndef SC_BATCH_WRITE_H
#define SC_BATCH_WRITE_H

#include "shm/cache.h"
#include "write/batch_order.h"
#include "write/record_store.h"

/*
 * Store items[0 .. n), checked and routed, grouped by o over the
 * partitions first_part + 0 .. num_partition - 1 (0 for tuples, the first
 * structure partition for entries). Each partition's lock is taken once,
 * in ascending order, and all are held to the end.
 *
 * All-or-nothing: every record is written and every index given room
 * first, so that an error (-ENOSPC when memory stays short after making
 * room, -EAGAIN for a stalled reader, a damaged partition) writes nothing;
 * then the batch commits with one store (write/batch_intent.h) and its records
 * are published, each partition's in the batch's order. A writer killed
 * before the commit leaves nothing behind, after it the whole batch. A
 * reader may see one partition's share before another's: a batch is
 * atomic for failures, not isolated from concurrent readers.
 */
int sc_batch_write(sc_cache *c, uint32_t first_part, const struct sc_put_item *items, size_t n,
		   const struct sc_batch_order *o);

/*
 * Remove the entries of n routed keys of structure partitions, grouped as
 * above, all-or-nothing the same way: the records the keys have are found
 * and listed first, then, once committed, taken out. Returns how many
 * went, or a negative errno (nothing removed): -ENOSPC when there is no
 * memory for the intent, which it does not evict to make.
 */
int sc_batch_remove(sc_cache *c, uint32_t first_part, const struct sc_route *routes, size_t n,
		    const struct sc_batch_order *o);
#endif /* SC_BATCH_WRITE_H */
