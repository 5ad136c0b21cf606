/* maintenance.h — the maintenance timer: reclamation, dead readers, expiry, and the status line. */
#ifndef SCD_MAINTENANCE_H
#define SCD_MAINTENANCE_H

#include "daemon.h"

/*
 * Arm the timer (every maintenance_interval_ms) after one pass now; a pass
 * is sc_reclaim(), sc_release_dead_readers() and sc_expire_within(), then
 * d->status, sent as STATUS= to systemd when it changed.
 */
int scd_maintenance_start(struct scd_daemon *d);
#endif /* SCD_MAINTENANCE_H */
