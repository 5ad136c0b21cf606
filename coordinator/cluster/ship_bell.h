/* ship_bell.h — the replication logs' doorbell: a thread that sleeps until a writer publishes, and tells the event loop. */
#ifndef SCD_SHIP_BELL_H
#define SCD_SHIP_BELL_H

#include <supercache.h>
#include <systemd/sd-event.h>

/*
 * Without it the primary would see a new write only at its next poll of
 * the logs (replication.h: poll_usec), and a sync write would wait for that
 * poll on top of the round trip. The thread sleeps in sc_repl_bell_wait();
 * a sync or strong writer that publishes entries wakes it (one futex wake
 * while it sleeps, none while it is awake; async writers leave their
 * entries to the poll), and it makes rung(userdata) run on the event loop,
 * through an eventfd. Everything else stays on the event loop: the
 * thread touches the segment's bell and the eventfd, nothing more.
 */
struct scd_ship_bell;

/* 0 and *out, or a negative errno. cache must outlive the bell. */
int scd_ship_bell_new(sd_event *event, sc_cache *cache, void (*rung)(void *userdata), void *userdata,
		      struct scd_ship_bell **out);
/* Stop the thread (within its 50 ms sleep) and free the bell; NULL is a no-op. */
void scd_ship_bell_free(struct scd_ship_bell *b);

#endif /* SCD_SHIP_BELL_H */
