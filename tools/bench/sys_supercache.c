/* sys_supercache.c — libsupercache as a system under test, through its public copying API only. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <supercache.h>

#include "bench.h"

/*
 * The segment is a sparse file, so a generous limit costs nothing until it
 * is touched; overwrites need room for the records they retire until no
 * reader can see them any more.
 */
#define BYTES_PER_KEY	 (4ull << 10)
#define MIN_MEMORY_LIMIT (1ull << 30)
#define MAX_MEMORY_LIMIT (64ull << 30)

/*
 * The probe-cost twins (tools/meson.build) compile this file again into
 * each copy of the library they carry, each under its own struct and name,
 * so that the bench holds three of these systems: this one, linked against
 * the shared library, and one in each twin.
 */
#ifndef BENCH_SUPERCACHE_SYSTEM
#define BENCH_SUPERCACHE_SYSTEM bench_supercache
#define BENCH_SUPERCACHE_NAME	"supercache"
#endif

struct cache_store {
	char name[64];
	sc_options opts;
};

struct cache_worker {
	sc_cache *cache;
	uint64_t into[64]; /* sc_get_into's buffer: 512 bytes, aligned, room for one bench tuple */
	sc_tuple tuples[BENCH_BATCH_LEN];
	sc_field fields[2 * BENCH_BATCH_LEN]; /* tuples[i] points at fields[2i] and fields[2i + 1] */
	sc_kv_pair pairs[BENCH_KV_BATCH_LEN];
};

static unsigned next_store;

static int cache_failed(const char *call, int err)
{
	return bench_fail("%s: %s (%s)", call, sc_strerror(err), sc_last_error());
}

/*
 * The main process only creates the cache and destroys it: loading and
 * measuring attach their own handles like any client would, so no handle
 * is ever held across a fork.
 */
static int cache_create(size_t nkeys, void **out)
{
	struct cache_store *st = calloc(1, sizeof(*st));
	uint64_t limit = (uint64_t)nkeys * BYTES_PER_KEY;
	sc_cache *cache;
	int err;

	if (!st)
		return bench_fail("out of memory");
	if (limit < MIN_MEMORY_LIMIT)
		limit = MIN_MEMORY_LIMIT;
	if (limit > MAX_MEMORY_LIMIT)
		limit = MAX_MEMORY_LIMIT;
	/* Each copy of this file counts its stores from 0: the system's name keeps their names apart. */
	snprintf(st->name, sizeof(st->name), "bench-%s-%d-%u", BENCH_SUPERCACHE_NAME, (int)getpid(),
		 next_store++);
	st->opts = SC_OPTIONS(.num_partition = bench_partitions, .memory_limit = limit);
	/* A cache left under this name by a crashed run with our pid would not be fresh. */
	err = sc_destroy(st->name, &st->opts);
	if (err && err != -ENOENT) {
		cache_failed("sc_destroy", err);
		goto fail;
	}
	err = sc_start(st->name, &st->opts, &cache);
	if (err) {
		cache_failed("sc_start", err);
		goto fail;
	}
	err = sc_stop(cache);
	if (err) {
		cache_failed("sc_stop", err);
		(void)sc_destroy(st->name, &st->opts); /* the sc_stop failure is the one to report */
		goto fail;
	}
	*out = st;
	return 0;
fail:
	free(st);
	return -1;
}

static int cache_destroy(void *store)
{
	struct cache_store *st = store;
	int err = sc_destroy(st->name, &st->opts);

	if (err)
		cache_failed("sc_destroy", err);
	free(st);
	return err ? -1 : 0;
}

static int cache_attach(void *store, void **out)
{
	struct cache_store *st = store;
	struct cache_worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return bench_fail("out of memory");
	err = sc_attach(st->name, &st->opts, &w->cache);
	if (err) {
		free(w);
		return cache_failed("sc_attach", err);
	}
	for (size_t i = 0; i < BENCH_BATCH_LEN; i++)
		w->tuples[i] = (sc_tuple){ .nfields = 2, .fields = &w->fields[2 * i] };
	*out = w;
	return 0;
}

static int cache_detach(void *worker)
{
	struct cache_worker *w = worker;
	int err = sc_stop(w->cache);

	free(w);
	return err ? cache_failed("sc_stop", err) : 0;
}

static int cache_put(void *worker, const char *key, const char *value)
{
	struct cache_worker *w = worker;
	int err = sc_put(w->cache, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN), sc_bytes(value, BENCH_VALUE_LEN)));

	return err < 0 ? cache_failed("sc_put", err) : 0;
}

