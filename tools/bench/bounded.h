/* bounded.h — supercache-bench --bounded: a zipfian cache-aside load at the memory limit, and the cost of TTL. */
#ifndef BOUNDED_H
#define BOUNDED_H

#include <stdio.h>

#include "bench.h"

/*
 * Run both and print them to out: a cache-aside loop (get; put on a miss)
 * over zipfian keys in a cache that holds about a fifth of them, with
 * CLOCK eviction, against the same loop in a cache that holds them all and
 * against an exact LRU of the same size fed the same keys; then puts and
 * gets with and without a time to live. 0, or -1 after bench_fail().
 */
int bounded_runs(FILE *out);

#endif /* BOUNDED_H */
