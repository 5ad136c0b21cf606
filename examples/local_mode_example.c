/*
 * local_mode_example.c — every local API in one walk-through, then several processes sharing one cache.
 *
 * Part 1 goes through the API in the order of the seed's local_mode_example.exs: tuples, batches,
 * lazy_put, matches and scans, partition-addressed calls, KeyValue, Queue, Stack, Struct, stats.
 * Part 2 forks a producer that fills a job queue and publishes prices, and consumers that take the
 * jobs and read the prices, each in its own process; every job must be taken exactly once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <supercache.h>

#define JOBS	  30000
#define CONSUMERS 3
#define PRICES	  1000

static const char *cache_name = "local-mode-example";

static int fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", who, what, sc_strerror(err), sc_last_error());
	return 1;
}

/* Stop at the first failure: every call below must succeed for the walk-through to mean anything. */
#define CHECK(call)                                               \
	do {                                                      \
		int check_rc_ = (call);                           \
		if (check_rc_ < 0)                                \
			return fail("example", #call, check_rc_); \
	} while (0)

static void print_tuple(const char *label, const sc_tuple *t)
{
	printf("  %s {", label);
	for (uint32_t i = 0; i < t->nfields; i++) {
		const sc_field *f = &t->fields[i];

		printf(i ? ", " : "");
		if (f->type == SC_FIELD_INT)
			printf("%" PRId64, f->v.i);
		else if (f->type == SC_FIELD_DOUBLE)
			printf("%g", f->v.d);
		else
			printf("\"%.*s\"", (int)f->len, (const char *)f->v.p);
	}
	printf("}\n");
}

/* What append_tag() appends, and where it builds the value (to last until sc_kv_update_fn() returns). */
struct tagging {
	const char *tag;
	char built[256];
};

/*
 * For sc_kv_update_fn(): the current bytes with a tag appended. It runs under the partition's lock, so it
 * only computes: no call to the cache from here.
 */
static int append_tag(const sc_field *current, void *arg, sc_field *next)
{
	struct tagging *t = arg;
	size_t n = current->len, extra = strlen(t->tag);

	if (current->type != SC_FIELD_BYTES || n + extra > sizeof(t->built))
		return -EINVAL;
	memcpy(t->built, current->v.p, n);
	memcpy(t->built + n, t->tag, extra);
	*next = sc_bytes(t->built, (uint32_t)(n + extra));
	return 0;
}

static void print_all(const char *label, const sc_tuples *t)
{
	for (size_t i = 0; t && i < t->count; i++)
		print_tuple(label, &t->tuples[i]);
}

static int sum_scores(const sc_tuple *t, void *acc)
{
	if (t->nfields == 3 && t->fields[2].type == SC_FIELD_INT)
		*(int64_t *)acc += t->fields[2].v.i;
	return 0;
}

struct user {
	int64_t id;
	char name[24];
	char email[40];
};

static int walk_through(sc_cache *c)
{
	sc_tuples *t = NULL;
	int n;

	printf("== tuples\n");
	CHECK(sc_put(c, SC_TUPLE(sc_str("user:1"), sc_str("Alice"), sc_int(90))));
	CHECK(sc_put(c, SC_TUPLE(sc_str("user:2"), sc_str("Bob"), sc_int(75))));
	CHECK(n = sc_get(c, SC_TUPLE(sc_str("user:1")), &t));
	print_all("get user:1 ->", t);
	sc_tuples_free(t);
	CHECK(n = sc_delete(c, SC_TUPLE(sc_str("user:2"))));
	printf("  delete user:2 -> %d deleted\n", n);

	printf("== put_batch and lazy_put\n");
	{
		sc_field f[3 * 4];
		sc_tuple batch[4];
		static const char *keys[] = { "user:3", "user:4", "user:5", "user:6" };
		static const char *names[] = { "Carol", "Dave", "Erin", "Frank" };

		for (int i = 0; i < 4; i++) {
			f[3 * i] = sc_str(keys[i]);
			f[3 * i + 1] = sc_str(names[i]);
			f[3 * i + 2] = sc_int(60 + 10 * i);
			batch[i] = (sc_tuple){ 3, &f[3 * i] };
		}
		CHECK(sc_put_batch(c, batch, 4));
		printf("  put_batch: 4 users, each partition's lock taken once\n");
	}
	/* Buffers are stored after 5 ms by default; 1 s here, so that the get below runs before. */
	CHECK(sc_lazy_configure(c, 1000000, 0));
	CHECK(sc_lazy_put(c, SC_TUPLE(sc_str("user:7"), sc_str("Grace"), sc_int(99))));
	CHECK(n = sc_get(c, SC_TUPLE(sc_str("user:7")), &t));
	printf("  lazy_put user:7 -> buffered, get finds %d before sc_flush\n", n);
	sc_tuples_free(t);
	CHECK(sc_flush(c));
	CHECK(n = sc_get(c, SC_TUPLE(sc_str("user:7")), &t));
	printf("  after sc_flush get finds %d\n", n);
	sc_tuples_free(t);

	printf("== matches and scans\n");
	CHECK(n = sc_get_by_match(c, NULL, SC_TUPLE(sc_capture(1), sc_capture(2), sc_int(90)), &t));
	print_all("match {$1, $2, 90} ->", t);
	sc_tuples_free(t);
	CHECK(n = sc_get_by_match_object(c, NULL, SC_TUPLE(sc_str("user:4"), sc_any(), sc_any()), &t));
	print_all("match_object {\"user:4\", _, _} ->", t);
	sc_tuples_free(t);
	{
		int64_t total = 0;

		CHECK(n = sc_scan(c, NULL, sum_scores, &total));
		printf("  scan: %d tuples, scores add up to %" PRId64 "\n", n, total);
	}
	CHECK(n = sc_delete_by_match(c, NULL, SC_TUPLE(sc_any(), sc_str("Frank"), sc_any())));
	printf("  delete_by_match {_, \"Frank\", _} -> %d deleted\n", n);

	printf("== partition-addressed\n");
	CHECK(sc_put_partition_by_idx(c, SC_TUPLE(sc_str("pinned"), sc_str("in partition 0"), sc_int(0)), 0));
	CHECK(n = sc_get_partition_by_idx(c, sc_str("pinned"), 0, &t));
	print_all("get_partition_by_idx(\"pinned\", 0) ->", t);
	sc_tuples_free(t);
	CHECK(n = sc_get_same_key_partition(c, sc_str("user:1"), &t));
	printf("  get_same_key_partition(\"user:1\") -> %d\n", n);
	sc_tuples_free(t);

	printf("== KeyValue\n");
	CHECK(sc_kv_add(c, "session", sc_str("user_1"), sc_str("Alice")));
	{
		sc_kv_pair pairs[] = { { sc_str("user_2"), sc_str("Bob") },
				       { sc_str("user_3"), sc_str("Charlie") } };
		sc_field gone[] = { sc_str("user_1"), sc_str("user_2") };
		sc_field dflt = sc_str("(none)");

		CHECK(sc_kv_add_batch(c, "session", pairs, 2));
		CHECK(n = sc_kv_get(c, "session", sc_str("user_3"), NULL, &t));
		print_all("get session user_3 ->", t);
		sc_tuples_free(t);
		printf("  count session -> %d\n", sc_kv_count(c, "session"));
		CHECK(n = sc_kv_remove_batch(c, "session", gone, 2));
		printf("  remove_batch [user_1, user_2] -> %d removed\n", n);
		CHECK(sc_kv_get(c, "session", sc_str("user_1"), &dflt, &t));
		print_all("get session user_1 with a default ->", t);
		sc_tuples_free(t);
		CHECK(n = sc_kv_to_list(c, "session", &t));
		print_all("to_list session ->", t);
		sc_tuples_free(t);
	}
	{
		sc_field now;

		/* An atomic counter: a missing key starts from the default. */
		CHECK(sc_kv_increment(c, "counters", sc_str("visits"), sc_int(0), sc_int(1), &now));
		CHECK(sc_kv_increment(c, "counters", sc_str("visits"), sc_int(0), sc_int(5), &now));
		printf("  increment counters visits by 1, then 5 -> %" PRId64 "\n", now.v.i);
	}
	{
		struct tagging gold = { "+gold", { 0 } };

		/* Any read-modify-write: the function gets the value (or the default) under the lock. */
		CHECK(sc_kv_update_fn(c, "session", sc_str("user_3"), sc_str(""), append_tag, &gold, &t));
		print_all("update_fn session user_3 (append \"+gold\") ->", t);
		sc_tuples_free(t);
		CHECK(sc_kv_replace(c, "session", sc_str("user_3"), sc_str("Carol")));
		CHECK(n = sc_kv_get_all(c, "session", sc_str("user_3"), &t));
		print_all("replace, then get_all session user_3 ->", t);
		sc_tuples_free(t);
	}

	printf("== Queue and Stack\n");
	CHECK(sc_queue_add(c, "jobs-demo", sc_str("process_order_1")));
	CHECK(sc_queue_add(c, "jobs-demo", sc_str("process_order_2")));
	CHECK(sc_queue_out(c, "jobs-demo", NULL, &t));
	print_all("queue out ->", t);
	sc_tuples_free(t);
	CHECK(sc_queue_peak(c, "jobs-demo", NULL, &t));
	print_all("queue peak ->", t);
	sc_tuples_free(t);
	CHECK(sc_stack_push(c, "history", sc_str("page_a")));
	CHECK(sc_stack_push(c, "history", sc_str("page_b")));
	CHECK(sc_stack_pop(c, "history", NULL, &t));
	print_all("stack pop ->", t);
	sc_tuples_free(t);
	printf("  queue count %d, stack count %d\n", sc_queue_count(c, "jobs-demo"),
	       sc_stack_count(c, "history"));

	printf("== Struct\n");
	{
		struct user u, key, got;

		memset(&u, 0, sizeof(u));
		u.id = 1;
		snprintf(u.name, sizeof(u.name), "Alice");
		snprintf(u.email, sizeof(u.email), "alice@example.com");
		CHECK(sc_struct_init(c, "user", sizeof(struct user), offsetof(struct user, id),
				     sizeof(int64_t)));
		CHECK(sc_struct_add(c, "user", &u));
		memset(&key, 0, sizeof(key));
		key.id = 1;
		CHECK(sc_struct_get(c, "user", &key, &got));
		printf("  get user 1 -> {id %" PRId64 ", %s, %s}\n", got.id, got.name, got.email);
		key.id = 2;
		n = sc_struct_get(c, "user", &key, &got);
		printf("  get user 2 -> %d: %s\n", n, sc_last_error());
	}
	return 0;
}

static void print_stats(sc_cache *c)
{
	sc_cache_stats *s;

	if (sc_stats(c, &s))
		return;
	printf("== stats\n  %-10s %8s %10s %8s %8s %8s\n", "partition", "records", "bytes", "puts", "gets",
	       "locks");
	for (uint32_t p = 0; p < s->num_partition; p++) {
		const sc_partition_stats *ps = &s->partitions[p];

		printf("  %-10u %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", p,
		       ps->records, ps->bytes, ps->puts, ps->gets, ps->locks);
	}
	printf("  %-10s %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", "tuples",
	       s->total.records, s->total.bytes, s->total.puts, s->total.gets, s->total.locks);
	printf("  %-10s %8" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8s %8" PRIu64 "\n", "structures",
	       s->structures.records, s->structures.bytes, s->structures.puts, "-", s->structures.locks);
	printf("  shared memory in use: %.1f MiB of a %.0f MiB limit\n", (double)s->memory_used / (1 << 20),
	       (double)s->memory_limit / (1 << 20));
	sc_stats_free(s);
}

/* Part 2. The producer: prices into a KeyValue namespace, then JOBS jobs into the queue, then one stop per consumer. */
static int producer(int unused)
{
	sc_kv_pair pairs[PRICES];
	sc_cache *c;
	int err = sc_attach(cache_name, NULL, &c);

	(void)unused;
	if (err)
		return fail("producer", "attach", err);
	for (int i = 0; i < PRICES; i++)
		pairs[i] = (sc_kv_pair){ sc_int(i), sc_int(100 + i) };
	err = sc_kv_add_batch(c, "prices", pairs, PRICES);
	for (int64_t job = 1; !err && job <= JOBS; job++)
		err = sc_queue_add(c, "jobs", sc_int(job));
	for (int i = 0; !err && i < CONSUMERS; i++)
		err = sc_queue_add(c, "jobs", sc_int(0)); /* a stop for each consumer */
	if (err)
		return fail("producer", "add", err);
	printf("producer   (pid %d): %d prices in one batch, %d jobs and %d stops queued\n", (int)getpid(),
	       PRICES, JOBS, CONSUMERS);
	sc_stop(c);
	return 0;
}

/* A consumer: takes jobs until its stop; for each, reads the job's price; publishes what it did. */
static int consumer(int n)
{
	int64_t taken = 0, sum = 0, reads = 0;
	sc_cache *c;
	char key[32];
	int err = sc_attach(cache_name, NULL, &c);

	if (err)
		return fail("consumer", "attach", err);
	for (;;) {
		sc_tuples *t;
		int64_t job;
		int r = sc_queue_out(c, "jobs", NULL, &t);

		if (r < 0)
			return fail("consumer", "out", r);
		if (r == 0)
			continue; /* the producer has not caught up */
		job = t->tuples[0].fields[0].v.i;
		sc_tuples_free(t);
		if (job == 0)
			break;
		r = sc_kv_get(c, "prices", sc_int(job % PRICES), NULL, &t);
		if (r == 1) {
			reads++;
			sc_tuples_free(t);
		}
		taken++;
		sum += job;
	}
	/* What this consumer did, for the parent's check: {"done", n} -> {taken, sum}. */
	snprintf(key, sizeof(key), "consumer-%d", n);
	err = sc_put(c, SC_TUPLE(sc_str(key), sc_int(taken), sc_int(sum)));
	if (err)
		return fail("consumer", "put", err);
	printf("consumer %d (pid %d): took %" PRId64 " jobs, read %" PRId64 " prices\n", n, (int)getpid(),
	       taken, reads);
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

/* Every job was taken once: the consumers' counts add up to JOBS and their sums to 1 + 2 + ... + JOBS. */
static int check_jobs(sc_cache *c)
{
	int64_t taken = 0, sum = 0;
	char key[32];

	for (int n = 1; n <= CONSUMERS; n++) {
		sc_tuples *t;

		snprintf(key, sizeof(key), "consumer-%d", n);
		if (sc_get(c, SC_TUPLE(sc_str(key)), &t) != 1)
			return fail("example", "consumer result", -ENOENT);
		taken += t->tuples[0].fields[1].v.i;
		sum += t->tuples[0].fields[2].v.i;
		sc_tuples_free(t);
	}
	printf("\n%" PRId64 " jobs taken in all (sum %" PRId64 "): %s\n", taken, sum,
	       taken == JOBS && sum == (int64_t)JOBS * (JOBS + 1) / 2 ? "each exactly once" : "WRONG");
	return taken == JOBS && sum == (int64_t)JOBS * (JOBS + 1) / 2 ? 0 : 1;
}

int main(void)
{
	pid_t pids[CONSUMERS + 1];
	int failures = 0;
	sc_cache *c;
	int err;

	/* Start from an empty cache: a segment left by an earlier run would hold its data (warm restart). */
	sc_destroy(cache_name, NULL);
	err = sc_start(cache_name, &SC_OPTIONS(.num_partition = 4, .memory_limit = 64 << 20), &c);
	if (err)
		return fail("example", "start", err);
	printf("cache \"%s\": 4 partitions, 64 MiB\n\nPart 1: the API, one call at a time\n", cache_name);
	if (walk_through(c)) {
		sc_stop(c);
		return 1;
	}

	printf("\nPart 2: one producer and %d consumers, each its own process\n\n", CONSUMERS);
	fflush(stdout); /* or the children would print it again */
	pids[0] = spawn(producer, 0);
	for (int i = 1; i <= CONSUMERS; i++)
		pids[i] = spawn(consumer, i);
	for (int i = 0; i <= CONSUMERS; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failures++;
	}
	if (!failures)
		failures += check_jobs(c);
	printf("\n");
	print_stats(c);
	sc_stop(c);
	sc_destroy(cache_name, NULL);
	if (failures) {
		fprintf(stderr, "%d of %d checks failed\n", failures, CONSUMERS + 2);
		return 1;
	}
	printf("\nall %d processes done; the segment is removed\n", CONSUMERS + 1);
	return 0;
}
