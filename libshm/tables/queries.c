/* queries.c — pattern matches and scans over one partition or all, each inside a read section. */
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"
#include "index/hit_list.h"
#include "mem/rcu.h"
#include "record/match.h"
#include "record/tuple_codec.h"
#include "shm/probes.h"
#include "tables/query.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "tables/views.h"

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

/* An ordered_set holds one record per key: a bound key is one lookup. */
static int ordered_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_hit_fn fn, void *ctx)
{
	struct sc_hit hit;
	int r = sc_bt_find(c, p, key, &hit);

	if (r == 1) {
		r = fn(c, &hit, ctx);
		if (r >= 0)
			r = 1;
	}
	return r;
}

int sc_query_walk(sc_cache *c, struct sc_part *p, const struct sc_pattern *pat, sc_hit_fn fn, void *ctx)
{
	bool ordered = c->seg.cfg.table_type == SC_ORDERED_SET;

	if (pat && pat->key_bound)
		return ordered ? ordered_find(c, p, &pat->key, fn, ctx)
			       : sc_index_find_each(c, p, &pat->key, fn, ctx);
	return ordered ? sc_bt_for_each(c, p, fn, ctx) : sc_index_for_each(c, p, fn, ctx);
}

int sc_matcher_init(struct sc_matcher *m, const struct sc_pattern *pat)
{
	size_t need = pat->t->nfields + pat->ncaptures;

	m->pat = pat;
	m->scratch = need <= SC_MATCHER_INLINE ? m->inline_fields : malloc(need * sizeof(sc_field));
	if (!m->scratch)
		return sc_fail(-ENOMEM, "out of memory matching a pattern of %u fields", pat->t->nfields);
	m->caps = m->scratch + pat->t->nfields;
	return 0;
}

