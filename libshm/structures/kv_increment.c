/* kv_increment.c — sc_kv_increment: a KeyValue counter, read and written under its partition's lock. */
#include "forward/forward_client.h"
#include "mem/read_your_writes.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/kv.h"
#include "write/partition.h"

static const char *number_type(const sc_field *f)
{
	switch (f->type) {
	case SC_FIELD_INT:
		return "an int64";
	case SC_FIELD_DOUBLE:
		return "a double";
	case SC_FIELD_BYTES:
		return "bytes";
	default:
		return "a pattern field";
	}
}

/* base + step into *out, both of step's type: -EINVAL naming the types, -ERANGE past int64. */
static int add(const char *kv, const sc_field *base, const sc_field *step, sc_field *out)
{
	int64_t sum;

	if (base->type != step->type)
		return sc_fail(-EINVAL,
			       "KeyValue \"%s\": the value is %s, the step %s: a counter adds like to like",
			       kv, number_type(base), number_type(step));
	if (step->type == SC_FIELD_DOUBLE) {
		*out = sc_dbl(base->v.d + step->v.d);
		return 0;
	}
	if (__builtin_add_overflow(base->v.i, step->v.i, &sum))
		return sc_fail(-ERANGE, "KeyValue \"%s\": %lld + %lld does not fit an int64", kv,
			       (long long)base->v.i, (long long)step->v.i);
	*out = sc_int(sum);
	return 0;
}

/*
 * On this node, as the primary: the counter read, added to and written back
 * under the lock. *out gets the new value once it is written (-ETIMEDOUT
 * included: written here, not acknowledged in time).
 */
static int increment_here(sc_cache *c, const struct sc_route *route, const char *kv, const sc_field *dflt,
			  const sc_field *step, sc_field *out)
{
	struct sc_part *p = sc_part_at(c, route->partition);
	struct sc_kv_current k = { *dflt, 0 };
	sc_field sum;
	int found, err = sc_part_lock(c, p);

	if (err)
		return err;
	found = sc_entry_read(c, route, sc_kv_read_current, &k);
	err = found < 0 ? found : add(kv, &k.value, step, &sum);
	if (!err)
		err = sc_entry_put(c, p, route, &sum, k.deadline);
	if (!err)
		*out = sum;
	/* A write that did not happen logs nothing: the unlock waits for acks only after a written one. */
	return (int)sc_write_result(err, sc_part_unlock_write(c, p));
}

/*
 * On the partition's primary, through the coordinators: the new value comes
 * back as the call's one value, also with -ETIMEDOUT (written there, not
 * acknowledged in time).
 */
static int increment_forwarded(sc_cache *c, const char *kv, sc_field key, sc_field dflt, sc_field step,
			       sc_field *out)
{
	const sc_field f[4] = { sc_str(kv), key, dflt, step };
	struct sc_fwd_values v;
	int rc = sc_forward_values(c, SC_FWD_KV_INCREMENT, sc_cluster_refused_partition(), 0,
				   &(sc_tuple){ 4, f }, 1, &v);

	/* A refusal comes with no values; a success, and a write not acknowledged in time, with the sum. */
	const uint32_t n = v.held ? v.t.n : 0;

	if (n && (n != 1 || v.t.tuples[0].nfields != 1 || v.t.tuples[0].fields[0].type != step.type))
		rc = sc_fail(-EPROTO,
			     "cache \"%s\": the primary's answer to an increment of \"%s\" is not one %s",
			     c->name, kv, number_type(&step));
	else if (n)
		*out = v.t.tuples[0].fields[0];
	else if (rc >= 0)
		rc = sc_fail(-EPROTO,
			     "cache \"%s\": the primary's answer to an increment of \"%s\" has no value",
			     c->name, kv);
	sc_fwd_values_free(&v);
	return rc;
}

static int do_kv_increment(sc_cache *c, const char *kv, sc_field key, sc_field dflt, sc_field step,
			   sc_field *out)
{
	struct sc_entry_key k;
	struct sc_route route;
	sc_field kf;
	int err = sc_kv_route(c, kv, &key, &k, &kf, &route);

	if (!err && !out)
		err = sc_fail(-EINVAL, "sc_kv_increment: out is NULL");
	if (!err && step.type != SC_FIELD_INT && step.type != SC_FIELD_DOUBLE)
		err = sc_fail(-EINVAL, "KeyValue \"%s\": the step is %s, not an int64 or a double", kv,
			      number_type(&step));
	if (!err && dflt.type != step.type)
		err = sc_fail(-EINVAL,
			      "KeyValue \"%s\": the default is %s, the step %s: a counter adds like to like",
			      kv, number_type(&dflt), number_type(&step));
	if (!err && (c->seg.cfg.table_type == SC_BAG || c->seg.cfg.table_type == SC_DUPLICATE_BAG))
		err = sc_fail(-EINVAL,
			      "cache \"%s\": sc_kv_increment is not supported for bag/duplicate_bag caches",
			      c->name);
	if (!err) {
		sc_ryw_key_begin(c, route.key_hash);
		err = increment_here(c, &route, kv, &dflt, &step, out);
	}
	sc_entry_key_free(&k);
	if (err == -EREMOTE)
		err = increment_forwarded(c, kv, key, dflt, step, out);
	return (int)sc_ryw_key_end(err < 0 ? err : 0);
}

SC_EXPORT int sc_kv_increment(sc_cache *c, const char *kv, sc_field key, sc_field dflt, sc_field step,
			      sc_field *out)
{
	return SC_TRACED(c, SC_OP_KV_INCREMENT, do_kv_increment(c, kv, key, dflt, step, out));
}
