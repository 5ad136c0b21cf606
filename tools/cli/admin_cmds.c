/* admin_cmds.c — stats, check and destroy: the cache as a whole, read straight from shared memory. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The width of the human form's label column. */
#define LABEL_WIDTH 18

/* The counters of sc_partition_stats, in the order printed: label for people, key for JSON. */
static const struct {
	const char *label, *key;
	size_t off;
} counters[] = {
	{ "records", "records", offsetof(sc_partition_stats, records) },
	{ "bytes", "bytes", offsetof(sc_partition_stats, bytes) },
	{ "index capacity", "index_capacity", offsetof(sc_partition_stats, index_capacity) },
	{ "puts", "puts", offsetof(sc_partition_stats, puts) },
	{ "gets", "gets", offsetof(sc_partition_stats, gets) },
	{ "hits", "hits", offsetof(sc_partition_stats, hits) },
	{ "deletes", "deletes", offsetof(sc_partition_stats, deletes) },
	{ "evictions", "evictions", offsetof(sc_partition_stats, evictions) },
	{ "expirations", "expirations", offsetof(sc_partition_stats, expirations) },
	{ "retired bytes", "retired_bytes", offsetof(sc_partition_stats, retired_bytes) },
	{ "locks", "locks", offsetof(sc_partition_stats, locks) },
	{ "writer deaths", "writer_deaths", offsetof(sc_partition_stats, writer_deaths) },
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint64_t counter(const sc_partition_stats *p, size_t i)
{
	return *(const uint64_t *)((const char *)p + counters[i].off);
}

static void row(const char *label, uint64_t value)
{
	printf("%-*s %" PRIu64 "\n", LABEL_WIDTH, label, value);
}

static void counters_json(const sc_partition_stats *p)
{
	putchar('{');
	for (size_t i = 0; i < NCOUNTERS; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", counters[i].key, counter(p, i));
	putchar('}');
}

static void stats_json(const struct cli *cli, const sc_cache_stats *s, bool partitions)
{
	fputs("{\"cache\":", stdout);
	fmt_json_string(cli->name, strlen(cli->name));
	printf(",\"num_partition\":%" PRIu32 ",\"readers\":%" PRIu32 ",\"memory_used\":%" PRIu64
	       ",\"memory_limit\":%" PRIu64 ",\"total\":",
	       s->num_partition, s->readers, s->memory_used, s->memory_limit);
	counters_json(&s->total);
	fputs(",\"structures\":", stdout);
	counters_json(&s->structures);
	if (s->oldest_reader_pid)
		printf(",\"oldest_reader\":{\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"lag\":%" PRIu64 "}",
		       s->oldest_reader_pid, s->oldest_reader_tid, s->oldest_reader_lag);
	else
		fputs(",\"oldest_reader\":null", stdout);
	if (partitions) {
		fputs(",\"partitions\":[", stdout);
		for (uint32_t p = 0; p < s->num_partition; p++) {
			if (p)
				putchar(',');
			counters_json(&s->partitions[p]);
		}
		putchar(']');
	}
	puts("}");
}

/* One row per partition, a column per counter, right-aligned under its JSON key. */
static void partition_table(const sc_cache_stats *s)
{
	int width[NCOUNTERS];

	for (size_t i = 0; i < NCOUNTERS; i++) {
		width[i] = (int)strlen(counters[i].key);
		for (uint32_t p = 0; p < s->num_partition; p++) {
			int w = snprintf(NULL, 0, "%" PRIu64, counter(&s->partitions[p], i));

			width[i] = w > width[i] ? w : width[i];
		}
	}
	printf("\n%9s", "partition");
	for (size_t i = 0; i < NCOUNTERS; i++)
		printf("  %*s", width[i], counters[i].key);
	putchar('\n');
	for (uint32_t p = 0; p < s->num_partition; p++) {
		printf("%9" PRIu32, p);
		for (size_t i = 0; i < NCOUNTERS; i++)
			printf("  %*" PRIu64, width[i], counter(&s->partitions[p], i));
		putchar('\n');
	}
}

static void stats_human(const struct cli *cli, const sc_cache_stats *s, bool partitions)
{
	printf("%-*s %s\n", LABEL_WIDTH, "cache", cli->name);
	row("partitions", s->num_partition);
	row("memory used", s->memory_used);
	row("memory limit", s->memory_limit);
	row("readers", s->readers);
	for (size_t i = 0; i < NCOUNTERS; i++)
		row(counters[i].label, counter(&s->total, i));
	row("structure records", s->structures.records);
	row("structure bytes", s->structures.bytes);
	if (s->oldest_reader_pid)
		printf("%-*s pid %" PRIu32 " tid %" PRIu32 ", %" PRIu64 " grace periods behind\n",
		       LABEL_WIDTH, "oldest reader", s->oldest_reader_pid, s->oldest_reader_tid,
		       s->oldest_reader_lag);
	else
		printf("%-*s none\n", LABEL_WIDTH, "oldest reader");
	if (partitions)
		partition_table(s);
}

int cmd_stats(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	bool partitions = false;
	const struct cli_option opts[] = { { "--partitions", NULL, &partitions } };
	sc_cache_stats *s;
	int err, rc;

	if (cli_parse(cmd, argc, argv, opts, 1, 0, 0, &rc) < 0 || (rc = cli_attach(cli)))
		return rc;
	if ((err = sc_stats(cli->cache, &s)) < 0)
		return cli_fail(cmd, err);
	if (cli->json)
		stats_json(cli, s, partitions);
	else
		stats_human(cli, s, partitions);
	sc_stats_free(s);
	return CLI_OK;
}

static void check_json(const sc_check_report *r, int mended)
{
	printf("{\"sound\":%s,\"records\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"repaired\":%" PRIu64
	       ",\"problems\":%" PRIu64 ",\"damaged_partitions\":%" PRIu32 ",\"segment_problems\":%" PRIu32,
	       r->problems ? "false" : "true", r->records, r->blocks, r->repaired, r->problems,
	       r->damaged_partitions, r->segment_problems);
	if (mended >= 0)
		printf(",\"emptied_partitions\":%d", mended);
	printf(",\"listed\":[");
	for (uint32_t i = 0; i < r->listed; i++) {
		const sc_check_problem *p = &r->list[i];

		printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRIu64 ",\"what\":", i ? "," : "",
		       p->partition, p->offset);
		fmt_json_string(p->what, strnlen(p->what, sizeof(p->what)));
		putchar('}');
	}
	puts("]}");
}

static void check_human(const sc_check_report *r, int mended)
{
	row("records", r->records);
	row("blocks", r->blocks);
	row("repaired", r->repaired);
	row("problems", r->problems);
	if (r->problems) {
		row("damaged partitions", r->damaged_partitions);
		row("segment problems", r->segment_problems);
	}
	if (mended >= 0)
		row("emptied partitions", (uint64_t)mended);
	for (uint32_t i = 0; i < r->listed; i++) {
		const sc_check_problem *p = &r->list[i];

		if (p->partition < 0)
			printf("segment");
		else
			printf("partition %" PRId32, p->partition);
		printf(" at offset %#" PRIx64 ": %.*s\n", p->offset, (int)sizeof(p->what), p->what);
	}
	if (r->problems > r->listed)
		printf("(%" PRIu64 " more not listed)\n", r->problems - r->listed);
}

/*
 * The remedy the report names (docs/api.md): sc_repair() when there is
 * damage outside partitions, else a reset of every damaged partition. The
 * number of partitions emptied, or a negative errno.
 */
static int mend(sc_cache *c, const sc_check_report *r)
{
	sc_options o = { .sz = sizeof(o) };
	int emptied = 0, err = sc_config(c, &o);

	if (!err && r->segment_problems)
		return sc_repair(c);
	for (uint32_t p = 0; !err && p < 2 * o.num_partition; p++)
		if (sc_check_damaged(r, p)) {
			err = sc_partition_reset(c, p);
			emptied++;
		}
	return err ? err : emptied;
}

int cmd_check(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	bool no_locks = false, repair = false;
	const struct cli_option opts[] = { { "--no-locks", NULL, &no_locks }, { "--repair", NULL, &repair } };
	sc_check_report r;
	int err, rc, mended = -1;

	if (cli_parse(cmd, argc, argv, opts, 2, 0, 0, &rc) < 0 || (rc = cli_attach(cli)))
		return rc;
	if (no_locks && repair)
		return cli_usage_error(cmd, "--repair takes locks; it cannot go with --no-locks");
	memset(&r, 0, sizeof(r));
	err = sc_check(cli->cache, no_locks ? SC_CHECK_NO_LOCKS : 0, &r);
	if (err == -EUCLEAN && repair) {
		mended = mend(cli->cache, &r);
		if (mended < 0)
			return cli_fail(cmd, mended);
		err = sc_check(cli->cache, 0, &r);
	}
	if (err < 0 && err != -EUCLEAN)
		return cli_fail(cmd, err);
	if (cli->json)
		check_json(&r, mended);
	else
		check_human(&r, mended);
	if (!err)
		return CLI_OK;
	fprintf(stderr, "supercache: check: cache \"%s\" is damaged (%" PRIu64 " problems)\n", cli->name,
		r.problems);
	return CLI_DAMAGED;
}

int cmd_destroy(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	bool yes = false;
	const struct cli_option opts[] = { { "--yes", NULL, &yes } };
	int err, rc;

	if (cli_parse(cmd, argc, argv, opts, 1, 0, 0, &rc) < 0)
		return rc;
	if (!yes)
		return cli_usage_error(
			cmd, "this deletes every tuple, pair and item of cache \"%s\"; add --yes to do it",
			cli->name);
	err = sc_destroy(cli->name, &cli->opts);
	if (err == -ENOENT)
		return cli_no_cache(cli);
	if (err < 0)
		return cli_fail(cmd, err);
	if (cli->json) {
		fputs("{\"destroyed\":", stdout);
		fmt_json_string(cli->name, strlen(cli->name));
		puts("}");
	} else {
		printf("destroyed cache \"%s\"\n", cli->name);
	}
	return CLI_OK;
}
