/* kv.c — KeyValue namespaces: key-value pairs under a name, spread over the structure partitions. */
#include <stdlib.h>
#include <string.h>

#include "forward/forward_client.h"
#include "record/record_deadline.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/kv.h"
#include "tables/read_every.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "tables/ttl.h"
#include "write/batch_order.h"
#include "write/batch_write.h"
#include "write/partition.h"
int sc_kv_key(sc_cache *c, const char *kv, const sc_field *key, struct sc_entry_key *k)
{
	int err;

	k->bytes = k->room; /* releasable whatever happens next */
	err = sc_cache_check(c);
	if (!err)
		err = sc_entry_key_init(k, SC_ENTRY_KV, kv, "KeyValue namespace");
	if (!err && key)
		err = sc_entry_key_append_field(k, key, "key");
	return err;
}

/* Flattened, as a tuple get's routing is (tables/reads.c): 109 of a KeyValue read's 958 instructions. */
__attribute__((flatten)) int sc_kv_route(sc_cache *c, const char *kv, const sc_field *key,
					 struct sc_entry_key *k, sc_field *kf, struct sc_route *route)
{
	int err = sc_kv_key(c, kv, key, k);

	if (!err)
		sc_entry_route(c, k, kf, route);
	return err;
}

/* value added to key, or (every) in place of every value the key has. */
static int kv_write(sc_cache *c, const char *kv, sc_field key, sc_field value, uint64_t deadline, bool every)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = sc_kv_route(c, kv, &key, &k, &kf, &route);

	if (!err)
		err = sc_field_check(&value, "value");
	if (!err) {
		/* One key: its mark is the key's (kv_forward() ends it). */
		sc_ryw_key_begin(c, route.key_hash);
		err = every ? sc_entry_supersede_locking(c, &route, &value, deadline)
			    : sc_entry_put_locking(c, &route, &value, deadline);
	}
	sc_entry_key_free(&k);
	return err;
}

int sc_kv_put(sc_cache *c, const char *kv, sc_field key, sc_field value, uint64_t deadline)
{
	return kv_write(c, kv, key, value, deadline, false);
}

/*
 * A KeyValue call of one key as a forwarded request's tuple: (kv name,
 * key[, value]), when err says its primary is another node; either way the
 * call's key mark ends here (mem/read_your_writes.h).
 */
static int kv_forward(int err, sc_cache *c, uint16_t op, uint64_t arg, const char *kv, sc_field key,
		      const sc_field *value)
{
	if (err == -EREMOTE) {
		const sc_field f[3] = { sc_str(kv), key, value ? *value : sc_int(0) };

		err = sc_forward_if_remote(err, c, op, arg, &(sc_tuple){ value ? 3 : 2, f }, 1);
	}
	return (int)sc_ryw_key_end(err);
}

static int do_kv_add(sc_cache *c, const char *kv, sc_field key, sc_field value)
{
	return kv_forward(sc_kv_put(c, kv, key, value, 0), c, SC_FWD_KV_ADD, 0, kv, key, &value);
}

SC_EXPORT int sc_kv_add(sc_cache *c, const char *kv, sc_field key, sc_field value)
{
	return SC_TRACED(c, SC_OP_KV_ADD, do_kv_add(c, kv, key, value));
}

/*
 * The seed's update and replace: the key ends with this one value, in place
 * of every value it had (one on a set, several on a bag: docs/api.md), and
 * no time to live. Each call is traced as itself.
 */
static int do_kv_set(sc_cache *c, const char *kv, sc_field key, sc_field value)
{
	return kv_forward(kv_write(c, kv, key, value, 0, true), c, SC_FWD_KV_REPLACE, 0, kv, key, &value);
}

SC_EXPORT int sc_kv_update(sc_cache *c, const char *kv, sc_field key, sc_field value)
{
	return SC_TRACED(c, SC_OP_KV_UPDATE, do_kv_set(c, kv, key, value));
}

SC_EXPORT int sc_kv_replace(sc_cache *c, const char *kv, sc_field key, sc_field value)
{
	return SC_TRACED(c, SC_OP_KV_REPLACE, do_kv_set(c, kv, key, value));
}

/* The value as found under the lock (pointing into its record), and its deadline, which the new value keeps. */
struct current {
	sc_field value;
	uint64_t deadline;
};

