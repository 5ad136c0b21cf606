/* hit_list.c — records found by a read, collected inside its read section and put in insertion order. */
#include "index/hit_list.h"

#include <string.h>

int sc_hits_push(sc_cache *c, struct sc_hit_list *hl, const struct sc_hit *hit)
{
	if (hl->n == hl->cap) {
		size_t cap = 2 * hl->cap;
		struct sc_hit *v =
			hl->v == hl->inline_v ? malloc(cap * sizeof(*v)) : realloc(hl->v, cap * sizeof(*v));

		if (!v)
			return sc_fail(-ENOMEM, "out of memory collecting %zu records", cap);
		if (hl->v == hl->inline_v)
			memcpy(v, hl->inline_v, sizeof(hl->inline_v));
		hl->v = v;
		hl->cap = cap;
	}
	hl->v[hl->n] = *hit;
	hl->v[hl->n].version = sc_read(&sc_blk_at(c, hit->rec_off)->version);
	hl->n++;
	return 0;
}

static int by_version(const void *a, const void *b)
{
	uint64_t x = ((const struct sc_hit *)a)->version, y = ((const struct sc_hit *)b)->version;

	return (x > y) - (x < y);
}

void sc_hits_sort(struct sc_hit_list *hl)
{
	if (hl->n > 1)
		qsort(hl->v, hl->n, sizeof(*hl->v), by_version);
}

int sc_hits_collect(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	return sc_hits_push(c, ctx, hit);
}
