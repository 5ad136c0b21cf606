/* render.c — a reading as the live table and as the JSON object of --once --json. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "top.h"

/* The partitions that did something, busiest first. */
struct ranked {
	uint32_t partition;
	const struct top_partition *p;
};

static int busier(const void *a, const void *b)
{
	const struct top_partition *x = ((const struct ranked *)a)->p, *y = ((const struct ranked *)b)->p;

	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return ((const struct ranked *)a)->partition < ((const struct ranked *)b)->partition ? -1 : 1;
}

static size_t rank_partitions(const struct top_snapshot *s, struct ranked *out)
{
	size_t n = 0;

	for (uint32_t i = 0; i < TOP_MAX_PARTITIONS; i++) {
		const struct top_partition *p = &s->parts[i];

		if (p->calls || p->contended || p->evicted || p->expired)
			out[n++] = (struct ranked){ i, p };
	}
	qsort(out, n, sizeof(*out), busier);
	return n;
}

static double per_second(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

/* A duration for people: 850ns, 1.2us, 3.4ms, 2.0s. */
static const char *duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	return buf;
}

static const char *health(const struct top_snapshot *s)
{
	const struct sc_coordinator_count *c = &s->coordinator[SC_COORD_HEALTH_CHECK];

	if (c->last_ns == 0)
		return "no check seen";
	return c->last_value ? "healthy" : "degraded";
}

static void render_replication(FILE *out, const struct top_replication *r, double seconds)
{
	if (!r->distributed)
		return;
	fprintf(out,
		"replication: %.0f appended/s; primary of %" PRIu32 " logs: %.0f shipped/s, %.0f acked/s, "
		"lag %" PRIu64 " entries (log %" PRIu32 "), %" PRIu64 " in all; %" PRIu64
		" lost unshipped, %" PRIu64 " copies\n",
		per_second(r->appended, seconds), r->logs_primary, per_second(r->shipped, seconds),
		per_second(r->acked, seconds), r->lag_max, r->lag_max_log, r->lag_total, r->unshipped_lost,
		r->resyncs);
}

void top_render_table(FILE *out, const struct top_options *o, const struct top_snapshot *s, double seconds)
{
	struct ranked *hot = calloc(TOP_MAX_PARTITIONS, sizeof(*hot));
	char a[32], b[32], c[32];
	size_t nhot;

	fprintf(out, "supercache-top: cache \"%s\", %.1f s, %s\n\n", o->name, seconds,
		o->from_pins ? "from the pinned maps" : "attached");
	fprintf(out, "%-22s %12s %10s %10s %8s\n", "OPERATION", "OPS/S", "P50", "P99", "ERRORS");
	for (int i = 0; i < SC_TRACE_OP_COUNT; i++) {
		const struct sc_histogram *h = &s->ops[i];

		if (h->count == 0)
			continue;
		fprintf(out, "%-22s %12.0f %10s %10s %8" PRIu64 "\n", top_op_name((enum sc_trace_op)i),
			per_second(h->count, seconds), duration(top_quantile(h, 0.5), a, sizeof(a)),
			duration(top_quantile(h, 0.99), b, sizeof(b)), s->calls[i].errors);
	}
	if (!hot) {
		fprintf(out, "\n(out of memory for the partition table)\n");
		return;
	}
	nhot = rank_partitions(s, hot);
	fprintf(out, "\n%-10s %12s %10s %12s %8s %8s\n", "PARTITION", "OPS/S", "WAITS", "WAITED", "EVICTED",
		"EXPIRED");
	for (size_t i = 0; i < nhot && i < 8; i++)
		fprintf(out, "%-10" PRIu32 " %12.0f %10" PRIu64 " %12s %8" PRIu64 " %8" PRIu64 "\n",
			hot[i].partition, per_second(hot[i].p->calls, seconds), hot[i].p->contended,
			duration(hot[i].p->wait_ns, a, sizeof(a)), hot[i].p->evicted, hot[i].p->expired);
	free(hot);
	fprintf(out, "\nlocks: %.0f acquired/s, %" PRIu64 " waited (p99 wait %s), held p50 %s p99 %s\n",
		per_second(s->lock_hold.count, seconds), s->lock_wait.count,
		duration(top_quantile(&s->lock_wait, 0.99), a, sizeof(a)),
		duration(top_quantile(&s->lock_hold, 0.5), b, sizeof(b)),
		duration(top_quantile(&s->lock_hold, 0.99), c, sizeof(c)));
	fprintf(out, "grace periods: %" PRIu64 " (p99 %s)\n", s->grace_periods.count,
		duration(top_quantile(&s->grace_periods, 0.99), a, sizeof(a)));
	fprintf(out,
		"evicted: %" PRIu64 " (%" PRIu64 " bytes), expired: %" PRIu64 " (%" PRIu64
		" bytes), reclaimed: %" PRIu64 " bytes\n",
		s->removed[SC_REMOVAL_EVICTED].count, s->removed[SC_REMOVAL_EVICTED].bytes,
		s->removed[SC_REMOVAL_EXPIRED].count, s->removed[SC_REMOVAL_EXPIRED].bytes,
		s->removed[SC_REMOVAL_RECLAIMED].bytes);
	fprintf(out, "supercached: %" PRIu64 " sweeps, %" PRIu64 " health checks (%s), %" PRIu64 " alerts\n",
		s->coordinator[SC_COORD_SWEEP].count, s->coordinator[SC_COORD_HEALTH_CHECK].count, health(s),
		s->coordinator[SC_COORD_HEALTH_ALERT].count);
	render_replication(out, &s->replication, seconds);
}

