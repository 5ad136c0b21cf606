/* deletes.h — what the tuple deletes share with a replica applying its primary's log. */
#ifndef SC_DELETES_H
#define SC_DELETES_H

#include "shm/cache.h"

/*
 * Writer side, under p's lock: empty p, every record retired and counted
 * as deleted, and log it as one entry. How many went, or a negative errno.
 */
int64_t sc_part_clear(sc_cache *c, struct sc_part *p);

#endif /* SC_DELETES_H */
