/* main.c — supercache-top: options, then watching live, once, or leaving the programs pinned. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "top.h"

static const char usage[] = "usage: supercache-top [--name NAME] [--interval SECONDS] [--once [--json]]\n"
			    "                      [--prometheus FILE] [--library PATH] [--daemon PATH]\n"
			    "       supercache-top [--name NAME] [--library PATH] [--daemon PATH] --pin\n"
			    "       supercache-top [--name NAME] --unpin\n";

static const char help[] =
	"\n"
	"Watches every process that uses libsupercache, and supercached, through\n"
	"their USDT probes: operations per second and their p50/p99 latency, the\n"
	"busiest partitions, lock contention, grace periods, evictions, expirations\n"
	"and the coordinator's sweeps and health checks; for a distributed cache,\n"
	"its replication logs from the segment: entries appended, shipped and\n"
	"acknowledged per second, and the lag. Needs root (or CAP_BPF and\n"
	"CAP_PERFMON). When the cache's maps are pinned (--pin), reads those instead\n"
	"of attaching again.\n"
	"\n"
	"  --name NAME          the cache to watch (default: default)\n"
	"  --interval SECONDS   between refreshes, or how long --once watches (default 1)\n"
	"  --once               watch one interval, print it, exit; SIGINT or SIGTERM\n"
	"                       ends the interval early\n"
	"  --json               with --once: one JSON object instead of the table\n"
	"  --prometheus FILE    write the metrics, since the programs were attached, in\n"
	"                       Prometheus' text format to FILE at every refresh\n"
	"  --library PATH       the libsupercache to watch (default: the one this\n"
	"                       program runs with)\n"
	"  --daemon PATH        the supercached to watch (default: " SCTOP_DAEMON_PATH ")\n"
	"  --pin                attach, pin the maps and links under " TOP_PIN_ROOT "/NAME\n"
	"                       and exit, leaving the programs attached\n"
	"  --unpin              remove those pins, which detaches the programs\n"
	"  --help               print this text\n"
	"\n"
	"Exit status: 0 success, 1 failure (no BPF, nothing pinned, ...), 2 usage error.\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "supercache-top: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return TOP_USAGE;
}

/*
 * A name becomes a directory under the BPF file system. The library's rule
 * for cache names (libshm/segment.c), so that every cache can be watched and
 * nothing else is taken for one.
 */