void sc_matcher_free(struct sc_matcher *m)
{
	if (m->scratch != m->inline_fields)
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
 * Add the collected matches to the result, in their order, as shape says:
 * their captures, all their fields, or their key then their captures.
 */
static int add_matches(sc_cache *c, struct match_run *run, enum sc_match_shape shape, struct sc_builder *b)
{
	const struct sc_pattern *pat = run->m.pat;
	sc_field keyed[1 + SC_MATCHER_INLINE];
	int err = 0;

	if (shape == SC_MATCH_KEYED_CAPTURES && pat->ncaptures + 1 > sizeof(keyed) / sizeof(*keyed))
		return sc_fail(-E2BIG,
			       "a match read by mode over several partitions takes at most %u captures",
			       SC_MATCHER_INLINE);
	for (size_t i = 0; err >= 0 && i < run->hits.n; i++) {
		const struct sc_hit *hit = &run->hits.v[i];

		if (!sc_rec_intact(c->seg.base + hit->rec_off, hit->rec_len))
			return sc_rec_not_intact(c, hit->rec_off);
		err = sc_matcher_test(c, &run->m, hit);
		if (err == 1 && shape == SC_MATCH_OBJECTS) {
			err = sc_builder_add(b, run->m.scratch, pat->t->nfields);
		} else if (err == 1 && shape == SC_MATCH_KEYED_CAPTURES) {
			keyed[0] = run->m.scratch[c->seg.cfg.key_pos];
			memcpy(keyed + 1, run->m.caps, pat->ncaptures * sizeof(*keyed));
			err = sc_builder_add(b, keyed, pat->ncaptures + 1);
		} else if (err == 1) {
			err = sc_builder_add(b, run->m.caps, pat->ncaptures);
		} else if (err == 0) { /* it matched a moment ago: only a scribbler changes a record */
			err = sc_fail(-EUCLEAN, "cache \"%s\": a record changed while it was read", c->name);
		}
	}
	return err < 0 ? err : 0;
}

static int by_key(const void *a, const void *b, void *c)
{
	int cmp = 0;

	/* A malformed record sorts anywhere: adding it to the result reports it. */
	sc_bt_cmp_records(c, a, NULL, b, NULL, &cmp);
	return cmp;
}

/*
 * An ordered_set over several partitions: one read section keeps every
 * partition's matches readable until they are sorted into key order.
 */
static int match_ordered(sc_cache *c, struct sc_reader *r, uint32_t first, uint32_t end,
			 struct match_run *run, enum sc_match_shape shape, struct sc_builder *b)
{
	int err = 0;

	sc_rcu_enter(c, r);
	sc_hits_init(&run->hits);
	for (uint32_t i = first; err >= 0 && i < end; i++)
		err = sc_query_walk(c, sc_part_at(c, i), run->m.pat, collect_match, run);
	if (err >= 0) {
		qsort_r(run->hits.v, run->hits.n, sizeof(*run->hits.v), by_key, c);
		err = add_matches(c, run, shape, b);
	}
	sc_hits_free(&run->hits);
	sc_rcu_exit(r);
	return err < 0 ? err : 0;
}

/* Partition by partition, each in its own read section; a bag's tuples of one key in put order. */
static int match_partitions(sc_cache *c, struct sc_reader *r, uint32_t first, uint32_t end,
			    struct match_run *run, enum sc_match_shape shape, struct sc_builder *b)
{
	int err = 0;

	if (c->seg.cfg.table_type == SC_ORDERED_SET && end - first > 1)
		return match_ordered(c, r, first, end, run, shape, b);
	for (uint32_t i = first; err >= 0 && i < end; i++) {
		sc_rcu_enter(c, r);
		sc_hits_init(&run->hits);
		err = sc_query_walk(c, sc_part_at(c, i), run->m.pat, collect_match, run);
		if (err >= 0 &&
		    (c->seg.cfg.table_type == SC_BAG || c->seg.cfg.table_type == SC_DUPLICATE_BAG))
			sc_hits_sort(&run->hits);
		if (err >= 0)
			err = add_matches(c, run, shape, b);
		sc_hits_free(&run->hits);
		sc_rcu_exit(r);
	}
	return err < 0 ? err : 0;
}

/* The matches of pattern in partitions [first, end), shaped, into *out: how many, or a negative errno. */
static int match_range(sc_cache *c, uint32_t first, uint32_t end, const sc_tuple *pattern,
		       enum sc_match_shape shape, sc_tuples **out)
{
	struct match_run run = { 0 };
	struct sc_builder b;
	struct sc_pattern pat;
	struct sc_reader *r;
	size_t found;
	int err;

	sc_builder_init(&b);
	err = sc_pattern_compile(c, pattern, &pat);
	if (!err)
		err = sc_reader_of(c, &r);
	if (!err)
		err = sc_matcher_init(&run.m, &pat);
	if (err)
		return err;
	err = match_partitions(c, r, first, end, &run, shape, &b);
	sc_matcher_free(&run.m);
	found = b.ntuples;
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	err = sc_builder_finish(&b, out);
	return err ? err : (int)found;
}

static int run_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern, bool objects,
		     sc_tuples **out)
{
	uint32_t first, end;
	int err;

	sc_check_arg(out, -EINVAL, "%s: out is NULL", objects ? "sc_get_by_match_object" : "sc_get_by_match");
	*out = NULL;
	err = sc_cache_check(c);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (!err && !sc_ryw_local_range(c, first, end))
		return SC_RYW_BY_PRIMARY(
			objects ? sc_get_by_match_object_with(c, partition_data, pattern, &sc_by_primary, out)
				: sc_get_by_match_with(c, partition_data, pattern, &sc_by_primary, out));
	return err ? err
		   : match_range(c, first, end, pattern, objects ? SC_MATCH_OBJECTS : SC_MATCH_CAPTURES, out);
}

static int collect_any(sc_cache *c, const struct sc_hit *hit, void *hits)
{
	return sc_hits_push(c, hits, hit);
}

/* Every tuple of partition idx, in the order a scan visits them, into *out. */
static int every_tuple_in(sc_cache *c, uint32_t idx, sc_tuples **out)
{
	struct sc_hit_list hits;
	struct sc_reader *r;
	int err = sc_reader_of(c, &r);

	if (err)
		return err;
	sc_rcu_enter(c, r);
	sc_hits_init(&hits);
	err = sc_query_walk(c, sc_part_at(c, idx), NULL, collect_any, &hits);
	if (err >= 0 && (c->seg.cfg.table_type == SC_BAG || c->seg.cfg.table_type == SC_DUPLICATE_BAG))
		sc_hits_sort(&hits);
	if (err >= 0)
		err = sc_results_copy(c, hits.v, hits.n, out);
	if (err >= 0)
		err = (int)hits.n;
	sc_hits_free(&hits);
	sc_rcu_exit(r);
	return err;
}

int sc_match_in_part(sc_cache *c, uint32_t idx, const sc_tuple *pattern, enum sc_match_shape shape,
		     sc_tuples **out)
{
	*out = NULL;
	if (idx >= c->seg.cfg.num_partition)
		return sc_fail(-ERANGE, "partition index %u (cache \"%s\" has %u)", idx, c->name,
			       c->seg.cfg.num_partition);
	return shape == SC_MATCH_ALL ? every_tuple_in(c, idx, out)
				     : match_range(c, idx, idx + 1, pattern, shape, out);
}

