/* peer_conn.c — one peer link's connection: its buffers, its handshake, its heartbeats. */
#include "cluster/peer_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Room read() gets at a time, and what the input buffer starts with. */
#define IN_CHUNK 16384u
/* Timers fire within a millisecond of their time (sd-event's default slack is 250 ms). */
#define TIMER_ACCURACY_USEC 1000u

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void scd_sockaddr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
	} else {
		snprintf(buf, cap, "?");
	}
}

void scd_conn_free(struct scd_peer_conn *c)
{
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Tell the owner c closes, to be counted as what, then free it. */
static void close_counted(struct scd_peer_conn *c, enum scd_conn_count what, int level, const char *why)
{
	c->cfg->hooks.closed(c->cfg->userdata, c, what, level, why);
	scd_conn_free(c);
}

void scd_conn_close(struct scd_peer_conn *c, int level, const char *why)
{
	close_counted(c, SCD_CONN_COUNT_NONE, level, why);
}

/* Count what, close c saying why at level: always -1, for the caller to return (c is gone). */
static int __attribute__((format(printf, 4, 5)))
drop(struct scd_peer_conn *c, int level, enum scd_conn_count what, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	close_counted(c, what, level, why);
	return -1;
}

static int set_events(struct scd_peer_conn *c, uint32_t events)
{
	int r;

	if (c->events == events)
		return 0;
	r = sd_event_source_set_io_events(c->io, events);
	if (r < 0)
		return r;
	c->events = events;
	return 0;
}

/* Write what the socket takes; wait for EPOLLOUT for the rest. 0, or a negative errno. */
static int flush(struct scd_peer_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->state == SCD_CONN_CONNECTING)
		return 0;
	return set_events(c, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
}

/* Queue a frame and write what can be. 0, or a negative errno (-ENOBUFS: the peer does not read). */
static int send_frame(struct scd_peer_conn *c, uint8_t type, const void *body, uint32_t len)
{
	size_t need = SCD_FRAME_HEADER + (size_t)len, held = c->out_len - c->out_off;

	if (held + need > c->cfg->out_max)
		return -ENOBUFS;
	if (c->out_off && c->out_len + need > c->out_cap) {
		memmove(c->out, c->out + c->out_off, held);
		c->out_off = 0;
		c->out_len = held;
	}
	if (c->out_len + need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < c->out_len + need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	if (scd_frame_put(c->out + c->out_len, c->out_cap - c->out_len, type, body, len) != need)
		return -EINVAL;
	c->out_len += need;
	if (c->state == SCD_CONN_CONNECTING)
		return 0;
	return flush(c);
}

int scd_conn_send(struct scd_peer_conn *c, uint8_t type, const void *body, uint32_t len)
{
	return c->state == SCD_CONN_UP ? send_frame(c, type, body, len) : -ENOTCONN;
}

size_t scd_conn_queued(const struct scd_peer_conn *c)
{
	return c->out_len - c->out_off;
}

static int send_hello(struct scd_peer_conn *c)
{
	uint8_t body[SCD_HELLO_BYTES];
	size_t n = scd_hello_encode(&c->self, body);

	if (!n)
		return -EINVAL;
	return send_frame(c, SCD_FRAME_HELLO, body, (uint32_t)n);
}

static int send_heartbeat(struct scd_peer_conn *c, uint8_t type, const struct scd_heartbeat *h)
{
	uint8_t body[SCD_HEARTBEAT_BYTES];

	return send_frame(c, type, body, (uint32_t)scd_heartbeat_encode(h, body));
}

static int arm(struct scd_peer_conn *c, uint64_t usec)
{
	int r = sd_event_source_set_time(c->timer, usec);

	return r < 0 ? r : sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static int on_hello(struct scd_peer_conn *c, const struct scd_frame *f)
{
	const struct scd_conn_config *cfg = c->cfg;
	uint8_t proof[SCD_PROOF_BYTES];
	int r;

	if (f->type != SCD_FRAME_HELLO)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME, "a frame of type %u before the hello",
			    f->type);
	if (scd_hello_decode(f, &c->theirs))
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME, "a hello that does not decode");
	c->have_theirs = true;
	if (strcmp(c->theirs.cluster, cfg->cluster) != 0)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_REFUSED, "refused: of cluster %s, not %s",
			    c->theirs.cluster, cfg->cluster);
	if (strcmp(c->theirs.node, cfg->node) == 0)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_REFUSED,
			    "refused: the peer bears this node's name");
	if (c->role == SCD_LINK_DIALER && strcmp(c->theirs.node, c->dialed) != 0)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_REFUSED, "refused: it answers as %s",
			    c->theirs.node);
	if (scd_link_proof(&cfg->secret, c->role, &c->self, &c->theirs, proof))
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_REFUSED, "refused: no proof for these hellos");
	r = send_frame(c, SCD_FRAME_PROOF, proof, SCD_PROOF_BYTES);
	if (r < 0)
		return drop(c, LOG_INFO, SCD_CONN_COUNT_NONE, "sending the proof: %s", strerror(-r));
	c->state = SCD_CONN_PROOF;
	return 0;
}

