/* health.c — the local-mode health checks, computed from one stats snapshot. */
#include "local/health.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const check_names[SCD_CHECKS] = {
	[SCD_CHECK_MEMORY] = "memory",
	[SCD_CHECK_RECLAIM_BACKLOG] = "reclaim_backlog",
	[SCD_CHECK_STALLED_READER] = "stalled_reader",
	[SCD_CHECK_PARTITION_BALANCE] = "partition_balance",
};

const char *scd_check_name(enum scd_check check)
{
	return check < SCD_CHECKS ? check_names[check] : "unknown";
}

void scd_health_balance(const sc_cache_stats *stats, struct scd_balance *out)
{
	double sum = 0, squares = 0;
	uint32_t n = stats->num_partition;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	out->min = (double)stats->partitions[0].bytes;
	for (uint32_t i = 0; i < n; i++) {
		double b = (double)stats->partitions[i].bytes;

		sum += b;
		squares += b * b;
		out->min = b < out->min ? b : out->min;
		out->max = b > out->max ? b : out->max;
	}
	out->mean = sum / n;
	out->stddev = sqrt(fmax(0.0, squares / n - out->mean * out->mean));
	out->imbalance = out->mean > 0 ? out->max / out->mean : 1.0;
}

/*
 * The oldest open read section, followed across checks: a section is known
 * by its process, its thread and the grace period it began in. Its age is
 * the time since a check first saw it, so it is known to within one
 * health interval.
 */
static double section_age(struct scd_health_state *state, const sc_cache_stats *stats, uint64_t now_usec)
{
	if (stats->oldest_reader_pid == 0) {
		state->seen_pid = 0;
		return 0;
	}
	if (state->seen_pid != stats->oldest_reader_pid || state->seen_tid != stats->oldest_reader_tid ||
	    state->seen_epoch != stats->oldest_reader_epoch) {
		state->seen_pid = stats->oldest_reader_pid;
		state->seen_tid = stats->oldest_reader_tid;
		state->seen_epoch = stats->oldest_reader_epoch;
		state->seen_since_usec = now_usec;
	}
	return (double)(now_usec - state->seen_since_usec) / 1e6;
}

static void set_check(struct scd_check_result *r, double value, double threshold, bool alert,
		      const char *what)
{
	r->value = value;
	r->threshold = threshold;
	r->alert = alert;
	snprintf(r->message, sizeof(r->message), "%s", what);
}

void scd_health_measure(const struct scd_config *cfg, const sc_options *cache_cfg,
			const sc_cache_stats *stats, struct scd_health_state *state, uint64_t now_usec,
			struct scd_health *out)
{
	struct scd_balance balance;
	char what[160];
	double memory_pct, backlog_pct;
	/* Below this many records per partition a lopsided spread is chance, not a hot key. */
	bool enough_records = stats->total.records >= 64ull * stats->num_partition;

	memset(out, 0, sizeof(*out));
	out->memory_used = stats->memory_used;
	out->memory_limit = stats->memory_limit;
	out->retired_bytes = stats->total.retired_bytes + stats->structures.retired_bytes;
	out->max_retired = cache_cfg->max_retired;
	out->readers = stats->readers;
	out->oldest_reader_pid = stats->oldest_reader_pid;
	out->oldest_reader_tid = stats->oldest_reader_tid;
	out->oldest_reader_seconds = section_age(state, stats, now_usec);
	out->records = stats->total.records;

	memory_pct = out->memory_limit ? 100.0 * (double)out->memory_used / (double)out->memory_limit : 0;
	snprintf(what, sizeof(what), "memory use at %.1f%% of the limit (%llu of %llu bytes)", memory_pct,
		 (unsigned long long)out->memory_used, (unsigned long long)out->memory_limit);
	set_check(&out->checks[SCD_CHECK_MEMORY], memory_pct, cfg->memory_alert_percent,
		  memory_pct >= cfg->memory_alert_percent, what);

	backlog_pct = out->max_retired ? 100.0 * (double)out->retired_bytes / (double)out->max_retired : 0;
	snprintf(what, sizeof(what), "%llu retired bytes waiting for readers, %.1f%% of max_retired",
		 (unsigned long long)out->retired_bytes, backlog_pct);
	set_check(&out->checks[SCD_CHECK_RECLAIM_BACKLOG], backlog_pct, cfg->reclaim_backlog_alert_percent,
		  backlog_pct >= cfg->reclaim_backlog_alert_percent, what);

	if (out->oldest_reader_pid)
		snprintf(what, sizeof(what), "reader pid %u (thread %u) in one read section for %.1f s",
			 out->oldest_reader_pid, out->oldest_reader_tid, out->oldest_reader_seconds);
	else
		snprintf(what, sizeof(what), "no read section open");
	set_check(&out->checks[SCD_CHECK_STALLED_READER], out->oldest_reader_seconds * 1000.0,
		  cfg->stalled_reader_ms, out->oldest_reader_seconds * 1000.0 >= cfg->stalled_reader_ms,
		  what);

	scd_health_balance(stats, &balance);
	snprintf(what, sizeof(what), "largest partition holds %.2f times the mean (%.0f of %.0f bytes)",
		 balance.imbalance, balance.max, balance.mean);
	set_check(&out->checks[SCD_CHECK_PARTITION_BALANCE], balance.imbalance,
		  cfg->partition_imbalance_ratio,
		  enough_records && balance.imbalance >= cfg->partition_imbalance_ratio, what);

	out->healthy = true;
	for (int i = 0; i < SCD_CHECKS; i++)
		out->healthy = out->healthy && !out->checks[i].alert;
}

unsigned scd_health_newly_alerting(struct scd_health_state *state, const struct scd_health *h)
{
	unsigned raised = 0;

	for (int i = 0; i < SCD_CHECKS; i++) {
		if (h->checks[i].alert && !state->alerting[i])
			raised |= 1u << i;
		state->alerting[i] = h->checks[i].alert;
	}
	state->checks_run++;
	return raised;
}
