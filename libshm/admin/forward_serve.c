/* forward_serve.c — running a write another node forwarded to this one, as its partition's primary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "forward/forward_client.h"
#include "forward/forward_codec.h"
#include "mem/read_your_writes.h"
#include "shm/error.h"
#include "structures/kv.h"
#include "structures/struct_store.h"
#include "tables/deletes.h"
#include "tables/read_every.h"
#include "tables/read_modes.h"

/* The fields of the tuple each read takes (SC_FWD_READ's arg), and whether the first is a name. */
static const struct {
	uint8_t min, max;
	bool named;
} read_shapes[SC_FWD_READ_MAX + 1] = {
	[SC_FWD_READ_GET] = { 1, UINT8_MAX, false }, /* a key tuple of any shape: the call checks it */
	[SC_FWD_READ_GET_BY_KEY_PARTITION] = { 2, 2, false },
	[SC_FWD_READ_GET_BY_IDX] = { 2, 2, false },
	[SC_FWD_READ_KV_GET] = { 2, 3, true },
	[SC_FWD_READ_QUEUE_PEEK] = { 1, 2, true },
	[SC_FWD_READ_QUEUE_COUNT] = { 1, 1, true },
	[SC_FWD_READ_STACK_COUNT] = { 1, 1, true },
	[SC_FWD_READ_STRUCT_TYPE] = { 1, 1, true },
	/* The calls check the index, shape, pattern and names of these: */
	[SC_FWD_READ_MATCH_PART] = { 2, UINT8_MAX, false },
	[SC_FWD_READ_KV_PART] = { 2, 2, false },
	[SC_FWD_READ_STRUCT_PART] = { 3, 3, false },
	[SC_FWD_READ_STRUCT_GET] = { 4, 4, true },
	[SC_FWD_READ_KV_GET_ALL] = { 2, 2, true },
};

/* A name (KeyValue namespace, struct type, queue, stack) travels as bytes; the call takes a C string. */
static bool is_name(const sc_field *f)
{
	return f->type == SC_FIELD_BYTES && !memchr(f->v.p, 0, f->len);
}

/* A forwarded read's call and tuple. */
static int read_shape_check(const struct sc_fwd_request *r)
{
	const sc_tuple *t = r->tuples;

	if (r->arg > SC_FWD_READ_MAX)
		return sc_fail(-EPROTO, "a forwarded read names read %llu (0 to %u are known)",
			       (unsigned long long)r->arg, SC_FWD_READ_MAX);
	if (r->ntuples != 1 || t[0].nfields < read_shapes[r->arg].min ||
	    t[0].nfields > read_shapes[r->arg].max ||
	    (r->arg == SC_FWD_READ_GET_BY_IDX && t[0].fields[1].type != SC_FIELD_INT))
		return sc_fail(-EPROTO, "a forwarded read %llu has %u tuples of a shape it does not take",
			       (unsigned long long)r->arg, r->ntuples);
	if (read_shapes[r->arg].named && !is_name(&t[0].fields[0]))
		return sc_fail(-EPROTO, "a forwarded call's name is not a string");
	return 0;
}

