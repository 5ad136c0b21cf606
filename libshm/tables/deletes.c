/* deletes.c — removing tuples: by key, by partition-addressed key, by pattern, and everything. */
#include "tables/deletes.h"

#include "forward/forward_client.h"
#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/read_your_writes.h"
#include "mem/rcu.h"
#include "mem/record_accounts.h"
#include "mem/repl_log.h"
#include "record/entry_key.h"
#include "record/tuple_codec.h"
#include "shm/probes.h"
#include "tables/query.h"
#include "tables/results.h"
#include "write/partition.h"
#include "write/record_store.h"
/* Delete the routed key's tuples (all of them, in a bag); how many went. */
static int delete_routed(sc_cache *c, const struct sc_route *route)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int n;

	/* One key: its mark is the key's (the caller ends it, once a forwarded delete came back too). */
	sc_ryw_key_begin(c, route->key_hash);
	n = sc_part_lock(c, p);
	if (n)
		return n;
	if (c->seg.cfg.table_type == SC_ORDERED_SET)
		n = sc_bt_remove(c, p, route, NULL, NULL, sc_retire_removed, NULL);
	else
		n = sc_index_remove(c, p, route, NULL, NULL, sc_retire_removed, NULL);
	return (int)sc_write_result(n, sc_part_unlock_write(c, p));
}

static int do_delete(sc_cache *c, const sc_tuple *data)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_tuple_check_route(c, data, &route);
	err = err ? err : delete_routed(c, &route);
	return (int)sc_ryw_key_end(sc_forward_if_remote(err, c, SC_FWD_DELETE, 0, data, 1));
}

SC_EXPORT int sc_delete(sc_cache *c, const sc_tuple *data)
{
	return SC_TRACED(c, SC_OP_DELETE, do_delete(c, data));
}

static int do_delete_by_key_partition(sc_cache *c, sc_field key, sc_field partition_data)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_in(c, &key, &partition_data, &route);
	err = err ? err : delete_routed(c, &route);
	if (err == -EREMOTE) {
		const sc_field f[2] = { key, partition_data };

		err = sc_forward_if_remote(err, c, SC_FWD_DELETE_PARTITION, 0, &(sc_tuple){ 2, f }, 1);
	}
	return (int)sc_ryw_key_end(err);
}

SC_EXPORT int sc_delete_by_key_partition(sc_cache *c, sc_field key, sc_field partition_data)
{
	return SC_TRACED(c, SC_OP_DELETE, do_delete_by_key_partition(c, key, partition_data));
}

SC_EXPORT int sc_delete_partition(sc_cache *c, sc_field key, sc_field partition_data)
{
	return sc_delete_by_key_partition(c, key, partition_data);
}

static int do_delete_same_key_partition(sc_cache *c, sc_field key)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_in(c, &key, NULL, &route);
	err = err ? err : delete_routed(c, &route);
	return (int)sc_ryw_key_end(
		sc_forward_if_remote(err, c, SC_FWD_DELETE_PARTITION, 0, &(sc_tuple){ 1, &key }, 1));
}

SC_EXPORT int sc_delete_same_key_partition(sc_cache *c, sc_field key)
{
	return SC_TRACED(c, SC_OP_DELETE, do_delete_same_key_partition(c, key));
}

static int do_delete_partition_by_idx(sc_cache *c, sc_field key, uint32_t idx)
{
	struct sc_route route;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_route_key_at(c, &key, idx, &route);
	err = err ? err : delete_routed(c, &route);
	return (int)sc_ryw_key_end(
		sc_forward_if_remote(err, c, SC_FWD_DELETE_BY_IDX, idx, &(sc_tuple){ 1, &key }, 1));
}

SC_EXPORT int sc_delete_partition_by_idx(sc_cache *c, sc_field key, uint32_t idx)
{
	return SC_TRACED(c, SC_OP_DELETE, do_delete_partition_by_idx(c, key, idx));
}

