/* format.c — fields and tuples printed for people ({"user", 1, 1.5}) and as JSON. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The length of the well-formed UTF-8 sequence at p (no overlongs, surrogates or past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static bool valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0, len; i < n; i += len)
		if (!(len = utf8_len(p + i, n - i)))
			return false;
	return true;
}

/* The escape of a character both forms share, or NULL. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	case '\r':
		return "\\r";
	default:
		return NULL;
	}
}

/*
 * Quoted and escaped: the short escapes, other control bytes and bytes of
 * no UTF-8 character as hex_fmt (per byte), UTF-8 characters as they are.
 */
static void put_quoted(const unsigned char *p, size_t n, const char *hex_fmt)
{
	putchar('"');
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		const char *esc = short_escape(p[i]);

		if (esc)
			fputs(esc, stdout);
		else if (!len || p[i] < 0x20 || p[i] == 0x7f)
			printf(hex_fmt, p[i]);
		else
			fwrite(p + i, 1, len, stdout);
		i += len ? len : 1;
	}
	putchar('"');
}

void fmt_json_string(const char *s, size_t len)
{
	put_quoted((const unsigned char *)s, len, "\\u%04x");
}

/* %.17g, with ".0" added when it would read back as an integer; inf, -inf, nan as such. */
static void put_double(double d)
{
	char buf[40];

	if (isnan(d)) {
		fputs("nan", stdout);
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, stdout);
	if (isfinite(d) && !strpbrk(buf, ".e"))
		fputs(".0", stdout);
}

static void put_base64(const unsigned char *p, size_t n)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		putchar(digits[v >> 18 & 63]);
		putchar(digits[v >> 12 & 63]);
		putchar(i + 1 < n ? digits[v >> 6 & 63] : '=');
		putchar(i + 2 < n ? digits[v & 63] : '=');
	}
}

static void field_human(const sc_field *f)
{
	switch (f->type) {
	case SC_FIELD_INT:
		printf("%" PRId64, f->v.i);
		break;
	case SC_FIELD_DOUBLE:
		put_double(f->v.d);
		break;
	case SC_FIELD_BYTES:
		put_quoted(f->v.p, f->len, "\\x%02x");
		break;
	default:
		printf("<field type %u>", f->type);
	}
}

static void field_json(const sc_field *f)
{
	switch (f->type) {
	case SC_FIELD_INT:
		printf("%" PRId64, f->v.i);
		break;
	case SC_FIELD_DOUBLE:
		if (isfinite(f->v.d)) {
			put_double(f->v.d);
		} else {
			fputs("{\"double\":\"", stdout);
			put_double(f->v.d);
			fputs("\"}", stdout);
		}
		break;
	case SC_FIELD_BYTES:
		if (valid_utf8(f->v.p, f->len)) {
			fmt_json_string(f->v.p, f->len);
		} else {
			fputs("{\"base64\":\"", stdout);
			put_base64(f->v.p, f->len);
			fputs("\"}", stdout);
		}
		break;
	default:
		printf("null");
	}
}

void fmt_field(const sc_field *f, bool json)
{
	if (json)
		field_json(f);
	else
		field_human(f);
}

static void put_tuple(const struct cli *cli, const sc_tuple *t)
{
	putchar(cli->json ? '[' : '{');
	for (uint32_t i = 0; i < t->nfields; i++) {
		if (i)
			fputs(cli->json ? "," : ", ", stdout);
		fmt_field(&t->fields[i], cli->json);
	}
	putchar(cli->json ? ']' : '}');
}

void fmt_tuples(const struct cli *cli, const sc_tuple *tuples, size_t n)
{
	if (cli->json)
		putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (cli->json && i)
			putchar(',');
		put_tuple(cli, &tuples[i]);
		if (!cli->json)
			putchar('\n');
	}
	if (cli->json)
		puts("]");
}

void fmt_value(const struct cli *cli, const sc_field *f)
{
	fmt_field(f, cli->json);
	putchar('\n');
}

void fmt_values(const struct cli *cli, const sc_tuple *tuples, size_t n)
{
	if (cli->json)
		putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (cli->json && i)
			putchar(',');
		if (cli->json)
			fmt_field(&tuples[i].fields[0], true);
		else
			fmt_value(cli, &tuples[i].fields[0]);
	}
	if (cli->json)
		puts("]");
}

void fmt_count(const struct cli *cli, const char *what, uint64_t n)
{
	if (cli->json)
		printf("{\"%s\":%" PRIu64 "}\n", what, n);
	else
		printf("%s %" PRIu64 "\n", what, n);
}

void fmt_ok(const struct cli *cli)
{
	if (cli->json)
		puts("{\"ok\":true}");
}
