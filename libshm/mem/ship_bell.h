/* ship_bell.h — how a writer that published log entries wakes the coordinator that ships them, however it sleeps. */
#ifndef SC_SHIP_BELL_H
#define SC_SHIP_BELL_H

#include "shm/cache.h"

/*
 * The coordinator sleeps one of two ways (shm/layout.h, ship_sleeping):
 * on the segment's futex, in sc_repl_bell_wait(); or in its event loop,
 * armed by sc_repl_bell_arm(), watching the datagram socket
 * sc_repl_bell_socket_path() names. The second saves the loop a thread's
 * wakeup on every sync write: the writer's datagram wakes the loop itself.
 */

/* The handle's socket to ring through: made at open for a handle that waits for acks. 0 or a negative errno. */
int sc_ship_bell_open(sc_cache *c);
void sc_ship_bell_close(sc_cache *c);

/*
 * Entries just published: wake the coordinator if it sleeps. The tail is
 * published before the look at ship_sleeping, and the coordinator says it
 * sleeps before its last look at the tails: one of the two sees the
 * other. Only the first writer to find it asleep pays for the wake. A
 * datagram that cannot go (no coordinator bound, its queue full) is left:
 * the coordinator's poll ships the entries.
 */
void sc_ship_bell_ring(sc_cache *c);

#endif /* SC_SHIP_BELL_H */
