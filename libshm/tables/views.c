/* views.c — records handed to callers as tuples in place, without copying them out. */
#include "tables/views.h"

#include <stdlib.h>

#include "record/tuple_codec.h"

/* A view decodes into a stack array up to this many fields, into the heap beyond. */
#define VIEW_STACK_FIELDS 16u

int sc_view_record(sc_cache *c, const struct sc_hit *hit, sc_visit_fn fn, void *arg)
{
	const struct sc_blk *rec = sc_blk_at(c, hit->rec_off);
	uint16_t nfields = sc_read(&rec->nfields);
	sc_field stack_fields[VIEW_STACK_FIELDS], *fields = stack_fields;
	sc_tuple t;
	int rv;

	if (nfields > VIEW_STACK_FIELDS) {
		fields = malloc(nfields * sizeof(*fields));
		if (!fields)
			return sc_fail(-ENOMEM, "out of memory viewing a tuple of %u fields", nfields);
	}
	if (!sc_rec_intact((const uint8_t *)rec, hit->rec_len)) {
		rv = sc_rec_not_intact(c, hit->rec_off);
	} else if (nfields == 0 || sc_rec_decode((const uint8_t *)rec, hit->rec_len, nfields, fields)) {
		rv = sc_fail(-EUCLEAN, "cache \"%s\": record at %llu is malformed", c->name,
			     (unsigned long long)hit->rec_off);
	} else {
		t.nfields = nfields;
		t.fields = fields;
		rv = fn(&t, arg);
		/* Records do not change once published: one that did while fn read it was damaged, and
		 * what fn saw is not to be trusted. */
		if (rv >= 0 && !sc_rec_intact((const uint8_t *)rec, hit->rec_len))
			rv = sc_rec_not_intact(c, hit->rec_off);
	}
	if (fields != stack_fields)
		free(fields);
	return rv;
}
