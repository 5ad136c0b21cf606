/* entry_index.h — finding and removing one structure entry in its partition's index. */
#ifndef SC_ENTRY_INDEX_H
#define SC_ENTRY_INDEX_H

#include "index/hash_index.h"
#include "record/tuple_codec.h"
#include "shm/cache.h"

/* Writer side, under p's lock, or reader side in a read section: find the entry. 1, 0, or -EUCLEAN. */
int sc_entry_find(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit *hit);

/* Writer side, under p's lock: remove the routed key's entry. 1, 0 if there was none, or a negative errno. */
int sc_entry_remove(sc_cache *c, struct sc_part *p, const struct sc_route *route);

#endif /* SC_ENTRY_INDEX_H */
