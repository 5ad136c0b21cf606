/* bounded.c — supercache-bench --bounded: a zipfian cache-aside load at the memory limit, and the cost of TTL. */
#include "bounded.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <supercache.h>
#include <unistd.h>

#include "workload.h"

#define ZIPF_THETA   0.99
#define ZIPF_KEYS    1000000u
#define ZIPF_OPS     4000000u
#define ZIPF_LIMIT   (48ull << 20) /* about a fifth of the keys' records fit */
#define TTL_KEYS     200000u
#define TTL_MS	     3600000u
#define MIN_PASS_NS  300000000ull
#define BOUNDED_PART 2u

/*
 * Gray et al.'s zipfian generator ("Quickly generating billion-record
 * synthetic databases", as YCSB uses it): item i with probability
 * proportional to 1 / (i + 1)^theta. Items are scattered over the key space
 * by a multiplicative hash, so that the hot ones are not all neighbours.
 */
struct zipf {
	uint64_t n, state;
	double theta, alpha, zetan, eta, half_pow;
};

static void zipf_init(struct zipf *z, uint64_t n, double theta, uint64_t seed)
{
	double zeta2 = 1.0 + pow(0.5, theta);

	z->n = n;
	z->theta = theta;
	z->state = seed;
	z->zetan = 0;
	for (uint64_t i = 1; i <= n; i++)
		z->zetan += 1.0 / pow((double)i, theta);
	z->alpha = 1.0 / (1.0 - theta);
	z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
	z->half_pow = 1.0 + pow(0.5, theta);
}

static uint64_t zipf_next(struct zipf *z)
{
	double u, uz;
	uint64_t rank;

	z->state ^= z->state << 13; /* xorshift64 */
	z->state ^= z->state >> 7;
	z->state ^= z->state << 17;
	u = (double)(z->state >> 11) / 9007199254740992.0;
	uz = u * z->zetan;
	if (uz < 1.0)
		rank = 0;
	else if (uz < z->half_pow)
		rank = 1;
	else
		rank = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	if (rank >= z->n)
		rank = z->n - 1;
	return (rank * 0x9e3779b97f4a7c15ull) % z->n;
}

/* An exact LRU of capacity entries over key ids, in process memory: the reference hit ratio. */
struct lru {
	uint32_t *prev, *next;
	uint8_t *in;
	uint32_t head, tail, size, capacity; /* head: most recent; UINT32_MAX: none */
};

#define NONE UINT32_MAX

static int lru_init(struct lru *l, uint32_t n, uint32_t capacity)
{
	l->prev = malloc(n * sizeof(*l->prev));
	l->next = malloc(n * sizeof(*l->next));
	l->in = calloc(n, 1);
	l->head = l->tail = NONE;
	l->size = 0;
	l->capacity = capacity;
	return l->prev && l->next && l->in ? 0 : bench_fail("out of memory for the LRU reference");
}

static void lru_free(struct lru *l)
{
	free(l->prev);
	free(l->next);
	free(l->in);
}

static void lru_unlink(struct lru *l, uint32_t k)
{
	if (l->prev[k] != NONE)
		l->next[l->prev[k]] = l->next[k];
	else
		l->head = l->next[k];
	if (l->next[k] != NONE)
		l->prev[l->next[k]] = l->prev[k];
	else
		l->tail = l->prev[k];
}

/* A get of k, and a put of it on a miss: whether it hit. */
static bool lru_access(struct lru *l, uint32_t k)
{
	bool hit = l->in[k];

	if (hit) {
		lru_unlink(l, k);
	} else if (l->size == l->capacity) {
		uint32_t victim = l->tail;

		lru_unlink(l, victim);
		l->in[victim] = 0;
	} else {
		l->size++;
	}
	l->in[k] = 1;
	l->prev[k] = NONE;
	l->next[k] = l->head;
	if (l->head != NONE)
		l->prev[l->head] = k;
	l->head = k;
	if (l->tail == NONE)
		l->tail = k;
	return hit;
}

