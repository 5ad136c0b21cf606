/* etcd_watch.c — watch streams: newline-separated JSON messages, reopened where they broke off. */
#include "cluster/etcd_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One message of a stream longer than this is no message: the stream is broken. */
#define WATCH_LINE_MAX	       (4u << 20)
#define WATCH_BACKOFF_MIN_USEC 100000u
#define WATCH_BACKOFF_MAX_USEC 2000000u

struct scd_etcd_watch {
	struct etcd_xfer x;
	struct scd_etcd *etcd;
	struct scd_etcd_watch *prev, *next;
	/* The caller's handle holds one reference; etcd_dispatch() holds one while it reads the stream. */
	unsigned ref;
	bool dead;    /* scd_etcd_watch_free() */
	bool stopped; /* -ESTALE delivered: no stream any more */
	char *key, *range_end;
	/* Where the stream (re)starts: after the last revision delivered; 0 until a "from now" stream is created. */
	int64_t next_rev;
	scd_etcd_watch_fn fn;
	void *userdata;
	char *buf; /* what came and was not read yet */
	size_t len, cap;
	size_t tail; /* where the last incomplete line starts */
	bool overlong;
	sd_event_source *retry;
	uint64_t backoff_usec;
	unsigned reconnects;
	char why[256];
};

static void watch_unref(struct scd_etcd_watch *w)
{
	struct scd_etcd *etcd = w->etcd;

	if (--w->ref)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else if (etcd->watches == w)
		etcd->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	etcd_xfer_close(etcd, &w->x, false);
	sd_event_source_disable_unref(w->retry);
	free(w->key);
	free(w->range_end);
	free(w->buf);
	free(w);
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct scd_etcd_watch *w = userdata;
	size_t n = size * nmemb;
	const char *nl;

	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *buf;

		while (cap < w->len + n + 1)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (!buf)
			return 0;
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	w->buf[w->len] = '\0';
	nl = memrchr(w->buf + w->len - n, '\n', n);
	if (nl)
		w->tail = (size_t)(nl + 1 - w->buf);
	if (w->len - w->tail > WATCH_LINE_MAX) {
		w->overlong = true;
		return 0;
	}
	return n;
}

/* Open the stream from next_rev on the watch's endpoint: 0, or -ENOMEM. */
static int watch_open(struct scd_etcd_watch *w)
{
	struct scd_etcd *etcd = w->etcd;
	struct json_object *body = json_object_new_object(), *create = json_object_new_object(), *key,
			   *end = NULL;
	int r = -ENOMEM;

	w->len = w->tail = 0;
	w->overlong = false;
	key = scd_etcd_b64(w->key, strlen(w->key));
	if (w->range_end)
		end = scd_etcd_b64(w->range_end, strlen(w->range_end));
	if (!body || !create || !key || (w->range_end && !end)) {
		json_object_put(key);
		json_object_put(end);
		json_object_put(create);
		goto out;
	}
	json_object_object_add(create, "key", key);
	if (end)
		json_object_object_add(create, "range_end", end);
	if (w->next_rev > 0)
		json_object_object_add(create, "start_revision", json_object_new_int64(w->next_rev));
	json_object_object_add(body, "create_request", create);
	r = etcd_xfer_open(etcd, &w->x, "/v3/watch",
			   json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), watch_write, w);
	if (r < 0)
		goto out;
	/* No overall timeout on a stream; a peer that is gone is found by TCP keepalive. */
	if (curl_easy_setopt(w->x.easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(w->x.easy, CURLOPT_TCP_KEEPIDLE, 2L) != CURLE_OK ||
	    curl_easy_setopt(w->x.easy, CURLOPT_TCP_KEEPINTVL, 1L) != CURLE_OK ||
	    curl_multi_add_handle(etcd->multi, w->x.easy) != CURLM_OK) {
		etcd_xfer_close(etcd, &w->x, false);
		r = -ENOMEM;
	}
out:
	json_object_put(body);
	return r;
}

