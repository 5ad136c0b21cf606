/* batch_resolve.h — what a repair makes of a dead batch's intent (the protocol: write/batch_intent.h). */
#ifndef SC_BATCH_RESOLVE_H
#define SC_BATCH_RESOLVE_H

#include "shm/cache.h"

/*
 * Repair side, under p's lock, before its census: complete p's part of a
 * committed batch, or drop an uncommitted one's. 0, or -EUCLEAN when the
 * intent is damaged.
 */
int sc_batch_resolve(sc_cache *c, struct sc_part *p);

#endif /* SC_BATCH_RESOLVE_H */
