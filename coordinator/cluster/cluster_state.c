/* cluster_state.c — decoding the cluster's etcd keys into what a node knows of its cluster. */
#include "cluster/cluster_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scd_state_init(struct scd_cluster_state *st, const char *cluster, uint32_t num_partition)
{
	memset(st, 0, sizeof(*st));
	if (!scd_hello_name_valid(cluster, strlen(cluster)) || num_partition == 0)
		return -EINVAL;
	snprintf(st->prefix, sizeof(st->prefix), SCD_KEY_ROOT "%s/", cluster);
	st->num_partition = num_partition;
	st->records = calloc(num_partition, sizeof(*st->records));
	st->isrs = calloc(num_partition, sizeof(*st->isrs));
	if (!st->records || !st->isrs) {
		scd_state_free(st);
		return -ENOMEM;
	}
	return 0;
}

void scd_state_free(struct scd_cluster_state *st)
{
	free(st->records);
	free(st->isrs);
	st->records = NULL;
	st->isrs = NULL;
}

void scd_state_clear(struct scd_cluster_state *st)
{
	st->member_count = 0;
	st->controller[0] = '\0';
	st->controller_since = 0;
	memset(st->records, 0, st->num_partition * sizeof(*st->records));
	memset(st->isrs, 0, st->num_partition * sizeof(*st->isrs));
}

int scd_state_key(const struct scd_cluster_state *st, char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, outlen, "%s", st->prefix), m;

	va_start(ap, fmt);
	m = vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)(n + m) >= outlen ? -ENAMETOOLONG : 0;
}

const struct scd_member *scd_state_member(const struct scd_cluster_state *st, const char *name)
{
	for (uint32_t i = 0; i < st->member_count; i++)
		if (strcmp(st->members[i].name, name) == 0)
			return &st->members[i];
	return NULL;
}

/* The part of key after prefix + what ("members/"), or NULL when key is not of that kind. */
static const char *key_tail(const struct scd_cluster_state *st, const char *key, const char *what)
{
	size_t p = strlen(st->prefix), w = strlen(what);

	if (strncmp(key, st->prefix, p) || strncmp(key + p, what, w))
		return NULL;
	return key + p + w;
}

static bool name_valid(const char *s)
{
	return scd_hello_name_valid(s, strlen(s));
}

/* A string member of obj that is a node name, copied into out. */
static int name_field(struct json_object *obj, const char *field, char out[SCD_HELLO_NAME_MAX + 1],
		      bool empty_ok)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, field, &v) || !json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	if (!(empty_ok && !s[0]) && !name_valid(s))
		return -EPROTO;
	snprintf(out, SCD_HELLO_NAME_MAX + 1, "%s", s);
	return 0;
}

static struct json_object *parse_object(const struct scd_etcd_kv *kv)
{
	struct json_object *obj = json_tokener_parse((const char *)kv->value);

	if (obj && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* A partition number: decimal, no sign, no leading zero, in range. */
static int partition_of(const struct scd_cluster_state *st, const char *tail, uint32_t *out)
{
	char *end;
	unsigned long p;

	if (!tail[0] || (tail[0] == '0' && tail[1]) || tail[0] < '0' || tail[0] > '9')
		return -EPROTO;
	errno = 0;
	p = strtoul(tail, &end, 10);
	if (errno || *end || p >= st->num_partition)
		return -EPROTO;
	*out = (uint32_t)p;
	return 0;
}

/* An array member of obj of at most SC_MAX_REPLICATION_FACTOR node names, copied into out. */
static int name_array(struct json_object *obj, const char *field, char out[][SCD_HELLO_NAME_MAX + 1],
		      uint32_t *count)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(obj, field, &arr) || !json_object_is_type(arr, json_type_array))
		return -EPROTO;
	n = json_object_array_length(arr);
	if (n > SC_MAX_REPLICATION_FACTOR)
		return -EPROTO;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string) || !name_valid(json_object_get_string(v)))
			return -EPROTO;
		snprintf(out[i], SCD_HELLO_NAME_MAX + 1, "%s", json_object_get_string(v));
	}
	*count = (uint32_t)n;
	return 0;
}