static int read_current(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct current *k = ctx;
	int err = sc_entry_value(c, hit, &k->value);

	if (err)
		return err;
	k->deadline = sc_rec_deadline(sc_blk_at(c, hit->rec_off), hit->rec_len);
	return sc_entry_still_intact(c, hit);
}

int sc_kv_rewrite(sc_cache *c, const struct sc_route *route, sc_kv_next_fn next_fn, void *ctx)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	struct current k = { sc_int(0), 0 };
	sc_field next;
	int found, err = sc_part_lock(c, p);

	if (err)
		return err;
	found = sc_entry_read(c, route, read_current, &k);
	err = found < 0 ? found : next_fn(found ? &k.value : NULL, ctx, &next);
	if (!err)
		err = sc_entry_supersede(c, p, route, &next, k.deadline);
	return (int)sc_write_result(err, sc_part_unlock_write(c, p));
}

static int copy_value(sc_cache *c, const struct sc_hit *hit, void *builder)
{
	return sc_entry_value_into(c, hit, builder);
}

static int do_kv_get_with(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt, bool every,
			  const sc_read_opts *opts, sc_tuples **out);

/* The key's newest value, or (every) all of them, oldest first; dflt when it has none. */
static int do_kv_get(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt, bool every,
		     sc_tuples **out)
{
	struct sc_builder b;
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int found = 0;
	int err;

	sc_check_arg(out, -EINVAL, "sc_kv_get: out is NULL");
	err = sc_kv_key(c, kv, &key, &k);
	if (!err && dflt)
		err = sc_field_check(dflt, "default");
	if (!err) {
		*out = NULL;
		sc_entry_route(c, &k, &kf, &route);
		if (!sc_ryw_local_key(c, route.partition, route.key_hash)) {
			sc_entry_key_free(&k);
			return SC_RYW_BY_PRIMARY(
				do_kv_get_with(c, kv, key, dflt, every, &sc_by_primary, out));
		}
		sc_builder_init(&b);
		found = every ? sc_entry_read_all(c, &route, copy_value, &b)
			      : sc_entry_read(c, &route, copy_value, &b);
		if (found == 0 && dflt)
			err = sc_builder_add(&b, dflt, 1);
		if (found < 0)
			err = found;
		if (err)
			sc_builder_free(&b);
		else
			err = sc_builder_finish(&b, out);
	}
	sc_entry_key_free(&k);
	return err ? err : found;
}

SC_EXPORT int sc_kv_get(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_GET, do_kv_get(c, kv, key, dflt, false, out));
}

/* Every value of the key, read as sc_kv_get() reads, or none. */
SC_EXPORT int sc_kv_get_all(sc_cache *c, const char *kv, sc_field key, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_GET_ALL, do_kv_get(c, kv, key, NULL, true, out));
}

/* The caller's buffer a value is copied into, and what it reports. */
struct value_into {
	void *buf;
	size_t cap;
	sc_field *value;
	size_t *need;
};

/* *v made the caller's: a number as it is, bytes copied into the buffer (-ERANGE when it is short). */
static int copy_value_into(sc_field *v, const struct value_into *in)
{
	if (v->type == SC_FIELD_BYTES) {
		if (in->need)
			*in->need = v->len;
		if (v->len > in->cap)
			return sc_fail(-ERANGE, "a buffer of %zu bytes is short: the value takes %u", in->cap,
				       v->len);
		if (v->len)
			memcpy(in->buf, v->v.p, v->len);
		v->v.p = in->buf;
	}
	return 0;
}

/* The value of hit, handed out once its record is checked, after the copy: one checksum. */
static int value_into_buffer(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	const struct value_into *in = ctx;
	sc_field v;
	int err = sc_entry_value_unverified(c, hit, &v);

	if (!err)
		err = copy_value_into(&v, in);
	if (!err)
		err = sc_entry_still_intact(c, hit);
	if (!err)
		*in->value = v;
	return err;
}

