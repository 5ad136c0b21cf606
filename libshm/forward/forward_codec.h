/* forward_codec.h — forwarded writes as bytes: a request (a call and its tuples), a reply (a result and its message). */
#ifndef SC_FORWARD_CODEC_H
#define SC_FORWARD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <supercache.h>

#include "shm/log_position.h"

/*
 * The calls a request can carry, and what its tuples and number are to each
 * (docs/distributed.md, "Forwarding"). The number in a request's head (arg)
 * is a ttl in ms, or a partition index.
 */
enum sc_fwd_op {
	SC_FWD_PUT = 1,		     /* t0: the tuple */
	SC_FWD_PUT_TTL = 2,	     /* t0: the tuple; arg: ttl_ms */
	SC_FWD_PUT_PARTITION = 3,    /* t0: the tuple; t1: (partition_data) */
	SC_FWD_PUT_BY_IDX = 4,	     /* t0: the tuple; arg: the partition index */
	SC_FWD_PUT_BATCH = 5,	     /* every tuple */
	SC_FWD_DELETE = 6,	     /* t0: the key tuple */
	SC_FWD_DELETE_PARTITION = 7, /* t0: (key, partition_data) */
	SC_FWD_DELETE_BY_IDX = 8,    /* t0: (key); arg: the partition index */
	SC_FWD_TOUCH = 9,	     /* t0: the key tuple; arg: ttl_ms */
	SC_FWD_KV_ADD = 10,	     /* t0: (kv name, key, value) */
	SC_FWD_KV_ADD_TTL = 11,	     /* t0: (kv name, key, value); arg: ttl_ms */
	SC_FWD_KV_REMOVE = 12,	     /* t0: (kv name, key) */
	SC_FWD_KV_TOUCH = 13,	     /* t0: (kv name, key); arg: ttl_ms */
	SC_FWD_KV_ADD_BATCH = 14,    /* t0: (kv name); then each pair: (key, value) */
	SC_FWD_KV_REMOVE_BATCH = 15, /* t0: (kv name); then each key: (key) */
	/*
	 * A call over every partition (sc_delete_all, sc_clear, sc_delete_by_match,
	 * sc_kv_remove_all, sc_struct_remove_all) sends each partition whose
	 * primary is another node there on its own; arg: the partition's index
	 * (a structure partition's counted from 0, as the map counts).
	 */
	SC_FWD_CLEAR_PART = 16,		    /* no tuple */
	SC_FWD_DELETE_MATCH_PART = 17,	    /* t0: the pattern */
	SC_FWD_KV_REMOVE_ALL_PART = 18,	    /* t0: (kv name) */
	SC_FWD_STRUCT_REMOVE_ALL_PART = 19, /* t0: (type name) */
	SC_FWD_STRUCT_INIT = 20,	    /* t0: (type name, size, key_offset, key_size) */
	SC_FWD_STRUCT_ADD = 21,		    /* t0: (type name, the struct's bytes, key_offset, key_size) */
	SC_FWD_STRUCT_REMOVE =
		22,		/* t0: (type name, a struct with its key member set, key_offset, key_size) */
	SC_FWD_QUEUE_ADD = 23,	/* t0: (queue name, value) */
	SC_FWD_STACK_PUSH = 24, /* t0: (stack name, value) */
	/* A take: t0 is (name) or (name, default); the reply carries the call's values. */
	SC_FWD_QUEUE_OUT = 25,
	SC_FWD_STACK_POP = 26,
	SC_FWD_QUEUE_GET_ALL = 27, /* t0: (queue name) */
	SC_FWD_STACK_GET_ALL = 28, /* t0: (stack name) */
	/*
	 * A read by the partition's primary (SC_READ_PRIMARY); arg: which read
	 * (enum sc_fwd_read, below), t0 its arguments. The reply
	 * carries what it found (none for a count).
	 */
	SC_FWD_READ = 29,
	/*
	 * A quorum read's request to each replica (SC_FORWARD_OP_EVERY_REPLICA):
	 * arg and t0 as SC_FWD_READ's. Each replica answers from its own copy,
	 * read under the partition's lock; the reply's first tuple is where
	 * that copy stands (struct sc_fwd_copy_position), what it found follows.
	 */
	SC_FWD_READ_COPY = 30,
	/* t0: (kv name, key, default, step); the reply carries the new value. */
	SC_FWD_KV_INCREMENT = 31,
	/* sc_clear's share of a structure partition: no tuple; arg as SC_FWD_CLEAR_PART's. */
	SC_FWD_CLEAR_STRUCTURES_PART = 32,
	/*
	 * sc_kv_update_fn's compare-and-set: t0 (kv name, key, expected, value);
	 * arg 1 when key must still hold expected, 0 when it must still be
	 * missing (expected then unused).
	 */
	SC_FWD_KV_REPLACE_IF = 33,
	/* sc_kv_update and sc_kv_replace: t0 (kv name, key, value), the key's one value from now on. */
	SC_FWD_KV_REPLACE = 34,
	SC_FWD_OP_MAX = SC_FWD_KV_REPLACE,
};

