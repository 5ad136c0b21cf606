/* partition.c — taking a partition's write lock, and what happens when its last holder died. */
#include "write/partition.h"

#include "mem/limbo.h"
#include "mem/rcu.h"
#include "mem/read_your_writes.h"
#include "mem/repl_log.h"
#include "mem/writer_lane.h"
#include "recovery/repair.h"
#include "shm/cluster_map.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"
#include "index/expiry_sweep.h"

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

/* Take p's lock, waiting at most limit_ms for a live holder. */
static int take(sc_cache *c, struct sc_part *p, uint32_t limit_ms, struct sc_lock_wait *w)
{
	if (SC_PROBE_ACTIVE(lock_contended)) {
		int r = try_or_note_contended(c, p);

		if (r != -EBUSY)
			return r;
	}
	return sc_shm_mutex_lock(&p->lock, limit_ms, w);
}

/* The message of a lock that could not be had. */
static __attribute__((cold)) int not_taken(sc_cache *c, struct sc_part *p, int r,
					   const struct sc_lock_wait *w, uint32_t limit_ms)
{
	char who[128];

	if (r == -EDEADLK)
		return sc_fail(r,
			       "cache \"%s\": partition %u: this thread holds its lock already "
			       "(a write from inside a write?)",
			       c->name, sc_part_index(c, p));
	if (r != -ETIMEDOUT)
		return sc_fail(r, "cache \"%s\": partition %u: cannot take its lock: %s", c->name,
			       sc_part_index(c, p), sc_strerror(r));
	sc_thread_describe(w->holder, who, sizeof(who));
	return sc_fail(r,
		       "cache \"%s\": partition %u's lock has been held by %s for more than %u ms "
		       "(sc_partition_reset() takes it from a thread that is not a writer)",
		       c->name, sc_part_index(c, p), who, limit_ms);
}

/*
 * After take() (its result r): the repair a holder that was gone left owed.
 * The write's log entries carry epoch; a repair's changes are not entries
 * a replica could follow, so the log says to copy the partition instead.
 */
static int locked(sc_cache *c, struct sc_part *p, int r, const struct sc_lock_wait *w, uint32_t limit_ms,
		  uint64_t epoch)
{
	if (r == SC_LOCK_OWNER_DIED) {
		/* Marked first: a repair cut short is run again by the next writer. */
		p->needs_repair = 1;
		p->owner_died++;
		p->lock_taken_from = w->holder;
		r = 0;
	}
	if (r)
		return not_taken(c, p, r, w, limit_ms);
	sc_lane_choose();
	sc_repl_begin(c, p, epoch);
	if (sc_unlikely(p->needs_repair)) {
		r = sc_part_repair(c, p);
		if (r) {
			sc_shm_mutex_unlock(&p->lock);
			return r;
		}
		sc_repl_note_resync(c, p);
	}
	p->locks++;
	if (SC_PROBE_ACTIVE(lock_acquired) || SC_PROBE_ACTIVE(op_end))
		fire_lock_acquired(c, p);
	return 0;
}

/*
 * The caller has checked that the handle may write: sc_write_fence() or
 * sc_cache_writable(), or (sc_part_repair_owed()) it holds a lock it took so.
 */
static int lock_for(sc_cache *c, struct sc_part *p, uint32_t limit_ms, uint64_t epoch)
{
	struct sc_lock_wait w = { c->seg.dev, c->seg.ino, 0 };

	return locked(c, p, take(c, p, limit_ms, &w), &w, limit_ms, epoch);
}

int sc_write_fence(const sc_cache *c)
{
	uint64_t epoch;

	return sc_write_fence_part(c, NULL, &epoch);
}

int sc_write_fence_part(const sc_cache *c, const struct sc_part *p, uint64_t *epoch)
{
	int r = sc_cache_writable(c);

	*epoch = 0;
	if (r || sc_likely(c->seg.cfg.cluster == SC_CLUSTER_LOCAL))
		return r;
	return sc_cluster_write_epoch(
		(sc_cache *)c, p ? sc_part_index(c, p) % c->seg.cfg.num_partition : SC_ANY_PARTITION, epoch);
}

int sc_part_lock(sc_cache *c, struct sc_part *p)
{
	uint64_t epoch;
	int r = sc_write_fence_part(c, p, &epoch);

	if (r)
		return r;
	r = lock_for(c, p, SC_LOCK_WRITER_LIMIT_MS, epoch);
	if (r == 0 && (r = sc_limbo_within_bound(c, p)) != 0)
		sc_part_release(c, p);
	return r;
}

int sc_part_lock_within(sc_cache *c, struct sc_part *p, unsigned seconds)
{
	int r = sc_cache_writable(c);

	return r ? r : lock_for(c, p, seconds * 1000u, 0);
}

int sc_part_lock_replica(sc_cache *c, struct sc_part *p)
{
	int r = sc_cache_writable(c);

	if (!r)
		r = lock_for(c, p, SC_LOCK_WRITER_LIMIT_MS, 0);
	if (!r)
		sc_write(&sc_repl_log_of(c, p)->applying, 1u);
	return r;
}

int sc_part_repair_owed(sc_cache *c, struct sc_part *p)
{
	int r = lock_for(c, p, SC_LOCK_WRITER_LIMIT_MS, 0);

	if (!r)
		sc_part_release(c, p);
	return r;
}

/* Publish the write's log entries and release: where its last entry went (lseq 0 when it logged none). */
static struct sc_logged release(sc_cache *c, struct sc_part *p)
{
	struct sc_logged at = { 0, 0 };

	if (sc_unlikely(c->logs_writes)) {
		at.lseq = sc_repl_commit(c, p, &at.restarts);
		/* What this handle wrote, for its later reads (read-your-writes). */
		if (at.lseq)
			sc_ryw_wrote(c, sc_part_index(c, p), sc_repl_log_of(c, p)->last_epoch, at.lseq);
	}
	if (SC_PROBE_ACTIVE(lock_released))
		fire_lock_released(c, p);
	sc_shm_mutex_unlock(&p->lock);
	return at;
}

void sc_part_release(sc_cache *c, struct sc_part *p)
{
	release(c, p);
}

/* The amortised reclamation a write owes, then the release, then a grace period if one is due: as release(). */
static struct sc_logged unlock(sc_cache *c, struct sc_part *p)
{
	struct sc_logged at;
	bool grace_period_due;

	if (p->ttl_records)
		sc_sweep_step(c, p);
	grace_period_due = sc_limbo_reclaim(c, p);
	at = release(c, p);
	/* One that fails (no membarrier) frees nothing; the next due one tries again. */
	if (grace_period_due)
		(void)sc_rcu_advance(c);
	return at;
}

void sc_part_unlock(sc_cache *c, struct sc_part *p)
{
	unlock(c, p);
}

struct sc_logged sc_part_unlock_logged(sc_cache *c, struct sc_part *p)
{
	return unlock(c, p);
}

int sc_part_acked(sc_cache *c, struct sc_part *p, struct sc_logged at)
{
	return sc_unlikely(at.lseq && c->waits_acks) ? sc_repl_wait_acked(c, p, at.lseq, at.restarts) : 0;
}

int sc_part_unlock_write(sc_cache *c, struct sc_part *p)
{
	return sc_part_acked(c, p, unlock(c, p));
}
