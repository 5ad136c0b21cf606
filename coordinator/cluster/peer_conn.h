/* peer_conn.h — inside the peer links: one connection's I/O and handshake (peer_conn.c), the set (peer_link.c). */
#ifndef SCD_PEER_CONN_H
#define SCD_PEER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "cluster/frame.h"
#include "cluster/link_auth.h"
#include "cluster/peer_link.h"

/* Connections accepted and still in their handshake: past this, a new one is closed at once. */
#define SCD_PEER_PENDING_MAX 64u

enum scd_conn_state {
	SCD_CONN_CONNECTING, /* dialed, connect() not finished */
	SCD_CONN_HELLO,	     /* our hello sent, waiting for theirs */
	SCD_CONN_PROOF,	     /* their hello in, our proof sent, waiting for theirs */
	SCD_CONN_UP,	     /* the link of its peer */
};

struct scd_peer;

struct scd_peer_conn {
	struct scd_peers *peers;
	struct scd_peer_conn *next, *prev; /* peers->conns */
	/* Dialed: the peer dialed, from the start. Accepted: NULL until the link is up. */
	struct scd_peer *peer;
	enum scd_link_role role;
	enum scd_conn_state state;
	int fd;
	sd_event_source *io;
	sd_event_source *timer; /* the handshake's deadline, then heartbeats and the dead check */
	uint32_t events;
	char addr[SCD_PEER_ADDR_MAX]; /* the other end, for the log */
	struct scd_hello self, theirs;
	bool have_theirs;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	uint64_t up_ns;		/* CLOCK_MONOTONIC when the link came up */
	uint64_t next_hb_usec;	/* when the next heartbeat is due */
	uint64_t last_ack_usec; /* the last ack, or the time the link came up */
	uint64_t hb_sent_seq;	/* the last heartbeat's number (the first is 1) */
	uint64_t hb_acked_seq;	/* the last one acked */
	bool pending;		/* accepted, and counted in peers->pending_accepted */
};

struct scd_peer {
	struct scd_peers *peers;
	struct scd_peer *next, *prev; /* peers->list, in name order */
	char name[SCD_HELLO_NAME_MAX + 1];
	char addr[SCD_PEER_ADDR_MAX];
	bool wanted;
	struct sockaddr_storage sa; /* addr, when wanted */
	socklen_t salen;
	struct scd_peer_conn *link; /* the link up, if any */
	struct scd_peer_conn *dial; /* a connection dialed and not up yet, if any */
	sd_event_source *retry;	    /* the next dial */
	uint64_t backoff_usec;
	uint64_t since_usec;
	uint64_t rtt_ns, srtt_ns, last_ack_usec;
	uint64_t heartbeats_sent, heartbeats_acked, bad_frames, refused, timeouts, dials, connects;
};

struct scd_notice {
	struct scd_notice *next;
	bool up;
	char node[SCD_HELLO_NAME_MAX + 1];
};

struct scd_peers {
	sd_event *event;
	char cluster[SCD_HELLO_NAME_MAX + 1];
	char node[SCD_HELLO_NAME_MAX + 1];
	struct scd_secret secret;
	uint64_t heartbeat_usec, dead_usec, handshake_usec;
	void (*changed)(const char *node, bool up, void *userdata);
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata;
	int listen_fd;
	uint16_t port;
	sd_event_source *listen_io;
	sd_event_source *listen_resume; /* out of descriptors: accept again a little later */
	struct scd_peer *list;
	struct scd_peer_conn *conns;
	size_t pending_accepted;
	struct scd_notice *notices, **notices_tail; /* changed() calls due, in order */
	sd_event_source *notify;
	struct scd_peers_totals totals;
};

/* peer_link.c */
void scd_peers_logf(const struct scd_peers *peers, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t scd_peers_now_usec(const struct scd_peers *peers);
struct scd_peer *scd_peer_find(const struct scd_peers *peers, const char *name);
/* The handshake of c completed (their proof checked): c becomes its peer's link. 0, or -ENOMEM (close c). */
int scd_peers_link_up(struct scd_peer_conn *c);
/* c is closing: its peer, if c was its link or its dial, learns of it. */
void scd_peers_conn_gone(struct scd_peer_conn *c);

/* peer_conn.c */
/*
 * A connection on fd (taken, closed on failure): dialed to peer and still
 * connecting, or accepted (peer NULL) and open. Its hello goes out as soon as
 * it is open. 0 with *out set, or a negative errno.
 */
int scd_conn_new(struct scd_peers *peers, int fd, struct scd_peer *peer, bool connecting, const char *addr,
		 struct scd_peer_conn **out);
/* Close c and free it, saying why at level (no line when why is NULL). */
void scd_conn_close(struct scd_peer_conn *c, int level, const char *why);
/* Start heartbeats on c, whose link just came up. 0, or a negative errno (c is then to be closed). */
int scd_conn_start_heartbeats(struct scd_peer_conn *c);
/* The text of sa, "1.2.3.4:5" or "[::1]:5", into buf. */
void scd_sockaddr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

#endif /* SCD_PEER_CONN_H */
