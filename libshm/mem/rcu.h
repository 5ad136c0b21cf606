/* rcu.h — cross-process RCU: reader slots in the segment, read sections, grace periods. */
#ifndef SC_RCU_H
#define SC_RCU_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"

/*
 * A thread's registration with one cache: its slot in the segment and its
 * read-section nesting. Process-local, one per (thread, handle), kept in a
 * thread-local most-recently-used list and released when the thread exits
 * or the handle stops.
 */
struct sc_reader {
	struct sc_reader *next;
	uint64_t cache_id;
	struct sc_slot *slot;
	struct sc_counter *counters; /* this slot's row, one entry per partition */
	uint32_t slot_idx;
	uint32_t nest;
};

extern __thread struct sc_reader *sc_tls_readers __attribute__((tls_model("initial-exec")));

/*
 * True when this process could not register for expedited membarrier: its
 * readers then pay a full fence on entry instead of relying on the
 * reclaimer's membarrier to order their slot store.
 */
extern bool sc_reader_fence;

int sc_reader_of_slow(sc_cache *c, struct sc_reader **out);

/* This thread's reader of c if it has one; never registers (so never makes a system call). */
struct sc_reader *sc_reader_find(const sc_cache *c);

/* This thread's reader of c, registering a slot on first use. No system call after that. */
static inline int sc_reader_of(sc_cache *c, struct sc_reader **out)
{
	struct sc_reader *r = sc_tls_readers;

	if (sc_likely(r && r->cache_id == c->id)) {
		*out = r;
		return 0;
	}
	return sc_reader_of_slow(c, out);
}

/*
 * Enter a read section: publish the epoch we start in. A plain store to our
 * own slot; the store may sit in the store buffer while we read, which is
 * what the reclaimer's membarrier accounts for. The section bit keeps any
 * epoch value, even one a stray write made 0, from reading as "outside".
 */
static inline void sc_rcu_enter(const sc_cache *c, struct sc_reader *r)
{
	if (r->nest++ == 0) {
		sc_write(&r->slot->epoch, sc_acquire(&sc_hdr(c)->gp_epoch) | SC_SLOT_IN_SECTION);
		if (sc_unlikely(sc_reader_fence))
			sc_full_barrier();
		else
			sc_compiler_barrier();
	}
}

static inline void sc_rcu_exit(struct sc_reader *r)
{
	if (--r->nest == 0) {
		if (sc_unlikely(sc_reader_fence))
			sc_full_barrier();
		else
			sc_compiler_barrier();
		sc_write(&r->slot->epoch, 0);
	}
}

/*
 * The epoch as writers and reclaimers see it: the larger of the readers'
 * copy and the reclaimers' (shm/layout.h), leaving out a value no epoch can
 * reach. Readers load only the first; if a stray write moves it back,
 * their sections look older than they are (which only holds more back),
 * while tags taken from this stay at least as new as any section that can
 * see the block they tag.
 */
static inline uint64_t sc_rcu_epoch(const sc_cache *c)
{
	const struct sc_seg_hdr *h = sc_hdr(c);
	uint64_t readers = sc_read(&h->gp_epoch), copy = sc_read(&h->gp_epoch_copy);

	if (readers >= SC_EPOCH_MAX)
		readers = 0;
	if (copy >= SC_EPOCH_MAX)
		copy = 0;
	return readers > copy ? readers : copy;
}

/*
 * The tag of a block being retired now: the epoch, read after a full
 * barrier so that the store which made the block unreachable is visible
 * before the tag is taken. That store is always an exchange (sc_xchg,
 * liburcu's uatomic_xchg), which implies a full barrier before and after
 * itself, so the barrier is the exchange's and this is a load.
 */
static inline uint32_t sc_rcu_retire_tag(const sc_cache *c)
{
	return (uint32_t)sc_rcu_epoch(c);
}

/* What a retired block's tag says. */
enum sc_tag_state {
	SC_TAG_HELD,	   /* a reader may still see the block */
	SC_TAG_SAFE,	   /* no reader can: it may be reused */
	SC_TAG_IMPOSSIBLE, /* from an epoch that has not begun (a stray write): re-tag it now */
};

/*
 * Tags keep the epoch's low 32 bits. A tag is read as the epoch at most
 * 2^31 grace periods before the current one that has those bits (at one
 * per 256 KiB retired, 512 TiB of writes); anything else, a tag ahead of
 * the epoch included, is impossible, and its block is held until it is
 * tagged again. Safe means older than the oldest section this process's
 * last grace period saw (sc_cache.gp_safe: each reclaimer keeps its own,
 * so no stray write can make one reuse memory early).
 */
static inline enum sc_tag_state sc_rcu_tag_state(const sc_cache *c, uint32_t tag)
{
	uint64_t now = sc_rcu_epoch(c);
	int32_t back = (int32_t)(tag - (uint32_t)now);

	if (back > 0)
		return SC_TAG_IMPOSSIBLE;
	return now + (uint64_t)(int64_t)back < sc_read(&c->gp_safe) ? SC_TAG_SAFE : SC_TAG_HELD;
}

/*
 * Start a grace period and see how far every reader has come: raise the
 * epoch (both copies), make readers' slot stores visible (membarrier), and
 * raise this handle's gp_safe to the oldest epoch still in a read section.
 * Never waits for a reader. Slots of dead readers holding back the epoch
 * are released on the way. A section from an epoch that has not begun
 * (the readers' copy was moved back by a stray write) is one whose age is
 * unknown: the readers' copy is moved past it and nothing is made safe
 * this time; a free slot with a section is cleared.
 */
int sc_rcu_advance(sc_cache *c);

/* Release every slot this process holds through c (sc_stop()). */
void sc_rcu_release_owned(sc_cache *c);

/* Process-wide set-up on attach (membarrier registration). */
int sc_rcu_process_init(void);

/* Reset process-local state in a forked child. */
void sc_rcu_after_fork_child(void);

/* The oldest open read section: who is in it, since when, how far behind. */
struct sc_oldest_reader {
	uint32_t pid;
	uint32_t tid;
	uint64_t epoch; /* the epoch it entered in */
	uint64_t lag;	/* grace periods started since */
};

/*
 * The owner of the slot in the oldest open read section; zeros when no
 * section is open. A lock-free look at the slots: a moment's picture.
 */
void sc_rcu_oldest_reader(const sc_cache *c, struct sc_oldest_reader *out);

/*
 * Release every slot whose owner is gone (died, or exited without
 * sc_stop()), whether or not it was in a read section; returns how many.
 * One kill(2) per slot in use.
 */
uint32_t sc_rcu_release_dead(sc_cache *c);

/* Slots ever used: the larger of the registry's two high-water marks, within the table. */
uint32_t sc_rcu_slots_used(const sc_cache *c);

/*
 * Every slot of the registry looked at, above the high-water mark too
 * (sc_repair()): the two high-water marks made to agree, dead or impossible
 * owners released, free slots' sections cleared, and a live owner above the
 * marks raises them.
 */
void sc_rcu_registry_mend(sc_cache *c);

/* Number of slots with an owner. */
uint32_t sc_rcu_slots_in_use(const sc_cache *c);

#endif /* SC_RCU_H */
