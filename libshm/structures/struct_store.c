/* struct_store.c — Struct: fixed-size C structs stored whole, keyed by one of their members. */
#include <stdlib.h>
#include <string.h>

#include "forward/forward_client.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/struct_store.h"
#include "tables/read_every.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "write/partition.h"

/*
 * A type is an entry (SC_ENTRY_TYPE, name) whose value is its geometry; a
 * struct is an entry (SC_ENTRY_STRUCT, type name, the key member's bytes)
 * whose value is the struct's bytes. A type's geometry never changes once
 * registered, so a reader that found it may use it for as long as it likes.
 */
struct geometry {
	uint64_t size, key_offset, key_size;
};

/* The type's entry key, the name checked. k is releasable whatever the result. */
static int type_key(sc_cache *c, const char *type, struct sc_entry_key *k)
{
	int err;

	k->bytes = k->room;
	err = sc_cache_check(c);
	return err ? err : sc_entry_key_init(k, SC_ENTRY_TYPE, type, "struct type");
}

static bool geometry_ok(const struct geometry *g)
{
	return g->size > 0 && g->size <= SC_MAX_FIELD_BYTES && g->key_size > 0 && g->key_offset <= g->size &&
	       g->key_size <= g->size - g->key_offset;
}

static int read_geometry(sc_cache *c, const struct sc_hit *hit, void *out)
{
	sc_field v;
	int err = sc_entry_value(c, hit, &v);

	if (err)
		return err;
	struct geometry g;

	if (v.type != SC_FIELD_BYTES || v.len != sizeof(g))
		return sc_fail(-EUCLEAN, "cache \"%s\": a struct type's entry is malformed", c->name);
	memcpy(&g, v.v.p, sizeof(g));
	/* Callers read the caller's struct by this geometry: it must be one sc_struct_init() accepts. */
	if (!geometry_ok(&g))
		return sc_fail(-EUCLEAN, "cache \"%s\": a struct type's geometry is corrupt", c->name);
	memcpy(out, &g, sizeof(g));
	return 0;
}

static int do_struct_init(sc_cache *c, const char *type, size_t size, size_t key_offset, size_t key_size)
{
	struct geometry want = { size, key_offset, key_size }, have;
	struct sc_entry_key k;
	struct sc_route route;
	struct sc_hit hit;
	struct sc_part *p;
	sc_field kf, v;
	int err = type_key(c, type, &k);

	if (!err && (size == 0 || size > SC_MAX_FIELD_BYTES))
		err = sc_fail(-EINVAL, "struct type \"%s\": size %zu; a struct has 1 to %u bytes", type, size,
			      SC_MAX_FIELD_BYTES);
	if (!err && !geometry_ok(&want))
		err = sc_fail(
			-EINVAL,
			"struct type \"%s\": a key of %zu bytes at offset %zu does not lie inside its %zu "
			"bytes",
			type, key_size, key_offset, size);
	if (err)
		goto out;
	sc_entry_route(c, &k, &kf, &route);
	p = sc_part_at(c, route.partition);
	err = sc_part_lock(c, p);
	if (err)
		goto out;
	/* Under the lock: two processes registering the same type at once agree on one geometry. */
	err = sc_entry_find(c, p, &route, &hit);
	if (err == 1) {
		err = read_geometry(c, &hit, &have);
		if (!err && memcmp(&have, &want, sizeof(want)) != 0)
			err = sc_fail(
				-EEXIST,
				"struct type \"%s\" is registered with size %llu and a key of %llu bytes at "
				"offset %llu",
				type, (unsigned long long)have.size, (unsigned long long)have.key_size,
				(unsigned long long)have.key_offset);
	} else if (err == 0) {
		v = sc_bytes(&want, sizeof(want));
		err = sc_entry_put(c, p, &route, &v, 0);
	}
	err = (int)sc_write_result(err, sc_part_unlock_write(c, p));
out:
	sc_entry_key_free(&k);
	if (err == -EREMOTE) {
		const sc_field f[4] = { sc_str(type), sc_int((int64_t)size), sc_int((int64_t)key_offset),
					sc_int((int64_t)key_size) };

		err = sc_forward_if_remote(err, c, SC_FWD_STRUCT_INIT, 0, &(sc_tuple){ 4, (sc_field *)f }, 1);
	}
	return err;
}

