/* daemon.h — the state of one supercached instance, shared by its event handlers. */
#ifndef SCD_DAEMON_H
#define SCD_DAEMON_H

struct scd_cluster;

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus/coordinator_bus.h"
#include "config.h"
#include "local/health.h"

/* What the maintenance timer has done since the daemon started. */
struct scd_maintenance_totals {
	uint64_t passes;
	uint64_t reclaimed_bytes;
	uint64_t dead_readers;
	uint64_t expired;
	int last_error; /* of the last pass, 0 when it went through */
};

struct scd_daemon {
	char name[SCD_NAME_MAX + 1];
	char bus_name[SCD_BUS_NAME_MAX];
	struct scd_config cfg;
	sc_cache *cache;
	sc_options cache_opts; /* what the cache was created with (sc_config) */
	uint64_t trace_id;     /* what the USDT probes call the cache: trace_id.h */
	sd_event *event;
	sd_bus *bus;
	sd_event_source *maintenance_timer;
	sd_event_source *health_timer;
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	char status[256];      /* the last STATUS= sent to systemd */
	struct scd_maintenance_totals maintenance;
	struct scd_health_state health;
	struct scd_cluster *cluster; /* distributed mode only (distributed.h) */
};

/* Log at a syslog level, with the prefix journald reads; LOG_DEBUG only while debug_log is on. */
void scd_log(const struct scd_daemon *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* SCD_DAEMON_H */
