/* health.h — the local-mode health checks: memory, reclaim backlog, stalled readers, balance. */
#ifndef SCD_HEALTH_H
#define SCD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include <supercache.h>

#include "config.h"

enum scd_check {
	SCD_CHECK_MEMORY,
	SCD_CHECK_RECLAIM_BACKLOG,
	SCD_CHECK_STALLED_READER,
	SCD_CHECK_PARTITION_BALANCE,
	SCD_CHECKS
};

/* One check's reading against its threshold. */
struct scd_check_result {
	double value;
	double threshold;
	bool alert;
	char message[160];
};

/* A health check: every reading, taken from one stats snapshot. */
struct scd_health {
	uint64_t memory_used, memory_limit;
	uint64_t retired_bytes, max_retired;
	uint32_t readers;
	uint32_t oldest_reader_pid, oldest_reader_tid;
	double oldest_reader_seconds; /* how long its section has been seen open; 0 when none */
	uint64_t records;
	struct scd_check_result checks[SCD_CHECKS];
	bool healthy; /* no check in alert */
};

/*
 * What persists between checks: when the oldest open section was first
 * seen (a section is known by its pid, thread and epoch), and which checks
 * were in alert, so that an alert is raised once when a threshold is
 * crossed, not on every check while it stays crossed.
 */
struct scd_health_state {
	uint32_t seen_pid, seen_tid;
	uint64_t seen_epoch; /* the grace period it began in */
	uint64_t seen_since_usec;
	bool alerting[SCD_CHECKS];
	uint64_t checks_run;
};

/* The name of a check, as signals and dictionaries spell it. */
const char *scd_check_name(enum scd_check check);

/* Take a health reading now (now_usec: CLOCK_MONOTONIC). */
void scd_health_measure(const struct scd_config *cfg, const sc_options *cache_cfg,
			const sc_cache_stats *stats, struct scd_health_state *state, uint64_t now_usec,
			struct scd_health *out);

/*
 * Record a reading in state: returns the checks that have just crossed into
 * alert (bit i for check i), each to be announced once.
 */
unsigned scd_health_newly_alerting(struct scd_health_state *state, const struct scd_health *h);

/* Partition balance by bytes: min, max, mean and standard deviation, and max / mean. */
struct scd_balance {
	double min, max, mean, stddev, imbalance;
};
void scd_health_balance(const sc_cache_stats *stats, struct scd_balance *out);

#endif /* SCD_HEALTH_H */
