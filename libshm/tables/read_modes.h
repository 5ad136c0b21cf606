/* read_modes.h — a read of one partition answered as its read mode says: from this host's copy, or by the partition's primary. */
#ifndef SC_READ_MODES_H
#define SC_READ_MODES_H

#include <stdbool.h>

#include "forward/forward_codec.h"
#include "mem/read_your_writes.h"
#include "shm/cache.h"

/*
 * What a read does on the node that answers it: t its arguments, as the
 * forwarded request carries them; its result in *out (out is NULL for a
 * count). A count or a negative errno.
 */
typedef int (*sc_read_here_fn)(sc_cache *c, const sc_tuple *t, sc_tuples **out);

/*
 * A read of partition p by opts' mode, when it is not answered from this
 * host's copy (sc_read_is_local() is false): by the primary
 * (sc_read_by_primary()), or by a majority of the replicas
 * (SC_READ_QUORUM: read_modes.c says how). call, here and t as for
 * sc_read_by_primary().
 */
int sc_read_by_mode(sc_cache *c, const sc_read_opts *opts, struct sc_part *p, uint32_t call,
		    sc_read_here_fn here, const sc_tuple *t, sc_tuples **out);

/*
 * Set while sc_forward_serve() runs a replica's part of another node's
 * quorum read (SC_FWD_READ_COPY): the read is made on this node's copy,
 * and where the copy stands goes here.
 */
extern __thread struct sc_fwd_copy_position *sc_fwd_copy_at;

/*
 * Read-your-writes (mem/read_your_writes.h): whether a read of log may be
 * answered from this host's copy. When not, the read is made by the
 * partition's primary instead, as SC_RYW_BY_PRIMARY(the read with
 * sc_by_primary for its options): the read that runs for it is not
 * checked again.
 */
static inline bool sc_ryw_local(sc_cache *c, uint32_t log)
{
	return __builtin_expect(!c->ryw, 1) || sc_ryw_here(c, log);
}
/* The same for a read of one key, its route's key_hash: only what this handle wrote to it, or to no key, counts. */
static inline bool sc_ryw_local_key(sc_cache *c, uint32_t log, uint64_t key_hash)
{
	return __builtin_expect(!c->ryw, 1) || sc_ryw_here_key(c, log, key_hash);
}
/* The same for every log of [first, end) (a read over several partitions). */
static inline bool sc_ryw_local_range(sc_cache *c, uint32_t first, uint32_t end)
{
	for (uint32_t i = first; c->ryw && i < end; i++)
		if (!sc_ryw_here(c, i))
			return false;
	return true;
}
extern const sc_read_opts sc_by_primary;
static inline int sc_ryw_asked(int r)
{
	sc_ryw_asking = false;
	return r;
}
#define SC_RYW_BY_PRIMARY(read) (sc_ryw_asking = true, sc_ryw_asked(read))

/* Check the options a read with a mode is given: 0, or -EINVAL (or the handle's error). */
int sc_read_opts_check(sc_cache *c, const sc_read_opts *opts);

/* Whether a read with opts is answered from this host's copy, as the call without a mode is. */
static inline bool sc_read_is_local(const sc_cache *c, const sc_read_opts *opts)
{
	return !opts || opts->read_mode == SC_READ_LOCAL || c->seg.cfg.cluster == SC_CLUSTER_LOCAL;
}

/*
 * A read of partition p by its primary (SC_READ_PRIMARY): here, when this
 * node is the primary and this handle may take the partition's lock; else
 * through the local coordinator as the read call (forward_codec.h: enum
 * sc_fwd_read) with
 * t, which the primary runs with the same mode. In sync and strong modes
 * the primary returns only what the in-sync replicas acknowledged.
 */
int sc_read_by_primary(sc_cache *c, struct sc_part *p, uint32_t call, sc_read_here_fn here, const sc_tuple *t,
		       sc_tuples **out);

#endif /* SC_READ_MODES_H */
