/* bus_health.h — the health checks on a timer, with their D-Bus signals (bus_health.c). */
#ifndef SCD_BUS_HEALTH_H
#define SCD_BUS_HEALTH_H

#include "daemon.h"

/* Arm the health timer (every health_interval_ms). */
int scd_health_start(struct scd_daemon *d);
#endif /* SCD_BUS_HEALTH_H */