/* The tuple count and field counts each call takes (a request with others does not decode as that call), and its partition index. */
static int shape_check(const sc_cache *c, const struct sc_fwd_request *r)
{
	const sc_tuple *t = r->tuples;
	bool ok;

	switch (r->op) {
	case SC_FWD_PUT_PARTITION:
		ok = r->ntuples == 2 && t[1].nfields == 1;
		break;
	case SC_FWD_PUT_BATCH:
		ok = true;
		break;
	case SC_FWD_KV_ADD_BATCH:
	case SC_FWD_KV_REMOVE_BATCH:
		ok = r->ntuples >= 1 && t[0].nfields == 1;
		for (uint32_t i = 1; ok && i < r->ntuples; i++)
			ok = t[i].nfields == (r->op == SC_FWD_KV_ADD_BATCH ? 2u : 1u);
		break;
	case SC_FWD_DELETE_PARTITION:
		ok = r->ntuples == 1 && (t[0].nfields == 1 || t[0].nfields == 2);
		break;
	case SC_FWD_DELETE_BY_IDX:
		ok = r->ntuples == 1 && t[0].nfields == 1;
		break;
	case SC_FWD_KV_ADD:
	case SC_FWD_KV_ADD_TTL:
	case SC_FWD_KV_REPLACE:
		ok = r->ntuples == 1 && t[0].nfields == 3;
		break;
	case SC_FWD_KV_REMOVE:
	case SC_FWD_KV_TOUCH:
		ok = r->ntuples == 1 && t[0].nfields == 2;
		break;
	case SC_FWD_CLEAR_PART:
	case SC_FWD_CLEAR_STRUCTURES_PART:
		ok = r->ntuples == 0;
		break;
	case SC_FWD_KV_REMOVE_ALL_PART:
	case SC_FWD_STRUCT_REMOVE_ALL_PART:
		ok = r->ntuples == 1 && t[0].nfields == 1;
		break;
	case SC_FWD_STRUCT_INIT:
		ok = r->ntuples == 1 && t[0].nfields == 4;
		for (uint32_t i = 1; ok && i < 4; i++)
			ok = t[0].fields[i].type == SC_FIELD_INT && t[0].fields[i].v.i >= 0;
		break;
	case SC_FWD_STRUCT_ADD:
	case SC_FWD_STRUCT_REMOVE:
		ok = r->ntuples == 1 && t[0].nfields == 4 && t[0].fields[1].type == SC_FIELD_BYTES &&
		     t[0].fields[2].type == SC_FIELD_INT && t[0].fields[2].v.i >= 0 &&
		     t[0].fields[3].type == SC_FIELD_INT && t[0].fields[3].v.i >= 0;
		break;
	case SC_FWD_QUEUE_ADD:
	case SC_FWD_STACK_PUSH:
		ok = r->ntuples == 1 && t[0].nfields == 2;
		break;
	case SC_FWD_QUEUE_OUT:
	case SC_FWD_STACK_POP:
		ok = r->ntuples == 1 && (t[0].nfields == 1 || t[0].nfields == 2);
		break;
	case SC_FWD_QUEUE_GET_ALL:
	case SC_FWD_STACK_GET_ALL:
		ok = r->ntuples == 1 && t[0].nfields == 1;
		break;
	case SC_FWD_KV_INCREMENT:
		ok = r->ntuples == 1 && t[0].nfields == 4;
		break;
	case SC_FWD_KV_REPLACE_IF:
		ok = r->ntuples == 1 && t[0].nfields == 4 && r->arg <= 1;
		break;
	case SC_FWD_READ:
		return read_shape_check(r);
	case SC_FWD_READ_COPY: /* a struct type's geometry is its primary's to say */
		if (r->arg == SC_FWD_READ_STRUCT_TYPE)
			return sc_fail(-EPROTO, "a replica's part of a quorum read asks for a struct type");
		return read_shape_check(r);
	default: /* a tuple of any shape: the call itself checks it */
		ok = r->ntuples == 1;
	}
	if (!ok)
		return sc_fail(-EPROTO,
			       "a forwarded request for call %u has %u tuples of a shape it does not take",
			       r->op, r->ntuples);
	if (sc_fwd_op_named(r->op) && !is_name(&t[0].fields[0]))
		return sc_fail(-EPROTO, "a forwarded call's name is not a string");
	/* A call over one partition carries its index in arg: checked here, where it comes in, alone. */
	if (((r->op >= SC_FWD_CLEAR_PART && r->op <= SC_FWD_STRUCT_REMOVE_ALL_PART) ||
	     r->op == SC_FWD_CLEAR_STRUCTURES_PART) &&
	    r->arg >= c->seg.cfg.num_partition)
		return sc_fail(-ERANGE,
			       "a forwarded request names partition index %llu (cache \"%s\" has %u)",
			       (unsigned long long)r->arg, c->name, c->seg.cfg.num_partition);
	return 0;
}

/* A KeyValue batch's items (tuples 1 on: (key, value) or (key)) as the call takes them. */
static int kv_batch(sc_cache *c, const struct sc_fwd_request *r, const char *kv)
{
	const size_t n = r->ntuples - 1;
	sc_kv_pair *pairs = malloc((n ? n : 1) * sizeof(*pairs));
	sc_field *keys = malloc((n ? n : 1) * sizeof(*keys));
	int rc;

	if (!pairs || !keys) {
		rc = sc_fail(-ENOMEM, "out of memory for a forwarded batch of %zu", n);
	} else {
		for (size_t i = 0; i < n; i++) {
			keys[i] = r->tuples[1 + i].fields[0];
			pairs[i] = (sc_kv_pair){ keys[i], r->op == SC_FWD_KV_ADD_BATCH
								  ? r->tuples[1 + i].fields[1]
								  : keys[i] };
		}
		rc = r->op == SC_FWD_KV_ADD_BATCH ? sc_kv_add_batch(c, kv, pairs, n)
						  : sc_kv_remove_batch(c, kv, keys, n);
	}
	free(pairs);
	free(keys);
	return rc;
}

