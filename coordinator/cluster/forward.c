/* forward.c — forwarded writes on the coordinator: the library's socket, the way to each partition's primary, and back. */
#include "cluster/forward.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "cluster/forward_worker.h"
#include "cluster/unix_socket.h"

_Static_assert(sizeof(sc_forward_head) == SCD_FORWARD_HEAD_BYTES, "frame.h knows the head's size");
_Static_assert(SC_FORWARD_MAX + SCD_FORWARD_ID_BYTES <= SCD_FRAME_MAX_BODY, "a request fits a frame");

struct pending;

/* One connection of the library's, and the one request it may have in flight. */
struct conn {
	struct conn *next;
	struct scd_forward *f;
	int fd;
	sd_event_source *source;
	uint8_t *buf; /* the request being read: have of its len bytes */
	size_t have;
	struct pending *waiting;
};

/*
 * A quorum read (SC_FORWARD_OP_EVERY_REPLICA) sent to every replica of its
 * partition: the replies that succeeded so far, bundled as the library
 * takes them (supercache.h), and how many could not.
 */
struct gather {
	uint32_t replicas, needed; /* a strict majority of them */
	uint32_t succeeded, failed;
	uint8_t *bundle; /* a head's room, then each success, padded to 8 */
	size_t bundle_len;
	int first_rc; /* the first failure's, with its reason */
	char first_why[160];
};

/*
 * A request sent on (node: its primary) or given to this node's workers
 * (node ""), waiting for its reply. A quorum read's is the library's
 * request (conn, timer and gather set), and one more per replica (parent
 * set), which its reply is given to.
 */
struct pending {
	struct pending *next;
	struct scd_forward *f;
	uint64_t id;
	uint32_t partition;
	char node[SCD_HELLO_NAME_MAX + 1];
	struct conn *conn; /* NULL once the connection closed */
	sd_event_source *timer;
	struct gather *gather;
	struct pending *parent;
};

