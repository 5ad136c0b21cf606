/* forward_client.c — sending a forwarded write to the local coordinator over its unix socket, and reading the answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "forward/forward_client.h"
#include "mem/read_your_writes.h"
#include "shm/cluster_map.h"

__thread bool sc_fwd_serving;

/* On top of majority_timeout_ms: the coordinator's own wait for the primary is 1 s past it (docs/distributed.md). */
#define CLIENT_SLACK_MS 3000u

SC_EXPORT int sc_forward_socket_path(sc_cache *c, char *buf, size_t size)
{
	int n;

	sc_check_arg(c && buf, -EINVAL, "cache handle or buffer is NULL");
	n = snprintf(buf, size, "%s/%s.%s.sock", c->dir, c->prefix, c->name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return sc_fail(-ENAMETOOLONG,
			       "the forwarding socket's path under %s is too long for a unix socket", c->dir);
	return 0;
}

static int dial(sc_cache *c, uint32_t partition)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t ms = (uint64_t)c->majority_timeout_ms + CLIENT_SLACK_MS;
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	int err = sc_forward_socket_path(c, sa.sun_path, sizeof(sa.sun_path)), fd;

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sc_fail(-errno, "cannot make a socket to forward a write: %s", sc_strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return sc_fail(
			err,
			"cache \"%s\": partition %u's primary is another node, and the write cannot be "
			"forwarded: no coordinator answers at %s (%s)",
			c->name, partition, sa.sun_path, sc_strerror(-err));
	}
	return fd;
}

/* A connection kept from an earlier call (1 in *reused), or a new one; a negative errno. */
static int connection(sc_cache *c, uint32_t partition, bool *reused)
{
	int fd = -1;

	pthread_mutex_lock(&c->fwd_lock);
	if (c->n_fwd_idle)
		fd = c->fwd_idle[--c->n_fwd_idle];
	pthread_mutex_unlock(&c->fwd_lock);
	*reused = fd >= 0;
	return fd >= 0 ? fd : dial(c, partition);
}

