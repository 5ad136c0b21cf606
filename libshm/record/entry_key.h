/* entry_key.h — the key of a structure entry: its kind, its owner, its own part; and its route. */
#ifndef SC_ENTRY_KEY_H
#define SC_ENTRY_KEY_H

#include <string.h>

#include "record/tuple_codec.h"
#include "shm/cache.h"

/*
 * An entry is a record of two fields, its key (bytes) and its value, in one
 * of the structure partitions (shm/cache.h): hashed, one entry per key,
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

/*
 * The kind (enum sc_entry_kind) of the structure entry stored as the
 * record rec[0, len): its key's first byte; 0 when the record has no such
 * key (damaged, or not a structure entry).
 */
uint8_t sc_rec_entry_kind(const uint8_t *rec, uint32_t len);

/*
 * Whether the entries of kind keep one record per key in cache c. Queue,
 * stack and Struct entries always do. KeyValue entries follow the table
 * type, as the seed's KeyValue does: one value per key on a set or an
 * ordered_set, distinct values on a bag, every value on a duplicate_bag.
 */
static inline bool sc_entry_kind_is_unique(const sc_cache *c, uint8_t kind)
{
	return kind != SC_ENTRY_KV || c->seg.cfg.table_type == SC_SET ||
	       c->seg.cfg.table_type == SC_ORDERED_SET;
}

/* The kind of the entry whose key a structure partition's route names: its first byte, 0 if empty. */
static inline uint8_t sc_route_entry_kind(const struct sc_route *route)
{
	return route->key_len ? ((const uint8_t *)route->key_payload)[0] : 0;
}

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

#endif /* SC_ENTRY_KEY_H */
