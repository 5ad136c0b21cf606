/* partition.h — taking a partition's write lock, and what happens when its last holder died. */
#ifndef SC_PARTITION_H
#define SC_PARTITION_H

#include "shm/cache.h"

/*
 * The write fence: 0 if this handle may write partition p here (with the
 * epoch the write's log entries carry: 0 in a local cache): -EROFS for a
 * read-only handle, else the error of sc_cluster_write_epoch() when this
 * host may not (shm/cluster_map.h). A local cache always may. A
 * distributed one may when its coordinator ships the replication logs and
 * the partition map names this node p's primary, lease unexpired. Every
 * user write passes here: sc_part_lock(), sc_expire*(), sc_lazy_put();
 * maintenance and remedies, which change no user data, do not.
 */
int sc_write_fence_part(const sc_cache *c, const struct sc_part *p, uint64_t *epoch);

/* The same for the cache as a whole, before a write knows its partitions: whether it may write any. */
int sc_write_fence(const sc_cache *c);

/*
 * Take p's write lock, for a user write (sc_write_fence() first). When its
 * last holder died holding it, or a repair did not finish, p is repaired
 * first (recovery/repair.h). A writer is refused with -EAGAIN while p holds
 * as much retired memory as max_retired allows and a reader keeps it from
 * being reused (sc_limbo_within_bound()). 0 or a negative errno; on an
 * error the lock is not held.
 */
int sc_part_lock(sc_cache *c, struct sc_part *p);

/*
 * Take p's lock for maintenance (the checker, a sweep), giving up with
 * -ETIMEDOUT after seconds: no fence (a user write through it passes
 * sc_write_fence_part() first); its log entries carry the log's last epoch.
 */
int sc_part_lock_within(sc_cache *c, struct sc_part *p, unsigned seconds);

/*
 * A replica's lock on p, to apply its primary's log entries
 * (admin/replica_apply.c): no fence (the primary passed it), and what it
 * changes is logged by the entries it applies, not by notes. Release it
 * with sc_part_release(): a replica expires nothing itself, its primary's
 * log says what expired.
 */
int sc_part_lock_replica(sc_cache *c, struct sc_part *p);

/*
 * Take p's lock only to run the repair it owes (or find none owed), and
 * release it at once. 0 or the repair's error.
 */
int sc_part_repair_owed(sc_cache *c, struct sc_part *p);

/* Release the lock, and nothing else: for a holder that did its own reclamation (or none). */
void sc_part_release(sc_cache *c, struct sc_part *p);

/* Run the amortised reclamation this write owes, then release the lock. */
void sc_part_unlock(sc_cache *c, struct sc_part *p);

/*
 * The end of a caller's write: sc_part_unlock(), then, in a distributed
 * cache in sync or strong mode, wait for the in-sync replicas to have what
 * the write logged. 0, or -ETIMEDOUT (sc_repl_wait_acked()), which the call
 * returns instead of its result. Sweeps and error paths, which owe their
 * caller no acknowledgement, use sc_part_unlock().
 */
int sc_part_unlock_write(sc_cache *c, struct sc_part *p);

/* Where a write's last log entry went: its lseq (0: none), in the numbering of the log's restarts then. */
struct sc_logged {
	uint64_t lseq;
	uint64_t restarts;
};

/*
 * The same in two steps, for a write that holds several partitions: release
 * them all with sc_part_unlock_logged() (where each one's last entry went),
 * then wait for each with sc_part_acked(): no lock is held while a replica
 * is waited for.
 */
struct sc_logged sc_part_unlock_logged(sc_cache *c, struct sc_part *p);
int sc_part_acked(sc_cache *c, struct sc_part *p, struct sc_logged at);

/* A write's result r, unless it succeeded and its acknowledgement did not come (acked, of sc_part_unlock_write()). */
static inline int64_t sc_write_result(int64_t r, int acked)
{
	return r >= 0 && acked ? acked : r;
}

#endif /* SC_PARTITION_H */
