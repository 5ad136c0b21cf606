/* etcd.h — etcd's v3 JSON gateway over HTTP, on supercached's event loop (libcurl's multi interface). */
#ifndef SCD_ETCD_H
#define SCD_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

/*
 * One client per daemon. Every request is asynchronous: it is handed to
 * libcurl's multi handle, whose sockets and timer are sd-event sources, and
 * its callback runs from the loop, never from inside the call that made it.
 * A request goes to one endpoint; when that one cannot be reached (refused,
 * reset, no answer within the timeout), the client moves on to the next one
 * for the requests after it. A request is never sent twice by the client:
 * only its caller knows whether it is safe to repeat.
 */
struct scd_etcd;
struct scd_etcd_call;
struct scd_etcd_watch;

#define SCD_ETCD_KEY_MAX   512u
#define SCD_ETCD_VALUE_MAX 8192u

/*
 * endpoints: comma-separated http://host:port (at most 16; host a name, an
 * IPv4 address or a bracketed IPv6 one). timeout_usec bounds each unary
 * request, connection included, and a watch stream's connection: from 1 ms
 * on. 0, or -EINVAL (an endpoint that is not http://host:port, or no
 * endpoint, more than 16, a timeout under 1 ms: err says which), -ENOMEM.
 */
int scd_etcd_new(sd_event *event, const char *endpoints, uint64_t timeout_usec, struct scd_etcd **out,
		 char *err, size_t errlen);
/*
 * Cancel every request and watch (no callback runs after this) and free the
 * client, its calls and its watches with it: their pointers are dead after
 * it. NULL is fine; so is calling it from one of the client's callbacks.
 */
void scd_etcd_free(struct scd_etcd *etcd);

/*
 * The outcome of a request. err is 0 and reply the parsed JSON object on an
 * HTTP 200 with a JSON object body; otherwise reply is NULL and err is
 * -ETIMEDOUT (no answer in time: the request may have been applied),
 * -ECONNREFUSED / -EHOSTUNREACH (could not connect: it was not),
 * -ECONNRESET (the connection broke before the whole answer: it may have
 * been), -EPROTO (an answer that is not HTTP 200 with a JSON object, or one
 * with an "error" member, as a streaming endpoint such as
 * /v3/lease/keepalive says its errors: etcd's "message", or why the answer
 * is no answer, is in why), -ENOMEM, or -EIO (any other transfer failure,
 * why says which). The first four move the client to its next endpoint.
 * why is never NULL ("" on success) and lives as long as the call. reply
 * belongs to the client: take a reference (json_object_get) to keep it. A
 * streaming endpoint's reply is its one message, as etcd wraps it:
 * {"result": {...}}. scd_etcd_free() runs no callback at all.
 */
typedef void (*scd_etcd_reply_fn)(int err, struct json_object *reply, const char *why, void *userdata);

/*
 * POST body (ownership taken, even on failure; NULL sends {}) to path
 * ("/v3/kv/txn", "/v3/lease/grant", ...), on its own connection (so libcurl
 * never sends it a second time). *call, when call is not NULL, lets the
 * caller cancel it before its callback ran. 0, or -ENOMEM, or -EINVAL (a
 * path that does not start with '/', no fn, or a client being freed).
 */
int scd_etcd_post(struct scd_etcd *etcd, const char *path, struct json_object *body, scd_etcd_reply_fn fn,
		  void *userdata, struct scd_etcd_call **call);
/* Cancel a request whose callback has not run: it will not run. NULL, or a call whose callback runs, is a no-op. */
void scd_etcd_cancel(struct scd_etcd_call *call);

/*
 * A watch on [key, range_end) from start_revision on (range_end NULL or "":
 * the key alone; start_revision 0: from when the stream is first created):
 * fn runs once per message of the stream that carries events, with the
 * "result" object (its "events", in revision order, its "header"); the
 * stream's "created" message and messages without events are not
 * delivered. When the stream breaks (it ends, the connection fails, a
 * request to its endpoint fails, or etcd sends what is not a watch
 * message, or cancels the watch for another reason than compaction), the
 * watch opens it again on the next endpoint from the revision after the
 * last one delivered, so no event is lost or repeated; it waits 100 ms
 * before the first attempt, doubling up to 2 s until a stream is created
 * again. Until it is back, nothing is called. When the revision it needs
 * is compacted away, fn runs with -ESTALE (and a NULL result) and the watch
 * stops: the caller reads the range again and opens a new watch. fn may
 * free its own watch, or any other. A stream has no overall timeout: its
 * connection has the client's timeout, and TCP keepalive finds a peer that
 * is gone. 0, or -EINVAL (no key, a key or range_end over SCD_ETCD_KEY_MAX,
 * a negative start_revision), -ENOMEM.
 */
typedef void (*scd_etcd_watch_fn)(int err, struct json_object *result, void *userdata);
int scd_etcd_watch(struct scd_etcd *etcd, const char *key, const char *range_end, int64_t start_revision,
		   scd_etcd_watch_fn fn, void *userdata, struct scd_etcd_watch **out);
void scd_etcd_watch_free(struct scd_etcd_watch *w);
/*
 * How many times the watch's stream broke and was (or is about to be)
 * reopened; *why, when why is not NULL, says why the last one broke (NULL
 * when none did). For logs and tests.
 */
unsigned scd_etcd_watch_reconnects(const struct scd_etcd_watch *w, const char **why);

/* A key-value pair from a range or a watch event, with its key and value decoded from base64. */
struct scd_etcd_kv {
	char key[SCD_ETCD_KEY_MAX + 1]; /* NUL-terminated */
	uint8_t value[SCD_ETCD_VALUE_MAX + 1];
	size_t value_len; /* value[value_len] is '\0' */
	int64_t create_revision, mod_revision, version, lease;
};

/*
 * Decode one kv object (a delete event's has only key and mod_revision; a
 * field left out is empty or 0): 0, or -EPROTO (why names the field) when it
 * is not one, a key is empty, holds a NUL or is longer than SCD_ETCD_KEY_MAX,
 * or a value is longer than SCD_ETCD_VALUE_MAX.
 */
int scd_etcd_kv_parse(struct json_object *kv, struct scd_etcd_kv *out, char *why, size_t whylen);

/* A JSON string holding data[0, len) in base64, as the gateway wants keys and values; NULL on no memory. */
struct json_object *scd_etcd_b64(const void *data, size_t len);

/* An int64 field that the gateway sends as a JSON string ("revision": "12"); absent is 0. -EPROTO when not a number. */
int scd_etcd_int(struct json_object *obj, const char *field, int64_t *out);

/* The header's revision of a reply (or of its "result", for a stream's message): 0, or -EPROTO when there is none. */
int scd_etcd_revision(struct json_object *reply, int64_t *out);

/*
 * The end of the range holding every key that starts with prefix: prefix
 * with its last byte plus one (trailing 0xff bytes dropped first). "" when
 * prefix is empty, all 0xff, or does not fit in outlen.
 */
void scd_etcd_prefix_end(const char *prefix, char *out, size_t outlen);

#endif /* SCD_ETCD_H */
