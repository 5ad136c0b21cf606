/* results.h — copying records out of shared memory into caller-owned sc_tuples. */
#ifndef SC_RESULTS_H
#define SC_RESULTS_H

#include "cache.h"
#include "hash_index.h"

/*
 * Copy the n records hits name, in that order, into one new allocation laid
 * out as an sc_tuples. Each record is copied first and decoded from the
 * copy, so a concurrent scribbler cannot change what was checked.
 */
int sc_results_copy(sc_cache *c, const struct sc_hit *hits, size_t n, sc_tuples **out);

#endif /* SC_RESULTS_H */
