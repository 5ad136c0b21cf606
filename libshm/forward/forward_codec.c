/* forward_codec.c — forwarded writes as bytes: encoding requests and replies, decoding them with every length checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "forward/forward_codec.h"
#include "shm/error.h"

/* Both ends of a link run this code on x86-64 or another little-endian host: the bytes are the host's. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "forwarded requests are little-endian");
_Static_assert(sizeof(sc_forward_head) == 24, "a forwarded message's head is 24 bytes");
_Static_assert(SC_FWD_READ_COPY == SC_FORWARD_OP_EVERY_REPLICA, "the coordinator asks every replica");

#define PAD8(n) (((n) + 7u) & ~(size_t)7u)

/* A reply's message is cut to this many bytes. */
#define REPLY_MSG_MAX 4096u

static size_t field_bytes(const sc_field *f)
{
	return 8 + (f->type == SC_FIELD_BYTES ? PAD8(f->len) : 8);
}

/* The bytes of a tuple section (the count, then each tuple), or SIZE_MAX when it would pass SC_FORWARD_MAX. */
static size_t tuples_bytes(const sc_tuple *t, size_t n)
{
	size_t size = 8;

	for (size_t i = 0; i < n && size <= SC_FORWARD_MAX; i++) {
		size += 8;
		for (uint32_t j = 0; j < t[i].nfields && size <= SC_FORWARD_MAX; j++)
			size += field_bytes(&t[i].fields[j]);
	}
	return size > SC_FORWARD_MAX ? SIZE_MAX : size;
}

/* Write the tuple section of t[0, n) at buf + at (tuples_bytes() of room, zeroed). */
static void put_tuples(uint8_t *buf, size_t at, const sc_tuple *t, size_t n)
{
	uint32_t count[2] = { (uint32_t)n, 0 };

	memcpy(buf + at, count, sizeof(count));
	at += sizeof(count);
	for (size_t i = 0; i < n; i++) {
		uint32_t nf[2] = { t[i].nfields, 0 };

		memcpy(buf + at, nf, sizeof(nf));
		at += sizeof(nf);
		for (uint32_t j = 0; j < t[i].nfields; j++) {
			const sc_field *f = &t[i].fields[j];
			/* A value of a non-bytes field takes 8 bytes, whatever len an ANY or a capture carries. */
			uint32_t tl[2] = { f->type, f->type == SC_FIELD_BYTES ? f->len : 8 };

			memcpy(buf + at, tl, sizeof(tl));
			at += sizeof(tl);
			if (f->type == SC_FIELD_BYTES) {
				if (f->len)
					memcpy(buf + at, f->v.p, f->len);
				at += PAD8(f->len);
			} else {
				memcpy(buf + at, &f->v, 8);
				at += 8;
			}
		}
	}
}

int sc_fwd_request_encode(uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
			  void **out, size_t *len)
{
	size_t body = tuples_bytes(t, n), size = sizeof(sc_forward_head) + body;
	uint8_t *buf;

	if (body == SIZE_MAX || size > SC_FORWARD_MAX)
		return sc_fail(-E2BIG, "a write forwarded to its partition's primary takes at most %u bytes",
			       SC_FORWARD_MAX);
	buf = calloc(1, size);
	if (!buf)
		return sc_fail(-ENOMEM, "out of memory for a forwarded write of %zu bytes", size);
	sc_forward_head h = { .len = (uint32_t)size,
			      .version = SC_FORWARD_VERSION,
			      .op = op,
			      .partition = partition,
			      .arg = arg };

	memcpy(buf, &h, sizeof(h));
	put_tuples(buf, sizeof(h), t, n);
	*out = buf;
	*len = size;
	return 0;
}

/* The head at buf, checked against len: 0, or -EPROTO. */
static int head_of(const void *buf, size_t len, sc_forward_head *h, const char *what)
{
	if (len < sizeof(*h))
		return sc_fail(-EPROTO, "a forwarded %s of %zu bytes is shorter than its head", what, len);
	memcpy(h, buf, sizeof(*h));
	if (h->len != len || h->version != SC_FORWARD_VERSION)
		return sc_fail(-EPROTO,
			       "a forwarded %s says %u bytes, version %u (it has %zu; version %u is known)",
			       what, h->len, h->version, len, SC_FORWARD_VERSION);
	return 0;
}

