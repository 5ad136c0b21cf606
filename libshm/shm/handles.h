/* handles.h — the handles this process has open, found by id; kept through fork(). */
#ifndef SC_HANDLES_H
#define SC_HANDLES_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"

/* Give c its id and fork generation and list it; -ENOMEM when the list cannot grow. */
int sc_handle_add(sc_cache *c);
void sc_handle_remove(sc_cache *c);

/* Whether the handle with this id is open; if so, and fn is not NULL, run fn on it with the list locked. */
bool sc_handle_with(uint64_t id, void (*fn)(sc_cache *c, void *arg), void *arg);

/*
 * fork(): the list is locked across it. In the child, whose inherited
 * handles are none of them its own, forget them (list still locked) before
 * unlocking it; sc_fork_generation grows, so each of them says -ECHILD.
 */
void sc_handles_lock(void);
void sc_handles_unlock(void);
void sc_handles_forget_inherited(void);

#endif /* SC_HANDLES_H */
