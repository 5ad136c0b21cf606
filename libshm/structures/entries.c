/* entries.c — the structure partitions, where KeyValue, queues, stacks and Struct keep their entries. */
#include "structures/entries.h"

#include <stdlib.h>
#include <string.h>

#include "mem/rcu.h"
#include "shm/probes.h"
#include "write/partition.h"
#include "write/record_store.h"

static int sc_entry_key_init_raw(struct sc_entry_key *k, uint8_t kind, const void *owner, uint8_t n)
{
	uint8_t head[2] = { kind, n };
	int err;

	k->bytes = k->room;
	k->cap = sizeof(k->room);
	k->len = 0;
	err = sc_entry_key_append(k, head, sizeof(head));
	if (!err)
		err = sc_entry_key_append(k, owner, n);
	k->prefix_len = k->len;
	return err;
}

int sc_entry_key_init(struct sc_entry_key *k, uint8_t kind, const char *name, const char *what)
{
	size_t n = name ? strnlen(name, SC_ENTRY_OWNER_MAX + 1) : 0;

	k->bytes = k->room;
	k->cap = sizeof(k->room);
	k->len = k->prefix_len = 0;
	if (!name)
		return sc_fail(-EINVAL, "%s is NULL", what);
	if (n == 0 || n > SC_ENTRY_OWNER_MAX)
		return sc_fail(-EINVAL, "%s \"%.32s%s\" has %s bytes; a name has 1 to %u", what, name,
			       n > 32 ? "..." : "", n ? "too many" : "no", SC_ENTRY_OWNER_MAX);
	return sc_entry_key_init_raw(k, kind, name, (uint8_t)n);
}

/* Room for n more bytes at k->bytes + k->len. */
static int reserve(struct sc_entry_key *k, size_t n)
{
	if (n > SC_MAX_FIELD_BYTES - k->len)
		return sc_fail(-E2BIG, "key of %zu bytes; a key holds at most %u", n,
			       SC_MAX_FIELD_BYTES - k->prefix_len);
	if (k->len + n > k->cap) {
		uint32_t cap = (uint32_t)(k->len + n) * 2 > SC_MAX_FIELD_BYTES ? SC_MAX_FIELD_BYTES
									       : (uint32_t)(k->len + n) * 2;
		uint8_t *b = malloc(cap);

		if (!b)
			return sc_fail(-ENOMEM, "out of memory for a key of %zu bytes", k->len + n);
		memcpy(b, k->bytes, k->len);
		if (k->bytes != k->room)
			free(k->bytes);
		k->bytes = b;
		k->cap = cap;
	}
	return 0;
}

int sc_entry_key_append(struct sc_entry_key *k, const void *p, size_t n)
{
	int err = reserve(k, n);

	if (err)
		return err;
	if (n)
		memcpy(k->bytes + k->len, p, n);
	k->len += (uint32_t)n;
	return 0;
}

int sc_entry_key_append_field(struct sc_entry_key *k, const sc_field *key, const char *what)
{
	int err = sc_field_check(key, what);

	if (!err)
		err = reserve(k, sc_entry_field_size(key));
	if (err)
		return err;
	sc_entry_field_put(k->bytes + k->len, key);
	k->len += sc_entry_field_size(key);
	return 0;
}

void sc_entry_key_free(struct sc_entry_key *k)
{
	if (k->bytes != k->room)
		free(k->bytes);
	k->bytes = k->room;
}

int sc_entry_own_field(const sc_field *own, sc_field *key)
{
	const uint8_t *b = own->v.p;

	if (own->type != SC_FIELD_BYTES || own->len < 1)
		return -EUCLEAN;
	key->type = b[0];
	if (key->type == SC_FIELD_BYTES) {
		key->len = own->len - 1;
		key->v.p = b + 1;
		return 0;
	}
	if ((key->type != SC_FIELD_INT && key->type != SC_FIELD_DOUBLE) || own->len != 9)
		return -EUCLEAN;
	key->len = 8;
	memcpy(&key->v, b + 1, 8);
	return 0;
}

void sc_entry_route_bytes(const sc_cache *c, const uint8_t *bytes, uint32_t len, sc_field *key,
			  struct sc_route *route)
{
	uint32_t n = c->seg.cfg.num_partition;

