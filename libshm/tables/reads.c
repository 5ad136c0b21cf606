/* reads.c — sc_get, sc_get_view and read sections: lock-free, system-call-free lookups. */
#include <stdlib.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "index/hit_list.h"
#include "mem/rcu.h"
#include "record/tuple_codec.h"
#include "shm/probes.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "tables/views.h"

SC_EXPORT int sc_read_begin(sc_cache *c)
{
	struct sc_reader *r;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_reader_of(c, &r);
	if (err)
		return err;
	sc_rcu_enter(c, r);
	return 0;
}

SC_EXPORT void sc_read_end(sc_cache *c)
{
	struct sc_reader *r;

	/* Only a section this thread opened can be closed: anything else is ignored. */
	if (sc_cache_check(c) == 0 && (r = sc_reader_find(c)) && r->nest > 0)
		sc_rcu_exit(r);
}

/* The per-slot counters are this thread's own: a plain increment, no atomic, no shared line. */
static inline void count_lookup(struct sc_reader *r, uint32_t partition, int found)
{
	struct sc_counter *ctr = &r->counters[partition];

	sc_write(&ctr->gets, sc_read(&ctr->gets) + 1);
	if (found > 0)
		sc_write(&ctr->hits, sc_read(&ctr->hits) + 1);
}

/* What a keyed read does with the records it found, oldest first, inside the read section. */
typedef int (*use_hits_fn)(sc_cache *c, const struct sc_hit *hits, size_t n, void *ctx);

/*
 * Every keyed read: enter a read section, probe, use the records, count the
 * lookup, leave. A set and an ordered_set have one record per key at most;
 * a bag's records are all collected and put in insertion order.
 * Inline and called with a constant use, so each caller compiles to a
 * straight path of its own. Returns the number of tuples found, or a
 * negative errno (use's, if it returned one).
 */
static inline int lookup_routed(sc_cache *c, const struct sc_route *route, use_hits_fn use, void *ctx)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	struct sc_hit_list hl;
	struct sc_reader *r;
	struct sc_hit hit;
	int found, rv = 0;
	int err = sc_reader_of(c, &r);

	if (err)
		return err;
	sc_trace_note_partition(route->partition);
	sc_rcu_enter(c, r);
	if (c->seg.cfg.table_type == SC_SET || c->seg.cfg.table_type == SC_ORDERED_SET) {
		found = c->seg.cfg.table_type == SC_SET ? sc_index_find(c, p, route, &hit)
							: sc_bt_find(c, p, route, &hit);
		if (found == 1)
			rv = use(c, &hit, 1, ctx);
	} else {
		sc_hits_init(&hl);
		found = sc_index_find_each(c, p, route, sc_hits_collect, &hl);
		if (found > 0) {
			sc_hits_sort(&hl);
			rv = use(c, hl.v, hl.n, ctx);
		}
		sc_hits_free(&hl);
	}
	count_lookup(r, route->partition, found);
	sc_rcu_exit(r);
	if (found < 0)
		return found;
	return rv < 0 ? rv : found;
}

static int copy_hits(sc_cache *c, const struct sc_hit *hits, size_t n, void *out)
{
	return sc_results_copy(c, hits, n, out);
}

/* Every copying get starts here: out must be there, and is NULL until something is found. */
static int begin_get(const char *fn, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "%s: out is NULL", fn);
	*out = NULL;
	return 0;
}

/*
 * Route data's key: 0 to read this host's copy, 1 when this handle's writes
 * to its partition are not in the copy yet (read-your-writes: the primary
 * answers), or a negative errno. Flattened: the checks, the hash and the
 * routing it calls are a dozen small functions across files, whose calls
 * cost a get more than their bodies (39 of 774 instructions, callgrind).
 */
static __attribute__((flatten)) int route_tuple(sc_cache *c, const sc_tuple *data, struct sc_route *route)
{
	int err = sc_cache_check(c);

	if (!err)
		err = sc_tuple_check_route(c, data, route);
	return err ? err : !sc_ryw_local_key(c, route->partition, route->key_hash);
}

static int do_get(sc_cache *c, const sc_tuple *data, sc_tuples **out)
{
	struct sc_route route;
	int err = begin_get("sc_get", out);

	if (!err)
		err = route_tuple(c, data, &route);
	if (err == 1)
		return SC_RYW_BY_PRIMARY(sc_get_with(c, data, &sc_by_primary, out));
	return err ? err : lookup_routed(c, &route, copy_hits, out);
}

SC_EXPORT int sc_get(sc_cache *c, const sc_tuple *data, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get(c, data, out));
}

/* The caller's buffer a get copies into, and what it reports. */
struct into {
	void *buf;
	size_t cap;
	const sc_tuples **out;
	size_t *need;
};

static int copy_hits_into(sc_cache *c, const struct sc_hit *hits, size_t n, void *ctx)
{
	const struct into *in = ctx;

	return sc_results_copy_into(c, hits, n, in->buf, in->cap, in->out, in->need);
}

/* The primary's answer (this host's copy lacks this handle's write), laid out in the buffer. */
static int get_into_by_primary(sc_cache *c, const sc_tuple *data, const struct into *in)
{
	sc_tuples *got = NULL;
	int n = SC_RYW_BY_PRIMARY(sc_get_with(c, data, &sc_by_primary, &got)), err = 0;

	if (n > 0)
		err = sc_results_place(got, in->buf, in->cap, in->out, in->need);
	sc_tuples_free(got);
	return n < 0 ? n : err ? err : n;
}

