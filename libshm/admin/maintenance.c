/* maintenance.c — the work a coordinator does for a cache on a timer: reclaim, dead readers. */
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "shm/cache.h"
#include "shm/error.h"
#include "shm/probes.h"
#include "write/partition.h"
/*
 * A partition whose lock is held longer than this is passed over for this
 * round: a maintenance pass must never wait on one busy writer.
 */
#define RECLAIM_LOCK_SECONDS 1u

static int do_reclaim(sc_cache *c, uint64_t *freed_bytes)
{
	uint64_t freed = 0;
	bool backlog = false;
	int err = sc_cache_check(c), first = 0;

	if (!err)
		err = sc_cache_writable(c);

	for (uint32_t i = 0; !err && i < 2 * c->seg.cfg.num_partition && !backlog; i++)
		backlog = !sc_limbo_empty(sc_part_at(c, i));
	/* One grace period for every partition: what readers had left by now becomes free. */
	if (!err && backlog)
		err = sc_rcu_advance(c);
	for (uint32_t i = 0; !err && backlog && i < 2 * c->seg.cfg.num_partition; i++) {
		struct sc_part *p = sc_part_at(c, i);
		int r;

		if (sc_limbo_empty(p))
			continue;
		r = sc_part_lock_within(c, p, RECLAIM_LOCK_SECONDS);
		if (r == 0) {
			freed += sc_limbo_free_safe(c, p);
			/* Not sc_part_unlock(): its amortised reclaim would free more, uncounted. */
			sc_part_release(c, p);
		} else if (r != -ETIMEDOUT && first == 0) {
			first = r;
		}
	}
	if (freed_bytes)
		*freed_bytes = freed;
	return err ? err : first;
}

SC_EXPORT int sc_reclaim(sc_cache *c, uint64_t *freed_bytes)
{
	return SC_TRACED(c, SC_OP_RECLAIM, do_reclaim(c, freed_bytes));
}

static int do_release_dead_readers(sc_cache *c)
{
	int err = sc_cache_check(c);

	return err ? err : (int)sc_rcu_release_dead(c);
}

SC_EXPORT int sc_release_dead_readers(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_RELEASE_DEAD_READERS, do_release_dead_readers(c));
}
