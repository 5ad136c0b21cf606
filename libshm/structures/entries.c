/* entries.c — writing and reading the entries KeyValue, queues, stacks and Struct keep in the structure partitions. */
#include "structures/entries.h"

#include <stdlib.h>
#include <string.h>

#include "forward/forward_client.h"
#include "index/hit_list.h"
#include "mem/rcu.h"
#include "mem/record_accounts.h"
#include "shm/probes.h"
#include "write/partition.h"
#include "write/record_store.h"

/* The entry (key, value) stored by its kind's rules, or (every) in place of every record of the key. */
static int entry_write(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		       uint64_t deadline, bool every)
{
	sc_field fields[2] = { *route->key, *value };
	sc_tuple t = { 2, fields };
	uint32_t len;
	int err = sc_record_len(c, fields, 2, &len);

	if (err)
		return err;
	return every ? sc_put_superseding(c, p, &t, route, len, deadline)
		     : sc_put_record(c, p, &t, route, len, deadline);
}

int sc_entry_put(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		 uint64_t deadline)
{
	return entry_write(c, p, route, value, deadline, false);
}

int sc_entry_supersede(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		       uint64_t deadline)
{
	return entry_write(c, p, route, value, deadline, true);
}

int sc_entry_supersede_locking(sc_cache *c, const struct sc_route *route, const sc_field *value,
			       uint64_t deadline)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = sc_entry_supersede(c, p, route, value, deadline);
	return (int)sc_write_result(err, sc_part_unlock_write(c, p));
}

int sc_entry_put_locking(sc_cache *c, const struct sc_route *route, const sc_field *value, uint64_t deadline)
{
	sc_field fields[2] = { *route->key, *value };
	sc_tuple t = { 2, fields };
	struct sc_put_item w = { &t, *route, 0, deadline };
	int err = sc_record_len(c, fields, 2, &w.len);

	return err ? err : sc_put_locking(c, &w);
}

int sc_entry_remove_locking(sc_cache *c, const struct sc_route *route)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = sc_entry_remove(c, p, route);
	return (int)sc_write_result(err, sc_part_unlock_write(c, p));
}

/*
 * Both fields of an entry's record, decoded in place without its checksum
 * (the decoder stays inside the record's length whatever its bytes say);
 * -EUCLEAN (with a message) unless it has their shape.
 */
static int decode_entry(sc_cache *c, const struct sc_hit *hit, sc_field out[2])
{
	const uint8_t *rec = c->seg.base + hit->rec_off;

	if (sc_read(&((const struct sc_blk *)rec)->nfields) != 2 ||
	    sc_rec_decode(rec, hit->rec_len, 2, out) || out[0].type != SC_FIELD_BYTES)
		return sc_fail(-EUCLEAN, "cache \"%s\": structure entry at %llu is malformed", c->name,
			       (unsigned long long)hit->rec_off);
	return 0;
}

/* The same, the record checked against its checksum first: what is decoded was written whole. */
static int entry_fields(sc_cache *c, const struct sc_hit *hit, sc_field out[2])
{
	if (!sc_rec_intact(c->seg.base + hit->rec_off, hit->rec_len))
		return sc_rec_not_intact(c, hit->rec_off);
	return decode_entry(c, hit, out);
}

int sc_entry_value(sc_cache *c, const struct sc_hit *hit, sc_field *value)
{
	sc_field f[2];
	int err = entry_fields(c, hit, f);

	if (!err)
		*value = f[1];
	return err;
}

int sc_entry_value_unverified(sc_cache *c, const struct sc_hit *hit, sc_field *value)
{
	sc_field f[2];
	int err = decode_entry(c, hit, f);

	if (!err)
		*value = f[1];
	return err;
}

int sc_entry_still_intact(sc_cache *c, const struct sc_hit *hit)
{
	return sc_rec_intact(c->seg.base + hit->rec_off, hit->rec_len) ? 0
								       : sc_rec_not_intact(c, hit->rec_off);
}

/* One checksum, over the record once its value is copied: a copy of anything else is taken back. */
int sc_entry_value_into(sc_cache *c, const struct sc_hit *hit, struct sc_builder *b)
{
	sc_field v;
	int err = sc_entry_value_unverified(c, hit, &v);

	if (!err)
		err = sc_builder_add(b, &v, 1);
	if (!err && (err = sc_entry_still_intact(c, hit)))
		sc_builder_drop_last(b);
	return err;
}

int sc_entry_read(sc_cache *c, const struct sc_route *route, sc_hit_fn fn, void *ctx)
{
	struct sc_reader *r;
	struct sc_hit hit;
	int found;
	int err = sc_reader_of(c, &r);

	if (err)
		return err;
	sc_trace_note_partition(route->partition);
	sc_rcu_enter(c, r);
	found = sc_entry_find(c, sc_part_at(c, route->partition), route, &hit);
	if (found == 1) {
		err = fn(c, &hit, ctx);
		if (err < 0)
			found = err;
	}
	sc_rcu_exit(r);
	return found;
}

