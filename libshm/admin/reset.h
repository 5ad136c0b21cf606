/* reset.h — emptying partitions whatever their memory holds: what sc_partition_reset() and sc_repair() share. */
#ifndef SC_RESET_H
#define SC_RESET_H

#include <stdint.h>

#include "shm/cache.h"

/* A damaged lock is given this long before it is taken from a holder that is not real. */
#define SC_RESET_LOCK_PATIENCE_S 2u

/* Readers are given this long to leave the memory of what was unpublished. */
#define SC_RESET_READERS_PATIENCE_S 5u

/*
 * Under p's lock: make p empty for readers (its index unpublished, a dead
 * batch's intent dropped) and mark it needing repair until its bookkeeping
 * is forgotten. Nothing in p's memory is read.
 */
void sc_part_unpublish(struct sc_part *p);

/* Under p's lock, once no reader can see its old memory: its bookkeeping starts from nothing. */
void sc_part_forget(struct sc_part *p);

/*
 * Until no reader can still see what was unpublished before tag was taken.
 * 0, or -EBUSY after SC_RESET_READERS_PATIENCE_S, the message saying what
 * is kept (what, e.g. "partition 3 is emptied") and to call again (again).
 */
int sc_wait_for_readers(sc_cache *c, uint32_t tag, const char *what, const char *again);

/* Whether a remedy (what, for messages) may start: a writable handle, outside the thread's read sections. */
int sc_remedy_may_start(sc_cache *c, const char *what);

/* The lock could not be had: a live writer holds it (-EBUSY), or this thread does (-EDEADLK). */
int sc_reset_lock_failed(sc_cache *c, const char *whose, int err, uint32_t holder);

#endif /* SC_RESET_H */
