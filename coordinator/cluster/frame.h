/* frame.h — the frames of a peer link: length-prefixed, checksummed before anything in them is read. */
#ifndef SCD_FRAME_H
#define SCD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * On the wire, little-endian:
 *
 *     u32 length    bytes of the body that follow the header
 *     u32 checksum  of the length and of every byte after this field
 *     u8  version   SCD_FRAME_VERSION
 *     u8  type      enum scd_frame_type
 *     u16 zero
 *     body          length bytes, laid out by the type
 *
 * A reader takes the length first and refuses one above SCD_FRAME_MAX_BODY
 * before waiting for the body, so a peer cannot make it buffer more; then
 * the checksum (the library's CRC32C over three lanes, record/checksum.h),
 * before it looks at version, type or body. Any refusal closes the link:
 * a byte stream out of step cannot be trusted to find the next frame.
 */
#define SCD_FRAME_HEADER   12u
#define SCD_FRAME_VERSION  1u
#define SCD_FRAME_MAX_BODY (1u << 20)

enum scd_frame_type {
	SCD_FRAME_HELLO = 1,	     /* who connects: cluster, node, a challenge nonce (struct scd_hello) */
	SCD_FRAME_HEARTBEAT = 2,     /* a sequence number and the sender's clock (struct scd_heartbeat) */
	SCD_FRAME_HEARTBEAT_ACK = 3, /* the heartbeat's two fields sent back */
	SCD_FRAME_PROOF = 4,	     /* an HMAC over both hellos (cluster/link_auth.h), SCD_PROOF_BYTES */
	SCD_FRAME_TYPE_MAX = SCD_FRAME_PROOF,
};

/* A frame found in a buffer; body points into that buffer. */
struct scd_frame {
	uint8_t type;
	uint32_t len;
	const uint8_t *body;
};

/*
 * The frame at the start of buf[0, n): 1 with *out and *used (its whole
 * size) set; 0 when more bytes are needed (*used is then how many in all,
 * once the length is known, else the header's size); or -EMSGSIZE (length
 * above SCD_FRAME_MAX_BODY), -EBADMSG (checksum), -EPROTO (version, zero
 * field or type), after which the link is closed.
 */
int scd_frame_parse(const uint8_t *buf, size_t n, struct scd_frame *out, size_t *used);

/* Write a frame of type holding body[0, len) at dst: its size, or 0 if cap is too small or len too large. */
size_t scd_frame_put(uint8_t *dst, size_t cap, uint8_t type, const void *body, uint32_t len);

#define SCD_HELLO_NAME_MAX  64u
#define SCD_NONCE_BYTES	    32u
#define SCD_HELLO_BYTES	    (2u + 2u * SCD_HELLO_NAME_MAX + SCD_NONCE_BYTES)
#define SCD_HEARTBEAT_BYTES 16u
#define SCD_PROOF_BYTES	    32u

/*
 * A hello's body: u8 cluster length, the cluster name, u8 node length, the
 * node name, then the nonce; names are 1 to SCD_HELLO_NAME_MAX bytes of letters,
 * digits, '_', '-' and '.'.
 */
struct scd_hello {
	char cluster[SCD_HELLO_NAME_MAX + 1];
	char node[SCD_HELLO_NAME_MAX + 1];
	uint8_t nonce[SCD_NONCE_BYTES];
};

/* Whether p[0, n) is a cluster or node name by the rule above; supercached's configuration holds its names to it. */
bool scd_hello_name_valid(const char *p, size_t n);

/* 0, or -EPROTO when the body is not a hello (a length, a name or the size is wrong). */
int scd_hello_decode(const struct scd_frame *f, struct scd_hello *out);
/* The body of h at dst (SCD_HELLO_BYTES of room): its size, or 0 when a name is not valid. */
size_t scd_hello_encode(const struct scd_hello *h, uint8_t *dst);

struct scd_heartbeat {
	uint64_t seq;
	uint64_t sent_ns; /* the sender's CLOCK_MONOTONIC: only the sender compares it */
};

/* 0, or -EPROTO when the body is not SCD_HEARTBEAT_BYTES long. */
int scd_heartbeat_decode(const struct scd_frame *f, struct scd_heartbeat *out);
/* The body of h at dst (SCD_HEARTBEAT_BYTES of room): its size. */
size_t scd_heartbeat_encode(const struct scd_heartbeat *h, uint8_t *dst);

/* A proof's body is the HMAC itself: 0 with it copied to out, or -EPROTO when the body is not SCD_PROOF_BYTES. */
int scd_proof_decode(const struct scd_frame *f, uint8_t out[SCD_PROOF_BYTES]);

#endif /* SCD_FRAME_H */