/* The one tuple of key, checked to be {key, value}: its value copied out. */
static int value_of_tuple(const char *call, const char *key, int found, const sc_tuples *t, char *value)
{
	const sc_field *f;

	if (found < 0)
		return cache_failed(call, found);
	if (found != 1)
		return bench_fail("%s: key %.16s: %d tuples instead of 1", call, key, found);
	f = t->tuples[0].fields;
	if (t->tuples[0].nfields != 2 || f[1].type != SC_FIELD_BYTES || f[1].len != BENCH_VALUE_LEN)
		return bench_fail("%s: key %.16s: the tuple is not {key, %d-byte value}", call, key,
				  BENCH_VALUE_LEN);
	memcpy(value, f[1].v.p, BENCH_VALUE_LEN);
	return 0;
}

static int cache_get(void *worker, const char *key, char *value)
{
	struct cache_worker *w = worker;
	sc_tuples *t = NULL;
	int found = sc_get(w->cache, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)), &t);
	/*
	 * sc_get has already copied the tuple out; copying the value on into
	 * the caller's buffer is how every system's get ends, so the shared
	 * loop checks all of them the same way (100 bytes from L1: noise).
	 */
	int err = value_of_tuple("sc_get", key, found, t, value);

	sc_tuples_free(t);
	return err;
}

static int cache_get_into(void *worker, const char *key, char *value)
{
	struct cache_worker *w = worker;
	const sc_tuples *t = NULL;
	int found = sc_get_into(w->cache, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)), w->into, sizeof(w->into),
				&t, NULL);

	return value_of_tuple("sc_get_into", key, found, t, value);
}

/* A view's visitor: the value copied out of shared memory, as every system's get ends. */
static int copy_viewed(const sc_tuple *tuple, void *value)
{
	const sc_tuples one = { 1, tuple };

	return value_of_tuple("sc_get_view", "", 1, &one, value) ? -EPROTO : 0;
}

static int cache_get_view(void *worker, const char *key, char *value)
{
	struct cache_worker *w = worker;
	int found = sc_get_view(w->cache, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)), copy_viewed, value);

	if (found == -EPROTO)
		return -1; /* copy_viewed said why */
	return found == 1 ? 0 : value_of_tuple("sc_get_view", key, found, NULL, value);
}

static int cache_del(void *worker, const char *key)
{
	struct cache_worker *w = worker;
	int n = sc_delete(w->cache, SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN)));

	if (n < 0)
		return cache_failed("sc_delete", n);
	return n == 1 ? 0 : bench_fail("sc_delete: key %.16s: %d tuples deleted instead of 1", key, n);
}

static int cache_put_batch(void *worker, const char (*keys)[BENCH_KEY_LEN],
			   const char (*values)[BENCH_VALUE_LEN], size_t n)
{
	struct cache_worker *w = worker;
	int err;

	if (n > BENCH_BATCH_LEN)
		return bench_fail("sc_put_batch: %zu tuples, at most %d expected", n, BENCH_BATCH_LEN);
	for (size_t i = 0; i < n; i++) {
		w->fields[2 * i] = sc_bytes(keys[i], BENCH_KEY_LEN);
		w->fields[2 * i + 1] = sc_bytes(values[i], BENCH_VALUE_LEN);
	}
	err = sc_put_batch(w->cache, w->tuples, n);
	return err < 0 ? cache_failed("sc_put_batch", err) : 0;
}

/*
 * The key's partition is known (partition_pos is key_pos), so queries name
 * it as partition data, as the seed's get_by_match!(partition_data,
 * pattern) does: a bound key then costs one probe, not one per partition.
 */
static int cache_match_key(void *worker, const char *key, char *value)
{
	struct cache_worker *w = worker;
	sc_field k = sc_bytes(key, BENCH_KEY_LEN);
	sc_tuples *t;
	int n = sc_get_by_match(w->cache, &k, SC_TUPLE(k, sc_capture(1)), &t);

	if (n < 0)
		return cache_failed("sc_get_by_match", n);
	if (n != 1 || t->tuples[0].nfields != 1 || t->tuples[0].fields[0].len != BENCH_VALUE_LEN) {
		sc_tuples_free(t);
		return bench_fail("sc_get_by_match: key %.16s: %d matches, one value expected", key, n);
	}
	memcpy(value, t->tuples[0].fields[0].v.p, BENCH_VALUE_LEN);
	sc_tuples_free(t);
	return 0;
}

