/* shm_mutex.h — the segment's locks: futex words that name their holder, and no wait on them unbounded. */
#ifndef SC_SHM_MUTEX_H
#define SC_SHM_MUTEX_H

#include <stddef.h>
#include <stdint.h>

#include "shm/layout.h"

/*
 * Why not glibc's robust process-shared mutex: it keeps the holder's
 * robust-list links (pointers into the holder's address space) inside the
 * mutex, where a scribbler can turn the holder's unlock into a wild store;
 * a scribbled kind makes every lock call fail with EINVAL; and its waiters
 * can sleep forever on a free lock when the one waiter the kernel (on a
 * holder's death) or glibc (on an unlock) wakes dies before it takes it.
 *
 * A lock here is a futex word holding the holder's thread id (and a bit
 * for sleepers), and a stamp that tells that holder from a later thread
 * given the same id. Nothing else: whatever a scribbler writes into it is
 * a thread id, alive or not. Every wait is bounded:
 *
 *  - A sleeper wakes at least every SC_LOCK_SLICE_MS and looks at the word
 *    again, so a lost wake-up costs one slice.
 *  - A waiter that finds the word naming a thread that no longer exists
 *    (it died holding the lock, or the word was scribbled) takes the lock
 *    over with one compare-and-swap and tells its caller, who repairs what
 *    the lock protects: the same contract as a robust mutex's EOWNERDEAD,
 *    discovered by looking the holder up in /proc, at once when a taker
 *    arrives and within a slice for one already asleep.
 *  - A word naming a live thread whose process does not map the segment
 *    (a stray write of a small number names a system process) cannot be a
 *    holder: after a slice the waiter reads the thread's /proc maps, and if
 *    the segment's file is not there, takes the lock over the same way.
 *  - A live holder that never lets go (stopped, or named by a word
 *    scribbled to hold the id of another thread using the cache) is waited
 *    for up to the caller's limit, then -ETIMEDOUT names it.
 *
 * Thread ids are compared within one pid namespace: every process using a
 * cache must share it (docs/api.md).
 */

/* Longest sleep before a waiter looks at the lock again: what a lost wake-up can cost. */
#define SC_LOCK_SLICE_MS 10u

/* How long a writer waits for a live holder before -ETIMEDOUT. */
#define SC_LOCK_WRITER_LIMIT_MS 10000u

/* sc_shm_mutex_lock() took the lock from a holder that was gone: repair what it protects. */
#define SC_LOCK_OWNER_DIED 1

/* A wait: the file the lock lives in, and what the wait saw, for the caller's bookkeeping and messages. */
struct sc_lock_wait {
	uint64_t dev, ino; /* in: the segment file every real holder maps (0, 0: not looked at) */
	uint32_t
		holder; /* out: SC_LOCK_OWNER_DIED: the thread it was taken from; -ETIMEDOUT, -EBUSY: the holder */
};

void sc_shm_mutex_init(struct sc_shm_mutex *m);

/*
 * Take the lock, spinning briefly before sleeping (waking a sleeper costs
 * more than most critical sections), waiting at most limit_ms for a live
 * holder. 0; SC_LOCK_OWNER_DIED when it was taken from a holder that no
 * longer exists (w->holder); -ETIMEDOUT (w->holder holds it); or
 * -EDEADLK when the word names the calling thread (it holds the lock
 * already, or a scribble says so). No message: callers know what the lock
 * guards and say so. w may be NULL.
 */
int sc_shm_mutex_lock(struct sc_shm_mutex *m, uint32_t limit_ms, struct sc_lock_wait *w);

/* Take m only if nobody holds it: 0, or -EBUSY (a holder that is gone is left to sc_shm_mutex_lock()). */
int sc_shm_mutex_trylock(struct sc_shm_mutex *m);

/*
 * For an operator's remedy (a reset), after limit_ms of waiting: also take
 * the lock from a live thread the word names when the stamp names another
 * thread for the whole wait, the mark of a scribbled word (a real holder
 * writes its stamp right after taking the word, and never waits in
 * between). -EBUSY (w->holder) when the holder is real.
 */
int sc_shm_mutex_lock_or_take(struct sc_shm_mutex *m, uint32_t limit_ms, struct sc_lock_wait *w);

void sc_shm_mutex_unlock(struct sc_shm_mutex *m);

/* Who holds the lock, looking only: 0 when free. *alive says whether that thread exists. */
uint32_t sc_shm_mutex_holder(const struct sc_shm_mutex *m, int *alive);

/* A phrase about thread tid for messages: "thread 12 of process 10 (stopped)". */
void sc_thread_describe(uint32_t tid, char *buf, size_t size);

#endif /* SC_SHM_MUTEX_H */
