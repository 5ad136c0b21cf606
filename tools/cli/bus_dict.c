/* bus_dict.c — a D-Bus a{sv} reply printed generically: aligned and indented, or as JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus_dict.h"

static int print_variant(sd_bus_message *m, bool json, int depth);

/* Strings and doubles print as the tuples' fields do. */
static void put_string(const char *s, bool json)
{
	sc_field f = sc_str(s);

	fmt_field(&f, json);
}

static void put_double(double d, bool json)
{
	sc_field f = sc_dbl(d);

	fmt_field(&f, json);
}

/* Values of an array of one basic type ("as", "at"), as [a, b]. */
static int print_array(sd_bus_message *m, char type, bool json)
{
	const char *s;
	uint64_t t;
	int r, n = 0;

	if ((r = sd_bus_message_enter_container(m, 'a', type == 's' ? "s" : "t")) < 0)
		return r;
	putchar('[');
	while ((r = type == 's' ? sd_bus_message_read_basic(m, 's', &s)
				: sd_bus_message_read_basic(m, 't', &t)) > 0) {
		if (n++)
			fputs(json ? "," : ", ", stdout);
		if (type == 't')
			printf("%" PRIu64, t);
		else
			put_string(s, json);
	}
	putchar(']');
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* A variant of a basic type; 0, reading nothing, when contents is none of those printed. */
static int print_basic(sd_bus_message *m, const char *contents, bool json)
{
	union {
		const char *s;
		int b;
		uint32_t u;
		int32_t i;
		uint64_t t;
		int64_t x;
		double d;
	} v;
	char type = contents[0];
	int r;

	if (strlen(contents) != 1 || !strchr("sbuitxd", type))
		return 0;
	if ((r = sd_bus_message_read_basic(m, type, &v)) < 0)
		return r;
	if (type == 's')
		put_string(v.s, json);
	else if (type == 'b')
		fputs(v.b ? "true" : "false", stdout);
	else if (type == 'u')
		printf("%" PRIu32, v.u);
	else if (type == 'i')
		printf("%" PRId32, v.i);
	else if (type == 't')
		printf("%" PRIu64, v.t);
	else if (type == 'x')
		printf("%" PRId64, v.x);
	else
		put_double(v.d, json);
	return 1;
}

/* A dictionary of dictionaries (a{sa{sv}}, as per-node replies are): each entry's key, then its a{sv}. */
static int print_dict_of_dicts(sd_bus_message *m, bool json, int depth)
{
	const char *key;
	int r, n = 0;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
		return r;
	if (json)
		putchar('{');
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0)
			return r;
		if (json) {
			fputs(n++ ? "," : "", stdout);
			fmt_json_string(key, strlen(key));
			putchar(':');
		} else {
			printf("%*s%s:\n", 2 * (depth + 1), "", key);
		}
		if ((r = bus_print_dict(m, json, depth + 2)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (json)
		putchar('}');
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int print_variant(sd_bus_message *m, bool json, int depth)
{
	const char *contents;
	int r;

	if ((r = sd_bus_message_peek_type(m, NULL, &contents)) < 0 ||
	    (r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
		return r;
	if (!strcmp(contents, "a{sv}")) {
		r = bus_print_dict(m, json, depth + 1);
	} else if (!strcmp(contents, "a{sa{sv}}")) {
		r = print_dict_of_dicts(m, json, depth);
	} else if (!strcmp(contents, "as") || !strcmp(contents, "at")) {
		r = print_array(m, contents[1], json);
	} else if (!(r = print_basic(m, contents, json))) {
		printf(json ? "{\"dbus_type\":\"%s\"}" : "<D-Bus type %s>", contents);
		r = sd_bus_message_skip(m, contents);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* The longest key of the dictionary the message is at, leaving it where it was. */
static int key_width(sd_bus_message *m)
{
	const char *key;
	int r, width = 0;

	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0 ||
		    (r = sd_bus_message_skip(m, "v")) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
		width = (int)strlen(key) > width ? (int)strlen(key) : width;
	}
	if (r < 0 || (r = sd_bus_message_rewind(m, false)) < 0)
		return r;
	return width;
}

int bus_print_dict(sd_bus_message *m, bool json, int depth)
{
	const char *key, *contents;
	int r, width = 0, n = 0;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0 ||
	    (!json && (width = r = key_width(m)) < 0))
		return r;
	if (json)
		putchar('{');
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		bool nested;

		if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0 ||
		    (r = sd_bus_message_peek_type(m, NULL, &contents)) < 0)
			return r;
		nested = !strcmp(contents, "a{sv}") || !strcmp(contents, "a{sa{sv}}");
		if (json) {
			fputs(n++ ? "," : "", stdout);
			fmt_json_string(key, strlen(key));
			putchar(':');
		} else if (nested) {
			printf("%*s%s:\n", 2 * depth, "", key);
		} else {
			printf("%*s%-*s ", 2 * depth, "", width, key);
		}
		if ((r = print_variant(m, json, depth)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
		if (!json && !nested)
			putchar('\n');
	}
	if (json)
		putchar('}');
	return r < 0 ? r : sd_bus_message_exit_container(m);
}
