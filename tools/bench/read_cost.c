/*
 * read_cost.c — supercache-read-cost: the reads of one key, each form in a
 * loop of its own, over a cache of the bench's tuples, for an instruction
 * counter to divide (read_cost.sh runs it under callgrind). Nothing else
 * runs in the loops: what they cost is the calls'.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <supercache.h>

#include "bench.h"
#include "workload.h"

/* Each loop's calls: keys x rounds. */
#define ROUNDS 10

static int failed(const char *call, int rc)
{
	fprintf(stderr, "supercache-read-cost: %s: %s (%s)\n", call, sc_strerror(rc), sc_last_error());
	return 1;
}

/* The value of key's one tuple into value: 0, or what went wrong. */
static int value_of(const sc_tuples *t, int found, char *value)
{
	if (found != 1 || t->tuples[0].nfields != 2 || t->tuples[0].fields[1].len != BENCH_VALUE_LEN)
		return found < 0 ? found : -EPROTO;
	memcpy(value, t->tuples[0].fields[1].v.p, BENCH_VALUE_LEN);
	return 0;
}

static __attribute__((noinline)) int loop_get(sc_cache *c, const struct dataset *ds, char *value)
{
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < ds->n; i++) {
			sc_tuples *t = NULL;
			int err = value_of(t, sc_get(c, SC_TUPLE(sc_bytes(ds->keys[i], BENCH_KEY_LEN)), &t),
					   value);

			sc_tuples_free(t);
			if (err)
				return failed("sc_get", err);
		}
	return 0;
}

static __attribute__((noinline)) int loop_get_into(sc_cache *c, const struct dataset *ds, char *value)
{
	uint64_t buf[64];

	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < ds->n; i++) {
			const sc_tuples *t = NULL;
			int found = sc_get_into(c, SC_TUPLE(sc_bytes(ds->keys[i], BENCH_KEY_LEN)), buf,
						sizeof(buf), &t, NULL);
			int err = value_of(t, found, value);

			if (err)
				return failed("sc_get_into", err);
		}
	return 0;
}

static int copy_viewed(const sc_tuple *t, void *value)
{
	const sc_tuples one = { 1, t };

	return value_of(&one, 1, value) ? -EPROTO : 0;
}

static __attribute__((noinline)) int loop_get_view(sc_cache *c, const struct dataset *ds, char *value)
{
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < ds->n; i++) {
			int found = sc_get_view(c, SC_TUPLE(sc_bytes(ds->keys[i], BENCH_KEY_LEN)),
						copy_viewed, value);

			if (found != 1)
				return failed("sc_get_view", found < 0 ? found : -EPROTO);
		}
	return 0;
}

static __attribute__((noinline)) int loop_kv_get_into(sc_cache *c, const struct dataset *ds, char *value)
{
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < ds->n; i++) {
			sc_field v;
			int found = sc_kv_get_into(c, "kv", sc_bytes(ds->keys[i], BENCH_KEY_LEN), value,
						   BENCH_VALUE_LEN, &v, NULL);

			if (found != 1 || v.len != BENCH_VALUE_LEN)
				return failed("sc_kv_get_into", found < 0 ? found : -EPROTO);
		}
	return 0;
}

int main(int argc, char **argv)
{
	size_t nkeys = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	char name[64], value[BENCH_VALUE_LEN];
	struct dataset ds;
	sc_cache *c = NULL;
	sc_options o = SC_OPTIONS();
	int err;

	if (nkeys == 0 || dataset_init(&ds, nkeys)) {
		fprintf(stderr, "usage: supercache-read-cost [keys, default 10000]\n");
		return 2;
	}
	snprintf(name, sizeof(name), "read-cost-%d", (int)getpid());
	err = sc_start(name, &o, &c);
	if (err)
		return failed("sc_start", err);
	for (size_t i = 0; i < ds.n && !err; i++) {
		err = sc_put(c, SC_TUPLE(sc_bytes(ds.keys[i], BENCH_KEY_LEN),
					 sc_bytes(ds.values[i], BENCH_VALUE_LEN)));
		if (!err)
			err = sc_kv_add(c, "kv", sc_bytes(ds.keys[i], BENCH_KEY_LEN),
					sc_bytes(ds.values[i], BENCH_VALUE_LEN));
	}
	if (err)
		failed("loading", err);
	else
		err = loop_get(c, &ds, value) || loop_get_into(c, &ds, value) ||
		      loop_get_view(c, &ds, value) || loop_kv_get_into(c, &ds, value);
	if (err == 0)
		printf("%zu keys, %d rounds: %zu calls of each read\n", ds.n, ROUNDS, ds.n * ROUNDS);
	sc_stop(c);
	sc_destroy(name, &o);
	dataset_free(&ds);
	return err ? 1 : 0;
}
