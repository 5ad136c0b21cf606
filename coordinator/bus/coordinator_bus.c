/* coordinator_bus.c — where supercached is on D-Bus, for it and for its clients alike. */
#include "bus/coordinator_bus.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void scd_bus_name(const char *cache_name, char *buf, size_t len)
{
	if (strcmp(cache_name, "default") == 0)
		snprintf(buf, len, "%s", SCD_COORDINATOR_INTERFACE);
	else
		snprintf(buf, len, "%s.%s%s", SCD_COORDINATOR_INTERFACE,
			 isdigit((unsigned char)cache_name[0]) ? "_" : "", cache_name);
}

int scd_bus_connect(const char *address, sd_bus **out)
{
	sd_bus *bus;
	int r;

	if (!address)
		return sd_bus_open_system(out);
	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}
