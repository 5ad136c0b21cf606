/* lazy_put.c — sc_lazy_put: per-thread write buffers, flushed when full, after a bounded delay, and on demand. */
#include "tables/lazy_put.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm/clock.h"
#include "shm/probes.h"
#include "write/partition.h"
#include "write/record_store.h"

#define DEFAULT_DELAY_US   5000u
#define MAX_DELAY_US	   10000000u
#define DEFAULT_MAX_TUPLES 256u
#define MAX_TUPLES	   65536u

/*
 * One thread's buffer for one handle: copies of the tuples it gave
 * sc_lazy_put(), in order. Its owner thread appends under mu; whoever
 * flushes (the owner when it is full, the process's flusher thread when it
 * is old enough, sc_flush() and sc_stop() from any thread) does so under mu
 * too, so one buffer's tuples are stored in the order they were given, and
 * each once.
 *
 * Lifetime: the owner thread frees its buffers (when it exits, or when it
 * finds one whose handle was stopped). Everyone else reaches a buffer
 * through the process list under list_lock, and marks it busy while using
 * it outside that lock; a buffer is unlinked and freed only when not busy.
 */
struct lazy_buf {
	pthread_mutex_t mu;
	sc_cache *c;	   /* valid while !closed */
	uint64_t cache_id; /* c's id: handles at a reused address differ */
	bool closed;	   /* c was stopped: nothing more is flushed */
	uint64_t deadline; /* CLOCK_MONOTONIC ns by which to flush; 0 when empty (atomic) */

	/* The buffered tuples: counts[i] fields each, bytes fields' payloads in bytes (offsets in v.i). */
	uint32_t *counts;
	size_t ntuples, counts_cap;
	sc_field *fields;
	size_t nfields, fields_cap;
	uint8_t *bytes;
	size_t nbytes, bytes_cap;

	/* under list_lock */
	bool linked, busy;
	struct lazy_buf *next; /* process list */

