/* entries.h — the structure partitions, where KeyValue, queues, stacks and Struct keep their entries. */
#ifndef SC_ENTRIES_H
#define SC_ENTRIES_H

#include "index/hash_index.h"
#include "record/tuple_codec.h"

/*
 * An entry is a record of two fields, its key (bytes) and its value, in one
 * of the structure partitions (cache.h): hashed, one entry per key,
 * whatever the cache's table_type, key_pos and partition_pos. Tuple
 * operations visit only the tuple partitions, so they never see an entry,
 * and the structure partitions have their own locks and counters.
 *
 * An entry's key starts with its kind and its owner's name, so that all the
 * entries of one namespace, queue or type share a prefix:
 *
 *     kind (1 byte) | owner length (1 byte) | owner | the entry's own part
 */
enum sc_entry_kind {
	SC_ENTRY_KV = 'K',     /* owner: the namespace; own part: the user's key (type byte, payload) */
	SC_ENTRY_QUEUE = 'Q',  /* a queue's header; value: its sequence block's offset */
	SC_ENTRY_STACK = 'S',  /* a stack's header, the same */
	SC_ENTRY_ITEM = 'I',   /* owner: its sequence block's offset; own part: its position */
	SC_ENTRY_TYPE = 'T',   /* a Struct type; value: its geometry */
	SC_ENTRY_STRUCT = 'R', /* owner: the type; own part: the struct's key member */
};

#define SC_ENTRY_OWNER_MAX  255u
#define SC_ENTRY_KEY_INLINE 96u

/* An entry's key being built: in its own room when short, else on the heap. */
struct sc_entry_key {
	uint8_t *bytes;
	uint32_t len, cap;
	uint32_t prefix_len; /* kind, owner length and owner */
	uint8_t room[SC_ENTRY_KEY_INLINE];
};

/*
 * Start a key of kind for the owner called name: 1 to 255 bytes, a C
 * string. what names the owner in errors ("queue name"). Whatever the
 * result, release k with sc_entry_key_free().
 */
int sc_entry_key_init(struct sc_entry_key *k, uint8_t kind, const char *name, const char *what);

/* Append n bytes to the own part. */
int sc_entry_key_append(struct sc_entry_key *k, const void *p, size_t n);

/* Bytes a checked user's key field takes in an entry key: its type byte, then its payload. */
static inline uint32_t sc_entry_field_size(const sc_field *key)
{
	return 1u + (key->type == SC_FIELD_BYTES ? key->len : 8u);
}

/* Write a checked user's key field at dst, sc_entry_field_size() bytes; sc_entry_own_field() reads it back. */
static inline void sc_entry_field_put(uint8_t *dst, const sc_field *key)
{
	dst[0] = (uint8_t)key->type;
	if (key->type == SC_FIELD_BYTES) {
		if (key->len)
			memcpy(dst + 1, key->v.p, key->len);
	} else {
		memcpy(dst + 1, &key->v, 8);
	}
}

/* Append a user's key field, checked (what names it in errors): its type byte, then its payload. */
int sc_entry_key_append_field(struct sc_entry_key *k, const sc_field *key, const char *what);

void sc_entry_key_free(struct sc_entry_key *k);

/* Turn an own part back into the user's key field it was made from; -EUCLEAN if it is no such thing. */
int sc_entry_own_field(const sc_field *own, sc_field *key);

/*
 * Route the key: to the structure partition its hash picks (route->partition
 * counts from the first tuple partition, so sc_part_at() finds it). key is
 * filled as the bytes field route points to: keep it as long as route.
 */
void sc_entry_route(const sc_cache *c, const struct sc_entry_key *k, sc_field *key, struct sc_route *route);

/* The same for a whole key of len bytes built elsewhere (a batch's). */
void sc_entry_route_bytes(const sc_cache *c, const uint8_t *bytes, uint32_t len, sc_field *key,
			  struct sc_route *route);

/*
 * Writer side, under p's lock: store value (checked by the caller) under the
 * routed key, replacing what was there; deadline as sc_put_record() takes it.
 */
int sc_entry_put(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		 uint64_t deadline);

/* Writer side, under p's lock: remove the routed key's entry. 1, 0 if there was none, or a negative errno. */
int sc_entry_remove(sc_cache *c, struct sc_part *p, const struct sc_route *route);

/* The same two, taking and releasing the routed partition's lock around them. */
int sc_entry_put_locking(sc_cache *c, const struct sc_route *route, const sc_field *value, uint64_t deadline);
int sc_entry_remove_locking(sc_cache *c, const struct sc_route *route);

/* Writer side, under p's lock, or reader side in a read section: find the entry. 1, 0, or -EUCLEAN. */
int sc_entry_find(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit *hit);

/* Decode the value of the entry hit names (pointing into the record). 0 or -EUCLEAN. */
int sc_entry_value(sc_cache *c, const struct sc_hit *hit, sc_field *value);

/*
 * Reader side: in a read section of its own, find the routed entry and, if
 * it is there, call fn on it. Returns 1 (found; fn's negative result
 * instead if it returned one), 0 if absent, or a negative errno.
 */
int sc_entry_read(sc_cache *c, const struct sc_route *route, sc_hit_fn fn, void *ctx);

/* Called on each entry of a walk, with its own part and its value, both in place. 0 goes on. */
typedef int (*sc_entry_fn)(const sc_field *own, const sc_field *value, void *ctx);

/*
 * Reader side: call fn on every entry whose key starts with prefix's
 * prefix, partition by partition, each inside a read section. Every entry
 * present for the whole walk is visited once. Returns how many were
 * visited, or a negative errno (fn's, if it returned one).
 */
int sc_entries_for_each(sc_cache *c, const struct sc_entry_key *prefix, sc_entry_fn fn, void *ctx);

/*
 * Remove every entry whose key starts with prefix's prefix, holding each
 * partition's lock for one index bucket at a time. Returns how many went.
 */
int sc_entries_remove_all(sc_cache *c, const struct sc_entry_key *prefix);

#endif /* SC_ENTRIES_H */
