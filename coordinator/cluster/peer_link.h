/* peer_link.h — the TCP links between the coordinators of one cluster, on supercached's sd-event loop. */
#ifndef SCD_PEER_LINK_H
#define SCD_PEER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/frame.h"
#include "cluster/link_auth.h"

/*
 * One struct scd_peers holds every link of one node: a listening socket, the
 * links it accepted, the ones it dialed, and an entry per known peer. All of
 * it runs on the sd-event loop given at creation: non-blocking sockets, timers
 * on CLOCK_MONOTONIC, no threads, no sleeps. Nothing here is thread-safe.
 *
 * Who dials. Of two nodes, only the one whose name sorts lower (strcmp) dials
 * the other; the higher one only accepts, so a pair keeps one link. The
 * dialer retries while the peer is wanted and down: after 100 ms, doubling up
 * to 2 s, back to 100 ms once a link comes up. A new want() dials on the next
 * loop iteration. connect() and the handshake together must finish within
 * handshake_usec, or the connection is closed and the next retry is armed.
 *
 * Who is accepted. Any connection whose handshake succeeds is a link: same
 * secret (the proofs of link_auth.h), same cluster name, a node name other
 * than ours. A node not (yet) wanted is accepted too — membership may learn
 * of it after it dialed — and has an entry, listed by scd_peers_stats(), for
 * as long as its link is up; forget() closes such a link too, but the node
 * may dial again. A node that dials although its name sorts higher is
 * accepted the same way (the rule only says who dials). A dialed node must
 * answer with the name it was wanted under, or it is refused.
 *
 * A second link for the same node. The link whose handshake completes last
 * replaces the one already up, which is closed: a peer that restarted dials
 * (or is dialed) anew before the old link's heartbeats time out, and the old
 * link is the stale one. The replacement is reported as the node going down,
 * then up again: whatever the caller kept about the old link is gone.
 *
 * The handshake (docs/distributed.md, "Opening a link"). Each side sends a
 * HELLO with a fresh nonce as soon as the TCP connection is open. On the
 * peer's hello, each side checks the cluster name, that the peer does not bear
 * our name and, when it dialed, that the peer is the node it dialed; then it
 * sends its PROOF. On the peer's proof (scd_link_accepts) the link is up. A
 * wrong secret, cluster or name closes the connection, is counted in
 * `refused`, and logged at LOG_WARNING with the peer's address and why.
 * Before a link is up, a frame longer than a hello is refused as a bad frame,
 * so a stranger cannot make this node buffer a 1 MiB body.
 *
 * Frames. A frame the parser refuses (-EMSGSIZE, -EBADMSG, -EPROTO), a body
 * that does not decode, or a frame that parses but does not belong where it
 * came (anything but HELLO first, anything but PROOF second, HELLO or PROOF
 * after the handshake, an ack for a heartbeat never sent) closes the
 * connection, is counted in `bad_frames`, and is logged with the peer's
 * address. The types frame.h does not know are refused by the parser itself.
 * Every other frame after the handshake goes to received(), which may refuse
 * it the same way.
 *
 * Counting. A refusal or bad frame counts for a peer's entry when the
 * connection was dialed to it or its hello named a peer with an entry;
 * otherwise (no hello yet, a hello that did not decode, a name nobody knows)
 * in the totals of unnamed connections, scd_peers_get_totals(); the totals count
 * all of them as well.
 *
 * Writes go through an output buffer per connection; what the socket does not
 * take waits for EPOLLOUT. A connection whose buffer would pass
 * SCD_PEER_OUT_MAX (a peer that does not read) is closed.
 *
 * Heartbeats. Once up, each side sends a HEARTBEAT (a sequence number and its
 * CLOCK_MONOTONIC time in ns) every heartbeat_usec; the other answers a
 * HEARTBEAT_ACK with the same two fields. The sender takes the RTT from its own
 * clock: now minus the time in the ack, accepted only for a sequence number it
 * sent and not yet acked, and a time no earlier than the link came up and no
 * later than now. A link with no ack for dead_usec is down and closed.
 *
 * The callback. changed(node, up, userdata) runs once per transition: up when
 * a handshake completes, down when that link closes for any reason (EOF, an
 * error, a bad frame, no ack for dead_usec, replacement, forget()). It runs
 * from the event loop, in a callback of its own, never from inside a
 * scd_peers_*() call, and in the order the transitions happened; it may call
 * scd_peers_want(), scd_peers_forget() and the stats, never scd_peers_free().
 * After scd_peers_free() no callback runs, even one already due.
 */
struct scd_peers;

/* Bytes an output buffer may hold: a connection that would need more is closed. */
#define SCD_PEER_OUT_MAX (4u << 20)
/* "host:port", "[v6]:port" and the NUL. */
#define SCD_PEER_ADDR_MAX 64u

