/*
 * kv_update.c — sc_kv_update_fn: a KeyValue value read, changed by the
 * caller's function and written back under its partition's lock; from a
 * node that is not the partition's primary, by compare-and-set there.
 */
#include "forward/forward_client.h"
#include "mem/read_your_writes.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/kv.h"
#include "tables/read_modes.h"

/*
 * How many times a compare-and-set from another node is tried before the
 * call gives up with -EBUSY: each try that fails found the value changed
 * by a write that succeeded, so the key is that busy.
 */
#define CAS_ATTEMPTS 64

/* The caller's function on base: 0 with *next checked, or its error (or -EINVAL for a bad *next). */
static int call_fn(const char *kv, const sc_field *base, sc_kv_updater fn, void *arg, sc_field *next)
{
	int err;

	*next = (sc_field){ 0 };
	err = fn(base, arg, next);
	if (err > 0)
		err = -EINVAL;
	if (err)
		return sc_fail(err, "KeyValue \"%s\": the update function returned %d: nothing written", kv,
			       err);
	return sc_field_check(next, "the update function's value");
}

/*
 * The value about to be stored, copied for *out (when the caller asked for
 * it) before it is: a write that happened never reports a failure to copy.
 */
static int copy_for_out(const sc_field *value, sc_tuples **out, sc_tuples **copy)
{
	struct sc_builder b;
	int err;

	*copy = NULL;
	if (!out)
		return 0;
	sc_builder_init(&b);
	err = sc_builder_add(&b, value, 1);
	if (err) {
		sc_builder_free(&b);
		return err;
	}
	return sc_builder_finish(&b, copy);
}

/* The call's result: the copy handed out on a write that happened (-ETIMEDOUT included), else freed. */
static int hand_out(int err, sc_tuples *copy, sc_tuples **out)
{
	if ((err == 0 || err == -ETIMEDOUT) && out)
		*out = copy;
	else
		sc_tuples_free(copy);
	return err;
}

/* An update's part under the lock: the caller's function, and the copy of what it gave. */
struct update {
	const char *kv;
	const sc_field *dflt;
	sc_kv_updater fn;
	void *arg;
	sc_tuples **out, *copy;
};

static int update_next(const sc_field *current, void *ctx, sc_field *next)
{
	struct update *u = ctx;
	int err = call_fn(u->kv, current ? current : u->dflt, u->fn, u->arg, next);

	return err ? err : copy_for_out(next, u->out, &u->copy);
}

/*
 * On this node, as the primary: under the lock, read the value (or take
 * dflt), call fn, write what it gave. A value already there keeps its time
 * to live.
 */
static int update_here(sc_cache *c, const struct sc_route *route, const char *kv, const sc_field *dflt,
		       sc_kv_updater fn, void *arg, sc_tuples **out)
{
	struct update u = { kv, dflt, fn, arg, out, NULL };
	const int err = sc_kv_rewrite(c, route, update_next, &u); /* before u.copy is read: it sets it */

	return hand_out(err, u.copy, out);
}

/* A compare-and-set's part under the lock: value, if the key still holds expected (NULL: still has none). */
struct replacement {
	const char *kv;
	const sc_field *expected;
	sc_field value;
};

static int replace_next(const sc_field *current, void *ctx, sc_field *next)
{
	const struct replacement *r = ctx;

	if ((current != NULL) != (r->expected != NULL) || (current && !sc_field_equal(current, r->expected)))
		return sc_fail(-ESTALE, "KeyValue \"%s\": the value changed since it was read", r->kv);
	*next = r->value;
	return 0;
}

int sc_kv_replace_if(sc_cache *c, const char *kv, sc_field key, const sc_field *expected, sc_field value)
{
	struct replacement r = { kv, expected, value };
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = sc_kv_route(c, kv, &key, &k, &kf, &route);

	if (!err)
		err = sc_field_check(&value, "value");
	if (!err)
		err = sc_kv_rewrite(c, &route, replace_next, &r);
	sc_entry_key_free(&k);
	return err;
}

/*
 * From a node that is not the partition's primary: read the value there,
 * call fn here, and have the primary write the result only if the value
 * is still the one read (sc_kv_replace_if()); again while another write
 * got in between.
 */
static int update_forwarded(sc_cache *c, const char *kv, sc_field key, const sc_field *dflt, sc_kv_updater fn,
			    void *arg, sc_tuples **out)
{
	const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
	const uint32_t partition = sc_cluster_refused_partition();

	for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
		sc_tuples *seen = NULL, *copy = NULL;
		sc_field next;
		int found = sc_kv_get_with(c, kv, key, NULL, &primary, &seen), err;
		const sc_field *base = dflt;

		if (found == 1 && (!seen || seen->count != 1 || seen->tuples[0].nfields != 1))
			found = sc_fail(-EPROTO,
					"KeyValue \"%s\": the primary's read of the value is not one field",
					kv);
		else if (found == 1)
			base = &seen->tuples[0].fields[0];
		err = found < 0 ? found : call_fn(kv, base, fn, arg, &next);
		if (!err)
			err = copy_for_out(&next, out, &copy);
		if (!err) {
			const sc_field f[4] = { sc_str(kv), key, found == 1 ? *base : sc_int(0), next };

			err = sc_forward(c, SC_FWD_KV_REPLACE_IF, partition, found == 1, &(sc_tuple){ 4, f },
					 1);
		}
		err = hand_out(err < 0 ? err : 0, copy, out);
		sc_tuples_free(seen);
		if (err != -ESTALE)
			return err;
	}
	return sc_fail(-EBUSY,
		       "KeyValue \"%s\": the value changed on its primary each of %d times it was updated",
		       kv, CAS_ATTEMPTS);
}

static int do_kv_update_fn(sc_cache *c, const char *kv, sc_field key, sc_field dflt, sc_kv_updater fn,
			   void *arg, sc_tuples **out)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = sc_kv_route(c, kv, &key, &k, &kf, &route);

	if (out)
		*out = NULL;
	if (!err && !fn)
		err = sc_fail(-EINVAL, "sc_kv_update_fn: fn is NULL");
	if (!err)
		err = sc_field_check(&dflt, "default");
	if (!err) {
		sc_ryw_key_begin(c, route.key_hash);
		err = update_here(c, &route, kv, &dflt, fn, arg, out);
	}
	sc_entry_key_free(&k);
	if (err == -EREMOTE)
		err = update_forwarded(c, kv, key, &dflt, fn, arg, out);
	return (int)sc_ryw_key_end(err < 0 ? err : 0);
}

SC_EXPORT int sc_kv_update_fn(sc_cache *c, const char *kv, sc_field key, sc_field dflt, sc_kv_updater fn,
			      void *arg, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_KV_UPDATE_FN, do_kv_update_fn(c, kv, key, dflt, fn, arg, out));
}