SC_EXPORT int sc_struct_init(sc_cache *c, const char *type, size_t size, size_t key_offset, size_t key_size)
{
	return SC_TRACED(c, SC_OP_STRUCT_INIT, do_struct_init(c, type, size, key_offset, key_size));
}

/* The registered geometry of type in this host's copy, read without a lock: 0, -ENXIO if it has none, or < 0. */
static int geometry_here(sc_cache *c, const char *type, struct geometry *g)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = type_key(c, type, &k);

	if (!err) {
		sc_entry_route(c, &k, &kf, &route);
		err = sc_entry_read(c, &route, read_geometry, g);
		if (err == 0)
			err = sc_fail(-ENXIO, "struct type \"%s\" was never registered with sc_struct_init()",
				      type);
		else if (err == 1)
			err = 0;
	}
	sc_entry_key_free(&k);
	return err;
}

/* t: (the type's name, as sc_str() makes it of a C string). Its geometry as one bytes field: 1, or 0 for none. */
static int type_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	struct geometry g;
	int err = geometry_here(c, t->fields[0].v.p, &g);
	const sc_field v = sc_bytes(&g, sizeof(g));

	if (err)
		return err == -ENXIO ? 0 : err;
	err = sc_results_of_tuples(&(sc_tuple){ 1, &v }, 1, out);
	return err ? err : 1;
}

int sc_struct_type_read(sc_cache *c, const char *type, const sc_read_opts *opts, sc_tuples **out)
{
	const sc_field f[1] = { sc_str(type ? type : "") };
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	*out = NULL;
	err = sc_read_opts_check(c, opts);
	if (!err && sc_read_is_local(c, opts))
		return type_here(c, &(sc_tuple){ 1, f }, out);
	if (!err)
		err = type_key(c, type, &k);
	else
		k.bytes = k.room;
	if (!err) {
		sc_entry_route(c, &k, &kf, &route);
		err = sc_read_by_primary(c, sc_part_at(c, route.partition), SC_FWD_READ_STRUCT_TYPE,
					 type_here, &(sc_tuple){ 1, f }, out);
	}
	sc_entry_key_free(&k);
	return err;
}

/*
 * The registered geometry of type: 0, -ENXIO if it was never registered, or
 * < 0. This host's copy's; in a distributed cache whose copy has none (this
 * node holds no copy of the type's partition, or not yet the registration),
 * the type's primary's.
 */
static int geometry_of(sc_cache *c, const char *type, struct geometry *g)
{
	const sc_read_opts primary = { .read_mode = SC_READ_PRIMARY };
	sc_tuples *out = NULL;
	int err = geometry_here(c, type, g), n;

	if (err != -ENXIO || c->seg.cfg.cluster == SC_CLUSTER_LOCAL)
		return err;
	n = sc_struct_type_read(c, type, &primary, &out);
	if (n == 0)
		err = sc_fail(-ENXIO, "struct type \"%s\" was never registered with sc_struct_init()", type);
	else if (n < 0)
		err = n;
	else if (!out || out->count != 1 || out->tuples[0].nfields != 1 ||
		 out->tuples[0].fields[0].type != SC_FIELD_BYTES ||
		 out->tuples[0].fields[0].len != sizeof(*g))
		err = sc_fail(-EPROTO, "struct type \"%s\": the type's primary sent no geometry", type);
	else {
		memcpy(g, out->tuples[0].fields[0].v.p, sizeof(*g));
		err = geometry_ok(g)
			      ? 0
			      : sc_fail(-EPROTO,
					"struct type \"%s\": the type's primary sent a corrupt geometry",
					type);
	}
	sc_tuples_free(out);
	return err;
}

/* The entry key of the struct whose key member s holds, by geometry g (s may be any struct with that member set). */
static int key_by(const char *type, const void *s, const struct geometry *g, struct sc_entry_key *k)
{
	int err = sc_entry_key_init(k, SC_ENTRY_STRUCT, type, "struct type");

	return err ? err : sc_entry_key_append(k, (const uint8_t *)s + g->key_offset, g->key_size);
}