static void key_of(uint64_t id, char *key)
{
	memset(key, 0, BENCH_KEY_LEN);
	snprintf(key, BENCH_KEY_LEN, "k%014llu", (unsigned long long)id);
}

static int failed(const char *what, int err)
{
	return bench_fail("%s: %s: %s", what, sc_strerror(err), sc_last_error());
}

static int open_cache(const char *name, uint64_t limit, uint32_t eviction, sc_cache **c)
{
	sc_options o = SC_OPTIONS(.num_partition = BOUNDED_PART, .memory_limit = limit, .eviction = eviction);
	int err = sc_destroy(name, &o);

	if (err && err != -ENOENT)
		return failed("sc_destroy", err);
	err = sc_start(name, &o, c);
	return err ? failed("sc_start", err) : 0;
}

static void close_cache(const char *name, sc_cache *c)
{
	sc_options o = SC_OPTIONS(.num_partition = BOUNDED_PART);

	(void)sc_stop(c);
	(void)sc_destroy(name, &o);
}

struct aside {
	uint64_t ops, hits, ns, evictions, records;
};

/* The cache-aside loop: get the key; on a miss, put it. */
static int cache_aside(sc_cache *c, struct zipf z, struct aside *out)
{
	char key[BENCH_KEY_LEN], value[BENCH_VALUE_LEN];
	uint64_t start = now_ns();
	sc_cache_stats *st;
	int err;

	memset(value, 'v', sizeof(value));
	*out = (struct aside){ 0 };
	for (uint32_t i = 0; i < ZIPF_OPS; i++) {
		sc_tuples *t = NULL;

		key_of(zipf_next(&z), key);
		err = sc_get(c, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)), &t);
		sc_tuples_free(t);
		if (err < 0)
			return failed("sc_get", err);
		out->hits += err > 0;
		if (err == 0) {
			memcpy(value, key, BENCH_KEY_LEN);
			err = sc_put(
				c, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN), sc_bytes(value, BENCH_VALUE_LEN)));
			if (err)
				return failed("sc_put", err);
		}
	}
	out->ns = now_ns() - start;
	out->ops = ZIPF_OPS;
	err = sc_stats(c, &st);
	if (err)
		return failed("sc_stats", err);
	out->evictions = st->total.evictions;
	out->records = st->total.records;
	sc_stats_free(st);
	return 0;
}

static double per_s(uint64_t ops, uint64_t ns)
{
	return ns ? (double)ops * 1e9 / (double)ns : 0;
}

/* The cache-aside loop over z's keys in a cache of its own, made for it and destroyed after. */
static int aside_in_fresh_cache(const char *what, uint64_t limit, uint32_t eviction, struct zipf z,
				struct aside *out)
{
	char name[64];
	sc_cache *c;
	int err;

	snprintf(name, sizeof(name), "bench-%s-%d", what, (int)getpid());
	err = open_cache(name, limit, eviction, &c);
	if (err)
		return err;
	err = cache_aside(c, z, out);
	close_cache(name, c);
	return err;
}

