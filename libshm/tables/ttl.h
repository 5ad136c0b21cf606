/* ttl.h — time to live: reading and extending deadlines, and sweeping out what has expired. */
#ifndef SC_TTL_H
#define SC_TTL_H

#include "record/tuple_codec.h"
#include "shm/cache.h"

/*
 * The deadline of a put with a time to live of ttl_ms (record_deadline.h)
 * in *deadline; SC_TTL_FOREVER gives 0 (none). -EINVAL for 0 or more than
 * SC_TTL_MAX_MS.
 */
int sc_deadline_after(uint64_t ttl_ms, uint64_t *deadline);

/* What is left of the routed key's time to live: 1 with *ttl_ms set, 0 if the key is absent. */
int sc_ttl_routed(sc_cache *c, const struct sc_route *route, uint64_t *ttl_ms);

/* Give the routed key's records deadline (0: none). How many records, or a negative errno. */
int sc_touch_routed(sc_cache *c, const struct sc_route *route, uint64_t deadline);

/*
 * Writer side, under p's lock, after a write: every few writes of a
 * partition holding deadlines, take the expired records out of the next
 * bucket of its index, so that they go even if nobody writes their keys.
 */
void sc_sweep_step(sc_cache *c, struct sc_part *p);

#endif /* SC_TTL_H */
