/* offsets.h — a process-local set of segment offsets: filled, then sorted and searched. */
#ifndef SC_OFFSETS_H
#define SC_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sc_offsets {
	uint64_t *v;
	size_t n;
	size_t cap;
};

/* 0, or -ENOMEM. */
int sc_offsets_add(struct sc_offsets *s, uint64_t off);
/* Room for extra more, so that that many adds cannot fail: 0, or -ENOMEM. */
int sc_offsets_reserve(struct sc_offsets *s, size_t extra);
void sc_offsets_sort(struct sc_offsets *s);
/* Whether a sorted set holds off. */
bool sc_offsets_has(const struct sc_offsets *s, uint64_t off);
/* Whether a sorted set holds an offset in [from, to). */
bool sc_offsets_has_in(const struct sc_offsets *s, uint64_t from, uint64_t to);
void sc_offsets_free(struct sc_offsets *s);

#endif /* SC_OFFSETS_H */
