/* maintenance.h — the maintenance timer: reclamation, dead readers, expiry, and the status line. */
#ifndef SCD_MAINTENANCE_H
#define SCD_MAINTENANCE_H

#include <stddef.h>

#include "daemon.h"

/* Arm the timer (every maintenance_interval_ms); the first pass runs at once. */
int scd_maintenance_start(struct scd_daemon *d);

/* One pass now: sc_reclaim(), sc_release_dead_readers(), sc_expire(); then STATUS= to systemd. */
void scd_maintenance_pass(struct scd_daemon *d);

/* The one-line summary systemd shows as the unit's status. */
void scd_status_line(struct scd_daemon *d, char *buf, size_t len);

#endif /* SCD_MAINTENANCE_H */
