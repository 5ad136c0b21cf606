/* main.c — supercached: options, start-up, the event loop, a clean stop. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "bus/bus.h"
#include "bus/bus_health.h"
#include "cluster/frame.h"
#include "cluster/link_auth.h"
#include "daemon.h"
#include "distributed.h"
#include "local/maintenance.h"
#include "trace_id.h"

#define CONFIG_DIR "/etc/supercache"

struct args {
	const char *name;
	const char *config; /* --config, or NULL for CONFIG_DIR/<name>.conf */
	const char *bus_address;
	bool print_config;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: supercached [OPTION]... [--KEY=VALUE]...\n"
		"The coordinator of one SuperCache cache: creates or attaches its shared-memory segment,\n"
		"keeps it (reclamation, dead readers, expiry) and serves its D-Bus management API.\n\n"
		"  --name NAME           the cache (default: default); one instance per cache\n"
		"  --config FILE         configuration file (default: " CONFIG_DIR "/NAME.conf, if present)\n"
		"  --bus-address ADDR    serve on the D-Bus bus at ADDR instead of the system bus\n"
		"  --print-config        print the configuration in effect and exit\n"
		"  --help                this text\n"
		"  --version             the version\n"
		"  --KEY=VALUE           override one configuration key (also --KEY VALUE; '-' for '_')\n\n"
		"Configuration keys:\n");
	scd_config_print_keys(out);
	fprintf(out,
		"\nExit status: 0 stopped cleanly, 1 failed at run time, 64 bad usage, 78 bad configuration.\n");
}

/* "--key-pos" -> "key_pos" in buf; the value after '=' (or NULL) in *value. */
static void option_key(const char *arg, char *buf, size_t len, const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = arg[i] == '-' ? '_' : arg[i];
	buf[n] = '\0';
	*value = eq ? eq + 1 : NULL;
}

/*
 * Two passes over argv: first the options that pick the file, then (after
 * it is read) the key overrides, so that the command line wins.
 */
static int parse_args(int argc, char **argv, struct args *a, struct scd_config *cfg, bool overrides)
{
	char key[64], err[512];

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "supercached: unexpected argument \"%s\" (see --help)\n", arg);
			return EX_USAGE;
		}
		option_key(arg + 2, key, sizeof(key), &value);
		if (strcmp(key, "help") == 0 || strcmp(key, "version") == 0 ||
		    strcmp(key, "print_config") == 0) {
			if (strcmp(key, "print_config") == 0)
				a->print_config = true;
			else if (!overrides)
				return key[0] == 'h' ? (usage(stdout), -1)
						     : (puts("supercached " SCD_VERSION), -1);
			continue;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "supercached: %s wants a value (see --help)\n", arg);
				return EX_USAGE;
			}
			value = argv[++i];
		}
		if (strcmp(key, "name") == 0)
			a->name = value;
		else if (strcmp(key, "config") == 0)
			a->config = value;
		else if (strcmp(key, "bus_address") == 0)
			a->bus_address = value;
		else if (overrides) {
			int r = scd_config_set(cfg, key, value, err, sizeof(err));

			if (r == -ENOENT) {
				fprintf(stderr, "supercached: unknown option %s (see --help)\n", arg);
				return EX_USAGE;
			}
			if (r) {
				fprintf(stderr, "supercached: bad configuration: --%s\n", err);
				return EX_CONFIG;
			}
		}
	}
	return 0;
}

/*
 * A secret_file, when one is set, is read at start, so that a file others
 * may read, or one too short to be a secret, stops the coordinator before
 * it runs rather than when its first peer link opens. The links keep it
 * (docs/distributed.md); until they exist it is read and let go.
 */
static int check_secret(const struct scd_config *cfg, char *err, size_t errlen)
{
	struct scd_secret s;
	int r;

	if (!cfg->secret_file[0])
		return 0;
	r = scd_link_auth_init();
	if (r) {
		snprintf(err, errlen, "secret_file: the crypto library (libsodium) cannot start");
		return r;
	}
	r = scd_secret_load(cfg->secret_file, &s, err, errlen);
	scd_secret_forget(&s);
	return r;
}

/* A node without node_name is called by its host name, which must then be a name a hello can carry. */
static int default_node_name(struct scd_config *cfg, char *err, size_t errlen)
{
	char host[HOST_NAME_MAX + 1] = "";

	if (cfg->cluster != SC_CLUSTER_DISTRIBUTED || cfg->node_name[0])
		return 0;
	if (gethostname(host, sizeof(host) - 1) || !scd_hello_name_valid(host, strlen(host)) ||
	    strlen(host) >= sizeof(cfg->node_name)) {
		snprintf(err, errlen,
			 "node_name is not set, and the host name \"%s\" cannot stand for it: set one", host);
		return -EINVAL;
	}
	snprintf(cfg->node_name, sizeof(cfg->node_name), "%s", host);
	return 0;
}

