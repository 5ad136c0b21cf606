/* partition.c — taking a partition's write lock, and what happens when its last holder died. */
#include "partition.h"

#include "limbo.h"
#include "shm_mutex.h"

int sc_part_lock(struct sc_part *p)
{
	int r = sc_shm_mutex_lock(&p->lock);

	if (r == SC_LOCK_OWNER_DIED) {
		/*
		 * A writer died inside a write. Readers cannot have seen a
		 * partial record: a record becomes reachable by one store,
		 * after it is complete, and an index by one exchange. What the
		 * dead writer can leave behind is a block allocated but never
		 * published (leaked) and counters off by one write.
		 */
		p->owner_died++;
		sc_shm_mutex_consistent(&p->lock);
		r = 0;
	}
	if (r == 0)
		p->locks++;
	return r;
}

void sc_part_unlock(sc_cache *c, struct sc_part *p)
{
	sc_limbo_reclaim(c, p);
	sc_shm_mutex_unlock(&p->lock);
}
