/* health_monitor.h — the health checks on a timer, and their D-Bus signals. */
#ifndef SCD_HEALTH_MONITOR_H
#define SCD_HEALTH_MONITOR_H

#include "daemon.h"

/* Arm the health timer (every health_interval_ms). */
int scd_health_start(struct scd_daemon *d);

/*
 * Run a health check now: signal HealthCheck with its readings, and
 * HealthAlert once for each check that has just crossed its threshold.
 * 0, or the library's error when no reading could be taken.
 */
int scd_health_check_now(struct scd_daemon *d, struct scd_health *h);

#endif /* SCD_HEALTH_MONITOR_H */
