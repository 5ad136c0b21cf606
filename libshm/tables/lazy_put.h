/* lazy_put.h — what the lifecycle code tells the write buffers: a handle is stopping, a fork is happening. */
#ifndef SC_LAZY_PUT_H
#define SC_LAZY_PUT_H

#include "shm/cache.h"

/* Store what every thread buffered for c, and close those buffers: c is being stopped. */
int sc_lazy_close(sc_cache *c);

void sc_lazy_before_fork(void);
void sc_lazy_after_fork_parent(void);
void sc_lazy_after_fork_child(void);

#endif /* SC_LAZY_PUT_H */
