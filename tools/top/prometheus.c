/* prometheus.c — the metrics in the Prometheus text format, for node_exporter's textfile collector. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "top.h"

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One histogram's series: the log2 slots become cumulative buckets with
 * upper bounds 2^(i+1) ns, in seconds; the last slot, open above, is
 * only in +Inf. labels is the series' other labels, already formatted.
 */
static void histogram(FILE *out, const char *name, const char *labels, const struct sc_histogram *h)
{
	uint64_t below = 0;

	for (int i = 0; i < SC_HIST_SLOTS - 1; i++) {
		below += h->slots[i];
		fprintf(out, "%s_bucket{%s,le=\"%.10g\"} %" PRIu64 "\n", name, labels,
			(double)(2ull << i) / 1e9, below);
	}
	fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, h->count);
	fprintf(out, "%s_sum{%s} %.9f\n", name, labels, (double)h->sum_ns / 1e9);
	fprintf(out, "%s_count{%s} %" PRIu64 "\n", name, labels, h->count);
}

static void histogram_family(FILE *out, const char *name, const char *help, const char *cache,
			     const struct sc_histogram *h)
{
	family(out, name, "histogram", help);
	histogram(out, name, cache, h);
}

static void counter(FILE *out, const char *name, const char *help, const char *labels, uint64_t v)
{
	family(out, name, "counter", help);
	fprintf(out, "%s{%s} %" PRIu64 "\n", name, labels, v);
}

static void write_ops(FILE *out, const char *cache, const struct top_snapshot *s)
{
	char labels[160];

	family(out, "supercache_op_duration_seconds", "histogram",
	       "Time from a public call's start to its end, outermost calls only.");
	for (int i = 0; i < SC_TRACE_OP_COUNT; i++) {
		if (!s->ops[i].count)
			continue;
		snprintf(labels, sizeof(labels), "%s,op=\"%s\"", cache, top_op_name((enum sc_trace_op)i));
		histogram(out, "supercache_op_duration_seconds", labels, &s->ops[i]);
	}
	family(out, "supercache_op_errors_total", "counter", "Calls that returned an error.");
	for (int i = 0; i < SC_TRACE_OP_COUNT; i++) {
		if (!s->ops[i].count)
			continue;
		fprintf(out, "supercache_op_errors_total{%s,op=\"%s\"} %" PRIu64 "\n", cache,
			top_op_name((enum sc_trace_op)i), s->calls[i].errors);
	}
}

static void write_partitions(FILE *out, const char *cache, const struct top_snapshot *s)
{
	family(out, "supercache_partition_ops_total", "counter",
	       "Calls that worked in one partition (structure partitions follow the tuple partitions).");
	for (uint32_t i = 0; i < TOP_MAX_PARTITIONS; i++)
		if (s->parts[i].calls)
			fprintf(out,
				"supercache_partition_ops_total{%s,partition=\"%" PRIu32 "\"} %" PRIu64 "\n",
				cache, i, s->parts[i].calls);
	family(out, "supercache_partition_lock_waits_total", "counter",
	       "Write lock acquisitions that had to wait for another holder.");
	for (uint32_t i = 0; i < TOP_MAX_PARTITIONS; i++)
		if (s->parts[i].contended)
			fprintf(out,
				"supercache_partition_lock_waits_total{%s,partition=\"%" PRIu32 "\"} %" PRIu64
				"\n",
				cache, i, s->parts[i].contended);
}

static void write_durations(FILE *out, const char *cache, const struct top_snapshot *s)
{
	histogram_family(out, "supercache_lock_wait_seconds",
			 "How long a writer waited for a partition's lock, when it had to.", cache,
			 &s->lock_wait);
	histogram_family(out, "supercache_lock_hold_seconds", "How long a partition's write lock was held.",
			 cache, &s->lock_hold);
	histogram_family(
		out, "supercache_grace_period_seconds",
		"How long a grace period took to establish which retired memory readers can no longer see.",
		cache, &s->grace_periods);
	histogram_family(out, "supercache_sweep_seconds", "How long one supercached maintenance pass took.",
			 cache, &s->sweeps);
}

