/* ship_bell.c — one thread in sc_repl_bell_wait(), an eventfd to the event loop. */
#include "cluster/ship_bell.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* How long the thread sleeps before it looks whether it is to stop: the cost of stopping it. */
#define BELL_SLEEP_NS 50000000ull

struct scd_ship_bell {
	sc_cache *cache;
	int efd;
	sd_event_source *source;
	pthread_t thread;
	bool started;
	bool stopping; /* atomically */
	void (*rung)(void *userdata);
	void *userdata;
};

static void *listen_for_writers(void *arg)
{
	struct scd_ship_bell *b = arg;
	uint64_t seen = 0;

	while (!__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
		/* An eventfd write fails only past a count of 2^64 - 2: one per ring never gets there. */
		if (sc_repl_bell_wait(b->cache, &seen, BELL_SLEEP_NS) > 0 && eventfd_write(b->efd, 1) < 0)
			break;
	return NULL;
}

static int on_rung(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_ship_bell *b = userdata;
	eventfd_t n;

	(void)s;
	(void)revents;
	if (eventfd_read(fd, &n) == 0)
		b->rung(b->userdata);
	return 0;
}

int scd_ship_bell_new(sd_event *event, sc_cache *cache, void (*rung)(void *userdata), void *userdata,
		      struct scd_ship_bell **out)
{
	struct scd_ship_bell *b = calloc(1, sizeof(*b));
	int err;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->cache = cache;
	b->rung = rung;
	b->userdata = userdata;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = b->efd < 0 ? -errno : sd_event_add_io(event, &b->source, b->efd, EPOLLIN, on_rung, b);
	if (!err) {
		err = -pthread_create(&b->thread, NULL, listen_for_writers, b);
		b->started = err == 0;
	}
	if (err) {
		scd_ship_bell_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void scd_ship_bell_free(struct scd_ship_bell *b)
{
	if (!b)
		return;
	__atomic_store_n(&b->stopping, true, __ATOMIC_RELEASE);
	if (b->started)
		pthread_join(b->thread, NULL);
	sd_event_source_disable_unref(b->source);
	if (b->efd >= 0)
		close(b->efd);
	free(b);
}
