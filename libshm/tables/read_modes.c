/* read_modes.c — reads of a distributed cache by mode: from this host's copy, or by the partition's primary. */
#include <string.h>

#include "forward/forward_client.h"
#include "mem/repl_log.h"
#include "record/tuple_codec.h"
#include "shm/cluster_map.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"
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

/* What a read does on the node that answers it: fills *out, returns a count or a negative errno. */
typedef int (*read_here_fn)(sc_cache *c, const sc_tuple *t, sc_tuples **out);

static int get_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return sc_get(c, t, out);
}

/* The read forwarded as op to the primary of partition (a map index); what it found goes to *out. */
static int read_forwarded(sc_cache *c, uint16_t op, uint32_t partition, const sc_tuple *t, sc_tuples **out)
{
	struct sc_fwd_values v;
	int err, n = sc_forward_values(c, op, partition, 0, t, 1, &v);

	if (n >= 0) {
		err = sc_results_of_tuples(v.t.tuples, v.t.n, out);
		if (err)
			n = err;
	}
	sc_fwd_values_free(&v);
	return n;
}

/* Under the lock of p, whose primary this node is: read, then wait for what the read saw to be acknowledged. */
static int read_acknowledged(sc_cache *c, struct sc_part *p, read_here_fn here, const sc_tuple *t,
			     sc_tuples **out)
{
	int err = sc_part_lock_within(c, p, SC_LOCK_WRITER_LIMIT_MS / 1000u);
	uint64_t lseq;
	int n;

	if (err)
		return err;
	n = here(c, t, out);
	lseq = sc_repl_log_at(c, sc_part_index(c, p))->last_lseq;
	sc_part_release(c, p);
	err = n < 0 ? 0 : sc_part_acked(c, p, lseq);
	if (!err)
		return n;
	sc_tuples_free(*out);
	*out = NULL;
	return err;
}

/*
 * A read of partition p by its primary (SC_READ_PRIMARY): here, when this
 * node is the primary and this handle may take the partition's lock; else
 * through the local coordinator, whose workers run it on the primary.
 */
static int read_by_primary(sc_cache *c, struct sc_part *p, uint16_t op, read_here_fn here, const sc_tuple *t,
			   sc_tuples **out)
{
	uint32_t partition = sc_part_index(c, p) % c->seg.cfg.num_partition;
	uint64_t epoch;
	int err = sc_cluster_write_epoch(c, partition, &epoch);

	/* A read-only handle takes no lock: the coordinator's workers read for it. */
	if (err == -EREMOTE || (!err && c->read_only))
		return read_forwarded(c, op, partition, t, out);
	if (err)
		return err;
	if (!c->waits_acks)
		return here(c, t, out);
	return read_acknowledged(c, p, here, t, out);
}

/* Check what every read with a mode is given: 0, or -EINVAL (or the handle's error). */
static int check_read(sc_cache *c, const sc_read_opts *opts, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	if (opts) {
		sc_check_arg(opts->read_mode <= SC_READ_PRIMARY, -EINVAL,
			     "read_mode %u is neither SC_READ_LOCAL nor SC_READ_PRIMARY", opts->read_mode);
		sc_check_arg(opts->reserved == 0, -EINVAL, "sc_read_opts.reserved is not 0");
	}
	return sc_cache_check(c);
}

static int do_get_with(sc_cache *c, const sc_tuple *data, const sc_read_opts *opts, sc_tuples **out)
{
	struct sc_route route;
	int err = check_read(c, opts, out);

	if (err)
		return err;
	if (!opts || opts->read_mode == SC_READ_LOCAL || c->seg.cfg.cluster == SC_CLUSTER_LOCAL)
		return sc_get(c, data, out);
	err = sc_tuple_check_route(c, data, &route);
	if (err)
		return err;
	return read_by_primary(c, sc_part_at(c, route.partition), SC_FWD_GET, get_here, data, out);
}

SC_EXPORT int sc_get_with(sc_cache *c, const sc_tuple *data, const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_with(c, data, opts, out));
}
