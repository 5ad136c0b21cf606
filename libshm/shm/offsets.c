/* offsets.c — a process-local set of segment offsets. */
#include "shm/offsets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/error.h"

int sc_offsets_reserve(struct sc_offsets *s, size_t extra)
{
	size_t cap = s->cap ? s->cap : 256;
	uint64_t *v;

	if (s->n + extra <= s->cap)
		return 0;
	while (cap < s->n + extra)
		cap *= 2;
	v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return sc_fail(-ENOMEM, "out of memory for a list of %zu blocks", s->n + extra);
	s->v = v;
	s->cap = cap;
	return 0;
}

int sc_offsets_add(struct sc_offsets *s, uint64_t off)
{
	int err = sc_offsets_reserve(s, 1);

	if (!err)
		s->v[s->n++] = off;
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

bool sc_offsets_has(const struct sc_offsets *s, uint64_t off)
{
	return s->n && bsearch(&off, s->v, s->n, sizeof(*s->v), cmp_u64) != NULL;
}

bool sc_offsets_has_in(const struct sc_offsets *s, uint64_t from, uint64_t to)
{
	size_t lo = 0, hi = s->n;

	/* The first offset at or after from. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->v[lo] < to;
}

void sc_offsets_sort(struct sc_offsets *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
}

void sc_offsets_free(struct sc_offsets *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
