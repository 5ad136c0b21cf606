/* peer_link.c — the set of one node's peer links: listening, dialing with backoff, who is up, the counts. */
#include "cluster/peer_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cluster/peer_addr.h"
#include "cluster/peer_conn.h"

#define BACKOFF_MIN_USEC    (100 * 1000u)
#define BACKOFF_MAX_USEC    (2 * 1000 * 1000u)
#define TIMER_ACCURACY_USEC 1000u
#define LISTEN_BACKLOG	    64
#define LISTEN_PAUSE_USEC   (100 * 1000u)
/* Connections taken per wakeup of the listener, so a flood does not starve the links. */
#define ACCEPT_BURST 16

_Static_assert(SCD_PEER_ADDR_MAX == SCD_CONN_ADDR_MAX, "a connection's address is a peer's address");

/* Connections accepted and still in their handshake: past this, a new one is closed at once. */
#define SCD_PEER_PENDING_MAX 64u

struct scd_peer {
	struct scd_peers *peers;
	struct scd_peer *next, *prev; /* peers->list, in name order */
	char name[SCD_HELLO_NAME_MAX + 1];
	char addr[SCD_PEER_ADDR_MAX];
	bool wanted;
	struct sockaddr_storage sa; /* addr, when wanted */
	socklen_t salen;
	/* Connections whose owner is this peer: */
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

/*
 * Each connection's owner is the peer it counts for: the one dialed, from the
 * start, or the one it became the link of; NULL for one accepted and not up
 * yet, and for one detached to be closed.
 */
struct scd_peers {
	struct scd_conn_config conn; /* event, names, secret, durations: what the connections share */
	void (*changed)(const char *node, bool up, void *userdata);
	int (*received)(const char *node, const struct scd_frame *f, void *userdata);
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata;
	int listen_fd;
	uint16_t port;
	sd_event_source *listen_io;
	sd_event_source *listen_resume; /* out of descriptors: accept again a little later */
	struct scd_peer *list;
	struct scd_peer_conn *conns;		    /* every connection open, through their next and prev */
	size_t pending_accepted;		    /* the connections accepted and marked pending */
	struct scd_notice *notices, **notices_tail; /* changed() calls due, in order */
	sd_event_source *notify;
	struct scd_peers_totals totals;
};

static void __attribute__((format(printf, 3, 4)))
peers_logf(const struct scd_peers *peers, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!peers->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	peers->log(peers->userdata, level, "%s", line);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct scd_peer *peer_find(const struct scd_peers *peers, const char *name)
{
	for (struct scd_peer *p = peers->list; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* The peer c counts for, if any. */
static struct scd_peer *owner_of(const struct scd_peer_conn *c)
{
	return c->owner;
}

/* Whether this node dials name: the lower name of a pair dials. */
static bool dials(const struct scd_peers *peers, const char *name)
{
	return strcmp(peers->conn.node, name) < 0;
}

static struct scd_peer *peer_add(struct scd_peers *peers, const char *name)
{
	struct scd_peer *p = calloc(1, sizeof(*p)), **at = &peers->list, *prev = NULL;

	if (!p)
		return NULL;
	p->peers = peers;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->backoff_usec = BACKOFF_MIN_USEC;
	p->since_usec = now_usec();
	while (*at && strcmp((*at)->name, name) < 0) {
		prev = *at;
		at = &(*at)->next;
	}
	p->next = *at;
	p->prev = prev;
	if (p->next)
		p->next->prev = p;
	*at = p;
	return p;
}

/* Drop p's entry; it has no connection left. */
static void peer_remove(struct scd_peer *p)
{
	struct scd_peers *peers = p->peers;

	if (p->prev)
		p->prev->next = p->next;
	else
		peers->list = p->next;
	if (p->next)
		p->next->prev = p->prev;
	sd_event_source_disable_unref(p->retry);
	free(p);
}

/* c, new, joins the connections open, owned by p (NULL: none yet). */
static void conn_add(struct scd_peers *peers, struct scd_peer_conn *c, struct scd_peer *p)
{
	c->owner = p;
	c->prev = NULL;
	c->next = peers->conns;
	if (c->next)
		c->next->prev = c;
	peers->conns = c;
}

static void conn_remove(struct scd_peers *peers, struct scd_peer_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		peers->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

/* Close c, which p no longer counts as its own: no transition follows from it. */
static void detach_close(struct scd_peer_conn *c, int level, const char *why)
{
	c->owner = NULL;
	scd_conn_close(c, level, why);
}

static int on_notify(sd_event_source *s, void *userdata)
{
	struct scd_peers *peers = userdata;
	struct scd_notice *n;

	(void)s;
	while ((n = peers->notices)) {
		peers->notices = n->next;
		if (!peers->notices)
			peers->notices_tail = &peers->notices;
		if (peers->changed)
			peers->changed(n->node, n->up, peers->userdata);
		free(n);
	}
	return 0;
}

/* Queue changed(name, up) for the loop to call. */
static void notify(struct scd_peers *peers, const char *name, bool up)
{
	struct scd_notice *n = calloc(1, sizeof(*n));

	if (!n) {
		peers_logf(peers, LOG_ERR, "peer links: no memory to report %s %s", name, up ? "up" : "down");
		return;
	}
	n->up = up;
	snprintf(n->node, sizeof(n->node), "%s", name);
	*peers->notices_tail = n;
	peers->notices_tail = &n->next;
	sd_event_source_set_enabled(peers->notify, SD_EVENT_ONESHOT);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);

static void schedule_dial(struct scd_peer *p, uint64_t delay_usec)
{
	struct scd_peers *peers = p->peers;
	int r;

	if (!p->retry) {
		r = sd_event_add_time_relative(peers->conn.event, &p->retry, CLOCK_MONOTONIC, delay_usec,
					       TIMER_ACCURACY_USEC, on_retry, p);
	} else {
		r = sd_event_source_set_time_relative(p->retry, delay_usec);
		if (r >= 0)
			r = sd_event_source_set_enabled(p->retry, SD_EVENT_ONESHOT);
	}
	if (r < 0)
		peers_logf(peers, LOG_ERR, "peer link with %s: cannot arm its dial timer: %s", p->name,
			   strerror(-r));
}

/* The next dial after a failed one, or after a link went down: later each time, up to the maximum. */
static void schedule_redial(struct scd_peer *p)
{
	schedule_dial(p, p->backoff_usec);
	p->backoff_usec = p->backoff_usec * 2 > BACKOFF_MAX_USEC ? BACKOFF_MAX_USEC : p->backoff_usec * 2;
}

static void dial(struct scd_peer *p)
{
	struct scd_peers *peers = p->peers;
	struct scd_peer_conn *c;
	int fd, r;

	fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		peers_logf(peers, LOG_WARNING, "peer link with %s at %s: socket: %s", p->name, p->addr,
			   strerror(errno));
		schedule_redial(p);
		return;
	}
	p->dials++;
	r = connect(fd, (const struct sockaddr *)&p->sa, p->salen);
	if (r < 0 && errno != EINPROGRESS) {
		peers_logf(peers, LOG_DEBUG, "peer link with %s at %s: connect: %s", p->name, p->addr,
			   strerror(errno));
		close(fd);
		schedule_redial(p);
		return;
	}
	r = scd_conn_new(&peers->conn, fd, p->name, r < 0, p->addr, &c);
	if (r < 0) {
		peers_logf(peers, LOG_WARNING, "peer link with %s at %s: %s", p->name, p->addr, strerror(-r));
		schedule_redial(p);
		return;
	}
	conn_add(peers, c, p);
	p->dial = c;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_peer *p = userdata;

	(void)s;
	(void)usec;
	if (p->wanted && !p->link && !p->dial && dials(p->peers, p->name))
		dial(p);
	return 0;
}

/* The handshake of c completed: c becomes the link of node, whose link up before is replaced. */
static int on_conn_up(void *userdata, struct scd_peer_conn *c, const char *node)
{
	struct scd_peers *peers = userdata;
	struct scd_peer *p = owner_of(c);

	if (!p)
		p = peer_find(peers, node);
	if (!p) {
		p = peer_add(peers, node);
		if (!p)
			return -ENOMEM;
		snprintf(p->addr, sizeof(p->addr), "%s", c->addr);
	}
	if (c->pending) {
		c->pending = false;
		peers->pending_accepted--;
	}
	if (p->dial == c)
		p->dial = NULL;
	c->owner = p;
	if (p->link) {
		struct scd_peer_conn *old = p->link;

		p->link = NULL;
		notify(peers, p->name, false);
		detach_close(old, LOG_INFO, "replaced by a newer link");
	}
	if (p->dial) {
		struct scd_peer_conn *d = p->dial;

		p->dial = NULL;
		detach_close(d, LOG_DEBUG, "a link with it is up");
	}
	if (p->retry)
		sd_event_source_set_enabled(p->retry, SD_EVENT_OFF);
	p->link = c;
	p->connects++;
	p->backoff_usec = BACKOFF_MIN_USEC;
	p->since_usec = now_usec();
	peers_logf(peers, LOG_INFO, "peer link with %s at %s up (%s)", p->name, c->addr,
		   c->role == SCD_LINK_DIALER ? "dialed" : "accepted");
	notify(peers, p->name, true);
	return 0;
}

/* Count a refusal or bad frame of c: for the peer it was dialed to or its hello named, else as unnamed. */
static void count(struct scd_peers *peers, const struct scd_peer_conn *c, enum scd_conn_count what)
{
	struct scd_peers_totals *t = &peers->totals;
	struct scd_peer *p = owner_of(c);

	if (what == SCD_CONN_COUNT_NONE)
		return;
	if (!p && c->have_theirs)
		p = peer_find(peers, c->theirs.node);
	switch (what) {
	case SCD_CONN_COUNT_BAD_FRAME:
		t->bad_frames++;
		if (p)
			p->bad_frames++;
		else
			t->unnamed_bad_frames++;
		break;
	case SCD_CONN_COUNT_REFUSED:
		t->refused++;
		if (p)
			p->refused++;
		else
			t->unnamed_refused++;
		break;
	case SCD_CONN_COUNT_TIMEOUT:
		t->timeouts++;
		if (p)
			p->timeouts++;
		else
			t->unnamed_timeouts++;
		break;
	case SCD_CONN_COUNT_NONE:
		break;
	}
}

/* c is closing: count it, say why, and its peer, if c was its link or its dial, learns of it. */
static void on_conn_closed(void *userdata, struct scd_peer_conn *c, enum scd_conn_count what, int level,
			   const char *why)
{
	struct scd_peers *peers = userdata;
	struct scd_peer *p = owner_of(c);
	const char *name = p ? p->name : c->have_theirs ? c->theirs.node : NULL;

	count(peers, c, what);
	if (why) {
		if (name)
			peers_logf(peers, level, "peer link with %s at %s: %s", name, c->addr, why);
		else
			peers_logf(peers, level, "peer link at %s: %s", c->addr, why);
	}
	c->owner = NULL;
	if (p && p->link == c) {
		p->link = NULL;
		p->since_usec = now_usec();
		notify(peers, p->name, false);
		if (!p->wanted)
			peer_remove(p);
		else if (dials(peers, p->name))
			schedule_redial(p);
	} else if (p && p->dial == c) {
		p->dial = NULL;
		if (p->wanted && !p->link)
			schedule_redial(p);
	}
	if (c->pending) {
		peers->pending_accepted--;
		c->pending = false;
	}
	conn_remove(peers, c);
}

static void on_conn_heartbeat_sent(void *userdata, struct scd_peer_conn *c)
{
	struct scd_peer *p = owner_of(c);

	(void)userdata;
	if (p)
		p->heartbeats_sent++;
}

static void on_conn_heartbeat_ack(void *userdata, struct scd_peer_conn *c, uint64_t rtt, uint64_t at_usec)
{
	struct scd_peer *p = owner_of(c);

	(void)userdata;
	if (!p)
		return;
	p->srtt_ns = p->heartbeats_acked && p->srtt_ns
			     ? (uint64_t)((int64_t)p->srtt_ns + ((int64_t)rtt - (int64_t)p->srtt_ns) / 8)
			     : rtt;
	p->rtt_ns = rtt;
	p->last_ack_usec = at_usec;
	p->heartbeats_acked++;
}

static int on_conn_frame(void *userdata, struct scd_peer_conn *c, const struct scd_frame *f)
{
	struct scd_peers *peers = userdata;
	struct scd_peer *p = owner_of(c);

	if (!p || p->link != c || !peers->received)
		return -EPROTO;
	return peers->received(p->name, f, peers->userdata);
}

static int on_listen_resume(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_peers *peers = userdata;

	(void)s;
	(void)usec;
	sd_event_source_set_enabled(peers->listen_io, SD_EVENT_ON);
	return 0;
}

/* accept() fails for want of descriptors or memory: the listener would wake again at once, so it rests. */
static void listen_pause(struct scd_peers *peers)
{
	int r;

	sd_event_source_set_enabled(peers->listen_io, SD_EVENT_OFF);
	if (!peers->listen_resume)
		r = sd_event_add_time_relative(peers->conn.event, &peers->listen_resume, CLOCK_MONOTONIC,
					       LISTEN_PAUSE_USEC, TIMER_ACCURACY_USEC, on_listen_resume,
					       peers);
	else if ((r = sd_event_source_set_time_relative(peers->listen_resume, LISTEN_PAUSE_USEC)) >= 0)
		r = sd_event_source_set_enabled(peers->listen_resume, SD_EVENT_ONESHOT);
	if (r < 0)
		sd_event_source_set_enabled(peers->listen_io, SD_EVENT_ON);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_peers *peers = userdata;

	(void)s;
	(void)revents;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		char addr[SCD_PEER_ADDR_MAX];
		struct scd_peer_conn *c;
		int cfd = accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC), r;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			r = errno;
			peers_logf(peers, LOG_WARNING, "peer links: accept: %s", strerror(r));
			if (r == EMFILE || r == ENFILE || r == ENOBUFS || r == ENOMEM)
				listen_pause(peers);
			break;
		}
		peers->totals.accepted++;
		scd_sockaddr_text((struct sockaddr *)&sa, len, addr, sizeof(addr));
		if (peers->pending_accepted >= SCD_PEER_PENDING_MAX) {
			close(cfd);
			peers->totals.refused++;
			peers->totals.unnamed_refused++;
			peers_logf(peers, LOG_WARNING,
				   "peer link at %s: refused: %u connections are in their handshake already",
				   addr, SCD_PEER_PENDING_MAX);
			continue;
		}
		r = scd_conn_new(&peers->conn, cfd, NULL, false, addr, &c);
		if (r < 0) {
			peers_logf(peers, LOG_WARNING, "peer link at %s: %s", addr, strerror(-r));
			continue;
		}
		conn_add(peers, c, NULL);
		c->pending = true;
		peers->pending_accepted++;
	}
	return 0;
}

static int fail(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static int listen_on(struct scd_peers *peers, const char *listen_addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *res,
			*ai;
	char host[256], port[8];
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int r, one = 1, fd = -1, last = 0;

	if (scd_split_addr(listen_addr, host, sizeof(host), port, sizeof(port)))
		return fail(err, errlen, -EINVAL, "listen address %s is not host:port or [v6]:port",
			    listen_addr);
	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return fail(err, errlen, r == EAI_MEMORY ? -ENOMEM : -ENOENT, "listen address %s: %s",
			    listen_addr, gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
			break;
		last = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail(err, errlen, last ? last : -EADDRNOTAVAIL, "listen address %s: %s", listen_addr,
			    strerror(last ? -last : EADDRNOTAVAIL));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		r = -errno;
		close(fd);
		return fail(err, errlen, r, "listen address %s: getsockname: %s", listen_addr, strerror(-r));
	}
	peers->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						     : ((struct sockaddr_in *)&sa)->sin_port);
	peers->listen_fd = fd;
	r = sd_event_add_io(peers->conn.event, &peers->listen_io, fd, EPOLLIN, on_accept, peers);
	if (r < 0)
		return fail(err, errlen, r, "listen address %s: sd_event_add_io: %s", listen_addr,
			    strerror(-r));
	return 0;
}

static bool name_ok(const char *name)
{
	return name && scd_hello_name_valid(name, strnlen(name, SCD_HELLO_NAME_MAX + 1));
}

int scd_peers_new(sd_event *event, const struct scd_peers_config *cfg, struct scd_peers **out, char *err,
		  size_t errlen)
{
	struct scd_peers *peers;
	int r;

	*out = NULL;
	if (!name_ok(cfg->cluster) || !name_ok(cfg->node))
		return fail(
			err, errlen, -EINVAL,
			"peer links: cluster and node names must be 1 to %u letters, digits, '_', '-', '.'",
			SCD_HELLO_NAME_MAX);
	if (!cfg->secret || cfg->secret->len < SCD_SECRET_MIN || cfg->secret->len > SCD_SECRET_MAX)
		return fail(err, errlen, -EINVAL, "peer links: no secret of %u to %u bytes", SCD_SECRET_MIN,
			    SCD_SECRET_MAX);
	if (!cfg->heartbeat_usec || cfg->dead_usec <= cfg->heartbeat_usec)
		return fail(err, errlen, -EINVAL,
			    "peer links: the heartbeat interval must be above 0 and below the dead time");
	if (!cfg->listen)
		return fail(err, errlen, -EINVAL, "peer links: no listen address");
	peers = calloc(1, sizeof(*peers));
	if (!peers)
		return fail(err, errlen, -ENOMEM, "peer links: out of memory");
	peers->conn.event = sd_event_ref(event);
	peers->listen_fd = -1;
	snprintf(peers->conn.cluster, sizeof(peers->conn.cluster), "%s", cfg->cluster);
	snprintf(peers->conn.node, sizeof(peers->conn.node), "%s", cfg->node);
	memcpy(peers->conn.secret.bytes, cfg->secret->bytes, cfg->secret->len);
	peers->conn.secret.len = cfg->secret->len;
	peers->conn.heartbeat_usec = cfg->heartbeat_usec;
	peers->conn.dead_usec = cfg->dead_usec;
	peers->conn.handshake_usec = cfg->handshake_usec ? cfg->handshake_usec : cfg->dead_usec;
	peers->conn.out_max = SCD_PEER_OUT_MAX;
	peers->conn.hooks.up = on_conn_up;
	peers->conn.hooks.closed = on_conn_closed;
	peers->conn.hooks.heartbeat_sent = on_conn_heartbeat_sent;
	peers->conn.hooks.heartbeat_ack = on_conn_heartbeat_ack;
	peers->conn.hooks.frame = on_conn_frame;
	peers->conn.userdata = peers;
	peers->changed = cfg->changed;
	peers->received = cfg->received;
	peers->log = cfg->log;
	peers->userdata = cfg->userdata;
	peers->notices_tail = &peers->notices;
	r = sd_event_add_defer(event, &peers->notify, on_notify, peers);
	if (r < 0) {
		fail(err, errlen, r, "peer links: sd_event_add_defer: %s", strerror(-r));
	} else {
		sd_event_source_set_enabled(peers->notify, SD_EVENT_OFF);
		r = listen_on(peers, cfg->listen, err, errlen);
	}
	if (r < 0) {
		scd_peers_free(peers);
		return r;
	}
	*out = peers;
	return 0;
}

void scd_peers_free(struct scd_peers *peers)
{
	struct scd_peer_conn *c;
	struct scd_notice *n;

	if (!peers)
		return;
	for (struct scd_peer *p = peers->list; p; p = p->next)
		p->link = p->dial = NULL;
	while ((c = peers->conns)) {
		conn_remove(peers, c);
		scd_conn_free(c); /* no hook runs: no line, no changed() */
	}
	while (peers->list)
		peer_remove(peers->list);
	while ((n = peers->notices)) {
		peers->notices = n->next;
		free(n);
	}
	sd_event_source_disable_unref(peers->notify);
	sd_event_source_disable_unref(peers->listen_io);
	sd_event_source_disable_unref(peers->listen_resume);
	if (peers->listen_fd >= 0)
		close(peers->listen_fd);
	scd_secret_forget(&peers->conn.secret);
	sd_event_unref(peers->conn.event);
	free(peers);
}

uint16_t scd_peers_port(const struct scd_peers *peers)
{
	return peers->port;
}

int scd_peers_want(struct scd_peers *peers, const char *node, const char *addr)
{
	struct sockaddr_storage sa;
	socklen_t len;
	struct scd_peer *p;
	bool fresh;

	if (!name_ok(node) || strcmp(node, peers->conn.node) == 0 || !addr ||
	    strlen(addr) >= SCD_PEER_ADDR_MAX || scd_literal_addr(addr, &sa, &len))
		return -EINVAL;
	p = peer_find(peers, node);
	if (!p) {
		p = peer_add(peers, node);
		if (!p)
			return -ENOMEM;
	}
	fresh = !p->wanted || strcmp(p->addr, addr) != 0;
	if (!p->wanted && !p->link)
		p->since_usec = now_usec();
	p->wanted = true;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->sa = sa;
	p->salen = len;
	if (fresh && !p->link && dials(peers, node)) {
		if (p->dial) {
			struct scd_peer_conn *d = p->dial;

			p->dial = NULL;
			detach_close(d, LOG_DEBUG, "its address changed");
		}
		p->backoff_usec = BACKOFF_MIN_USEC;
		schedule_dial(p, 0);
	}
	return 0;
}

int scd_peers_forget(struct scd_peers *peers, const char *node)
{
	struct scd_peer *p = node ? peer_find(peers, node) : NULL;

	if (!p)
		return -ENOENT;
	p->wanted = false;
	if (p->dial) {
		struct scd_peer_conn *d = p->dial;

		p->dial = NULL;
		detach_close(d, LOG_DEBUG, "no longer wanted");
	}
	if (p->link) {
		struct scd_peer_conn *l = p->link;

		p->link = NULL;
		notify(peers, p->name, false);
		detach_close(l, LOG_INFO, "no longer wanted: closed");
	}
	peer_remove(p);
	return 0;
}

int scd_peers_send(struct scd_peers *peers, const char *node, uint8_t type, const void *body, uint32_t len)
{
	struct scd_peer *p = peer_find(peers, node);

	if (!p || !p->link)
		return -ENOTCONN;
	return scd_conn_send(p->link, type, body, len);
}

size_t scd_peers_queued(const struct scd_peers *peers, const char *node)
{
	const struct scd_peer *p = peer_find(peers, node);

	return p && p->link ? scd_conn_queued(p->link) : 0;
}

size_t scd_peers_stats(const struct scd_peers *peers, struct scd_peer_stats *out, size_t cap)
{
	size_t n = 0;

	for (const struct scd_peer *p = peers->list; p; p = p->next, n++) {
		struct scd_peer_stats *s;

		if (n >= cap)
			continue;
		s = out + n;
		memset(s, 0, sizeof(*s));
		snprintf(s->node, sizeof(s->node), "%s", p->name);
		snprintf(s->addr, sizeof(s->addr), "%s", p->addr);
		s->wanted = p->wanted;
		s->up = p->link != NULL;
		s->since_usec = p->since_usec;
		s->rtt_ns = p->rtt_ns;
		s->srtt_ns = p->srtt_ns;
		s->last_ack_usec = p->last_ack_usec;
		s->heartbeats_sent = p->heartbeats_sent;
		s->heartbeats_acked = p->heartbeats_acked;
		s->bad_frames = p->bad_frames;
		s->refused = p->refused;
		s->timeouts = p->timeouts;
		s->dials = p->dials;
		s->connects = p->connects;
	}
	return n;
}

void scd_peers_get_totals(const struct scd_peers *peers, struct scd_peers_totals *out)
{
	*out = peers->totals;
	out->pending = 0;
	for (const struct scd_peer_conn *c = peers->conns; c; c = c->next)
		if (c->state != SCD_CONN_UP)
			out->pending++;
}
