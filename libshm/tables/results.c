/* results.c — copying records out of shared memory into caller-owned sc_tuples. */
#include "tables/results.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/tuple_codec.h"

/* The smallest encoded field (empty bytes) is 8 bytes: this bounds a record's field count. */
#define MIN_FIELD_BYTES 8u

/* Field counts of up to this many records are kept on the stack while copying. */
#define STACK_RECORDS 16u

/*
 * A result is one allocation: its capacity, the sc_tuples the caller sees,
 * then the tuple array, all fields, and the record copies.
 */
struct result_block {
	size_t cap; /* bytes allocated, this header included */
	sc_tuples head;
	sc_tuple tuples[];
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

static int malformed(sc_cache *c, const struct sc_hit *hit)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": record at %llu is malformed", c->name,
		       (unsigned long long)hit->rec_off);
}

/*
 * A record's field count, read from shared memory once and bounded by its
 * length; 0 if it is out of bounds. Copies are sized from it: a scribbler
 * changing it meanwhile makes the copy fail its check, never overrun it.
 */
static uint16_t record_nfields(sc_cache *c, const struct sc_hit *hit)
{
	uint16_t n = sc_read(&sc_blk_at(c, hit->rec_off)->nfields);

	return n <= (hit->rec_len - sizeof(struct sc_blk)) / MIN_FIELD_BYTES ? n : 0;
}

/* Copy a record to raw, then check and decode the copy into fields: what was checked is what is used. */
static int copy_record(sc_cache *c, const struct sc_hit *hit, uint16_t nfields, sc_tuple *t, sc_field *fields,
		       uint8_t *raw)
{
	uint16_t copied;

	memcpy(raw, sc_blk_at(c, hit->rec_off), hit->rec_len);
	if (!sc_rec_intact(raw, hit->rec_len))
		return sc_rec_not_intact(c, hit->rec_off);
	/* Copies lie back to back at any 4-byte boundary: the count is read bytewise, not through the struct. */
	memcpy(&copied, raw + offsetof(struct sc_blk, nfields), sizeof(copied));
	if (copied != nfields || sc_rec_decode(raw, hit->rec_len, nfields, fields))
		return malformed(c, hit);
	t->nfields = nfields;
	t->fields = fields;
	return 0;
}

static int finish(struct result_block *rb, size_t n, int err, sc_tuples **out)
{
	if (err) {
		sc_tuples_free(&rb->head);
		return err;
	}
	rb->head.count = n;
	rb->head.tuples = rb->tuples;
	*out = &rb->head;
	return 0;
}

/* A set's get: one record, and no field-count array to keep. */
static int copy_one(sc_cache *c, const struct sc_hit *hit, sc_tuples **out)
{
	uint16_t nfields = record_nfields(c, hit);
	size_t raw_at = sizeof(struct result_block) + sizeof(sc_tuple) + nfields * sizeof(sc_field);
	struct result_block *rb;

	if (nfields == 0)
		return malformed(c, hit);
	rb = new_block(raw_at + hit->rec_len);
	if (!rb)
		return sc_fail(-ENOMEM, "out of memory copying a tuple of %u bytes", hit->rec_len);
	return finish(rb, 1,
		      copy_record(c, hit, nfields, rb->tuples, (sc_field *)(rb->tuples + 1),
				  (uint8_t *)rb + raw_at),
		      out);
}

/* Where n records' copies go after a head of head bytes: their tuples, all fields, the records. */
struct copies {
	size_t fields_at, raw_at, end;
};

/* Field counts of all records first (into nfields), to size what they are copied to. */
static int size_copies(sc_cache *c, const struct sc_hit *hits, size_t n, uint16_t *nfields, size_t head,
		       struct copies *at)
{
	size_t total_fields = 0, total_bytes = 0;

	for (size_t i = 0; i < n; i++) {
		nfields[i] = record_nfields(c, &hits[i]);
		if (nfields[i] == 0)
			return malformed(c, &hits[i]);
		total_fields += nfields[i];
		total_bytes += hits[i].rec_len;
	}
	at->fields_at = head + n * sizeof(sc_tuple);
	at->raw_at = at->fields_at + total_fields * sizeof(sc_field);
	at->end = at->raw_at + total_bytes;
	return 0;
}

/* Copy the records to base as at says, their tuples at base + head. */
static int copy_records(sc_cache *c, const struct sc_hit *hits, size_t n, const uint16_t *nfields,
			uint8_t *base, sc_tuple *tuples, const struct copies *at)
{
	sc_field *fields = (sc_field *)(base + at->fields_at);
	uint8_t *raw = base + at->raw_at;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		err = copy_record(c, &hits[i], nfields[i], &tuples[i], fields, raw);
		fields += nfields[i];
		raw += hits[i].rec_len;
	}
	return err;
}