void sc_fwd_tuples_free(struct sc_fwd_tuples *t)
{
	free(t->tuples);
	free(t->fields);
	t->tuples = NULL;
	t->fields = NULL;
	t->n = 0;
}

/*
 * Decode the tuple section p[at, len) into *out (its bytes point into p),
 * every count and length checked against what is left: 0, or -EPROTO with
 * a message naming what (a "request", a "reply").
 */
static int get_tuples(const uint8_t *p, size_t at, size_t len, struct sc_fwd_tuples *out, const char *what)
{
	uint32_t count[2];
	size_t nfields = 0;

	memset(out, 0, sizeof(*out));
	if (len - at < sizeof(count))
		return sc_fail(-EPROTO, "a forwarded %s ends before its tuple count", what);
	memcpy(count, p + at, sizeof(count));
	at += sizeof(count);
	/* Each tuple and each field take 8 bytes at least: counts beyond what len holds are lies. */
	if (count[1] != 0 || count[0] > (len - at) / 8)
		return sc_fail(-EPROTO, "a forwarded %s claims %u tuples in %zu bytes", what, count[0], len);
	out->n = count[0];
	out->tuples = calloc(count[0] ? count[0] : 1, sizeof(*out->tuples));
	out->fields = calloc((len - at) / 8 + 1, sizeof(*out->fields));
	if (!out->tuples || !out->fields) {
		sc_fwd_tuples_free(out);
		return sc_fail(-ENOMEM, "out of memory for a forwarded %s of %zu bytes", what, len);
	}
	for (uint32_t i = 0; i < count[0]; i++) {
		uint32_t nf[2];

		if (len - at < sizeof(nf))
			goto short_;
		memcpy(nf, p + at, sizeof(nf));
		at += sizeof(nf);
		if (nf[1] != 0 || nf[0] > (len - at) / 8)
			goto bad;
		out->tuples[i] = (sc_tuple){ nf[0], out->fields + nfields };
		for (uint32_t j = 0; j < nf[0]; j++) {
			sc_field *f = &out->fields[nfields++];
			uint32_t tl[2];

			if (len - at < sizeof(tl))
				goto short_;
			memcpy(tl, p + at, sizeof(tl));
			at += sizeof(tl);
			f->type = tl[0];
			f->len = tl[1];
			if (f->type == SC_FIELD_BYTES) {
				if (len - at < PAD8((size_t)f->len))
					goto short_;
				f->v.p = p + at;
				at += PAD8((size_t)f->len);
			} else if (f->type >= SC_FIELD_INT && f->type <= SC_FIELD_CAPTURE && f->len == 8) {
				if (len - at < 8)
					goto short_;
				memcpy(&f->v, p + at, 8);
				at += 8;
				/* As sc_any() and sc_capture() make them. */
				if (f->type == SC_FIELD_ANY || f->type == SC_FIELD_CAPTURE)
					f->len = 0;
			} else {
				goto bad;
			}
		}
	}
	if (at == len)
		return 0;
bad:
	sc_fwd_tuples_free(out);
	return sc_fail(-EPROTO, "a forwarded %s's tuples do not decode (at byte %zu of %zu)", what, at, len);
short_:
	sc_fwd_tuples_free(out);
	return sc_fail(-EPROTO, "a forwarded %s ends inside a tuple (at byte %zu of %zu)", what, at, len);
}