static void watch_schedule(struct scd_etcd_watch *w);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_etcd_watch *w = userdata;

	(void)s;
	(void)usec;
	if (w->dead || w->stopped || w->x.easy)
		return 0;
	if (watch_open(w) < 0) {
		snprintf(w->why, sizeof(w->why), "out of memory opening the stream");
		watch_schedule(w);
	}
	return 0;
}

/* Reopen the stream after the backoff, which doubles up to its cap until a stream is created. */
static void watch_schedule(struct scd_etcd_watch *w)
{
	uint64_t delay = w->backoff_usec;

	w->backoff_usec =
		w->backoff_usec * 2 > WATCH_BACKOFF_MAX_USEC ? WATCH_BACKOFF_MAX_USEC : w->backoff_usec * 2;
	if (!w->retry) {
		if (sd_event_add_time_relative(w->etcd->event, &w->retry, CLOCK_MONOTONIC, delay, 1000,
					       on_retry, w) < 0) {
			/* No timer, no memory: the watch stays quiet, as it does until a stream is back. */
			w->retry = NULL;
			return;
		}
		(void)sd_event_source_set_description(w->retry, "etcd-watch-retry");
		return;
	}
	(void)sd_event_source_set_time_relative(w->retry, delay);
	(void)sd_event_source_set_enabled(w->retry, SD_EVENT_ONESHOT);
}

/* The stream broke (why): close it, drop what it had not finished, and reopen on the next endpoint. */
static void watch_break(struct scd_etcd_watch *w, bool added, const char *why)
{
	snprintf(w->why, sizeof(w->why), "%s: %s", w->etcd->endpoints[w->x.endpoint], why);
	etcd_xfer_close(w->etcd, &w->x, added);
	w->len = w->tail = 0;
	if (w->dead || w->stopped)
		return;
	w->x.endpoint = (w->x.endpoint + 1) % w->etcd->n_endpoints;
	w->reconnects++;
	watch_schedule(w);
}

static void watch_stop(struct scd_etcd_watch *w)
{
	w->stopped = true;
	etcd_xfer_close(w->etcd, &w->x, true);
	w->len = w->tail = 0;
	if (w->retry)
		(void)sd_event_source_set_enabled(w->retry, SD_EVENT_OFF);
}

/*
 * Check a message's events: each an object with a "kv" object whose
 * mod_revision is a positive number. Drop those before next_rev (never
 * sent by etcd, but a repeat must not reach the caller). The highest
 * revision in *max (0 when none is left). 0, or -EPROTO with why.
 */
static int check_events(struct scd_etcd_watch *w, struct json_object *events, int64_t *max, const char **why)
{
	*max = 0;
	if (!json_object_is_type(events, json_type_array)) {
		*why = "\"events\" is not an array";
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(events);) {
		struct json_object *ev = json_object_array_get_idx(events, i), *kv;
		int64_t rev;

		if (!json_object_is_type(ev, json_type_object) || !json_object_object_get_ex(ev, "kv", &kv) ||
		    !json_object_is_type(kv, json_type_object)) {
			*why = "an event without a kv object";
			return -EPROTO;
		}
		if (scd_etcd_int(kv, "mod_revision", &rev) < 0 || rev <= 0) {
			*why = "an event without a valid mod_revision";
			return -EPROTO;
		}
		if (rev < w->next_rev) {
			json_object_array_del_idx(events, i, 1);
			continue;
		}
		if (rev > *max)
			*max = rev;
		i++;
	}
	return 0;
}

