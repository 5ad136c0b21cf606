/* main.c — supercache-bench: the command line, the order of measurements, progress, and output. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bounded.h"
#include "cluster.h"
#include "measure.h"
#include "probe_cost.h"
#include "report.h"
#include "workload.h"

/* Long enough for steady state, short enough that the default run stays within a few minutes on 2 cores. */
#define MIN_MEASURE_NS 300000000ull
/* A cluster's operation takes tens of microseconds: a second gives each figure thousands of samples. */
#define CLUSTER_MEASURE_NS 1000000000ull

#define MAX_LIST  16
#define MAX_PROCS 64
#define MAX_KEYS  100000000ull /* 11.6 GB of keys and values in the bench alone */

#define EXIT_USAGE 2

static const char usage[] =
	"Usage: supercache-bench [--keys N[,N...]] [--procs P[,P...]] [--ops OP[,OP...]]\n"
	"                        [--compare SYS[,SYS...]] [--json]\n"
	"                        [--bounded | --probe-cost | --cluster] [--help]\n"
	"\n"
	"Measures libsupercache's put, get, delete, put_batch, queries, KeyValue\n"
	"batches, queues, stacks and lazy_put with 16-byte\n"
	"keys and 100-byte values, and the same workload on peers measured in the same\n"
	"run.\n"
	"\n"
	"  --keys N,...      key counts (default 10000,1000000; at most 100000000)\n"
	"  --procs P,...     workers running at once (default 1,2; at most 64, and no\n"
	"                    more than the smallest key count)\n"
	"  --ops OP,...      put, get, delete, put_batch, match, match_object, scan,\n"
	"                    kv_add_batch, queue, stack, lazy_put, kv_increment,\n"
	"                    get_into, get_view\n"
	"                    (default: all)\n"
	"  --compare SYS,... peers: lmdb, lfht (default lmdb,lfht); '' or none:\n"
	"                    supercache only\n"
	"  --partitions N    the caches' num_partition (default the library's: the\n"
	"                    number of CPUs; at most 4096)\n"
	"  --json            print one JSON object instead of the table\n"
	"  --bounded         instead of the table, the runs against a memory limit:\n"
	"                    a cache-aside loop (get, and put on a miss) over 1000000\n"
	"                    zipfian keys (theta 0.99) in a 48 MiB cache with\n"
	"                    SC_EVICTION_CLOCK, against the same loop in a cache that\n"
	"                    holds every key and an exact LRU of the same size fed the\n"
	"                    same keys (hit ratio, ops/s); then put and get with every\n"
	"                    tuple given a time to live against without\n"
	"  --probe-cost      instead of the table, what libsupercache's USDT probes cost\n"
	"                    when nothing is attached to them: put and get (10000 keys,\n"
	"                    1 process) on two private copies of the library, built\n"
	"                    alike but for -DSC_PROBES=1 (probes compiled in) and\n"
	"                    -DSC_PROBES=0 (compiled out). The copies take turns, 0.15 s\n"
	"                    each, over 25 rounds after one that is not counted (about\n"
	"                    18 s). Printed: each copy's median ops/s over the rounds,\n"
	"                    their ratio, and whether it is within 2%. Exit status 0\n"
	"                    either way. --json applies; --keys, --procs, --ops and\n"
	"                    --compare do not\n"
	"  --cluster         instead of the table, the distributed mode (as root): three\n"
	"                    network namespaces on a bridge, each with an etcd member\n"
	"                    and a supercached (8 partitions, replication factor 2),\n"
	"                    once in async and once in sync mode. Put latency and\n"
	"                    ops/s from 1 and 2 processes on the node that is primary\n"
	"                    of the most partitions, writing those; primary and\n"
	"                    quorum read latency from the node holding the other\n"
	"                    copy of one of them, 1 process; sync put_batch of 100\n"
	"                    tuples from 2 processes on the same node, every primary\n"
	"                    taking its share (p50/p99 per call, ops/s in tuples).\n"
	"                    Beside them, in the same run: a TCP round trip between two\n"
	"                    of the namespaces (116 bytes each way), put on a local\n"
	"                    cache, and Redis with one replica in the next namespace\n"
	"                    (SET then WAIT 1 0, pipelined; left out if redis-server is\n"
	"                    not installed). 1 s each, every operation timed; ratios\n"
	"                    against the round trip, and the goals docs/benchmarks.md\n"
	"                    states, at the end. supercached is\n"
	"                    $SUPERCACHED, the build tree's, or the one in PATH; etcd,\n"
	"                    etcdctl and dbus-daemon come from PATH. --json applies\n"
	"  --help            print this text\n"
	"\n"
	"Workload. Each measurement gets a fresh store, loaded with every key (untimed).\n"
	"Keys are visited in one fixed random permutation. put overwrites existing keys;\n"
	"get reads existing keys; delete deletes every key, with an untimed reload\n"
	"between passes; put_batch overwrites every key in batches of 1000. Each\n"
	"measurement lasts at least 0.3 s, repeating passes over the keys as needed.\n"
	"match finds each key through the query interface; match_object goes over\n"
	"every tuple for the one holding the middle key's value; scan goes over every\n"
	"tuple, reading the first byte of its key and of its value. kv_add_batch writes\n"
	"the pairs in batches of 10000 (each worker from its own batch on, over all\n"
	"keys); queue adds a value to one shared queue and takes one off, stack pushes\n"
	"and pops on one shared stack (two operations each time); lazy_put is put\n"
	"through the write buffer, its flush at the end of the pass timed too.\n"
	"kv_increment adds 1 to each key's counter in one KeyValue namespace.\n"
	"get_into and get_view read as get does, with nothing allocated (get_into) or\n"
	"nothing copied but the value (get_view).\n"
	"With P workers, writers each take 1/P of the keys; getters each read the whole\n"
	"set from their own starting point. Each worker first reads its keys once,\n"
	"untimed, so that a process that has just attached has faulted its mapping in\n"
	"(lfht's threads share the loader's). Then all start together behind a gate.\n"
	"\n"
	"Systems.\n"
	"  supercache  a cache in /dev/shm. The main process creates and loads it; every\n"
	"              worker is a forked process with its own sc_attach() handle, so\n"
	"              gets never run in the process that wrote. get is sc_get (copies);\n"
	"              get_into is sc_get_into (into the worker's buffer), get_view\n"
	"              sc_get_view (the value copied out by its visitor);\n"
	"              match is sc_get_by_match({key, $1}) with the key's partition\n"
	"              data; match_object is sc_get_by_match_object({_, value}) over\n"
	"              every partition; scan is sc_scan; kv_add_batch is\n"
	"              sc_kv_add_batch into one namespace; kv_increment is\n"
	"              sc_kv_increment (int64) there.\n"
	"  lmdb        an environment on /dev/shm, MDB_WRITEMAP|MDB_NOSYNC, one per\n"
	"              measurement; workers are processes too. One write transaction\n"
	"              per put or delete, one per batch; one read transaction per worker\n"
	"              for all its gets, the value copied out. match positions a cursor\n"
	"              on the key (MDB_SET_KEY); match_object and scan walk a cursor\n"
	"              over every entry (MDB_FIRST, MDB_NEXT). kv_add_batch is one\n"
	"              write transaction per batch. No queue, stack, lazy_put or\n"
	"              kv_increment.\n"
	"  lfht        liburcu's cds_lfht (memb flavour), XXH3-hashed, nodes freed with\n"
	"              call_rcu. It is in-process only: its P workers are P threads. It\n"
	"              has no query interface: match, match_object and scan leave it out,\n"
	"              as do queue, stack, lazy_put and kv_increment. kv_add_batch is\n"
	"              a loop of puts. Its get_into and get_view are its get (a lookup\n"
	"              and a copy of the value into the caller's buffer), as LMDB's are.\n"
	"\n"
	"Results.\n"
	"  ops/s    all workers' operations divided by the wall time from their common\n"
	"           start to the last one's finish (summed over delete's passes); it\n"
	"           is not derived from the latency samples.\n"
	"  p50/p99  percentiles of latency samples: every 16th operation is timed on\n"
	"           its own with CLOCK_MONOTONIC (a sample includes one clock read).\n"
	"           put_batch: every batch is timed and divided by its size, a per-tuple\n"
	"           figure. match_object and scan: each pass over every tuple is one\n"
	"           sample, and ops/s counts the tuples gone over. kv_add_batch: per\n"
	"           pair, like put_batch. queue and stack: per operation (half of\n"
	"           each timed add-and-take).\n"
	"  The table ends with supercache's ops/s divided by each peer's.\n"
	"\n"
	"Exit status: 0 done, 1 a measurement failed, 2 bad arguments, 128+N signal N.\n";

