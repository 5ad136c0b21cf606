/* measure.c — the passes every system shares: load, fan out, time, and reduce to ops/s and percentiles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fanout.h"
#include "measure.h"

/* One single-key op in this many is timed on its own; a power of two, so the test is a mask. */
#define SAMPLE_EVERY 16

/* Samples per worker: 2^21 covers 33M single-key ops, far more than min_ns allows at these speeds. */
#define SAMPLE_ROOM ((size_t)1 << 21)

const char *const bench_op_names[OP_COUNT] = { "put",	   "get",	   "delete",   "put_batch",
					       "match",	   "match_object", "scan",     "kv_add_batch",
					       "queue",	   "stack",	   "lazy_put", "kv_increment",
					       "get_into", "get_view" };

static bool is_pass(enum bench_op op)
{
	return op == OP_MATCH_OBJECT || op == OP_SCAN;
}

bool bench_supports(const struct bench_system *sys, enum bench_op op)
{
	switch (op) {
	case OP_MATCH:
		return sys->match_key != NULL;
	case OP_MATCH_OBJECT:
		return sys->match_value != NULL;
	case OP_SCAN:
		return sys->scan != NULL;
	case OP_KV_ADD_BATCH:
		return sys->kv_add_batch != NULL;
	case OP_QUEUE:
	case OP_STACK:
		return sys->seq_add != NULL && sys->seq_take != NULL;
	case OP_LAZY_PUT:
		return sys->lazy_put != NULL && sys->flush != NULL;
	case OP_KV_INCREMENT:
		return sys->kv_increment != NULL;
	case OP_GET_INTO:
		return sys->get_into != NULL;
	case OP_GET_VIEW:
		return sys->get_view != NULL;
	default:
		return true;
	}
}

/* A worker's results. Lives in a MAP_SHARED mapping, so forked workers write it straight to the parent. */
struct slot {
	uint64_t ops;	   /* over every round */
	uint64_t end_ns;   /* when this round's timed work ended */
	size_t nsamples;   /* over every round */
	uint32_t *samples; /* nanoseconds, saturated; mapped before the fork, so valid in every worker */
	char error[512];
};