/* The primary's answer (this host's copy lacks this handle's write), handed out. */
static int kv_get_into_by_primary(sc_cache *c, const char *kv, sc_field key, const struct value_into *in)
{
	sc_tuples *got = NULL;
	int n = SC_RYW_BY_PRIMARY(do_kv_get_with(c, kv, key, NULL, false, &sc_by_primary, &got)), err = 0;

	if (n == 1 && (!got || got->count != 1 || got->tuples[0].nfields != 1))
		err = sc_fail(-EPROTO, "KeyValue \"%s\": the primary's read of the value is not one field",
			      kv);
	else if (n == 1) {
		sc_field v = got->tuples[0].fields[0];

		err = copy_value_into(&v, in);
		if (!err)
			*in->value = v;
	}
	sc_tuples_free(got);
	return n < 0 ? n : err ? err : n;
}

static int do_kv_get_into(sc_cache *c, const char *kv, sc_field key, void *buf, size_t cap, sc_field *value,
			  size_t *need)
{
	const struct value_into in = { buf, cap, value, need };
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	sc_check_arg(value, -EINVAL, "sc_kv_get_into: value is NULL");
	sc_check_arg(buf || !cap, -EINVAL, "sc_kv_get_into: a buffer of %zu bytes at NULL", cap);
	if (need)
		*need = 0;
	err = sc_kv_route(c, kv, &key, &k, &kf, &route);
	if (!err && !sc_ryw_local_key(c, route.partition, route.key_hash))
		err = kv_get_into_by_primary(c, kv, key, &in);
	else if (!err)
		err = sc_entry_read(c, &route, value_into_buffer, (void *)&in);
	sc_entry_key_free(&k);
	return err;
}

SC_EXPORT int sc_kv_get_into(sc_cache *c, const char *kv, sc_field key, void *buf, size_t cap,
			     sc_field *value, size_t *need)
{
	return SC_TRACED(c, SC_OP_KV_GET_INTO, do_kv_get_into(c, kv, key, buf, cap, value, need));
}

/* t: (the namespace as sc_str() makes it of a C string, key) or (..., default). */
static int kv_get_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return do_kv_get(c, t->fields[0].v.p, t->fields[1], t->nfields == 3 ? &t->fields[2] : NULL, false,
			 out);
}

/* t: (the namespace, key): every value. */
static int kv_get_all_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return do_kv_get(c, t->fields[0].v.p, t->fields[1], NULL, true, out);
}

static int do_kv_get_with(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt, bool every,
			  const sc_read_opts *opts, sc_tuples **out)
{
	const sc_field f[3] = { sc_str(kv ? kv : ""), key, dflt ? *dflt : sc_int(0) };
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	sc_check_arg(out, -EINVAL, "sc_kv_get_with: out is NULL");
	*out = NULL;
	err = sc_read_opts_check(c, opts);
	if (err)
		return err;
	if (sc_read_is_local(c, opts))
		return do_kv_get(c, kv, key, dflt, every, out);
	err = sc_kv_key(c, kv, &key, &k);
	if (!err && dflt)
		err = sc_field_check(dflt, "default");
	if (!err) {
		sc_entry_route(c, &k, &kf, &route);
		err = sc_read_by_mode(c, opts, sc_part_at(c, route.partition),
				      every ? SC_FWD_READ_KV_GET_ALL : SC_FWD_READ_KV_GET,
				      every ? kv_get_all_here : kv_get_here, &(sc_tuple){ dflt ? 3 : 2, f },
				      out);
	}
	sc_entry_key_free(&k);
	return err;
}

SC_EXPORT int sc_kv_get_with(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt,
			     const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_GET, do_kv_get_with(c, kv, key, dflt, false, opts, out));
}

int sc_kv_get_all_with(sc_cache *c, const char *kv, sc_field key, const sc_read_opts *opts, sc_tuples **out)
{
	return do_kv_get_with(c, kv, key, NULL, true, opts, out);
}

static int do_kv_remove(sc_cache *c, const char *kv, sc_field key)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = sc_kv_key(c, kv, &key, &k);

	if (!err) {
		sc_entry_route(c, &k, &kf, &route);
		sc_ryw_key_begin(c, route.key_hash);
		err = sc_entry_remove_locking(c, &route);
	}
	sc_entry_key_free(&k);
	return kv_forward(err, c, SC_FWD_KV_REMOVE, 0, kv, key, NULL);
}

SC_EXPORT int sc_kv_remove(sc_cache *c, const char *kv, sc_field key)
{
	return SC_TRACED(c, SC_OP_KV_REMOVE, do_kv_remove(c, kv, key));
}