static int do_get_into(sc_cache *c, const sc_tuple *data, void *buf, size_t cap, const sc_tuples **out,
		       size_t *need)
{
	const struct into in = { buf, cap, out, need };
	struct sc_route route;
	int err;

	sc_check_arg(out, -EINVAL, "sc_get_into: out is NULL");
	*out = NULL;
	if (need)
		*need = 0;
	err = route_tuple(c, data, &route);
	if (err == 1)
		return get_into_by_primary(c, data, &in);
	return err ? err : lookup_routed(c, &route, copy_hits_into, (void *)&in);
}

SC_EXPORT int sc_get_into(sc_cache *c, const sc_tuple *data, void *buf, size_t cap, const sc_tuples **out,
			  size_t *need)
{
	return SC_TRACED(c, SC_OP_GET_INTO, do_get_into(c, data, buf, cap, out, need));
}

static int do_get_by_key_partition(sc_cache *c, sc_field key, sc_field partition_data, sc_tuples **out)
{
	struct sc_route route;
	int err = begin_get("sc_get_by_key_partition", out);

	if (!err)
		err = sc_cache_check(c);
	if (!err)
		err = sc_route_key_in(c, &key, &partition_data, &route);
	if (!err && !sc_ryw_local_key(c, route.partition, route.key_hash))
		return SC_RYW_BY_PRIMARY(
			sc_get_by_key_partition_with(c, key, partition_data, &sc_by_primary, out));
	return err ? err : lookup_routed(c, &route, copy_hits, out);
}

SC_EXPORT int sc_get_by_key_partition(sc_cache *c, sc_field key, sc_field partition_data, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_by_key_partition(c, key, partition_data, out));
}

SC_EXPORT int sc_get_partition(sc_cache *c, sc_field key, sc_field partition_data, sc_tuples **out)
{
	return sc_get_by_key_partition(c, key, partition_data, out);
}

static int do_get_same_key_partition(sc_cache *c, sc_field key, sc_tuples **out)
{
	struct sc_route route;
	int err = begin_get("sc_get_same_key_partition", out);

	if (!err)
		err = sc_cache_check(c);
	if (!err)
		err = sc_route_key_in(c, &key, NULL, &route);
	if (!err && !sc_ryw_local_key(c, route.partition, route.key_hash))
		return SC_RYW_BY_PRIMARY(sc_get_same_key_partition_with(c, key, &sc_by_primary, out));
	return err ? err : lookup_routed(c, &route, copy_hits, out);
}

SC_EXPORT int sc_get_same_key_partition(sc_cache *c, sc_field key, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_same_key_partition(c, key, out));
}

static int do_get_partition_by_idx(sc_cache *c, sc_field key, uint32_t idx, sc_tuples **out)
{
	struct sc_route route;
	int err = begin_get("sc_get_partition_by_idx", out);

	if (!err)
		err = sc_cache_check(c);
	if (!err)
		err = sc_route_key_at(c, &key, idx, &route);
	if (!err && !sc_ryw_local_key(c, route.partition, route.key_hash))
		return SC_RYW_BY_PRIMARY(sc_get_partition_by_idx_with(c, key, idx, &sc_by_primary, out));
	return err ? err : lookup_routed(c, &route, copy_hits, out);
}

SC_EXPORT int sc_get_partition_by_idx(sc_cache *c, sc_field key, uint32_t idx, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_partition_by_idx(c, key, idx, out));
}

struct visitor {
	sc_visit_fn fn;
	void *arg;
};

static int visit(sc_cache *c, const struct sc_hit *hits, size_t n, void *ctx)
{
	int rv = 0;

	for (size_t i = 0; i < n && rv == 0; i++)
		rv = sc_view_record(c, &hits[i], ((const struct visitor *)ctx)->fn,
				    ((const struct visitor *)ctx)->arg);
	return rv;
}

/* A view of copies the partition's primary sent: this host's copy lacks this handle's write (read-your-writes). */
static int view_by_primary(sc_cache *c, const sc_tuple *data, sc_visit_fn fn, void *arg)
{
	sc_tuples *got = NULL;
	int n = SC_RYW_BY_PRIMARY(sc_get_with(c, data, &sc_by_primary, &got)), rv = 0;

	for (size_t i = 0; n > 0 && i < got->count && rv == 0; i++)
		rv = fn(&got->tuples[i], arg);
	sc_tuples_free(got);
	return n < 0 ? n : rv < 0 ? rv : n;
}

static int do_get_view(sc_cache *c, const sc_tuple *data, sc_visit_fn fn, void *arg)
{
	struct visitor v = { fn, arg };
	struct sc_route route;
	int err;

	sc_check_arg(fn, -EINVAL, "sc_get_view: visitor is NULL");
	err = route_tuple(c, data, &route);
	if (err == 1)
		return view_by_primary(c, data, fn, arg);
	return err ? err : lookup_routed(c, &route, visit, &v);
}

SC_EXPORT int sc_get_view(sc_cache *c, const sc_tuple *data, sc_visit_fn fn, void *arg)
{
	return SC_TRACED(c, SC_OP_GET_VIEW, do_get_view(c, data, fn, arg));
}