/* A queue's or stack's take, its values into *values. */
static int take(sc_cache *c, const struct sc_fwd_request *r, const char *name, sc_tuples **values)
{
	const sc_field *dflt = r->tuples[0].nfields == 2 ? &r->tuples[0].fields[1] : NULL;

	switch (r->op) {
	case SC_FWD_QUEUE_OUT:
		return sc_queue_out(c, name, dflt, values);
	case SC_FWD_STACK_POP:
		return sc_stack_pop(c, name, dflt, values);
	case SC_FWD_QUEUE_GET_ALL:
		return sc_queue_get_all(c, name, values);
	default:
		return sc_stack_get_all(c, name, values);
	}
}

/* An increment for another node: the new value is the reply's one value, also with -ETIMEDOUT if it was written. */
static int increment(sc_cache *c, const char *name, const sc_field *f, sc_tuples **values)
{
	sc_field sum = { .type = 0 };
	int rc = sc_kv_increment(c, name, f[1], f[2], f[3], &sum), err;

	if (sum.type == 0)
		return rc;
	err = sc_results_of_tuples(&(sc_tuple){ 1, &sum }, 1, values);
	return err ? sc_fail(err, "out of memory for the answer to an increment of \"%s\" (it was written)",
			     name)
		   : rc;
}

/*
 * A read by this node as the partition's primary (SC_FWD_READ), or as one
 * of its replicas (SC_FWD_READ_COPY), what it found into *values.
 */
static int read_call(sc_cache *c, const struct sc_fwd_request *r, sc_tuples **values)
{
	const sc_read_opts primary = { .read_mode = r->op == SC_FWD_READ ? SC_READ_PRIMARY : SC_READ_QUORUM };
	const sc_field *f = r->tuples[0].fields;
	const uint32_t n = r->tuples[0].nfields;
	char *name = NULL;
	int rc;

	if (read_shapes[r->arg].named && !(name = strndup(f[0].v.p, f[0].len)))
		return sc_fail(-ENOMEM, "out of memory for a forwarded read's name");
	switch (r->arg) {
	case SC_FWD_READ_GET:
		rc = sc_get_with(c, &r->tuples[0], &primary, values);
		break;
	case SC_FWD_READ_GET_BY_KEY_PARTITION:
		rc = sc_get_by_key_partition_with(c, f[0], f[1], &primary, values);
		break;
	case SC_FWD_READ_GET_BY_IDX:
		rc = f[1].v.i < 0 || f[1].v.i > UINT32_MAX
			     ? sc_fail(-ERANGE, "partition index %lld", (long long)f[1].v.i)
			     : sc_get_partition_by_idx_with(c, f[0], (uint32_t)f[1].v.i, &primary, values);
		break;
	case SC_FWD_READ_KV_GET:
		rc = sc_kv_get_with(c, name, f[1], n == 3 ? &f[2] : NULL, &primary, values);
		break;
	case SC_FWD_READ_KV_GET_ALL:
		rc = sc_kv_get_all_with(c, name, f[1], &primary, values);
		break;
	case SC_FWD_READ_QUEUE_PEEK:
		rc = sc_queue_peek_with(c, name, n == 2 ? &f[1] : NULL, &primary, values);
		break;
	case SC_FWD_READ_QUEUE_COUNT:
		rc = sc_queue_count_with(c, name, &primary);
		break;
	case SC_FWD_READ_STRUCT_TYPE:
		rc = sc_struct_type_read(c, name, &primary, values);
		break;
	case SC_FWD_READ_MATCH_PART:
		rc = sc_match_part_with(c, &primary, &r->tuples[0], values);
		break;
	case SC_FWD_READ_KV_PART:
		rc = is_name(&f[1]) ? sc_kv_list_part_with(c, &primary, &r->tuples[0], values)
				    : sc_fail(-EPROTO, "a forwarded call's name is not a string");
		break;
	case SC_FWD_READ_STRUCT_PART:
		rc = is_name(&f[1]) ? sc_struct_list_part_with(c, &primary, &r->tuples[0], values)
				    : sc_fail(-EPROTO, "a forwarded call's name is not a string");
		break;
	case SC_FWD_READ_STRUCT_GET:
		rc = f[1].type == SC_FIELD_BYTES && f[2].type == SC_FIELD_INT && f[3].type == SC_FIELD_INT &&
				     f[2].v.i >= 0 && f[3].v.i > 0
			     ? sc_struct_get_read(c, &primary, &r->tuples[0], values)
			     : sc_fail(-EPROTO,
				       "a forwarded struct read is not (type, struct, key_offset, key_size)");
		break;
	default:
		rc = sc_stack_count_with(c, name, &primary);
	}
	free(name);
	return rc;
}