static void json_quantiles(FILE *out, const char *prefix, const struct sc_histogram *h)
{
	fprintf(out, "\"%sp50_ns\":%" PRIu64 ",\"%sp99_ns\":%" PRIu64, prefix, top_quantile(h, 0.5), prefix,
		top_quantile(h, 0.99));
}

static void json_amount(FILE *out, const char *name, const struct sc_amount *a)
{
	fprintf(out, ",\"%s\":{\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", name, a->count, a->bytes);
}

/* ,"replication":{...}, or null for a local cache. */
static void json_replication(FILE *out, const struct top_replication *r, double seconds)
{
	if (!r->distributed) {
		fprintf(out, ",\"replication\":null");
		return;
	}
	fprintf(out,
		",\"replication\":{\"appended\":%" PRIu64 ",\"appended_per_s\":%.1f,\"primary_logs\":%" PRIu32
		",\"shipped\":%" PRIu64 ",\"shipped_per_s\":%.1f,\"acked\":%" PRIu64
		",\"acked_per_s\":%.1f,\"lag_entries\":%" PRIu64 ",\"lag_log\":%" PRIu32
		",\"lag_entries_total\":%" PRIu64 ",\"unshipped_lost\":%" PRIu64 ",\"resyncs\":%" PRIu64 "}",
		r->appended, per_second(r->appended, seconds), r->logs_primary, r->shipped,
		per_second(r->shipped, seconds), r->acked, per_second(r->acked, seconds), r->lag_max,
		r->lag_max_log, r->lag_total, r->unshipped_lost, r->resyncs);
}

void top_render_json(FILE *out, const struct top_options *o, const struct top_snapshot *s, double seconds)
{
	struct ranked *hot = calloc(TOP_MAX_PARTITIONS, sizeof(*hot));
	size_t nhot = hot ? rank_partitions(s, hot) : 0;
	const struct sc_coordinator_count *check = &s->coordinator[SC_COORD_HEALTH_CHECK];

	fprintf(out, "{\"cache\":");
	json_write_string(out, o->name);
	fprintf(out, ",\"seconds\":%.3f,\"source\":\"%s\",\"ops\":{", seconds,
		o->from_pins ? "pinned" : "attached");
	for (int i = 0; i < SC_TRACE_OP_COUNT; i++) {
		const struct sc_histogram *h = &s->ops[i];

		fprintf(out, "%s\"%s\":{\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"ops_per_s\":%.1f,",
			i ? "," : "", top_op_name((enum sc_trace_op)i), h->count, s->calls[i].errors,
			per_second(h->count, seconds));
		json_quantiles(out, "", h);
		fprintf(out, ",\"mean_ns\":%" PRIu64 "}", h->count ? h->sum_ns / h->count : 0);
	}
	fprintf(out, "},\"partitions\":[");
	for (size_t i = 0; i < nhot; i++)
		fprintf(out,
			"%s{\"partition\":%" PRIu32 ",\"ops\":%" PRIu64 ",\"errors\":%" PRIu64
			",\"lock_waits\":%" PRIu64 ",\"lock_wait_ns\":%" PRIu64 ",\"evicted\":%" PRIu64
			",\"expired\":%" PRIu64 "}",
			i ? "," : "", hot[i].partition, hot[i].p->calls, hot[i].p->errors,
			hot[i].p->contended, hot[i].p->wait_ns, hot[i].p->evicted, hot[i].p->expired);
	free(hot);
	fprintf(out, "],\"unrouted_ops\":%" PRIu64, s->unrouted.calls);
	fprintf(out, ",\"locks\":{\"acquisitions\":%" PRIu64 ",\"contended\":%" PRIu64 ",",
		s->lock_hold.count, s->lock_wait.count);
	json_quantiles(out, "wait_", &s->lock_wait);
	fputc(',', out);
	json_quantiles(out, "hold_", &s->lock_hold);
	fprintf(out, "},\"grace_periods\":{\"count\":%" PRIu64 ",", s->grace_periods.count);
	json_quantiles(out, "", &s->grace_periods);
	fputc('}', out);
	json_amount(out, "evictions", &s->removed[SC_REMOVAL_EVICTED]);
	json_amount(out, "expirations", &s->removed[SC_REMOVAL_EXPIRED]);
	json_amount(out, "reclaimed", &s->removed[SC_REMOVAL_RECLAIMED]);
	fprintf(out,
		",\"coordinator\":{\"sweeps\":%" PRIu64 ",\"health_checks\":%" PRIu64
		",\"health_alerts\":%" PRIu64 ",\"healthy\":%s}",
		s->coordinator[SC_COORD_SWEEP].count, check->count,
		s->coordinator[SC_COORD_HEALTH_ALERT].count,
		check->last_ns == 0 ? "null"
		: check->last_value ? "true"
				    : "false");
	json_replication(out, &s->replication, seconds);
	fprintf(out, "}\n");
}