	*key = sc_bytes(bytes, len);
	memset(route, 0, sizeof(*route));
	route->key_hash = sc_field_hash(key);
	route->partition = n + (uint32_t)(((route->key_hash >> 32) * n) >> 32);
	route->key_word = SC_FIELD_BYTES | len << SC_FIELD_TYPE_BITS;
	route->key_payload = bytes;
	route->key_len = len;
	route->key_pos = 0;
	route->key = key;
}

void sc_entry_route(const sc_cache *c, const struct sc_entry_key *k, sc_field *key, struct sc_route *route)
{
	sc_entry_route_bytes(c, k->bytes, k->len, key, route);
}

int sc_entry_put(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		 uint64_t deadline)
{
	sc_field fields[2] = { *route->key, *value };
	sc_tuple t = { 2, fields };
	uint32_t len;
	int err = sc_record_len(c, fields, 2, &len);

	return err ? err : sc_put_record(c, p, &t, route, len, deadline);
}

int sc_entry_remove(sc_cache *c, struct sc_part *p, const struct sc_route *route)
{
	return sc_index_remove(c, p, route, NULL, NULL, sc_retire_removed, NULL);
}

int sc_entry_put_locking(sc_cache *c, const struct sc_route *route, const sc_field *value, uint64_t deadline)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = sc_entry_put(c, p, route, value, deadline);
	sc_part_unlock(c, p);
	return err;
}

int sc_entry_remove_locking(sc_cache *c, const struct sc_route *route)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = sc_entry_remove(c, p, route);
	sc_part_unlock(c, p);
	return err;
}

static int keep_hit(sc_cache *c, const struct sc_hit *hit, void *out)
{
	(void)c;
	*(struct sc_hit *)out = *hit;
	return 1;
}

/*
 * An entry's key is in its partition once: the first record found is it.
 * Not sc_index_find(), which stays the tuple get's own, inlined there.
 */
int sc_entry_find(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit *hit)
{
	int r = sc_index_find_each(c, p, route, keep_hit, hit);

	return r > 0 ? 1 : r;
}

/* Both fields of an entry's record, in place; -EUCLEAN (with a message) unless it is one. */
static int entry_fields(sc_cache *c, const struct sc_hit *hit, sc_field out[2])
{
	const uint8_t *rec = c->seg.base + hit->rec_off;

	if (!sc_rec_intact(rec, hit->rec_len))
		return sc_rec_not_intact(c, hit->rec_off);
	if (sc_read(&((const struct sc_blk *)rec)->nfields) != 2 ||
	    sc_rec_decode(rec, hit->rec_len, 2, out) || out[0].type != SC_FIELD_BYTES)
		return sc_fail(-EUCLEAN, "cache \"%s\": structure entry at %llu is malformed", c->name,
			       (unsigned long long)hit->rec_off);
	return 0;
}

int sc_entry_value(sc_cache *c, const struct sc_hit *hit, sc_field *value)
{
	sc_field f[2];
	int err = entry_fields(c, hit, f);

	if (!err)
		*value = f[1];
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
	r = w->fn(&own, &f[1], w->ctx);
	return r < 0 ? r : 0;
}

int sc_entries_for_each(sc_cache *c, const struct sc_entry_key *prefix, sc_entry_fn fn, void *ctx)
{
	struct prefix_walk w = { prefix, fn, ctx, 0 };
	struct sc_reader *r;
	int err = sc_reader_of(c, &r);

	for (uint32_t i = 0; !err && i < c->seg.cfg.num_partition; i++) {
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

int sc_entries_remove_all(sc_cache *c, const struct sc_entry_key *prefix)
{
	int total = 0, n = 0;

	for (uint32_t i = 0; n >= 0 && i < c->seg.cfg.num_partition; i++) {
		struct sc_part *p = sc_structure_part_at(c, i);
		struct sc_index_cursor cur = { 0, 0, false };

		while (n >= 0 && !cur.done) {
			n = sc_part_lock(c, p);
			if (n)
				break;
			n = sc_index_remove_step(c, p, &cur, remove_prefixed, (void *)prefix,
						 sc_retire_removed, NULL);
			sc_part_unlock(c, p);
			if (n > 0)
				total += n;
		}
	}
	return n < 0 ? n : total;
}
