/* peer_addr.h — a peer's "host:port" address, split, and read as a literal IPv4 or IPv6 socket address. */
#ifndef SCD_PEER_ADDR_H
#define SCD_PEER_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* "host:port" or "[v6]:port" into host and port (a port of 0 to 65535): 0, or -EINVAL. */
int scd_split_addr(const char *addr, char *host, size_t hostcap, char *port, size_t portcap);

/* A literal address ("192.0.2.1:7000", "[2001:db8::1]:7000"): 0 with *sa and *len filled, or -EINVAL. */
int scd_literal_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *len);

#endif /* SCD_PEER_ADDR_H */