/* Run the call r names; a take's or a read's values go to *values. */
static int run(sc_cache *c, const struct sc_fwd_request *r, sc_tuples **values)
{
	const sc_tuple *t = r->tuples;
	const sc_field *f = t[0].fields;
	char *name = NULL; /* a KeyValue namespace or struct type, as a C string */
	int rc;

	if (sc_fwd_op_named(r->op)) {
		name = strndup(f[0].v.p, f[0].len);
		if (!name)
			return sc_fail(-ENOMEM, "out of memory for a forwarded call's name");
	}
	switch (r->op) {
	case SC_FWD_PUT:
		rc = sc_put(c, &t[0]);
		break;
	case SC_FWD_PUT_TTL:
		rc = sc_put_ttl(c, &t[0], r->arg);
		break;
	case SC_FWD_PUT_PARTITION:
		rc = sc_put_partition(c, &t[0], t[1].fields[0]);
		break;
	case SC_FWD_PUT_BY_IDX:
		rc = r->arg > UINT32_MAX
			     ? sc_fail(-ERANGE, "partition index %llu", (unsigned long long)r->arg)
			     : sc_put_partition_by_idx(c, &t[0], (uint32_t)r->arg);
		break;
	case SC_FWD_PUT_BATCH:
		rc = sc_put_batch(c, t, r->ntuples);
		break;
	case SC_FWD_DELETE:
		rc = sc_delete(c, &t[0]);
		break;
	case SC_FWD_DELETE_PARTITION:
		rc = t[0].nfields == 2 ? sc_delete_by_key_partition(c, f[0], f[1])
				       : sc_delete_same_key_partition(c, f[0]);
		break;
	case SC_FWD_DELETE_BY_IDX:
		rc = r->arg > UINT32_MAX
			     ? sc_fail(-ERANGE, "partition index %llu", (unsigned long long)r->arg)
			     : sc_delete_partition_by_idx(c, f[0], (uint32_t)r->arg);
		break;
	case SC_FWD_TOUCH:
		rc = sc_touch(c, &t[0], r->arg);
		break;
	case SC_FWD_KV_ADD:
		rc = sc_kv_add(c, name, f[1], f[2]);
		break;
	case SC_FWD_KV_ADD_TTL:
		rc = sc_kv_add_ttl(c, name, f[1], f[2], r->arg);
		break;
	case SC_FWD_KV_REPLACE:
		rc = sc_kv_replace(c, name, f[1], f[2]);
		break;
	case SC_FWD_KV_REMOVE:
		rc = sc_kv_remove(c, name, f[1]);
		break;
	case SC_FWD_KV_TOUCH:
		rc = sc_kv_touch(c, name, f[1], r->arg);
		break;
	case SC_FWD_KV_ADD_BATCH:
	case SC_FWD_KV_REMOVE_BATCH:
		rc = kv_batch(c, r, name);
		break;
	case SC_FWD_CLEAR_PART:
	case SC_FWD_CLEAR_STRUCTURES_PART:
		rc = sc_clear_part(c, (uint32_t)r->arg, r->op == SC_FWD_CLEAR_STRUCTURES_PART);
		break;
	case SC_FWD_DELETE_MATCH_PART:
		rc = sc_delete_by_match_part(c, &t[0], (uint32_t)r->arg);
		break;
	case SC_FWD_KV_REMOVE_ALL_PART:
		rc = sc_kv_remove_all_part(c, name, (uint32_t)r->arg);
		break;
	case SC_FWD_STRUCT_REMOVE_ALL_PART:
		rc = sc_struct_remove_all_part(c, name, (uint32_t)r->arg);
		break;
	case SC_FWD_STRUCT_INIT:
		rc = sc_struct_init(c, name, (size_t)f[1].v.i, (size_t)f[2].v.i, (size_t)f[3].v.i);
		break;
	case SC_FWD_STRUCT_ADD:
	case SC_FWD_STRUCT_REMOVE:
		rc = sc_struct_write_given(c, name, f[1].v.p, f[1].len, (uint64_t)f[2].v.i,
					   (uint64_t)f[3].v.i, r->op == SC_FWD_STRUCT_ADD);
		break;
	case SC_FWD_QUEUE_ADD:
		rc = sc_queue_add(c, name, f[1]);
		break;
	case SC_FWD_STACK_PUSH:
		rc = sc_stack_push(c, name, f[1]);
		break;
	case SC_FWD_QUEUE_OUT:
	case SC_FWD_STACK_POP:
	case SC_FWD_QUEUE_GET_ALL:
	case SC_FWD_STACK_GET_ALL:
		rc = take(c, r, name, values);
		break;
	case SC_FWD_KV_INCREMENT:
		rc = increment(c, name, f, values);
		break;
	case SC_FWD_KV_REPLACE_IF:
		rc = sc_kv_replace_if(c, name, f[1], r->arg ? &f[2] : NULL, f[3]);
		break;
	case SC_FWD_READ:
	case SC_FWD_READ_COPY:
		rc = read_call(c, r, values);
		break;
	default:
		rc = sc_fail(-EPROTO, "call %u", r->op); /* shape_check() let it through: not reached */
	}
	free(name);
	return rc;
}