/* Which read a forwarded SC_FWD_READ carries (its arg), and the tuple t0 it takes. */
enum sc_fwd_read {
	SC_FWD_READ_GET = 0,		      /* the key tuple */
	SC_FWD_READ_GET_BY_KEY_PARTITION = 1, /* (key, partition_data) */
	SC_FWD_READ_GET_BY_IDX = 2,	      /* (key, idx) */
	SC_FWD_READ_KV_GET = 3,		      /* (kv name, key) or (kv name, key, default) */
	SC_FWD_READ_QUEUE_PEEK = 4,	      /* (queue name) or (queue name, default) */
	SC_FWD_READ_QUEUE_COUNT = 5,	      /* (queue name) */
	SC_FWD_READ_STACK_COUNT = 6,	      /* (stack name) */
	SC_FWD_READ_STRUCT_TYPE = 7,	      /* (struct type name): its geometry */
	/* One partition's part of a read over several: the partition's index (a map index) comes first. */
	SC_FWD_READ_MATCH_PART = 8,   /* (idx, enum sc_match_shape, the pattern's fields...) */
	SC_FWD_READ_KV_PART = 9,      /* (structure idx, kv name): its pairs */
	SC_FWD_READ_STRUCT_PART = 10, /* (structure idx, type name, struct size): its structs */
	SC_FWD_READ_STRUCT_GET = 11,  /* (type name, a struct with its key set, key_offset, key_size) */
	SC_FWD_READ_KV_GET_ALL = 12,  /* (kv name, key): every value */
	SC_FWD_READ_MAX = SC_FWD_READ_KV_GET_ALL,
};

/* Whether op's first tuple begins with a name: a KeyValue namespace's, a struct type's, a queue's or a stack's. */
static inline int sc_fwd_op_named(uint16_t op)
{
	return (op >= SC_FWD_KV_ADD && op <= SC_FWD_KV_REMOVE_BATCH) ||
	       (op >= SC_FWD_KV_REMOVE_ALL_PART && op <= SC_FWD_STACK_GET_ALL) || op == SC_FWD_KV_INCREMENT ||
	       op == SC_FWD_KV_REPLACE_IF || op == SC_FWD_KV_REPLACE;
}

/* Whether op answers with values: a queue's or a stack's take, a read, an increment. */
static inline int sc_fwd_op_answers_values(uint16_t op)
{
	return (op >= SC_FWD_QUEUE_OUT && op <= SC_FWD_READ_COPY) || op == SC_FWD_KV_INCREMENT;
}

/*
 * Where a replica's copy of a partition stood when it answered a quorum
 * read: its log's last entry, how far it knows the log acknowledged by
 * every in-sync replica (the primary's acked_lseq; on another replica, what
 * the primary last told it, never past its own last entry), and the
 * partition's epoch in its map. On the wire, a tuple of four integers.
 */
struct sc_fwd_copy_position {
	uint64_t last_epoch;
	uint64_t last_lseq;
	uint64_t committed_lseq;
	uint64_t map_epoch;
};
#define SC_FWD_COPY_POSITION_FIELDS 4u

