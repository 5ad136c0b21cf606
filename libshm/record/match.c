/* match.c — ETS-style patterns: checking them, and matching records against them. */
#include "record/match.h"

#include <string.h>

#include "record/term_order.h"

int sc_pattern_compile(const sc_cache *c, const sc_tuple *pattern, struct sc_pattern *pat)
{
	uint64_t seen[(SC_MAX_CAPTURE + 64) / 64] = { 0 };
	uint32_t kp = c->seg.cfg.key_pos, max_capture = 0;

	sc_check_arg(pattern, -EINVAL, "pattern is NULL");
	if (pattern->nfields == 0 || pattern->nfields > SC_MAX_FIELDS || !pattern->fields)
		return sc_fail(-EINVAL, "pattern has %u fields%s; a pattern has 1 to %u", pattern->nfields,
			       pattern->fields ? "" : " at a NULL pointer", SC_MAX_FIELDS);
	pat->t = pattern;
	pat->ncaptures = 0;
	pat->key_bound = false;
	pat->key_pos = kp;
	pat->key_by_value = c->seg.cfg.table_type == SC_ORDERED_SET;
	for (uint32_t i = 0; i < pattern->nfields; i++) {
		const sc_field *f = &pattern->fields[i];
		int err;

		if (f->type == SC_FIELD_ANY)
			continue;
		if (f->type == SC_FIELD_CAPTURE) {
			if (f->v.i < 1 || f->v.i > (int64_t)SC_MAX_CAPTURE)
				return sc_fail(-EINVAL,
					       "pattern field %u captures $%lld; captures are $1 to $%u", i,
					       (long long)f->v.i, SC_MAX_CAPTURE);
			seen[f->v.i / 64] |= 1ull << (f->v.i % 64);
			if ((uint32_t)f->v.i > max_capture)
				max_capture = (uint32_t)f->v.i;
			continue;
		}
		err = sc_field_check_at(f, "pattern field", i);
		if (err)
			return err;
	}
	/* Captures are reported in ascending number: rank each number used. */
	for (uint32_t n = 1; n <= max_capture; n++)
		if (seen[n / 64] & (1ull << (n % 64)))
			pat->rank[n] = (uint8_t)pat->ncaptures++;
	if (kp < pattern->nfields && pattern->fields[kp].type <= SC_FIELD_BYTES) {
		pat->key_bound = true;
		sc_route_key(c, &pattern->fields[kp], &pat->key);
	}
	return 0;
}

int sc_pattern_match(const struct sc_pattern *pat, const uint8_t *rec, uint32_t len, sc_field *scratch,
		     sc_field *caps)
{
	uint32_t n = pat->t->nfields, pos = sizeof(struct sc_blk);
	uint8_t bound[(SC_MAX_CAPTURE + 8) / 8] = { 0 };

	/* ETS matches only tuples of the pattern's size. */
	if (len < pos || ((const struct sc_blk *)rec)->nfields != n)
		return 0;
	/* Field by field, so that most records are turned down at their first differing field. */
	for (uint32_t i = 0; i < n; i++) {
		const sc_field *want = &pat->t->fields[i];
		uint32_t k;

		if (sc_rec_next_field(rec, len, &pos, &scratch[i]))
			return -EUCLEAN;
		if (want->type == SC_FIELD_ANY)
			continue;
		if (want->type != SC_FIELD_CAPTURE) {
			bool same = pat->key_by_value && i == pat->key_pos
					    ? sc_term_cmp(want, &scratch[i]) == 0
					    : sc_field_equal(want, &scratch[i]);
			if (!same)
				return 0;
			continue;
		}
		/* A capture's first field binds it; every later one must hold the same value. */
		k = pat->rank[want->v.i];
		if (bound[k / 8] & (1u << (k % 8))) {
			if (!sc_field_equal(&caps[k], &scratch[i]))
				return 0;
		} else {
			bound[k / 8] |= (uint8_t)(1u << (k % 8));
			caps[k] = scratch[i];
		}
	}
	return 1;
}