static int matches(sc_cache *c, const struct sc_hit *hit, void *m)
{
	return sc_matcher_test(c, m, hit);
}

/* An ordered_set's matches of a bound key: there is one record at most. */
static int delete_ordered_key(sc_cache *c, struct sc_part *p, const struct sc_route *key,
			      struct sc_matcher *m)
{
	int n = sc_part_lock(c, p);

	if (n)
		return n;
	n = sc_bt_remove(c, p, key, matches, m, sc_retire_removed, NULL);
	return (int)sc_write_result(n, sc_part_unlock_write(c, p));
}

/* The keys of an ordered_set's matching records, copied out. */
struct key_collector {
	struct sc_matcher *m;
	struct sc_builder *keys;
};

static int collect_key(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct key_collector *run = ctx;
	int r = sc_matcher_test(c, run->m, hit);

	return r == 1 ? sc_builder_add(run->keys, &run->m->scratch[c->seg.cfg.key_pos], 1) : r;
}

/*
 * An ordered_set partition: find the matching keys in one read section,
 * then delete them one by one, each under the lock for as long as one
 * delete takes and only if its tuple still matches.
 */
static int delete_ordered(sc_cache *c, struct sc_part *p, struct sc_matcher *m)
{
	struct sc_builder b;
	struct key_collector run = { m, &b };
	struct sc_reader *r;
	sc_tuples *keys = NULL;
	int total = 0;
	int err = sc_reader_of(c, &r);

	if (err)
		return err;
	sc_builder_init(&b);
	sc_rcu_enter(c, r);
	err = sc_bt_for_each(c, p, collect_key, &run);
	sc_rcu_exit(r);
	err = err < 0 ? (sc_builder_free(&b), err) : sc_builder_finish(&b, &keys);
	for (size_t i = 0; !err && keys && i < keys->count; i++) {
		struct sc_route route;
		int n;

		sc_route_key(c, &keys->tuples[i].fields[0], &route);
		n = delete_ordered_key(c, p, &route, m);
		if (n < 0)
			err = n;
		else
			total += n;
	}
	sc_tuples_free(keys);
	return err ? err : total;
}

/* One partition: its key's records when the pattern binds the key, else bucket by bucket. */
static int delete_matches(sc_cache *c, struct sc_part *p, struct sc_matcher *m)
{
	struct sc_index_cursor cur = { 0, 0, false };
	int total = 0, n = 0;

	if (c->seg.cfg.table_type == SC_ORDERED_SET)
		return m->pat->key_bound ? delete_ordered_key(c, p, &m->pat->key, m)
					 : delete_ordered(c, p, m);
	while (n >= 0 && !cur.done) {
		n = sc_part_lock(c, p);
		if (n)
			break;
		if (m->pat->key_bound) {
			n = sc_index_remove(c, p, &m->pat->key, matches, m, sc_retire_removed, NULL);
			cur.done = true;
		} else {
			n = sc_index_remove_step(c, p, &cur, matches, m, sc_retire_removed, NULL);
		}
		n = (int)sc_write_result(n, sc_part_unlock_write(c, p));
		if (n > 0)
			total += n;
	}
	return n < 0 ? n : total;
}

/* Partition idx's matches deleted here, or by its primary when that is another node. */
static int delete_matches_in(sc_cache *c, const sc_tuple *pattern, struct sc_matcher *m, uint32_t idx)
{
	int n = delete_matches(c, sc_part_at(c, idx), m);

	return n == -EREMOTE ? sc_forward(c, SC_FWD_DELETE_MATCH_PART, idx, idx, pattern, 1) : n;
}

/* Over partitions [first, end): how many went, or the first error (each partition tried). */
static int delete_by_match_range(sc_cache *c, const sc_tuple *pattern, uint32_t first, uint32_t end)
{
	struct sc_matcher m = { 0 };
	struct sc_pattern pat;
	int total = 0, failed = 0, err = sc_pattern_compile(c, pattern, &pat);

	if (!err)
		err = sc_matcher_init(&m, &pat);
	for (uint32_t i = first; !err && i < end; i++)
		sc_tally(delete_matches_in(c, pattern, &m, i), &total, &failed);
	sc_matcher_free(&m);
	return err ? err : failed ? failed : total;
}

