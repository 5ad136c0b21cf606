/* bus.c — supercached on D-Bus: the connection, the well-known name, the objects. */
#include "bus/bus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "bus/bus_cluster.h"

void scd_host_name(char *buf, size_t len)
{
	if (gethostname(buf, len - 1))
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

int scd_bus_cache_error(sd_bus_error *e, int err)
{
	const char *detail = sc_last_error();

	return sd_bus_error_setf(e, SCD_ERROR_CACHE, "%s", *detail ? detail : sc_strerror(err));
}

int scd_bus_start(struct scd_daemon *d, const char *address)
{
	int r = scd_bus_connect(address, &d->bus);

	if (r < 0) {
		scd_log(d, LOG_ERR, "cannot connect to the %s bus%s%s: %s", address ? "given" : "system",
			address ? " at " : "", address ? address : "", strerror(-r));
		return r;
	}
	scd_bus_name(d->name, d->bus_name, sizeof(d->bus_name));
	r = sd_bus_add_object_vtable(d->bus, NULL, SCD_OBJECT_PATH, SCD_COORDINATOR_INTERFACE,
				     scd_coordinator_vtable, d);
	if (r >= 0)
		r = sd_bus_add_object_vtable(d->bus, NULL, SCD_OBJECT_PATH, SCD_HEALTH_INTERFACE,
					     scd_health_vtable, d);
	if (r >= 0)
		r = sd_bus_add_object_vtable(d->bus, NULL, SCD_OBJECT_PATH, SCD_CLUSTER_INTERFACE,
					     scd_cluster_vtable, d);
	if (r < 0) {
		scd_log(d, LOG_ERR, "cannot publish %s: %s", SCD_OBJECT_PATH, strerror(-r));
		return r;
	}
	r = sd_bus_request_name(d->bus, d->bus_name, 0);
	if (r < 0) {
		scd_log(d, LOG_ERR, "cannot take the bus name %s: %s%s", d->bus_name, strerror(-r),
			r == -EEXIST   ? " (is another supercached running for this cache?)"
			: r == -EACCES ? " (the bus policy does not let this user own it)"
				       : "");
		return r;
	}
	r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		scd_log(d, LOG_ERR, "cannot attach the bus to the event loop: %s", strerror(-r));
	return r;
}