/* Every partition (all), or structure partition idx alone. */
static int kv_remove_all_in(sc_cache *c, const char *kv, bool all, uint32_t idx)
{
	struct sc_entry_key k;
	int err = sc_kv_key(c, kv, NULL, &k);

	if (!err)
		err = all ? sc_entries_remove_all(c, &k, SC_FWD_KV_REMOVE_ALL_PART, kv)
			  : sc_entries_remove_part(c, &k, idx, SC_FWD_KV_REMOVE_ALL_PART, kv);
	sc_entry_key_free(&k);
	return err;
}

int sc_kv_remove_all_part(sc_cache *c, const char *kv, uint32_t idx)
{
	return kv_remove_all_in(c, kv, false, idx);
}

static int do_kv_remove_all(sc_cache *c, const char *kv)
{
	return kv_remove_all_in(c, kv, true, 0);
}

SC_EXPORT int sc_kv_remove_all(sc_cache *c, const char *kv)
{
	return SC_TRACED(c, SC_OP_KV_REMOVE_ALL, do_kv_remove_all(c, kv));
}

/*
 * A batch's keys, built into one arena and routed: each partition's lock is
 * then taken once for all of its pairs, which go in in the batch's order.
 */
struct kv_batch {
	uint8_t *arena;
	struct sc_route *route;
	sc_field *key;
	uint32_t *part;
	struct sc_batch_order order;
};

static void batch_free(struct kv_batch *b)
{
	free(b->arena);
	free(b->route);
	free(b->key);
	free(b->part);
	sc_batch_order_free(&b->order);
}

/* Check and route n keys (key i at keys + i * stride) of namespace kv. */
static int batch_prepare(sc_cache *c, const char *kv, const sc_field *keys, size_t stride, size_t n,
			 struct kv_batch *b)
{
	struct sc_entry_key prefix;
	size_t bytes = 0, at = 0;
	int err = sc_kv_key(c, kv, NULL, &prefix);

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; !err && i < n; i++) {
		const sc_field *key = (const sc_field *)((const uint8_t *)keys + i * stride);

		err = sc_field_check(key, "key");
		if (err)
			sc_fail_item(err, "batch pair", i);
		else
			bytes += prefix.prefix_len + sc_entry_field_size(key);
	}
	if (!err) {
		b->arena = malloc(bytes ? bytes : 1);
		b->route = malloc(n * sizeof(*b->route));
		b->key = malloc(n * sizeof(*b->key));
		b->part = malloc(n * sizeof(*b->part));
		if (!b->arena || !b->route || !b->key || !b->part)
			err = sc_fail(-ENOMEM, "out of memory for a batch of %zu pairs", n);
	}
	for (size_t i = 0; !err && i < n; i++) {
		const sc_field *key = (const sc_field *)((const uint8_t *)keys + i * stride);
		uint8_t *k = b->arena + at;
		uint32_t len = prefix.prefix_len + sc_entry_field_size(key);

		memcpy(k, prefix.bytes, prefix.prefix_len);
		sc_entry_field_put(k + prefix.prefix_len, key);
		at += len;
		if (len > SC_MAX_FIELD_BYTES) {
			err = sc_fail_item(sc_fail(-E2BIG, "key too long"), "batch pair", i);
			break;
		}
		sc_entry_route_bytes(c, k, len, &b->key[i], &b->route[i]);
		b->part[i] = b->route[i].partition - c->seg.cfg.num_partition;
	}
	if (!err)
		err = sc_batch_order_make(b->part, n, c->seg.cfg.num_partition, &b->order);
	sc_entry_key_free(&prefix);
	return err;
}