/* One message of the stream. Returns false when the stream is no longer to be read (broken, stopped, freed). */
static bool watch_line(struct scd_etcd_watch *w, const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *msg, *result, *events, *canceled;
	const char *why = NULL;
	int64_t compact = 0, max = 0;
	char text[200];
	bool go_on = true;

	while (len && strchr(" \t\r", line[len - 1]))
		len--;
	if (!len)
		return true;
	tok = json_tokener_new();
	if (!tok) {
		watch_break(w, true, "out of memory");
		return false;
	}
	msg = json_tokener_parse_ex(tok, line, (int)len);
	if (msg && json_tokener_get_parse_end(tok) != len) {
		json_object_put(msg);
		msg = NULL;
	}
	json_tokener_free(tok);
	if (!msg || !json_object_is_type(msg, json_type_object)) {
		why = "a message that is not a JSON object";
	} else if (!json_object_object_get_ex(msg, "result", &result) ||
		   !json_object_is_type(result, json_type_object)) {
		struct json_object *e, *m;

		why = "a message without a result";
		if (json_object_object_get_ex(msg, "error", &e)) {
			if (json_object_is_type(e, json_type_object) &&
			    json_object_object_get_ex(e, "message", &m))
				e = m;
			snprintf(text, sizeof(text), "etcd: %s", json_object_get_string(e));
			why = text;
		}
	} else if (scd_etcd_int(result, "compact_revision", &compact) < 0) {
		why = "compact_revision is not a number";
	} else if (compact > 0) {
		/* The revision the stream needs is gone: the caller starts over from a read. */
		watch_stop(w);
		w->fn(-ESTALE, NULL, w->userdata);
		go_on = false;
	} else if (json_object_object_get_ex(result, "canceled", &canceled) &&
		   json_object_get_boolean(canceled)) {
		struct json_object *reason;

		snprintf(text, sizeof(text), "etcd canceled the watch: %s",
			 json_object_object_get_ex(result, "cancel_reason", &reason)
				 ? json_object_get_string(reason)
				 : "no reason given");
		why = text;
	} else if (json_object_object_get_ex(result, "events", &events)) {
		if (check_events(w, events, &max, &why) == 0 && max > 0) {
			w->next_rev = max + 1;
			w->fn(0, result, w->userdata);
			go_on = !w->dead && !w->stopped && !w->etcd->freeing;
		}
	} else {
		struct json_object *created;

		if (json_object_object_get_ex(result, "created", &created) &&
		    json_object_get_boolean(created)) {
			int64_t rev;

			/* The stream is up: the next break starts the backoff over. */
			w->backoff_usec = WATCH_BACKOFF_MIN_USEC;
			if (scd_etcd_revision(result, &rev) < 0)
				why = "a created message without a revision";
			else if (w->next_rev == 0)
				w->next_rev =
					rev + 1; /* "from now": what comes after the stream's creation */
		}
	}
	if (why) {
		watch_break(w, true, why);
		go_on = false;
	}
	json_object_put(msg);
	return go_on;
}

/* Read every complete line a stream holds; a partial one waits for the rest. */
static void watch_deliver(struct scd_etcd_watch *w)
{
	size_t pos = 0;

	if (w->dead || w->stopped || !w->len)
		return;
	w->ref++;
	while (pos < w->tail) {
		const char *nl = memchr(w->buf + pos, '\n', w->tail - pos);
		size_t start = pos;

		pos = (size_t)(nl + 1 - w->buf);
		if (!watch_line(w, w->buf + start, (size_t)(nl - (w->buf + start))))
			break;
	}
	/* A break or stop emptied the buffer; otherwise what is left is the partial line. */
	if (w->len && pos <= w->len) {
		memmove(w->buf, w->buf + pos, w->len - pos);
		w->len -= pos;
		w->tail -= pos;
	}
	watch_unref(w);
}

static void watch_deliver_all(struct scd_etcd *etcd)
{
	struct scd_etcd_watch *w = etcd->watches;

	while (w && !etcd->freeing) {
		struct scd_etcd_watch *next;

		w->ref++;
		watch_deliver(w);
		next = w->next;
		watch_unref(w);
		w = next;
	}
}