/* Heartbeats start on c, whose link just came up. 0, or a negative errno (c is then to be closed). */
static int start_heartbeats(struct scd_peer_conn *c)
{
	uint64_t now = mono_ns();

	c->up_ns = now;
	c->last_ack_usec = now / 1000;
	c->next_hb_usec = now / 1000;
	c->hb_sent_seq = c->hb_acked_seq = 0;
	return arm(c, c->next_hb_usec);
}

static int on_proof(struct scd_peer_conn *c, const struct scd_frame *f)
{
	uint8_t proof[SCD_PROOF_BYTES];
	const char *why = NULL;
	int r;

	if (f->type != SCD_FRAME_PROOF)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME,
			    "a frame of type %u where the proof belongs", f->type);
	if (scd_proof_decode(f, proof))
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME, "a proof that does not decode");
	if (!scd_link_accepts(&c->cfg->secret, c->role, &c->self, &c->theirs, proof, &why))
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_REFUSED, "refused: %s", why ? why : "?");
	c->state = SCD_CONN_UP;
	r = c->cfg->hooks.up(c->cfg->userdata, c, c->theirs.node);
	if (r >= 0)
		r = start_heartbeats(c);
	if (r < 0)
		return drop(c, LOG_ERR, SCD_CONN_COUNT_NONE, "cannot start its heartbeats: %s", strerror(-r));
	return 0;
}

static int on_heartbeat(struct scd_peer_conn *c, const struct scd_frame *f)
{
	struct scd_heartbeat h;
	uint64_t now;
	int r;

	if (scd_heartbeat_decode(f, &h))
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME, "a heartbeat that does not decode");
	if (f->type == SCD_FRAME_HEARTBEAT) {
		r = send_heartbeat(c, SCD_FRAME_HEARTBEAT_ACK, &h);
		if (r < 0)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_NONE, "answering a heartbeat: %s",
				    strerror(-r));
		return 0;
	}
	now = mono_ns();
	if (h.seq <= c->hb_acked_seq || h.seq > c->hb_sent_seq || h.sent_ns < c->up_ns || h.sent_ns > now)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME,
			    "an ack for heartbeat %" PRIu64 " it was not sent", h.seq);
	c->hb_acked_seq = h.seq;
	c->last_ack_usec = now / 1000;
	c->cfg->hooks.heartbeat_ack(c->cfg->userdata, c, now - h.sent_ns, c->last_ack_usec);
	return 0;
}

/* One frame: 0, or -1 when c was closed. */
static int on_frame(struct scd_peer_conn *c, const struct scd_frame *f)
{
	int r;

	switch (c->state) {
	case SCD_CONN_HELLO:
		return on_hello(c, f);
	case SCD_CONN_PROOF:
		return on_proof(c, f);
	case SCD_CONN_UP:
		if (f->type == SCD_FRAME_HEARTBEAT || f->type == SCD_FRAME_HEARTBEAT_ACK)
			return on_heartbeat(c, f);
		if (f->type == SCD_FRAME_HELLO || f->type == SCD_FRAME_PROOF)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME,
				    "a frame of type %u after the handshake", f->type);
		r = c->cfg->hooks.frame(c->cfg->userdata, c, f);
		if (r < 0)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME,
				    "a frame of type %u it refused: %s", f->type, strerror(-r));
		return 0;
	case SCD_CONN_CONNECTING:
		break;
	}
	return drop(c, LOG_ERR, SCD_CONN_COUNT_NONE, "a frame before the connection opened");
}

static const char *parse_error(int r)
{
	switch (r) {
	case -EMSGSIZE:
		return "a frame longer than the limit";
	case -EBADMSG:
		return "a frame whose checksum does not match";
	default:
		return "a frame of another version, type or header";
	}
}

/* Read what is there, handle every whole frame: 0, or -1 when c was closed. */
static int on_readable(struct scd_peer_conn *c)
{
	size_t off = 0, used;
	struct scd_frame f;
	ssize_t n;
	int r;

	if (c->in_cap - c->in_len < IN_CHUNK / 4 && c->in_cap < IN_CHUNK) {
		uint8_t *p = realloc(c->in, IN_CHUNK);

		if (!p)
			return drop(c, LOG_ERR, SCD_CONN_COUNT_NONE, "no memory for its input");
		c->in = p;
		c->in_cap = IN_CHUNK;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return drop(c, c->state == SCD_CONN_UP ? LOG_WARNING : LOG_INFO, SCD_CONN_COUNT_NONE,
			    "read: %s", strerror(errno));
	}
	if (n == 0)
		return drop(c, c->state == SCD_CONN_UP ? LOG_WARNING : LOG_INFO, SCD_CONN_COUNT_NONE,
			    "closed by the peer");
	c->in_len += (size_t)n;
	for (;;) {
		r = scd_frame_parse(c->in + off, c->in_len - off, &f, &used);
		if (r < 0)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME, "%s", parse_error(r));
		if (r == 0)
			break;
		if (on_frame(c, &f) < 0)
			return -1;
		off += used;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* used is now the size of the frame waiting for more bytes. */
	if (c->state != SCD_CONN_UP && used > SCD_FRAME_HEADER + SCD_HELLO_BYTES)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_BAD_FRAME,
			    "a frame of %zu bytes before the handshake", used);
	if (used > c->in_cap) {
		uint8_t *p = realloc(c->in, used);

		if (!p)
			return drop(c, LOG_ERR, SCD_CONN_COUNT_NONE, "no memory for a frame of %zu bytes",
				    used);
		c->in = p;
		c->in_cap = used;
	}
	return 0;
}

