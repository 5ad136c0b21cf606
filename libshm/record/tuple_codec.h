/* tuple_codec.h — tuples in and out of records: validation, hashing, encoding, bounded decoding. */
#ifndef SC_TUPLE_CODEC_H
#define SC_TUPLE_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shm/cache.h"

/*
 * Where a tuple goes and how to recognise its key in a record: the key's
 * hash, its partition, and the key field as it is encoded in a record (the
 * header word, then the payload), so that matching a record is one word
 * compare and one memcmp.
 */
struct sc_route {
	uint64_t key_hash;
	uint32_t partition;
	uint32_t key_word;	 /* the key field's encoded header */
	const void *key_payload; /* its payload: the bytes, or the 8 bytes of the number */
	uint32_t key_len;	 /* payload bytes */
	uint32_t key_pos;	 /* the record field that holds the key */
	const sc_field *key;	 /* the key itself, for an ordered index's full comparisons */
	uint8_t prefix[16];	 /* ordered_set only: its order-preserving prefix (record/term_order.h) */
};

/*
 * Check a tuple to be stored: every field, and enough fields for key_pos
 * (and partition_pos, unless the caller picks the partition). On success
 * *enc_len is the size of its record.
 */
int sc_tuple_check_put(const sc_cache *c, const sc_tuple *t, bool needs_partition_field, uint32_t *enc_len);

/*
 * The size of the record of n checked fields in *enc_len, or -E2BIG if the
 * cache cannot hold a record so large: a structure's entry, whose fields
 * its maker has checked, whatever key_pos says.
 */
int sc_record_len(const sc_cache *c, const sc_field *fields, uint32_t n, uint32_t *enc_len);

/* Check a tuple used to look a key up: only its key and partition fields matter. */
int sc_tuple_check_key(const sc_cache *c, const sc_tuple *t);

/* Check one value field given on its own; what names it in the message ("key"). */
int sc_field_check(const sc_field *f, const char *what);

/* The same for field i of something: what and i name it in the message ("pattern field 2"). */
int sc_field_check_at(const sc_field *f, const char *what, uint32_t i);

uint64_t sc_field_hash(const sc_field *f);

/* The partition partition_data picks. */
uint32_t sc_partition_of(const sc_cache *c, const sc_field *partition_data);

/* Route a checked key field; its partition is the one the key itself picks. */
void sc_route_key(const sc_cache *c, const sc_field *key, struct sc_route *r);

/* Route a checked tuple: its key, and the partition its partition_pos field picks. */
void sc_tuple_route(const sc_cache *c, const sc_tuple *t, struct sc_route *r);

/* Check a tuple used to look a key up, and route it. */
static inline int sc_tuple_check_route(const sc_cache *c, const sc_tuple *t, struct sc_route *r)
{
	int err = sc_tuple_check_key(c, t);

	if (!err)
		sc_tuple_route(c, t, r);
	return err;
}

/* Check and route a key to the partition partition_data picks, or the key's own if it is NULL. */
int sc_route_key_in(const sc_cache *c, const sc_field *key, const sc_field *partition_data,
		    struct sc_route *r);

/* 0 if idx names one of the tuple partitions, else -ERANGE (with a message). */
int sc_partition_idx_check(const sc_cache *c, uint32_t idx);

/* Check and route a key to partition idx: -ERANGE unless idx < num_partition. */
int sc_route_key_at(const sc_cache *c, const sc_field *key, uint32_t idx, struct sc_route *r);

/* Write t's fields into a record of the size sc_tuple_check_put() gave; set hash and checksum. */
void sc_rec_encode(struct sc_blk *rec, const sc_tuple *t, uint32_t hash32);

/*
 * Decode the field at *pos of a record of len bytes, and move *pos past it.
 * The record may be shared memory another process scribbles on: its header
 * is read once and everything is checked against len. 0 or -EUCLEAN.
 */
static inline int sc_rec_next_field(const uint8_t *rec, uint32_t len, uint32_t *pos, sc_field *out)
{
	uint32_t hdr, flen, type, size;

	if (len - *pos < SC_FIELD_HDR)
		return -EUCLEAN;
	memcpy(&hdr, rec + *pos, sizeof(hdr));
	type = hdr & ((1u << SC_FIELD_TYPE_BITS) - 1);
	flen = hdr >> SC_FIELD_TYPE_BITS;
	if (type == SC_FIELD_BYTES)
		size = (uint32_t)sc_align_up((uint64_t)flen + 1, 4);
	else if ((type == SC_FIELD_INT || type == SC_FIELD_DOUBLE) && flen == 8)
		size = 8;
	else
		return -EUCLEAN;
	if (len - *pos - SC_FIELD_HDR < size)
		return -EUCLEAN;
	out->type = type;
	out->len = flen;
	if (type == SC_FIELD_BYTES)
		out->v.p = rec + *pos + SC_FIELD_HDR;
	else
		memcpy(&out->v, rec + *pos + SC_FIELD_HDR, 8);
	*pos += SC_FIELD_HDR + size;
	return 0;
}