/* All-or-nothing on this node, as sc_put_batch(): write/batch_write.h. part (when not NULL): each pair's partition. */
static int kv_add_batch_here(sc_cache *c, const char *kv, const sc_kv_pair *pairs, size_t n, uint32_t *part)
{
	struct kv_batch b;
	sc_field *fields = NULL;
	sc_tuple *entries = NULL;
	struct sc_put_item *items = NULL;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		err = sc_field_check(&pairs[i].value, "value");
		if (err)
			return sc_fail_item(err, "batch pair", i);
	}
	err = batch_prepare(c, kv, &pairs[0].key, sizeof(*pairs), n, &b);
	if (!err) {
		fields = malloc(2 * n * sizeof(*fields));
		entries = malloc(n * sizeof(*entries));
		items = malloc(n * sizeof(*items));
		if (!fields || !entries || !items)
			err = sc_fail(-ENOMEM, "out of memory for a batch of %zu pairs", n);
	}
	/* Every pair's record must fit before the first is written: an -E2BIG writes nothing. */
	for (size_t i = 0; !err && i < n; i++) {
		fields[2 * i] = b.key[i];
		fields[2 * i + 1] = pairs[i].value;
		entries[i] = (sc_tuple){ 2, &fields[2 * i] };
		items[i] = (struct sc_put_item){ .tuple = &entries[i], .route = b.route[i] };
		err = sc_record_len(c, &fields[2 * i], 2, &items[i].len);
		if (err)
			sc_fail_item(err, "batch pair", i);
	}
	if (!err)
		err = sc_batch_write(c, c->seg.cfg.num_partition, items, n, &b.order);
	if (part && b.part)
		memcpy(part, b.part, n * sizeof(*part));
	free(fields);
	free(entries);
	free(items);
	batch_free(&b);
	return err;
}

/* A share of a batch split by primary (forward/forward_client.h): this node's, items (key, value). */
static int kv_add_share_here(sc_cache *c, const sc_tuple *t, size_t n, void *kv)
{
	sc_kv_pair *pairs = malloc(n * sizeof(*pairs));
	int err;

	if (!pairs)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu pairs", n);
	for (size_t i = 0; i < n; i++)
		pairs[i] = (sc_kv_pair){ t[i].fields[0], t[i].fields[1] };
	err = kv_add_batch_here(c, kv, pairs, n, NULL);
	free(pairs);
	return err;
}

/* items[i] = (keys[i * stride][, the value after it]): a KeyValue batch as a split's items. */
static int kv_forward_batch(sc_cache *c, uint16_t op, const char *kv, const sc_field *keys, size_t stride,
			    uint32_t nfields, const uint32_t *part, size_t n, sc_fwd_here_fn here)
{
	sc_tuple *items = malloc(n * sizeof(*items));
	const sc_field name = sc_str(kv);
	const sc_tuple head = { 1, &name };
	int err;

	if (!items)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu pairs", n);
	for (size_t i = 0; i < n; i++)
		items[i] = (sc_tuple){ nfields, (const sc_field *)((const uint8_t *)keys + i * stride) };
	err = sc_forward_split(c, op, &head, items, part, n, here, (void *)kv);
	free(items);
	return err;
}

static int do_kv_add_batch(sc_cache *c, const char *kv, const sc_kv_pair *pairs, size_t n)
{
	uint32_t *part;
	int err = sc_cache_check(c);

	if (err || n == 0)
		return err;
	sc_check_arg(pairs, -EINVAL, "batch of %zu pairs at a NULL pointer", n);
	part = malloc(n * sizeof(*part));
	if (!part)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu pairs", n);
	err = kv_add_batch_here(c, kv, pairs, n, part);
	/* Some partition's primary is another node: nothing was written; each primary takes its share. */
	if (err == -EREMOTE)
		err = kv_forward_batch(c, SC_FWD_KV_ADD_BATCH, kv, &pairs[0].key, sizeof(*pairs), 2, part, n,
				       kv_add_share_here);
	free(part);
	return err;
}

SC_EXPORT int sc_kv_add_batch(sc_cache *c, const char *kv, const sc_kv_pair *pairs, size_t n)
{
	return SC_TRACED(c, SC_OP_KV_ADD_BATCH, do_kv_add_batch(c, kv, pairs, n));
}

/* The removals on this node: how many went. part (when not NULL): each key's partition. */
static int kv_remove_batch_here(sc_cache *c, const char *kv, const sc_field *keys, size_t stride, size_t n,
				uint32_t *part)
{
	struct kv_batch b;
	int err = batch_prepare(c, kv, keys, stride, n, &b);

	if (!err)
		err = sc_batch_remove(c, c->seg.cfg.num_partition, b.route, n, &b.order);
	/* No memory even for the intent: freeing memory must not need any, so key by key. */
	if (err == -ENOSPC) {
		err = 0;
		for (size_t i = 0; err >= 0 && i < n; i++) {
			int r = sc_entry_remove_locking(c, &b.route[i]);

			err = r < 0 ? r : err + r;
		}
	}
	if (part && b.part)
		memcpy(part, b.part, n * sizeof(*part));
	batch_free(&b);
	return err;
}