/* The registered geometry of type in *g, and the entry key of the struct whose key member s holds. */
static int struct_key(sc_cache *c, const char *type, const void *s, struct geometry *g,
		      struct sc_entry_key *k)
{
	int err;

	k->bytes = k->room;
	sc_check_arg(s, -EINVAL, "struct pointer is NULL");
	err = geometry_of(c, type, g);
	return err ? err : key_by(type, s, g, k);
}

/*
 * A Struct call as a forwarded request's tuple: (type name, the struct's
 * bytes, key_offset, key_size), when err says its primary is another node.
 * The geometry goes with it: the partition's primary may hold no copy of
 * the type's own partition. Either way the call's key mark ends here
 * (mem/read_your_writes.h).
 */
static int struct_forward(int err, sc_cache *c, uint16_t op, const char *type, const void *s,
			  const struct geometry *g)
{
	if (err == -EREMOTE) {
		const sc_field f[4] = { sc_str(type), sc_bytes(s, (uint32_t)g->size),
					sc_int((int64_t)g->key_offset), sc_int((int64_t)g->key_size) };

		err = sc_forward_if_remote(err, c, op, 0, &(sc_tuple){ 4, (sc_field *)f }, 1);
	}
	return (int)sc_ryw_key_end(err);
}

/* Store (add) or remove the struct s of type by geometry g, here or on its partition's primary. */
static int write_by(sc_cache *c, const char *type, const void *s, const struct geometry *g, bool add)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf, v;
	int err;

	k.bytes = k.room;
	err = key_by(type, s, g, &k);
	if (!err) {
		sc_entry_route(c, &k, &kf, &route);
		sc_ryw_key_begin(c, route.key_hash);
		v = sc_bytes(s, (uint32_t)g->size);
		err = add ? sc_entry_put_locking(c, &route, &v, 0) : sc_entry_remove_locking(c, &route);
	}
	sc_entry_key_free(&k);
	return struct_forward(err, c, add ? SC_FWD_STRUCT_ADD : SC_FWD_STRUCT_REMOVE, type, s, g);
}

static int do_struct_write(sc_cache *c, const char *type, const void *s, bool add)
{
	struct geometry g;
	int err;

	sc_check_arg(s, -EINVAL, "struct pointer is NULL");
	err = geometry_of(c, type, &g); /* the cache checked too */
	return err ? err : write_by(c, type, s, &g, add);
}

static int do_struct_add(sc_cache *c, const char *type, const void *s)
{
	return do_struct_write(c, type, s, true);
}

SC_EXPORT int sc_struct_add(sc_cache *c, const char *type, const void *s)
{
	return SC_TRACED(c, SC_OP_STRUCT_ADD, do_struct_add(c, type, s));
}

struct struct_copy {
	void *out;
	uint64_t size;
};

static int copy_struct(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct struct_copy *cp = ctx;
	sc_field v;
	int err = sc_entry_value(c, hit, &v);

	if (err)
		return err;
	if (v.type != SC_FIELD_BYTES || v.len != cp->size)
		return sc_fail(-EUCLEAN, "cache \"%s\": a stored struct has %u bytes, its type %llu", c->name,
			       v.len, (unsigned long long)cp->size);
	memcpy(cp->out, v.v.p, v.len);
	return sc_entry_still_intact(c, hit);
}

static int do_struct_get(sc_cache *c, const char *type, const void *key, void *out)
{
	struct geometry g;
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	sc_check_arg(out, -EINVAL, "sc_struct_get: out is NULL");
	err = struct_key(c, type, key, &g, &k);
	if (!err) {
		struct struct_copy cp = { out, g.size };

		sc_entry_route(c, &k, &kf, &route);
		if (!sc_ryw_local_key(c, route.partition, route.key_hash)) {
			sc_entry_key_free(&k);
			return SC_RYW_BY_PRIMARY(sc_struct_get_with(c, type, key, &sc_by_primary, out));
		}
		err = sc_entry_read(c, &route, copy_struct, &cp);
		if (err == 0)
			err = sc_fail(-ENOENT, "no struct of type \"%s\" has that key", type);
		else if (err == 1)
			err = 0;
	}
	sc_entry_key_free(&k);
	return err;
}

