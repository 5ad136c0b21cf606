/* read_every.c — reads over several partitions made by a read mode: matches and scans, and what puts the partitions' answers together. */
#include <stdlib.h>
#include <string.h>

#include "forward/forward_codec.h"
#include "record/term_order.h"
#include "shm/probes.h"
#include "tables/query.h"
#include "tables/read_every.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "write/partition.h"

/*
 * A read over every partition with SC_READ_PRIMARY or SC_READ_QUORUM is
 * made partition by partition, each as a read of one partition is
 * (read_modes.c): its primary answers, or a majority of its replicas. So
 * each partition's part has the guarantee of its mode; the whole is not
 * one snapshot of the cache (as the local call's is not either: a write to
 * another partition during the read may or may not be in it). An
 * ordered_set's answer is put back into key order.
 */

int sc_read_partitions(sc_cache *c, const sc_read_opts *opts, uint32_t first, uint32_t end,
		       sc_part_read_fn part, const sc_tuple *args, sc_tuples **out)
{
	sc_field *f = malloc((args->nfields + 1) * sizeof(*f));
	struct sc_builder b;
	int err = 0;

	*out = NULL;
	if (!f)
		return sc_fail(-ENOMEM, "out of memory for a read over %u partitions", end - first);
	if (args->nfields)
		memcpy(f + 1, args->fields, args->nfields * sizeof(*f));
	sc_builder_init(&b);
	for (uint32_t i = first; !err && i < end; i++) {
		sc_tuples *got = NULL;
		int n;

		f[0] = sc_int(i);
		n = part(c, opts, &(sc_tuple){ args->nfields + 1, f }, &got);
		for (size_t k = 0; n >= 0 && got && k < got->count; k++)
			n = sc_builder_add(&b, got->tuples[k].fields, got->tuples[k].nfields);
		err = n < 0 ? n : 0;
		sc_tuples_free(got);
	}
	free(f);
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	err = (int)b.ntuples;
	return sc_builder_finish(&b, out) ?: err;
}

struct by_field {
	const sc_tuple *t;
	uint32_t key;
};

static int cmp_by_field(const void *a, const void *b, void *ctx)
{
	const struct by_field *k = ctx;
	const sc_tuple *ta = &k->t[*(const size_t *)a], *tb = &k->t[*(const size_t *)b];

	if (k->key >= ta->nfields || k->key >= tb->nfields)
		return (k->key < ta->nfields) - (k->key < tb->nfields);
	return sc_term_cmp(&ta->fields[k->key], &tb->fields[k->key]);
}

int sc_results_sort_by_key(sc_tuples **t, uint32_t key, bool strip_key)
{
	const size_t n = *t ? (*t)->count : 0;
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	struct by_field k = { n ? (*t)->tuples : NULL, key };
	struct sc_builder b;
	int err = 0;

	if (!order)
		return sc_fail(-ENOMEM, "out of memory ordering %zu tuples", n);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_by_field, &k);
	sc_builder_init(&b);
	for (size_t i = 0; !err && i < n; i++) {
		const sc_tuple *one = &k.t[order[i]];
		const uint32_t skip = strip_key && one->nfields ? 1 : 0;

		err = sc_builder_add(&b, one->fields + skip, one->nfields - skip);
	}
	free(order);
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	sc_tuples_free(*t);
	*t = NULL;
	return sc_builder_finish(&b, t);
}

/* Whether t[0] is a partition index of c's. */
static bool names_partition(const sc_cache *c, const sc_tuple *t)
{
	return t->nfields >= 1 && t->fields[0].type == SC_FIELD_INT && t->fields[0].v.i >= 0 &&
	       t->fields[0].v.i < c->seg.cfg.num_partition;
}

int sc_structure_part_read(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, uint32_t call,
			   sc_read_here_fn here, sc_tuples **out)
{
	*out = NULL;
	if (!names_partition(c, t))
		return sc_fail(-EPROTO, "a read's part names no partition of cache \"%s\"", c->name);
	if (sc_read_is_local(c, opts))
		return here(c, t, out);
	return sc_read_by_mode(c, opts, sc_structure_part_at(c, (uint32_t)t->fields[0].v.i), call, here, t,
			       out);
}

/* A match's part, here: t is (index, shape, pattern fields...). */
static int match_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	const sc_tuple pattern = { t->nfields - 2, t->fields + 2 };

	return sc_match_in_part(c, (uint32_t)t->fields[0].v.i, &pattern,
				(enum sc_match_shape)t->fields[1].v.i, out);
}

