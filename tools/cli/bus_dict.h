/* bus_dict.h — printing a D-Bus a{sv} reply, whatever its keys. */
#ifndef SC_CLI_BUS_DICT_H
#define SC_CLI_BUS_DICT_H

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "cli.h"

/*
 * Print the a{sv} the message is at and move past it: for people one key
 * per line, values aligned, nested dictionaries indented two spaces per
 * depth under "key:"; or as a JSON object. Values of type s, b, u, i, t,
 * x, d, as, at and a{sv} are printed; others as their type. 0 or -errno.
 */
int bus_print_dict(sd_bus_message *m, bool json, int depth);

#endif /* SC_CLI_BUS_DICT_H */
