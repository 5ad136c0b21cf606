/* etcd.c — etcd's v3 JSON gateway: libcurl's multi interface on sd-event, endpoints, unary requests. */
#include "cluster/etcd_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* A reply larger than this is refused (a range over the whole cluster's keys is far smaller). */
#define ETCD_REPLY_MAX (64u << 20)

/* One socket libcurl watches: its sd-event source, and the list link for scd_etcd_free(). */
struct etcd_socket {
	sd_event_source *source;
	struct etcd_socket *prev, *next;
};

struct scd_etcd_call {
	struct etcd_xfer x;
	struct scd_etcd *etcd;
	struct scd_etcd_call *prev, *next;
	scd_etcd_reply_fn fn;
	void *userdata;
	char *buf;
	size_t len, cap;
	bool too_big;
	bool running; /* its callback is running: scd_etcd_cancel() leaves it alone */
};

static void etcd_destroy(struct scd_etcd *etcd);

/* --- endpoints --- */

/* Whether s is http://host:port: host a name, an IPv4 address or a bracketed IPv6 one; port 1-65535. */
static bool endpoint_valid(const char *s, size_t len)
{
	static const char scheme[] = "http://";
	const char *p = s + strlen(scheme), *end = s + len, *host_end;
	unsigned long port = 0;

	if (len <= strlen(scheme) || strncmp(s, scheme, strlen(scheme)) != 0)
		return false;
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(end - p));
		if (!host_end || host_end == p + 1)
			return false;
		for (const char *c = p + 1; c < host_end; c++)
			if (!strchr("0123456789abcdefABCDEF:.", *c))
				return false;
		host_end++;
	} else {
		host_end = p;
		while (host_end < end && *host_end != ':') {
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
				    *host_end))
				return false;
			host_end++;
		}
		if (host_end == p)
			return false;
	}
	if (host_end >= end || *host_end != ':' || host_end + 1 == end || end - host_end > 6)
		return false;
	for (const char *c = host_end + 1; c < end; c++) {
		if (*c < '0' || *c > '9')
			return false;
		port = port * 10 + (unsigned long)(*c - '0');
	}
	return port >= 1 && port <= 65535;
}

static int parse_endpoints(struct scd_etcd *etcd, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (!endpoint_valid(p, (size_t)(end - p))) {
			snprintf(err, errlen, "etcd endpoint \"%.*s\" is not http://host:port",
				 (int)(end - p), p);
			return -EINVAL;
		}
		if (etcd->n_endpoints == ETCD_ENDPOINTS_MAX) {
			snprintf(err, errlen, "more than %u etcd endpoints", ETCD_ENDPOINTS_MAX);
			return -EINVAL;
		}
		etcd->endpoints[etcd->n_endpoints] = strndup(p, (size_t)(end - p));
		if (!etcd->endpoints[etcd->n_endpoints]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		etcd->n_endpoints++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

void etcd_endpoint_failed(struct scd_etcd *etcd, unsigned index)
{
	if (etcd->current == index)
		etcd->current = (index + 1) % etcd->n_endpoints;
	if (etcd->streams)
		etcd->streams->endpoint_failed(etcd, index);
}

/* --- libcurl on sd-event --- */

static void etcd_dispatch(struct scd_etcd *etcd);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_etcd *etcd = userdata;
	int flags = 0, running;

	(void)s;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & EPOLLERR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(etcd->multi, fd, flags, &running);
	etcd_dispatch(etcd);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_etcd *etcd = userdata;
	int running;

	(void)s;
	(void)usec;
	curl_multi_socket_action(etcd->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	etcd_dispatch(etcd);
	return 0;
}

static void socket_free(struct scd_etcd *etcd, struct etcd_socket *sock)
{
	sd_event_source_disable_unref(sock->source);
	if (sock->prev)
		sock->prev->next = sock->next;
	else
		etcd->sockets = sock->next;
	if (sock->next)
		sock->next->prev = sock->prev;
	free(sock);
}

/* libcurl says which sockets to watch for what: one io source per socket, changed in place. */
static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct scd_etcd *etcd = userp;
	struct etcd_socket *sock = socketp;
	uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sock) {
			socket_free(etcd, sock);
			curl_multi_assign(etcd->multi, fd, NULL);
		}
		return 0;
	}
	if (sock)
		return sd_event_source_set_io_events(sock->source, events) < 0 ? -1 : 0;
	sock = calloc(1, sizeof(*sock));
	if (!sock)
		return -1;
	if (sd_event_add_io(etcd->event, &sock->source, fd, events, on_io, etcd) < 0) {
		free(sock);
		return -1;
	}
	(void)sd_event_source_set_description(sock->source, "etcd-socket");
	sock->next = etcd->sockets;
	if (sock->next)
		sock->next->prev = sock;
	etcd->sockets = sock;
	curl_multi_assign(etcd->multi, fd, sock);
	return 0;
}

