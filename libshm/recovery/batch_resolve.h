/*
 * batch_resolve.h — what a repair makes of a dead writer's write of many
 * steps: a batch's intent (the protocol: write/batch_intent.h), a bag's
 * KeyValue update (write/record_store.h).
 */
#ifndef SC_BATCH_RESOLVE_H
#define SC_BATCH_RESOLVE_H

#include "shm/cache.h"

/*
 * Repair side, under p's lock, before its census: complete p's part of a
 * committed batch, or drop an uncommitted one's. 0, or -EUCLEAN when the
 * intent is damaged.
 */
int sc_batch_resolve(sc_cache *c, struct sc_part *p);

/*
 * Repair side, under p's lock, before its census: finish a KeyValue update
 * that takes the place of every value of its key (sc_put_superseding()):
 * if its record was published, the key's other records leave the index
 * (the census retires them); if not, nothing was seen. 0, or -EUCLEAN.
 */
int sc_supersede_resolve(sc_cache *c, struct sc_part *p);

#endif /* SC_BATCH_RESOLVE_H */