struct scd_peers_config {
	const char *cluster; /* cluster name (scd_hello_name_valid) */
	const char *node;    /* this node's name (scd_hello_name_valid) */
	/* Copied into the links (and zeroed by scd_peers_free): the caller may forget its own at once. */
	const struct scd_secret *secret;
	/*
	 * Where to listen: "host:port", the host an IPv4 literal, an IPv6 literal
	 * in brackets, or a name resolved once, here (getaddrinfo: the first
	 * address that binds). Port 0 picks a free one: scd_peers_port().
	 */
	const char *listen;
	uint64_t heartbeat_usec; /* > 0 */
	uint64_t dead_usec;	 /* > heartbeat_usec: a link with no heartbeat ack for this long is down */
	uint64_t handshake_usec; /* connect and handshake must finish within it; 0 means dead_usec */
	void (*changed)(const char *node, bool up, void *userdata); /* may be NULL */
	/*
	 * A frame of the link's users (frame.h: replication) came from node, on
	 * its link up: 0, or a negative errno to have the link closed as a bad
	 * frame. It runs from inside the link's own read; it may call
	 * scd_peers_send() and the stats, never scd_peers_forget() or
	 * scd_peers_free(). NULL: every such frame is a bad frame.
	 */
	int (*received)(const char *node, const struct scd_frame *f, void *userdata);
	/* Log lines at syslog levels (LOG_DEBUG ... LOG_ERR); may be NULL. */
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata; /* for both */
};

/*
 * Listen, and start nothing else: peers come with scd_peers_want(). 0 with
 * *out set, or a negative errno with err filled in: -EINVAL (a name, an
 * address or a duration that is not one), -EADDRINUSE and the like from
 * socket(), bind() and listen(), -ENOENT (a host name that does not
 * resolve), -ENOMEM.
 */
int scd_peers_new(sd_event *event, const struct scd_peers_config *cfg, struct scd_peers **out, char *err,
		  size_t errlen);

/* Close every link and the listener, forget the secret, free it all; no callback runs after it. NULL is fine. */
void scd_peers_free(struct scd_peers *peers);

/* The port the listener is bound to (the one picked when the configuration said 0). */
uint16_t scd_peers_port(const struct scd_peers *peers);

/*
 * Keep a link with node at addr: "host:port" with an IPv4 literal or
 * "[v6]:port" (no names: resolving one would block the loop; membership
 * publishes literals). Dials when node sorts above this node's name, else
 * waits for it to dial. Wanting a node again with another address takes the
 * new one for the next dial (and restarts a dial in progress); a link up
 * stays. 0, or -EINVAL (the name is not one, or ours; the address is not one),
 * -ENOMEM.
 */
int scd_peers_want(struct scd_peers *peers, const char *node, const char *addr);

/* Stop wanting node, close its link (changed(down) follows when it was up), drop its entry. 0, or -ENOENT. */
int scd_peers_forget(struct scd_peers *peers, const char *node);

/*
 * Send a frame to node over its link up. 0 once it is queued, or -ENOTCONN
 * (no link up), -ENOBUFS (its output buffer would pass SCD_PEER_OUT_MAX:
 * nothing queued, the link stays; send again once scd_peers_queued() has
 * gone down), -ENOMEM, or the socket's error (the loop closes the link).
 * Frames to one node arrive in the order sent, on one link; a link replaced
 * or down loses what it had not delivered, and its users hear of it through
 * changed().
 */
int scd_peers_send(struct scd_peers *peers, const char *node, uint8_t type, const void *body, uint32_t len);

/* Bytes queued for node that its socket has not taken yet; 0 when no link is up. */
size_t scd_peers_queued(const struct scd_peers *peers, const char *node);

struct scd_peer_stats {
	char node[SCD_HELLO_NAME_MAX + 1];
	char addr[SCD_PEER_ADDR_MAX]; /* wanted: the address given; else the address the link came from */
	bool wanted;
	bool up;
	uint64_t since_usec;	   /* CLOCK_MONOTONIC: when it last went up or down, or was first wanted */
	uint64_t rtt_ns;	   /* the last heartbeat's round trip; 0 before the first ack */
	uint64_t srtt_ns;	   /* smoothed: srtt += (rtt - srtt) / 8, the first sample taken as is */
	uint64_t last_ack_usec;	   /* CLOCK_MONOTONIC of the last heartbeat ack received; 0 if none */
	uint64_t heartbeats_sent;  /* over all its links */
	uint64_t heartbeats_acked; /* over all its links */
	uint64_t bad_frames;
	uint64_t refused;
	uint64_t timeouts; /* connections of it closed for a handshake that did not finish in time */
	uint64_t dials;	   /* connections this node opened to it */
	uint64_t connects; /* links with it that completed the handshake */
};

/*
 * Every known peer (wanted, or with a link up) into out[0, cap), in name
 * order: the number of known peers, which may be more than cap.
 */
size_t scd_peers_stats(const struct scd_peers *peers, struct scd_peer_stats *out, size_t cap);

struct scd_peers_totals {
	uint64_t bad_frames; /* all of them, named or not */
	uint64_t refused;
	uint64_t timeouts;
	uint64_t unnamed_bad_frames; /* on connections that never named a known peer */
	uint64_t unnamed_refused;
	uint64_t unnamed_timeouts;
	uint64_t accepted; /* TCP connections accepted */
	uint64_t pending;  /* connections open now whose handshake has not finished */
};

void scd_peers_get_totals(const struct scd_peers *peers, struct scd_peers_totals *out);

#endif /* SCD_PEER_LINK_H */
