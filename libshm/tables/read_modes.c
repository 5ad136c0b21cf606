/* read_modes.c — reads of a distributed cache by mode: from this host's copy, or by the partition's primary. */
#include "forward/forward_client.h"
#include "mem/repl_log.h"
#include "record/tuple_codec.h"
#include "shm/cluster_map.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "write/partition.h"

/*
 * A primary read is answered where the partition's primary is, once that
 * node has confirmed from its map that it is the primary, lease unexpired
 * (the write fence's check). In async mode a write is acknowledged when it
 * is in the primary's copy, so the copy is the answer. In sync and strong
 * modes a write is in the primary's copy before the in-sync replicas have
 * it, and a read must not return it until they do (a read that returned a
 * write the next failover loses would be undone). So the read is made
 * under the partition's lock, where every write it can see has published
 * its log entries, and returns once the replicas acknowledged the log up
 * to there: a write in flight is returned only once it is acknowledged.
 */

static int get_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return sc_get(c, t, out);
}

static int get_by_key_partition_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return sc_get_by_key_partition(c, t->fields[0], t->fields[1], out);
}

static int get_by_idx_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return sc_get_partition_by_idx(c, t->fields[0], (uint32_t)t->fields[1].v.i, out);
}

/* The read forwarded to the primary of partition (a map index); what it found goes to *out (none for a count). */
static int read_forwarded(sc_cache *c, uint32_t call, uint32_t partition, const sc_tuple *t, sc_tuples **out)
{
	struct sc_fwd_values v;
	int err, n = sc_forward_values(c, SC_FWD_READ, partition, call, t, 1, &v);

	/* As many tuples as the count says; none found may come with a default. */
	if (n >= 0 && out && v.t.n != (uint32_t)n && !(n == 0 && v.t.n == 1))
		n = sc_fail(-EPROTO,
			    "cache \"%s\": the primary's answer to a read counts %d and carries %u tuples",
			    c->name, n, v.t.n);
	if (n >= 0 && out) {
		err = sc_results_of_tuples(v.t.tuples, v.t.n, out);
		if (err)
			n = err;
	}
	sc_fwd_values_free(&v);
	return n;
}

/*
 * Under the lock of p (partition in the map), whose primary this node is
 * under epoch: read, then wait for what the read saw to be acknowledged,
 * then confirm the node is still the primary under that epoch (the waits may have outlasted its
 * lease, and a new primary may have written since).
 */
static int read_acknowledged(sc_cache *c, struct sc_part *p, uint32_t partition, uint64_t epoch,
			     sc_read_here_fn here, const sc_tuple *t, sc_tuples **out)
{
	int err = sc_part_lock_within(c, p, SC_LOCK_WRITER_LIMIT_MS / 1000u);
	uint64_t lseq, still;
	int n;

	if (err)
		return err;
	n = here(c, t, out);
	lseq = sc_repl_log_at(c, sc_part_index(c, p))->last_lseq;
	sc_part_release(c, p);
	err = n < 0 ? 0 : sc_part_acked(c, p, lseq);
	if (!err && n >= 0) {
		err = sc_cluster_write_epoch(c, partition, &still);
		if (!err && still != epoch)
			err = sc_fail(-EAGAIN,
				      "cache \"%s\": partition %u changed hands during the read: try again",
				      c->name, partition);
		else if (err == -EREMOTE)
			err = sc_fail(-EAGAIN,
				      "cache \"%s\": partition %u's primary moved during the read: try again",
				      c->name, partition);
	}
	if (!err)
		return n;
	if (out) {
		sc_tuples_free(*out);
		*out = NULL;
	}
	return err;
}

int sc_read_by_primary(sc_cache *c, struct sc_part *p, uint32_t call, sc_read_here_fn here, const sc_tuple *t,
		       sc_tuples **out)
{
	uint32_t partition = sc_part_index(c, p) % c->seg.cfg.num_partition;
	uint64_t epoch;
	int err = sc_cluster_write_epoch(c, partition, &epoch);

	/* A read-only handle takes no lock: the coordinator's workers read for it. */
	if (err == -EREMOTE || (!err && c->read_only))
		return read_forwarded(c, call, partition, t, out);
	if (err)
		return err;
	if (!c->waits_acks)
		return here(c, t, out);
	return read_acknowledged(c, p, partition, epoch, here, t, out);
}