/* libcurl's one timeout: -1 disarms it; 0 runs it on the next loop iteration, never from here. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct scd_etcd *etcd = userp;

	(void)multi;
	if (timeout_ms < 0)
		return sd_event_source_set_enabled(etcd->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	if (sd_event_source_set_time_relative(etcd->timer, (uint64_t)timeout_ms * 1000u) < 0 ||
	    sd_event_source_set_enabled(etcd->timer, SD_EVENT_ONESHOT) < 0)
		return -1;
	return 0;
}

/* --- transfers --- */

int etcd_xfer_open(struct scd_etcd *etcd, struct etcd_xfer *x, const char *path, const char *body,
		   curl_write_callback write_fn, void *owner)
{
	size_t n = strlen(etcd->endpoints[x->endpoint]) + strlen(path) + 1;
	char *url = malloc(n);
	bool ok;

	if (!url)
		return -ENOMEM;
	snprintf(url, n, "%s%s", etcd->endpoints[x->endpoint], path);
	x->errbuf[0] = '\0';
	x->easy = curl_easy_init();
	x->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" wait on larger bodies. */
	if (x->headers) {
		struct curl_slist *h = curl_slist_append(x->headers, "Expect:");
		if (h)
			x->headers = h;
		else
			curl_slist_free_all(x->headers), x->headers = NULL;
	}
	/*
	 * A connection of its own for every transfer: libcurl sends a request
	 * again on a fresh connection when a reused one turns out to be dead,
	 * and a request must never be sent twice behind its caller's back.
	 */
	ok = x->easy && x->headers && curl_easy_setopt(x->easy, CURLOPT_URL, url) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_fn) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, owner) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf) == CURLE_OK &&
	     curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(etcd->timeout_usec / 1000u)) ==
		     CURLE_OK;
	free(url);
	if (!ok) {
		etcd_xfer_close(etcd, x, false);
		return -ENOMEM;
	}
	return 0;
}

void etcd_xfer_close(struct scd_etcd *etcd, struct etcd_xfer *x, bool added)
{
	if (x->easy) {
		if (added)
			curl_multi_remove_handle(etcd->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
}

int etcd_curl_errno(struct etcd_xfer *x, CURLcode rc, bool *endpoint_failed)
{
	long os_errno = 0;

	*endpoint_failed = true;
	switch (rc) {
	case CURLE_OK:
		*endpoint_failed = false;
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
		return os_errno == EHOSTUNREACH || os_errno == ENETUNREACH ? -EHOSTUNREACH : -ECONNREFUSED;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		*endpoint_failed = false;
		return -ENOMEM;
	default:
		*endpoint_failed = false;
		return -EIO;
	}
}

/* --- unary requests --- */

static size_t call_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct scd_etcd_call *call = userdata;
	size_t n = size * nmemb;

	if (n > ETCD_REPLY_MAX - call->len) {
		call->too_big = true;
		return 0;
	}
	if (call->len + n + 1 > call->cap) {
		size_t cap = call->cap ? call->cap : 1024;
		char *buf;

		while (cap < call->len + n + 1)
			cap *= 2;
		buf = realloc(call->buf, cap);
		if (!buf)
			return 0;
		call->buf = buf;
		call->cap = cap;
	}
	memcpy(call->buf + call->len, data, n);
	call->len += n;
	call->buf[call->len] = '\0';
	return n;
}

static void call_unlink(struct scd_etcd_call *call)
{
	struct scd_etcd *etcd = call->etcd;

	if (call->prev)
		call->prev->next = call->next;
	else if (etcd->calls == call)
		etcd->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

static void call_free(struct scd_etcd_call *call, bool added)
{
	call_unlink(call);
	etcd_xfer_close(call->etcd, &call->x, added);
	free(call->buf);
	free(call);
}

/*
 * A body that is one JSON object and nothing else but white space: the
 * object, or NULL with why set. json-c's tokener on the exact length, so a
 * NUL inside the body or a second object after the first is refused.
 */
static struct json_object *parse_object(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	size_t used;

	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, text, (int)len);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj) {
		*why = "a reply that is not JSON";
		return NULL;
	}
	while (used < len && strchr(" \t\r\n", text[used]))
		used++;
	if (used < len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*why = used < len ? "a reply with more than one JSON value"
				  : "a reply that is not a JSON object";
		return NULL;
	}
	return obj;
}