static void write_removals(FILE *out, const char *cache, const struct top_snapshot *s)
{
	const struct sc_amount *r = s->removed;

	counter(out, "supercache_evictions_total", "Records evicted to make room.", cache,
		r[SC_REMOVAL_EVICTED].count);
	counter(out, "supercache_evicted_bytes_total", "Bytes of the records evicted.", cache,
		r[SC_REMOVAL_EVICTED].bytes);
	counter(out, "supercache_expirations_total", "Records removed when their time to live ran out.",
		cache, r[SC_REMOVAL_EXPIRED].count);
	counter(out, "supercache_expired_bytes_total", "Bytes of the records expired.", cache,
		r[SC_REMOVAL_EXPIRED].bytes);
	counter(out, "supercache_reclaimed_bytes_total", "Retired memory freed once no reader could see it.",
		cache, r[SC_REMOVAL_RECLAIMED].bytes);
}

static void write_coordinator(FILE *out, const char *cache, const struct top_snapshot *s)
{
	const struct sc_coordinator_count *c = s->coordinator;

	counter(out, "supercache_coordinator_sweeps_total", "supercached's maintenance passes.", cache,
		c[SC_COORD_SWEEP].count);
	counter(out, "supercache_health_checks_total", "supercached's health checks (HealthCheck signals).",
		cache, c[SC_COORD_HEALTH_CHECK].count);
	counter(out, "supercache_health_alerts_total", "Health alerts raised (HealthAlert signals).", cache,
		c[SC_COORD_HEALTH_ALERT].count);
	/* A gauge only once a check has been seen: absent says unknown, which 0 would not. */
	if (c[SC_COORD_HEALTH_CHECK].last_ns) {
		family(out, "supercache_healthy", "gauge",
		       "1 if the latest health check found no alert, else 0.");
		fprintf(out, "supercache_healthy{%s} %d\n", cache,
			c[SC_COORD_HEALTH_CHECK].last_value ? 1 : 0);
	}
}

/* Only for a distributed cache: a local one has no such families, rather than zeros. */
static void write_replication(FILE *out, const char *cache, const struct top_snapshot *s)
{
	const struct top_replication *r = &s->replication;

	if (!r->distributed)
		return;
	counter(out, "supercache_replication_appended_total",
		"Entries appended to this node's replication logs, since its segment was made.", cache,
		r->appended);
	counter(out, "supercache_replication_unshipped_lost_total",
		"Entries a log's ring wrote over before they were shipped.", cache, r->unshipped_lost);
	counter(out, "supercache_replication_resyncs_total", "Times replicas had to be copied whole.", cache,
		r->resyncs);
	family(out, "supercache_replication_primary_logs", "gauge",
	       "Logs of the partitions this node acts as primary of now.");
	fprintf(out, "supercache_replication_primary_logs{%s} %" PRIu32 "\n", cache, r->logs_primary);
	family(out, "supercache_replication_lag_entries", "gauge",
	       "Entries of this node's primary logs not yet acknowledged: the most behind log's.");
	fprintf(out, "supercache_replication_lag_entries{%s} %" PRIu64 "\n", cache, r->lag_max);
}

int top_write_prometheus(const struct top_options *o, const struct top_snapshot *s)
{
	char tmp[4096], cache[TOP_MAX_NAME + 16];
	FILE *out;
	int err = 0;

	/* Cache names are letters, digits, '-', '_' and '.': nothing to escape in a label value. */
	snprintf(cache, sizeof(cache), "cache=\"%s\"", o->name);
	/* The collector reads *.prom files only, and a rename is atomic: it never sees half a file. */
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", o->prometheus, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	out = fopen(tmp, "w");
	if (!out)
		return -errno;
	write_ops(out, cache, s);
	write_partitions(out, cache, s);
	write_durations(out, cache, s);
	write_removals(out, cache, s);
	write_coordinator(out, cache, s);
	write_replication(out, cache, s);
	if (ferror(out))
		err = -EIO;
	if (fclose(out) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, o->prometheus) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
