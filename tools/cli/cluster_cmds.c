/* cluster_cmds.c — cluster map: the partition map in a distributed cache's segment, read without the daemon. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *node_name(const sc_cluster_map *map, uint16_t i)
{
	return i < map->node_count ? map->nodes[i] : "";
}

/* Milliseconds the lease has left on CLOCK_MONOTONIC, 0 when it has passed or there is none. */
static uint64_t lease_left_ms(const sc_cluster_map *map)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return map->lease_deadline_ns > now ? (map->lease_deadline_ns - now) / 1000000 : 0;
}

static void map_json(struct cli *cli, const sc_cluster_map *map, const sc_partition_owners *parts)
{
	printf("{\"self\":");
	fmt_json_string(node_name(map, (uint16_t)map->self), strlen(node_name(map, (uint16_t)map->self)));
	printf(",\"changes\":%" PRIu64 ",\"lease_left_ms\":%" PRIu64 ",\"partitions\":[", map->changes,
	       lease_left_ms(map));
	for (uint32_t p = 0; p < map->num_partition; p++) {
		const char *primary = node_name(map, parts[p].primary);

		printf("%s{\"partition\":%" PRIu32 ",\"epoch\":%" PRIu64 ",\"primary\":", p ? "," : "", p,
		       parts[p].epoch);
		if (primary[0])
			fmt_json_string(primary, strlen(primary));
		else
			fputs("null", stdout);
		fputs(",\"replicas\":[", stdout);
		for (uint32_t k = 0; k < parts[p].replica_count; k++) {
			const char *r = node_name(map, parts[p].replicas[k]);

			fputs(k ? "," : "", stdout);
			fmt_json_string(r, strlen(r));
		}
		printf("],\"acting\":%s}", sc_cluster_acting_primary(cli->cache, p) == 1 ? "true" : "false");
	}
	puts("]}");
}

static void map_human(struct cli *cli, const sc_cluster_map *map, const sc_partition_owners *parts)
{
	printf("node %s, %" PRIu64 " changes, lease %s",
	       map->self == SC_NO_NODE ? "(not joined)" : node_name(map, (uint16_t)map->self), map->changes,
	       lease_left_ms(map) ? "held: " : "not held");
	if (lease_left_ms(map))
		printf("%" PRIu64 " ms left", lease_left_ms(map));
	printf("\n%-9s %-12s %-20s %s\n", "PARTITION", "EPOCH", "PRIMARY", "REPLICAS");
	for (uint32_t p = 0; p < map->num_partition; p++) {
		const char *primary = node_name(map, parts[p].primary);

		printf("%-9" PRIu32 " %-12" PRIu64 " %-20s ", p, parts[p].epoch, primary[0] ? primary : "-");
		for (uint32_t k = 0; k < parts[p].replica_count; k++)
			printf("%s%s", k ? "," : "", node_name(map, parts[p].replicas[k]));
		printf("%s\n", sc_cluster_acting_primary(cli->cache, p) == 1 ? "  (primary here)" : "");
	}
}

int cmd_cluster_map(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_cluster_map map;
	sc_partition_owners *parts;
	sc_options cfg;
	int err, rc;

	if (cli_parse(cmd, argc, argv, NULL, 0, 0, 0, &rc) < 0 || (rc = cli_attach(cli)))
		return rc;
	cfg = SC_OPTIONS();
	if ((err = sc_config(cli->cache, &cfg)) < 0)
		return cli_fail(cmd, err);
	parts = calloc(cfg.num_partition, sizeof(*parts));
	if (!parts)
		return cli_fail(cmd, -ENOMEM);
	err = sc_cluster_map_read(cli->cache, &map, parts, cfg.num_partition);
	if (err < 0) {
		free(parts);
		return cli_fail(cmd, err);
	}
	if (cli->json)
		map_json(cli, &map, parts);
	else
		map_human(cli, &map, parts);
	free(parts);
	return CLI_OK;
}