/* The transfer's done callback: its stream ended (rc). */
static void watch_done(struct etcd_xfer *x, CURLcode rc)
{
	struct scd_etcd_watch *w = (struct scd_etcd_watch *)x;
	struct scd_etcd *etcd = w->etcd;
	char text[CURL_ERROR_SIZE + 64];
	bool failed;
	long status = 0;
	int err;

	/* Its handle is off the multi handle already; the lines that came before the end go first. */
	w->ref++;
	watch_deliver(w);
	if (!w->x.easy || w->dead || w->stopped || etcd->freeing) {
		etcd_xfer_close(etcd, &w->x, false);
		watch_unref(w);
		return;
	}
	err = etcd_curl_errno(&w->x, rc, &failed);
	curl_easy_getinfo(w->x.easy, CURLINFO_RESPONSE_CODE, &status);
	if (w->overlong)
		snprintf(text, sizeof(text), "a message over %u bytes", WATCH_LINE_MAX);
	else if (err)
		snprintf(text, sizeof(text), "%s", w->x.errbuf[0] ? w->x.errbuf : curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(text, sizeof(text), "HTTP %ld", status);
	else
		snprintf(text, sizeof(text), "the stream ended");
	if (failed) {
		unsigned endpoint = w->x.endpoint;

		/* Close ours first, so that etcd_endpoint_failed() does not break it a second time. */
		etcd_xfer_close(etcd, &w->x, false);
		w->x.endpoint = endpoint;
		etcd_endpoint_failed(etcd, endpoint);
	}
	watch_break(w, false, text);
	watch_unref(w);
}

static void watch_endpoint_failed(struct scd_etcd *etcd, unsigned index)
{
	for (struct scd_etcd_watch *w = etcd->watches; w; w = w->next)
		if (w->x.easy && w->x.endpoint == index && !w->dead && !w->stopped)
			watch_break(w, true, "a request to this endpoint failed");
}

static void watch_free_all(struct scd_etcd *etcd)
{
	struct scd_etcd_watch *w = etcd->watches;

	while (w) {
		struct scd_etcd_watch *next;

		/* Held across the free, so that next is read from a watch still there. */
		w->ref++;
		scd_etcd_watch_free(w);
		next = w->next;
		watch_unref(w);
		w = next;
	}
}

/* What the client calls back into: the watch module's side of its loop and of scd_etcd_free(). */
static const struct etcd_streams watch_streams = {
	.deliver = watch_deliver_all,
	.endpoint_failed = watch_endpoint_failed,
	.free_all = watch_free_all,
};

int scd_etcd_watch(struct scd_etcd *etcd, const char *key, const char *range_end, int64_t start_revision,
		   scd_etcd_watch_fn fn, void *userdata, struct scd_etcd_watch **out)
{
	struct scd_etcd_watch *w;
	int r;

	*out = NULL;
	if (!key || !*key || strlen(key) > SCD_ETCD_KEY_MAX ||
	    (range_end && strlen(range_end) > SCD_ETCD_KEY_MAX) || start_revision < 0 || !fn || etcd->freeing)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	etcd->streams = &watch_streams;
	w->x.done = watch_done;
	w->x.endpoint = etcd->current;
	w->etcd = etcd;
	w->ref = 1;
	w->next_rev = start_revision;
	w->fn = fn;
	w->userdata = userdata;
	w->backoff_usec = WATCH_BACKOFF_MIN_USEC;
	w->key = strdup(key);
	w->range_end = range_end && *range_end ? strdup(range_end) : NULL;
	w->next = etcd->watches;
	if (w->next)
		w->next->prev = w;
	etcd->watches = w;
	r = !w->key || (range_end && *range_end && !w->range_end) ? -ENOMEM : watch_open(w);
	if (r < 0) {
		watch_unref(w);
		return r;
	}
	*out = w;
	return 0;
}

void scd_etcd_watch_free(struct scd_etcd_watch *w)
{
	if (!w || w->dead)
		return;
	w->dead = true;
	etcd_xfer_close(w->etcd, &w->x, true);
	if (w->retry)
		(void)sd_event_source_set_enabled(w->retry, SD_EVENT_OFF);
	watch_unref(w);
}

unsigned scd_etcd_watch_reconnects(const struct scd_etcd_watch *w, const char **why)
{
	if (why)
		*why = w->why[0] ? w->why : NULL;
	return w->reconnects;
}
