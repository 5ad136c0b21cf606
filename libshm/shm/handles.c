/* handles.c — the handles this process has open, found by id; kept through fork(). */
#include "shm/handles.h"

#include <pthread.h>
#include <stdlib.h>

uint64_t sc_fork_generation;

/*
 * Open handles of this process. Thread-exit cleanup finds a thread's
 * readers' handles here by id, so a handle stopped meanwhile is never
 * touched through a stale pointer.
 */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static sc_cache **handles;
static size_t handles_len, handles_cap;
static uint64_t next_id = 1;

int sc_handle_add(sc_cache *c)
{
	int err = 0;

	pthread_mutex_lock(&handles_lock);
	if (handles_len == handles_cap) {
		size_t cap = handles_cap ? 2 * handles_cap : 8;
		sc_cache **v = realloc(handles, cap * sizeof(*v));

		if (v) {
			handles = v;
			handles_cap = cap;
		} else {
			err = sc_fail(-ENOMEM, "out of memory registering a handle");
		}
	}
	if (!err) {
		c->id = next_id++;
		c->fork_gen = sc_fork_generation;
		handles[handles_len++] = c;
	}
	pthread_mutex_unlock(&handles_lock);
	return err;
}

void sc_handle_remove(sc_cache *c)
{
	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < handles_len; i++) {
		if (handles[i] == c) {
			handles[i] = handles[--handles_len];
			break;
		}
	}
	pthread_mutex_unlock(&handles_lock);
}

bool sc_handle_with(uint64_t id, void (*fn)(sc_cache *c, void *arg), void *arg)
{
	bool found = false;

	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < handles_len && !found; i++) {
		if (handles[i]->id == id) {
			if (fn)
				fn(handles[i], arg);
			found = true;
		}
	}
	pthread_mutex_unlock(&handles_lock);
	return found;
}

void sc_handles_lock(void)
{
	pthread_mutex_lock(&handles_lock);
}

void sc_handles_unlock(void)
{
	pthread_mutex_unlock(&handles_lock);
}

void sc_handles_forget_inherited(void)
{
	sc_fork_generation++;
	handles_len = 0;
}
