/* tuple_cmds.c — put, get, delete, match and scan: the cache's tuples. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Optional partition data: NULL, or the parsed field in *field. false after a usage error. */
static bool partition_field(const struct cli_command *cmd, const char *arg, sc_field *field,
			    const sc_field **out)
{
	*out = NULL;
	if (!arg)
		return true;
	if (!cli_field(cmd, arg, false, field))
		return false;
	*out = field;
	return true;
}

/* Print tuples found; CLI_NOT_FOUND when there were none. */
static int print_found(const struct cli *cli, const sc_tuples *found)
{
	fmt_tuples(cli, found ? found->tuples : NULL, found ? found->count : 0);
	return found && found->count ? CLI_OK : CLI_NOT_FOUND;
}

int cmd_put(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *ttl_arg = NULL;
	const struct cli_option opts[] = { { "--ttl", &ttl_arg, NULL } };
	uint64_t ttl;
	sc_field *fields;
	int rc, n = cli_parse(cmd, argc, argv, opts, 1, 1, SC_MAX_FIELDS, &rc);

	if (n < 0)
		return rc;
	if (!cli_parse_ttl(cmd, ttl_arg, &ttl))
		return CLI_USAGE;
	if (!(fields = cli_fields(cmd, n, argv, false)))
		return CLI_USAGE;
	rc = cli_attach(cli);
	if (!rc) {
		sc_tuple t = { (uint32_t)n, fields };
		int err = sc_put_ttl(cli->cache, &t, ttl);

		rc = err < 0 ? cli_fail(cmd, err) : CLI_OK;
	}
	free(fields);
	if (!rc)
		fmt_ok(cli);
	return rc;
}

/* get and delete: attach, then the data tuple for KEY in *t (free *fields); false with *rc to exit with. */
static bool key_lookup(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
		       sc_field **fields, sc_tuple *t, int *rc)
{
	const char *pdata = NULL;
	const struct cli_option opts[] = { { "--partition-data", &pdata, NULL } };
	sc_options cfg = SC_OPTIONS();
	int err;

	*fields = NULL;
	if (cli_parse(cmd, argc, argv, opts, 1, 1, 1, rc) < 0 || (*rc = cli_attach(cli)))
		return false;
	if ((err = sc_config(cli->cache, &cfg)) < 0 ||
	    !(*fields = calloc(cli_data_width(&cfg), sizeof(**fields)))) {
		*rc = cli_fail(cmd, err < 0 ? err : -ENOMEM);
		return false;
	}
	*rc = cli_data_tuple(cmd, &cfg, argv[0], pdata, *fields, t);
	return *rc == CLI_OK;
}

int cmd_get(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_tuples *found = NULL;
	sc_field *fields;
	sc_tuple t;
	int err, rc;

	if (key_lookup(cli, cmd, argc, argv, &fields, &t, &rc)) {
		err = sc_get(cli->cache, &t, &found);
		rc = err < 0 ? cli_fail(cmd, err) : print_found(cli, found);
		sc_tuples_free(found);
	}
	free(fields);
	return rc;
}

int cmd_delete(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_field *fields;
	sc_tuple t;
	int err, rc;

	if (key_lookup(cli, cmd, argc, argv, &fields, &t, &rc)) {
		err = sc_delete(cli->cache, &t);
		if (err < 0)
			rc = cli_fail(cmd, err);
		else
			fmt_count(cli, "deleted", (uint64_t)err);
	}
	free(fields);
	return rc;
}

int cmd_match(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pdata_arg = NULL;
	bool object = false;
	const struct cli_option opts[] = { { "--partition-data", &pdata_arg, NULL },
					   { "--object", NULL, &object } };
	const sc_field *pdata;
	sc_tuples *found = NULL;
	sc_field pfield, *fields;
	int err, rc, n = cli_parse(cmd, argc, argv, opts, 2, 1, SC_MAX_FIELDS, &rc);

	if (n < 0)
		return rc;
	if (!partition_field(cmd, pdata_arg, &pfield, &pdata) || !(fields = cli_fields(cmd, n, argv, true)))
		return CLI_USAGE;
	rc = cli_attach(cli);
	if (!rc) {
		sc_tuple pattern = { (uint32_t)n, fields };

		err = object ? sc_get_by_match_object(cli->cache, pdata, &pattern, &found)
			     : sc_get_by_match(cli->cache, pdata, &pattern, &found);
		rc = err < 0 ? cli_fail(cmd, err) : print_found(cli, found);
		sc_tuples_free(found);
	}
	free(fields);
	return rc;
}

/* What scan copies out of shared memory, so printing never holds a read section open. */
struct copies {
	sc_tuple *tuples;
	size_t count, cap;
	uint64_t limit;
};

/* One allocation per tuple: its fields, then their bytes. */
static int copy_tuple(const sc_tuple *t, void *arg)
{
	struct copies *c = arg;
	size_t bytes = t->nfields * sizeof(sc_field);
	sc_field *fields;
	char *p;

	if (c->count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		sc_tuple *grown = realloc(c->tuples, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->tuples = grown;
		c->cap = cap;
	}
	for (uint32_t i = 0; i < t->nfields; i++)
		if (t->fields[i].type == SC_FIELD_BYTES)
			bytes += t->fields[i].len;
	if (!(fields = malloc(bytes ? bytes : 1)))
		return -ENOMEM;
	p = (char *)(fields + t->nfields);
	for (uint32_t i = 0; i < t->nfields; i++) {
		fields[i] = t->fields[i];
		if (t->fields[i].type == SC_FIELD_BYTES) {
			memcpy(p, t->fields[i].v.p, t->fields[i].len);
			fields[i].v.p = p;
			p += t->fields[i].len;
		}
	}
	c->tuples[c->count++] = (sc_tuple){ t->nfields, fields };
	return c->count == c->limit;
}

int cmd_scan(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pdata_arg = NULL, *limit_arg = NULL;
	const struct cli_option opts[] = { { "--partition-data", &pdata_arg, NULL },
					   { "--limit", &limit_arg, NULL } };
	struct copies c = { .limit = UINT64_MAX };
	const sc_field *pdata;
	sc_field pfield;
	int err, rc;

	if (cli_parse(cmd, argc, argv, opts, 2, 0, 0, &rc) < 0)
		return rc;
	if ((limit_arg && !cli_parse_u64(cmd, "--limit", limit_arg, 1, UINT64_MAX - 1, &c.limit)) ||
	    !partition_field(cmd, pdata_arg, &pfield, &pdata))
		return CLI_USAGE;
	if ((rc = cli_attach(cli)))
		return rc;
	err = sc_scan(cli->cache, pdata, copy_tuple, &c);
	if (err < 0)
		rc = cli_fail(cmd, err);
	else
		fmt_tuples(cli, c.tuples, c.count);
	for (size_t i = 0; i < c.count; i++)
		free((void *)c.tuples[i].fields);
	free(c.tuples);
	return rc;
}