int sc_read_opts_check(sc_cache *c, const sc_read_opts *opts)
{
	if (opts) {
		sc_check_arg(opts->read_mode <= SC_READ_PRIMARY, -EINVAL,
			     "read_mode %u is neither SC_READ_LOCAL nor SC_READ_PRIMARY", opts->read_mode);
		sc_check_arg(opts->reserved == 0, -EINVAL, "sc_read_opts.reserved is not 0");
	}
	return sc_cache_check(c);
}

/* Check a keyed read's options and out, then route key (in the partition partition_data picks, or idx). */
static int begin_keyed(sc_cache *c, const sc_read_opts *opts, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	return sc_read_opts_check(c, opts);
}

static int do_get_with(sc_cache *c, const sc_tuple *data, const sc_read_opts *opts, sc_tuples **out)
{
	struct sc_route route;
	int err = begin_keyed(c, opts, out);

	if (err)
		return err;
	if (sc_read_is_local(c, opts))
		return sc_get(c, data, out);
	err = sc_tuple_check_route(c, data, &route);
	if (err)
		return err;
	return sc_read_by_primary(c, sc_part_at(c, route.partition), SC_FWD_READ_GET, get_here, data, out);
}

SC_EXPORT int sc_get_with(sc_cache *c, const sc_tuple *data, const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_with(c, data, opts, out));
}

static int do_get_by_key_partition_with(sc_cache *c, sc_field key, sc_field partition_data,
					const sc_read_opts *opts, sc_tuples **out)
{
	const sc_field f[2] = { key, partition_data };
	struct sc_route route;
	int err = begin_keyed(c, opts, out);

	if (err)
		return err;
	if (sc_read_is_local(c, opts))
		return sc_get_by_key_partition(c, key, partition_data, out);
	err = sc_route_key_in(c, &key, &partition_data, &route);
	if (err)
		return err;
	return sc_read_by_primary(c, sc_part_at(c, route.partition), SC_FWD_READ_GET_BY_KEY_PARTITION,
				  get_by_key_partition_here, &(sc_tuple){ 2, f }, out);
}

SC_EXPORT int sc_get_by_key_partition_with(sc_cache *c, sc_field key, sc_field partition_data,
					   const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_by_key_partition_with(c, key, partition_data, opts, out));
}

SC_EXPORT int sc_get_partition_with(sc_cache *c, sc_field key, sc_field partition_data,
				    const sc_read_opts *opts, sc_tuples **out)
{
	return sc_get_by_key_partition_with(c, key, partition_data, opts, out);
}

SC_EXPORT int sc_get_same_key_partition_with(sc_cache *c, sc_field key, const sc_read_opts *opts,
					     sc_tuples **out)
{
	return sc_get_by_key_partition_with(c, key, key, opts, out);
}

static int do_get_partition_by_idx_with(sc_cache *c, sc_field key, uint32_t idx, const sc_read_opts *opts,
					sc_tuples **out)
{
	const sc_field f[2] = { key, sc_int(idx) };
	struct sc_route route;
	int err = begin_keyed(c, opts, out);

	if (err)
		return err;
	if (sc_read_is_local(c, opts))
		return sc_get_partition_by_idx(c, key, idx, out);
	err = sc_route_key_at(c, &key, idx, &route);
	if (err)
		return err;
	return sc_read_by_primary(c, sc_part_at(c, route.partition), SC_FWD_READ_GET_BY_IDX, get_by_idx_here,
				  &(sc_tuple){ 2, f }, out);
}

SC_EXPORT int sc_get_partition_by_idx_with(sc_cache *c, sc_field key, uint32_t idx, const sc_read_opts *opts,
					   sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_partition_by_idx_with(c, key, idx, opts, out));
}
