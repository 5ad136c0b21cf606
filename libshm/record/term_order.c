/* term_order.c — ETS term order for ordered_set keys: compare, order-preserving prefixes, hashing by value. */
#include "record/term_order.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* 2^63 as a double: doubles at or beyond it lie outside int64_t. */
#define TWO_63 9223372036854775808.0

/* An integer against a (non-NaN) double, exactly: no conversion that could round. */
static int cmp_int_double(int64_t i, double d)
{
	int64_t t;
	double frac;

	if (d >= TWO_63)
		return -1;
	if (d < -TWO_63)
		return 1;
	t = (int64_t)d; /* exact: |d| < 2^63, truncated towards zero */
	if (i != t)
		return i < t ? -1 : 1;
	frac = d - (double)t; /* exact too */
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int cmp_numbers(const sc_field *a, const sc_field *b)
{
	if (a->type == SC_FIELD_INT && b->type == SC_FIELD_INT)
		return (a->v.i > b->v.i) - (a->v.i < b->v.i);
	if (a->type == SC_FIELD_DOUBLE && b->type == SC_FIELD_DOUBLE)
		return (a->v.d > b->v.d) - (a->v.d < b->v.d);
	if (a->type == SC_FIELD_INT)
		return cmp_int_double(a->v.i, b->v.d);
	return -cmp_int_double(b->v.i, a->v.d);
}

int sc_term_cmp(const sc_field *a, const sc_field *b)
{
	bool a_bytes = a->type == SC_FIELD_BYTES, b_bytes = b->type == SC_FIELD_BYTES;
	uint32_t n;
	int r;

	if (a_bytes != b_bytes)
		return a_bytes ? 1 : -1;
	if (!a_bytes)
		return cmp_numbers(a, b);
	n = a->len < b->len ? a->len : b->len;
	r = n ? memcmp(a->v.p, b->v.p, n) : 0;
	if (r)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

/*
 * Numbers: class byte 0, then the value as a double (an integer rounds, but
 * rounding never reverses an order), in the usual order-preserving form:
 * sign bit flipped for positives, all bits flipped for negatives, big-endian.
 * Bytes: class byte 1, then the first 15 bytes, zero-padded.
 */
void sc_term_prefix(const sc_field *f, uint8_t prefix[SC_PREFIX_LEN])
{
	memset(prefix, 0, SC_PREFIX_LEN);
	if (f->type == SC_FIELD_BYTES) {
		prefix[0] = 1;
		memcpy(prefix + 1, f->v.p, f->len < SC_PREFIX_LEN - 1 ? f->len : SC_PREFIX_LEN - 1);
		return;
	}
	double d = f->type == SC_FIELD_INT ? (double)f->v.i : f->v.d;
	uint64_t bits;

	if (d == 0)
		d = 0.0; /* -0.0 is 0.0 */
	memcpy(&bits, &d, sizeof(bits));
	bits = bits >> 63 ? ~bits : bits | (1ull << 63);
	for (int i = 0; i < 8; i++)
		prefix[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
}

uint64_t sc_term_hash(const sc_field *f)
{
	if (f->type == SC_FIELD_BYTES)
		return XXH3_64bits_withSeed(f->v.p, f->len, SC_FIELD_BYTES);
	if (f->type == SC_FIELD_DOUBLE) {
		double d = f->v.d;
		int64_t i;

		/* An integral double hashes as the integer it equals (and -0.0 as 0). */
		if (!(d >= -TWO_63 && d < TWO_63) || (double)(int64_t)d != d)
			return XXH3_64bits_withSeed(&d, 8, SC_FIELD_DOUBLE);
		i = (int64_t)d;
		return XXH3_64bits_withSeed(&i, 8, SC_FIELD_INT);
	}
	return XXH3_64bits_withSeed(&f->v.i, 8, SC_FIELD_INT);
}
