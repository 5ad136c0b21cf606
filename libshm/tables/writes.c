/* writes.c — storing tuples: sc_put, sc_put_batch and the partition-addressed puts. */
#include <stdlib.h>

#include "forward/forward_client.h"
#include "mem/read_your_writes.h"
#include "record/tuple_codec.h"
#include "shm/probes.h"
#include "record/record_deadline.h"
#include "write/batch_order.h"
#include "write/batch_write.h"
#include "write/record_store.h"

/*
 * Check t and route it: to the partition its partition_pos field picks, or
 * to *partition when the caller picks it (then t needs no partition field).
 */
static int prepare(sc_cache *c, const sc_tuple *t, const uint32_t *partition, struct sc_put_item *w)
{
	int err = sc_tuple_check_put(c, t, partition == NULL, &w->len);

	if (err)
		return err;
	w->tuple = t;
	w->deadline = 0;
	if (!partition) {
		sc_tuple_route(c, t, &w->route);
		return 0;
	}
	sc_route_key(c, &t->fields[c->seg.cfg.key_pos], &w->route);
	w->route.partition = *partition;
	return 0;
}

/*
 * inline: it is the whole of each public put. Left to itself, the compiler
 * stopped inlining it into sc_put once the probes were compiled in, and
 * that one call more made a put about 2% slower.
 */
static inline int put_one(sc_cache *c, const sc_tuple *t, const uint32_t *partition, uint64_t deadline)
{
	struct sc_put_item w;
	int err = prepare(c, t, partition, &w);

	if (err)
		return err;
	w.deadline = deadline;
	/* One key: its mark is the key's (the caller ends it, once a forwarded write came back too). */
	sc_ryw_key_begin(c, w.route.key_hash);
	return sc_put_locking(c, &w);
}

static int do_put(sc_cache *c, const sc_tuple *tuple)
{
	int err = sc_cache_check(c);

	err = err ? err : put_one(c, tuple, NULL, 0);
	return (int)sc_ryw_key_end(sc_forward_if_remote(err, c, SC_FWD_PUT, 0, tuple, 1));
}

SC_EXPORT int sc_put(sc_cache *c, const sc_tuple *tuple)
{
	return SC_TRACED(c, SC_OP_PUT, do_put(c, tuple));
}

static int do_put_ttl(sc_cache *c, const sc_tuple *tuple, uint64_t ttl_ms)
{
	uint64_t deadline = 0;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_deadline_after(ttl_ms, &deadline);
	err = err ? err : put_one(c, tuple, NULL, deadline);
	return (int)sc_ryw_key_end(sc_forward_if_remote(err, c, SC_FWD_PUT_TTL, ttl_ms, tuple, 1));
}

SC_EXPORT int sc_put_ttl(sc_cache *c, const sc_tuple *tuple, uint64_t ttl_ms)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_ttl(c, tuple, ttl_ms));
}

static int do_put_partition(sc_cache *c, const sc_tuple *tuple, sc_field partition_data)
{
	uint32_t partition;
	int err = sc_cache_check(c);

	if (!err)
		err = sc_field_check(&partition_data, "partition data");
	if (err)
		return err;
	partition = sc_partition_of(c, &partition_data);
	err = put_one(c, tuple, &partition, 0);
	if (err == -EREMOTE) {
		const sc_tuple both[2] = { *tuple, { 1, &partition_data } };

		err = sc_forward_if_remote(err, c, SC_FWD_PUT_PARTITION, 0, both, 2);
	}
	return (int)sc_ryw_key_end(err);
}

SC_EXPORT int sc_put_partition(sc_cache *c, const sc_tuple *tuple, sc_field partition_data)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_partition(c, tuple, partition_data));
}

static int do_put_partition_by_idx(sc_cache *c, const sc_tuple *tuple, uint32_t idx)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	err = sc_partition_idx_check(c, idx);
	err = err ? err : put_one(c, tuple, &idx, 0);
	return (int)sc_ryw_key_end(sc_forward_if_remote(err, c, SC_FWD_PUT_BY_IDX, idx, tuple, 1));
}

SC_EXPORT int sc_put_partition_by_idx(sc_cache *c, const sc_tuple *tuple, uint32_t idx)
{
	return SC_TRACED(c, SC_OP_PUT, do_put_partition_by_idx(c, tuple, idx));
}

/* All-or-nothing on this node, each partition's lock taken once (write/batch_write.h); part: each tuple's partition. */
static int put_batch_here(sc_cache *c, const sc_tuple *tuples, size_t n, uint32_t *part)
{
	struct sc_batch_order o = { NULL, NULL };
	struct sc_put_item *w = malloc(n * sizeof(*w));
	int err = 0;

	if (!w)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu tuples", n);
	for (size_t i = 0; i < n && !err; i++) {
		err = prepare(c, &tuples[i], NULL, &w[i]);
		if (err)
			sc_fail_item(err, "batch tuple", i);
		part[i] = w[i].route.partition;
	}
	if (!err)
		err = sc_batch_order_make(part, n, c->seg.cfg.num_partition, &o);
	if (!err)
		err = sc_batch_write(c, 0, w, n, &o);
	sc_batch_order_free(&o);
	free(w);
	return err;
}

/* A share of a batch split by primary (forward/forward_client.h): this node's. */
static int put_share_here(sc_cache *c, const sc_tuple *tuples, size_t n, void *unused)
{
	uint32_t *part = malloc(n * sizeof(*part));
	int err = part ? put_batch_here(c, tuples, n, part) : sc_fail(-ENOMEM, "out of memory for a batch");

	(void)unused;
	free(part);
	return err;
}

static int do_put_batch(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	uint32_t *part;
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (n == 0)
		return 0;
	sc_check_arg(tuples, -EINVAL, "batch of %zu tuples at a NULL pointer", n);
	part = malloc(n * sizeof(*part));
	if (!part)
		return sc_fail(-ENOMEM, "out of memory for a batch of %zu tuples", n);
	err = put_batch_here(c, tuples, n, part);
	/* Some partition's primary is another node: nothing was written; each primary takes its share. */
	if (err == -EREMOTE)
		err = sc_forward_split(c, SC_FWD_PUT_BATCH, NULL, tuples, part, n, put_share_here, NULL);
	free(part);
	return err;
}

SC_EXPORT int sc_put_batch(sc_cache *c, const sc_tuple *tuples, size_t n)
{
	return SC_TRACED(c, SC_OP_PUT_BATCH, do_put_batch(c, tuples, n));
}
