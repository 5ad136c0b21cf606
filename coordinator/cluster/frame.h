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
#define SCD_FRAME_VERSION  2u
#define SCD_FRAME_MAX_BODY (1u << 20)

enum scd_frame_type {
	SCD_FRAME_HELLO = 1,	     /* who connects: cluster, node, a challenge nonce (struct scd_hello) */
	SCD_FRAME_HEARTBEAT = 2,     /* a sequence number and the sender's clock (struct scd_heartbeat) */
	SCD_FRAME_HEARTBEAT_ACK = 3, /* the heartbeat's two fields sent back */
	SCD_FRAME_PROOF = 4,	     /* an HMAC over both hellos (cluster/link_auth.h), SCD_PROOF_BYTES */
	SCD_FRAME_REPL_ENTRIES = 5,  /* a primary's log entries for a replica (struct scd_repl_entries) */
	SCD_FRAME_REPL_POSITION = 6, /* where a replica's log ends: an ack, or "follow from here" */
	SCD_FRAME_REPL_COPY = 7,     /* a piece of a partition copied whole (struct scd_repl_copy) */
	SCD_FRAME_FORWARD = 8, /* a write forwarded to its partition's primary (struct scd_forward_msg) */
	SCD_FRAME_FORWARD_REPLY = 9, /* the primary's reply to it (struct scd_forward_msg) */
	SCD_FRAME_TYPE_MAX = SCD_FRAME_FORWARD_REPLY,
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

/*
 * Replication (docs/distributed.md, "Shipping the logs"). An entries frame:
 * u32 log, u32 zero, u64 epoch (the partition's, as the sender's map has it),
 * u64 committed_lseq (how far the primary's log is on every in-sync
 * replica), then whole log entries as sc_repl_read() copied them, possibly
 * none; their own checks are sc_repl_apply()'s.
 */
#define SCD_REPL_ENTRIES_HEADER 24u

struct scd_repl_entries {
	uint32_t log;
	uint64_t epoch;
	const uint8_t *entries; /* into the frame */
	uint32_t len;
	uint64_t committed_lseq;
};

/* 0, or -EPROTO when the body is shorter than its header or the zero field is not. */
int scd_repl_entries_decode(const struct scd_frame *f, struct scd_repl_entries *out);
/* The header of e at dst (SCD_REPL_ENTRIES_HEADER of room), for entries to follow: its size. */
size_t scd_repl_entries_header(const struct scd_repl_entries *e, uint8_t *dst);

/*
 * A position frame, replica to primary: u32 log, u32 flags, u64 epoch (the
 * replica's for the partition), u64 last_lseq and u64 last_epoch (its log's
 * last entry). With SCD_REPL_FOLLOW the primary is to (re)start sending from
 * the entry after last_lseq; without, it acknowledges every entry up to it.
 */
#define SCD_REPL_POSITION_BYTES 32u
#define SCD_REPL_FOLLOW		1u
#define SCD_REPL_WANT_COPY	2u /* with SCD_REPL_FOLLOW: the replica's log cannot go on; copy the partition */

struct scd_repl_position {
	uint32_t log;
	uint32_t flags;
	uint64_t epoch;
	uint64_t last_lseq;
	uint64_t last_epoch;
};

/* 0, or -EPROTO when the body is not SCD_REPL_POSITION_BYTES long, has a flag it does not know, or WANT_COPY without FOLLOW. */
int scd_repl_position_decode(const struct scd_frame *f, struct scd_repl_position *out);
/* The body of p at dst (SCD_REPL_POSITION_BYTES of room): its size. */
size_t scd_repl_position_encode(const struct scd_repl_position *p, uint8_t *dst);

/*
 * A copy frame, primary to replica: a position's 32 bytes (log; flags
 * SCD_REPL_COPY_BEGIN on the first frame, SCD_REPL_COPY_END on the last, both
 * on a copy of one frame; the partition's epoch as the sender's map has it;
 * the primary's log entry the copy follows, lseq and epoch), then whole put
 * entries of the copy (sc_repl_snapshot()), possibly none.
 */
#define SCD_REPL_COPY_HEADER SCD_REPL_POSITION_BYTES
#define SCD_REPL_COPY_BEGIN  1u
#define SCD_REPL_COPY_END    2u

struct scd_repl_copy {
	/* laid out as a position: flags SCD_REPL_COPY_*; last_lseq, last_epoch: the entry the copy follows */
	struct scd_repl_position at;
	const uint8_t *entries; /* into the frame */
	uint32_t len;
};

/* 0, or -EPROTO when the body is shorter than its header or has a flag it does not know. */
int scd_repl_copy_decode(const struct scd_frame *f, struct scd_repl_copy *out);
/* The header of c at dst (SCD_REPL_COPY_HEADER of room), for entries to follow: its size. */
size_t scd_repl_copy_header(const struct scd_repl_copy *c, uint8_t *dst);

/*
 * Forwarding (docs/distributed.md, "Forwarding"). A forward frame, and the
 * reply to it: u64 id (the sender's, given back in the reply), then one
 * message of the library's (sc_forward_head and what follows), whose own
 * len must be the rest of the body. The message's content is the library's
 * to check (sc_forward_serve(), and the client for a reply).
 */
#define SCD_FORWARD_ID_BYTES   8u
#define SCD_FORWARD_HEAD_BYTES 24u /* sizeof(sc_forward_head): supercache.h */

struct scd_forward_msg {
	uint64_t id;
	const uint8_t *msg; /* into the frame */
	uint32_t len;
};

/* 0, or -EPROTO when the body is shorter than an id and a head, or the head's len is not the rest of it. */
int scd_forward_msg_decode(const struct scd_frame *f, struct scd_forward_msg *out);

#endif /* SCD_FRAME_H */
