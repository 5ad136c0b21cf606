/* coordinator_bus.h — where supercached is on D-Bus, for it and for its clients alike. */
#ifndef SCD_COORDINATOR_BUS_H
#define SCD_COORDINATOR_BUS_H

#include <stddef.h>

#include <systemd/sd-bus.h>

#define SCD_OBJECT_PATH		  "/org/supercache/Coordinator"
#define SCD_COORDINATOR_INTERFACE "org.supercache.Coordinator1"
#define SCD_HEALTH_INTERFACE	  "org.supercache.HealthMonitor1"

/*
 * Room for a coordinator's bus name: the prefix, '.', '_' and the cache
 * name, with room to spare for names longer than a cache's 64 bytes, which
 * a client shows whole in its error rather than cut.
 */
#define SCD_BUS_NAME_MAX 256

/*
 * The well-known name of cache name's coordinator: org.supercache.Coordinator1
 * for the cache called "default", org.supercache.Coordinator1.<name> for
 * any other (with '_' before a name that starts with a digit, which a bus
 * name element may not). One name per instance, so that each cache's
 * coordinator can run beside the others.
 */
void scd_bus_name(const char *cache_name, char *buf, size_t len);

/* A started connection to the bus at address (NULL: the system bus); 0 or a negative errno. */
int scd_bus_connect(const char *address, sd_bus **out);

#endif /* SCD_COORDINATOR_BUS_H */