struct scd_forward {
	struct scd_forward_config cfg;
	char node[SCD_HELLO_NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	sd_event_source *listen_source;
	struct conn *conns;
	struct pending *pendings;
	uint64_t next_id;
	struct scd_forward_workers *workers;
	struct scd_forward_stats stats;
};

#define LOG(f, level, ...)                                                   \
	do {                                                                 \
		if ((f)->cfg.log)                                            \
			(f)->cfg.log((f)->cfg.userdata, level, __VA_ARGS__); \
	} while (0)

static void conn_close(struct conn *c)
{
	struct scd_forward *f = c->f;

	for (struct conn **p = &f->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c->waiting)
		c->waiting->conn = NULL;
	sd_event_source_disable_unref(c->source);
	close(c->fd);
	free(c->buf);
	free(c);
}

/* Forget p, and a quorum read's requests to its replicas with it (their replies, if any, come late). */
static void pending_free(struct pending *p)
{
	struct scd_forward *f = p->f;

	for (struct pending **q = &f->pendings; *q;) {
		struct pending *k = *q;

		if (k == p || (p->gather && k->parent == p)) {
			*q = k->next;
			if (k != p)
				free(k);
		} else {
			q = &k->next;
		}
	}
	if (p->conn)
		p->conn->waiting = NULL;
	sd_event_source_disable_unref(p->timer);
	if (p->gather)
		free(p->gather->bundle);
	free(p->gather);
	free(p);
}

/*
 * Answer p's connection, if it is still open, with msg[0, len) (NULL:
 * close it instead), and forget p. The library waits for the reply, so
 * the socket takes it whole at once; a client that does not is closed.
 */
static void pending_answer(struct pending *p, const void *msg, size_t len)
{
	struct conn *c = p->conn;

	if (c) {
		c->waiting = NULL;
		p->conn = NULL;
		if (!msg || send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
			conn_close(c);
	}
	pending_free(p);
}

/* Answer p with an error of this coordinator's. */
static void pending_fail(struct pending *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pending_fail(struct pending *p, int rc, const char *fmt, ...)
{
	char msg[256];
	void *reply = NULL;
	size_t len = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sc_forward_reply(rc, msg, &reply, &len) != 0)
		reply = NULL;
	pending_answer(p, reply, len);
	free(reply);
}

static struct pending *pending_find(struct scd_forward *f, uint64_t id, const char *node)
{
	for (struct pending *p = f->pendings; p; p = p->next)
		if (p->id == id && strcmp(p->node, node) == 0)
			return p;
	return NULL;
}

static int timed_out(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pending *p = userdata;

	(void)s;
	(void)usec;
	p->f->stats.timeouts++;
	if (p->gather) {
		pending_fail(p, -ETIMEDOUT,
			     "a quorum read of partition %u: %u of its %u replicas answered within %llu ms, "
			     "%u are needed",
			     p->partition, p->gather->succeeded, p->gather->replicas,
			     (unsigned long long)(p->f->cfg.timeout_usec / 1000), p->gather->needed);
		return 0;
	}
	pending_fail(p, -ETIMEDOUT,
		     "partition %u's primary (%s) did not answer the forwarded write within %llu ms: it may "
		     "or may not have happened",
		     p->partition, p->node[0] ? p->node : p->f->node,
		     (unsigned long long)(p->f->cfg.timeout_usec / 1000));
	return 0;
}

/*
 * A FORWARD or FORWARD_REPLY frame to node: the id, then the message. 0,
 * -ENOMEM, or scd_peers_send()'s error. A reply a link down loses is
 * answered -ECONNRESET by its origin.
 */
static int send_msg(struct scd_forward *f, const char *node, uint8_t type, uint64_t id, const void *msg,
		    size_t len)
{
	uint8_t *body = malloc(SCD_FORWARD_ID_BYTES + len);
	int err;

	if (!body)
		return -ENOMEM;
	for (unsigned i = 0; i < SCD_FORWARD_ID_BYTES; i++)
		body[i] = (uint8_t)(id >> (8 * i));
	memcpy(body + SCD_FORWARD_ID_BYTES, msg, len);
	err = scd_peers_send(f->cfg.peers, node, type, body, (uint32_t)(SCD_FORWARD_ID_BYTES + len));
	free(body);
	return err;
}

/* A quorum read whose majority answered: the bundle goes to the library. */
static void gather_done(struct pending *p)
{
	struct gather *g = p->gather;
	sc_forward_head h = { .len = (uint32_t)g->bundle_len,
			      .version = SC_FORWARD_VERSION,
			      .rc = (int32_t)g->succeeded };

	memcpy(g->bundle, &h, sizeof(h));
	pending_answer(p, g->bundle, g->bundle_len);
}

/* n replicas of p's quorum read could not answer (rc, why: the first's): p fails once a majority no longer can. */
static void gather_failed(struct pending *p, uint32_t n, int rc, const char *why)
{
	struct gather *g = p->gather;

	LOG(p->f, LOG_DEBUG, "a quorum read of partition %u: %u of its %u replicas could not answer (%s)",
	    p->partition, n, g->replicas, why);
	if (!g->failed) {
		g->first_rc = rc;
		snprintf(g->first_why, sizeof(g->first_why), "%s", why);
	}
	g->failed += n;
	if (g->replicas - g->failed < g->needed)
		pending_fail(p, g->first_rc,
			     "a quorum read of partition %u: %u of its %u replicas could not answer, so no "
			     "majority can (the first: %s)",
			     p->partition, g->failed, g->replicas, g->first_why);
}

/* A replica's reply msg[0, len) to p's quorum read. */
static void gather_reply(struct pending *p, const void *msg, size_t len)
{
	struct gather *g = p->gather;
	sc_forward_head h;
	char why[160];
	uint8_t *grown;
	size_t padded = (len + 7u) & ~(size_t)7u;

	if (len < sizeof(h)) {
		gather_failed(p, 1, -EPROTO, "a reply shorter than its head");
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.rc < 0) {
		/* The message follows the head (sc_forward_head: arg is its length). */
		snprintf(why, sizeof(why), "%.*s", (int)(h.arg < len - sizeof(h) ? h.arg : len - sizeof(h)),
			 (const char *)msg + sizeof(h));
		gather_failed(p, 1, h.rc, why);
		return;
	}
	if (g->bundle_len + padded > SC_FORWARD_MAX ||
	    !(grown = realloc(g->bundle, g->bundle_len + padded))) {
		pending_fail(p, -E2BIG, "a quorum read of partition %u: the replicas' answers pass %u bytes",
			     p->partition, SC_FORWARD_MAX);
		return;
	}
	g->bundle = grown;
	memcpy(g->bundle + g->bundle_len, msg, len);
	memset(g->bundle + g->bundle_len + len, 0, padded - len);
	g->bundle_len += padded;
	if (++g->succeeded == g->needed)
		gather_done(p);
}

/* A reply to p, the library's request or a quorum read's request to one replica. */
static void pending_reply(struct pending *p, const void *msg, size_t len)
{
	struct pending *parent = p->parent;

	if (!parent) {
		pending_answer(p, msg, len);
		return;
	}
	pending_free(p);
	gather_reply(parent, msg, len);
}

/*
 * Send p's request, a quorum read, c->buf, to every replica of its
 * partition: this node's workers run this node's part.
 */
static void dispatch_every_replica(struct conn *c, struct pending *p)
{
	struct scd_forward *f = c->f;
	char names[SC_MAX_REPLICATION_FACTOR][SCD_HELLO_NAME_MAX + 1];
	uint32_t n = f->cfg.replicas_of(f->cfg.userdata, p->partition, names);
	struct gather *g = calloc(1, sizeof(*g));
	uint32_t unsent = 0;
	char why[160] = "";
	int first = 0;

	if (!g || !(g->bundle = malloc(sizeof(sc_forward_head)))) {
		free(g);
		pending_fail(p, -ENOMEM, "out of memory for a quorum read");
		return;
	}
	p->gather = g;
	g->bundle_len = sizeof(sc_forward_head);
	g->replicas = n;
	g->needed = n / 2 + 1;
	if (!n) {
		pending_fail(p, -EAGAIN, "partition %u has no replicas now (being assigned): try again",
			     p->partition);
		return;
	}
	f->stats.quorum_reads++;
	for (uint32_t i = 0; i < n; i++) {
		struct pending *k = calloc(1, sizeof(*k));
		bool here = strcmp(names[i], f->node) == 0;
		int err = k ? 0 : -ENOMEM;

		if (k) {
			k->f = f;
			k->id = ++f->next_id;
			k->partition = p->partition;
			k->parent = p;
			snprintf(k->node, sizeof(k->node), "%.*s", (int)SCD_HELLO_NAME_MAX,
				 here ? "" : names[i]);
			err = here ? scd_forward_workers_push(f->workers, "", k->id, c->buf, c->have)
				   : send_msg(f, names[i], SCD_FRAME_FORWARD, k->id, c->buf, c->have);
		}
		if (err) {
			free(k);
			if (!unsent++) {
				first = err == -ENOMEM || err == -EBUSY ? err : -EHOSTUNREACH;
				snprintf(why, sizeof(why), "cannot reach %.*s: %s", (int)SCD_HELLO_NAME_MAX,
					 names[i], strerror(-err));
			}
			continue;
		}
		k->next = f->pendings;
		f->pendings = k;
		if (!here)
			f->stats.sent++;
	}
	/* No reply comes back before this returns: the failures count now, and may end the read. */
	if (unsent)
		gather_failed(p, unsent, first, why);
}

/* The request c has read whole: to the primary, or to the workers here. */
static void dispatch(struct conn *c)
{
	struct scd_forward *f = c->f;
	sc_forward_head h;
	struct pending *p = calloc(1, sizeof(*p));
	const char *primary;
	int err;

	memcpy(&h, c->buf, sizeof(h));
	f->stats.requests++;
	if (!p) {
		conn_close(c);
		return;
	}
	p->f = f;
	p->id = ++f->next_id;
	p->partition = h.partition;
	p->conn = c;
	p->next = f->pendings;
	f->pendings = p;
	c->waiting = p;
	primary = f->cfg.primary_of(f->cfg.userdata, h.partition);
	if (!primary) {
		pending_fail(p, -EINVAL,
			     "a forwarded write names partition %u, which this cache does not have",
			     h.partition);
		return;
	}
	if (!primary[0] && h.op != SC_FORWARD_OP_EVERY_REPLICA) {
		pending_fail(p, -EAGAIN, "partition %u has no primary now (being assigned): try again",
			     h.partition);
		return;
	}
	if (sd_event_add_time_relative(f->cfg.event, &p->timer, CLOCK_MONOTONIC, f->cfg.timeout_usec, 0,
				       timed_out, p) < 0) {
		pending_fail(p, -ENOMEM, "no timer for a forwarded write");
		return;
	}
	if (h.op == SC_FORWARD_OP_EVERY_REPLICA) {
		dispatch_every_replica(c, p);
		return;
	}
	if (strcmp(primary, f->node) == 0) {
		err = scd_forward_workers_push(f->workers, "", p->id, c->buf, c->have);
		if (err)
			pending_fail(p, err,
				     "this node, partition %u's primary, cannot take the write now: %s",
				     h.partition, strerror(-err));
		return;
	}
	snprintf(p->node, sizeof(p->node), "%s", primary);
	err = send_msg(f, primary, SCD_FRAME_FORWARD, p->id, c->buf, c->have);
	if (err == -ENOMEM) {
		pending_fail(p, -ENOMEM, "out of memory to forward a write");
		return;
	}
	if (err) {
		f->stats.unreachable++;
		pending_fail(p, -EHOSTUNREACH,
			     "cannot reach partition %u's primary (%s): %s; the write was not sent",
			     h.partition, primary, strerror(-err));
		return;
	}
	f->stats.sent++;
}

/* Read what c sent; a request read whole is dispatched. */
static int conn_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	struct scd_forward *f = c->f;

	(void)s;
	(void)revents;
	for (;;) {
		size_t want = sizeof(sc_forward_head);
		sc_forward_head h;
		ssize_t n;

		if (c->have >= want) {
			memcpy(&h, c->buf, sizeof(h));
			want = h.len;
		}
		n = recv(fd, c->buf + c->have, want - c->have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			conn_close(c); /* the library closed it, or it broke */
			return 0;
		}
		c->have += (size_t)n;
		if (c->have == sizeof(h) && want == sizeof(h)) {
			uint8_t *grown;

			memcpy(&h, c->buf, sizeof(h));
			if (h.len < sizeof(h) + 8 || h.len > SC_FORWARD_MAX ||
			    h.version != SC_FORWARD_VERSION || !(grown = realloc(c->buf, h.len))) {
				f->stats.refused++;
				LOG(f, LOG_WARNING,
				    "forwarding: closing a connection whose request says %u bytes, version %u",
				    h.len, h.version);
				conn_close(c);
				return 0;
			}
			c->buf = grown;
		} else if (c->have == want) {
			if (c->waiting) {
				f->stats.refused++;
				LOG(f, LOG_WARNING,
				    "forwarding: closing a connection that sent a request before its reply");
				conn_close(c);
				return 0;
			}
			dispatch(c);
			/* dispatch() may have closed c: its reply did not go out. */
			for (struct conn *k = f->conns; k; k = k->next)
				if (k == c) {
					c->have = 0;
					goto next;
				}
			return 0;
		}
	next:;
	}
}

static int accept_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_forward *f = userdata;

