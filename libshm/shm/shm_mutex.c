/* shm_mutex.c — the segment's locks: futex words that name their holder, and no wait on them unbounded. */
#include "shm/shm_mutex.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "shm/atomics.h"
#include "shm/clock.h"
#include "shm/futex.h"
#include "shm/proc.h"

/* About a microsecond of spinning: longer than a typical write, far shorter than a futex wake. */
#define SPIN_TRIES 100

/* This thread as a holder: its id, its process, and its stamp (id << 32 | low bits of its start time). */
struct holder_self {
	uint32_t tid;
	uint32_t pid;
	uint64_t stamp;
};

static __thread struct holder_self self __attribute__((tls_model("initial-exec")));
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child's one thread has a new id: look it up again on its next lock. */
static void forget_self_in_child(void)
{
	self.tid = 0;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_self_in_child);
}

static const struct holder_self *me(void)
{
	if (sc_unlikely(self.tid == 0)) {
		uint64_t start = 0;

		pthread_once(&atfork_once, register_atfork);
		self.tid = (uint32_t)gettid();
		self.pid = (uint32_t)getpid();
		/* Without /proc the stamp holds only the id, and a reused id goes unnoticed. */
		sc_proc_start_time(self.tid, &start);
		self.stamp = (uint64_t)self.tid << 32 | (uint32_t)start;
	}
	return &self;
}

static uint32_t holder_of(uint32_t word)
{
	return word & SC_MUTEX_TID_MASK;
}

void sc_shm_mutex_init(struct sc_shm_mutex *m)
{
	m->word = 0;
	m->pid = 0;
	m->stamp = 0;
}

/* The word was seen as seen, with no holder: make it ours (keeping the sleepers' bit). */
static bool take_free(struct sc_shm_mutex *m, uint32_t seen, uint32_t bits)
{
	return sc_cmpxchg(&m->word, seen, bits) == seen;
}

/* The holder's marks, process first: a stamp naming the word's thread vouches for the process. */
static int got(struct sc_shm_mutex *m, const struct holder_self *s, int r)
{
	sc_write(&m->pid, s->pid);
	sc_publish(&m->stamp, s->stamp);
	return r;
}

/*
 * The cheap look before a first sleep: whether the holder's process is
 * gone (one kill(2)), when the stamp says whose process the word's thread
 * is in. A thread that died in a live process, or a holder that has not
 * written its stamp yet, waits for the full look after a slice.
 */