static int put_record(struct scd_cluster_state *st, uint32_t p, const struct scd_etcd_kv *kv, char *why,
		      size_t whylen)
{
	struct json_object *obj = parse_object(kv);
	struct scd_record r = { .epoch = kv->mod_revision };
	int err = -EPROTO;

	memset(&st->records[p], 0, sizeof(st->records[p]));
	if (!obj || name_field(obj, "primary", r.primary, true) ||
	    name_array(obj, "replicas", r.replicas, &r.replica_count) || r.epoch <= 0)
		goto bad;
	st->records[p] = r;
	err = SCD_CHANGED_RECORDS;
bad:
	if (err < 0)
		snprintf(why, whylen, "%s: not {\"primary\": name, \"replicas\": [name, ...]}", kv->key);
	json_object_put(obj);
	return err;
}

static int put_isr(struct scd_cluster_state *st, uint32_t p, const struct scd_etcd_kv *kv, char *why,
		   size_t whylen)
{
	struct json_object *obj = parse_object(kv);
	struct scd_isr isr = { .revision = kv->mod_revision };
	int err = -EPROTO;

	memset(&st->isrs[p], 0, sizeof(st->isrs[p]));
	if (obj && isr.revision > 0 && name_array(obj, "in_sync", isr.nodes, &isr.count) == 0) {
		st->isrs[p] = isr;
		err = SCD_CHANGED_RECORDS;
	} else {
		snprintf(why, whylen, "%s: not {\"in_sync\": [name, ...]}", kv->key);
	}
	json_object_put(obj);
	return err;
}

static int put_member(struct scd_cluster_state *st, const char *name, const struct scd_etcd_kv *kv, char *why,
		      size_t whylen)
{
	struct json_object *obj = parse_object(kv), *v;
	struct scd_member m = { .lease = kv->lease, .created = kv->create_revision };
	int err = -EPROTO;
	uint32_t i;

	scd_state_delete(st, kv->key);
	if (!name_valid(name) || !obj || !json_object_object_get_ex(obj, "listen", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= SCD_LISTEN_MAX) {
		snprintf(why, whylen, "%s: not {\"listen\": \"host:port\"} under a member name", kv->key);
		goto out;
	}
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.listen, sizeof(m.listen), "%s", json_object_get_string(v));
	if (st->member_count == SCD_MAX_MEMBERS) {
		snprintf(why, whylen, "%s: a cluster has at most %u members", kv->key, SCD_MAX_MEMBERS);
		err = -ENOSPC;
		goto out;
	}
	/* Kept in name order: every node lists them the same way. */
	for (i = st->member_count; i > 0 && strcmp(st->members[i - 1].name, m.name) > 0; i--)
		st->members[i] = st->members[i - 1];
	st->members[i] = m;
	st->member_count++;
	err = SCD_CHANGED_MEMBERS;
out:
	json_object_put(obj);
	return err;
}

static int put_controller(struct scd_cluster_state *st, const struct scd_etcd_kv *kv, char *why,
			  size_t whylen)
{
	struct json_object *obj = parse_object(kv);
	int err = SCD_CHANGED_CONTROLLER;

	st->controller[0] = '\0';
	st->controller_since = 0;
	if (!obj || name_field(obj, "node", st->controller, false)) {
		st->controller[0] = '\0';
		snprintf(why, whylen, "%s: not {\"node\": name}", kv->key);
		err = -EPROTO;
	} else {
		st->controller_since = kv->create_revision;
	}
	json_object_put(obj);
	return err;
}