int sc_fwd_request_decode(const void *buf, size_t len, struct sc_fwd_request *out)
{
	sc_forward_head h;
	struct sc_fwd_tuples t;
	int err = head_of(buf, len, &h, "request");

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	if (h.op < 1 || h.op > SC_FWD_OP_MAX || h.rc != 0)
		return sc_fail(-EPROTO, "a forwarded request names call %u (1 to %u are known)", h.op,
			       SC_FWD_OP_MAX);
	err = get_tuples(buf, sizeof(h), len, &t, "request");
	if (err)
		return err;
	out->op = h.op;
	out->partition = h.partition;
	out->arg = h.arg;
	out->ntuples = t.n;
	out->tuples = t.tuples;
	out->fields = t.fields;
	return 0;
}

void sc_fwd_request_free(struct sc_fwd_request *r)
{
	free(r->tuples);
	free(r->fields);
	r->tuples = NULL;
	r->fields = NULL;
}

bool sc_fwd_reply_fits(const sc_tuple *t, size_t n)
{
	size_t body = tuples_bytes(t, n);

	/* A take writes to one log: its reply says where, in 32 bytes. */
	return body != SIZE_MAX &&
	       sizeof(sc_forward_head) + PAD8(REPLY_MSG_MAX) + 32 + body <= SC_FORWARD_MAX;
}

#define WRITTEN_AT_BYTES 24u

int sc_fwd_reply_encode_written(int rc, const char *msg, const struct sc_log_position *w, uint32_t nw,
				const sc_tuple *t, size_t n, void **out, size_t *len)
{
	size_t msg_len = msg ? strnlen(msg, REPLY_MSG_MAX) : 0;
	size_t body = t ? tuples_bytes(t, n) : 0, written = 8 + (size_t)nw * WRITTEN_AT_BYTES;
	size_t size = sizeof(sc_forward_head) + PAD8(msg_len) + written;
	uint8_t *buf, *at;

	if (body == SIZE_MAX || size + body > SC_FORWARD_MAX) {
		rc = sc_fail(-E2BIG, "the reply would take more than %u bytes", SC_FORWARD_MAX);
		msg = sc_last_error();
		msg_len = strnlen(msg, REPLY_MSG_MAX);
		size = sizeof(sc_forward_head) + PAD8(msg_len) + written;
		t = NULL;
		body = 0;
	}
	size += body;
	buf = calloc(1, size);
	if (!buf)
		return sc_fail(-ENOMEM, "out of memory for a forwarded write's reply");
	sc_forward_head h = {
		.len = (uint32_t)size, .version = SC_FORWARD_VERSION, .rc = rc, .arg = msg_len
	};

	memcpy(buf, &h, sizeof(h));
	if (msg_len)
		memcpy(buf + sizeof(h), msg, msg_len);
	at = buf + sizeof(h) + PAD8(msg_len);
	memcpy(at, &nw, sizeof(nw));
	at += 8;
	for (uint32_t i = 0; i < nw; i++, at += WRITTEN_AT_BYTES) {
		memcpy(at, &w[i].log, sizeof(w[i].log));
		memcpy(at + 8, &w[i].epoch, sizeof(w[i].epoch));
		memcpy(at + 16, &w[i].lseq, sizeof(w[i].lseq));
	}
	if (t)
		put_tuples(buf, (size_t)(at - buf), t, n);
	*out = buf;
	*len = size;
	return 0;
}

int sc_fwd_reply_encode(int rc, const char *msg, const sc_tuple *t, size_t n, void **out, size_t *len)
{
	return sc_fwd_reply_encode_written(rc, msg, NULL, 0, t, n, out, len);
}

struct sc_log_position sc_fwd_reply_written(const struct sc_fwd_reply *r, uint32_t i)
{
	struct sc_log_position a;
	const uint8_t *p = r->written + (size_t)i * WRITTEN_AT_BYTES;

	memcpy(&a.log, p, sizeof(a.log));
	memcpy(&a.epoch, p + 8, sizeof(a.epoch));
	memcpy(&a.lseq, p + 16, sizeof(a.lseq));
	return a;
}