struct options {
	size_t keys[MAX_LIST];
	size_t nkeys;
	unsigned procs[MAX_LIST];
	size_t nprocs;
	bool ops[OP_COUNT];
	const struct bench_system *peers[2];
	size_t npeers;
	bool json;
	bool bounded;
	bool probe_cost;
	bool cluster;
};

static const struct bench_system *const known_peers[] = { &bench_lmdb, &bench_lfht };

uint32_t bench_partitions;

static pid_t main_pid;
static volatile sig_atomic_t interrupted;

/* Forked workers die at once; the main process finishes the measurement under way and cleans up. */
static void on_signal(int sig)
{
	if (getpid() != main_pid) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	interrupted = sig;
}

static int install_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	main_pid = getpid();
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return bench_fail("sigaction: %s", strerror(errno));
	return 0;
}

static _Noreturn __attribute__((format(printf, 1, 2))) void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "supercache-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'supercache-bench --help'.\n");
	exit(EXIT_USAGE);
}

/* A decimal count in [1, max]: no sign, no spaces, no suffix. */
static unsigned long long parse_count(const char *opt, const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		bad_usage("%s takes positive whole numbers", opt);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno || v == 0 || v > max)
		bad_usage("%s %s: expected a number from 1 to %llu", opt, s, max);
	return v;
}

