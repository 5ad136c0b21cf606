/* hit_list.h — records found by a read, collected inside its read section and put in insertion order. */
#ifndef SC_HIT_LIST_H
#define SC_HIT_LIST_H

#include <stdlib.h>

#include "index/hash_index.h"

/* Most keys have a handful of records: those stay on the stack. */
#define SC_HIT_LIST_INLINE 16u

struct sc_hit_list {
	struct sc_hit *v;
	size_t n, cap;
	struct sc_hit inline_v[SC_HIT_LIST_INLINE];
};

static inline void sc_hits_init(struct sc_hit_list *hl)
{
	hl->v = hl->inline_v;
	hl->n = 0;
	hl->cap = SC_HIT_LIST_INLINE;
}

static inline void sc_hits_free(struct sc_hit_list *hl)
{
	if (hl->v != hl->inline_v)
		free(hl->v);
}

/* Append a hit, reading its record's version once (it orders the records of one key). */
int sc_hits_push(sc_cache *c, struct sc_hit_list *hl, const struct sc_hit *hit);

/* Oldest write first: a bag's and a duplicate_bag's records in the order they were put. */
void sc_hits_sort(struct sc_hit_list *hl);

/* For sc_index_find_each(): ctx is a struct sc_hit_list. */
int sc_hits_collect(sc_cache *c, const struct sc_hit *hit, void *ctx);

#endif /* SC_HIT_LIST_H */
