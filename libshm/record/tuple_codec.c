/* tuple_codec.c — tuples in and out of records: validation, hashing, encoding, bounded decoding. */
#include "record/tuple_codec.h"

#include <stdio.h>
#include <string.h>

#include "record/checksum.h"
#include "record/record_deadline.h"
#include "record/term_order.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Bytes a field takes in a record: its header and payload, a bytes payload NUL-padded to 4. */
static uint64_t field_size(const sc_field *f)
{
	if (f->type == SC_FIELD_BYTES)
		return SC_FIELD_HDR + sc_align_up((uint64_t)f->len + 1, 4);
	return SC_FIELD_HDR + 8;
}

static bool ordered(const sc_cache *c)
{
	return c->seg.cfg.table_type == SC_ORDERED_SET;
}

/* An ordered_set's keys must have a place in term order. */
static int check_orderable(const sc_cache *c, const sc_field *key)
{
	if (ordered(c) && sc_term_is_nan(key))
		return sc_fail(-EINVAL, "a NaN key has no place in an ordered_set's order");
	return 0;
}

/* Whether f is a valid value field (not a pattern's): the test every get and put makes, inline. */
static inline bool field_ok(const sc_field *f)
{
	if (f->type == SC_FIELD_BYTES)
		return f->len <= SC_MAX_FIELD_BYTES && (f->len == 0 || f->v.p);
	return f->type == SC_FIELD_INT || f->type == SC_FIELD_DOUBLE;
}

/* Why f is not a valid value field; what and i name it in the message ("field 3", "key"). */
static __attribute__((cold, noinline)) int field_error(const sc_field *f, const char *what, int64_t i)
{
	char name[48];

	snprintf(name, sizeof(name), i < 0 ? "%s" : "%s %lld", what, (long long)i);
	if (f->type == SC_FIELD_ANY || f->type == SC_FIELD_CAPTURE)
		return sc_fail(-EINVAL, "%s is a pattern field; only patterns may hold one", name);
	if (f->type != SC_FIELD_BYTES)
		return sc_fail(-EINVAL, "%s has unknown type %u", name, f->type);
	if (f->len > SC_MAX_FIELD_BYTES)
		return sc_fail(-E2BIG, "%s has %u bytes; a field holds at most %u", name, f->len,
			       SC_MAX_FIELD_BYTES);
	return sc_fail(-EINVAL, "%s has %u bytes at a NULL pointer", name, f->len);
}

static inline int check_field(const sc_field *f, const char *what, int64_t i)
{
	return field_ok(f) ? 0 : field_error(f, what, i);
}
int sc_field_check(const sc_field *f, const char *what)
{
	sc_check_arg(f, -EINVAL, "%s is NULL", what);
	return check_field(f, what, -1);
}

int sc_field_check_at(const sc_field *f, const char *what, uint32_t i)
{
	return check_field(f, what, i);
}

static int check_shape(const sc_cache *c, const sc_tuple *t, bool needs_partition_field)
{
	sc_check_arg(t, -EINVAL, "tuple is NULL");
	if (t->nfields == 0 || t->nfields > SC_MAX_FIELDS)
		return sc_fail(-EINVAL, "tuple has %u fields; a tuple has 1 to %u", t->nfields,
			       SC_MAX_FIELDS);
	sc_check_arg(t->fields, -EINVAL, "tuple has %u fields at a NULL pointer", t->nfields);
	if (t->nfields <= c->seg.cfg.key_pos)
		return sc_fail(-EINVAL,
			       "tuple size is lower than key_pos (tuple has %u fields, key_pos is %u)",
			       t->nfields, c->seg.cfg.key_pos);
	if (needs_partition_field && t->nfields <= c->seg.cfg.partition_pos)
		return sc_fail(
			-EINVAL,
			"tuple size is lower than partition_pos (tuple has %u fields, partition_pos is %u)",
			t->nfields, c->seg.cfg.partition_pos);
	return 0;
}