static int copy_many(sc_cache *c, const struct sc_hit *hits, size_t n, uint16_t *nfields, sc_tuples **out)
{
	struct result_block *rb;
	struct copies at = { 0 };
	int err = size_copies(c, hits, n, nfields, sizeof(*rb), &at);

	if (err)
		return err;
	rb = new_block(at.end);
	if (!rb)
		return sc_fail(-ENOMEM, "out of memory copying %zu tuples of %zu bytes", n, at.end);
	return finish(rb, n, copy_records(c, hits, n, nfields, (uint8_t *)rb, rb->tuples, &at), out);
}

/* A caller's buffer, checked: at least an sc_tuples, aligned for one. */
static int check_buffer(const void *buf, size_t cap)
{
	if (!buf && cap)
		return sc_fail(-EINVAL, "a buffer of %zu bytes at NULL", cap);
	if ((uintptr_t)buf % _Alignof(sc_tuples))
		return sc_fail(-EINVAL, "a buffer at %p is not aligned to %zu bytes", buf,
			       _Alignof(sc_tuples));
	return 0;
}

/* Too short for need bytes: -ERANGE, and what it would take. */
static int too_short(size_t cap, size_t need, size_t *need_out)
{
	if (need_out)
		*need_out = need;
	return sc_fail(-ERANGE, "a buffer of %zu bytes is short: the result takes %zu", cap, need);
}

int sc_results_copy_into(sc_cache *c, const struct sc_hit *hits, size_t n, void *buf, size_t cap,
			 const sc_tuples **out, size_t *need)
{
	uint16_t stack_nfields[STACK_RECORDS], *nfields = stack_nfields;
	sc_tuples *head = buf;
	struct copies at = { 0 };
	int err = check_buffer(buf, cap);

	if (!err && n > STACK_RECORDS && !(nfields = malloc(n * sizeof(*nfields))))
		err = sc_fail(-ENOMEM, "out of memory copying %zu tuples", n);
	if (!err && n == 1) { /* a set's get: no count to add up */
		nfields[0] = record_nfields(c, hits);
		at.fields_at = sizeof(*head) + sizeof(sc_tuple);
		at.raw_at = at.fields_at + nfields[0] * sizeof(sc_field);
		at.end = at.raw_at + hits->rec_len;
		err = nfields[0] ? 0 : malformed(c, hits);
	} else if (!err) {
		err = size_copies(c, hits, n, nfields, sizeof(*head), &at);
	}
	if (!err && at.end > cap)
		err = too_short(cap, at.end, need);
	if (!err)
		err = copy_records(c, hits, n, nfields, buf, (sc_tuple *)(head + 1), &at);
	if (nfields != stack_nfields)
		free(nfields);
	if (err)
		return err;
	head->count = n;
	head->tuples = (sc_tuple *)(head + 1);
	*out = head;
	if (need)
		*need = at.end;
	return 0;
}

int sc_results_place(const sc_tuples *t, void *buf, size_t cap, const sc_tuples **out, size_t *need)
{
	const size_t n = t ? t->count : 0;
	size_t nfields = 0, nbytes = 0, end;
	sc_tuples *head = buf;
	sc_tuple *tuples = (sc_tuple *)(head + 1);
	sc_field *fields;
	uint8_t *bytes;
	int err = check_buffer(buf, cap);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		for (uint32_t f = 0; f < t->tuples[i].nfields; f++, nfields++)
			nbytes += t->tuples[i].fields[f].type == SC_FIELD_BYTES ? t->tuples[i].fields[f].len
										: 0;
	end = sizeof(*head) + n * sizeof(*tuples) + nfields * sizeof(*fields) + nbytes;
	if (end > cap)
		return too_short(cap, end, need);
	fields = (sc_field *)(tuples + n);
	bytes = (uint8_t *)(fields + nfields);
	for (size_t i = 0; i < n; i++) {
		tuples[i] = (sc_tuple){ t->tuples[i].nfields, fields };
		for (uint32_t f = 0; f < t->tuples[i].nfields; f++, fields++) {
			*fields = t->tuples[i].fields[f];
			if (fields->type == SC_FIELD_BYTES && fields->len) {
				memcpy(bytes, fields->v.p, fields->len);
				fields->v.p = bytes;
				bytes += fields->len;
			}
		}
	}
	head->count = n;
	head->tuples = tuples;
	*out = head;
	if (need)
		*need = end;
	return 0;
}

int sc_results_copy(sc_cache *c, const struct sc_hit *hits, size_t n, sc_tuples **out)
{
	uint16_t stack_nfields[STACK_RECORDS], *nfields = stack_nfields;
	int err;

	if (n == 1)
		return copy_one(c, hits, out);
	if (n > STACK_RECORDS) {
		nfields = malloc(n * sizeof(*nfields));
		if (!nfields)
			return sc_fail(-ENOMEM, "out of memory copying %zu tuples", n);
	}
	err = copy_many(c, hits, n, nfields, out);
	if (nfields != stack_nfields)
		free(nfields);
	return err;
}

/*
 * The builder keeps tuples as field counts, fields whose bytes are offsets
 * into one arena (pointers would move as the arena grows), and the arena.
 * Finishing lays all three out in one result block and turns the offsets
 * into pointers.
 */
