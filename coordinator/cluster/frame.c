/* frame.c — the frames of a peer link: length-prefixed, checksummed before anything in them is read. */
#include "cluster/frame.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "record/checksum.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The length is the seed: a frame whose length field changed fails its checksum too. */
static uint32_t frame_checksum(const uint8_t *frame, uint32_t len)
{
	return sc_checksum(frame + 8, SCD_FRAME_HEADER - 8 + (size_t)len, len);
}

int scd_frame_parse(const uint8_t *buf, size_t n, struct scd_frame *out, size_t *used)
{
	uint32_t len;

	*used = SCD_FRAME_HEADER;
	if (n < 4)
		return 0;
	len = get32(buf);
	if (len > SCD_FRAME_MAX_BODY)
		return -EMSGSIZE;
	*used = SCD_FRAME_HEADER + (size_t)len;
	if (n < *used)
		return 0;
	if (get32(buf + 4) != frame_checksum(buf, len))
		return -EBADMSG;
	if (buf[8] != SCD_FRAME_VERSION || buf[10] || buf[11] || buf[9] == 0 || buf[9] > SCD_FRAME_TYPE_MAX)
		return -EPROTO;
	out->type = buf[9];
	out->len = len;
	out->body = buf + SCD_FRAME_HEADER;
	return 1;
}

size_t scd_frame_put(uint8_t *dst, size_t cap, uint8_t type, const void *body, uint32_t len)
{
	if (len > SCD_FRAME_MAX_BODY || cap < SCD_FRAME_HEADER + (size_t)len)
		return 0;
	put32(dst, len);
	dst[8] = SCD_FRAME_VERSION;
	dst[9] = type;
	dst[10] = dst[11] = 0;
	if (len)
		memcpy(dst + SCD_FRAME_HEADER, body, len);
	put32(dst + 4, frame_checksum(dst, len));
	return SCD_FRAME_HEADER + (size_t)len;
}