/* Splits a comma-separated list in place; empty items are refused. Returns the count. */
static size_t split_list(const char *opt, char *s, char **items)
{
	size_t n = 0;

	for (char *item = s;; n++) {
		char *comma = strchr(item, ',');

		if (n == MAX_LIST)
			bad_usage("%s takes at most 16 values", opt);
		if (comma)
			*comma = '\0';
		if (!*item)
			bad_usage("%s has an empty value", opt);
		items[n] = item;
		if (!comma)
			return n + 1;
		item = comma + 1;
	}
}

static size_t parse_list(const char *opt, const char *arg, char *copy, size_t len, char **items)
{
	if (strlen(arg) >= len)
		bad_usage("%s: the list is too long", opt);
	strcpy(copy, arg);
	return split_list(opt, copy, items);
}

/* A list of distinct counts, each at most max: --keys and --procs. Returns how many. */
static size_t parse_counts(const char *opt, const char *arg, unsigned long long max,
			   unsigned long long out[MAX_LIST])
{
	char copy[512], *items[MAX_LIST];
	size_t n = parse_list(opt, arg, copy, sizeof(copy), items);

	for (size_t i = 0; i < n; i++) {
		out[i] = parse_count(opt, items[i], max);
		for (size_t j = 0; j < i; j++)
			if (out[j] == out[i])
				bad_usage("%s %s is given twice", opt, items[i]);
	}
	return n;
}

static void parse_keys(struct options *o, const char *arg)
{
	unsigned long long v[MAX_LIST];

	o->nkeys = parse_counts("--keys", arg, MAX_KEYS, v);
	for (size_t i = 0; i < o->nkeys; i++)
		o->keys[i] = (size_t)v[i];
}

static void parse_procs(struct options *o, const char *arg)
{
	unsigned long long v[MAX_LIST];

	o->nprocs = parse_counts("--procs", arg, MAX_PROCS, v);
	for (size_t i = 0; i < o->nprocs; i++)
		o->procs[i] = (unsigned)v[i];
}

static void parse_ops(struct options *o, const char *arg)
{
	char copy[512], *items[MAX_LIST];
	size_t n = parse_list("--ops", arg, copy, sizeof(copy), items);

	memset(o->ops, 0, sizeof(o->ops));
	for (size_t i = 0; i < n; i++) {
		int op = 0;

		while (op < OP_COUNT && strcmp(items[i], bench_op_names[op]) != 0)
			op++;
		if (op == OP_COUNT)
			bad_usage(
				"--ops: unknown operation '%s' (put, get, delete, put_batch, match, "
				"match_object, scan, kv_add_batch, queue, stack, lazy_put, kv_increment, get_into, "
				"get_view)",
				items[i]);
		if (o->ops[op])
			bad_usage("--ops: %s is given twice", items[i]);
		o->ops[op] = true;
	}
}