void sc_builder_init(struct sc_builder *b)
{
	b->counts = b->inline_counts;
	b->counts_cap = sizeof(b->inline_counts) / sizeof(b->inline_counts[0]);
	b->fields = b->inline_fields;
	b->fields_cap = sizeof(b->inline_fields) / sizeof(b->inline_fields[0]);
	b->bytes = b->inline_bytes;
	b->bytes_cap = sizeof(b->inline_bytes);
	b->ntuples = b->nfields = b->nbytes = 0;
}

/* Room for need items of size bytes in *v, moving it from the builder's own room to the heap if it must. */
static int grow(void **v, size_t *cap, size_t need, size_t size, void *inline_room)
{
	size_t cap2 = *cap;
	void *p;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	p = *v == inline_room ? malloc(cap2 * size) : realloc(*v, cap2 * size);
	if (!p)
		return sc_fail(-ENOMEM, "out of memory building a result of %zu items", need);
	if (*v == inline_room)
		memcpy(p, inline_room, *cap * size);
	*v = p;
	*cap = cap2;
	return 0;
}

int sc_builder_add(struct sc_builder *b, const sc_field *fields, uint32_t n)
{
	int err = grow((void **)&b->counts, &b->counts_cap, b->ntuples + 1, sizeof(*b->counts),
		       b->inline_counts);

	if (!err)
		err = grow((void **)&b->fields, &b->fields_cap, b->nfields + n, sizeof(*b->fields),
			   b->inline_fields);
	for (uint32_t i = 0; !err && i < n; i++) {
		sc_field f = fields[i];

		if (f.type == SC_FIELD_BYTES) {
			/* Each bytes payload gets a NUL after it, as in every result. */
			err = grow((void **)&b->bytes, &b->bytes_cap, b->nbytes + f.len + 1, 1,
				   b->inline_bytes);
			if (err)
				break;
			if (f.len)
				memcpy(b->bytes + b->nbytes, f.v.p, f.len);
			b->bytes[b->nbytes + f.len] = '\0';
			f.v.p = (const void *)(uintptr_t)b->nbytes;
			b->nbytes += f.len + 1;
		}
		b->fields[b->nfields + i] = f;
	}
	if (err)
		return err;
	b->counts[b->ntuples++] = n;
	b->nfields += n;
	return 0;
}

void sc_builder_drop_last(struct sc_builder *b)
{
	const uint32_t n = b->counts[--b->ntuples];

	b->nfields -= n;
	/* Its bytes were the last appended: they begin where its first bytes field points. */
	for (uint32_t i = 0; i < n; i++)
		if (b->fields[b->nfields + i].type == SC_FIELD_BYTES) {
			b->nbytes = (size_t)(uintptr_t)b->fields[b->nfields + i].v.p;
			break;
		}
}

void sc_builder_free(struct sc_builder *b)
{
	if (b->counts != b->inline_counts)
		free(b->counts);
	if (b->fields != b->inline_fields)
		free(b->fields);
	if (b->bytes != b->inline_bytes)
		free(b->bytes);
	sc_builder_init(b);
}

int sc_builder_finish(struct sc_builder *b, sc_tuples **out)
{
	size_t fields_at = sizeof(struct result_block) + b->ntuples * sizeof(sc_tuple);
	size_t bytes_at = fields_at + b->nfields * sizeof(sc_field);
	struct result_block *rb;
	sc_field *fields;
	uint8_t *bytes;

	*out = NULL;
	if (b->ntuples == 0) {
		sc_builder_free(b);
		return 0;
	}
	rb = new_block(bytes_at + b->nbytes);
	if (!rb) {
		int err = sc_fail(-ENOMEM, "out of memory for a result of %zu tuples", b->ntuples);

		sc_builder_free(b);
		return err;
	}
	fields = (sc_field *)((uint8_t *)rb + fields_at);
	bytes = (uint8_t *)rb + bytes_at;
	memcpy(bytes, b->bytes, b->nbytes);
	for (size_t i = 0; i < b->nfields; i++) {
		fields[i] = b->fields[i];
		if (fields[i].type == SC_FIELD_BYTES)
			fields[i].v.p = bytes + (uintptr_t)b->fields[i].v.p;
	}
	for (size_t t = 0, f = 0; t < b->ntuples; f += b->counts[t], t++) {
		rb->tuples[t].nfields = b->counts[t];
		rb->tuples[t].fields = fields + f;
	}
	rb->head.count = b->ntuples;
	rb->head.tuples = rb->tuples;
	*out = &rb->head;
	sc_builder_free(b);
	return 0;
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

int sc_results_of_tuples(const sc_tuple *t, size_t n, sc_tuples **out)
{
	struct sc_builder b;
	int err = 0;

	sc_builder_init(&b);
	for (size_t i = 0; i < n && !err; i++)
		err = sc_builder_add(&b, t[i].fields, t[i].nfields);
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	return sc_builder_finish(&b, out);
}
