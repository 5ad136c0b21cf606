/* cli.h — what the supercache command's files share: the run's context, commands, exit codes. */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <supercache.h>

/* Exit codes, as supercache(1) documents them. */
enum cli_exit {
	CLI_OK = 0,
	CLI_NOT_FOUND = 1, /* get, kv get, pop or match found nothing */
	CLI_USAGE = 2,
	CLI_NO_CACHE = 3,
	CLI_DAMAGED = 4, /* check found a problem */
	CLI_BUS = 5,	 /* the coordinator cannot be reached over D-Bus */
	CLI_ERROR = 6,
};

/* The global options and the attached cache. */
struct cli {
	const char *name;
	sc_options opts; /* prefix and dir only: the tool never creates a cache */
	bool json;
	const char *bus_address;
	sc_cache *cache; /* set by cli_attach() */
};

struct cli_command;
typedef int (*cli_run_fn)(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
	const char *group; /* "kv", "queue", "stack", or NULL for a command of one word */
	const char *name;
	const char *args; /* its arguments and options, for usage lines */
	const char *help; /* what it does and prints, for --help */
	cli_run_fn run;
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* --- args.c: a command's own arguments -------------------------------------- */

/* An option of a command: a flag (value NULL) or one that takes a value. */
struct cli_option {
	const char *name; /* with its dashes: "--ttl" */
	const char **value;
	bool *flag;
};

/*
 * Sort a command's arguments (argv after its words) into options, written
 * through their pointers, and positional arguments, moved to the front of
 * argv; "--" ends the options. Options may stand anywhere among the
 * positional ones. Returns the number of positional arguments, or -1 with
 * *exit_code set: 0 after --help printed the command's usage, CLI_USAGE
 * after a message about a wrong option or argument count (max -1: no limit).
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, const struct cli_option *opts,
	      size_t nopts, int min, int max, int *exit_code);

/* Print "supercache: <command>: <message>" and the command's usage on stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --ttl's value in *ttl (SC_TTL_FOREVER when arg is NULL); false after a usage error. */
bool cli_parse_ttl(const struct cli_command *cmd, const char *arg, uint64_t *ttl);

/* Parse a decimal number from min to max for option opt; false after a usage error. */
bool cli_parse_u64(const struct cli_command *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out);

/* The command's full name ("get", "kv get"), for messages. */
const char *cli_command_name(const struct cli_command *cmd);

/* --- main.c: the cache and errors ----------------------------------------------- */

/* Attach cli->cache; on failure prints why and returns CLI_NO_CACHE or CLI_ERROR. */
int cli_attach(struct cli *cli);

/* Print that the cache does not exist; returns CLI_NO_CACHE. */
int cli_no_cache(const struct cli *cli);

/* Print a library failure (sc_last_error(), else sc_strerror(err)) on stderr; returns CLI_ERROR. */
int cli_fail(const struct cli_command *cmd, int err);

/* --- fields.c: fields from the command line ------------------------------------- */

/*
 * Parse one field: "42" an int64, "1.5" a double, else bytes; "i:", "d:",
 * "s:" force the type. In a pattern "_" is sc_any() and "$N" sc_capture(N).
 * Byte fields point into arg. False after a usage error.
 */
bool cli_field(const struct cli_command *cmd, const char *arg, bool pattern, sc_field *out);

/* Parse every argument as a field into a new array (free() it); NULL after a usage error. */
sc_field *cli_fields(const struct cli_command *cmd, int argc, char **argv, bool pattern);

/*
 * The data tuple get and delete look a key up with: max(key_pos,
 * partition_pos) + 1 fields, key at key_pos, partition data (default: the
 * key) at partition_pos, int 0 elsewhere. fields must hold
 * cli_data_width() entries. Returns a usage error's exit code, or 0.
 */
uint32_t cli_data_width(const sc_options *cfg);
int cli_data_tuple(const struct cli_command *cmd, const sc_options *cfg, const char *key, const char *pdata,
		   sc_field *fields, sc_tuple *out);

/* --- format.c: printing fields and tuples ------------------------------------------ */

/*
 * A field: for people "text" quoted and escaped, 42, 1.5; as JSON a number,
 * a string, or {"base64": ...} / {"double": "nan"}.
 */
void fmt_field(const sc_field *f, bool json);
/* A string as JSON (quoted, escaped; s must be valid UTF-8 or is escaped per byte). */
void fmt_json_string(const char *s, size_t len);

/* Tuples one per line ({"user", 1, "Alice"}), or as a JSON array of arrays. */
void fmt_tuples(const struct cli *cli, const sc_tuple *tuples, size_t n);

/* One value (kv get, pop): the field alone, or JSON. */
void fmt_value(const struct cli *cli, const sc_field *f);

/* The first field of each tuple, one per line, or as a JSON array. */
void fmt_values(const struct cli *cli, const sc_tuple *tuples, size_t n);

/* A count under a name: "deleted 3" or {"deleted":3}. */
void fmt_count(const struct cli *cli, const char *what, uint64_t n);

/* What a write prints: nothing, or {"ok":true}. */
void fmt_ok(const struct cli *cli);

/* --- the commands ------------------------------------------------------------------ */

int cmd_put(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_get(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_delete(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_match(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_scan(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

int cmd_kv_get(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_kv_get_all(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_kv_set(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_kv_del(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_kv_incr(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_kv_keys(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_seq_push(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_seq_pop(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_seq_count(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

int cmd_stats(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_check(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_destroy(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

int cmd_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_health(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_cluster_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_cluster_map(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

#endif /* SC_CLI_H */