static int cache_match_value(void *worker, const char *value, size_t *found)
{
	struct cache_worker *w = worker;
	sc_tuples *t;
	int n = sc_get_by_match_object(w->cache, NULL, SC_TUPLE(sc_any(), sc_bytes(value, BENCH_VALUE_LEN)),
				       &t);

	if (n < 0)
		return cache_failed("sc_get_by_match_object", n);
	sc_tuples_free(t);
	*found = (size_t)n;
	return 0;
}

static int consume(const sc_tuple *t, void *sum)
{
	*(uint64_t *)sum = bench_consume(*(uint64_t *)sum, t->fields[0].v.p, t->fields[1].v.p);
	return 0;
}

static int cache_scan(void *worker, size_t *visited)
{
	struct cache_worker *w = worker;
	uint64_t sum = 0;
	int n = sc_scan(w->cache, NULL, consume, &sum);

	if (n < 0)
		return cache_failed("sc_scan", n);
	*visited = (size_t)n;
	return 0;
}

static int cache_kv_add_batch(void *worker, const char (*keys)[BENCH_KEY_LEN],
			      const char (*values)[BENCH_VALUE_LEN], size_t n)
{
	struct cache_worker *w = worker;
	int err;

	for (size_t i = 0; i < n; i++)
		w->pairs[i] = (sc_kv_pair){ sc_bytes(keys[i], BENCH_KEY_LEN),
					    sc_bytes(values[i], BENCH_VALUE_LEN) };
	err = sc_kv_add_batch(w->cache, "bench", w->pairs, n);
	return err < 0 ? cache_failed("sc_kv_add_batch", err) : 0;
}

static int cache_seq_add(void *worker, bool stack, const char *value)
{
	struct cache_worker *w = worker;
	sc_field v = sc_bytes(value, BENCH_VALUE_LEN);
	int err = stack ? sc_stack_push(w->cache, "bench", v) : sc_queue_add(w->cache, "bench", v);

	return err < 0 ? cache_failed(stack ? "sc_stack_push" : "sc_queue_add", err) : 0;
}

static int cache_seq_take(void *worker, bool stack, char *value)
{
	struct cache_worker *w = worker;
	sc_tuples *t = NULL;
	int n = stack ? sc_stack_pop(w->cache, "bench", NULL, &t) : sc_queue_out(w->cache, "bench", NULL, &t);

	if (n < 0)
		return cache_failed(stack ? "sc_stack_pop" : "sc_queue_out", n);
	if (n == 0 || t->tuples[0].fields[0].len != BENCH_VALUE_LEN) {
		sc_tuples_free(t);
		return bench_fail("%s: nothing to take, or not a value",
				  stack ? "sc_stack_pop" : "sc_queue_out");
	}
	memcpy(value, t->tuples[0].fields[0].v.p, BENCH_VALUE_LEN);
	sc_tuples_free(t);
	return 0;
}

static int cache_lazy_put(void *worker, const char *key, const char *value)
{
	struct cache_worker *w = worker;
	int err = sc_lazy_put(w->cache,
			      SC_TUPLE(sc_bytes(key, BENCH_KEY_LEN), sc_bytes(value, BENCH_VALUE_LEN)));

	return err < 0 ? cache_failed("sc_lazy_put", err) : 0;
}

static int cache_flush(void *worker)
{
	struct cache_worker *w = worker;
	int err = sc_flush(w->cache);

	return err < 0 ? cache_failed("sc_flush", err) : 0;
}

static int cache_kv_increment(void *worker, const char *key)
{
	struct cache_worker *w = worker;
	sc_field now;
	int err = sc_kv_increment(w->cache, "counters", sc_bytes(key, BENCH_KEY_LEN), sc_int(0), sc_int(1),
				  &now);

	return err < 0 ? cache_failed("sc_kv_increment", err) : 0;
}

const struct bench_system BENCH_SUPERCACHE_SYSTEM = {
	.name = BENCH_SUPERCACHE_NAME,
	.threaded = false,
	.create = cache_create,
	.destroy = cache_destroy,
	.attach = cache_attach,
	.detach = cache_detach,
	.put = cache_put,
	.get = cache_get,
	.get_into = cache_get_into,
	.get_view = cache_get_view,
	.del = cache_del,
	.put_batch = cache_put_batch,
	.match_key = cache_match_key,
	.match_value = cache_match_value,
	.scan = cache_scan,
	.kv_add_batch = cache_kv_add_batch,
	.seq_add = cache_seq_add,
	.seq_take = cache_seq_take,
	.lazy_put = cache_lazy_put,
	.flush = cache_flush,
	.kv_increment = cache_kv_increment,
};
