/* ship_bell.c — a writer's side of the replication logs' doorbell: a futex wake, or a datagram to the event loop. */
#include "mem/ship_bell.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shm/futex.h"

SC_EXPORT int sc_repl_bell_socket_path(sc_cache *c, char *buf, size_t size)
{
	int n;

	sc_check_arg(c && buf, -EINVAL, "cache handle or buffer is NULL");
	n = snprintf(buf, size, "%s/%s.%s.bell", c->dir, c->prefix, c->name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(c->bell_addr.sun_path))
		return sc_fail(-ENAMETOOLONG,
			       "the replication bell's socket path under %s is too long for a unix socket",
			       c->dir);
	return 0;
}

int sc_ship_bell_open(sc_cache *c)
{
	int err;

	c->bell_fd = -1;
	if (!c->waits_acks)
		return 0;
	c->bell_addr.sun_family = AF_UNIX;
	err = sc_repl_bell_socket_path(c, c->bell_addr.sun_path, sizeof(c->bell_addr.sun_path));
	if (err)
		return err;
	c->bell_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->bell_fd < 0)
		return sc_fail(
			-errno,
			"cache \"%s\": cannot make the socket its sync writes wake the coordinator through: %s",
			c->name, sc_strerror(errno));
	return 0;
}

void sc_ship_bell_close(sc_cache *c)
{
	if (c->bell_fd >= 0)
		close(c->bell_fd);
	c->bell_fd = -1;
}

void sc_ship_bell_ring(sc_cache *c)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint32_t how;

	sc_full_barrier();
	if (sc_likely(!sc_read(&h->ship_sleeping)))
		return;
	how = sc_xchg(&h->ship_sleeping, SC_SHIP_AWAKE);
	if (how == SC_SHIP_ON_SOCKET) {
		(void)sendto(c->bell_fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&c->bell_addr, sizeof(c->bell_addr));
	} else if (how == SC_SHIP_ON_FUTEX) {
		sc_add(&h->ship_bell, 1);
		sc_futex_wake(&h->ship_bell, 1);
	}
}