	(void)s;
	(void)revents;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0)
			return 0;
		c = calloc(1, sizeof(*c));
		if (!c || !(c->buf = malloc(sizeof(sc_forward_head))) ||
		    sd_event_add_io(f->cfg.event, &c->source, cfd, EPOLLIN, conn_readable, c) < 0) {
			if (c)
				free(c->buf);
			free(c);
			close(cfd);
			continue;
		}
		c->f = f;
		c->fd = cfd;
		c->next = f->conns;
		f->conns = c;
	}
}

/* A job the workers finished: its reply goes to this node's library, or back over the link it came by. */
static void job_done(struct scd_forward_job *j, void *userdata)
{
	struct scd_forward *f = userdata;

	f->stats.served++;
	if (!j->origin[0]) {
		struct pending *p = pending_find(f, j->id, "");

		if (p)
			pending_reply(p, j->msg, j->len);
	} else if (j->msg) {
		(void)send_msg(f, j->origin, SCD_FRAME_FORWARD_REPLY, j->id, j->msg, j->len);
	}
	scd_forward_job_free(j);
}

int scd_forward_received(struct scd_forward *f, const char *node, const struct scd_frame *fr)
{
	struct scd_forward_msg m;
	struct pending *p;

	if (scd_forward_msg_decode(fr, &m))
		return -EPROTO;
	if (fr->type == SCD_FRAME_FORWARD) {
		int err = scd_forward_workers_push(f->workers, node, m.id, m.msg, m.len);
		void *reply;
		size_t len;

		if (err &&
		    sc_forward_reply(
			    err,
			    err == -EBUSY ? "the primary's coordinator has too many forwarded writes queued"
					  : "the primary's coordinator is out of memory",
			    &reply, &len) == 0) {
			(void)send_msg(f, node, SCD_FRAME_FORWARD_REPLY, m.id, reply, len);
			free(reply);
		}
		return 0;
	}
	p = pending_find(f, m.id, node);
	if (!p) {
		f->stats.late++;
		return 0;
	}
	pending_reply(p, m.msg, m.len);
	return 0;
}

