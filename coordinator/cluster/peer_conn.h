/*
 * peer_conn.h — inside the peer links: one connection's I/O, handshake and
 * heartbeats (peer_conn.c). The set of links (peer_link.c) sits above it and
 * calls down into it; the connection only calls back up through the hooks of
 * the configuration it was given, and knows nothing of the set.
 */
#ifndef SCD_PEER_CONN_H
#define SCD_PEER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "cluster/frame.h"
#include "cluster/link_auth.h"

/* "host:port", "[v6]:port" and the NUL: the room for the other end's address. */
#define SCD_CONN_ADDR_MAX 64u

enum scd_conn_state {
	SCD_CONN_CONNECTING, /* dialed, connect() not finished */
	SCD_CONN_HELLO,	     /* our hello sent, waiting for theirs */
	SCD_CONN_PROOF,	     /* their hello in, our proof sent, waiting for theirs */
	SCD_CONN_UP,	     /* the handshake completed: a link */
};

/* What a closing connection is to be counted as. */
enum scd_conn_count {
	SCD_CONN_COUNT_NONE,
	SCD_CONN_COUNT_BAD_FRAME, /* a frame refused by the parser, that does not decode or not belong there */
	SCD_CONN_COUNT_REFUSED,	  /* a handshake refused: cluster, name or proof */
	SCD_CONN_COUNT_TIMEOUT,	  /* no handshake in time */
};

struct scd_peer_conn;

/*
 * How a connection reports upward; userdata is the configuration's. Each runs
 * from inside the connection's own event callbacks, or from scd_conn_close().
 */
struct scd_conn_hooks {
	/*
	 * The handshake of c completed (their proof checked) with the node named
	 * node (c->theirs.node): 0 to keep c as a link (its heartbeats start
	 * then), or a negative errno to have it closed. It must not close c.
	 */
	int (*up)(void *userdata, struct scd_peer_conn *c, const char *node);
	/*
	 * c is closing, to be counted as what; why (NULL: say nothing) is to be
	 * logged at level. c is freed when it returns, and no hook runs for it again.
	 */
	void (*closed)(void *userdata, struct scd_peer_conn *c, enum scd_conn_count what, int level,
		       const char *why);
	/* c sent a heartbeat. */
	void (*heartbeat_sent)(void *userdata, struct scd_peer_conn *c);
	/* c took an ack: the round trip, and the CLOCK_MONOTONIC time it came, c->last_ack_usec. */
	void (*heartbeat_ack)(void *userdata, struct scd_peer_conn *c, uint64_t rtt_ns, uint64_t at_usec);
	/*
	 * A frame of the link's users (anything after the handshake but a
	 * heartbeat) came on c: 0, or a negative errno to have c closed as a bad
	 * frame. It may send on c, never close it.
	 */
	int (*frame)(void *userdata, struct scd_peer_conn *c, const struct scd_frame *f);
};

/* What the connections of one node share: kept by pointer, it must outlive them all. */
struct scd_conn_config {
	sd_event *event;
	char cluster[SCD_HELLO_NAME_MAX + 1];
	char node[SCD_HELLO_NAME_MAX + 1];
	struct scd_secret secret;
	uint64_t heartbeat_usec, dead_usec, handshake_usec;
	size_t out_max; /* bytes an output buffer may hold: a connection that would need more is closed */
	struct scd_conn_hooks hooks;
	void *userdata; /* for the hooks */
};

struct scd_peer_conn {
	const struct scd_conn_config *cfg;
	/* The owner's (who called scd_conn_new()), never read here. */
	void *owner;
	struct scd_peer_conn *next, *prev;
	bool pending;
	/* The connection's own, for the owner to read. */
	enum scd_link_role role;
	enum scd_conn_state state;
	char dialed[SCD_HELLO_NAME_MAX + 1]; /* the node dialed (role SCD_LINK_DIALER), else empty */
	int fd;
	sd_event_source *io;
	sd_event_source *timer; /* the handshake's deadline, then heartbeats and the dead check */
	uint32_t events;
	char addr[SCD_CONN_ADDR_MAX]; /* the other end, for the log */
	struct scd_hello self, theirs;
	bool have_theirs; /* theirs holds the hello they sent */
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	uint64_t up_ns;		/* CLOCK_MONOTONIC when the link came up */
	uint64_t next_hb_usec;	/* when the next heartbeat is due */
	uint64_t last_ack_usec; /* the last ack, or the time the link came up */
	uint64_t hb_sent_seq;	/* the last heartbeat's number (the first is 1) */
	uint64_t hb_acked_seq;	/* the last one acked */
};

/*
 * A connection on fd (taken, closed on failure): dialed to the node named
 * dialed and still connecting when connecting, or accepted (dialed NULL) and
 * open. Its hello goes out as soon as it is open. 0 with *out set, or a
 * negative errno; no hook runs from inside it.
 */
int scd_conn_new(const struct scd_conn_config *cfg, int fd, const char *dialed, bool connecting,
		 const char *addr, struct scd_peer_conn **out);
/*
 * Queue a frame on c (a link up) and write what the socket takes. 0, or
 * -ENOBUFS (the output buffer would pass out_max: nothing queued), -ENOMEM,
 * or the socket's error; c stays open either way: a broken socket closes it
 * from the event loop, never from inside this call.
 */
int scd_conn_send(struct scd_peer_conn *c, uint8_t type, const void *body, uint32_t len);
/* Bytes queued on c that the socket has not taken yet. */
size_t scd_conn_queued(const struct scd_peer_conn *c);
/* Close c and free it: the closed hook runs first (counting nothing), saying why at level. */
void scd_conn_close(struct scd_peer_conn *c, int level, const char *why);
/* Close c and free it without a word: no hook runs. */
void scd_conn_free(struct scd_peer_conn *c);
/* The text of sa, "1.2.3.4:5" or "[::1]:5", into buf. */
void scd_sockaddr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

#endif /* SCD_PEER_CONN_H */