static int configure(int argc, char **argv, struct args *a, struct scd_config *cfg)
{
	char path[SCD_TEXT_MAX], err[1024];
	int r;

	scd_config_defaults(cfg);
	a->name = "default";
	r = parse_args(argc, argv, a, cfg, false);
	if (r)
		return r;
	if (!scd_config_name_valid(a->name, SCD_NAME_MAX)) {
		fprintf(stderr, "supercached: --name %s: want 1 to %d letters, digits, '_' or '-'\n", a->name,
			SCD_NAME_MAX);
		return EX_USAGE;
	}
	snprintf(path, sizeof(path), "%s/%s.conf", CONFIG_DIR, a->name);
	r = scd_config_load(cfg, a->config ? a->config : path, err, sizeof(err));
	/* The default file is optional: without it, the defaults and the command line say everything. */
	if (r == -ENOENT && !a->config)
		r = 0;
	if (r) {
		fprintf(stderr, "supercached: bad configuration: %s\n", err);
		return EX_CONFIG;
	}
	r = parse_args(argc, argv, a, cfg, true);
	if (r)
		return r;
	if (scd_config_validate(cfg, err, sizeof(err)) || check_secret(cfg, err, sizeof(err)) ||
	    default_node_name(cfg, err, sizeof(err))) {
		fprintf(stderr, "supercached: bad configuration: %s\n", err);
		return EX_CONFIG;
	}
	return 0;
}

static int open_cache(struct scd_daemon *d)
{
	sc_options opts;
	int r;

	scd_config_options(&d->cfg, &opts);
	d->trace_id = sc_trace_id_of(d->name);
	r = sc_start(d->name, &opts, &d->cache);
	if (r) {
		scd_log(d, LOG_ERR, "cannot start cache %s: %s", d->name, sc_last_error());
		/* The configuration asks for what the segment is not (or cannot be): a restart would fail again. */
		return r == -EINVAL ? EX_CONFIG : r;
	}
	r = sc_config(d->cache, &d->cache_opts);
	if (r)
		scd_log(d, LOG_ERR, "cannot read cache %s's configuration: %s", d->name, sc_last_error());
	return r;
}

/*
 * SIGTERM and SIGINT end the loop; in distributed mode, only once the node
 * has fenced itself and given its etcd lease back (distributed.h), so its
 * partitions move at once instead of after the lease.
 */
static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	scd_distributed_leave(userdata, 0);
	return 0;
}

static int event_loop_setup(struct scd_daemon *d)
{
	sigset_t stop;
	int r;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stop, NULL))
		return -errno;
	r = sd_event_default(&d->event);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop_signal, d);
	/* Pings WATCHDOG=1 at half of WATCHDOG_USEC while the loop turns; nothing without a watchdog. */
	if (r >= 0)
		r = sd_event_set_watchdog(d->event, 1);
	if (r >= 0)
		r = sd_event_now(d->event, CLOCK_MONOTONIC, &d->started_usec);
	if (r < 0)
		scd_log(d, LOG_ERR, "cannot set up the event loop: %s", strerror(-r));
	return r;
}

static int run(struct scd_daemon *d, const char *bus_address)
{
	int r = event_loop_setup(d);

	if (r >= 0)
		r = open_cache(d);
	if (r > 0)
		return r; /* EX_CONFIG */
	if (r >= 0)
		r = scd_bus_start(d, bus_address);
	if (r >= 0)
		r = scd_maintenance_start(d);
	if (r >= 0)
		r = scd_health_start(d);
	if (r >= 0)
		r = scd_distributed_start(d);
	if (r != 0)
		return r;
	/* The first maintenance pass has just said STATUS=; READY repeats it (distributed: once etcd agreed). */
	scd_log(d, LOG_INFO, "serving %s on %s: %s", d->bus_name,
		bus_address ? bus_address : "the system bus", d->status);
	if (!d->cluster)
		sd_notifyf(0, "READY=1\nSTATUS=%s", d->status);
	r = sd_event_loop(d->event);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	if (r < 0)
		scd_log(d, LOG_ERR, "event loop failed: %s", strerror(-r));
	return r;
}

static void teardown(struct scd_daemon *d)
{
	scd_distributed_free(d);
	sd_event_source_disable_unref(d->maintenance_timer);
	sd_event_source_disable_unref(d->health_timer);
	if (d->bus) {
		sd_bus_flush(d->bus);
		sd_bus_close_unref(d->bus);
	}
	/* The data stays in shared memory: a restart attaches to it again. */
	if (d->cache && sc_stop(d->cache))
		scd_log(d, LOG_WARNING, "stopping cache %s: %s", d->name, sc_last_error());
	sd_event_unref(d->event);
}

int main(int argc, char **argv)
{
	struct scd_daemon d = { 0 };
	struct args a = { 0 };
	int r = configure(argc, argv, &a, &d.cfg);

	if (r)
		return r < 0 ? 0 : r;
	if (a.print_config) {
		scd_config_print(&d.cfg, stdout);
		return 0;
	}
	snprintf(d.name, sizeof(d.name), "%s", a.name);
	r = run(&d, a.bus_address);
	teardown(&d);
	if (r == 0)
		scd_log(&d, LOG_INFO, "stopped; cache %s stays in shared memory", d.name);
	return r == EX_CONFIG ? EX_CONFIG : r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
