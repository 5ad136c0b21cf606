/* kv_list.c — KeyValue listings: a namespace's keys, values, pairs and count, from every structure partition. */
#include <stdlib.h>
#include <string.h>

#include "record/term_order.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/kv.h"
#include "tables/read_every.h"
#include "tables/read_modes.h"
#include "tables/results.h"

/* Which parts of each pair a listing returns. */
enum listing { KEYS = 1, VALUES = 2, PAIRS = 3 };

/*
 * A walk's listing. A set's is built as found (index order). Any other
 * table type's pairs are collected whole, with each one's version, and
 * ordered once the walk is over: by key (an ordered_set's order), a key's
 * values oldest first (a bag's).
 */
struct list_walk {
	struct sc_builder b;
	enum listing what; /* what b gets: the listing's, or PAIRS to order */
	uint64_t *versions;
	size_t nversions, cap;
};

static int list_pair(const sc_field *own, const sc_field *value, uint64_t version, void *ctx)
{
	struct list_walk *w = ctx;
	sc_field pair[2];

	if (w->cap && w->nversions == w->cap) {
		uint64_t *v = realloc(w->versions, 2 * w->cap * sizeof(*v));

		if (!v)
			return sc_fail(-ENOMEM, "out of memory for a listing of %zu pairs", w->nversions);
		w->versions = v;
		w->cap *= 2;
	}
	if (w->cap)
		w->versions[w->nversions++] = version;
	if (w->what == VALUES)
		return sc_builder_add(&w->b, value, 1);
	if (sc_entry_own_field(own, &pair[0]))
		return sc_fail(-EUCLEAN, "a KeyValue entry's key is malformed");
	pair[1] = *value;
	return sc_builder_add(&w->b, pair, w->what == PAIRS ? 2 : 1);
}

/* Pairs being ordered: by key, then by version (or, without versions, as they came). */
struct ordering {
	const sc_tuples *pairs;
	const uint64_t *versions;
};

static int by_key(const void *a, const void *b, void *ctx)
{
	const struct ordering *o = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const sc_field *x = &o->pairs->tuples[i].fields[0], *y = &o->pairs->tuples[j].fields[0];
	uint64_t u = o->versions ? o->versions[i] : i, v = o->versions ? o->versions[j] : j;
	int r = sc_term_cmp(x, y);

	/* Keys the order calls equal that are not the same key (1 and 1.0) stay apart. */
	if (!r && !sc_field_equal(x, y))
		r = x->type != y->type ? (x->type > y->type) - (x->type < y->type)
				       : memcmp(&x->v, &y->v, sizeof(x->v));
	return r ? r : (u > v) - (u < v);
}

/*
 * The listing what of pairs ((key, value) tuples, a key's values in the
 * order they were written, or in versions' order), ordered as the table
 * type says, each key once in a listing of keys: into *out. How many.
 */
static int order_listing(sc_cache *c, enum listing what, const sc_tuples *pairs, const uint64_t *versions,
			 sc_tuples **out)
{
	const size_t n = pairs ? pairs->count : 0;
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	struct ordering o = { pairs, versions };
	const sc_field *last = NULL;
	struct sc_builder b;
	int listed;
	int err = order ? 0 : sc_fail(-ENOMEM, "out of memory for a listing of %zu pairs", n);

	for (size_t i = 0; !err && i < n; i++) {
		order[i] = i;
		if (pairs->tuples[i].nfields != 2)
			err = sc_fail(-EPROTO, "a KeyValue listing's part sent a tuple of %u fields",
				      pairs->tuples[i].nfields);
	}
	if (!err && c->seg.cfg.table_type != SC_SET)
		qsort_r(order, n, sizeof(*order), by_key, &o);
	sc_builder_init(&b);
	for (size_t i = 0; !err && i < n; i++) {
		const sc_field *f = pairs->tuples[order[i]].fields;

		if (what == KEYS && last && sc_field_equal(last, &f[0]))
			continue;
		last = &f[0];
		err = sc_builder_add(&b, f + (what == VALUES), what == PAIRS ? 2 : 1);
	}
	free(order);
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	listed = (int)b.ntuples;
	return sc_builder_finish(&b, out) ?: listed;
}

/* The namespace's entries in structure partitions [first, end), listed as what says, into *out. */
static int list_in(sc_cache *c, const char *kv, enum listing what, uint32_t first, uint32_t end,
		   sc_tuples **out)
{
	const bool ordered = c && c->seg.cfg.table_type != SC_SET;
	struct list_walk w = { .what = ordered ? PAIRS : what, .cap = ordered ? 64 : 0 };
	sc_tuples *pairs = NULL;
	struct sc_entry_key k;
	int n;
	int err;

	sc_check_arg(out, -EINVAL, "out is NULL");
	err = sc_kv_key(c, kv, NULL, &k);
	if (!err && ordered && !(w.versions = malloc(w.cap * sizeof(*w.versions))))
		err = sc_fail(-ENOMEM, "out of memory for a listing");
	if (err) {
		sc_entry_key_free(&k);
		return err;
	}
	*out = NULL;
	sc_builder_init(&w.b);
	n = sc_entries_for_each_in(c, &k, first, end, list_pair, &w);
	sc_entry_key_free(&k);
	if (n < 0) {
		sc_builder_free(&w.b);
	} else if (!ordered) {
		err = sc_builder_finish(&w.b, out);
	} else if (!(err = sc_builder_finish(&w.b, &pairs))) {
		n = order_listing(c, what, pairs, w.versions, out);
		sc_tuples_free(pairs);
	}
	free(w.versions);
	return err ? err : n;
}

