/* tuple_codec.h — tuples in and out of records: validation, hashing, encoding, bounded decoding. */
#ifndef SC_TUPLE_CODEC_H
#define SC_TUPLE_CODEC_H

#include <stdint.h>

#include "cache.h"

/* Where a tuple goes: its key's hash and its partition. */
struct sc_route {
	uint64_t key_hash;
	uint32_t partition;
};

/*
 * Check a tuple to be stored: every field, and enough fields for key_pos and
 * partition_pos. On success *enc_len is the size of its record.
 */
int sc_tuple_check_put(const sc_cache *c, const sc_tuple *t, uint32_t *enc_len);

/* Check a tuple used to look a key up: only its key and partition fields matter. */
int sc_tuple_check_key(const sc_cache *c, const sc_tuple *t);

uint64_t sc_field_hash(const sc_field *f);

/* Route a checked tuple. */
void sc_tuple_route(const sc_cache *c, const sc_tuple *t, struct sc_route *r);

/* Write t's fields into a record of the size sc_tuple_check_put() gave; set hash and checksum. */
void sc_rec_encode(struct sc_blk *rec, const sc_tuple *t, uint32_t hash32);

/*
 * Decode the fields of a record of len bytes at rec (header included) into
 * out[nfields]; byte fields point into rec. -EUCLEAN if they do not fit.
 */
int sc_rec_decode(const uint8_t *rec, uint32_t len, uint32_t nfields, sc_field *out);

/* 1 if the record's field key_pos equals key, 0 if not, -EUCLEAN if the record is malformed. */
int sc_rec_key_equals(const uint8_t *rec, uint32_t len, uint32_t key_pos, const sc_field *key);

/* The checksum a record of len bytes should carry. */
uint32_t sc_rec_checksum(const struct sc_blk *rec, uint32_t len);

#endif /* SC_TUPLE_CODEC_H */
