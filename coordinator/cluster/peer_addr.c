/* peer_addr.c — a peer's "host:port" address, split, and read as a literal IPv4 or IPv6 socket address. */
#include "cluster/peer_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scd_split_addr(const char *addr, char *host, size_t hostcap, char *port, size_t portcap)
{
	const char *colon, *h = addr;
	size_t hl;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL;
		hl = (size_t)(colon - addr);
	}
	if (hl == 0 || hl >= hostcap || !colon[1] || strlen(colon + 1) >= portcap ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strtoul(colon + 1, NULL, 10) > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portcap, "%s", colon + 1);
	return 0;
}

int scd_literal_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1], port[8];
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	if (scd_split_addr(addr, host, sizeof(host), port, sizeof(port)))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (addr[0] != '[' && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)strtoul(port, NULL, 10));
		*len = sizeof(*in);
		return 0;
	}
	if (addr[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)strtoul(port, NULL, 10));
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}