static int list_with(sc_cache *c, const char *kv, enum listing what, const sc_read_opts *opts,
		     sc_tuples **out);

/* Every structure partition's entries, from this host's copy unless it lacks this handle's writes. */
static int list(sc_cache *c, const char *kv, enum listing what, sc_tuples **out)
{
	const uint32_t n = c ? c->seg.cfg.num_partition : 0;

	if (c && !sc_ryw_local_range(c, n, 2 * n))
		return SC_RYW_BY_PRIMARY(list_with(c, kv, what, &sc_by_primary, out));
	return list_in(c, kv, what, 0, n, out);
}

/* A listing's part, here: t is (structure partition index, namespace); its pairs. */
static int list_part_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	const uint32_t idx = (uint32_t)t->fields[0].v.i;
	char *kv = strndup(t->fields[1].v.p, t->fields[1].len); /* a forwarded name has no NUL */
	int n = kv ? list_in(c, kv, PAIRS, idx, idx + 1, out)
		   : sc_fail(-ENOMEM, "out of memory for a KeyValue namespace's name");

	free(kv);
	return n;
}

int sc_kv_list_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out)
{
	*out = NULL;
	if (t->nfields != 2 || t->fields[1].type != SC_FIELD_BYTES)
		return sc_fail(-EPROTO, "a KeyValue listing's part is not (index, namespace)");
	return sc_structure_part_read(c, opts, t, SC_FWD_READ_KV_PART, list_part_here, out);
}

/*
 * A listing (or, with out NULL, a count) with a read mode: from this
 * host's copy, or each partition's pairs read by the mode and listed here.
 */
static int list_with(sc_cache *c, const char *kv, enum listing what, const sc_read_opts *opts,
		     sc_tuples **out)
{
	sc_tuples *pairs = NULL;
	int n, err = sc_read_opts_check(c, opts);

	if (out)
		*out = NULL;
	if (!err)
		sc_check_arg(kv, -EINVAL, "KeyValue namespace is NULL");
	if (err)
		return err;
	if (sc_read_is_local(c, opts))
		return out ? list(c, kv, what, out) : sc_kv_count(c, kv);
	n = sc_read_partitions(c, opts, 0, c->seg.cfg.num_partition, sc_kv_list_part_with,
			       &(sc_tuple){ 1, (sc_field[]){ sc_str(kv) } }, &pairs);
	if (n < 0 || !out) {
		sc_tuples_free(pairs);
		return n;
	}
	/* Each part's pairs come ordered, a key's values oldest first: that order is kept. */
	n = order_listing(c, what, pairs, NULL, out);
	sc_tuples_free(pairs);
	return n;
}

SC_EXPORT int sc_kv_keys_with(sc_cache *c, const char *kv, const sc_read_opts *opts, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	return SC_TRACED(c, SC_OP_KV_KEYS, list_with(c, kv, KEYS, opts, out));
}

SC_EXPORT int sc_kv_values_with(sc_cache *c, const char *kv, const sc_read_opts *opts, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	return SC_TRACED(c, SC_OP_KV_VALUES, list_with(c, kv, VALUES, opts, out));
}

SC_EXPORT int sc_kv_to_list_with(sc_cache *c, const char *kv, const sc_read_opts *opts, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	return SC_TRACED(c, SC_OP_KV_TO_LIST, list_with(c, kv, PAIRS, opts, out));
}

SC_EXPORT int sc_kv_count_with(sc_cache *c, const char *kv, const sc_read_opts *opts)
{
	return SC_TRACED(c, SC_OP_KV_COUNT, list_with(c, kv, PAIRS, opts, NULL));
}

static int do_kv_keys(sc_cache *c, const char *kv, sc_tuples **out)
{
	return list(c, kv, KEYS, out);
}

SC_EXPORT int sc_kv_keys(sc_cache *c, const char *kv, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_KEYS, do_kv_keys(c, kv, out));
}

static int do_kv_values(sc_cache *c, const char *kv, sc_tuples **out)
{
	return list(c, kv, VALUES, out);
}

SC_EXPORT int sc_kv_values(sc_cache *c, const char *kv, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_VALUES, do_kv_values(c, kv, out));
}

static int do_kv_to_list(sc_cache *c, const char *kv, sc_tuples **out)
{
	return list(c, kv, PAIRS, out);
}

SC_EXPORT int sc_kv_to_list(sc_cache *c, const char *kv, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_TO_LIST, do_kv_to_list(c, kv, out));
}

static int count_one(const sc_field *own, const sc_field *value, uint64_t version, void *ctx)
{
	(void)own;
	(void)value;
	(void)version;
	(void)ctx;
	return 0;
}

static int do_kv_count(sc_cache *c, const char *kv)
{
	struct sc_entry_key k;
	int err;

	if (c && !sc_ryw_local_range(c, c->seg.cfg.num_partition, 2 * c->seg.cfg.num_partition))
		return SC_RYW_BY_PRIMARY(list_with(c, kv, PAIRS, &sc_by_primary, NULL));
	err = sc_kv_key(c, kv, NULL, &k);

	if (!err)
		err = sc_entries_for_each(c, &k, count_one, NULL);
	sc_entry_key_free(&k);
	return err;
}

SC_EXPORT int sc_kv_count(sc_cache *c, const char *kv)
{
	return SC_TRACED(c, SC_OP_KV_COUNT, do_kv_count(c, kv));
}