/*
 * The reply to r: rc, where the call wrote, and the values of a call that
 * answers with some; a replica's part of a quorum read puts where its copy
 * stood first.
 */
static int reply_of(const struct sc_fwd_request *r, int rc, const struct sc_ryw_written *w,
		    const sc_tuples *values, const struct sc_fwd_copy_position *pos, void **reply,
		    size_t *reply_len)
{
	static const sc_tuple none[1];
	sc_field pos_fields[SC_FWD_COPY_POSITION_FIELDS];
	const size_t count = values ? values->count : 0;
	sc_tuple *with_pos;
	int err;

	if (rc >= 0 && r->op == SC_FWD_READ_COPY) {
		with_pos = malloc((count + 1) * sizeof(*with_pos));
		if (!with_pos)
			return sc_fwd_reply_encode(
				sc_fail(-ENOMEM, "out of memory for a quorum read's answer"), sc_last_error(),
				NULL, 0, reply, reply_len);
		with_pos[0] = sc_fwd_copy_position_tuple(pos, pos_fields);
		if (count)
			memcpy(with_pos + 1, values->tuples, count * sizeof(*with_pos));
		err = sc_fwd_reply_encode(rc, NULL, with_pos, count + 1, reply, reply_len);
		free(with_pos);
		return err;
	}
	/*
	 * A take that failed after it took (-ETIMEDOUT: not acknowledged in
	 * time) still sends what it took: the caller gets the error and the values.
	 */
	return sc_fwd_reply_encode_written(rc, rc < 0 ? sc_last_error() : NULL, w->at, w->n,
					   !sc_fwd_op_answers_values(r->op) ? NULL
					   : values			    ? values->tuples
									    : none,
					   count, reply, reply_len);
}

SC_EXPORT int sc_forward_serve(sc_cache *c, const void *req, size_t len, void **reply, size_t *reply_len)
{
	struct sc_fwd_copy_position pos = { 0 };
	struct sc_ryw_written written = { 0 };
	struct sc_fwd_request r;
	sc_tuples *values = NULL;
	int rc;

	sc_check_arg(c && reply && reply_len && (req || !len), -EINVAL, "a NULL argument");
	sc_clear_error();
	rc = sc_fwd_request_decode(req, len, &r);
	if (!rc)
		rc = shape_check(c, &r);
	if (!rc) {
		/* This thread's writes stop here: one the map sends elsewhere is -EAGAIN, not forwarded again. */
		sc_fwd_serving = true;
		sc_fwd_copy_at = r.op == SC_FWD_READ_COPY ? &pos : NULL;
		sc_ryw_serving = &written;
		rc = run(c, &r, &values);
		sc_ryw_serving = NULL;
		sc_fwd_copy_at = NULL;
		sc_fwd_serving = false;
		/* A write whose place went unnoted could not be read back by its writer: say it failed to say. */
		if (written.err && rc >= 0)
			rc = sc_fail(-ENOMEM,
				     "out of memory noting where a forwarded call wrote (it did write)");
	} else {
		r.op = 0; /* answered with no values */
	}
	rc = reply_of(&r, rc, &written, values, &pos, reply, reply_len);
	free(written.at);
	sc_fwd_request_free(&r);
	sc_tuples_free(values);
	return rc;
}

SC_EXPORT int sc_forward_reply(int rc, const char *msg, void **reply, size_t *reply_len)
{
	sc_check_arg(rc < 0 && reply && reply_len, -EINVAL,
		     "a forwarded reply of the coordinator's is an error");
	return sc_fwd_reply_encode(rc, msg, NULL, 0, reply, reply_len);
}
