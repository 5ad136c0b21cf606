/* deletes.c — removing tuples: by key, by partition-addressed key, by pattern, and everything. */
#include "block_alloc.h"
#include "hash_index.h"
#include "limbo.h"
#include "partition.h"
#include "query.h"
#include "tuple_codec.h"

/* A record a delete took out of the index: retire it and count it. */
static void retire_deleted(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *unused)
{
	(void)unused;
	p->bytes -= sc_block_size(sc_blk_at(c, rec_off));
	p->records--;
	p->deletes++;
	sc_limbo_retire(c, p, rec_off);
}

/* Delete the routed key's tuples (all of them, in a bag); how many went. */
static int delete_routed(sc_cache *c, const struct sc_route *route)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int n = sc_part_lock(p);

	if (n)
		return n;
	n = sc_index_remove(c, p, route, NULL, NULL, retire_deleted, NULL);
	sc_part_unlock(c, p);
	return n;
}

SC_EXPORT int sc_delete(sc_cache *c, const sc_tuple *data)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_tuple_check_key(c, data);
	if (err)
		return err;
	sc_tuple_route(c, data, &route);
	return delete_routed(c, &route);
}

SC_EXPORT int sc_delete_by_key_partition(sc_cache *c, sc_field key, sc_field partition_data)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_in(c, &key, &partition_data, &route);
	return err ? err : delete_routed(c, &route);
}

SC_EXPORT int sc_delete_partition(sc_cache *c, sc_field key, sc_field partition_data)
{
	return sc_delete_by_key_partition(c, key, partition_data);
}

SC_EXPORT int sc_delete_same_key_partition(sc_cache *c, sc_field key)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_in(c, &key, NULL, &route);
	return err ? err : delete_routed(c, &route);
}

SC_EXPORT int sc_delete_partition_by_idx(sc_cache *c, sc_field key, uint32_t idx)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_at(c, &key, idx, &route);
	return err ? err : delete_routed(c, &route);
}

static int matches(sc_cache *c, const struct sc_hit *hit, void *m)
{
	return sc_matcher_test(c, m, hit);
}

/* One partition: its key's records when the pattern binds the key, else bucket by bucket. */
static int delete_matches(sc_cache *c, struct sc_part *p, struct sc_matcher *m)
{
	struct sc_index_cursor cur = { 0, 0, false };
	int total = 0, n = 0;

	while (n >= 0 && !cur.done) {
		n = sc_part_lock(p);
		if (n)
			break;
		if (m->pat->key_bound) {
			n = sc_index_remove(c, p, &m->pat->key, matches, m, retire_deleted, NULL);
			cur.done = true;
		} else {
			n = sc_index_remove_step(c, p, &cur, matches, m, retire_deleted, NULL);
		}
		sc_part_unlock(c, p);
		if (n > 0)
			total += n;
	}
	return n < 0 ? n : total;
}

SC_EXPORT int sc_delete_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern)
{
	struct sc_matcher m = { 0 };
	struct sc_pattern pat;
	uint32_t first, end;
	int total = 0;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_pattern_compile(c, pattern, &pat);
	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	if (!err)
		err = sc_matcher_init(&m, &pat);
	for (uint32_t i = first; !err && i < end; i++) {
		int n = delete_matches(c, sc_part_at(c, i), &m);

		if (n < 0)
			err = n;
		else
			total += n;
	}
	sc_matcher_free(&m);
	return err ? err : total;
}

SC_EXPORT int sc_delete_all(sc_cache *c)
{
	int err = sc_cache_check(c);

	for (uint32_t i = 0; !err && i < c->seg.cfg.num_partition; i++) {
		struct sc_part *p = sc_part_at(c, i);
		int64_t n;

		err = sc_part_lock(p);
		if (err)
			break;
		n = sc_index_clear(c, p);
		if (n < 0) {
			err = (int)n;
		} else {
			p->records = 0;
			p->bytes = 0;
			p->deletes += (uint64_t)n;
		}
		sc_part_unlock(c, p);
	}
	return err;
}