struct run {
	const struct bench_system *sys;
	void *store;
	const struct dataset *ds;
	enum bench_op op;
	unsigned nworkers;
	uint64_t min_ns;
	size_t sample_room; /* per worker */
	struct slot *slots;
	size_t map_len;
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * The positions worker idx goes through: its share of the keys, so two
 * writers never write the same key. Gets may read any key, so each getter
 * walks the whole set, starting at its own point so the getters are not in
 * step (that would share every cache miss).
 */
static void worker_span(const struct run *r, unsigned idx, size_t *first, size_t *len)
{
	const size_t n = r->ds->n;

	*first = n / r->nworkers * idx + min_size(idx, n % r->nworkers);
	*len = r->op == OP_GET || r->op == OP_GET_INTO || r->op == OP_GET_VIEW || r->op == OP_MATCH
		       ? n
		       : n / r->nworkers + (idx < n % r->nworkers);
}

/* Operations one call of one_op() makes: an add and a take for a queue or a stack. */
static unsigned ops_per_call(enum bench_op op)
{
	return op == OP_QUEUE || op == OP_STACK ? 2 : 1;
}

/* Samples one whole pass of delete or put_batch leaves in the busiest worker's slot. */
static size_t samples_per_pass(const struct run *r)
{
	size_t longest = r->ds->n / r->nworkers + (r->ds->n % r->nworkers != 0);

	if (is_pass(r->op))
		return 1;
	if (r->op == OP_PUT_BATCH)
		return (longest + BENCH_BATCH_LEN - 1) / BENCH_BATCH_LEN;
	if (r->op == OP_KV_ADD_BATCH)
		return (r->ds->n + BENCH_KV_BATCH_LEN - 1) / BENCH_KV_BATCH_LEN;
	return (longest + SAMPLE_EVERY - 1) / SAMPLE_EVERY;
}

static void record(struct slot *s, uint64_t ns)
{
	s->samples[s->nsamples++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* A get, or a match with the key bound, checked to bring back the key's value. */
static int checked_read(const struct run *r, int (*read)(void *, const char *, char *), void *w, size_t pos,
			char *value)
{
	const char *key = r->ds->keys[pos];

	if (read(w, key, value))
		return -1;
	if (!dataset_value_matches(key, value))
		return bench_fail("%s of key %.16s returned another key's value", bench_op_names[r->op], key);
	return 0;
}

static int checked_get(const struct run *r, void *w, size_t pos, char *value)
{
	return checked_read(r, r->sys->get, w, pos, value);
}

/* An add and a take: the queue (stack) never runs dry, since every worker adds before it takes. */
static int seq_step(const struct run *r, void *w, size_t pos, char *value)
{
	const bool stack = r->op == OP_STACK;

	if (r->sys->seq_add(w, stack, r->ds->values[pos]) || r->sys->seq_take(w, stack, value))
		return -1;
	/* Alone, a worker takes back what it added; with others, the item taken may be theirs. */
	if (r->nworkers == 1 && memcmp(value, r->ds->values[pos], BENCH_VALUE_LEN) != 0)
		return bench_fail("%s gave back another value than the one added", bench_op_names[r->op]);
	return 0;
}

static int one_op(const struct run *r, void *w, size_t pos, char *value)
{
	switch (r->op) {
	case OP_QUEUE:
	case OP_STACK:
		return seq_step(r, w, pos, value);
	case OP_LAZY_PUT:
		return r->sys->lazy_put(w, r->ds->keys[pos], r->ds->values[pos]);
	case OP_KV_INCREMENT:
		return r->sys->kv_increment(w, r->ds->keys[pos]);
	case OP_PUT:
		return r->sys->put(w, r->ds->keys[pos], r->ds->values[pos]);
	case OP_GET:
		return checked_get(r, w, pos, value);
	case OP_GET_INTO:
		return checked_read(r, r->sys->get_into, w, pos, value);
	case OP_GET_VIEW:
		return checked_read(r, r->sys->get_view, w, pos, value);
	case OP_DELETE:
		return r->sys->del(w, r->ds->keys[pos]);
	case OP_MATCH:
		return checked_read(r, r->sys->match_key, w, pos, value);
	default:
		return bench_fail("%s is not a single-key operation", bench_op_names[r->op]);
	}
}

/*
 * put and get go round the span until min_ns has passed, checked at the
 * sampled ops so the deadline costs no extra clock read. delete goes
 * through it exactly once: a key can only be deleted once per load.
 */
static int run_single(const struct run *r, void *w, struct slot *s, size_t first, size_t len)
{
	const bool once = r->op == OP_DELETE;
	const size_t n = r->ds->n;
	const uint64_t deadline = now_ns() + r->min_ns;
	char value[BENCH_VALUE_LEN];
	uint64_t ops = 0;
	size_t k = 0;

	for (;;) {
		size_t pos = first + k < n ? first + k : first + k - n;

		if (ops % SAMPLE_EVERY == 0) {
			uint64_t t0, t1;

			if (s->nsamples == r->sample_room)
				break;
			t0 = now_ns();
			if (one_op(r, w, pos, value))
				return -1;
			t1 = now_ns();
			record(s, (t1 - t0) / ops_per_call(r->op));
			ops++;
			if (!once && t1 >= deadline)
				break;
		} else {
			if (one_op(r, w, pos, value))
				return -1;
			ops++;
		}
		if (++k == len) {
			if (once)
				break;
			k = 0;
		}
	}
	/* What lazy_put buffered counts only once it is stored. */
	if (r->op == OP_LAZY_PUT && r->sys->flush(w))
		return -1;
	s->ops += ops * ops_per_call(r->op);
	return 0;
}

/*
 * kv_add_batch writes batches of BENCH_KV_BATCH_LEN pairs taken from the
 * whole key set, worker idx starting at batch idx, until min_ns has
 * passed; every batch is timed, per pair.
 */
static int run_kv_batches(const struct run *r, void *w, struct slot *s, unsigned idx)
{
	const size_t n = r->ds->n, nbatches = (n + BENCH_KV_BATCH_LEN - 1) / BENCH_KV_BATCH_LEN;
	const uint64_t deadline = now_ns() + r->min_ns;
	uint64_t t1;

	for (size_t b = idx;; b++) {
		size_t off = b % nbatches * BENCH_KV_BATCH_LEN, len = min_size(BENCH_KV_BATCH_LEN, n - off);
		uint64_t t0 = now_ns();

		if (r->sys->kv_add_batch(w, r->ds->keys + off, r->ds->values + off, len))
			return -1;
		t1 = now_ns();
		record(s, (t1 - t0 + len / 2) / len);
		s->ops += len;
		if (t1 >= deadline || s->nsamples == r->sample_room)
			return 0;
	}
}

/*
 * put_batch overwrites the whole span in batches, pass after pass, until
 * min_ns has passed. Every batch is timed: one clock read per batch is
 * noise, and one batch in 16 would leave a handful of samples at 10k keys.
 */
static int run_batches(const struct run *r, void *w, struct slot *s, size_t first, size_t len)
{
	const uint64_t deadline = now_ns() + r->min_ns;
	const size_t per_pass = (len + BENCH_BATCH_LEN - 1) / BENCH_BATCH_LEN;
	uint64_t t1 = 0;

	do {
		for (size_t off = 0; off < len; off += BENCH_BATCH_LEN) {
			size_t b = min_size(BENCH_BATCH_LEN, len - off);
			uint64_t t0 = now_ns();

			if (r->sys->put_batch(w, r->ds->keys + first + off, r->ds->values + first + off, b))
				return -1;
			t1 = now_ns();
			record(s, (t1 - t0 + b / 2) / b);
			s->ops += b;
		}
	} while (len > 0 && t1 < deadline && s->nsamples + per_pass <= r->sample_room);
	return 0;
}

/*
 * match_object and scan go over every tuple per call: each call is one
 * sample, and its tuples count as operations. match_object looks for the
 * value of the middle key, which exactly one tuple holds.
 */
static int run_passes(const struct run *r, void *w, struct slot *s)
{
	const char *target = r->ds->values[r->ds->n / 2];
	const uint64_t deadline = now_ns() + r->min_ns;
	uint64_t t1;

	do {
		uint64_t t0 = now_ns();
		size_t found = 1;

		if (r->op == OP_SCAN ? r->sys->scan(w, &found) : r->sys->match_value(w, target, &found))
			return -1;
		t1 = now_ns();
		if (r->op == OP_SCAN ? found != r->ds->n : found != 1)
			return bench_fail("%s found %zu tuples, %s expected", bench_op_names[r->op], found,
					  r->op == OP_SCAN ? "every one" : "one");
		record(s, t1 - t0);
		s->ops += r->ds->n;
	} while (t1 < deadline && s->nsamples < r->sample_room);
	return 0;
}

/*
 * Untimed, before the gate: a worker reads its span once. A process that
 * has just attached faults its mapping in page by page, a one-time cost of
 * attaching that lfht's threads, sharing the loader's page tables, never
 * pay; read faults on shared memory map the pages writable too.
 */
static int warm_up(const struct run *r, void *w, unsigned idx)
{
	char value[BENCH_VALUE_LEN];
	size_t first, len;

	worker_span(r, idx, &first, &len);
	for (size_t k = 0; k < len; k++)
		if (checked_get(r, w, first + k < r->ds->n ? first + k : first + k - r->ds->n, value))
			return -1;
	return 0;
}

/* The timed part of a worker. */
static int run_span(const struct run *r, void *w, struct slot *s, unsigned idx)
{
	size_t first, len;
	int rc;

	worker_span(r, idx, &first, &len);
	if (is_pass(r->op))
		rc = run_passes(r, w, s);
	else if (r->op == OP_PUT_BATCH)
		rc = run_batches(r, w, s, first, len);
	else if (r->op == OP_KV_ADD_BATCH)
		rc = run_kv_batches(r, w, s, idx);
	else
		rc = run_single(r, w, s, first, len);
	s->end_ns = now_ns();
	return rc;
}

static int worker(void *arg, unsigned idx, struct fanout_gate *gate)
{
	const struct run *r = arg;
	struct slot *s = &r->slots[idx];
	void *w;
	int rc;

	if (r->sys->attach(r->store, &w)) {
		snprintf(s->error, sizeof(s->error), "%s", bench_last_error());
		(void)fanout_gate_pass(gate, false); /* returns 1: we called the run off */
		return -1;
	}
	rc = warm_up(r, w, idx);
	if (rc)
		snprintf(s->error, sizeof(s->error), "%s", bench_last_error());
	rc = fanout_gate_pass(gate, rc == 0);
	if (rc == 0)
		rc = run_span(r, w, s, idx);
	if (r->sys->detach(w) && rc == 0)
		rc = -1;
	/* rc 1: called off for a failure whose message is already in a slot. */
	if (rc < 0)
		snprintf(s->error, sizeof(s->error), "%s", bench_last_error());
	return rc == 0 ? 0 : -1;
}

/* Untimed: the main process writes every key, in batches since that is each system's fastest way. */
static int load(const struct run *r)
{
	const struct dataset *ds = r->ds;
	void *w;
	int rc = 0;

	if (r->sys->attach(r->store, &w))
		return -1;
	for (size_t off = 0; off < ds->n && rc == 0; off += BENCH_BATCH_LEN)
		rc = r->sys->put_batch(w, ds->keys + off, ds->values + off,
				       min_size(BENCH_BATCH_LEN, ds->n - off));
	if (r->sys->detach(w) && rc == 0)
		rc = -1;
	return rc;
}

static int map_slots(struct run *r)
{
	size_t slots_len = (r->nworkers * sizeof(struct slot) + 63) & ~(size_t)63;
	uint32_t *samples;
	void *p;

	r->sample_room = SAMPLE_ROOM;
	if (r->sample_room < samples_per_pass(r))
		r->sample_room = samples_per_pass(r);
	r->map_len = slots_len + r->nworkers * r->sample_room * sizeof(uint32_t);
	/* Not populated: the pages are touched one per 1024 samples, outside the timed ops. */
	p = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return bench_fail("cannot map %zu bytes for results: %s", r->map_len, strerror(errno));
	r->slots = p;
	samples = (uint32_t *)((char *)p + slots_len);
	for (unsigned i = 0; i < r->nworkers; i++)
		r->slots[i].samples = samples + i * r->sample_room;
	return 0;
}

static void unmap_slots(struct run *r)
{
	if (r->slots && munmap(r->slots, r->map_len))
		fprintf(stderr, "supercache-bench: munmap of results: %s\n", strerror(errno));
	r->slots = NULL;
}

/* A failed fan-out: the first worker's own message says most, the fan-out's covers crashes. */
static int worker_failure(const struct run *r)
{
	for (unsigned i = 0; i < r->nworkers; i++)
		if (r->slots[i].error[0])
			return bench_fail("worker %u: %s", i, r->slots[i].error);
	return -1;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least pct% of the samples at or below it. */
static uint64_t percentile(const uint32_t *sorted, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

static int summarize(const struct run *r, uint64_t wall_ns, struct measurement *out)
{
	size_t total = 0, at = 0;
	uint32_t *all;

	*out = (struct measurement){ .seconds = (double)wall_ns / 1e9 };
	for (unsigned i = 0; i < r->nworkers; i++) {
		out->ops += r->slots[i].ops;
		total += r->slots[i].nsamples;
	}
	if (total == 0 || wall_ns == 0)
		return bench_fail("no operation was measured");
	all = malloc(total * sizeof(*all));
	if (!all)
		return bench_fail("out of memory for %zu latency samples", total);
	for (unsigned i = 0; i < r->nworkers; i++) {
		memcpy(all + at, r->slots[i].samples, r->slots[i].nsamples * sizeof(*all));
		at += r->slots[i].nsamples;
	}
	qsort(all, total, sizeof(*all), compare_u32);
	out->ops_per_s = (double)out->ops / out->seconds;
	out->p50_ns = percentile(all, total, 50);
	out->p99_ns = percentile(all, total, 99);
	out->samples = total;
	free(all);
	return 0;
}

static bool room_for_a_pass(const struct run *r)
{
	for (unsigned i = 0; i < r->nworkers; i++)
		if (r->slots[i].nsamples + samples_per_pass(r) > r->sample_room)
			return false;
	return true;
}

/*
 * One fan-out does it for put, get and put_batch: each worker repeats its
 * span until min_ns. A delete pass empties the store, so delete runs
 * rounds: a fan-out deletes every key once, the store is reloaded untimed,
 * and so on until the rounds' timed wall times add up to min_ns.
 */
static int run_rounds(struct run *r, struct measurement *out)
{
	uint64_t wall_ns = 0;

	for (unsigned round = 0;; round++) {
		uint64_t open_ns, last_end = 0;

		if (round > 0) {
			if (r->op != OP_DELETE || wall_ns >= r->min_ns || !room_for_a_pass(r))
				break;
			if (load(r))
				return -1;
		}
		if (fanout_run(r->nworkers, r->sys->threaded, worker, r, &open_ns))
			return worker_failure(r);
		for (unsigned i = 0; i < r->nworkers; i++)
			if (r->slots[i].end_ns > last_end)
				last_end = r->slots[i].end_ns;
		wall_ns += last_end - open_ns;
	}
	return summarize(r, wall_ns, out);
}

int measure(const struct bench_system *sys, const struct dataset *ds, enum bench_op op, unsigned procs,
	    uint64_t min_ns, struct measurement *out)
{
	struct run r = { .sys = sys, .ds = ds, .op = op, .nworkers = procs, .min_ns = min_ns };
	char first[512];
	int rc;

	if (procs == 0 || procs > ds->n)
		return bench_fail("%u workers cannot share %zu keys", procs, ds->n);
	if (sys->create(ds->n, &r.store))
		return -1;
	rc = map_slots(&r);
	if (rc == 0)
		rc = load(&r);
	if (rc == 0)
		rc = run_rounds(&r, out);
	unmap_slots(&r);
	if (rc)
		snprintf(first, sizeof(first), "%s", bench_last_error());
	if (sys->destroy(r.store)) {
		if (rc) {
			char cleanup[512];

			snprintf(cleanup, sizeof(cleanup), "%s", bench_last_error());
			bench_fail("%s; then, cleaning up: %s", first, cleanup);
		}
		rc = -1;
	}
	return rc;
}