static void parse_compare(struct options *o, const char *arg)
{
	char copy[512], *items[MAX_LIST];
	size_t n;

	o->npeers = 0;
	if (!*arg || strcmp(arg, "none") == 0)
		return;
	n = parse_list("--compare", arg, copy, sizeof(copy), items);
	for (size_t i = 0; i < n; i++) {
		size_t p = 0;

		while (p < 2 && strcmp(items[i], known_peers[p]->name) != 0)
			p++;
		if (p == 2)
			bad_usage("--compare: unknown system '%s' (lmdb, lfht, or none)", items[i]);
		for (size_t j = 0; j < o->npeers; j++)
			if (o->peers[j] == known_peers[p])
				bad_usage("--compare: %s is given twice", items[i]);
		o->peers[o->npeers++] = known_peers[p];
	}
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "procs", required_argument, NULL, 'p' },
		{ "ops", required_argument, NULL, 'o' },
		{ "compare", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "bounded", no_argument, NULL, 'b' },
		{ "probe-cost", no_argument, NULL, 'P' },
		{ "cluster", no_argument, NULL, 'C' },
		{ "partitions", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t min_keys = SIZE_MAX;
	unsigned max_procs = 0;
	int c;

	*o = (struct options){ .keys = { 10000, 1000000 },
			       .nkeys = 2,
			       .procs = { 1, 2 },
			       .nprocs = 2,
			       .peers = { &bench_lmdb, &bench_lfht },
			       .npeers = 2 };
	for (int op = 0; op < OP_COUNT; op++)
		o->ops[op] = true;
	/* Long options only: a leading '+' stops at the first operand, which is then refused. */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			parse_keys(o, optarg);
			break;
		case 'p':
			parse_procs(o, optarg);
			break;
		case 'o':
			parse_ops(o, optarg);
			break;
		case 'c':
			parse_compare(o, optarg);
			break;
		case 'n':
			bench_partitions = (uint32_t)parse_count("--partitions", optarg, 4096);
			break;
		case 'j':
			o->json = true;
			break;
		case 'b':
			o->bounded = true;
			break;
		case 'P':
			if (!BENCH_PROBE_COST)
				bad_usage("--probe-cost: this build has no copies of the library to compare "
					  "(sys/sdt.h was missing, or the build is sanitized)");
			o->probe_cost = true;
			break;
		case 'C':
			o->cluster = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
		default: /* getopt_long has said what was wrong */
			fprintf(stderr, "Try 'supercache-bench --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (o->bounded + o->probe_cost + o->cluster > 1)
		bad_usage("--bounded, --probe-cost and --cluster are separate runs: give one");
	for (size_t i = 0; i < o->nkeys; i++)
		min_keys = o->keys[i] < min_keys ? o->keys[i] : min_keys;
	for (size_t i = 0; i < o->nprocs; i++)
		max_procs = o->procs[i] > max_procs ? o->procs[i] : max_procs;
	if (max_procs > min_keys)
		bad_usage("--procs %u is more than --keys %zu: each worker needs a key", max_procs, min_keys);
}

/* Progress goes to a terminal only: stderr of a scripted run keeps nothing but errors. */
static bool show_progress;

static void progress(size_t done, size_t total, const char *system, enum bench_op op, size_t keys,
		     unsigned procs)
{
	if (show_progress)
		fprintf(stderr, "\r\033[K[%zu/%zu] %s %s, %zu keys, %u procs", done + 1, total, system,
			bench_op_names[op], keys, procs);
}

static void progress_clear(void)
{
	if (show_progress)
		fprintf(stderr, "\r\033[K");
}

/* One measurement; a failure is named after it. */
static int run_one(const struct bench_system *sys, const struct dataset *ds, enum bench_op op, unsigned procs,
		   uint64_t min_ns, struct result *r)
{
	char why[600];

	*r = (struct result){ .system = sys->name, .op = op, .keys = ds->n, .procs = procs };
	if (measure(sys, ds, op, procs, min_ns, &r->m) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", bench_last_error());
	return bench_fail("%s %s, %zu keys, %u procs: %s", sys->name, bench_op_names[op], ds->n, procs, why);
}

/*
 * Every workload of one key count. Systems take turns within a workload, so
 * that whatever else the machine does meanwhile spreads over all of them.
 */
static int run_dataset(const struct options *o, const struct dataset *ds, struct result *results, size_t *n,
		       size_t total)
{
	const struct bench_system *systems[3] = { &bench_supercache };
	const size_t nsystems = 1 + o->npeers;

	memcpy(systems + 1, o->peers, o->npeers * sizeof(*systems));
	for (size_t p = 0; p < o->nprocs; p++) {
		for (int op = 0; op < OP_COUNT; op++) {
			for (size_t s = 0; s < nsystems && o->ops[op]; s++) {
				if (!bench_supports(systems[s], op))
					continue; /* lfht has no query interface */
				progress(*n, total, systems[s]->name, op, ds->n, o->procs[p]);
				if (run_one(systems[s], ds, op, o->procs[p], MIN_MEASURE_NS, &results[*n]))
					return -1;
				++*n;
				if (interrupted)
					return -1;
			}
		}
	}
	return 0;
}

/* Returns the number of results, or -1 with the reason in bench_last_error(). */
static long run_all(const struct options *o, struct result *results, size_t total)
{
	size_t n = 0;

	for (size_t k = 0; k < o->nkeys; k++) {
		struct dataset ds;
		int rc;

		if (dataset_init(&ds, o->keys[k]))
			return -1;
		rc = run_dataset(o, &ds, results, &n, total);
		dataset_free(&ds);
		if (interrupted) /* a worker killed by the signal is no failure to report */
			return bench_fail("interrupted by signal %d", (int)interrupted);
		if (rc)
			return -1;
	}
	return (long)n;
}

/*
 * --probe-cost: round after round, each operation on one twin and then on
 * the other, so that the machine's drift over the run reaches both alike.
 * A first round is thrown away: the run's first measurement also pays for
 * faulting in the bench's own code and data, and would count against the
 * twin that happened to go first. Returns the number of results, or -1 with
 * the reason in bench_last_error().
 */
static long run_probe_cost(struct result *results)
{
	const size_t warm_up = 2 * PROBE_COST_NOPS, total = warm_up + PROBE_COST_RESULTS;
	struct result discarded;
	struct dataset ds;
	size_t n = 0;
	int rc = 0;

	if (dataset_init(&ds, PROBE_COST_KEYS))
		return -1;
	/* n counts twins fastest, then operations, then rounds. */
	for (; n < total && rc == 0 && !interrupted; n++) {
		const struct bench_system *sys = probe_cost_twins[n % 2];
		const enum bench_op op = probe_cost_ops[n / 2 % PROBE_COST_NOPS];

		progress(n, total, sys->name, op, ds.n, 1);
		rc = run_one(sys, &ds, op, 1, PROBE_COST_NS,
			     n < warm_up ? &discarded : &results[n - warm_up]);
	}
	dataset_free(&ds);
	if (interrupted)
		return bench_fail("interrupted by signal %d", (int)interrupted);
	return rc ? -1 : (long)(n - warm_up);
}

int main(int argc, char **argv)
{
	struct options o;
	struct machine machine;
	struct result *results;
	struct timespec ts;
	const size_t probe_cost_keys = PROBE_COST_KEYS;
	size_t total, nops = 0;
	const char *peer_names[2];
	long n;

	parse_args(argc, argv, &o);
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		fprintf(stderr, "supercache-bench: CLOCK_MONOTONIC: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (o.bounded) {
		if (bounded_runs(stdout)) {
			fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
			return EXIT_FAILURE;
		}
		return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	if (install_signals()) {
		fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
		return EXIT_FAILURE;
	}
	if (o.cluster) {
		if (cluster_run(CLUSTER_MEASURE_NS, o.json)) {
			fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
			return interrupted ? 128 + interrupted : EXIT_FAILURE;
		}
		return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	for (int op = 0; op < OP_COUNT; op++)
		nops += o.ops[op];
	total = o.probe_cost ? PROBE_COST_RESULTS : o.nkeys * o.nprocs * nops * (1 + o.npeers);
	results = calloc(total, sizeof(*results));
	if (!results) {
		fprintf(stderr, "supercache-bench: out of memory\n");
		return EXIT_FAILURE;
	}
	machine_probe(&machine);
	if (o.probe_cost)
		machine_calibrate(&machine, &probe_cost_keys, 1);
	else
		machine_calibrate(&machine, o.keys, o.nkeys);
	show_progress = isatty(STDERR_FILENO);
	n = o.probe_cost ? run_probe_cost(results) : run_all(&o, results, total);
	progress_clear();
	if (n < 0) {
		fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
		free(results);
		return interrupted ? 128 + interrupted : EXIT_FAILURE;
	}
	for (size_t i = 0; i < o.npeers; i++)
		peer_names[i] = o.peers[i]->name;
	if (o.probe_cost)
		probe_cost_report(stdout, &machine, results, (size_t)n, o.json);
	else if (o.json)
		report_json(stdout, &machine, results, (size_t)n);
	else
		report_table(stdout, &machine, results, (size_t)n, peer_names, o.npeers);
	free(results);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "supercache-bench: cannot write the results: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