int sc_record_len(const sc_cache *c, const sc_field *fields, uint32_t n, uint32_t *enc_len)
{
	uint64_t len = sizeof(struct sc_blk);
	uint64_t room = c->seg.map_len - c->seg.geo.heap_off;

	for (uint32_t i = 0; i < n; i++)
		len += field_size(&fields[i]);
	if (len > UINT32_MAX - SC_PAGE || len > room)
		return sc_fail(
			-E2BIG, "tuple takes %llu bytes; cache \"%s\" holds records of at most %llu",
			(unsigned long long)len, c->name,
			(unsigned long long)(room < UINT32_MAX - SC_PAGE ? room : UINT32_MAX - SC_PAGE));
	*enc_len = (uint32_t)len;
	return 0;
}

int sc_tuple_check_put(const sc_cache *c, const sc_tuple *t, bool needs_partition_field, uint32_t *enc_len)
{
	int err = check_shape(c, t, needs_partition_field);

	for (uint32_t i = 0; !err && i < t->nfields; i++)
		err = check_field(&t->fields[i], "field", i);
	if (!err)
		err = sc_record_len(c, t->fields, t->nfields, enc_len);
	return err ? err : check_orderable(c, &t->fields[c->seg.cfg.key_pos]);
}

int sc_tuple_check_key(const sc_cache *c, const sc_tuple *t)
{
	uint32_t kp = c->seg.cfg.key_pos, pp = c->seg.cfg.partition_pos;
	int err = check_shape(c, t, true);

	if (!err)
		err = check_field(&t->fields[kp], "field", kp);
	if (!err && pp != kp)
		err = check_field(&t->fields[pp], "field", pp);
	return err ? err : check_orderable(c, &t->fields[kp]);
}

/* Numbers hash their 8 bytes, bytes their contents; the type is the seed, so 1 and 1.0 differ. */
uint64_t sc_field_hash(const sc_field *f)
{
	if (f->type == SC_FIELD_BYTES)
		return XXH3_64bits_withSeed(f->v.p, f->len, SC_FIELD_BYTES);
	return XXH3_64bits_withSeed(&f->v, 8, f->type);
}

/* A field's encoded header word: type in the low bits, payload length above. */
static uint32_t field_word(const sc_field *f)
{
	return f->type | (f->type == SC_FIELD_BYTES ? f->len : 8u) << SC_FIELD_TYPE_BITS;
}

/* High half of a hash picks the partition (multiply-shift), the low half the bucket: independent bits. */
static uint32_t partition_of_hash(const sc_cache *c, uint64_t h)
{
	return (uint32_t)(((h >> 32) * c->seg.cfg.num_partition) >> 32);
}

/* Hashing follows key equality: exact in hashed tables; by value in an ordered_set, where 1 == 1.0. */
static uint64_t hash_for(const sc_cache *c, const sc_field *f)
{
	return ordered(c) ? sc_term_hash(f) : sc_field_hash(f);
}

uint32_t sc_partition_of(const sc_cache *c, const sc_field *partition_data)
{
	return partition_of_hash(c, hash_for(c, partition_data));
}

static inline __attribute__((always_inline)) void route_key(const sc_cache *c, const sc_field *key,
							    struct sc_route *r)
{
	r->key_word = field_word(key);
	r->key_payload = key->type == SC_FIELD_BYTES ? key->v.p : (const void *)&key->v;
	r->key_len = key->type == SC_FIELD_BYTES ? key->len : 8;
	r->key_pos = c->seg.cfg.key_pos;
	r->key_hash = hash_for(c, key);
	r->partition = partition_of_hash(c, r->key_hash);
	r->key = key;
	if (ordered(c))
		sc_term_prefix(key, r->prefix);
}

void sc_route_key(const sc_cache *c, const sc_field *key, struct sc_route *r)
{
	route_key(c, key, r);
}
void sc_tuple_route(const sc_cache *c, const sc_tuple *t, struct sc_route *r)
{
	uint32_t kp = c->seg.cfg.key_pos, pp = c->seg.cfg.partition_pos;

	route_key(c, &t->fields[kp], r);
	if (pp != kp)
		r->partition = sc_partition_of(c, &t->fields[pp]);
}

int sc_route_key_in(const sc_cache *c, const sc_field *key, const sc_field *partition_data,
		    struct sc_route *r)
{
	int err = sc_field_check(key, "key");