static bool name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= TOP_MAX_NAME &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int parse(int argc, char **argv, struct top_options *o)
{
	static const struct option longs[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ "library", required_argument, NULL, 'l' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "pin", no_argument, NULL, 'P' },
		{ "unpin", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*o = (struct top_options){ .name = "default", .interval = 1.0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			break;
		case 'i':
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (errno || *end || !(o->interval > 0) || o->interval > 86400)
				return bad_usage(
					"--interval: '%s' is not a number of seconds (above 0, at most 86400)",
					optarg);
			break;
		case 'o':
			o->once = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'p':
			o->prometheus = optarg;
			break;
		case 'l':
			o->library = optarg;
			break;
		case 'd':
			o->daemon = optarg;
			break;
		case 'P':
			o->pin = true;
			break;
		case 'U':
			o->unpin = true;
			break;
		case 'h':
			printf("%s%s", usage, help);
			exit(TOP_OK);
		default:
			return bad_usage("unknown option or missing argument: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (!name_valid(o->name))
		return bad_usage("--name: '%s' is not a cache name (1 to 64 letters, digits, '_' or '-')",
				 o->name);
	if (o->json && !o->once)
		return bad_usage("%s goes with --once", "--json");
	if ((o->pin || o->unpin) && (o->once || o->json || o->prometheus || (o->pin && o->unpin)))
		return bad_usage("%s", "--pin and --unpin go alone (with --name, --library, --daemon)");
	snprintf(o->pin_dir, sizeof(o->pin_dir), "%s/%s", TOP_PIN_ROOT, o->name);
	return TOP_OK;
}

/* Wait one interval; false when SIGINT or SIGTERM came first (they are blocked, so they wait here). */
static bool wait_interval(const sigset_t *stop, double seconds)
{
	struct timespec left = { (time_t)seconds, (long)((seconds - floor(seconds)) * 1e9) };

	for (;;) {
		struct timespec start, now;
		int sig;

		clock_gettime(CLOCK_MONOTONIC, &start);
		sig = sigtimedwait(stop, NULL, &left);
		if (sig > 0)
			return false;
		if (errno == EAGAIN)
			return true;
		/* EINTR: another signal; wait for what is left. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		double rest = (double)left.tv_sec + (double)left.tv_nsec / 1e9 -
			      (double)(now.tv_sec - start.tv_sec) -
			      (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (rest <= 0)
			return true;
		left = (struct timespec){ (time_t)rest, (long)((rest - floor(rest)) * 1e9) };
	}
}

static int export(const struct top_options *o, const struct top_snapshot *total)
{
	int err = o->prometheus ? top_write_prometheus(o, total) : 0;

	if (err)
		fprintf(stderr, "supercache-top: cannot write %s: %s\n", o->prometheus, strerror(-err));
	return err;
}

/* Readings until a signal (or, with --once, one interval): each shows what happened since the last. */
static int watch(const struct top_options *o, const struct top_maps *maps, sc_cache *cache)
{
	struct top_snapshot *prev = malloc(sizeof(*prev)), *now = malloc(sizeof(*now)),
			    *shown = malloc(sizeof(*shown));
	bool clear = !o->once && isatty(STDOUT_FILENO), going = true;
	sigset_t stop;
	int err = prev && now && shown ? top_snapshot_take(maps, cache, prev) : -ENOMEM;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (!err) {
		fprintf(stderr, "supercache-top: watching cache \"%s\"%s\n", o->name,
			o->from_pins ? " through its pinned maps" : "");
		fflush(stderr);
	}
	while (!err && going) {
		struct top_snapshot *was = prev;

		going = wait_interval(&stop, o->interval) && !o->once;
		err = top_snapshot_take(maps, cache, now);
		if (err)
			break;
		err = export(o, now);
		*shown = *now;
		top_snapshot_since(shown, prev);
		if (clear)
			fputs("\033[H\033[2J", stdout);
		if (o->json)
			top_render_json(stdout, o, shown, now->at - prev->at);
		else
			top_render_table(stdout, o, shown, now->at - prev->at);
		fflush(stdout);
		/* The next interval starts at this reading: nothing that happens while it is shown is lost. */
		prev = now;
		now = was;
	}
	free(prev);
	free(now);
	free(shown);
	return err;
}

int main(int argc, char **argv)
{
	struct top_session *session = NULL;
	sc_cache *cache;
	struct top_options o;
	struct top_maps maps;
	int err = parse(argc, argv, &o);

	if (err)
		return err;
	if (o.unpin)
		return top_unpin(&o) ? TOP_FAILED : TOP_OK;
	if (o.pin) {
		err = top_attach(&o, &session, &maps);
		if (err)
			return TOP_FAILED;
		err = top_pin(&o, session);
		if (err) {
			top_detach(session);
			return TOP_FAILED;
		}
		printf("supercache-top: programs attached, maps pinned under %s\n", o.pin_dir);
		return TOP_OK;
	}
	o.from_pins = access(o.pin_dir, F_OK) == 0;
	err = o.from_pins ? top_open_pinned(&o, &maps) : top_attach(&o, &session, &maps);
	if (err)
		return TOP_FAILED;
	cache = top_replication_open(&o);
	err = watch(&o, &maps, cache);
	top_replication_close(cache);
	if (o.from_pins)
		top_close_maps(&maps);
	top_detach(session);
	return err ? TOP_FAILED : TOP_OK;
}
