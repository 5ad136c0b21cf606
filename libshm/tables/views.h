/* views.h — records handed to callers as tuples in place, without copying them out. */
#ifndef SC_VIEWS_H
#define SC_VIEWS_H

#include "index/hash_index.h"

/*
 * Decode the record hit names where it lies and hand it to fn, inside the
 * caller's read section: its byte fields point into shared memory. Returns
 * fn's result, or -ENOMEM / -EUCLEAN.
 */
int sc_view_record(sc_cache *c, const struct sc_hit *hit, sc_visit_fn fn, void *arg);

#endif /* SC_VIEWS_H */
