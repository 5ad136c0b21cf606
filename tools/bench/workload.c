/* workload.c — builds the data set: "k%015llu" keys in a fixed random order, values derived from them. */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

/* Fixed so that every run, and every system within a run, walks the keys in the same order. */
#define SHUFFLE_SEED 0x5eedb16b00b5ca11ull

/* splitmix64: tiny and good enough to shuffle; rand() is neither reproducible across libcs nor 64-bit. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void make_key(uint64_t id, char *key)
{
	char text[BENCH_KEY_LEN + 1]; /* snprintf's NUL does not go into the key */

	snprintf(text, sizeof(text), "k%015llu", (unsigned long long)id);
	memcpy(key, text, BENCH_KEY_LEN);
}

static void make_value(uint64_t id, const char *key, char *value)
{
	memcpy(value, key, BENCH_KEY_LEN);
	for (size_t j = BENCH_KEY_LEN; j < BENCH_VALUE_LEN; j++)
		value[j] = (char)('a' + (id + j) % 26);
}

int dataset_init(struct dataset *ds, size_t n)
{
	uint64_t state = SHUFFLE_SEED;
	uint64_t *ids;

	if (n == 0)
		return bench_fail("a data set needs at least one key");
	ds->n = n;
	ds->keys = calloc(n, BENCH_KEY_LEN);
	ds->values = calloc(n, BENCH_VALUE_LEN);
	ids = calloc(n, sizeof(*ids));
	if (!ds->keys || !ds->values || !ids) {
		free(ids);
		dataset_free(ds);
		return bench_fail("out of memory for %zu keys and values", n);
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = i;
	/* Fisher-Yates; the multiply-shift bound has a bias below 2^-40 at these sizes. */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(((unsigned __int128)next_random(&state) * (i + 1)) >> 64);
		uint64_t t = ids[i];

		ids[i] = ids[j];
		ids[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		make_key(ids[i], ds->keys[i]);
		make_value(ids[i], ds->keys[i], ds->values[i]);
	}
	free(ids);
	return 0;
}

void dataset_free(struct dataset *ds)
{
	free(ds->keys);
	free(ds->values);
	ds->keys = NULL;
	ds->values = NULL;
	ds->n = 0;
}
