/* struct_cmds.c — kv get/get-all/set/replace/del/incr/keys; push, pop and count of queues and stacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A value handed back (kv get, pop): printed, or null and CLI_NOT_FOUND when there was none. */
static int print_taken(const struct cli *cli, const struct cli_command *cmd, int err, sc_tuples *out)
{
	int rc;

	if (err < 0)
		rc = cli_fail(cmd, err);
	else if (err == 0 || !out)
		rc = CLI_NOT_FOUND;
	else
		rc = CLI_OK;
	if (rc == CLI_OK)
		fmt_value(cli, &out->tuples[0].fields[0]);
	else if (rc == CLI_NOT_FOUND && cli->json)
		puts("null");
	sc_tuples_free(out);
	return rc;
}

/* nargs arguments: a name, then fields parsed into fields[]; false with *rc to exit with. */
static bool prepare(const struct cli_command *cmd, int argc, char **argv, int nargs,
		    const struct cli_option *opts, size_t nopts, sc_field *fields, int *rc)
{
	if (cli_parse(cmd, argc, argv, opts, nopts, nargs, nargs, rc) < 0)
		return false;
	for (int i = 1; i < nargs; i++)
		if (!cli_field(cmd, argv[i], false, &fields[i - 1])) {
			*rc = CLI_USAGE;
			return false;
		}
	return true;
}

int cmd_kv_get(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_tuples *out = NULL;
	sc_field key;
	int err, rc;

	if (!prepare(cmd, argc, argv, 2, NULL, 0, &key, &rc) || (rc = cli_attach(cli)))
		return rc;
	err = sc_kv_get(cli->cache, argv[0], key, NULL, &out);
	return print_taken(cli, cmd, err, out);
}

int cmd_kv_get_all(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_tuples *out = NULL;
	sc_field key;
	int err, rc;

	if (!prepare(cmd, argc, argv, 2, NULL, 0, &key, &rc) || (rc = cli_attach(cli)))
		return rc;
	if ((err = sc_kv_get_all(cli->cache, argv[0], key, &out)) < 0)
		return cli_fail(cmd, err);
	fmt_values(cli, out ? out->tuples : NULL, out ? out->count : 0);
	sc_tuples_free(out);
	return err ? CLI_OK : CLI_NOT_FOUND;
}

/* kv set (with --ttl) and kv replace (without: sc_kv_replace() leaves none). */
int cmd_kv_set(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const bool replace = !strcmp(cmd->name, "replace");
	const char *ttl_arg = NULL;
	const struct cli_option opts[] = { { "--ttl", &ttl_arg, NULL } };
	uint64_t ttl;
	sc_field kv[2];
	int err, rc;

	if (!prepare(cmd, argc, argv, 3, opts, replace ? 0 : 1, kv, &rc))
		return rc;
	if (!cli_parse_ttl(cmd, ttl_arg, &ttl))
		return CLI_USAGE;
	if ((rc = cli_attach(cli)))
		return rc;
	err = replace ? sc_kv_replace(cli->cache, argv[0], kv[0], kv[1])
		      : sc_kv_add_ttl(cli->cache, argv[0], kv[0], kv[1], ttl);
	if (err < 0)
		return cli_fail(cmd, err);
	fmt_ok(cli);
	return CLI_OK;
}

int cmd_kv_del(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_field key;
	int err, rc;

	if (!prepare(cmd, argc, argv, 2, NULL, 0, &key, &rc) || (rc = cli_attach(cli)))
		return rc;
	if ((err = sc_kv_remove(cli->cache, argv[0], key)) < 0)
		return cli_fail(cmd, err);
	fmt_count(cli, "deleted", (uint64_t)err);
	return CLI_OK;
}

int cmd_kv_incr(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_field key, step = sc_int(1), now;
	int err, rc, npos = cli_parse(cmd, argc, argv, NULL, 0, 2, 3, &rc);

	if (npos < 0)
		return rc;
	if (!cli_field(cmd, argv[1], false, &key) || (npos == 3 && !cli_field(cmd, argv[2], false, &step)))
		return CLI_USAGE;
	if (step.type != SC_FIELD_INT && step.type != SC_FIELD_DOUBLE)
		return cli_usage_error(cmd, "the step '%s' is not a number", argv[2]);
	if ((rc = cli_attach(cli)))
		return rc;
	err = sc_kv_increment(cli->cache, argv[0], key, step.type == SC_FIELD_INT ? sc_int(0) : sc_dbl(0),
			      step, &now);
	if (err < 0)
		return cli_fail(cmd, err);
	fmt_value(cli, &now);
	return CLI_OK;
}

int cmd_kv_keys(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_tuples *out = NULL;
	int err, rc;

	if (!prepare(cmd, argc, argv, 1, NULL, 0, NULL, &rc) || (rc = cli_attach(cli)))
		return rc;
	if ((err = sc_kv_keys(cli->cache, argv[0], &out)) < 0)
		return cli_fail(cmd, err);
	fmt_values(cli, out ? out->tuples : NULL, out ? out->count : 0);
	sc_tuples_free(out);
	return CLI_OK;
}

static bool is_queue(const struct cli_command *cmd)
{
	return !strcmp(cmd->group, "queue");
}

int cmd_seq_push(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_field value;
	int err, rc;

	if (!prepare(cmd, argc, argv, 2, NULL, 0, &value, &rc) || (rc = cli_attach(cli)))
		return rc;
	err = is_queue(cmd) ? sc_queue_add(cli->cache, argv[0], value)
			    : sc_stack_push(cli->cache, argv[0], value);
	if (err < 0)
		return cli_fail(cmd, err);
	fmt_ok(cli);
	return CLI_OK;
}

int cmd_seq_pop(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	sc_tuples *out = NULL;
	int err, rc;

	if (!prepare(cmd, argc, argv, 1, NULL, 0, NULL, &rc) || (rc = cli_attach(cli)))
		return rc;
	err = is_queue(cmd) ? sc_queue_out(cli->cache, argv[0], NULL, &out)
			    : sc_stack_pop(cli->cache, argv[0], NULL, &out);
	return print_taken(cli, cmd, err, out);
}

int cmd_seq_count(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int err, rc;

	if (!prepare(cmd, argc, argv, 1, NULL, 0, NULL, &rc) || (rc = cli_attach(cli)))
		return rc;
	err = is_queue(cmd) ? sc_queue_count(cli->cache, argv[0]) : sc_stack_count(cli->cache, argv[0]);
	if (err < 0)
		return cli_fail(cmd, err);
	fmt_count(cli, "count", (uint64_t)err);
	return CLI_OK;
}
