/* tcp_util.h — blocking TCP helpers for the cluster run's peers: whole reads and writes, a connect with retries. */
#ifndef TCP_UTIL_H
#define TCP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A connected socket to ip:port with TCP_NODELAY, tried for up to timeout_ms; -1 with the reason. */
int tcp_connect(const char *ip, uint16_t port, int timeout_ms);

/* A listening socket on ip:port; -1 with the reason. */
int tcp_listen(const char *ip, uint16_t port);

/* All of buf[0, n): 0, or -1 with the reason. */
int tcp_write_all(int fd, const void *buf, size_t n);
int tcp_read_all(int fd, void *buf, size_t n);

#endif /* TCP_UTIL_H */
