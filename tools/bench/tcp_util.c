/* tcp_util.c — the cluster run's TCP plumbing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "tcp_util.h"
#include "workload.h"

static int address(const char *ip, uint16_t port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? 0 : bench_fail("bad address %s", ip);
}

int tcp_connect(const char *ip, uint16_t port, int timeout_ms)
{
	const uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct sockaddr_in a;
	int one = 1, err = 0;

	if (address(ip, port, &a))
		return -1;
	do {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return bench_fail("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
		err = errno;
		close(fd);
		/* Refused: the server is still starting; it says nothing else. */
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	} while (now_ns() < end);
	return bench_fail("cannot connect to %s:%u: %s", ip, port, strerror(err));
}

int tcp_listen(const char *ip, uint16_t port)
{
	struct sockaddr_in a;
	int one = 1, fd;

	if (address(ip, port, &a))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bench_fail("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
		bench_fail("cannot listen on %s:%u: %s", ip, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return bench_fail("send: %s", w < 0 ? strerror(errno) : "nothing sent");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tcp_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return bench_fail("recv: %s", r < 0 ? strerror(errno) : "the peer closed");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