SC_EXPORT int sc_struct_get(sc_cache *c, const char *type, const void *key, void *out)
{
	return SC_TRACED(c, SC_OP_STRUCT_GET, do_struct_get(c, type, key, out));
}

/* A struct read by its partition's primary or replicas, here: t is (type, a struct with its key set, key_offset, key_size). */
/*
 * The geometry a struct read's tuple t gives, and the entry key and route
 * of the struct it names (k releasable whatever the result): 0, -ENOMEM,
 * or -EPROTO for a key outside the struct.
 */
static int route_given(sc_cache *c, const sc_tuple *t, struct geometry *g, struct sc_entry_key *k,
		       struct sc_route *route, sc_field *kf)
{
	char *type = strndup(t->fields[0].v.p, t->fields[0].len); /* a forwarded name has no NUL */
	int err;

	*g = (struct geometry){ t->fields[1].len, (uint64_t)t->fields[2].v.i, (uint64_t)t->fields[3].v.i };
	k->bytes = k->room;
	if (!type)
		err = sc_fail(-ENOMEM, "out of memory reading a struct");
	else if (!geometry_ok(g))
		err = sc_fail(-EPROTO, "a struct read names a key outside its struct");
	else
		err = key_by(type, t->fields[1].v.p, g, k);
	if (!err)
		sc_entry_route(c, k, kf, route);
	free(type);
	return err;
}

static int struct_get_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	struct geometry g;
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	void *copy = NULL;
	int n = route_given(c, t, &g, &k, &route, &kf);

	if (!n && !(copy = malloc(g.size)))
		n = sc_fail(-ENOMEM, "out of memory reading a struct");
	if (!n) {
		struct struct_copy cp = { copy, g.size };

		n = sc_entry_read(c, &route, copy_struct, &cp);
	}
	if (n == 1)
		n = sc_results_of_tuples(&(sc_tuple){ 1, (sc_field[]){ sc_bytes(copy, (uint32_t)g.size) } },
					 1, out)
			    ?: 1;
	sc_entry_key_free(&k);
	free(copy);
	return n;
}

int sc_struct_get_read(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out)
{
	struct geometry g;
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err;

	*out = NULL;
	if (sc_read_is_local(c, opts))
		return struct_get_here(c, t, out);
	err = route_given(c, t, &g, &k, &route, &kf);
	if (!err)
		err = sc_read_by_mode(c, opts, sc_part_at(c, route.partition), SC_FWD_READ_STRUCT_GET,
				      struct_get_here, t, out);
	sc_entry_key_free(&k);
	return err;
}

static int struct_get_with(sc_cache *c, const char *type, const void *key, const sc_read_opts *opts,
			   void *out)
{
	struct geometry g;
	sc_tuples *got = NULL;
	int err;

	sc_check_arg(out && key, -EINVAL, "sc_struct_get_with: a NULL argument");
	err = sc_read_opts_check(c, opts);
	if (!err && sc_read_is_local(c, opts))
		return sc_struct_get(c, type, key, out);
	if (!err)
		err = geometry_of(c, type, &g);
	if (err)
		return err;
	const sc_field f[4] = { sc_str(type), sc_bytes(key, (uint32_t)g.size), sc_int((int64_t)g.key_offset),
				sc_int((int64_t)g.key_size) };
	err = sc_struct_get_read(c, opts, &(sc_tuple){ 4, (sc_field *)f }, &got);
	if (err == 0)
		err = sc_fail(-ENOENT, "no struct of type \"%s\" has that key", type);
	else if (err == 1 && (!got || got->count != 1 || got->tuples[0].fields[0].len != g.size))
		err = sc_fail(-EPROTO, "struct type \"%s\": the answer is not one struct of the type", type);
	else if (err == 1) {
		memcpy(out, got->tuples[0].fields[0].v.p, g.size);
		err = 0;
	}
	sc_tuples_free(got);
	return err;
}

SC_EXPORT int sc_struct_get_with(sc_cache *c, const char *type, const void *key, const sc_read_opts *opts,
				 void *out)
{
	return SC_TRACED(c, SC_OP_STRUCT_GET, struct_get_with(c, type, key, opts, out));
}