/* The position as the tuple a reply carries, in fields[SC_FWD_COPY_POSITION_FIELDS]. */
sc_tuple sc_fwd_copy_position_tuple(const struct sc_fwd_copy_position *pos, sc_field *fields);
/* The position a reply's tuple t holds: 0, or -EPROTO when t is not one. */
int sc_fwd_copy_position_of(const sc_tuple *t, struct sc_fwd_copy_position *out);

/*
 * After the head, a request holds its tuple section: u32 ntuples and u32
 * zero, then each tuple: u32 nfields, u32 zero, then each field: u32 type,
 * u32 len, and its value (8 bytes for a number, a capture or ANY's zero;
 * len bytes for bytes), padded to 8. A reply's arg is the length of its
 * message, which follows the head (no NUL), padded to 8; then where the
 * call's writes went (read-your-writes): u32 count, u32 zero, and per
 * replication log written u32 log, u32 zero, u64 epoch, u64 lseq; a call
 * that answers with values (a queue's or a stack's take, a read) has a
 * tuple section after that.
 */
struct sc_fwd_tuples {
	uint32_t n;
	sc_tuple *tuples; /* allocated, with their fields; bytes point into the message */
	sc_field *fields;
};
void sc_fwd_tuples_free(struct sc_fwd_tuples *t);

struct sc_fwd_request {
	uint16_t op;
	uint32_t partition;
	uint64_t arg;
	uint32_t ntuples;
	sc_tuple *tuples; /* allocated, with their fields; bytes point into the request */
	sc_field *fields;
};

/* The request at *out (for free()), *len its bytes: 0, -E2BIG past SC_FORWARD_MAX, -ENOMEM. */
int sc_fwd_request_encode(uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
			  void **out, size_t *len);

/* Decode buf[0, len) into *out (sc_fwd_request_free() it): 0, or -EPROTO (with a message) when it is no request. */
int sc_fwd_request_decode(const void *buf, size_t len, struct sc_fwd_request *out);
void sc_fwd_request_free(struct sc_fwd_request *r);

/*
 * A reply of rc, msg (may be NULL) and, unless t is NULL, the values t[0,
 * n) at *out (for free()), *len its bytes: 0 or -ENOMEM. Values that would
 * pass SC_FORWARD_MAX make it a reply of -E2BIG instead.
 */
int sc_fwd_reply_encode(int rc, const char *msg, const sc_tuple *t, size_t n, void **out, size_t *len);
/* The same, saying the call's writes went to w[0, nw). */
int sc_fwd_reply_encode_written(int rc, const char *msg, const struct sc_log_position *w, uint32_t nw,
				const sc_tuple *t, size_t n, void **out, size_t *len);

/* Whether a reply carrying the values t[0, n) fits SC_FORWARD_MAX, whatever its message. */
bool sc_fwd_reply_fits(const sc_tuple *t, size_t n);

/* A reply decoded: msg and the values' bytes point into the reply. */
struct sc_fwd_reply {
	int rc;
	const char *msg; /* msg_len bytes, no NUL */
	size_t msg_len;
	uint32_t nwritten;	/* where the call's writes went: sc_fwd_reply_written() */
	const uint8_t *written; /* into the reply */
	bool has_values;	/* it had a tuple section, in values (sc_fwd_tuples_free() it) */
	struct sc_fwd_tuples values;
};

/* Where the call r answers wrote, the i-th of r->nwritten logs. */
struct sc_log_position sc_fwd_reply_written(const struct sc_fwd_reply *r, uint32_t i);

/* Decode the reply buf[0, len) into *out: 0, or -EPROTO when it is no reply. */
int sc_fwd_reply_decode(const void *buf, size_t len, struct sc_fwd_reply *out);

/*
 * Decode a bundle (supercache.h, SC_FORWARD_OP_EVERY_REPLICA) buf[0, len)
 * into out[0, *n), room for SC_MAX_REPLICATION_FACTOR: 0 (each out[i] to be
 * freed with sc_fwd_tuples_free(&out[i].values)), or -EPROTO when it is no
 * bundle. A coordinator's own reply (rc < 0) is decoded into out[0] alone,
 * *n = 0.
 */
int sc_fwd_bundle_decode(const void *buf, size_t len, struct sc_fwd_reply *out, uint32_t *n);

#endif /* SC_FORWARD_CODEC_H */
