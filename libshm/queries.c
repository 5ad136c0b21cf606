/* queries.c — pattern matches and scans over one partition or all, each inside a read section. */
#include <stdlib.h>

#include "hit_list.h"
#include "match.h"
#include "query.h"
#include "rcu.h"
#include "results.h"
#include "views.h"

int sc_query_range(const sc_cache *c, const sc_field *partition_data, uint32_t *first, uint32_t *end)
{
	int err;

	if (!partition_data) {
		*first = 0;
		*end = c->seg.cfg.num_partition;
		return 0;
	}
	err = sc_field_check(partition_data, "partition data");
	if (err)
		return err;
	*first = sc_partition_of(c, partition_data);
	*end = *first + 1;
	return 0;
}

int sc_query_walk(sc_cache *c, struct sc_part *p, const struct sc_pattern *pat, sc_hit_fn fn, void *ctx)
{
	if (pat && pat->key_bound)
		return sc_index_find_each(c, p, &pat->key, fn, ctx);
	return sc_index_for_each(c, p, fn, ctx);
}

int sc_matcher_init(struct sc_matcher *m, const struct sc_pattern *pat)
{
	m->pat = pat;
	m->scratch = malloc((pat->t->nfields + pat->ncaptures) * sizeof(sc_field));
	if (!m->scratch)
		return sc_fail(-ENOMEM, "out of memory matching a pattern of %u fields", pat->t->nfields);
	m->caps = m->scratch + pat->t->nfields;
	return 0;
}

void sc_matcher_free(struct sc_matcher *m)
{
	free(m->scratch);
}

int sc_matcher_test(sc_cache *c, struct sc_matcher *m, const struct sc_hit *hit)
{
	int r = sc_pattern_match(m->pat, c->seg.base + hit->rec_off, hit->rec_len, m->scratch, m->caps);

	if (r < 0)
		return sc_fail(-EUCLEAN, "cache \"%s\": record at %llu is malformed", c->name,
			       (unsigned long long)hit->rec_off);
	return r;
}

/* A match in progress over one partition: its matcher, and the records that matched so far. */
struct match_run {
	struct sc_matcher m;
	struct sc_hit_list hits;
};

static int collect_match(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct match_run *run = ctx;
	int r = sc_matcher_test(c, &run->m, hit);

	return r == 1 ? sc_hits_push(c, &run->hits, hit) : r;
}

/*
 * One partition, inside its read section: find the matches, put a bag's in
 * put order, and add each to the result (its captures, or all its fields)
 * while its record is still safe to read.
 */
static int match_partition(sc_cache *c, struct sc_part *p, struct match_run *run, bool objects,
			   struct sc_builder *b)
{
	const struct sc_pattern *pat = run->m.pat;
	int err;

	sc_hits_init(&run->hits);
	err = sc_query_walk(c, p, pat, collect_match, run);
	if (err >= 0 && c->seg.cfg.table_type != SC_SET)
		sc_hits_sort(&run->hits);
	for (size_t i = 0; err >= 0 && i < run->hits.n; i++) {
		err = sc_matcher_test(c, &run->m, &run->hits.v[i]);
		if (err == 1)
			err = objects ? sc_builder_add(b, run->m.scratch, pat->t->nfields)
				      : sc_builder_add(b, run->m.caps, pat->ncaptures);
		else if (err == 0) /* it matched a moment ago: only a scribbler changes a record */
			err = sc_fail(-EUCLEAN, "cache \"%s\": a record changed while it was read", c->name);
	}
	sc_hits_free(&run->hits);
	return err < 0 ? err : 0;
}

static int run_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern, bool objects,
		     sc_tuples **out)
{
	struct sc_builder b = { 0 };
	struct match_run run = { 0 };
	struct sc_pattern pat;
	struct sc_reader *r;
	uint32_t first, end;
	size_t found;
	int err;

	if (!out)
		return sc_fail(-EINVAL, "%s: out is NULL",
			       objects ? "sc_get_by_match_object" : "sc_get_by_match");
	*out = NULL;
	err = sc_cache_check(c);
	if (!err)
		err = sc_pattern_compile(c, pattern, &pat);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (!err)
		err = sc_reader_of(c, &r);
	if (!err)
		err = sc_matcher_init(&run.m, &pat);
	if (err)
		return err;
	for (uint32_t i = first; !err && i < end; i++) {
		sc_rcu_enter(c, r);
		err = match_partition(c, sc_part_at(c, i), &run, objects, &b);
		sc_rcu_exit(r);
	}
	sc_matcher_free(&run.m);
	found = b.ntuples;
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	err = sc_builder_finish(&b, out);
	return err ? err : (int)found;
}

SC_EXPORT int sc_get_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
			      sc_tuples **out)
{
	return run_match(c, partition_data, pattern, false, out);
}

SC_EXPORT int sc_get_by_match_object(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
				     sc_tuples **out)
{
	return run_match(c, partition_data, pattern, true, out);
}

struct scan_run {
	sc_scan_fn fn;
	void *acc;
	int stopped; /* fn's nonzero result */
};

static int scan_record(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct scan_run *run = ctx;

	run->stopped = sc_view_record(c, hit, run->fn, run->acc);
	return run->stopped;
}

SC_EXPORT int sc_scan(sc_cache *c, const sc_field *partition_data, sc_scan_fn fn, void *acc)
{
	struct scan_run run = { fn, acc, 0 };
	uint32_t first, end;
	struct sc_reader *r;
	int visited = 0;
	int err = sc_cache_check(c);

	if (!err && !fn)
		err = sc_fail(-EINVAL, "sc_scan: fn is NULL");
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (!err)
		err = sc_reader_of(c, &r);
	for (uint32_t i = first; !err && !run.stopped && i < end; i++) {
		int n;

		sc_rcu_enter(c, r);
		n = sc_query_walk(c, sc_part_at(c, i), NULL, scan_record, &run);
		sc_rcu_exit(r);
		if (n < 0)
			err = n;
		else
			visited += n;
	}
	return err ? err : visited;
}