	struct lazy_buf *tnext; /* the owner thread's list (owner only) */
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t list_changed; /* a buffer became idle, or a deadline was set */
static pthread_once_t list_once = PTHREAD_ONCE_INIT;
static struct lazy_buf *buffers;
static bool flusher_running;
static int list_init_error;

static __thread struct lazy_buf *my_buffers;
static pthread_key_t thread_key;

static void thread_exit(void *unused);
/*
 * Store the buffered tuples in the order given, and empty the buffer.
 * Called with b->mu held and b open. A failure drops the tuples from the
 * failing one on: the handle keeps the first such error for sc_flush().
 */
static int flush_locked(struct lazy_buf *b)
{
	sc_tuple *t;
	sc_field *f;
	int err = 0;

	if (b->ntuples == 0)
		return 0;
	t = malloc(b->ntuples * sizeof(*t));
	f = malloc(b->nfields * sizeof(*f));
	if (!t || !f) {
		err = sc_fail(-ENOMEM, "out of memory flushing %zu buffered tuples", b->ntuples);
	} else {
		memcpy(f, b->fields, b->nfields * sizeof(*f));
		for (size_t i = 0, at = 0; i < b->ntuples; at += b->counts[i++]) {
			t[i] = (sc_tuple){ b->counts[i], f + at };
			for (uint32_t j = 0; j < b->counts[i]; j++)
				if (f[at + j].type == SC_FIELD_BYTES)
					f[at + j].v.p = b->bytes + f[at + j].v.i;
		}
		err = sc_put_in_order(b->c, t, b->ntuples);
		/* Some partition's primary is another node (nothing was written): each primary takes its share. */
		if (err == -EREMOTE)
			err = sc_put_batch(b->c, t, b->ntuples);
	}
	free(t);
	free(f);
	if (err) {
		int none = 0;

		__atomic_compare_exchange_n(&b->c->lazy_error, &none, err, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	b->ntuples = b->nfields = b->nbytes = 0;
	__atomic_store_n(&b->deadline, 0, __ATOMIC_RELAXED);
	return err;
}

/* Flush b if its handle is still open; with close, mark it closed after. */
static int flush_buffer(struct lazy_buf *b, bool close)
{
	int err = 0;

	pthread_mutex_lock(&b->mu);
	if (!b->closed) {
		err = flush_locked(b);
		__atomic_store_n(&b->closed, close, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&b->mu);
	return err;
}

/* Under list_lock: wait until nobody is using b, then take it out of the process list. */
static void unlink_idle(struct lazy_buf *b)
{
	while (b->busy)
		pthread_cond_wait(&list_changed, &list_lock);
	if (b->linked) {
		struct lazy_buf **pp = &buffers;

		while (*pp != b)
			pp = &(*pp)->next;
		*pp = b->next;
		b->linked = false;
	}
}

/* Which buffers a pass over the process list takes. */
struct pass {
	const sc_cache *c; /* this handle's (all of them), or NULL: every buffer due by now */
	uint64_t now;
	uint64_t next_deadline; /* out: the earliest deadline of those left, UINT64_MAX if none */
	size_t taken;		/* out: buffers flushed (list_lock was dropped meanwhile) */
};

static bool wanted(const struct lazy_buf *b, struct pass *ps)
{
	uint64_t d = __atomic_load_n(&b->deadline, __ATOMIC_RELAXED);

	if (ps->c)
		return b->c == ps->c && b->cache_id == ps->c->id;
	if (d != 0 && d <= ps->now)
		return true;
	if (d != 0 && d < ps->next_deadline)
		ps->next_deadline = d;
	return false;
}

/*
 * Under list_lock: flush (and with close, close and unlink) every buffer
 * the pass wants, each once. The buffers are taken out of the list's
 * hands (busy) before the lock is dropped to flush them, so none can be
 * freed meanwhile; one that someone else is using is waited for. Returns
 * the first error, with list_lock held again.
 */
static int flush_pass(struct pass *ps, bool close)
{
	struct lazy_buf **take = NULL;
	size_t n, cap = 0;
	int first_err = 0;

again:
	n = 0;
	ps->next_deadline = UINT64_MAX;
	for (struct lazy_buf *b = buffers; b; b = b->next) {
		if (!wanted(b, ps))
			continue;
		if (b->busy) {
			pthread_cond_wait(&list_changed, &list_lock);
			goto again;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct lazy_buf **v = realloc(take, ncap * sizeof(*v));

			if (!v)
				break; /* the rest wait for the next pass */
			take = v;
			cap = ncap;
		}
		take[n++] = b;
	}
	ps->taken = n;
	if (n == 0) {
		free(take);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		take[i]->busy = true;
	pthread_mutex_unlock(&list_lock);
	for (size_t i = 0; i < n; i++) {
		int err = flush_buffer(take[i], close);

		if (err && !first_err)
			first_err = err;
	}
	pthread_mutex_lock(&list_lock);
	for (size_t i = 0; i < n; i++) {
		take[i]->busy = false;
		if (close)
			unlink_idle(take[i]);
	}
	pthread_cond_broadcast(&list_changed);
	free(take);
	return first_err;
}

/*
 * The process's flusher: stores every buffer once its deadline has passed.
 * Between passes it sleeps until the earliest deadline it saw (its alarm),
 * published so that sc_lazy_put() wakes it only for an earlier one, not
 * for every buffer that starts filling: a wake-up costs a futex call here
 * and a context switch there. A pass begins by taking the alarm down, then
 * reads the deadlines; sc_lazy_put() sets a deadline, then reads the
 * alarm; a full barrier in each makes sure one of them sees the other, so
 * no deadline is missed by both.
 */
static uint64_t flusher_alarm; /* 0 while a pass reads deadlines; UINT64_MAX asleep with none (atomic) */

static void *flusher(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&list_lock);
	for (;;) {
		struct pass ps = { NULL, 0, UINT64_MAX, 0 };

		__atomic_store_n(&flusher_alarm, 0, __ATOMIC_RELAXED);
		sc_full_barrier();
		ps.now = sc_clock_precise_ns();
		(void)flush_pass(&ps, false); /* errors wait in the handle for sc_flush() */
		if (ps.taken)
			continue; /* list_lock was dropped: deadlines set meanwhile were not seen */
		__atomic_store_n(&flusher_alarm, ps.next_deadline, __ATOMIC_RELAXED);
		if (ps.next_deadline == UINT64_MAX) {
			pthread_cond_wait(&list_changed, &list_lock);
		} else {
			struct timespec ts = { (time_t)(ps.next_deadline / 1000000000ull),
					       (long)(ps.next_deadline % 1000000000ull) };

			pthread_cond_timedwait(&list_changed, &list_lock, &ts);
		}
	}
	return NULL;
}

/*
 * At exit() the main thread's buffers would be lost with it, and so would
 * a flush the flusher thread is in the middle of, since _exit() ends it
 * wherever it is: store every buffer that holds anything, waiting for those
 * being stored (a pass whose "now" is as late as can be finds them all due).
 */
static void flush_at_exit(void)
{
	struct pass ps = { NULL, UINT64_MAX - 1, 0, 0 };

	pthread_mutex_lock(&list_lock);
	(void)flush_pass(&ps, false);
	pthread_mutex_unlock(&list_lock);
}

/* The flusher's deadlines are CLOCK_MONOTONIC times. */
static int init_list_changed(void)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	err = pthread_cond_init(&list_changed, &a);
	pthread_condattr_destroy(&a);
	return err;
}

static void list_setup(void)
{
	list_init_error = init_list_changed();
	if (!list_init_error)
		list_init_error = pthread_key_create(&thread_key, thread_exit);
	if (!list_init_error)
		list_init_error = atexit(flush_at_exit);
}

/* A buffer's memory; its mutex may be a forked copy of one held by a thread that did not come along. */
static void free_copy(struct lazy_buf *b)
{
	free(b->counts);
	free(b->fields);
	free(b->bytes);
	free(b);
}

static void free_buffer(struct lazy_buf *b)
{
	pthread_mutex_destroy(&b->mu);
	free_copy(b);
}

/* A thread going away stores what it buffered, and frees its buffers. */
static void thread_exit(void *unused)
{
	(void)unused;
	while (my_buffers) {
		struct lazy_buf *b = my_buffers;

		my_buffers = b->tnext;
		(void)flush_buffer(b, true);
		pthread_mutex_lock(&list_lock);
		unlink_idle(b);
		pthread_mutex_unlock(&list_lock);
		free_buffer(b);
	}
}

/* The calling thread's buffer for c, made if needed; buffers of stopped handles are freed on the way. */
static int my_buffer(sc_cache *c, struct lazy_buf **out)
{
	struct lazy_buf **pp = &my_buffers, *b;
	int err;

	while ((b = *pp)) {
		if (b->c == c && b->cache_id == c->id) {
			*out = b;
			return 0;
		}
		if (__atomic_load_n(&b->closed, __ATOMIC_RELAXED)) {
			*pp = b->tnext;
			pthread_mutex_lock(&list_lock);
			unlink_idle(b);
			pthread_mutex_unlock(&list_lock);
			free_buffer(b);
			continue;
		}
		pp = &b->tnext;
	}
	pthread_once(&list_once, list_setup);
	if (list_init_error)
		return sc_fail(-list_init_error, "cannot set up write buffers: %s",
			       sc_strerror(list_init_error));
	b = calloc(1, sizeof(*b));
	if (!b)
		return sc_fail(-ENOMEM, "out of memory for a write buffer");
	pthread_mutex_init(&b->mu, NULL);
	b->c = c;
	b->cache_id = c->id;
	err = pthread_setspecific(thread_key, b);
	pthread_mutex_lock(&list_lock);
	if (!err && !flusher_running) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&t, &a, flusher, NULL);
		pthread_attr_destroy(&a);
		flusher_running = err == 0;
	}
	if (!err) {
		b->linked = true;
		b->next = buffers;
		buffers = b;
	}
	pthread_mutex_unlock(&list_lock);
	if (err) {
		free_buffer(b);
		return sc_fail(-err, "cannot start the write buffers' flusher thread: %s", sc_strerror(err));
	}
	b->tnext = my_buffers;
	my_buffers = b;
	*out = b;
	return 0;
}

/* Room for one more tuple of nfields fields and nbytes payload bytes. */
static int reserve(struct lazy_buf *b, uint32_t nfields, size_t nbytes)
{
	if (b->ntuples == b->counts_cap) {
		size_t cap = b->counts_cap ? 2 * b->counts_cap : 64;
		uint32_t *v = realloc(b->counts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->counts = v;
		b->counts_cap = cap;
	}
	if (b->nfields + nfields > b->fields_cap) {
		size_t cap = 2 * (b->nfields + nfields);
		sc_field *v = realloc(b->fields, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->fields = v;
		b->fields_cap = cap;
	}
	if (b->nbytes + nbytes > b->bytes_cap) {
		size_t cap = 2 * (b->nbytes + nbytes);
		uint8_t *v = realloc(b->bytes, cap);

		if (!v)
			return -ENOMEM;
		b->bytes = v;
		b->bytes_cap = cap;
	}
	return 0;
}

/* Copy t into b (under b->mu): fields as they are, bytes payloads into the buffer's own arena. */
static int append(struct lazy_buf *b, const sc_tuple *t)
{
	size_t nbytes = 0;
	int err;

	for (uint32_t i = 0; i < t->nfields; i++)
		if (t->fields[i].type == SC_FIELD_BYTES)
			nbytes += t->fields[i].len;
	err = reserve(b, t->nfields, nbytes);
	if (err)
		return sc_fail(err, "out of memory buffering a tuple of %u fields", t->nfields);
	for (uint32_t i = 0; i < t->nfields; i++) {
		sc_field f = t->fields[i];

		if (f.type == SC_FIELD_BYTES) {
			if (f.len)
				memcpy(b->bytes + b->nbytes, f.v.p, f.len);
			f.v.i = (int64_t)b->nbytes;
			b->nbytes += f.len;
		}
		b->fields[b->nfields++] = f;
	}
	b->counts[b->ntuples++] = t->nfields;
	return 0;
}

static uint32_t setting(const uint32_t *v, uint32_t dflt)
{
	uint32_t x = __atomic_load_n(v, __ATOMIC_RELAXED);

	return x ? x : dflt;
}

static int do_lazy_put(sc_cache *c, const sc_tuple *tuple)
{
	struct lazy_buf *b = NULL;
	uint32_t len;
	uint64_t deadline = 0;
	int err = sc_cache_check(c);

	/* Checked now, so that a bad tuple is the caller's error, not a background one. */
	if (!err)
		err = sc_write_fence(c);
	if (!err)
		err = sc_tuple_check_put(c, tuple, true, &len);
	if (!err)
		err = my_buffer(c, &b);
	if (err)
		return err;
	pthread_mutex_lock(&b->mu);
	err = append(b, tuple);
	if (!err && b->ntuples == 1) {
		deadline = sc_clock_precise_ns() + 1000ull * setting(&c->lazy_delay_us, DEFAULT_DELAY_US);
		__atomic_store_n(&b->deadline, deadline, __ATOMIC_RELAXED);
	}
	if (!err && b->ntuples >= setting(&c->lazy_max_tuples, DEFAULT_MAX_TUPLES)) {
		err = flush_locked(b);
		deadline = 0;
	}
	pthread_mutex_unlock(&b->mu);
	if (deadline) {
		uint64_t alarm;

		sc_full_barrier(); /* the deadline is out before the alarm is read: see flusher() */
		alarm = __atomic_load_n(&flusher_alarm, __ATOMIC_RELAXED);
		if (alarm == 0 || alarm > deadline) {
			pthread_mutex_lock(&list_lock);
			pthread_cond_broadcast(&list_changed);
			pthread_mutex_unlock(&list_lock);
		}
	}
	return err;
}

SC_EXPORT int sc_lazy_put(sc_cache *c, const sc_tuple *tuple)
{
	return SC_TRACED(c, SC_OP_LAZY_PUT, do_lazy_put(c, tuple));
}

/* The error a background flush of c's buffers met first, taken. */
static int take_background_error(sc_cache *c)
{
	return __atomic_exchange_n(&c->lazy_error, 0, __ATOMIC_RELAXED);
}

static int do_flush(sc_cache *c)
{
	struct pass ps = { c, 0, 0, 0 };
	int err = sc_cache_check(c), bg;

	if (err)
		return err;
	pthread_once(&list_once, list_setup);
	pthread_mutex_lock(&list_lock);
	err = flush_pass(&ps, false);
	pthread_mutex_unlock(&list_lock);
	bg = take_background_error(c);
	return err ? err : bg;
}

SC_EXPORT int sc_flush(sc_cache *c)
{
	return SC_TRACED(c, SC_OP_FLUSH, do_flush(c));
}

SC_EXPORT int sc_lazy_configure(sc_cache *c, uint32_t max_delay_us, uint32_t max_tuples)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (max_delay_us > MAX_DELAY_US)
		return sc_fail(-EINVAL, "max_delay_us %u is over %u (10 s)", max_delay_us, MAX_DELAY_US);
	if (max_tuples > MAX_TUPLES)
		return sc_fail(-EINVAL, "max_tuples %u is over %u", max_tuples, MAX_TUPLES);
	__atomic_store_n(&c->lazy_delay_us, max_delay_us, __ATOMIC_RELAXED);
	__atomic_store_n(&c->lazy_max_tuples, max_tuples, __ATOMIC_RELAXED);
	return 0;
}

int sc_lazy_close(sc_cache *c)
{
	struct pass ps = { c, 0, 0, 0 };
	int err;

	pthread_once(&list_once, list_setup);
	pthread_mutex_lock(&list_lock);
	err = flush_pass(&ps, true);
	pthread_mutex_unlock(&list_lock);
	return err;
}

void sc_lazy_before_fork(void)
{
	pthread_mutex_lock(&list_lock);
}

void sc_lazy_after_fork_parent(void)
{
	pthread_mutex_unlock(&list_lock);
}

/*
 * The child has none of the parent's threads: its buffers and flusher are
 * the parent's, left behind. The condition variable may still count the
 * parent's flusher as a waiter, and POSIX leaves its state in the child to
 * the implementation, so it starts afresh too.
 */
void sc_lazy_after_fork_child(void)
{
	struct lazy_buf *b, *next;

	/* This process's copies of them: no thread here owns them, so they go now (their mutexes with them). */
	for (b = my_buffers; b; b = next) {
		next = b->tnext;
		if (!b->linked)
			free_copy(b);
	}
	for (b = buffers; b; b = next) {
		next = b->next;
		free_copy(b);
	}
	buffers = NULL;
	my_buffers = NULL;
	flusher_running = false;
	flusher_alarm = 0;
	pthread_mutex_init(&list_lock, NULL);
	if (list_init_error == 0)
		list_init_error = init_list_changed();
}