/*
 * Decode the fields of a record of len bytes at rec (header included) into
 * out[nfields]; byte fields point into rec. -EUCLEAN if they do not fit.
 */
int sc_rec_decode(const uint8_t *rec, uint32_t len, uint32_t nfields, sc_field *out);

/* Whether two value fields are the same term, as ETS's =:= (1 and 1.0 differ; so do 0.0 and -0.0). */
static inline bool sc_field_equal(const sc_field *a, const sc_field *b)
{
	if (a->type != b->type)
		return false;
	if (a->type != SC_FIELD_BYTES)
		return memcmp(&a->v, &b->v, 8) == 0;
	return a->len == b->len && (a->len == 0 || memcmp(a->v.p, b->v.p, a->len) == 0);
}

/* Decode field pos of a record of len bytes; -EUCLEAN if the record is malformed. */
int sc_rec_field(const uint8_t *rec, uint32_t len, uint32_t pos, sc_field *out);

/* Offset in a record of len bytes of its field pos, past the header; 0 if the record is malformed. */
uint32_t sc_rec_field_offset(const uint8_t *rec, uint32_t len, uint32_t pos);

/*
 * Equality of n bytes. Keys are mostly short: from 8 to 16 bytes this is
 * two overlapping word compares instead of a call to memcmp, and up to 32
 * (KeyValue and Struct keys carry their owner's name) twice that.
 */
static inline int sc_bytes_equal_8_16(const void *a, const void *b, uint32_t n)
{
	uint64_t x0, x1, y0, y1;

	memcpy(&x0, a, 8);
	memcpy(&y0, b, 8);
	memcpy(&x1, (const uint8_t *)a + n - 8, 8);
	memcpy(&y1, (const uint8_t *)b + n - 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

static inline int sc_bytes_equal(const void *a, const void *b, uint32_t n)
{
	if (n - 8u <= 8u) /* 8 to 16, the common case, with one compare */
		return sc_bytes_equal_8_16(a, b, n);
	if (n - 17u <= 15u)
		return sc_bytes_equal_8_16(a, b, 16) &&
		       sc_bytes_equal_8_16((const uint8_t *)a + n - 16, (const uint8_t *)b + n - 16, 16);
	return n == 0 ||
	       memcmp(a, b, n) == 0; /* an empty key's payload may be NULL, which memcmp may not see */
}

/*
 * 1 if field key_pos of the record of len bytes at rec is route's key, 0 if
 * not, -EUCLEAN if the record is malformed. rec may be shared memory that
 * another process scribbles on: every length is read once and checked.
 */
static inline int sc_rec_key_equals(const uint8_t *rec, uint32_t len, uint32_t key_pos,
				    const struct sc_route *r)
{
	uint32_t at = key_pos == 0 && len >= sizeof(struct sc_blk) ? sizeof(struct sc_blk)
								   : sc_rec_field_offset(rec, len, key_pos);
	uint32_t word;

	if (at == 0 || len - at < SC_FIELD_HDR)
		return -EUCLEAN;
	memcpy(&word, rec + at, sizeof(word));
	if (word != r->key_word)
		return 0;
	if (len - at - SC_FIELD_HDR < r->key_len)
		return -EUCLEAN;
	return sc_bytes_equal(rec + at + SC_FIELD_HDR, r->key_payload, r->key_len);
}

/* The checksum a record of len bytes should carry. */
uint32_t sc_rec_checksum(const struct sc_blk *rec, uint32_t len);

/*
 * Whether the len bytes at raw (a record in place, or a copy of one at any
 * alignment) carry the checksum of their contents. Every read checks a
 * record before it hands out a byte of it: a scribbled record is -EUCLEAN,
 * never a wrong answer. A copy is checked, not the original, so that what
 * was checked is what is returned.
 */
bool sc_rec_intact(const uint8_t *raw, uint32_t len);

/* -EUCLEAN, with a message naming the record at off whose checksum failed. */
int sc_rec_not_intact(const sc_cache *c, uint64_t off);

#endif /* SC_TUPLE_CODEC_H */