void scd_forward_link_down(struct scd_forward *f, const char *node)
{
	struct pending *p;

	/* Each answer may free other requests (a quorum read's, with its replicas'): look again from the start. */
again:
	for (p = f->pendings; p; p = p->next) {
		struct pending *parent = p->parent;

		if (strcmp(p->node, node) != 0)
			continue;
		if (parent) {
			/* A quorum read's request to the replica: one fewer that can answer. */
			pending_free(p);
			gather_failed(parent, 1, -ECONNRESET, "its link went down before it answered");
		} else {
			f->stats.broken++;
			pending_fail(
				p, -ECONNRESET,
				"the link to partition %u's primary (%s) went down before it answered: the "
				"forwarded write may or may not have happened",
				p->partition, node);
		}
		goto again;
	}
}

void scd_forward_get_stats(const struct scd_forward *f, struct scd_forward_stats *out)
{
	*out = f->stats;
}

static int listen_on(struct scd_forward *f, char *err, size_t errlen)
{
	int r = sc_forward_socket_path(f->cfg.cache, f->path, sizeof(f->path));

	if (r) {
		snprintf(err, errlen, "%s", sc_last_error());
		return r;
	}
	r = scd_unix_bind(f->path, SOCK_STREAM);
	if (r >= 0) {
		f->listen_fd = r;
		r = listen(f->listen_fd, 128) ? -errno : 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot listen for forwarded writes on %s: %s", f->path, strerror(-r));
		return r;
	}
	r = sd_event_add_io(f->cfg.event, &f->listen_source, f->listen_fd, EPOLLIN, accept_ready, f);
	if (r < 0)
		snprintf(err, errlen, "cannot watch %s: %s", f->path, strerror(-r));
	return r < 0 ? r : 0;
}

int scd_forward_start(const struct scd_forward_config *cfg, struct scd_forward **out, char *err,
		      size_t errlen)
{
	struct scd_forward *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->cfg = *cfg;
	f->listen_fd = -1;
	snprintf(f->node, sizeof(f->node), "%s", cfg->node);
	f->cfg.node = f->node;
	r = scd_forward_workers_start(cfg->event, cfg->cache, job_done, f, &f->workers);
	if (r)
		snprintf(err, errlen, "cannot start the forwarding workers: %s", strerror(-r));
	else
		r = listen_on(f, err, errlen);
	if (r) {
		scd_forward_free(f);
		return r;
	}
	*out = f;
	return 0;
}

void scd_forward_free(struct scd_forward *f)
{
	if (!f)
		return;
	scd_forward_workers_free(f->workers);
	while (f->conns)
		conn_close(f->conns);
	while (f->pendings)
		pending_free(f->pendings);
	sd_event_source_disable_unref(f->listen_source);
	if (f->listen_fd >= 0) {
		close(f->listen_fd);
		unlink(f->path);
	}
	free(f);
}
