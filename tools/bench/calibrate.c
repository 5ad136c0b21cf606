/* calibrate.c — the machine's floor for a lookup: one dependent load over a working set of a given size. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "calibrate.h"
#include "workload.h"

#define LINE 64
#define HOPS (4u << 20)

/* A 100-byte value and a 16-byte key make a 176-byte record; the index adds about 16 bytes per key. */
size_t calibrate_footprint(size_t nkeys)
{
	return nkeys * 192;
}

/* Sattolo's shuffle: one cycle through every line, so the chase visits them all in random order. */
static int link_lines(uint64_t *lines, size_t n)
{
	uint32_t *order = malloc(n * sizeof(*order));
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!order)
		return -1;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j;
		uint32_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		lines[(size_t)order[i] * (LINE / 8)] = (uint64_t)order[(i + 1) % n] * (LINE / 8);
	free(order);
	return 0;
}

double calibrate_dependent_load_ns(size_t bytes)
{
	size_t n = bytes / LINE < 2 ? 2 : bytes / LINE;
	uint64_t *lines = mmap(NULL, n * LINE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile uint64_t sink;
	uint64_t at = 0, t0;

	if (lines == MAP_FAILED)
		return -1;
	madvise(lines, n * LINE, MADV_NOHUGEPAGE);
	if (link_lines(lines, n)) {
		munmap(lines, n * LINE);
		return -1;
	}
	for (size_t i = 0; i < n; i++) /* one lap untimed: the pages are faulted in */
		at = lines[at];
	t0 = now_ns();
	for (unsigned i = 0; i < HOPS; i++)
		at = lines[at];
	sink = at;
	(void)sink;
	t0 = now_ns() - t0;
	munmap(lines, n * LINE);
	return (double)t0 / HOPS;
}
