/* partition.c — taking a partition's write lock, and what happens when its last holder died. */
#include "partition.h"

#include "limbo.h"
#include "probes.h"
#include "repair.h"
#include "shm_mutex.h"
#include "ttl.h"

/*
 * The lock probes fire out of line: every writer passes them, and inline
 * their arguments' code would make the functions around them larger, which
 * changes what the compiler inlines into a write. Out of line, each probe
 * also has one site however many callers inline the code that fires it.
 */

/* Try first, so that lock_contended fires only when this writer is about to wait behind another. */
static __attribute__((cold, noinline)) int try_or_note_contended(sc_cache *c, struct sc_part *p)
{
	int r = sc_shm_mutex_trylock(&p->lock);

	if (r == -EBUSY)
		SC_PROBE(lock_contended, c->trace_id, sc_part_index(c, p));
	return r;
}

static __attribute__((cold, noinline)) void fire_lock_acquired(sc_cache *c, struct sc_part *p)
{
	SC_PROBE(lock_acquired, c->trace_id, sc_part_index(c, p));
	sc_trace_note_partition(sc_part_index(c, p));
}

static __attribute__((cold, noinline)) void fire_lock_released(sc_cache *c, struct sc_part *p)
{
	SC_PROBE(lock_released, c->trace_id, sc_part_index(c, p));
}

/* Take p's mutex, waiting at most seconds (0: without a limit). */
static int take(sc_cache *c, struct sc_part *p, unsigned seconds)
{
	if (SC_PROBE_ACTIVE(lock_contended)) {
		int r = try_or_note_contended(c, p);

		if (r != -EBUSY)
			return r;
	}
	return seconds ? sc_shm_mutex_lock_within(&p->lock, seconds) : sc_shm_mutex_lock(&p->lock);
}

/* After the mutex was taken (r from take()): the repair it may owe. */
static int locked(sc_cache *c, struct sc_part *p, int r)
{
	if (r == SC_LOCK_OWNER_DIED) {
		/* Marked before the mutex is: a repair cut short is run again by the next writer. */
		p->owner_died++;
		p->needs_repair = 1;
		sc_shm_mutex_consistent(&p->lock);
		r = 0;
	}
	if (r)
		return r;
	if (sc_unlikely(p->needs_repair)) {
		r = sc_part_repair(c, p);
		if (r) {
			sc_shm_mutex_unlock(&p->lock);
			return r;
		}
	}
	p->locks++;
	if (SC_PROBE_ACTIVE(lock_acquired) || SC_PROBE_ACTIVE(op_end))
		fire_lock_acquired(c, p);
	return 0;
}

int sc_part_lock(sc_cache *c, struct sc_part *p)
{
	int r = locked(c, p, take(c, p, 0));

	if (r == 0 && (r = sc_limbo_within_bound(c, p)) != 0)
		sc_part_release(c, p);
	return r;
}

int sc_part_lock_within(sc_cache *c, struct sc_part *p, unsigned seconds)
{
	return locked(c, p, take(c, p, seconds));
}

int sc_part_repair_owed(sc_cache *c, struct sc_part *p)
{
	int r = locked(c, p, take(c, p, 0));

	if (!r)
		sc_part_release(c, p);
	return r;
}

void sc_part_release(sc_cache *c, struct sc_part *p)
{
	if (SC_PROBE_ACTIVE(lock_released))
		fire_lock_released(c, p);
	sc_shm_mutex_unlock(&p->lock);
}

void sc_part_unlock(sc_cache *c, struct sc_part *p)
{
	if (p->ttl_records)
		sc_sweep_step(c, p);
	sc_limbo_reclaim(c, p);
	sc_part_release(c, p);
}
