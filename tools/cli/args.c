/* args.c — a command's own options and arguments, its usage, and usage errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The longest time to live the library takes, in milliseconds. */
#define MAX_TTL_MS (1ull << 42)

const char *cli_command_name(const struct cli_command *cmd)
{
	static char buf[64];

	if (!cmd->group)
		return cmd->name;
	snprintf(buf, sizeof(buf), "%s %s", cmd->group, cmd->name);
	return buf;
}

static void print_usage(FILE *out, const struct cli_command *cmd)
{
	fprintf(out, "usage: supercache [GLOBAL OPTIONS] %s%s%s\n", cli_command_name(cmd),
		*cmd->args ? " " : "", cmd->args);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "supercache: %s: ", cli_command_name(cmd));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr, cmd);
	fprintf(stderr, "Try 'supercache %s --help'.\n", cli_command_name(cmd));
	return CLI_USAGE;
}

static const struct cli_option *find_option(const struct cli_option *opts, size_t nopts, const char *arg,
					    size_t len)
{
	for (size_t i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, arg, len))
			return &opts[i];
	return NULL;
}

/* One option at argv[*i] (advanced past its value); false after a usage error. */
static bool take_option(const struct cli_command *cmd, int argc, char **argv, int *i,
			const struct cli_option *opts, size_t nopts)
{
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct cli_option *o = find_option(opts, nopts, arg, len);

	if (!o) {
		cli_usage_error(cmd, "unknown option '%.*s'", (int)len, arg);
		return false;
	}
	if (!o->value) {
		if (eq) {
			cli_usage_error(cmd, "option '%s' takes no value", o->name);
			return false;
		}
		*o->flag = true;
		return true;
	}
	if (eq) {
		*o->value = eq + 1;
		return true;
	}
	if (*i + 1 >= argc) {
		cli_usage_error(cmd, "option '%s' needs a value", o->name);
		return false;
	}
	*o->value = argv[++*i];
	return true;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, const struct cli_option *opts,
	      size_t nopts, int min, int max, int *exit_code)
{
	bool options_done = false;
	int npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (options_done || strncmp(arg, "--", 2)) {
			argv[npos++] = argv[i];
		} else if (!strcmp(arg, "--")) {
			options_done = true;
		} else if (!strcmp(arg, "--help")) {
			print_usage(stdout, cmd);
			printf("\n%s", cmd->help);
			*exit_code = CLI_OK;
			return -1;
		} else if (!take_option(cmd, argc, argv, &i, opts, nopts)) {
			*exit_code = CLI_USAGE;
			return -1;
		}
	}
	if (npos < min || (max >= 0 && npos > max)) {
		*exit_code = cli_usage_error(cmd, "%s arguments (%d given)",
					     npos < min ? "too few" : "too many", npos);
		return -1;
	}
	return npos;
}

bool cli_parse_u64(const struct cli_command *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < min || v > max) {
		cli_usage_error(cmd, "%s wants a whole number from %llu to %llu, not '%s'", opt,
				(unsigned long long)min, (unsigned long long)max, s);
		return false;
	}
	*out = v;
	return true;
}

bool cli_parse_ttl(const struct cli_command *cmd, const char *arg, uint64_t *ttl)
{
	*ttl = SC_TTL_FOREVER;
	return !arg || cli_parse_u64(cmd, "--ttl", arg, 1, MAX_TTL_MS, ttl);
}
