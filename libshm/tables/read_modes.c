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

const sc_read_opts sc_by_primary = { .read_mode = SC_READ_PRIMARY };

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

/*
 * What a read answered by another node found: its count (or error) n and
 * its tuples t[0, count), into *out (out NULL: a count, no tuples).
 */
static int answer_results(sc_cache *c, int n, const sc_tuple *t, uint32_t count, sc_tuples **out)
{
	int err;

	/* As many tuples as the count says; none found may come with a default. */
	if (n >= 0 && out && count != (uint32_t)n && !(n == 0 && count == 1))
		return sc_fail(-EPROTO, "cache \"%s\": the answer to a read counts %d and carries %u tuples",
			       c->name, n, count);
	if (n >= 0 && out) {
		err = sc_results_of_tuples(t, count, out);
		if (err)
			return err;
	}
	return n;
}

/* The read forwarded to the primary of partition (a map index); what it found goes to *out (none for a count). */
static int read_forwarded(sc_cache *c, uint32_t call, uint32_t partition, const sc_tuple *t, sc_tuples **out)
{
	struct sc_fwd_values v;
	int n = sc_forward_values(c, SC_FWD_READ, partition, call, t, 1, &v);

	if (n >= 0)
		n = answer_results(c, n, v.t.tuples, v.t.n, out);
	sc_fwd_values_free(&v);
	return n;
}

/*
 * Run the read here, as the partition's primary or one of its replicas
 * answers it: what this node's copy holds is the answer, so the
 * read-your-writes check of the reads inside is off (it could only send
 * the read to the primary again, this node, and under a lock it holds).
 */
static int answer_here(sc_read_here_fn here, sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	const bool asking = sc_ryw_asking;
	int n;

	sc_ryw_asking = true;
	n = here(c, t, out);
	sc_ryw_asking = asking;
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
	const struct sc_repl_log *log;
	struct sc_logged at;
	uint64_t still;
	int n;

	if (err)
		return err;
	n = answer_here(here, c, t, out);
	log = sc_repl_log_at(c, sc_part_index(c, p));
	at = (struct sc_logged){ log->last_lseq, log->restarts };
	sc_part_release(c, p);
	err = n < 0 ? 0 : sc_part_acked(c, p, at);
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
		return answer_here(here, c, t, out);
	return read_acknowledged(c, p, partition, epoch, here, t, out);
}

/*
 * A quorum read. Each replica reads its copy under the partition's lock
 * and says where the copy stands: its log's last entry (epoch, lseq), and
 * how far it knows that log acknowledged. Logs agree entry for entry up to
 * where they diverge, and an entry of a newer epoch comes from a newer
 * primary, which holds every acknowledged entry before it: so the copy
 * whose last entry is newest among a majority holds every write
 * acknowledged in sync mode (each is on every in-sync replica, and the
 * in-sync set is a majority, which meets every other majority). That copy
 * may also hold writes not yet acknowledged, which the next failover could
 * undo: a read that returned one would be undone. Such an answer is taken
 * only when its replica knows its whole log acknowledged; else the primary
 * answers, as a primary read, which waits for the acknowledgement. So it
 * does, too, when the replicas disagree on the partition's epoch (the map
 * changing under the read: the majority may be of an older replica set).
 */
static bool newer(const struct sc_fwd_copy_position *a, const struct sc_fwd_copy_position *b)
{
	if (a->last_epoch != b->last_epoch)
		return a->last_epoch > b->last_epoch;
	if (a->last_lseq != b->last_lseq)
		return a->last_lseq > b->last_lseq;
	return a->committed_lseq > b->committed_lseq;
}