static int do_get_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
			   sc_tuples **out)
{
	return run_match(c, partition_data, pattern, false, out);
}

SC_EXPORT int sc_get_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
			      sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_MATCH, do_get_by_match(c, partition_data, pattern, out));
}

static int do_get_by_match_object(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
				  sc_tuples **out)
{
	return run_match(c, partition_data, pattern, true, out);
}

SC_EXPORT int sc_get_by_match_object(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern,
				     sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_MATCH, do_get_by_match_object(c, partition_data, pattern, out));
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

/* Several partitions' walks in one key order: a min-heap of walks, ordered by their current keys. */
struct merge {
	sc_cache *c;
	struct sc_bt_iter *its;
	uint32_t *heap; /* indexes into its */
	uint32_t n;
	int err; /* a record that could not be compared */
};

static bool before(struct merge *m, uint32_t a, uint32_t b)
{
	const uint8_t *pa, *pb;
	struct sc_hit ha, hb;
	int cmp = 0;

	if (!m->err)
		m->err = sc_bt_current(&m->its[a], &ha, &pa);
	if (!m->err)
		m->err = sc_bt_current(&m->its[b], &hb, &pb);
	if (!m->err)
		m->err = sc_bt_cmp_records(m->c, &ha, pa, &hb, pb, &cmp);
	return cmp < 0;
}

static void sift_down(struct merge *m, uint32_t at)
{
	for (;;) {
		uint32_t l = 2 * at + 1, r = l + 1, min = at, t;

		if (l < m->n && before(m, m->heap[l], m->heap[min]))
			min = l;
		if (r < m->n && before(m, m->heap[r], m->heap[min]))
			min = r;
		if (min == at)
			return;
		t = m->heap[at];
		m->heap[at] = m->heap[min];
		m->heap[min] = t;
		at = min;
	}
}

/*
 * An ordered_set over several partitions: each partition's walk is in key
 * order already; the heap hands out the smallest current key of them all.
 * One read section for the whole scan.
 */
static int scan_ordered(sc_cache *c, struct sc_reader *r, uint32_t first, uint32_t end, struct scan_run *run)
{
	struct merge m = { c, malloc((end - first) * sizeof(*m.its)),
			   malloc((end - first) * sizeof(uint32_t)), 0, 0 };
	int visited = 0, err = 0;

	if (!m.its || !m.heap)
		err = sc_fail(-ENOMEM, "out of memory merging %u partitions", end - first);
	sc_rcu_enter(c, r);
	for (uint32_t i = 0; !err && i < end - first; i++) {
		err = sc_bt_first(c, sc_part_at(c, first + i), &m.its[m.n]);
		if (err == 1) {
			m.heap[m.n] = m.n;
			m.n++;
		}
		err = err < 0 ? err : 0;
	}
	for (uint32_t i = m.n / 2; !err && i-- > 0;)
		sift_down(&m, i);
	while (!err && !m.err && m.n && !run->stopped) {
		struct sc_hit hit;
		uint32_t top = m.heap[0];

		err = sc_bt_current(&m.its[top], &hit, NULL);
		if (!err) {
			visited++;
			err = scan_record(c, &hit, run);
			err = err < 0 ? err : 0;
		}
		if (!err) {
			err = sc_bt_next(&m.its[top]);
			if (err == 0)
				m.heap[0] = m.heap[--m.n];
			err = err < 0 ? err : 0;
			sift_down(&m, 0);
		}
	}
	sc_rcu_exit(r);
	free(m.its);
	free(m.heap);
	err = err ? err : m.err;
	return err ? err : visited;
}

static int do_scan(sc_cache *c, const sc_field *partition_data, sc_scan_fn fn, void *acc)
{
	struct scan_run run = { fn, acc, 0 };
	uint32_t first, end;
	struct sc_reader *r;
	int visited = 0;
	int err;

	sc_check_arg(fn, -EINVAL, "sc_scan: fn is NULL");
	err = sc_cache_check(c);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (!err && !sc_ryw_local_range(c, first, end))
		return SC_RYW_BY_PRIMARY(sc_scan_with(c, partition_data, fn, acc, &sc_by_primary));
	if (!err)
		err = sc_reader_of(c, &r);
	if (!err && c->seg.cfg.table_type == SC_ORDERED_SET && end - first > 1)
		return scan_ordered(c, r, first, end, &run);
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

SC_EXPORT int sc_scan(sc_cache *c, const sc_field *partition_data, sc_scan_fn fn, void *acc)
{
	return SC_TRACED(c, SC_OP_SCAN, do_scan(c, partition_data, fn, acc));
}
