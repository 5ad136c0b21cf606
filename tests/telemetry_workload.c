/* telemetry_workload.c — a client of the shared libsupercache doing a counted workload, for the telemetry tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <supercache.h>

/*
 * usage: sctest-telemetry-workload NAME put|get|expire|evict N [FIRST]
 *   put     N puts, keys FIRST .. FIRST+N-1
 *   get     N gets of keys FIRST .. FIRST+N-1 (they must be there)
 *   expire  N puts with a 1 ms time to live, then sc_expire once they are
 *           all past it; prints how many expirations the cache counts
 *   evict   N puts of 200-byte values into a cache of 16 MiB with
 *           SC_EVICTION_CLOCK; prints how many evictions the cache counts
 * The cache is started (or attached) with 4 partitions (evict: 2, and its
 * limit). Exit 0 when every call succeeded, 1 with the library's message
 * otherwise.
 */
static int fail(const char *what, int err)
{
	fprintf(stderr, "sctest-telemetry-workload: %s: %s (%s)\n", what, sc_strerror(err), sc_last_error());
	return 1;
}

/* What the cache's own statistics say went: the number the BPF maps must match. */
static int print_count(sc_cache *c, int expirations)
{
	sc_cache_stats *stats;
	int r = sc_stats(c, &stats);

	if (r)
		return fail("sc_stats", r);
	printf("%llu\n",
	       (unsigned long long)(expirations ? stats->total.expirations : stats->total.evictions));
	sc_stats_free(stats);
	return 0;
}

static int evict_some(sc_cache *c, long first, long n)
{
	char value[200];
	int r;

	memset(value, 'v', sizeof(value));
	for (long k = first; k < first + n; k++)
		if ((r = sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value, sizeof(value))))) != 0)
			return fail("sc_put", r);
	return print_count(c, 0);
}

static int expire_all(sc_cache *c, long first, long n)
{
	uint64_t left;
	int r;
	for (long k = first; k < first + n; k++)
		if ((r = sc_put_ttl(c, SC_TUPLE(sc_int(k), sc_str("short-lived")), 1)) != 0)
			return fail("sc_put_ttl", r);
	/* The deadline is a clock's, not another process's: wait for the clock, then expire. */
	while ((r = sc_ttl(c, SC_TUPLE(sc_int(first + n - 1)), &left)) > 0)
		;
	/* Writes expire some on the way (a sweep step each): the cache's count has them all. */
	if ((r = sc_expire(c)) < 0)
		return fail("sc_expire", r);
	return print_count(c, 1);
}

int main(int argc, char **argv)
{
	sc_cache *c;
	long n, first;
	int r, status = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: sctest-telemetry-workload NAME put|get|expire|evict N [FIRST]\n");
		return 2;
	}
	n = atol(argv[3]);
	first = argc == 5 ? atol(argv[4]) : 0;
	if (strcmp(argv[2], "evict") == 0)
		r = sc_start(argv[1],
			     &SC_OPTIONS(.num_partition = 2, .memory_limit = 16 << 20,
					 .eviction = SC_EVICTION_CLOCK),
			     &c);
	else
		r = sc_start(argv[1], &SC_OPTIONS(.num_partition = 4), &c);
	if (r)
		return fail("sc_start", r);
	if (strcmp(argv[2], "expire") == 0)
		status = expire_all(c, first, n);
	if (strcmp(argv[2], "evict") == 0)
		status = evict_some(c, first, n);
	for (long k = first; strcmp(argv[2], "put") == 0 && k < first + n && !status; k++)
		if ((r = sc_put(c, SC_TUPLE(sc_int(k), sc_str("value")))) != 0)
			status = fail("sc_put", r);
	for (long k = first; strcmp(argv[2], "get") == 0 && k < first + n && !status; k++) {
		sc_tuples *out = NULL;

		r = sc_get(c, SC_TUPLE(sc_int(k)), &out);
		sc_tuples_free(out);
		if (r != 1)
			status = fail("sc_get", r < 0 ? r : -ENOENT);
	}
	sc_stop(c);
	return status;
}