static int zipf_run(FILE *out)
{
	struct zipf z;
	struct aside limited, full;
	struct lru lru;
	uint64_t lru_hits = 0;
	int err;
	zipf_init(&z, ZIPF_KEYS, ZIPF_THETA, 0x5eed);
	err = aside_in_fresh_cache("evict", ZIPF_LIMIT, SC_EVICTION_CLOCK, z, &limited);
	if (!err)
		err = aside_in_fresh_cache("full", 512ull << 20, SC_EVICTION_OFF, z, &full);
	if (err)
		return err;
	/* The same key sequence through an exact LRU holding as many records as the cache ended with. */
	err = lru_init(&lru, ZIPF_KEYS, (uint32_t)limited.records);
	for (uint32_t i = 0; !err && i < ZIPF_OPS; i++)
		lru_hits += lru_access(&lru, (uint32_t)zipf_next(&z));
	lru_free(&lru);
	if (err)
		return err;
	fprintf(out,
		"\nAt the memory limit: zipfian keys (theta %.2f) over %u keys, %u get-then-put-on-miss\n"
		"operations, one process, %u partitions, %d-byte values\n",
		ZIPF_THETA, ZIPF_KEYS, ZIPF_OPS, BOUNDED_PART, BENCH_VALUE_LEN);
	fprintf(out, "  %-34s %9s %12s %12s %10s\n", "cache", "hit ratio", "ops/s", "records", "evictions");
	fprintf(out, "  %-34s %9.3f %12.0f %12llu %10llu\n", "48 MiB, SC_EVICTION_CLOCK",
		(double)limited.hits / (double)limited.ops, per_s(limited.ops, limited.ns),
		(unsigned long long)limited.records, (unsigned long long)limited.evictions);
	fprintf(out, "  %-34s %9.3f %12.0f %12llu %10llu\n", "512 MiB, never full",
		(double)full.hits / (double)full.ops, per_s(full.ops, full.ns),
		(unsigned long long)full.records, (unsigned long long)full.evictions);
	fprintf(out, "  %-34s %9.3f\n", "exact LRU, as many records as 48 MiB",
		(double)lru_hits / (double)ZIPF_OPS);
	fprintf(out, "  hit ratio, CLOCK / exact LRU: %.3f; ops/s, at the limit / never full: %.3f\n",
		(double)limited.hits / (double)(lru_hits ? lru_hits : 1),
		per_s(limited.ops, limited.ns) / per_s(full.ops, full.ns));
	return 0;
}

/* Passes of puts (with ttl_ms, or none) or gets over n keys until MIN_PASS_NS: operations per second. */
static int ttl_pass(sc_cache *c, bool put, uint64_t ttl_ms, double *ops_s)
{
	char key[BENCH_KEY_LEN], value[BENCH_VALUE_LEN];
	uint64_t start = now_ns(), ops = 0;

	memset(value, 'v', sizeof(value));
	while (now_ns() - start < MIN_PASS_NS) {
		for (uint32_t i = 0; i < TTL_KEYS; i++, ops++) {
			sc_tuples *t = NULL;
			int err;

			key_of((uint64_t)i * 7919 % TTL_KEYS, key);
			if (put) {
				const sc_tuple *tuple = SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN),
								 sc_bytes(value, BENCH_VALUE_LEN));

				err = ttl_ms ? sc_put_ttl(c, tuple, ttl_ms) : sc_put(c, tuple);
			} else {
				err = sc_get(c, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)), &t);
				sc_tuples_free(t);
				err = err == 1 ? 0 : err == 0 ? -ENOENT : err;
			}
			if (err)
				return failed(put ? "put" : "get", err);
		}
	}
	*ops_s = per_s(ops, now_ns() - start);
	return 0;
}

static int ttl_run(FILE *out)
{
	double put[2], get[2]; /* [0] without a time to live, [1] with */
	char name[64];
	sc_cache *c;
	int err = 0;

	for (int with = 0; with < 2 && !err; with++) {
		snprintf(name, sizeof(name), "bench-ttl%d-%d", with, (int)getpid());
		err = open_cache(name, 256ull << 20, SC_EVICTION_OFF, &c);
		if (err)
			return err;
		err = ttl_pass(c, true, with ? TTL_MS : 0, &put[with]);
		if (!err)
			err = ttl_pass(c, false, 0, &get[with]);
		close_cache(name, c);
	}
	if (err)
		return err;
	fprintf(out,
		"\nTime to live: %u keys, one process, every put overwriting; with: every tuple put with\n"
		"a time to live of an hour, which every get checks\n",
		TTL_KEYS);
	fprintf(out, "  %-6s %14s %14s %10s\n", "op", "with (ops/s)", "without", "with/without");
	fprintf(out, "  %-6s %14.0f %14.0f %10.3f\n", "put", put[1], put[0], put[1] / put[0]);
	fprintf(out, "  %-6s %14.0f %14.0f %10.3f\n", "get", get[1], get[0], get[1] / get[0]);
	return 0;
}

int bounded_runs(FILE *out)
{
	int err = zipf_run(out);

	return err ? err : ttl_run(out);
}