int sc_match_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out)
{
	*out = NULL;
	if (!names_partition(c, t) || t->nfields < 2 || t->fields[1].type != SC_FIELD_INT ||
	    t->fields[1].v.i < 0 || t->fields[1].v.i > SC_MATCH_SHAPE_MAX)
		return sc_fail(-EPROTO, "a match's part names no partition of cache \"%s\" or no shape",
			       c->name);
	if (sc_read_is_local(c, opts))
		return match_here(c, t, out);
	return sc_read_by_mode(c, opts, sc_part_at(c, (uint32_t)t->fields[0].v.i), SC_FWD_READ_MATCH_PART,
			       match_here, t, out);
}

/*
 * A match (objects or captures) by mode over the partitions partition_data
 * picks. An ordered_set's over several partitions comes back in key order:
 * captures come with their tuple's key first, which the sort then drops.
 */
static int match_with(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern, bool objects,
		      const sc_read_opts *opts, sc_tuples **out)
{
	struct sc_pattern pat;
	uint32_t first, end;
	sc_field *args;
	bool merge;
	int err, n;

	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	err = sc_read_opts_check(c, opts);
	if (!err && sc_read_is_local(c, opts))
		return objects ? sc_get_by_match_object(c, partition_data, pattern, out)
			       : sc_get_by_match(c, partition_data, pattern, out);
	if (!err)
		err = sc_pattern_compile(c, pattern, &pat);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (err)
		return err;
	merge = c->seg.cfg.table_type == SC_ORDERED_SET && end - first > 1;
	args = malloc((pattern->nfields + 1) * sizeof(*args));
	if (!args)
		return sc_fail(-ENOMEM, "out of memory for a match over %u partitions", end - first);
	args[0] = sc_int(objects ? SC_MATCH_OBJECTS : merge ? SC_MATCH_KEYED_CAPTURES : SC_MATCH_CAPTURES);
	memcpy(args + 1, pattern->fields, pattern->nfields * sizeof(*args));
	n = sc_read_partitions(c, opts, first, end, sc_match_part_with,
			       &(sc_tuple){ pattern->nfields + 1, args }, out);
	free(args);
	if (n >= 0 && merge)
		err = sc_results_sort_by_key(out, objects ? c->seg.cfg.key_pos : 0, !objects);
	if (err) {
		sc_tuples_free(*out);
		*out = NULL;
		return err;
	}
	return n;
}

SC_EXPORT int sc_get_by_match_with(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
				   const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_MATCH, match_with(c, partition_data, pattern, false, opts, out));
}

SC_EXPORT int sc_get_by_match_object_with(sc_cache *c, const sc_field *partition_data,
					  const sc_tuple *pattern, const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_MATCH, match_with(c, partition_data, pattern, true, opts, out));
}

/* sc_scan() by mode: the partitions' tuples fetched by their mode (in key order for an ordered_set), then folded. */
static int scan_with(sc_cache *c, const sc_field *partition_data, sc_scan_fn fn, void *acc,
		     const sc_read_opts *opts)
{
	const sc_field all = sc_int(SC_MATCH_ALL);
	uint32_t first, end;
	sc_tuples *got = NULL;
	int err, n, visited = 0;

	sc_check_arg(fn, -EINVAL, "sc_scan_with: fn is NULL");
	err = sc_read_opts_check(c, opts);
	if (!err && sc_read_is_local(c, opts))
		return sc_scan(c, partition_data, fn, acc);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (err)
		return err;
	n = sc_read_partitions(c, opts, first, end, sc_match_part_with, &(sc_tuple){ 1, (sc_field *)&all },
			       &got);
	if (n >= 0 && c->seg.cfg.table_type == SC_ORDERED_SET && end - first > 1)
		n = sc_results_sort_by_key(&got, c->seg.cfg.key_pos, false) ?: n;
	for (size_t i = 0; n >= 0 && got && i < got->count; i++) {
		int r = fn(&got->tuples[i], acc);

		visited++;
		if (r) {
			n = r < 0 ? r : n;
			break;
		}
	}
	sc_tuples_free(got);
	return n < 0 ? n : visited;
}

SC_EXPORT int sc_scan_with(sc_cache *c, const sc_field *partition_data, sc_scan_fn fn, void *acc,
			   const sc_read_opts *opts)
{
	return SC_TRACED(c, SC_OP_SCAN, scan_with(c, partition_data, fn, acc, opts));
}