bool scd_hello_name_valid(const char *p, size_t n)
{
	if (n == 0 || n > SCD_HELLO_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/* A name at *pos of body: its length byte, then the name; copied NUL-terminated into out. */
static int take_name(const struct scd_frame *f, size_t *pos, char *out)
{
	size_t n;

	if (*pos >= f->len)
		return -EPROTO;
	n = f->body[*pos];
	if (*pos + 1 + n > f->len || !scd_hello_name_valid((const char *)f->body + *pos + 1, n))
		return -EPROTO;
	memcpy(out, f->body + *pos + 1, n);
	out[n] = '\0';
	*pos += 1 + n;
	return 0;
}

int scd_hello_decode(const struct scd_frame *f, struct scd_hello *out)
{
	size_t pos = 0;

	if (f->type != SCD_FRAME_HELLO || take_name(f, &pos, out->cluster) || take_name(f, &pos, out->node) ||
	    f->len - pos != SCD_NONCE_BYTES)
		return -EPROTO;
	memcpy(out->nonce, f->body + pos, SCD_NONCE_BYTES);
	return 0;
}

size_t scd_hello_encode(const struct scd_hello *h, uint8_t *dst)
{
	size_t c = strnlen(h->cluster, SCD_HELLO_NAME_MAX + 1), n = strnlen(h->node, SCD_HELLO_NAME_MAX + 1),
	       pos = 0;

	if (!scd_hello_name_valid(h->cluster, c) || !scd_hello_name_valid(h->node, n))
		return 0;
	dst[pos++] = (uint8_t)c;
	memcpy(dst + pos, h->cluster, c);
	pos += c;
	dst[pos++] = (uint8_t)n;
	memcpy(dst + pos, h->node, n);
	pos += n;
	memcpy(dst + pos, h->nonce, SCD_NONCE_BYTES);
	return pos + SCD_NONCE_BYTES;
}

int scd_heartbeat_decode(const struct scd_frame *f, struct scd_heartbeat *out)
{
	if ((f->type != SCD_FRAME_HEARTBEAT && f->type != SCD_FRAME_HEARTBEAT_ACK) ||
	    f->len != SCD_HEARTBEAT_BYTES)
		return -EPROTO;
	out->seq = get64(f->body);
	out->sent_ns = get64(f->body + 8);
	return 0;
}

size_t scd_heartbeat_encode(const struct scd_heartbeat *h, uint8_t *dst)
{
	put64(dst, h->seq);
	put64(dst + 8, h->sent_ns);
	return SCD_HEARTBEAT_BYTES;
}

int scd_proof_decode(const struct scd_frame *f, uint8_t out[SCD_PROOF_BYTES])
{
	if (f->type != SCD_FRAME_PROOF || f->len != SCD_PROOF_BYTES)
		return -EPROTO;
	memcpy(out, f->body, SCD_PROOF_BYTES);
	return 0;
}

int scd_repl_entries_decode(const struct scd_frame *f, struct scd_repl_entries *out)
{
	if (f->type != SCD_FRAME_REPL_ENTRIES || f->len < SCD_REPL_ENTRIES_HEADER || get32(f->body + 4))
		return -EPROTO;
	out->log = get32(f->body);
	out->epoch = get64(f->body + 8);
	out->committed_lseq = get64(f->body + 16);
	out->entries = f->body + SCD_REPL_ENTRIES_HEADER;
	out->len = f->len - SCD_REPL_ENTRIES_HEADER;
	return 0;
}

size_t scd_repl_entries_header(const struct scd_repl_entries *e, uint8_t *dst)
{
	put32(dst, e->log);
	put32(dst + 4, 0);
	put64(dst + 8, e->epoch);
	put64(dst + 16, e->committed_lseq);
	return SCD_REPL_ENTRIES_HEADER;
}

/* The 32 bytes a position and a copy frame begin with. */
static void get_position(const uint8_t *body, struct scd_repl_position *out)
{
	out->log = get32(body);
	out->flags = get32(body + 4);
	out->epoch = get64(body + 8);
	out->last_lseq = get64(body + 16);
	out->last_epoch = get64(body + 24);
}

size_t scd_repl_position_encode(const struct scd_repl_position *p, uint8_t *dst)
{
	put32(dst, p->log);
	put32(dst + 4, p->flags);
	put64(dst + 8, p->epoch);
	put64(dst + 16, p->last_lseq);
	put64(dst + 24, p->last_epoch);
	return SCD_REPL_POSITION_BYTES;
}

int scd_repl_position_decode(const struct scd_frame *f, struct scd_repl_position *out)
{
	uint32_t flags;

	if (f->type != SCD_FRAME_REPL_POSITION || f->len != SCD_REPL_POSITION_BYTES)
		return -EPROTO;
	flags = get32(f->body + 4);
	if ((flags & ~(SCD_REPL_FOLLOW | SCD_REPL_WANT_COPY)) ||
	    ((flags & SCD_REPL_WANT_COPY) && !(flags & SCD_REPL_FOLLOW)))
		return -EPROTO;
	get_position(f->body, out);
	return 0;
}

int scd_repl_copy_decode(const struct scd_frame *f, struct scd_repl_copy *out)
{
	if (f->type != SCD_FRAME_REPL_COPY || f->len < SCD_REPL_COPY_HEADER ||
	    get32(f->body + 4) & ~(SCD_REPL_COPY_BEGIN | SCD_REPL_COPY_END))
		return -EPROTO;
	get_position(f->body, &out->at);
	out->entries = f->body + SCD_REPL_COPY_HEADER;
	out->len = f->len - SCD_REPL_COPY_HEADER;
	return 0;
}

size_t scd_repl_copy_header(const struct scd_repl_copy *c, uint8_t *dst)
{
	return scd_repl_position_encode(&c->at, dst);
}

int scd_forward_msg_decode(const struct scd_frame *f, struct scd_forward_msg *out)
{
	if ((f->type != SCD_FRAME_FORWARD && f->type != SCD_FRAME_FORWARD_REPLY) ||
	    f->len < SCD_FORWARD_ID_BYTES + SCD_FORWARD_HEAD_BYTES ||
	    get32(f->body + SCD_FORWARD_ID_BYTES) != f->len - SCD_FORWARD_ID_BYTES)
		return -EPROTO;
	out->id = get64(f->body);
	out->msg = f->body + SCD_FORWARD_ID_BYTES;
	out->len = f->len - SCD_FORWARD_ID_BYTES;
	return 0;
}
