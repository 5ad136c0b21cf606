/* match.h — ETS-style patterns: checking them, and matching records against them. */
#ifndef SC_MATCH_H
#define SC_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "record/tuple_codec.h"
#include "shm/cache.h"

#define SC_MAX_CAPTURE 255u

/*
 * A checked pattern. Fields are values (matched =:=, as ETS matches; in an
 * ordered_set the key field by term order, as the key is looked up),
 * sc_any() or sc_capture(n). Distinct capture numbers are reported in
 * ascending order, as :ets.match reports '$1', '$2', ...: rank maps a
 * capture number to its place.
 */
struct sc_pattern {
	const sc_tuple *t;
	uint32_t ncaptures;
	bool key_bound;	   /* the key field is a value: only its records can match */
	bool key_by_value; /* ordered_set: the key field matches by term order (1.0 finds 1), as lookups do */
	uint32_t key_pos;
	struct sc_route key; /* its route, when key_bound */
	uint8_t rank[SC_MAX_CAPTURE + 1];
};

int sc_pattern_compile(const sc_cache *c, const sc_tuple *pattern, struct sc_pattern *pat);

/*
 * Whether the record of len bytes at rec matches. scratch has room for the
 * pattern's fields; on a match, caps (room for ncaptures, or NULL) holds
 * the captured values, pointing into rec. 1, 0, or -EUCLEAN.
 */
int sc_pattern_match(const struct sc_pattern *pat, const uint8_t *rec, uint32_t len, sc_field *scratch,
		     sc_field *caps);

#endif /* SC_MATCH_H */
