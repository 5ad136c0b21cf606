/* partition.h — taking a partition's write lock, and what happens when its last holder died. */
#ifndef SC_PARTITION_H
#define SC_PARTITION_H

#include "shm/cache.h"

/*
 * The write fence: 0 if this handle may write the cache here: -EROFS for a
 * read-only handle, else -EOPNOTSUPP when this host may not. A local cache
 * always may. A distributed one may not yet: which host is a
 * partition's primary, under which epoch, is the cluster's to say, and
 * until replication ships a write is refused rather than applied on this
 * host alone. Every user write passes here: sc_part_lock(), sc_expire*(),
 * sc_lazy_put(); maintenance and remedies, which change no user data, do not.
 */
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

/* The same, giving up with -ETIMEDOUT after seconds. */
int sc_part_lock_within(sc_cache *c, struct sc_part *p, unsigned seconds);

/*
 * Take p's lock only to run the repair it owes (or find none owed), and
 * release it at once. 0 or the repair's error.
 */
int sc_part_repair_owed(sc_cache *c, struct sc_part *p);

/* Release the lock, and nothing else: for a holder that did its own reclamation (or none). */
void sc_part_release(sc_cache *c, struct sc_part *p);

/* Run the amortised reclamation this write owes, then release the lock. */
void sc_part_unlock(sc_cache *c, struct sc_part *p);

#endif /* SC_PARTITION_H */
