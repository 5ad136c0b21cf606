/*
 * fuzz_frames.c — libFuzzer on the peer-link frame parser and body decoders:
 * any bytes, no crash and no sanitizer report; every frame accepted encodes
 * back to the bytes it came from, and so does every body decoded.
 *
 * The first byte picks what the rest is: a byte stream as a peer could send
 * it (almost never a valid checksum, so this fuzzes the framing), or a body
 * of the type the second byte names, framed with its right checksum (this
 * fuzzes the decoders behind the checksum).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"

static uint8_t again[SCD_FRAME_HEADER + SCD_FRAME_MAX_BODY];

static void check_body(const struct scd_frame *f)
{
	uint8_t body[SCD_HELLO_BYTES];
	struct scd_hello h;
	struct scd_heartbeat hb;
	uint8_t proof[SCD_PROOF_BYTES];
	struct scd_repl_entries entries;
	struct scd_repl_position position;
	struct scd_repl_copy copy;
	struct scd_forward_msg fwd;
	size_t n;

	if (f->type == SCD_FRAME_HELLO && scd_hello_decode(f, &h) == 0) {
		n = scd_hello_encode(&h, body);
		if (n != f->len || memcmp(body, f->body, n) != 0)
			abort();
	} else if (scd_heartbeat_decode(f, &hb) == 0) {
		n = scd_heartbeat_encode(&hb, body);
		if (n != f->len || memcmp(body, f->body, n) != 0)
			abort();
	} else if (scd_proof_decode(f, proof) == 0 && memcmp(proof, f->body, sizeof(proof)) != 0) {
		abort();
	} else if (scd_repl_entries_decode(f, &entries) == 0) {
		n = scd_repl_entries_header(&entries, body);
		if (memcmp(body, f->body, n) != 0 || entries.entries != f->body + n ||
		    entries.len != f->len - n)
			abort();
	} else if (scd_forward_msg_decode(f, &fwd) == 0) {
		/* What it hands on lies within the frame, and says its own length. */
		if (fwd.msg != f->body + SCD_FORWARD_ID_BYTES || fwd.len != f->len - SCD_FORWARD_ID_BYTES ||
		    fwd.len < SCD_FORWARD_HEAD_BYTES ||
		    (uint32_t)(fwd.msg[0] | fwd.msg[1] << 8 | fwd.msg[2] << 16 |
			       (uint32_t)fwd.msg[3] << 24) != fwd.len)
			abort();
	} else if (scd_repl_copy_decode(f, &copy) == 0) {
		n = scd_repl_copy_header(&copy, body);
		if (memcmp(body, f->body, n) != 0 || copy.entries != f->body + n || copy.len != f->len - n)
			abort();
	} else if (scd_repl_position_decode(f, &position) == 0) {
		n = scd_repl_position_encode(&position, body);
		if (n != f->len || memcmp(body, f->body, n) != 0)
			abort();
	}
}

static void parse_stream(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct scd_frame f;
		size_t used;
		int r = scd_frame_parse(data + off, size - off, &f, &used);

		if (r <= 0)
			return;
		if (scd_frame_put(again, sizeof(again), f.type, f.body, f.len) != used ||
		    memcmp(again, data + off, used) != 0)
			abort();
		check_body(&f);
		off += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1) {
		parse_stream(data + 1, size - 1);
	} else {
		size_t n = scd_frame_put(again, sizeof(again), data[1], data + 2, (uint32_t)(size - 2));
		uint8_t *copy = malloc(n);

		if (n && copy) {
			memcpy(copy, again, n);
			parse_stream(copy, n);
		}
		free(copy);
	}
	return 0;
}