static int read_by_quorum(sc_cache *c, struct sc_part *p, uint32_t call, sc_read_here_fn here,
			  const sc_tuple *t, sc_tuples **out)
{
	uint32_t partition = sc_part_index(c, p) % c->seg.cfg.num_partition;
	struct sc_fwd_copy_position best = { 0 }, pos;
	const struct sc_fwd_reply *winner = NULL;
	struct sc_fwd_bundle b;
	bool agreed = true, settled;
	int n = sc_forward_bundle(c, partition, call, t, 1, &b);

	if (n)
		return n;
	for (uint32_t i = 0; i < b.n; i++) {
		const struct sc_fwd_reply *r = &b.replies[i];

		if (!r->has_values || r->values.n < 1 ||
		    sc_fwd_copy_position_of(&r->values.tuples[0], &pos)) {
			sc_fwd_bundle_free(&b);
			return sc_fail(
				-EPROTO,
				"cache \"%s\": a replica's answer to a quorum read of partition %u does "
				"not say where its copy stands",
				c->name, partition);
		}
		agreed &= !winner || pos.map_epoch == best.map_epoch;
		if (!winner || newer(&pos, &best)) {
			winner = r;
			best = pos;
		}
	}
	/* And it must hold this handle's own writes (read-your-writes: async mode acknowledges before any replica has them). */
	settled = agreed && (!c->waits_acks || best.committed_lseq >= best.last_lseq) &&
		  sc_ryw_covered(c, sc_part_index(c, p), best.last_epoch, best.last_lseq);
	if (settled)
		n = answer_results(c, winner->rc, winner->values.tuples + 1, winner->values.n - 1, out);
	sc_fwd_bundle_free(&b);
	if (settled)
		return n;
	SC_PROBE(quorum_unsettled, c->trace_id, partition, best.last_lseq, best.committed_lseq);
	return sc_read_by_primary(c, p, call, here, t, out);
}

/*
 * A quorum read this node answers for another's (sc_forward_serve runs it
 * with sc_fwd_copy_at set): from its own copy, under the partition's lock,
 * where the copy stands into *sc_fwd_copy_at.
 */
__thread struct sc_fwd_copy_position *sc_fwd_copy_at;

static int read_copy(sc_cache *c, struct sc_part *p, sc_read_here_fn here, const sc_tuple *t, sc_tuples **out)
{
	uint32_t idx = sc_part_index(c, p), partition = idx % c->seg.cfg.num_partition, count;
	const struct sc_repl_log *l = sc_repl_log_at(c, idx);
	struct sc_fwd_copy_position pos = { 0 };
	uint64_t acked;
	int err, n;

	if (!sc_fwd_copy_at)
		return sc_fail(-EINVAL, "a replica's part of a quorum read runs only as a forwarded request");
	if (!sc_cluster_copy_look(c, partition, &pos.map_epoch, &count))
		return sc_fail(-EAGAIN, "cache \"%s\": this node holds no copy of partition %u now", c->name,
			       partition);
	err = sc_part_lock_within(c, p, SC_LOCK_WRITER_LIMIT_MS / 1000u);
	if (err)
		return err;
	n = answer_here(here, c, t, out);
	pos.last_epoch = l->last_epoch;
	pos.last_lseq = l->last_lseq;
	acked = sc_acquire(&l->acked_lseq);
	sc_part_release(c, p);
	pos.committed_lseq = acked < pos.last_lseq ? acked : pos.last_lseq;
	*sc_fwd_copy_at = pos;
	return n;
}

int sc_read_by_mode(sc_cache *c, const sc_read_opts *opts, struct sc_part *p, uint32_t call,
		    sc_read_here_fn here, const sc_tuple *t, sc_tuples **out)
{
	if (opts->read_mode == SC_READ_PRIMARY)
		return sc_read_by_primary(c, p, call, here, t, out);
	/* A quorum read forwarded here is this node's part of another node's: it is not asked around again. */
	if (sc_fwd_serving)
		return read_copy(c, p, here, t, out);
	return read_by_quorum(c, p, call, here, t, out);
}

int sc_read_opts_check(sc_cache *c, const sc_read_opts *opts)
{
	if (opts) {
		sc_check_arg(opts->read_mode <= SC_READ_QUORUM, -EINVAL,
			     "read_mode %u is none of SC_READ_LOCAL, SC_READ_PRIMARY and SC_READ_QUORUM",
			     opts->read_mode);
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
	return sc_read_by_mode(c, opts, sc_part_at(c, route.partition), SC_FWD_READ_GET, get_here, data, out);
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
	return sc_read_by_mode(c, opts, sc_part_at(c, route.partition), SC_FWD_READ_GET_BY_KEY_PARTITION,
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
	return sc_read_by_mode(c, opts, sc_part_at(c, route.partition), SC_FWD_READ_GET_BY_IDX,
			       get_by_idx_here, &(sc_tuple){ 2, f }, out);
}

SC_EXPORT int sc_get_partition_by_idx_with(sc_cache *c, sc_field key, uint32_t idx, const sc_read_opts *opts,
					   sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_GET, do_get_partition_by_idx_with(c, key, idx, opts, out));
}