static int do_struct_remove(sc_cache *c, const char *type, const void *key)
{
	return do_struct_write(c, type, key, false);
}

SC_EXPORT int sc_struct_remove(sc_cache *c, const char *type, const void *key)
{
	return SC_TRACED(c, SC_OP_STRUCT_REMOVE, do_struct_remove(c, type, key));
}

/* Every struct of a type copied into one growing array (or, with b, into its tuples). */
struct struct_list {
	uint8_t *v;
	size_t n, cap;
	uint64_t size;
	struct sc_builder *b;
};

static int collect_struct(const sc_field *own, const sc_field *value, uint64_t version, void *ctx)
{
	struct struct_list *l = ctx;

	(void)own;
	(void)version;
	if (value->type != SC_FIELD_BYTES || value->len != l->size)
		return sc_fail(-EUCLEAN, "a stored struct has %u bytes, its type %llu", value->len,
			       (unsigned long long)l->size);
	if (l->b)
		return sc_builder_add(l->b, value, 1);
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		uint8_t *v = realloc(l->v, cap * l->size);

		if (!v)
			return sc_fail(-ENOMEM, "out of memory for %zu structs", cap);
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v + l->n++ * l->size, value->v.p, l->size);
	return 0;
}

static int do_struct_get_all(sc_cache *c, const char *type, void **out)
{
	struct struct_list l = { NULL, 0, 0, 0, NULL };
	struct geometry g;
	struct sc_entry_key k;
	int n;
	int err;

	sc_check_arg(out, -EINVAL, "sc_struct_get_all: out is NULL");
	*out = NULL;
	err = geometry_of(c, type, &g);
	k.bytes = k.room;
	if (!err)
		err = sc_entry_key_init(&k, SC_ENTRY_STRUCT, type, "struct type");
	if (err) {
		sc_entry_key_free(&k);
		return err;
	}
	l.size = g.size;
	if (!sc_ryw_local_range(c, c->seg.cfg.num_partition, 2 * c->seg.cfg.num_partition)) {
		sc_entry_key_free(&k);
		return SC_RYW_BY_PRIMARY(sc_struct_get_all_with(c, type, &sc_by_primary, out));
	}
	n = sc_entries_for_each(c, &k, collect_struct, &l);
	sc_entry_key_free(&k);
	if (n < 0) {
		free(l.v);
		return n;
	}
	*out = l.v;
	return n;
}

SC_EXPORT int sc_struct_get_all(sc_cache *c, const char *type, void **out)
{
	return SC_TRACED(c, SC_OP_STRUCT_GET_ALL, do_struct_get_all(c, type, out));
}

/* A struct listing's part, here: t is (structure partition index, type, size). */
static int list_part_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	const uint32_t idx = (uint32_t)t->fields[0].v.i;
	char *type = strndup(t->fields[1].v.p, t->fields[1].len);
	struct sc_builder b;
	struct struct_list l = { .size = (uint64_t)t->fields[2].v.i, .b = &b };
	struct sc_entry_key k;
	int n;

	k.bytes = k.room;
	sc_builder_init(&b);
	n = type ? sc_entry_key_init(&k, SC_ENTRY_STRUCT, type, "struct type")
		 : sc_fail(-ENOMEM, "out of memory for a struct type's name");
	if (!n)
		n = sc_entries_for_each_in(c, &k, idx, idx + 1, collect_struct, &l);
	sc_entry_key_free(&k);
	free(type);
	if (n < 0) {
		sc_builder_free(&b);
		return n;
	}
	return sc_builder_finish(&b, out) ?: n;
}

int sc_struct_list_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out)
{
	*out = NULL;
	if (t->nfields != 3 || t->fields[1].type != SC_FIELD_BYTES || t->fields[2].type != SC_FIELD_INT ||
	    t->fields[2].v.i <= 0)
		return sc_fail(-EPROTO, "a struct listing's part is not (index, type, size)");
	return sc_structure_part_read(c, opts, t, SC_FWD_READ_STRUCT_PART, list_part_here, out);
}