int sc_entry_read_all(sc_cache *c, const struct sc_route *route, sc_hit_fn fn, void *ctx)
{
	struct sc_hit_list hl;
	struct sc_reader *r;
	int found;
	int err = sc_reader_of(c, &r);

	if (err)
		return err;
	sc_hits_init(&hl);
	sc_trace_note_partition(route->partition);
	sc_rcu_enter(c, r);
	found = sc_index_find_each(c, sc_part_at(c, route->partition), route, sc_hits_collect, &hl);
	sc_hits_sort(&hl);
	for (size_t i = 0; found > 0 && i < hl.n; i++) {
		err = fn(c, &hl.v[i], ctx);
		if (err < 0)
			found = err;
	}
	sc_rcu_exit(r);
	sc_hits_free(&hl);
	return found;
}

/* A walk over the entries under one prefix. */
struct prefix_walk {
	const struct sc_entry_key *prefix;
	sc_entry_fn fn;
	void *ctx;
	int visited;
};

/* 1 and the record's fields if its key has the prefix, 0 if not, -EUCLEAN. */
static int has_prefix(sc_cache *c, const struct sc_hit *hit, const struct sc_entry_key *prefix, sc_field f[2])
{
	int err = entry_fields(c, hit, f);

	if (err)
		return err;
	return f[0].len >= prefix->prefix_len && memcmp(f[0].v.p, prefix->bytes, prefix->prefix_len) == 0;
}

static int visit_prefixed(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct prefix_walk *w = ctx;
	sc_field f[2], own;
	int r = has_prefix(c, hit, w->prefix, f);

	if (r <= 0)
		return r;
	own = sc_bytes((const uint8_t *)f[0].v.p + w->prefix->prefix_len, f[0].len - w->prefix->prefix_len);
	w->visited++;
	r = w->fn(&own, &f[1], sc_read(&sc_blk_at(c, hit->rec_off)->version), w->ctx);
	return r < 0 ? r : 0;
}

int sc_entries_for_each(sc_cache *c, const struct sc_entry_key *prefix, sc_entry_fn fn, void *ctx)
{
	return sc_entries_for_each_in(c, prefix, 0, c->seg.cfg.num_partition, fn, ctx);
}

int sc_entries_for_each_in(sc_cache *c, const struct sc_entry_key *prefix, uint32_t first, uint32_t end,
			   sc_entry_fn fn, void *ctx)
{
	struct prefix_walk w = { prefix, fn, ctx, 0 };
	struct sc_reader *r;
	int err = sc_reader_of(c, &r);

	for (uint32_t i = first; !err && i < end; i++) {
		sc_rcu_enter(c, r);
		err = sc_index_for_each(c, sc_structure_part_at(c, i), visit_prefixed, &w);
		sc_rcu_exit(r);
		if (err > 0)
			err = 0;
	}
	return err ? err : w.visited;
}

static int remove_prefixed(sc_cache *c, const struct sc_hit *hit, void *prefix)
{
	sc_field f[2];

	return has_prefix(c, hit, prefix, f);
}

/* Structure partition idx's entries with the prefix removed here: how many went, or a negative errno. */
static int remove_prefixed_in(sc_cache *c, const struct sc_entry_key *prefix, uint32_t idx)
{
	struct sc_part *p = sc_structure_part_at(c, idx);
	struct sc_index_cursor cur = { 0, 0, false };
	int total = 0, n = 0;

	while (n >= 0 && !cur.done) {
		n = sc_part_lock(c, p);
		if (n)
			break;
		n = sc_index_remove_step(c, p, &cur, remove_prefixed, (void *)prefix, sc_retire_removed,
					 NULL);
		n = (int)sc_write_result(n, sc_part_unlock_write(c, p));
		if (n > 0)
			total += n;
	}
	return n < 0 ? n : total;
}

int sc_entries_remove_part(sc_cache *c, const struct sc_entry_key *prefix, uint32_t idx, uint16_t op,
			   const char *name)
{
	int n = remove_prefixed_in(c, prefix, idx);

	if (n == -EREMOTE) {
		const sc_field f = sc_str(name);

		n = sc_forward(c, op, idx, idx, &(sc_tuple){ 1, (sc_field *)&f }, 1);
	}
	return n;
}

int sc_entries_remove_all(sc_cache *c, const struct sc_entry_key *prefix, uint16_t op, const char *name)
{
	int total = 0, first = 0;

	for (uint32_t i = 0; i < c->seg.cfg.num_partition; i++)
		sc_tally(sc_entries_remove_part(c, prefix, i, op, name), &total, &first);
	return first ? first : total;
}