int sc_delete_by_match_part(sc_cache *c, const sc_tuple *pattern, uint32_t idx)
{
	return delete_by_match_range(c, pattern, idx, idx + 1);
}

static int do_delete_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern)
{
	uint32_t first, end;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_query_range(c, partition_data, &first, &end);
	return err ? err : delete_by_match_range(c, pattern, first, end);
}

SC_EXPORT int sc_delete_by_match(sc_cache *c, const sc_field *partition_data, const sc_tuple *pattern)
{
	return SC_TRACED(c, SC_OP_DELETE_MATCH, do_delete_by_match(c, partition_data, pattern));
}

/*
 * A queue's or stack's header entry names its sequence block, which no
 * index holds: it goes with the header, retired as the records are (readers
 * in the partition may still look at it).
 */
static void retire_sequence_block(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *unused)
{
	const struct sc_blk *rec = sc_blk_at(c, rec_off);
	const uint8_t kind = sc_rec_entry_kind((const uint8_t *)rec, rec->len);
	sc_field f[2];

	(void)unused;
	if ((kind != SC_ENTRY_QUEUE && kind != SC_ENTRY_STACK) || rec->nfields != 2 ||
	    sc_rec_decode((const uint8_t *)rec, rec->len, 2, f) || f[1].type != SC_FIELD_INT ||
	    f[1].v.i <= 0 || !sc_sequence_at(c, (uint64_t)f[1].v.i))
		return;
	sc_limbo_retire(c, p, (uint64_t)f[1].v.i);
}

int64_t sc_part_clear(sc_cache *c, struct sc_part *p)
{
	const bool structures = sc_part_index(c, p) >= c->seg.cfg.num_partition;
	int64_t n = sc_part_is_ordered(c, p)
			    ? sc_bt_clear(c, p)
			    : sc_index_clear(c, p, structures ? retire_sequence_block : NULL, NULL);

	if (n >= 0) {
		p->records = 0;
		p->bytes = 0;
		p->ttl_records = 0;
		p->deletes += (uint64_t)n;
		sc_repl_note_clear(c, p);
	}
	return n;
}

/* Partition idx (of the tuples, or its structure partition) emptied here, or by its primary when that is another node. */
int sc_clear_part(sc_cache *c, uint32_t idx, bool structures)
{
	struct sc_part *p = structures ? sc_structure_part_at(c, idx) : sc_part_at(c, idx);
	int64_t n;
	int err = sc_part_lock(c, p);

	if (err == -EREMOTE)
		return sc_forward(c, structures ? SC_FWD_CLEAR_STRUCTURES_PART : SC_FWD_CLEAR_PART, idx, idx,
				  NULL, 0);
	if (err)
		return err;
	n = sc_part_clear(c, p);
	n = sc_write_result(n, sc_part_unlock_write(c, p));
	return n < 0 ? (int)n : 0;
}

/* Every partition's tuples emptied, and with structures its structure partition's entries: 0, or the first error. */
static int clear_every_partition(sc_cache *c, bool structures)
{
	int cleared = 0, failed = 0, err = sc_cache_check(c);

	for (uint32_t i = 0; !err && i < c->seg.cfg.num_partition; i++) {
		sc_tally(sc_clear_part(c, i, false), &cleared, &failed);
		if (structures)
			sc_tally(sc_clear_part(c, i, true), &cleared, &failed);
	}
	return err ? err : failed;
}

SC_EXPORT int sc_delete_all(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_DELETE_ALL, clear_every_partition(c, false));
}

SC_EXPORT int sc_clear(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_CLEAR, clear_every_partition(c, true));
}
