/* bus.h — supercached on D-Bus: the connection, the well-known name, the objects. */
#ifndef SCD_BUS_H
#define SCD_BUS_H

#include <stddef.h>

#include "bus/coordinator_bus.h"
#include "daemon.h"

/* A library call failed: the message is the library's own (sc_last_error()). */
#define SCD_ERROR_CACHE	       "org.supercache.Coordinator1.Error.Cache"
#define SCD_ERROR_NO_SUCH_NODE "org.supercache.HealthMonitor1.Error.NoSuchNode"

extern const sd_bus_vtable scd_coordinator_vtable[];
extern const sd_bus_vtable scd_health_vtable[];

/*
 * Connect to the bus at address (NULL: the system bus), publish both
 * interfaces, take the well-known name and attach to the event loop.
 */
int scd_bus_start(struct scd_daemon *d, const char *address);

/* This host's name: the one node of a local-mode cluster. */
void scd_host_name(char *buf, size_t len);

/* Set *e from a failed library call (err, and the calling thread's sc_last_error()). */
int scd_bus_cache_error(sd_bus_error *e, int err);

#endif /* SCD_BUS_H */