int sc_fwd_reply_decode(const void *buf, size_t len, struct sc_fwd_reply *out)
{
	sc_forward_head h;
	uint32_t count[2];
	size_t at;
	int err = head_of(buf, len, &h, "reply");

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	if (h.op != 0 || h.partition != 0)
		return sc_fail(-EPROTO, "a forwarded reply has a request's fields");
	if (h.arg > len - sizeof(h))
		return sc_fail(-EPROTO, "a forwarded reply's message of %llu bytes is longer than the reply",
			       (unsigned long long)h.arg);
	out->rc = h.rc;
	out->msg = (const char *)buf + sizeof(h);
	out->msg_len = (size_t)h.arg;
	at = sizeof(h) + PAD8(out->msg_len);
	if (at > len || len - at < 8)
		return sc_fail(-EPROTO, "a forwarded reply ends before where its writes went");
	memcpy(count, (const uint8_t *)buf + at, sizeof(count));
	at += 8;
	if (count[1] != 0 || count[0] > (len - at) / WRITTEN_AT_BYTES)
		return sc_fail(-EPROTO, "a forwarded reply says its call wrote %u logs in %zu bytes",
			       count[0], len - at);
	out->nwritten = count[0];
	out->written = (const uint8_t *)buf + at;
	at += (size_t)count[0] * WRITTEN_AT_BYTES;
	if (at == len)
		return 0;
	out->has_values = true;
	return get_tuples(buf, at, len, &out->values, "reply");
}

int sc_fwd_bundle_decode(const void *buf, size_t len, struct sc_fwd_reply *out, uint32_t *n)
{
	sc_forward_head h;
	size_t at = sizeof(h);
	int err = head_of(buf, len, &h, "bundle");

	*n = 0;
	if (err)
		return err;
	if (h.rc < 0)
		return sc_fwd_reply_decode(buf, len, &out[0]);
	if (h.op != 0 || h.partition != 0 || h.arg != 0 || h.rc < 1 ||
	    (uint32_t)h.rc > SC_MAX_REPLICATION_FACTOR)
		return sc_fail(-EPROTO, "a bundle of replies says it holds %d", h.rc);
	for (int i = 0; i < h.rc; i++) {
		sc_forward_head r;

		if (len - at < sizeof(r))
			goto bad;
		memcpy(&r, (const uint8_t *)buf + at, sizeof(r));
		if (r.len < sizeof(r) || r.len > len - at || PAD8(r.len) > len - at)
			goto bad;
		err = sc_fwd_reply_decode((const uint8_t *)buf + at, r.len, &out[*n]);
		if (err)
			goto fail;
		(*n)++;
		at += PAD8(r.len);
	}
	if (at == len)
		return 0;
bad:
	err = sc_fail(-EPROTO, "a bundle of replies does not decode (at byte %zu of %zu)", at, len);
fail:
	while (*n)
		sc_fwd_tuples_free(&out[--*n].values);
	return err;
}

sc_tuple sc_fwd_copy_position_tuple(const struct sc_fwd_copy_position *pos, sc_field *fields)
{
	fields[0] = sc_int((int64_t)pos->last_epoch);
	fields[1] = sc_int((int64_t)pos->last_lseq);
	fields[2] = sc_int((int64_t)pos->committed_lseq);
	fields[3] = sc_int((int64_t)pos->map_epoch);
	return (sc_tuple){ SC_FWD_COPY_POSITION_FIELDS, fields };
}

int sc_fwd_copy_position_of(const sc_tuple *t, struct sc_fwd_copy_position *out)
{
	uint64_t v[SC_FWD_COPY_POSITION_FIELDS];

	if (t->nfields != SC_FWD_COPY_POSITION_FIELDS)
		return sc_fail(-EPROTO, "a replica's position has %u fields", t->nfields);
	for (uint32_t i = 0; i < SC_FWD_COPY_POSITION_FIELDS; i++) {
		if (t->fields[i].type != SC_FIELD_INT || t->fields[i].v.i < 0)
			return sc_fail(-EPROTO, "a replica's position has a field that is no count");
		v[i] = (uint64_t)t->fields[i].v.i;
	}
	*out = (struct sc_fwd_copy_position){ v[0], v[1], v[2], v[3] };
	return 0;
}
