/* results.c — copying records out of shared memory into caller-owned sc_tuples. */
#include "results.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tuple_codec.h"

/* The smallest encoded field (empty bytes) is 8 bytes: this bounds a record's field count. */
#define MIN_FIELD_BYTES 8u

/*
 * A result is one allocation: its capacity, the sc_tuples the caller sees,
 * the tuple array, all fields, then the record copies.
 */
struct result_block {
	size_t cap; /* bytes allocated, this header included */
	sc_tuples head;
	sc_tuple tuple;
	sc_field fields[];
};

/*
 * Each thread keeps the last result it freed, up to SPARE_MAX bytes, and
 * the next get reuses it: a get then costs no malloc and no free (a fifth
 * of a cached get otherwise), and steady-state reads never enter the
 * allocator at all. Fresh blocks get at least SPARE_MIN bytes so that one
 * spare fits most results.
 */
#define SPARE_MIN 512u
#define SPARE_MAX 4096u

static __thread struct result_block *spare __attribute__((tls_model("initial-exec")));
static __thread int spare_key_set __attribute__((tls_model("initial-exec")));
static pthread_key_t spare_key;
static pthread_once_t spare_key_once = PTHREAD_ONCE_INIT;

static void free_spare(void *unused)
{
	(void)unused;
	free(spare);
	spare = NULL;
}

static void make_spare_key(void)
{
	if (pthread_key_create(&spare_key, free_spare))
		spare_key_once = PTHREAD_ONCE_INIT; /* no key: spares are simply not kept */
}

/* Keep rb as this thread's spare, once a key frees it when the thread exits. */
static int keep_spare(struct result_block *rb)
{
	if (spare || rb->cap > SPARE_MAX)
		return 0;
	if (!spare_key_set) {
		pthread_once(&spare_key_once, make_spare_key);
		if (pthread_setspecific(spare_key, &spare_key_set))
			return 0;
		spare_key_set = 1;
	}
	spare = rb;
	return 1;
}

static struct result_block *new_block(size_t need)
{
	struct result_block *rb = spare;

	if (rb && rb->cap >= need) {
		spare = NULL;
		return rb;
	}
	need = need < SPARE_MIN ? SPARE_MIN : need;
	rb = malloc(need);
	if (rb)
		rb->cap = need;
	return rb;
}

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
	rb = new_block(raw_at + len);
	if (!rb)
		return sc_fail(-ENOMEM, "out of memory copying a tuple of %u bytes", len);
	raw = (uint8_t *)rb + raw_at;
	memcpy(raw, rec, len);
	if (((struct sc_blk *)raw)->nfields != nfields || sc_rec_decode(raw, len, nfields, rb->fields)) {
		sc_tuples_free(&rb->head);
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
	struct result_block *rb;

	if (!tuples)
		return;
	rb = (struct result_block *)((char *)tuples - offsetof(struct result_block, head));
	if (!keep_spare(rb))
		free(rb);
}
