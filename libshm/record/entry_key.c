/* entry_key.c — the key of a structure entry: its kind, its owner, its own part; and its route. */
#include "record/entry_key.h"

#include <stdlib.h>

#include "shm/error.h"

/*
 * memcpy() kept a library call. Copying into k->room, whose size it knows,
 * GCC inlines memcpy as rep movsq, whose start-up cost is a fifth of a
 * KeyValue increment on a CPU without fast short rep movs; the library's
 * copies of a few bytes take a few moves.
 */
static __attribute__((noinline)) void copy_bytes(uint8_t *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

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
	sc_check_arg(name, -EINVAL, "%s is NULL", what);
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
		copy_bytes(k->bytes + k->len, p, n);
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

uint8_t sc_rec_entry_kind(const uint8_t *rec, uint32_t len)
{
	sc_field key;

	if (sc_rec_field(rec, len, 0, &key) || key.type != SC_FIELD_BYTES || key.len == 0)
		return 0;
	return ((const uint8_t *)key.v.p)[0];
}
