/* shm_mutex.h — process-shared robust mutexes that live in the segment. */
#ifndef SC_SHM_MUTEX_H
#define SC_SHM_MUTEX_H

#include <pthread.h>

/* sc_shm_mutex_lock() got the lock from an owner that died holding it. */
#define SC_LOCK_OWNER_DIED 1

int sc_shm_mutex_init(pthread_mutex_t *m);

/*
 * Take the lock, spinning briefly before sleeping (waking a sleeper costs
 * more than most critical sections). Returns 0, or SC_LOCK_OWNER_DIED when
 * the previous owner died holding it: the caller repairs what it protects,
 * then calls sc_shm_mutex_consistent(). A negative errno if the lock cannot
 * be taken.
 */
int sc_shm_mutex_lock(pthread_mutex_t *m);

/* The same, giving up after seconds (for the checker, which must not hang on a scribbled lock). */
int sc_shm_mutex_lock_within(pthread_mutex_t *m, unsigned seconds);

/* Take m only if nobody holds it: as sc_shm_mutex_lock(), or -EBUSY (with no message) if held. */
int sc_shm_mutex_trylock(pthread_mutex_t *m);

void sc_shm_mutex_consistent(pthread_mutex_t *m);
void sc_shm_mutex_unlock(pthread_mutex_t *m);

#endif /* SC_SHM_MUTEX_H */