static bool holder_process_gone(const struct sc_shm_mutex *m, uint32_t tid)
{
	uint64_t stamp = sc_acquire(&m->stamp);
	uint32_t pid = sc_read(&m->pid);

	return (uint32_t)(stamp >> 32) == tid && pid != 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/*
 * Whether the thread the word names is gone: no such thread, a zombie, or
 * (when the stamp is that thread's) another thread that got its id since.
 * A /proc that cannot be read answers "alive": the wait stays bounded.
 */
static bool holder_gone(const struct sc_shm_mutex *m, uint32_t tid)
{
	struct sc_proc_stat st;
	uint64_t stamp;
	int r = sc_proc_stat(tid, &st);

	if (r == -ENOENT)
		return true;
	if (r < 0)
		return false;
	if (st.state == 'Z' || st.state == 'X')
		return true;
	stamp = sc_read(&m->stamp);
	return (uint32_t)(stamp >> 32) == tid && (uint32_t)stamp != (uint32_t)st.start_time;
}

/* Whether thread tid maps the lock's segment: a real holder does; unknown counts as yes. */
static bool maps_segment(uint32_t tid, const struct sc_lock_wait *w)
{
	return !w || (w->dev == 0 && w->ino == 0) || sc_proc_maps_file(tid, w->dev, w->ino) != 0;
}

/* Sleep on the word while it holds seen, for at most ms. Whether the time ran out (no wake, no change). */
static bool sleep_on(struct sc_shm_mutex *m, uint32_t seen, uint64_t ms)
{
	return sc_futex_wait(&m->word, seen, ms * 1000000u) == -ETIMEDOUT;
}

/*
 * The wait, once the fast path failed. take_scribbled: on running out of
 * time, take the lock from a live thread the word has named for the whole
 * wait while the stamp named another (sc_shm_mutex_lock_or_take()).
 */
static int lock_slow(struct sc_shm_mutex *m, uint32_t limit_ms, struct sc_lock_wait *w, bool take_scribbled)
{
	const struct holder_self *s = me();
	uint64_t start = sc_clock_ns(), limit = (uint64_t)limit_ms * 1000000ull;
	uint32_t checked = 0; /* the holder last found alive, so that it is looked up once per slice */
	bool full = false;    /* a slice ran out on the same word: look the holder up in full */
	bool scribbled = take_scribbled;

	for (int i = 0; i < SPIN_TRIES; i++) {
		uint32_t v = sc_read(&m->word);

		if (holder_of(v) == 0 && take_free(m, v, s->tid | (v & SC_MUTEX_SLEEPERS)))
			return got(m, s, 0);
		sc_cpu_relax();
	}
	for (;;) {
		uint32_t v = sc_read(&m->word), tid = holder_of(v);
		uint64_t waited = sc_clock_ns() - start;

		if (tid == 0) {
			/* Sleepers may remain: whoever takes it after a sleep keeps their bit. */
			if (take_free(m, v, s->tid | SC_MUTEX_SLEEPERS))
				return got(m, s, 0);
			continue;
		}
		if (tid == s->tid) {
			/* Taking a lock this thread holds (a callback that writes) would wait for itself. */
			if (w)
				w->holder = tid;
			return -EDEADLK;
		}
		if (tid != checked &&
		    (full ? holder_gone(m, tid) || !maps_segment(tid, w) : holder_process_gone(m, tid))) {
			if (take_free(m, v, s->tid | SC_MUTEX_SLEEPERS)) {
				if (w)
					w->holder = tid;
				return got(m, s, SC_LOCK_OWNER_DIED);
			}
			continue;
		}
		checked = tid;
		full = false;
		scribbled = scribbled && (uint32_t)(sc_read(&m->stamp) >> 32) != tid;
		if (waited >= limit) {
			if (scribbled && take_free(m, v, s->tid | SC_MUTEX_SLEEPERS)) {
				if (w)
					w->holder = tid;
				return got(m, s, SC_LOCK_OWNER_DIED);
			}
			if (w)
				w->holder = tid;
			return take_scribbled ? -EBUSY : -ETIMEDOUT;
		}
		if (!(v & SC_MUTEX_SLEEPERS) && !take_free(m, v, v | SC_MUTEX_SLEEPERS))
			continue;
		/*
		 * Woken, a waiter finds a new holder, whom the cheap look is
		 * for; a whole slice without a wake means one holder has held it
		 * that long (or a wake was lost): look it up again, in full.
		 */
		if (sleep_on(m, v | SC_MUTEX_SLEEPERS,
			     limit - waited < SC_LOCK_SLICE_MS * 1000000ull
				     ? (limit - waited) / 1000000ull + 1
				     : SC_LOCK_SLICE_MS)) {
			checked = 0;
			full = true;
		}
	}
}

int sc_shm_mutex_lock(struct sc_shm_mutex *m, uint32_t limit_ms, struct sc_lock_wait *w)
{
	const struct holder_self *s = me();

	if (sc_likely(sc_cmpxchg(&m->word, 0, s->tid) == 0))
		return got(m, s, 0);
	return lock_slow(m, limit_ms, w, false);
}

int sc_shm_mutex_lock_or_take(struct sc_shm_mutex *m, uint32_t limit_ms, struct sc_lock_wait *w)
{
	return lock_slow(m, limit_ms, w, true);
}

int sc_shm_mutex_trylock(struct sc_shm_mutex *m)
{
	const struct holder_self *s = me();
	uint32_t v = sc_read(&m->word), tid = holder_of(v);

	if (tid == 0)
		return take_free(m, v, s->tid | (v & SC_MUTEX_SLEEPERS)) ? got(m, s, 0) : -EBUSY;
	return -EBUSY;
}

void sc_shm_mutex_unlock(struct sc_shm_mutex *m)
{
	if (sc_xchg(&m->word, 0) & SC_MUTEX_SLEEPERS)
		sc_futex_wake(&m->word, 1);
}

uint32_t sc_shm_mutex_holder(const struct sc_shm_mutex *m, int *alive)
{
	uint32_t tid = holder_of(sc_read(&m->word));

	*alive = tid != 0 && !holder_gone(m, tid);
	return tid;
}

void sc_thread_describe(uint32_t tid, char *buf, size_t size)
{
	struct sc_proc_stat st;
	int r = sc_proc_stat(tid, &st);

	if (r == -ENOENT)
		snprintf(buf, size, "thread %u, which does not exist", tid);
	else if (r < 0)
		snprintf(buf, size, "thread %u", tid);
	else
		snprintf(buf, size, "thread %u of process %u (%s)", tid, sc_proc_tgid(tid),
			 st.state == 'T' || st.state == 't' ? "stopped"
			 : st.state == 'Z'		    ? "a zombie"
			 : st.state == 'D'		    ? "in an uninterruptible sleep"
							    : "running or sleeping");
}
