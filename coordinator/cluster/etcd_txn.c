/* etcd_txn.c — etcd transactions in the gateway's JSON. */
#include "cluster/etcd_txn.h"

#include <errno.h>
#include <string.h>

static struct json_object *b64_str(const char *s)
{
	return scd_etcd_b64(s, strlen(s));
}

struct json_object *scd_txn_compare(const char *key, const char *target, const char *field, int64_t value)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "key", b64_str(key));
	json_object_object_add(c, "target", json_object_new_string(target));
	json_object_object_add(c, field, json_object_new_int64(value));
	return c;
}

struct json_object *scd_txn_put(const char *key, struct json_object *value, int64_t lease)
{
	struct json_object *op = json_object_new_object(), *put = json_object_new_object();
	const char *text = json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);

	json_object_object_add(put, "key", b64_str(key));
	json_object_object_add(put, "value", scd_etcd_b64(text, strlen(text)));
	if (lease)
		json_object_object_add(put, "lease", json_object_new_int64(lease));
	json_object_put(value);
	json_object_object_add(op, "request_put", put);
	return op;
}

struct json_object *scd_txn_range(const char *key)
{
	struct json_object *op = json_object_new_object(), *range = json_object_new_object();

	json_object_object_add(range, "key", b64_str(key));
	json_object_object_add(op, "request_range", range);
	return op;
}

struct json_object *scd_txn_new(void)
{
	return json_object_new_object();
}

void scd_txn_add(struct json_object *txn, const char *list, struct json_object *op)
{
	struct json_object *a;

	if (!json_object_object_get_ex(txn, list, &a)) {
		a = json_object_new_array();
		json_object_object_add(txn, list, a);
	}
	json_object_array_add(a, op);
}

bool scd_txn_succeeded(struct json_object *reply)
{
	struct json_object *v;

	return json_object_object_get_ex(reply, "succeeded", &v) && json_object_get_boolean(v);
}

int scd_txn_first_kv(struct json_object *reply, struct scd_etcd_kv *kv, char *why, size_t whylen)
{
	struct json_object *responses, *r, *range = reply, *kvs;

	if (json_object_object_get_ex(reply, "responses", &responses)) {
		if (!json_object_is_type(responses, json_type_array) ||
		    json_object_array_length(responses) < 1)
			return -EPROTO;
		r = json_object_array_get_idx(responses, 0);
		if (!json_object_object_get_ex(r, "response_range", &range))
			return -EPROTO;
	}
	if (!json_object_object_get_ex(range, "kvs", &kvs))
		return 0;
	if (!json_object_is_type(kvs, json_type_array))
		return -EPROTO;
	if (json_object_array_length(kvs) < 1)
		return 0;
	return scd_etcd_kv_parse(json_object_array_get_idx(kvs, 0), kv, why, whylen) ? -EPROTO : 1;
}
