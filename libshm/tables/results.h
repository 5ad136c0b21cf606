/* results.h — copying records out of shared memory into caller-owned sc_tuples. */
#ifndef SC_RESULTS_H
#define SC_RESULTS_H

#include "index/hash_index.h"
#include "shm/cache.h"

/*
 * Copy the n records hits name, in that order, into one new allocation laid
 * out as an sc_tuples. Each record is copied first and decoded from the
 * copy, so a concurrent scribbler cannot change what was checked.
 */
int sc_results_copy(sc_cache *c, const struct sc_hit *hits, size_t n, sc_tuples **out);

/*
 * The same into the caller's buffer buf (cap bytes, aligned for an
 * sc_tuples), laid out as an sc_tuples at buf, then its tuples, fields and
 * record copies: *out = buf, and *need (when not NULL) the bytes used. No
 * allocation for up to 16 records. -ERANGE with *need the bytes it would
 * take when cap is short; -EINVAL for a buffer misaligned, or NULL.
 */
int sc_results_copy_into(sc_cache *c, const struct sc_hit *hits, size_t n, void *buf, size_t cap,
			 const sc_tuples **out, size_t *need);

/* Lay the tuples of t (a result of the other calls; NULL: none) out in buf as sc_results_copy_into() does. */
int sc_results_place(const sc_tuples *t, void *buf, size_t cap, const sc_tuples **out, size_t *need);

/* Copy the tuples t[0, n) (a forwarded call's answer) into *out, NULL when n is 0: 0, or a negative errno. */
int sc_results_of_tuples(const sc_tuple *t, size_t n, sc_tuples **out);

/*
 * A result assembled tuple by tuple from fields that may point into shared
 * memory (a match's captures): their bytes are copied when added. Small
 * results fit the builder's own room; larger ones move to the heap. Start
 * with sc_builder_init(); finish or free it exactly once.
 */
struct sc_builder {
	uint32_t *counts; /* fields of each tuple */
	size_t ntuples, counts_cap;
	sc_field *fields; /* bytes fields hold arena offsets until finished */
	size_t nfields, fields_cap;
	uint8_t *bytes;
	size_t nbytes, bytes_cap;
	uint32_t inline_counts[8];
	sc_field inline_fields[32];
	uint8_t inline_bytes[512];
};

void sc_builder_init(struct sc_builder *b);
int sc_builder_add(struct sc_builder *b, const sc_field *fields, uint32_t n);

/* Take back the last tuple sc_builder_add() added (a copy found bad once made). */
void sc_builder_drop_last(struct sc_builder *b);

/* Hand the tuples over as one sc_tuples (*out NULL if there are none), and free the builder. */
int sc_builder_finish(struct sc_builder *b, sc_tuples **out);

void sc_builder_free(struct sc_builder *b);

#endif /* SC_RESULTS_H */
