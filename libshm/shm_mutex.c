/* shm_mutex.c — process-shared robust mutexes: spin-then-sleep locking and owner-death reporting. */
#include "shm_mutex.h"

#include <errno.h>
#include <time.h>

#include "atomics.h"
#include "error.h"

/* About a microsecond of spinning: longer than a typical write, far shorter than a futex wake. */
#define SPIN_TRIES 100

int sc_shm_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	int err;

	err = pthread_mutexattr_init(&attr);
	if (err)
		return sc_fail(-err, "pthread_mutexattr_init: %s", sc_strerror(err));
	err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (!err)
		err = pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err)
		return sc_fail(-err, "cannot initialise a shared mutex: %s", sc_strerror(err));
	return 0;
}

static int lock_result(int err)
{
	switch (err) {
	case 0:
		return 0;
	case EOWNERDEAD:
		return SC_LOCK_OWNER_DIED;
	case ENOTRECOVERABLE:
		return sc_fail(-EUCLEAN, "a lock in the segment is unrecoverable");
	default:
		return sc_fail(-err, "cannot take a lock in the segment: %s", sc_strerror(err));
	}
}

int sc_shm_mutex_lock(pthread_mutex_t *m)
{
	for (int i = 0; i < SPIN_TRIES; i++) {
		int err = pthread_mutex_trylock(m);
		if (err != EBUSY)
			return lock_result(err);
		sc_cpu_relax();
	}
	return lock_result(pthread_mutex_lock(m));
}

int sc_shm_mutex_trylock(pthread_mutex_t *m)
{
	int err = pthread_mutex_trylock(m);

	/* Busy is an answer, not a failure: no message. */
	return err == EBUSY ? -EBUSY : lock_result(err);
}

int sc_shm_mutex_lock_within(pthread_mutex_t *m, unsigned seconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	return lock_result(pthread_mutex_timedlock(m, &deadline));
}

void sc_shm_mutex_consistent(pthread_mutex_t *m)
{
	pthread_mutex_consistent(m);
}

void sc_shm_mutex_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}
