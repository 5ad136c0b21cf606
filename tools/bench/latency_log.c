/* latency_log.c — samples in a MAP_SHARED region, appended with one atomic add each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "latency_log.h"

struct latency_log {
	size_t cap;
	uint64_t added; /* atomically: the next slot, and the operation count */
	uint64_t ns[];
};

static size_t region_size(size_t cap)
{
	return sizeof(struct latency_log) + cap * sizeof(uint64_t);
}

struct latency_log *latency_log_new(size_t cap)
{
	struct latency_log *l =
		mmap(NULL, region_size(cap), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (l == MAP_FAILED) {
		bench_fail("no memory for %zu latency samples: %s", cap, strerror(errno));
		return NULL;
	}
	l->cap = cap;
	return l;
}

void latency_log_free(struct latency_log *l)
{
	if (l)
		munmap(l, region_size(l->cap));
}

void latency_log_add(struct latency_log *l, uint64_t ns)
{
	const uint64_t at = __atomic_fetch_add(&l->added, 1, __ATOMIC_RELAXED);

	if (at < l->cap)
		l->ns[at] = ns;
}

static int compare_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int latency_log_summary(struct latency_log *l, uint64_t wall_ns, struct latency *out)
{
	const uint64_t ops = __atomic_load_n(&l->added, __ATOMIC_ACQUIRE);
	const size_t n = ops < l->cap ? (size_t)ops : l->cap;

	if (!n)
		return bench_fail("no operation finished");
	qsort(l->ns, n, sizeof(l->ns[0]), compare_u64);
	*out = (struct latency){
		.p50_ns = l->ns[(n - 1) * 50 / 100],
		.p99_ns = l->ns[(n - 1) * 99 / 100],
		.ops = ops,
		.ops_per_s = wall_ns ? (double)ops * 1e9 / (double)wall_ns : 0,
	};
	return 0;
}
