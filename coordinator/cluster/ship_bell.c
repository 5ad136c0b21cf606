/* ship_bell.c — the event loop sleeps armed on the replication logs' bell: a datagram socket sync writers ring. */
#include "cluster/ship_bell.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster/unix_socket.h"

struct scd_ship_bell {
	sc_cache *cache;
	int fd;
	sd_event_source *source;
	uint64_t seen; /* where the logs stood at the last look */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	void (*rung)(void *userdata);
	void *userdata;
};

/* Before the loop sleeps: say so in the segment, and ship what was published since the last look. */
static int before_sleep(sd_event_source *s, void *userdata)
{
	struct scd_ship_bell *b = userdata;

	(void)s;
	if (sc_repl_bell_arm(b->cache, &b->seen) > 0)
		b->rung(b->userdata);
	return 0;
}

static int on_rung(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_ship_bell *b = userdata;
	char drop[64];

	(void)s;
	(void)revents;
	while (recv(fd, drop, sizeof(drop), MSG_DONTWAIT) >= 0)
		;
	b->rung(b->userdata);
	return 0;
}

static int bind_bell(struct scd_ship_bell *b)
{
	if (sc_repl_bell_socket_path(b->cache, b->path, sizeof(b->path)))
		return -ENAMETOOLONG;
	/* As the forwarding socket beside it: the cache's group may ring. */
	b->fd = scd_unix_bind(b->path, SOCK_DGRAM);
	return b->fd < 0 ? b->fd : 0;
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
	b->fd = -1;
	err = bind_bell(b);
	if (!err)
		err = sd_event_add_io(event, &b->source, b->fd, EPOLLIN, on_rung, b);
	if (err >= 0)
		err = sd_event_source_set_prepare(b->source, before_sleep);
	if (err < 0) {
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
	sd_event_source_disable_unref(b->source);
	if (b->fd >= 0) {
		close(b->fd);
		unlink(b->path);
	}
	free(b);
}
