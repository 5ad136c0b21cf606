/* main.c — supercache: global options, finding the command, attaching the cache, failures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_DIR "/dev/shm"

static const char global_usage[] =
	"usage: supercache [--name NAME] [--prefix P] [--dir D] [--json] [--bus-address ADDR]\n"
	"                  COMMAND [ARGS...]\n";

static const char global_help[] =
	"\n"
	"Reads and writes a running SuperCache cache from the shell. It attaches to\n"
	"an existing cache and never creates one.\n"
	"\n"
	"Global options (before the command):\n"
	"  --name NAME          the cache (default: default)\n"
	"  --prefix P           segment file prefix (default: the library's, supercache)\n"
	"  --dir D              where segments live (default: the library's, /dev/shm)\n"
	"  --json               print JSON instead of tables\n"
	"  --bus-address ADDR   D-Bus address for status and health (default: the system bus)\n"
	"  --help, --version\n"
	"\n"
	"Commands (each takes --help):\n";

static const char global_tail[] =
	"\n"
	"Fields: 42 is an int64, 1.5 a double, anything else a string; i:42, d:1.5 and\n"
	"s:text force the type (s:42 is the string \"42\"). In match patterns _ matches\n"
	"anything and $1, $2, ... capture; s:_ and s:$1 are strings.\n"
	"\n"
	"Exit status: 0 success; 1 nothing found (get, kv get, pop, match); 2 usage\n"
	"error; 3 no such cache; 4 check found damage; 5 the coordinator is not\n"
	"reachable over D-Bus; 6 any other error.\n";

static void print_commands(FILE *out, const char *group)
{
	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *c = &cli_commands[i];

		if (group && (!c->group || strcmp(c->group, group)))
			continue;
		fprintf(out, "  %s%s%s\n", cli_command_name(c), *c->args ? " " : "", c->args);
	}
}

static int usage_error(const char *fmt, const char *what)
{
	fputs("supercache: ", stderr);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	fputs(global_usage, stderr);
	fputs("Try 'supercache --help'.\n", stderr);
	return CLI_USAGE;
}

static bool is_group(const char *word)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (cli_commands[i].group && !strcmp(cli_commands[i].group, word))
			return true;
	return false;
}

/* "kv" without a known subcommand: its list of subcommands, on stdout for --help. */
static int group_usage(const char *group, const char *word)
{
	FILE *out = word && !strcmp(word, "--help") ? stdout : stderr;

	if (out == stderr)
		fprintf(stderr,
			word ? "supercache: %s: unknown subcommand '%s'\n"
			     : "supercache: %s: no subcommand\n",
			group, word);
	fprintf(out, "usage: supercache [GLOBAL OPTIONS] %s SUBCOMMAND ...\n", group);
	print_commands(out, group);
	return out == stdout ? CLI_OK : CLI_USAGE;
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	bool grouped = is_group(argv[0]);
	int words = grouped ? 2 : 1;

	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *c = &cli_commands[i];

		if (grouped ? (c->group && argc > 1 && !strcmp(c->group, argv[0]) &&
			       !strcmp(c->name, argv[1]))
			    : (!c->group && !strcmp(c->name, argv[0])))
			return c->run(cli, c, argc - words, argv + words);
	}
	if (grouped)
		return group_usage(argv[0], argc > 1 ? argv[1] : NULL);
	return usage_error("unknown command '%s'", argv[0]);
}

/* A global option's value at argv[*i], or NULL after a usage error. */
static const char *option_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		usage_error("option '%s' needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int main(int argc, char **argv)
{
	struct cli cli = { .name = "default", .opts = { .sz = sizeof(sc_options) } };
	const char **value;
	int i, rc;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--help")) {
			fputs(global_usage, stdout);
			fputs(global_help, stdout);
			print_commands(stdout, NULL);
			fputs(global_tail, stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("supercache %s\n", SC_VERSION);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			cli.json = true;
			continue;
		}
		if (!strcmp(argv[i], "--name"))
			value = &cli.name;
		else if (!strcmp(argv[i], "--prefix"))
			value = &cli.opts.prefix;
		else if (!strcmp(argv[i], "--dir"))
			value = &cli.opts.dir;
		else if (!strcmp(argv[i], "--bus-address"))
			value = &cli.bus_address;
		else
			return usage_error("unknown option '%s'", argv[i]);
		if (!(*value = option_value(argc, argv, &i)))
			return CLI_USAGE;
	}
	if (i == argc)
		return usage_error("%s", "no command given");
	rc = dispatch(&cli, argc - i, argv + i);
	if (cli.cache)
		sc_stop(cli.cache);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "supercache: cannot write the output: %s\n", strerror(errno));
		return CLI_ERROR;
	}
	return rc;
}

int cli_no_cache(const struct cli *cli)
{
	fprintf(stderr, "supercache: no cache called \"%s\" in %s (is supercached@%s running?)\n", cli->name,
		cli->opts.dir ? cli->opts.dir : DEFAULT_DIR, cli->name);
	return CLI_NO_CACHE;
}

int cli_attach(struct cli *cli)
{
	int err = sc_attach(cli->name, &cli->opts, &cli->cache);

	if (err == -ENOENT)
		return cli_no_cache(cli);
	if (err) {
		fprintf(stderr, "supercache: cannot attach cache \"%s\": %s\n", cli->name,
			*sc_last_error() ? sc_last_error() : sc_strerror(err));
		return CLI_ERROR;
	}
	return CLI_OK;
}

int cli_fail(const struct cli_command *cmd, int err)
{
	fprintf(stderr, "supercache: %s: %s\n", cli_command_name(cmd),
		*sc_last_error() ? sc_last_error() : sc_strerror(err));
	return CLI_ERROR;
}