/* etcd's error message in a reply: {"error": "...", "message": "..."}, or a stream's {"error": {"message": ...}}. */
static const char *error_message(struct json_object *obj)
{
	struct json_object *e, *m;

	if (json_object_object_get_ex(obj, "message", &m) && json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	if (json_object_object_get_ex(obj, "error", &e)) {
		if (json_object_is_type(e, json_type_string))
			return json_object_get_string(e);
		if (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "message", &m) &&
		    json_object_is_type(m, json_type_string))
			return json_object_get_string(m);
	}
	return NULL;
}

static void call_done(struct etcd_xfer *x, CURLcode rc)
{
	struct scd_etcd_call *call = (struct scd_etcd_call *)x;
	struct scd_etcd *etcd = call->etcd;
	struct json_object *reply = NULL;
	const char *why = NULL;
	char text[CURL_ERROR_SIZE + 64];
	bool failed;
	long status = 0;
	int err = etcd_curl_errno(&call->x, rc, &failed);

	if (failed)
		etcd_endpoint_failed(etcd, call->x.endpoint);
	if (call->too_big) {
		err = -EPROTO;
		snprintf(text, sizeof(text), "a reply over %u bytes", ETCD_REPLY_MAX);
		why = text;
	} else if (err) {
		snprintf(text, sizeof(text), "%s: %s", etcd->endpoints[call->x.endpoint],
			 call->x.errbuf[0] ? call->x.errbuf : curl_easy_strerror(rc));
		why = text;
	} else {
		curl_easy_getinfo(call->x.easy, CURLINFO_RESPONSE_CODE, &status);
		reply = parse_object(call->buf ? call->buf : "", call->len, &why);
		if (status != 200) {
			const char *msg = reply ? error_message(reply) : NULL;

			if (msg) {
				snprintf(text, sizeof(text), "%s", msg);
			} else {
				snprintf(text, sizeof(text), "HTTP %ld without an error message", status);
			}
			why = text;
			err = -EPROTO;
		} else if (!reply) {
			err = -EPROTO;
		} else if (json_object_object_get_ex(reply, "error", NULL)) {
			/* A streaming endpoint (lease keepalive) says its error in a 200. */
			const char *msg = error_message(reply);

			snprintf(text, sizeof(text), "%s", msg ? msg : "an error without a message");
			why = text;
			err = -EPROTO;
		}
		if (err) {
			json_object_put(reply);
			reply = NULL;
		}
	}
	call_unlink(call);
	call->running = true;
	call->fn(err, reply, why ? why : "", call->userdata);
	json_object_put(reply);
	etcd_xfer_close(etcd, &call->x, false);
	free(call->buf);
	free(call);
}

int scd_etcd_post(struct scd_etcd *etcd, const char *path, struct json_object *body, scd_etcd_reply_fn fn,
		  void *userdata, struct scd_etcd_call **out)
{
	struct scd_etcd_call *call;
	int r;

	if (out)
		*out = NULL;
	if (!path || path[0] != '/' || !fn || etcd->freeing) {
		json_object_put(body);
		return -EINVAL;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		json_object_put(body);
		return -ENOMEM;
	}
	call->etcd = etcd;
	call->fn = fn;
	call->userdata = userdata;
	call->x.done = call_done;
	call->x.endpoint = etcd->current;
	r = etcd_xfer_open(etcd, &call->x, path,
			   body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "{}",
			   call_write, call);
	json_object_put(body);
	if (r == 0 && curl_easy_setopt(call->x.easy, CURLOPT_TIMEOUT_MS,
				       (long)(etcd->timeout_usec / 1000u)) != CURLE_OK)
		r = -ENOMEM;
	if (r == 0 && curl_multi_add_handle(etcd->multi, call->x.easy) != CURLM_OK)
		r = -ENOMEM;
	if (r < 0) {
		call_free(call, false);
		return r;
	}
	call->next = etcd->calls;
	if (call->next)
		call->next->prev = call;
	etcd->calls = call;
	if (out)
		*out = call;
	return 0;
}