static int struct_get_all_with(sc_cache *c, const char *type, const sc_read_opts *opts, void **out)
{
	struct geometry g;
	sc_tuples *got = NULL;
	uint8_t *v = NULL;
	int n;

	sc_check_arg(out, -EINVAL, "sc_struct_get_all_with: out is NULL");
	*out = NULL;
	n = sc_read_opts_check(c, opts);
	if (!n && sc_read_is_local(c, opts))
		return sc_struct_get_all(c, type, out);
	if (!n)
		n = geometry_of(c, type, &g);
	if (!n)
		n = sc_read_partitions(
			c, opts, 0, c->seg.cfg.num_partition, sc_struct_list_part_with,
			&(sc_tuple){ 2, (sc_field[]){ sc_str(type), sc_int((int64_t)g.size) } }, &got);
	if (n > 0 && !(v = malloc((size_t)n * g.size)))
		n = sc_fail(-ENOMEM, "out of memory for %d structs", n);
	for (int i = 0; n > 0 && i < n; i++) {
		if (got->tuples[i].nfields != 1 || got->tuples[i].fields[0].len != g.size) {
			n = sc_fail(-EPROTO, "struct type \"%s\": an answer holds no struct of the type",
				    type);
			break;
		}
		memcpy(v + (size_t)i * g.size, got->tuples[i].fields[0].v.p, g.size);
	}
	sc_tuples_free(got);
	if (n <= 0) {
		free(v);
		return n;
	}
	*out = v;
	return n;
}

SC_EXPORT int sc_struct_get_all_with(sc_cache *c, const char *type, const sc_read_opts *opts, void **out)
{
	return SC_TRACED(c, SC_OP_STRUCT_GET_ALL, struct_get_all_with(c, type, opts, out));
}

SC_EXPORT void sc_struct_free(void *structs)
{
	free(structs);
}

/*
 * Every partition (all), or structure partition idx alone: as another node
 * asks it, which checked the type is registered (this node may hold no copy
 * of the type's partition).
 */
static int struct_remove_all_in(sc_cache *c, const char *type, bool all, uint32_t idx)
{
	struct geometry g;
	struct sc_entry_key k;
	int err = all ? geometry_of(c, type, &g) : sc_cache_check(c);

	k.bytes = k.room;
	if (!err)
		err = sc_entry_key_init(&k, SC_ENTRY_STRUCT, type, "struct type");
	if (!err)
		err = all ? sc_entries_remove_all(c, &k, SC_FWD_STRUCT_REMOVE_ALL_PART, type)
			  : sc_entries_remove_part(c, &k, idx, SC_FWD_STRUCT_REMOVE_ALL_PART, type);
	sc_entry_key_free(&k);
	return err;
}

static int do_struct_remove_all(sc_cache *c, const char *type)
{
	return struct_remove_all_in(c, type, true, 0);
}

SC_EXPORT int sc_struct_remove_all(sc_cache *c, const char *type)
{
	return SC_TRACED(c, SC_OP_STRUCT_REMOVE_ALL, do_struct_remove_all(c, type));
}

int sc_struct_remove_all_part(sc_cache *c, const char *type, uint32_t idx)
{
	return struct_remove_all_in(c, type, false, idx);
}

int sc_struct_write_given(sc_cache *c, const char *type, const void *s, size_t len, uint64_t key_offset,
			  uint64_t key_size, bool add)
{
	const struct geometry want = { len, key_offset, key_size };
	struct geometry have;
	int err;

	if (!geometry_ok(&want))
		return sc_fail(
			-EPROTO,
			"a forwarded struct of type \"%s\": %zu bytes, a key of %llu bytes at offset %llu",
			type, len, (unsigned long long)key_size, (unsigned long long)key_offset);
	/* Where this node holds the type too, the two agree (a type's geometry never changes). */
	err = geometry_here(c, type, &have);
	if (!err && memcmp(&have, &want, sizeof(want)) != 0)
		return sc_fail(-EPROTO,
			       "a forwarded struct of type \"%s\" is not of the type's registered geometry",
			       type);
	if (err && err != -ENXIO)
		return err;
	return write_by(c, type, s, &want, add);
}
