/* fields.c — fields, patterns and lookup tuples from command-line words. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_CAPTURE 255

/* A whole int64 in decimal; *range set when it has that form but does not fit. */
static bool parse_int(const char *s, int64_t *out, bool *range)
{
	const char *d = s + (*s == '-' || *s == '+');
	char *end;
	long long v;

	*range = false;
	if (*d < '0' || *d > '9' || strspn(d, "0123456789") != strlen(d))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE) {
		*range = true;
		return false;
	}
	*out = v;
	return true;
}

/* A whole double as strtod() reads it; *range set when it overflows. */
static bool parse_double(const char *s, double *out, bool *range)
{
	char *end;
	double v;

	*range = false;
	if (!*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end)
		return false;
	if (errno == ERANGE && isinf(v)) {
		*range = true;
		return false;
	}
	*out = v;
	return true;
}

/* Untyped: only plain decimal notation with a '.' or an exponent is a double ("inf", "0x1p3" are bytes). */
static bool looks_decimal(const char *s)
{
	return strspn(s, "0123456789+-.eE") == strlen(s) && strpbrk(s, "0123456789") && strpbrk(s, ".eE");
}

static bool typed_field(const struct cli_command *cmd, const char *arg, sc_field *out)
{
	const char *v = arg + 2;
	bool range;

	if (arg[0] == 's') {
		*out = sc_str(v);
		return true;
	}
	if (arg[0] == 'i') {
		if (parse_int(v, &out->v.i, &range)) {
			*out = sc_int(out->v.i);
			return true;
		}
		cli_usage_error(cmd, "'%s': %s", arg,
				range ? "out of the int64 range" : "not a decimal integer");
		return false;
	}
	if (parse_double(v, &out->v.d, &range)) {
		*out = sc_dbl(out->v.d);
		return true;
	}
	cli_usage_error(cmd, "'%s': %s", arg, range ? "out of the double range" : "not a number");
	return false;
}

static bool pattern_term(const struct cli_command *cmd, const char *arg, sc_field *out)
{
	int64_t n;
	bool range;

	if (!strcmp(arg, "_")) {
		*out = sc_any();
		return true;
	}
	if (!parse_int(arg + 1, &n, &range) || arg[1] < '0' || arg[1] > '9' || n < 1 || n > MAX_CAPTURE) {
		cli_usage_error(cmd, "'%s': captures are $1 to $%d", arg, MAX_CAPTURE);
		return false;
	}
	*out = sc_capture(n);
	return true;
}

bool cli_field(const struct cli_command *cmd, const char *arg, bool pattern, sc_field *out)
{
	bool range;

	if ((arg[0] == 'i' || arg[0] == 'd' || arg[0] == 's') && arg[1] == ':')
		return typed_field(cmd, arg, out);
	if (pattern && (!strcmp(arg, "_") || (arg[0] == '$' && arg[1] >= '0' && arg[1] <= '9')))
		return pattern_term(cmd, arg, out);
	if (parse_int(arg, &out->v.i, &range)) {
		*out = sc_int(out->v.i);
		return true;
	}
	if (range) {
		cli_usage_error(cmd, "'%s' is out of the int64 range (d:%s for a double, s:%s for a string)",
				arg, arg, arg);
		return false;
	}
	if (looks_decimal(arg) && parse_double(arg, &out->v.d, &range)) {
		*out = sc_dbl(out->v.d);
		return true;
	}
	if (range) {
		cli_usage_error(cmd, "'%s' is out of the double range (s:%s for a string)", arg, arg);
		return false;
	}
	*out = sc_str(arg);
	return true;
}

sc_field *cli_fields(const struct cli_command *cmd, int argc, char **argv, bool pattern)
{
	sc_field *fields = calloc((size_t)argc, sizeof(*fields));

	if (!fields) {
		cli_usage_error(cmd, "out of memory for %d fields", argc);
		return NULL;
	}
	for (int i = 0; i < argc; i++)
		if (!cli_field(cmd, argv[i], pattern, &fields[i])) {
			free(fields);
			return NULL;
		}
	return fields;
}

uint32_t cli_data_width(const sc_options *cfg)
{
	return (cfg->key_pos > cfg->partition_pos ? cfg->key_pos : cfg->partition_pos) + 1;
}

int cli_data_tuple(const struct cli_command *cmd, const sc_options *cfg, const char *key, const char *pdata,
		   sc_field *fields, sc_tuple *out)
{
	uint32_t n = cli_data_width(cfg);

	if (pdata && cfg->key_pos == cfg->partition_pos)
		return cli_usage_error(
			cmd, "--partition-data: this cache's key is its partition data (both at field %u)",
			cfg->key_pos);
	for (uint32_t i = 0; i < n; i++)
		fields[i] = sc_int(0);
	if (!cli_field(cmd, pdata ? pdata : key, false, &fields[cfg->partition_pos]) ||
	    !cli_field(cmd, key, false, &fields[cfg->key_pos]))
		return CLI_USAGE;
	out->nfields = n;
	out->fields = fields;
	return 0;
}