	if (!err)
		err = check_orderable(c, key);
	if (!err && partition_data)
		err = sc_field_check(partition_data, "partition data");
	if (err)
		return err;
	sc_route_key(c, key, r);
	if (partition_data)
		r->partition = sc_partition_of(c, partition_data);
	return 0;
}

int sc_partition_idx_check(const sc_cache *c, uint32_t idx)
{
	sc_check_arg(idx < c->seg.cfg.num_partition, -ERANGE,
		     "partition %u is out of range: cache \"%s\" has %u", idx, c->name,
		     c->seg.cfg.num_partition);
	return 0;
}

int sc_route_key_at(const sc_cache *c, const sc_field *key, uint32_t idx, struct sc_route *r)
{
	int err = sc_field_check(key, "key");

	if (!err)
		err = check_orderable(c, key);
	if (!err)
		err = sc_partition_idx_check(c, idx);
	if (err)
		return err;
	sc_route_key(c, key, r);
	r->partition = idx;
	return 0;
}

/* A record's checksum from its header's values and its body. */
static uint32_t checksum_of(uint32_t hash, uint16_t nfields, uint64_t version, const void *body, uint32_t n)
{
	uint64_t seed = ((uint64_t)hash << 16 | nfields) ^ version * 0x9e3779b97f4a7c15ull;

	return sc_checksum(body, n, seed);
}

int sc_rec_not_intact(const sc_cache *c, uint64_t off)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": record at %llu does not match its checksum", c->name,
		       (unsigned long long)off);
}

uint32_t sc_rec_checksum(const struct sc_blk *rec, uint32_t len)
{
	return checksum_of(rec->hash, rec->nfields, rec->version, rec + 1, sc_rec_body_len(rec, len));
}

bool sc_rec_intact(const uint8_t *raw, uint32_t len)
{
	struct sc_blk h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, raw, sizeof(h));
	return h.csum ==
	       checksum_of(h.hash, h.nfields, h.version, raw + sizeof(h), sc_rec_body_bytes(h.flags, len));
}

void sc_rec_encode(struct sc_blk *rec, const sc_tuple *t, uint32_t hash32)
{
	uint8_t *p = (uint8_t *)(rec + 1);

	for (uint32_t i = 0; i < t->nfields; i++) {
		const sc_field *f = &t->fields[i];
		uint32_t hdr = field_word(f);

		memcpy(p, &hdr, sizeof(hdr));
		p += sizeof(hdr);
		if (f->type == SC_FIELD_BYTES) {
			uint32_t padded = (uint32_t)sc_align_up((uint64_t)f->len + 1, 4);

			if (f->len)
				memcpy(p, f->v.p, f->len);
			memset(p + f->len, 0, padded - f->len);
			p += padded;
		} else {
			memcpy(p, &f->v, 8);
			p += 8;
		}
	}
	rec->hash = hash32;
	rec->nfields = (uint16_t)t->nfields;
	rec->csum = sc_rec_checksum(rec, rec->len);
}

int sc_rec_decode(const uint8_t *rec, uint32_t len, uint32_t nfields, sc_field *out)
{
	uint32_t pos = sizeof(struct sc_blk);

	if (len < pos)
		return -EUCLEAN;
	for (uint32_t i = 0; i < nfields; i++)
		if (sc_rec_next_field(rec, len, &pos, &out[i]))
			return -EUCLEAN;
	return 0;
}

int sc_rec_field(const uint8_t *rec, uint32_t len, uint32_t pos, sc_field *out)
{
	uint32_t at = sc_rec_field_offset(rec, len, pos);

	return at && sc_rec_next_field(rec, len, &at, out) == 0 ? 0 : -EUCLEAN;
}

uint32_t sc_rec_field_offset(const uint8_t *rec, uint32_t len, uint32_t pos)
{
	uint32_t at = sizeof(struct sc_blk);
	sc_field f;

	if (len < at)
		return 0;
	for (uint32_t i = 0; i < pos; i++)
		if (sc_rec_next_field(rec, len, &at, &f))
			return 0;
	return at;
}
