/* etcd_json.c — the gateway's JSON: base64 keys and values, int64 fields sent as strings, kv objects. */
#include "cluster/etcd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct json_object *scd_etcd_b64(const void *data, size_t len)
{
	const uint8_t *in = data;
	size_t n = (len + 2) / 3 * 4, o = 0;
	struct json_object *s;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	s = json_object_new_string_len(out, (int)o);
	free(out);
	return s;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/*
 * Decode standard base64 (padding optional, as Go's encoder writes it with)
 * into out[0, max): the length, or -1 when it is not base64 or does not fit.
 */
static long b64_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
	size_t o = 0, i;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == max)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* The bits left over are padding, and zero in a canonical encoding; others are not refused. */
	return (long)o;
}

int scd_etcd_int(struct json_object *obj, const char *field, int64_t *out)
{
	struct json_object *v;
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (!json_object_is_type(obj, json_type_object))
		return -EPROTO;
	if (!json_object_object_get_ex(obj, field, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		/* json-c keeps a number above INT64_MAX as unsigned and clamps it here. */
		if (*out == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX) {
			*out = 0;
			return -EPROTO;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	if (!(*s >= '0' && *s <= '9') && !(*s == '-' && s[1] >= '0' && s[1] <= '9'))
		return -EPROTO;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || end - s != json_object_get_string_len(v))
		return -EPROTO;
	*out = n;
	return 0;
}

int scd_etcd_revision(struct json_object *reply, int64_t *out)
{
	struct json_object *header = NULL, *result;

	*out = 0;
	if (!json_object_is_type(reply, json_type_object))
		return -EPROTO;
	if (!json_object_object_get_ex(reply, "header", &header) &&
	    json_object_object_get_ex(reply, "result", &result) &&
	    json_object_is_type(result, json_type_object))
		json_object_object_get_ex(result, "header", &header);
	if (!json_object_is_type(header, json_type_object) ||
	    !json_object_object_get_ex(header, "revision", NULL))
		return -EPROTO;
	if (scd_etcd_int(header, "revision", out) < 0 || *out < 0)
		return -EPROTO;
	return 0;
}

static int kv_int(struct json_object *kv, const char *field, int64_t *out, char *why, size_t whylen)
{
	if (scd_etcd_int(kv, field, out) < 0 || *out < 0) {
		snprintf(why, whylen, "kv: \"%s\" is not a number", field);
		return -EPROTO;
	}
	return 0;
}

int scd_etcd_kv_parse(struct json_object *kv, struct scd_etcd_kv *out, char *why, size_t whylen)
{
	struct json_object *key, *value;
	long n;

	out->key[0] = '\0';
	out->value[0] = '\0';
	out->value_len = 0;
	out->create_revision = out->mod_revision = out->version = out->lease = 0;
	if (!json_object_is_type(kv, json_type_object)) {
		snprintf(why, whylen, "kv: not a JSON object");
		return -EPROTO;
	}
	if (!json_object_object_get_ex(kv, "key", &key) || !json_object_is_type(key, json_type_string)) {
		snprintf(why, whylen, "kv: no \"key\" string");
		return -EPROTO;
	}
	n = b64_decode(json_object_get_string(key), (size_t)json_object_get_string_len(key),
		       (uint8_t *)out->key, SCD_ETCD_KEY_MAX);
	if (n <= 0 || memchr(out->key, '\0', (size_t)n)) {
		out->key[0] = '\0';
		snprintf(why, whylen, "kv: \"key\" is not base64 of 1 to %u bytes without a NUL",
			 SCD_ETCD_KEY_MAX);
		return -EPROTO;
	}
	out->key[n] = '\0';
	/* An empty value is left out of the JSON, as every field at its zero value. */
	if (json_object_object_get_ex(kv, "value", &value)) {
		if (!json_object_is_type(value, json_type_string) ||
		    (n = b64_decode(json_object_get_string(value), (size_t)json_object_get_string_len(value),
				    out->value, SCD_ETCD_VALUE_MAX)) < 0) {
			out->value[0] = '\0';
			snprintf(why, whylen, "kv: \"value\" is not base64 of at most %u bytes",
				 SCD_ETCD_VALUE_MAX);
			return -EPROTO;
		}
		out->value_len = (size_t)n;
		out->value[n] = '\0';
	}
	if (kv_int(kv, "create_revision", &out->create_revision, why, whylen) < 0 ||
	    kv_int(kv, "mod_revision", &out->mod_revision, why, whylen) < 0 ||
	    kv_int(kv, "version", &out->version, why, whylen) < 0 ||
	    kv_int(kv, "lease", &out->lease, why, whylen) < 0)
		return -EPROTO;
	return 0;
}

void scd_etcd_prefix_end(const char *prefix, char *out, size_t outlen)
{
	size_t n = strlen(prefix);

	if (!outlen)
		return;
	out[0] = '\0';
	if (n >= outlen)
		return;
	memcpy(out, prefix, n + 1);
	/* Trailing 0xff bytes cannot go up: drop them and raise the byte before. */
	while (n && (unsigned char)out[n - 1] == 0xff)
		out[--n] = '\0';
	if (n)
		out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
}