static int on_connected(struct scd_peer_conn *c)
{
	int err = 0, r;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return drop(c, LOG_DEBUG, SCD_CONN_COUNT_NONE, "connect: %s", strerror(err));
	c->state = SCD_CONN_HELLO;
	r = flush(c);
	if (r < 0)
		return drop(c, LOG_INFO, SCD_CONN_COUNT_NONE, "sending the hello: %s", strerror(-r));
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_peer_conn *c = userdata;
	int r;

	(void)s;
	(void)fd;
	if (c->state == SCD_CONN_CONNECTING) {
		if (on_connected(c) < 0)
			return 0;
		revents &= ~(uint32_t)EPOLLOUT;
	}
	if (revents & EPOLLOUT) {
		r = flush(c);
		if (r < 0) {
			drop(c, LOG_WARNING, SCD_CONN_COUNT_NONE, "write: %s", strerror(-r));
			return 0;
		}
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable(c);
	return 0;
}

/* The handshake's deadline, then each heartbeat and the dead check: 0, or -1 when c was closed. */
static int tick(struct scd_peer_conn *c)
{
	const struct scd_conn_config *cfg = c->cfg;
	uint64_t now = mono_ns() / 1000, dead_at;
	struct scd_heartbeat h;
	int r;

	if (c->state != SCD_CONN_UP)
		return drop(c, LOG_INFO, SCD_CONN_COUNT_TIMEOUT, "no handshake within %" PRIu64 " ms",
			    cfg->handshake_usec / 1000);
	if (now - c->last_ack_usec >= cfg->dead_usec)
		return drop(c, LOG_WARNING, SCD_CONN_COUNT_NONE, "no heartbeat ack for %" PRIu64 " ms: down",
			    (now - c->last_ack_usec) / 1000);
	if (now >= c->next_hb_usec) {
		h.seq = ++c->hb_sent_seq;
		h.sent_ns = mono_ns();
		r = send_heartbeat(c, SCD_FRAME_HEARTBEAT, &h);
		if (r == -ENOBUFS)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_NONE,
				    "it does not read: %zu bytes wait for it", cfg->out_max);
		if (r < 0)
			return drop(c, LOG_WARNING, SCD_CONN_COUNT_NONE, "sending a heartbeat: %s",
				    strerror(-r));
		cfg->hooks.heartbeat_sent(cfg->userdata, c);
		c->next_hb_usec += cfg->heartbeat_usec;
		if (c->next_hb_usec <= now)
			c->next_hb_usec = now + cfg->heartbeat_usec;
	}
	dead_at = c->last_ack_usec + cfg->dead_usec;
	r = arm(c, c->next_hb_usec < dead_at ? c->next_hb_usec : dead_at);
	if (r < 0)
		return drop(c, LOG_ERR, SCD_CONN_COUNT_NONE, "cannot arm its timer: %s", strerror(-r));
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	tick(userdata);
	return 0;
}

int scd_conn_new(const struct scd_conn_config *cfg, int fd, const char *dialed, bool connecting,
		 const char *addr, struct scd_peer_conn **out)
{
	struct scd_peer_conn *c = calloc(1, sizeof(*c));
	int one = 1, r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->cfg = cfg;
	c->fd = fd;
	c->role = dialed ? SCD_LINK_DIALER : SCD_LINK_LISTENER;
	if (dialed)
		snprintf(c->dialed, sizeof(c->dialed), "%s", dialed);
	c->state = connecting ? SCD_CONN_CONNECTING : SCD_CONN_HELLO;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	memcpy(c->self.cluster, cfg->cluster, sizeof(c->self.cluster));
	memcpy(c->self.node, cfg->node, sizeof(c->self.node));
	scd_nonce(c->self.nonce);
	/* Heartbeats are small and their RTT is the point: no Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->events = connecting ? EPOLLOUT : EPOLLIN;
	r = sd_event_add_io(cfg->event, &c->io, fd, c->events, on_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(cfg->event, &c->timer, CLOCK_MONOTONIC, cfg->handshake_usec,
					       TIMER_ACCURACY_USEC, on_timer, c);
	if (r >= 0)
		r = send_hello(c);
	if (r < 0) {
		scd_conn_free(c); /* nobody above knows of it yet */
		return r;
	}
	*out = c;
	return 0;
}