/* A share of a batch split by primary: this node's, items (key). */
static int kv_remove_share_here(sc_cache *c, const sc_tuple *t, size_t n, void *kv)
{
	sc_field *keys = malloc(n * sizeof(*keys));
	int err;

	if (!keys)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu keys", n);
	for (size_t i = 0; i < n; i++)
		keys[i] = t[i].fields[0];
	err = kv_remove_batch_here(c, kv, keys, sizeof(*keys), n, NULL);
	free(keys);
	return err;
}

static int do_kv_remove_batch(sc_cache *c, const char *kv, const sc_field *keys, size_t n)
{
	uint32_t *part;
	int err = sc_cache_check(c);

	if (err || n == 0)
		return err;
	sc_check_arg(keys, -EINVAL, "batch of %zu keys at a NULL pointer", n);
	part = malloc(n * sizeof(*part));
	if (!part)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu keys", n);
	err = kv_remove_batch_here(c, kv, keys, sizeof(*keys), n, part);
	if (err == -EREMOTE)
		err = kv_forward_batch(c, SC_FWD_KV_REMOVE_BATCH, kv, keys, sizeof(*keys), 1, part, n,
				       kv_remove_share_here);
	free(part);
	return err;
}

SC_EXPORT int sc_kv_remove_batch(sc_cache *c, const char *kv, const sc_field *keys, size_t n)
{
	return SC_TRACED(c, SC_OP_KV_REMOVE_BATCH, do_kv_remove_batch(c, kv, keys, n));
}

static int do_kv_add_ttl(sc_cache *c, const char *kv, sc_field key, sc_field value, uint64_t ttl_ms)
{
	uint64_t deadline = 0;
	int err = sc_deadline_after(ttl_ms, &deadline);

	err = err ? err : sc_kv_put(c, kv, key, value, deadline);
	return kv_forward(err, c, SC_FWD_KV_ADD_TTL, ttl_ms, kv, key, &value);
}

SC_EXPORT int sc_kv_add_ttl(sc_cache *c, const char *kv, sc_field key, sc_field value, uint64_t ttl_ms)
{
	return SC_TRACED(c, SC_OP_KV_ADD, do_kv_add_ttl(c, kv, key, value, ttl_ms));
}

static int do_kv_ttl(sc_cache *c, const char *kv, sc_field key, uint64_t *ttl_ms)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	sc_check_arg(ttl_ms, -EINVAL, "sc_kv_ttl: ttl_ms is NULL");
	err = sc_kv_route(c, kv, &key, &k, &kf, &route);
	if (!err)
		err = sc_ttl_routed(c, &route, ttl_ms);
	sc_entry_key_free(&k);
	return err;
}

SC_EXPORT int sc_kv_ttl(sc_cache *c, const char *kv, sc_field key, uint64_t *ttl_ms)
{
	return SC_TRACED(c, SC_OP_TTL, do_kv_ttl(c, kv, key, ttl_ms));
}

static int do_kv_touch(sc_cache *c, const char *kv, sc_field key, uint64_t ttl_ms)
{
	struct sc_entry_key k;
	struct sc_route route;
	uint64_t deadline = 0;
	sc_field kf;
	int err = sc_kv_route(c, kv, &key, &k, &kf, &route);

	if (!err)
		err = sc_deadline_after(ttl_ms, &deadline);
	if (!err) {
		sc_ryw_key_begin(c, route.key_hash);
		err = sc_touch_routed(c, &route, deadline);
	}
	sc_entry_key_free(&k);
	return kv_forward(err, c, SC_FWD_KV_TOUCH, ttl_ms, kv, key, NULL);
}

SC_EXPORT int sc_kv_touch(sc_cache *c, const char *kv, sc_field key, uint64_t ttl_ms)
{
	return SC_TRACED(c, SC_OP_TOUCH, do_kv_touch(c, kv, key, ttl_ms));
}
