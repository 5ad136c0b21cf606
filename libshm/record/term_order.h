/* term_order.h — ETS term order for ordered_set keys: compare, order-preserving prefixes, hashing by value. */
#ifndef SC_TERM_ORDER_H
#define SC_TERM_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "supercache.h"

/* Bytes of a key's order-preserving prefix kept in ordered index entries. */
#define SC_PREFIX_LEN 16u

/*
 * The order of keys in an ordered_set, as ETS orders terms: numbers before
 * bytes; numbers by value, integers and doubles alike (1 == 1.0, 0.0 ==
 * -0.0, and no rounding: 2^53 + 1 > 2^53 as a double); bytes
 * lexicographically, a prefix before its extensions. NaN has no place in
 * it, and is refused as a key. <0, 0 or >0.
 */
int sc_term_cmp(const sc_field *a, const sc_field *b);

static inline bool sc_term_is_nan(const sc_field *f)
{
	return f->type == SC_FIELD_DOUBLE && f->v.d != f->v.d;
}

/*
 * A prefix of f such that memcmp of two prefixes orders them as their keys
 * are ordered, except where prefixes are equal (then the keys must be
 * compared in full).
 */
void sc_term_prefix(const sc_field *f, uint8_t prefix[SC_PREFIX_LEN]);

/* A hash equal for keys the order calls equal: numbers by value (1 and 1.0 alike). */
uint64_t sc_term_hash(const sc_field *f);

#endif /* SC_TERM_ORDER_H */
