/* bus_cmds.c — status and health: the cache's coordinator asked over D-Bus. */
#include <stdio.h>
#include <string.h>

#include "bus/coordinator_bus.h"
#include "bus_dict.h"
/* Errors that mean nobody serves the name, or the bus went away under the call. */
static bool unreachable(const sd_bus_error *e)
{
	static const char *const names[] = {
		SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_REPLY,
		SD_BUS_ERROR_DISCONNECTED,    SD_BUS_ERROR_TIMEOUT,
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sd_bus_error_has_name(e, names[i]))
			return true;
	return false;
}

/* Connect to --bus-address, else the system bus; CLI_BUS after a message when that fails. */
static int bus_connect(const struct cli *cli, const char *dest, sd_bus **bus)
{
	int r = scd_bus_connect(cli->bus_address, bus);

	if (r >= 0)
		return CLI_OK;
	fprintf(stderr, "supercache: cannot reach %s: cannot connect to %s: %s\n", dest,
		cli->bus_address ? cli->bus_address : "the system bus", strerror(-r));
	return CLI_BUS;
}

/* Call a method that takes nothing; *reply is the answer, else the exit code after a message. */
static int call(const struct cli *cli, const struct cli_command *cmd, sd_bus *bus, const char *dest,
		const char *iface, const char *method, sd_bus_message **reply)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int rc = CLI_OK, r = sd_bus_call_method(bus, dest, SCD_OBJECT_PATH, iface, method, &error, reply, "");

	if (r < 0 && unreachable(&error)) {
		rc = CLI_BUS;
		fprintf(stderr, "supercache: %s: cannot reach %s (is supercached@%s running?): %s\n",
			cli_command_name(cmd), dest, cli->name, error.message ? error.message : strerror(-r));
	} else if (r < 0) {
		rc = CLI_ERROR;
		fprintf(stderr, "supercache: %s: %s %s.%s failed: %s\n", cli_command_name(cmd), dest, iface,
			method, error.message ? error.message : strerror(-r));
	}
	sd_bus_error_free(&error);
	return rc;
}

/* Call each method and print its a{sv} reply, under its label when there are several. */
static int ask(struct cli *cli, const struct cli_command *cmd, int argc, char **argv, const char *iface,
	       const char *const *methods, const char *const *labels, size_t n)
{
	char dest[SCD_BUS_NAME_MAX];
	sd_bus_message *replies[2] = { NULL, NULL }; /* n is at most 2 */
	sd_bus *bus = NULL;
	int r = 0, rc;

	if (cli_parse(cmd, argc, argv, NULL, 0, 0, 0, &rc) < 0)
		return rc;
	scd_bus_name(cli->name, dest, sizeof(dest));
	rc = bus_connect(cli, dest, &bus);
	for (size_t i = 0; i < n && !rc; i++)
		rc = call(cli, cmd, bus, dest, iface, methods[i], &replies[i]);
	if (!rc && cli->json && labels)
		putchar('{');
	for (size_t i = 0; i < n && !rc && r >= 0; i++) {
		if (labels && cli->json)
			printf("%s\"%s\":", i ? "," : "", labels[i]);
		else if (labels)
			printf("%s:\n", labels[i]);
		r = bus_print_dict(replies[i], cli->json, labels ? 1 : 0);
	}
	if (!rc && r >= 0 && cli->json)
		puts(labels ? "}" : "");
	if (!rc && r < 0) {
		fprintf(stderr, "supercache: %s: %s sent a reply that is not an a{sv}: %s\n",
			cli_command_name(cmd), dest, strerror(-r));
		rc = CLI_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		sd_bus_message_unref(replies[i]);
	sd_bus_flush_close_unref(bus);
	return rc;
}

int cmd_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const methods[] = { "Stats", "Config" };
	static const char *const labels[] = { "stats", "config" };

	return ask(cli, cmd, argc, argv, SCD_COORDINATOR_INTERFACE, methods, labels, 2);
}

int cmd_health(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const methods[] = { "ClusterHealth" };

	return ask(cli, cmd, argc, argv, SCD_HEALTH_INTERFACE, methods, NULL, 1);
}

int cmd_cluster_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const methods[] = { "ClusterStats" };

	return ask(cli, cmd, argc, argv, "org.supercache.Cluster1", methods, NULL, 1);
}