void scd_etcd_cancel(struct scd_etcd_call *call)
{
	if (call && !call->running)
		call_free(call, true);
}

/* --- the loop --- */

/*
 * Everything a round of libcurl's work finished: what the streams hold
 * first (the watch streams' complete lines: a stream that ended is read to
 * its end before it reconnects), then each finished transfer, through its
 * done callback. Callbacks run only here.
 */
static void etcd_dispatch(struct scd_etcd *etcd)
{
	CURLMsg *msg;
	int left;

	etcd->busy++;
	if (etcd->streams)
		etcd->streams->deliver(etcd);
	while (!etcd->freeing && (msg = curl_multi_info_read(etcd->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct etcd_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is gone once its handle is off the multi handle: what it said is copied above. */
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(etcd->multi, easy);
		x->done(x, rc);
	}
	if (--etcd->busy == 0 && etcd->freeing)
		etcd_destroy(etcd);
}

int scd_etcd_new(sd_event *event, const char *endpoints, uint64_t timeout_usec, struct scd_etcd **out,
		 char *err, size_t errlen)
{
	struct scd_etcd *etcd;
	int r;

	*out = NULL;
	if (!endpoints || !*endpoints) {
		snprintf(err, errlen, "no etcd endpoint");
		return -EINVAL;
	}
	if (timeout_usec < 1000u || timeout_usec / 1000u > (uint64_t)INT32_MAX) {
		snprintf(err, errlen, "etcd request timeout of %llu us is not between 1 ms and 24 days",
			 (unsigned long long)timeout_usec);
		return -EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl does not start");
		return -ENOMEM;
	}
	etcd = calloc(1, sizeof(*etcd));
	if (!etcd) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	etcd->event = sd_event_ref(event);
	etcd->timeout_usec = timeout_usec;
	r = parse_endpoints(etcd, endpoints, err, errlen);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	snprintf(err, errlen, "out of memory");
	etcd->multi = curl_multi_init();
	if (!etcd->multi)
		goto fail;
	if (sd_event_add_time_relative(event, &etcd->timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 1000, on_timer,
				       etcd) < 0 ||
	    sd_event_source_set_enabled(etcd->timer, SD_EVENT_OFF) < 0)
		goto fail;
	(void)sd_event_source_set_description(etcd->timer, "etcd-timer");
	if (curl_multi_setopt(etcd->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(etcd->multi, CURLMOPT_SOCKETDATA, etcd) != CURLM_OK ||
	    curl_multi_setopt(etcd->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(etcd->multi, CURLMOPT_TIMERDATA, etcd) != CURLM_OK)
		goto fail;
	if (errlen)
		err[0] = '\0';
	*out = etcd;
	return 0;
fail:
	etcd_destroy(etcd);
	return r;
}

static void etcd_destroy(struct scd_etcd *etcd)
{
	if (etcd->multi) {
		/* Our callbacks off first: the sockets' sources are freed below, all at once. */
		curl_multi_setopt(etcd->multi, CURLMOPT_SOCKETFUNCTION, NULL);
		curl_multi_setopt(etcd->multi, CURLMOPT_TIMERFUNCTION, NULL);
		curl_multi_cleanup(etcd->multi);
	}
	while (etcd->sockets)
		socket_free(etcd, etcd->sockets);
	sd_event_source_disable_unref(etcd->timer);
	for (unsigned i = 0; i < etcd->n_endpoints; i++)
		free(etcd->endpoints[i]);
	sd_event_unref(etcd->event);
	free(etcd);
}

void scd_etcd_free(struct scd_etcd *etcd)
{
	if (!etcd || etcd->freeing)
		return;
	etcd->freeing = true;
	while (etcd->calls)
		call_free(etcd->calls, true);
	if (etcd->streams)
		etcd->streams->free_all(etcd);
	if (etcd->busy == 0)
		etcd_destroy(etcd);
}
