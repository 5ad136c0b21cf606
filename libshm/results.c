/* results.c — copying records out of shared memory into caller-owned sc_tuples. */
#include "results.h"

#include <stdlib.h>
#include <string.h>

#include "tuple_codec.h"

/* The smallest encoded field (empty bytes) is 8 bytes: this bounds a record's field count. */
#define MIN_FIELD_BYTES 8u

/* One allocation: the sc_tuples, its tuple array, all fields, then the record copies. */
struct result_block {
	sc_tuples head;
	sc_tuple tuple;
	sc_field fields[];
};

int sc_results_copy_one(sc_cache *c, const struct sc_hit *hit, sc_tuples **out)
{
	const struct sc_blk *rec = sc_blk_at(c, hit->rec_off);
	uint32_t len = hit->rec_len;
	uint16_t nfields = sc_read(&rec->nfields);
	struct result_block *rb;
	size_t raw_at;
	uint8_t *raw;

	if (nfields == 0 || nfields > (len - sizeof(*rec)) / MIN_FIELD_BYTES)
		goto corrupt;
	raw_at = sizeof(*rb) + nfields * sizeof(sc_field);
	rb = malloc(raw_at + len);
	if (!rb)
		return sc_fail(-ENOMEM, "out of memory copying a tuple of %u bytes", len);
	raw = (uint8_t *)rb + raw_at;
	memcpy(raw, rec, len);
	if (((struct sc_blk *)raw)->nfields != nfields || sc_rec_decode(raw, len, nfields, rb->fields)) {
		free(rb);
		goto corrupt;
	}
	rb->tuple.nfields = nfields;
	rb->tuple.fields = rb->fields;
	rb->head.count = 1;
	rb->head.tuples = &rb->tuple;
	*out = &rb->head;
	return 0;
corrupt:
	return sc_fail(-EUCLEAN, "cache \"%s\": record at %llu is malformed", c->name,
		       (unsigned long long)hit->rec_off);
}

SC_EXPORT void sc_tuples_free(sc_tuples *tuples)
{
	free(tuples);
}
