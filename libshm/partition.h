/* partition.h — taking a partition's write lock, and what happens when its last holder died. */
#ifndef SC_PARTITION_H
#define SC_PARTITION_H

#include "cache.h"

/* Take p's write lock. 0 or a negative errno. */
int sc_part_lock(struct sc_part *p);

/* Run the amortised reclamation this write owes, then release the lock. */
void sc_part_unlock(sc_cache *c, struct sc_part *p);

#endif /* SC_PARTITION_H */
