/* deletes.c — removing tuples: by key, by partition-addressed key, and everything. */
#include "block_alloc.h"
#include "hash_index.h"
#include "limbo.h"
#include "partition.h"
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
	n = sc_index_remove(c, p, route, retire_deleted, NULL);
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
