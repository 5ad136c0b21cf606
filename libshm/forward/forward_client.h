/* forward_client.h — a write whose partition's primary is another node, sent to the local coordinator to run there. */
#ifndef SC_FORWARD_CLIENT_H
#define SC_FORWARD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward/forward_codec.h"
#include "shm/cache.h"
#include "shm/cluster_map.h"

/* Set while the calling thread runs a request another node forwarded (sc_forward_serve): it is not forwarded again. */
extern __thread bool sc_fwd_serving;

/*
 * Send the call op (forward_codec.h: its tuples t[0, n) and number arg)
 * for partition to the local coordinator, which has the partition's primary
 * run it, and wait for the result: the primary's (its message too), or
 * one that says the write may or may not have happened: -ETIMEDOUT (no
 * answer within majority_timeout_ms and 3 s more), -ECONNRESET (the
 * coordinator, or its link to the primary, closed before the answer); or
 * one that says it was not applied: -ECONNREFUSED/-ENOENT (no coordinator
 * listens), -EHOSTUNREACH (no link to the primary), -EAGAIN (no primary
 * now, or the calling thread serves a forwarded request itself).
 */
int sc_forward(sc_cache *c, uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n);

/* The values a forwarded call answered with (a queue's or stack's take): t points into held. */
struct sc_fwd_values {
	struct sc_fwd_tuples t;
	void *held;
};
void sc_fwd_values_free(struct sc_fwd_values *v);

/*
 * sc_forward() for a call that answers with values: *vals holds those the
 * primary sent (vals->held is NULL when none came), with its result: a
 * take that failed after it took (-ETIMEDOUT) sends what it took.
 * sc_fwd_values_free() it whatever the result.
 */
int sc_forward_values(sc_cache *c, uint16_t op, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
		      struct sc_fwd_values *vals);

/*
 * A quorum read's request (forward_codec.h: SC_FWD_READ_COPY, with arg and
 * t[0, n)) sent to every replica of partition by the local coordinator: 0
 * with the replies of the first strict majority of them to succeed in
 * *out (sc_fwd_bundle_free() it), or the coordinator's error: -ETIMEDOUT
 * or -EHOSTUNREACH when no majority answered, and sc_forward()'s own.
 */
struct sc_fwd_bundle {
	uint32_t n;
	struct sc_fwd_reply replies[SC_MAX_REPLICATION_FACTOR]; /* point into held */
	void *held;
};
int sc_forward_bundle(sc_cache *c, uint32_t partition, uint64_t arg, const sc_tuple *t, size_t n,
		      struct sc_fwd_bundle *out);
void sc_fwd_bundle_free(struct sc_fwd_bundle *b);

/*
 * err as it is, unless it is -EREMOTE: the write fence found that the
 * partition's primary is another node (shm/cluster_map.h), and nothing was
 * written. Then the result of forwarding the call there.
 */
static inline int sc_forward_if_remote(int err, sc_cache *c, uint16_t op, uint64_t arg, const sc_tuple *t,
				       size_t n)
{
	if (__builtin_expect(err != -EREMOTE, 1))
		return err;
	return sc_forward(c, op, sc_cluster_refused_partition(), arg, t, n);
}

/*
 * A batch some of whose partitions have their primary on another node
 * (the call that ran it here got -EREMOTE, so nothing was written): item
 * t[i] goes to partition part[i]. The items are split by primary, in the
 * order of their first partitions; this node's share goes to here(c,
 * share, m, ctx), each other node's is forwarded as op, head (a KeyValue
 * batch's name; NULL for none) before its items. Each share is
 * all-or-nothing on its node, the batch as a whole is not: every share is
 * tried. The first error is the result, else the sum of the shares'
 * (removals count). A batch another node forwarded here is not split:
 * -EAGAIN, nothing written.
 */
typedef int (*sc_fwd_here_fn)(sc_cache *c, const sc_tuple *t, size_t n, void *ctx);
int sc_forward_split(sc_cache *c, uint16_t op, const sc_tuple *head, const sc_tuple *t, const uint32_t *part,
		     size_t n, sc_fwd_here_fn here, void *ctx);

/* Close the connections the handle kept for forwarding (sc_stop). */
void sc_forward_close(sc_cache *c);

#endif /* SC_FORWARD_CLIENT_H */
