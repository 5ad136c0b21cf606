/* workload.h — the keys and values every system is measured with, and the clock that times them. */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/*
 * n keys and their values, stored in measurement order: position i holds
 * key id perm[i] of a fixed-seed random permutation. Walking the arrays
 * front to back is then random in key space (every system sees random
 * access) but sequential in the benchmark's own memory, which the hardware
 * prefetches, so the benchmark's reads stay out of the measurements.
 */
struct dataset {
	size_t n;
	char (*keys)[BENCH_KEY_LEN];
	char (*values)[BENCH_VALUE_LEN]; /* values[i] belongs to keys[i] */
};

int dataset_init(struct dataset *ds, size_t n);
void dataset_free(struct dataset *ds);

/* A value starts with its key, so a get that returns another key's value is caught with one compare. */
static inline bool dataset_value_matches(const char *key, const char *value)
{
	return memcmp(key, value, BENCH_KEY_LEN) == 0;
}

/* Cannot fail with a valid clock and pointer; main() checks once that CLOCK_MONOTONIC exists. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* WORKLOAD_H */
