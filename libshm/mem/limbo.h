/* limbo.h — a partition's retired blocks, freed once every reader that could see them has left. */
#ifndef SC_LIMBO_H
#define SC_LIMBO_H

#include <stdbool.h>

#include "shm/cache.h"

/*
 * A block replaced or deleted by a writer goes to the tail of a limbo list
 * of its partition, the one in the writer's lane (mem/writer_lane.h),
 * tagged with the epoch it was retired in; tags only grow along a list.
 * Writers free from the head of their lane's list what has become safe,
 * into that lane's free lists, a few blocks per write, and a thread starts
 * a grace period (sc_rcu_advance) each time it has retired another
 * LIMBO_STEP bytes: amortised, and never waiting for a reader. The lists
 * change under the partition lock only; the grace period needs none.
 */

/*
 * Retire the block at off, which the caller has just made unreachable with
 * an exchange (sc_xchg): its full barrier is what orders that store before
 * the retire tag is read (mem/rcu.h), so plain stores will not do.
 */
void sc_limbo_retire(sc_cache *c, struct sc_part *p, uint64_t off);

/* Whether off holds a retired block, so that its link may be written or followed. */
bool sc_block_retired(sc_cache *c, uint64_t off);

/* Empty every lane's list without freeing anything: what was on them leaks (a repair or a reset finds it). */
void sc_limbo_forget(struct sc_part *p);

/* What p holds retired, every lane's summed (without the lock: a moment's figure). */
uint64_t sc_limbo_bytes(const struct sc_part *p);

/* Whether no lane of p holds a retired block. */
bool sc_limbo_empty(const struct sc_part *p);

/* Free what the grace periods so far made safe, from the head of each lane's list; returns the bytes freed. */
uint64_t sc_limbo_free_safe(sc_cache *c, struct sc_part *p);

/*
 * Free some of what is safe in the writer's lane (twice what was retired
 * there since the last write's reclaim, and a few blocks more); true when
 * this thread has retired enough that a grace period is due, which the
 * caller starts (sc_rcu_advance()) once it has released the lock: a grace
 * period's membarrier is then no wait for the writers queued behind it,
 * and what it makes safe the next writes free.
 */
bool sc_limbo_reclaim(sc_cache *c, struct sc_part *p);

/* Start a grace period now and free what it makes safe in every lane (when memory runs out). */
void sc_limbo_reclaim_now(sc_cache *c, struct sc_part *p);

/*
 * Free everything on p's lists: start grace periods, and yield to readers
 * while they finish the sections that still see it, for up to
 * SC_READER_PATIENCE_MS. 0 once the list is empty, else -EAGAIN naming
 * the reader that holds it back, or at once -EDEADLK when the calling
 * thread's own read section is open (a scan's callback that writes).
 */
#define SC_READER_PATIENCE_MS 100u
int sc_limbo_drain(sc_cache *c, struct sc_part *p);

/*
 * The bound on what p may hold retired: 0 while the writer's lane of p
 * holds less than its share of max_retired, or the whole cache less than max_retired (the bound
 * applies to what is in use: a cache whose writes all go to a few
 * partitions may use all of it); else it reclaims first, then returns
 * -EAGAIN naming the reader behind it when readers do not let go of it
 * in SC_READER_PATIENCE_MS. A reader found stalled is not waited for
 * again while it stays so: later writers are refused at once.
 */
int sc_limbo_within_bound(sc_cache *c, struct sc_part *p);

/*
 * A lane's share of max_retired, and never less than a few amortisation
 * steps (c->retired_bound): below it a writer never adds up the other
 * partitions' retired memory.
 */
uint64_t sc_limbo_bound(const sc_cache *c);

#endif /* SC_LIMBO_H */
