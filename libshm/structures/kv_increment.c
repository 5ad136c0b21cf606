/* kv_increment.c — sc_kv_increment: a KeyValue counter, read and written under its partition's lock. */
#include "forward/forward_client.h"
#include "mem/read_your_writes.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/kv.h"

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

/* An increment's part under the lock: the sum, and whether it was made (the value is then written, or the call failed). */
struct increment {
	const char *kv;
	const sc_field *dflt, *step;
	sc_field sum;
	bool summed;
};

static int sum_next(const sc_field *current, void *ctx, sc_field *next)
{
	struct increment *in = ctx;
	int err = add(in->kv, current ? current : in->dflt, in->step, next);

	in->sum = *next;
	in->summed = err == 0;
	return err;
}

/*
 * On this node, as the primary: the counter read, added to and written back
 * under the lock. *out gets the new value once it is written (-ETIMEDOUT
 * included: written here, not acknowledged in time; a lock held too long
 * sums nothing).
 */
static int increment_here(sc_cache *c, const struct sc_route *route, const char *kv, const sc_field *dflt,
			  const sc_field *step, sc_field *out)
{
	struct increment in = { kv, dflt, step, { 0 }, false };
	int err = sc_kv_rewrite(c, route, sum_next, &in);

	if (in.summed && (err == 0 || err == -ETIMEDOUT))
		*out = in.sum;
	return err;
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
