/* ttl.h — time to live of a routed key: reading and extending its records' deadlines. */
#ifndef SC_TTL_H
#define SC_TTL_H

#include "record/tuple_codec.h"
#include "shm/cache.h"

/* What is left of the routed key's time to live: 1 with *ttl_ms set, 0 if the key is absent. */
int sc_ttl_routed(sc_cache *c, const struct sc_route *route, uint64_t *ttl_ms);

/* Give the routed key's records deadline (0: none). How many records, or a negative errno. */
int sc_touch_routed(sc_cache *c, const struct sc_route *route, uint64_t deadline);

#endif /* SC_TTL_H */
