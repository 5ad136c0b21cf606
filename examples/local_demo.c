/* local_demo.c — several processes sharing one cache: one writes users, others read them as they appear. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <supercache.h>

#define USERS	20000
#define READERS 3

static const char *cache_name = "local-demo";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", who, what, sc_strerror(err), sc_last_error());
	return 1;
}

/* The writer: USERS tuples {"user", id, name, score}, then a {"done", count} marker for the readers. */
static int writer(void)
{
	char name[32];
	sc_cache *c;
	double t0;
	int err = sc_attach(cache_name, NULL, &c);

	if (err)
		return fail("writer", "attach", err);
	t0 = now_s();
	for (int64_t id = 0; id < USERS; id++) {
		snprintf(name, sizeof(name), "user-%05" PRId64, id);
		err = sc_put(c, SC_TUPLE(sc_int(id), sc_str("user"), sc_str(name), sc_dbl((double)id / 7)));
		if (err)
			return fail("writer", "put", err);
	}
	err = sc_put(c, SC_TUPLE(sc_int(-1), sc_str("done"), sc_int(USERS)));
	if (err)
		return fail("writer", "put", err);
	printf("writer   (pid %d): put %d users in %.1f ms\n", (int)getpid(), USERS, (now_s() - t0) * 1e3);
	sc_stop(c);
	return 0;
}

static int writer_done(sc_cache *c)
{
	sc_tuples *t;
	int found = sc_get(c, SC_TUPLE(sc_int(-1)), &t);

	sc_tuples_free(t);
	return found == 1;
}

/* A reader: random lookups while the writer works, then one pass that must find every user. */
static int reader(int n)
{
	uint64_t gets = 0, hits = 0;
	unsigned seed = (unsigned)getpid();
	sc_tuples *t;
	sc_cache *c;
	double t0;
	int err = sc_attach(cache_name, NULL, &c);

	if (err)
		return fail("reader", "attach", err);
	t0 = now_s();
	while (!writer_done(c)) {
		for (int i = 0; i < 1000; i++) {
			int found = sc_get(c, SC_TUPLE(sc_int(rand_r(&seed) % USERS)), &t);
			if (found < 0)
				return fail("reader", "get", found);
			hits += (uint64_t)found;
			gets++;
			sc_tuples_free(t);
		}
	}
	for (int64_t id = 0; id < USERS; id++) {
		int found = sc_get(c, SC_TUPLE(sc_int(id)), &t);
		if (found != 1 || t->tuples[0].fields[3].v.d != (double)id / 7) {
			fprintf(stderr, "reader %d: user %" PRId64 " missing or wrong\n", n, id);
			return 1;
		}
		sc_tuples_free(t);
	}
	printf("reader %d (pid %d): %" PRIu64 " gets while the writer ran (%.0f%% found), "
	       "then all %d users verified, in %.1f ms\n",
	       n, (int)getpid(), gets, gets ? 100.0 * (double)hits / (double)gets : 0.0, USERS,
	       (now_s() - t0) * 1e3);
	sc_stop(c);
	return 0;
}

static pid_t spawn(int (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		int code = fn(arg);

		fflush(stdout);
		_exit(code);
	}
	return pid;
}

static int run_writer(int unused)
{
	(void)unused;
	return writer();
}

static void print_stats(sc_cache *c)
{
	sc_cache_stats *s;

	if (sc_stats(c, &s))
		return;
	printf("\n%-9s %9s %11s %9s %9s %9s\n", "partition", "records", "bytes", "puts", "gets", "hits");
	for (uint32_t p = 0; p < s->num_partition; p++) {
		const sc_partition_stats *ps = &s->partitions[p];
		printf("%-9u %9" PRIu64 " %11" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n", p,
		       ps->records, ps->bytes, ps->puts, ps->gets, ps->hits);
	}
	printf("%-9s %9" PRIu64 " %11" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n", "total",
	       s->total.records, s->total.bytes, s->total.puts, s->total.gets, s->total.hits);
	printf("shared memory in use: %.1f MiB of a %.0f MiB limit\n", (double)s->memory_used / (1 << 20),
	       (double)s->memory_limit / (1 << 20));
	sc_stats_free(s);
}

int main(void)
{
	pid_t pids[READERS + 1];
	int failures = 0;
	sc_cache *c;
	int err;

	/* Start from an empty cache: a segment left by an earlier run would hold its data (warm restart). */
	sc_destroy(cache_name, NULL);
	err = sc_start(cache_name, &SC_OPTIONS(.memory_limit = 64 << 20), &c);
	if (err)
		return fail("demo", "start", err);
	printf("cache \"%s\": one writer and %d readers, each its own process\n\n", cache_name, READERS);
	fflush(stdout); /* or the children would print it again */

	pids[0] = spawn(run_writer, 0);
	for (int i = 1; i <= READERS; i++)
		pids[i] = spawn(reader, i);
	for (int i = 0; i <= READERS; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failures++;
	}
	print_stats(c);
	sc_stop(c);
	sc_destroy(cache_name, NULL);
	if (failures) {
		fprintf(stderr, "%d of %d processes failed\n", failures, READERS + 1);
		return 1;
	}
	printf("\nall %d processes done; the segment is removed\n", READERS + 1);
	return 0;
}
