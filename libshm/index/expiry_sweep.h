/* expiry_sweep.h — taking expired records out of a partition's index or tree, under its lock. */
#ifndef SC_EXPIRY_SWEEP_H
#define SC_EXPIRY_SWEEP_H

#include "index/hash_index.h"
#include "shm/cache.h"

/*
 * Writer side, under p's lock, after a write: every few writes of a
 * partition holding deadlines, take the expired records out of the next
 * bucket of its index, so that they go even if nobody writes their keys.
 */
void sc_sweep_step(sc_cache *c, struct sc_part *p);

/* Writer side, under p's lock: the expired records of cur's bucket of p's index; cur moves on. */
int sc_sweep_bucket(sc_cache *c, struct sc_part *p, struct sc_index_cursor *cur);

/* Writer side, under p's lock: an ordered_set partition's expired records; how many, or a negative errno. */
int sc_sweep_tree(sc_cache *c, struct sc_part *p);

#endif /* SC_EXPIRY_SWEEP_H */
