/* ship_bell.h — the replication logs' doorbell: the event loop sleeps armed on it, and a writer that publishes wakes it. */
#ifndef SCD_SHIP_BELL_H
#define SCD_SHIP_BELL_H

#include <supercache.h>
#include <systemd/sd-event.h>

/*
 * Without it the primary would see a new write only at its next poll of
 * the logs (replication.h: poll_usec), and a sync write would wait for that
 * poll on top of the round trip. The event loop binds the cache's bell
 * socket (sc_repl_bell_socket_path()) and arms the bell before each sleep
 * (sc_repl_bell_arm(), from the source's prepare callback): a sync or
 * strong writer that publishes entries while it sleeps sends one datagram
 * (only the first writer until it sleeps again; async writers leave their
 * entries to the poll), and rung(userdata) runs. Entries published before
 * the arm are found by the arm itself, and rung runs before the sleep.
 * The loop wakes straight from the writer's datagram: no thread in between.
 */
struct scd_ship_bell;

/* 0 and *out, or a negative errno. cache must outlive the bell. */
int scd_ship_bell_new(sd_event *event, sc_cache *cache, void (*rung)(void *userdata), void *userdata,
		      struct scd_ship_bell **out);
/* Unbind the socket and free the bell; NULL is a no-op. */
void scd_ship_bell_free(struct scd_ship_bell *b);

#endif /* SCD_SHIP_BELL_H */