int scd_state_put(struct scd_cluster_state *st, const struct scd_etcd_kv *kv, char *why, size_t whylen)
{
	const char *tail;
	uint32_t p;

	if ((tail = key_tail(st, kv->key, "members/")))
		return put_member(st, tail, kv, why, whylen);
	if ((tail = key_tail(st, kv->key, "partitions/"))) {
		if (partition_of(st, tail, &p)) {
			snprintf(why, whylen, "%s: no partition %s in %u", kv->key, tail, st->num_partition);
			return -EPROTO;
		}
		return put_record(st, p, kv, why, whylen);
	}
	if ((tail = key_tail(st, kv->key, "isr/"))) {
		if (partition_of(st, tail, &p)) {
			snprintf(why, whylen, "%s: no partition %s in %u", kv->key, tail, st->num_partition);
			return -EPROTO;
		}
		return put_isr(st, p, kv, why, whylen);
	}
	if ((tail = key_tail(st, kv->key, "controller")) && !tail[0])
		return put_controller(st, kv, why, whylen);
	return 0;
}

int scd_state_delete(struct scd_cluster_state *st, const char *key)
{
	const char *tail;
	uint32_t p;

	if ((tail = key_tail(st, key, "members/"))) {
		for (uint32_t i = 0; i < st->member_count; i++)
			if (strcmp(st->members[i].name, tail) == 0) {
				memmove(&st->members[i], &st->members[i + 1],
					(st->member_count - i - 1) * sizeof(st->members[0]));
				st->member_count--;
				return SCD_CHANGED_MEMBERS;
			}
		return 0;
	}
	if ((tail = key_tail(st, key, "partitions/")) && partition_of(st, tail, &p) == 0) {
		memset(&st->records[p], 0, sizeof(st->records[p]));
		return SCD_CHANGED_RECORDS;
	}
	if ((tail = key_tail(st, key, "isr/")) && partition_of(st, tail, &p) == 0) {
		memset(&st->isrs[p], 0, sizeof(st->isrs[p]));
		return SCD_CHANGED_RECORDS;
	}
	if ((tail = key_tail(st, key, "controller")) && !tail[0]) {
		st->controller[0] = '\0';
		st->controller_since = 0;
		return SCD_CHANGED_CONTROLLER;
	}
	return 0;
}

bool scd_isr_current(const struct scd_isr *isr, const struct scd_record *r)
{
	return r->epoch > 0 && isr->revision >= r->epoch;
}

bool scd_isr_has(const struct scd_isr *isr, const char *node)
{
	for (uint32_t i = 0; i < isr->count; i++)
		if (strcmp(isr->nodes[i], node) == 0)
			return true;
	return false;
}

uint64_t scd_isr_acked(const struct scd_isr *isr, const struct scd_isr *proposed,
		       const struct scd_isr_position *at, uint32_t n, uint32_t majority)
{
	uint64_t acked = UINT64_MAX;
	uint32_t members = 0;

	for (uint32_t k = 0; k < n; k++) {
		const bool member = scd_isr_has(isr, at[k].node);

		if (!member && !(proposed && scd_isr_has(proposed, at[k].node)))
			continue;
		members += member;
		if (at[k].lseq < acked)
			acked = at[k].lseq;
	}
	return members >= majority && acked != UINT64_MAX ? acked : 0;
}

/* {field: [names...]} with more members to add, or NULL. */
static struct json_object *names_object(const char *field, const char (*names)[SCD_HELLO_NAME_MAX + 1],
					uint32_t count)
{
	struct json_object *obj = json_object_new_object(), *arr = json_object_new_array();

	if (!obj || !arr) {
		json_object_put(obj);
		json_object_put(arr);
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++)
		json_object_array_add(arr, json_object_new_string(names[i]));
	json_object_object_add(obj, field, arr);
	return obj;
}

struct json_object *scd_record_json(const struct scd_record *r)
{
	struct json_object *obj = names_object("replicas", r->replicas, r->replica_count);

	if (obj)
		json_object_object_add(obj, "primary", json_object_new_string(r->primary));
	return obj;
}

struct json_object *scd_isr_json(const struct scd_isr *isr)
{
	return names_object("in_sync", isr->nodes, isr->count);
}

struct json_object *scd_member_json(const char *listen)
{
	struct json_object *obj = json_object_new_object();

	if (obj)
		json_object_object_add(obj, "listen", json_object_new_string(listen));
	return obj;
}