static void keep(sc_cache *c, int fd)
{
	pthread_mutex_lock(&c->fwd_lock);
	if (c->n_fwd_idle < sizeof(c->fwd_idle) / sizeof(c->fwd_idle[0])) {
		c->fwd_idle[c->n_fwd_idle++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&c->fwd_lock);
	if (fd >= 0)
		close(fd);
}

void sc_forward_close(sc_cache *c)
{
	for (uint32_t i = 0; i < c->n_fwd_idle; i++)
		close(c->fwd_idle[i]);
	c->n_fwd_idle = 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (r == 0)
			return -ECONNRESET;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The reply on fd, read whole into *buf (for free()): 0, or the error of reading it, with a message. */
static int receive(sc_cache *c, int fd, uint32_t partition, uint8_t **buf)
{
	sc_forward_head h;
	int err = recv_all(fd, (uint8_t *)&h, sizeof(h));

	*buf = NULL;
	if (!err && (h.len < sizeof(h) || h.len > SC_FORWARD_MAX))
		return sc_fail(-EPROTO,
			       "cache \"%s\": the coordinator's reply to a forwarded call says %u bytes",
			       c->name, h.len);
	if (err == -ETIMEDOUT || err == -ECONNRESET)
		return sc_fail(
			err,
			"cache \"%s\": the call forwarded to partition %u's primary got no answer from "
			"the coordinator (%s): it may or may not have happened",
			c->name, partition, err == -ETIMEDOUT ? "timed out" : "it closed the connection");
	if (err)
		return sc_fail(err, "cache \"%s\": reading a forwarded call's answer: %s", c->name,
			       sc_strerror(-err));
	*buf = malloc(h.len);
	if (!*buf)
		return sc_fail(-ENOMEM, "out of memory for a forwarded call's answer");
	memcpy(*buf, &h, sizeof(h));
	err = recv_all(fd, *buf + sizeof(h), h.len - sizeof(h));
	if (err) {
		free(*buf);
		*buf = NULL;
		return sc_fail(err, "cache \"%s\": the answer to a forwarded call broke off: %s", c->name,
			       sc_strerror(-err));
	}
	return 0;
}

/*
 * Send the request for op to the coordinator and read its reply whole into
 * *buf (for free()): 0, or an error with a message (nothing in *buf).
 */
static int exchange(sc_cache *c, uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
		    uint8_t **buf)
{
	void *req;
	size_t len;
	bool reused;
	int fd, err;

	*buf = NULL;
	if (sc_fwd_serving)
		return sc_fail(
			-EAGAIN,
			"cache \"%s\": partition %u's primary is another node now; the write forwarded here "
			"was not applied: try again",
			c->name, partition);
	err = sc_fwd_request_encode(op, partition, arg, t, n, &req, &len);
	if (err)
		return err;
	fd = connection(c, partition, &reused);
	err = fd < 0 ? fd : send_all(fd, req, len);
	/* A kept connection the coordinator closed meanwhile (it restarted): it read nothing of this request. */
	if (err == -EPIPE && reused) {
		close(fd);
		fd = dial(c, partition);
		err = fd < 0 ? fd : send_all(fd, req, len);
	}
	free(req);
	if (fd >= 0 && err)
		err = sc_fail(err, "cache \"%s\": sending a forwarded call to the coordinator: %s", c->name,
			      sc_strerror(-err));
	if (!err)
		err = receive(c, fd, partition, buf);
	/* A reply read to its end leaves the connection ready for the next request. */
	if (!err)
		keep(c, fd);
	else if (fd >= 0)
		close(fd);
	return err;
}

void sc_fwd_values_free(struct sc_fwd_values *v)
{
	sc_fwd_tuples_free(&v->t);
	free(v->held);
	v->held = NULL;
}

int sc_forward_values(sc_cache *c, uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
		      struct sc_fwd_values *vals)
{
	struct sc_fwd_reply rep = { 0 };
	uint8_t *buf;
	int err;

	if (vals)
		memset(vals, 0, sizeof(*vals));
	err = exchange(c, op, partition, arg, t, n, &buf);
	if (err)
		return err;
	err = sc_fwd_reply_decode(buf, ((sc_forward_head *)(void *)buf)->len, &rep);
	/* Where the call wrote, for this handle's later reads (read-your-writes), whatever its result. */
	for (uint32_t i = 0; !err && i < rep.nwritten; i++) {
		const struct sc_log_position at = sc_fwd_reply_written(&rep, i);

		sc_ryw_note(c, at.log, at.epoch, at.lseq);
	}
	/* An error may come from a coordinator, which sends no values: only a success must carry them. */
	if (!err && vals && !rep.has_values && rep.rc >= 0)
		err = sc_fail(-EPROTO, "cache \"%s\": the answer to a forwarded call carries no values",
			      c->name);
	else if (!err && rep.rc < 0)
		err = sc_fail(rep.rc, "%.*s", (int)rep.msg_len, rep.msg);
	else if (!err)
		err = rep.rc;
	if (vals && rep.has_values) {
		vals->t = rep.values;
		vals->held = buf;
		return err;
	}
	sc_fwd_tuples_free(&rep.values);
	free(buf);
	return err;
}

int sc_forward_bundle(sc_cache *c, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
		      struct sc_fwd_bundle *out)
{
	uint8_t *buf;
	int err;

	memset(out, 0, sizeof(*out));
	err = exchange(c, SC_FORWARD_OP_EVERY_REPLICA, partition, arg, t, n, &buf);
	if (err)
		return err;
	err = sc_fwd_bundle_decode(buf, ((sc_forward_head *)(void *)buf)->len, out->replies, &out->n);
	if (!err && out->n == 0) {
		const struct sc_fwd_reply *r = &out->replies[0];

		err = r->rc < 0 ? sc_fail(r->rc, "%.*s", (int)r->msg_len, r->msg)
				: sc_fail(-EPROTO, "cache \"%s\": an empty bundle of replies", c->name);
		sc_fwd_tuples_free(&out->replies[0].values);
	}
	if (err) {
		free(buf);
		return err;
	}
	out->held = buf;
	return 0;
}

void sc_fwd_bundle_free(struct sc_fwd_bundle *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		sc_fwd_tuples_free(&b->replies[i].values);
	b->n = 0;
	free(b->held);
	b->held = NULL;
}

int sc_forward(sc_cache *c, uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n)
{
	return sc_forward_values(c, op, partition, arg, t, n, NULL);
}

int sc_forward_split(sc_cache *c, uint16_t op, const sc_tuple *head, const sc_tuple *t, const uint32_t *part,
		     size_t n, sc_fwd_here_fn here, void *ctx)
{
	const size_t off = head ? 1 : 0;
	uint32_t *node = malloc(n * sizeof(*node));
	sc_tuple *share = malloc((n + off) * sizeof(*share));
	bool *here_too = malloc(n * sizeof(*here_too)), *done = calloc(n, sizeof(*done));
	int first = 0, sum = 0;

	if (!node || !share || !here_too || !done) {
		first = sc_fail(-ENOMEM, "out of memory to split a batch of %zu by primary", n);
		goto out;
	}
	if (head)
		share[0] = *head;
	/* A batch forwarded here runs whole or not at all: no share of it is applied, none sent on. */
	if (sc_fwd_serving) {
		memcpy(share + off, t, n * sizeof(*t));
		first = sc_forward(c, op, part[0], 0, share, n + off);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		node[i] = sc_cluster_primary_node(c, part[i], &here_too[i]);
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		int err;

		if (done[i])
			continue;
		for (size_t j = i; j < n; j++)
			if (!done[j] && node[j] == node[i] && here_too[j] == here_too[i]) {
				share[off + m++] = t[j];
				done[j] = true;
			}
		if (here_too[i]) {
			err = here(c, share + off, m, ctx);
			if (err == -EREMOTE)
				err = sc_fail(
					-EAGAIN,
					"cache \"%s\": partition %u's primary moved while its batch was split: "
					"try again",
					c->name, sc_cluster_refused_partition());
		} else {
			err = sc_forward(c, op, part[i], 0, share, m + off);
		}
		sc_tally(err, &sum, &first);
	}
out:
	free(node);
	free(share);
	free(here_too);
	free(done);
	return first ? first : sum;
}
