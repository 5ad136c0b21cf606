/* forward.h — forwarded writes on the coordinator: the library's socket, the way to each partition's primary, and back. */
#ifndef SCD_FORWARD_H
#define SCD_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include <supercache.h>
#include <systemd/sd-event.h>

#include "cluster/frame.h"
#include "cluster/peer_link.h"

/*
 * docs/distributed.md, "Forwarding". The library sends a write whose
 * partition's primary is another node to the coordinator's unix socket,
 * one request at a time per connection. The coordinator sends it on to the
 * primary's coordinator (a FORWARD frame with an id of its own), whose
 * workers run it (forward_worker.h) and send back a FORWARD_REPLY; the
 * reply goes to the library's connection as it came. When the primary is
 * this node after all (the map changed since the library looked), the
 * workers here run it.
 *
 * Every request gets exactly one reply: the primary's, or one of this
 * coordinator's own. Of those, -EHOSTUNREACH (no link up to the primary),
 * -EAGAIN (no node is the partition's primary now) and -EBUSY (the
 * primary's queue is full) say the write was not applied; -ECONNRESET (the
 * link went down before the reply) and -ETIMEDOUT (no reply within
 * timeout_usec) that it may or may not have been. A
 * connection that sends a request that is not one (its head's length or
 * version) or a second one before its reply is closed. A reply that comes
 * after its request timed out is dropped.
 *
 * A quorum read (SC_FORWARD_OP_EVERY_REPLICA) goes to every replica of its
 * partition as this node's map has them, this node's own part to its
 * workers. Its reply bundles the first strict majority of replies that
 * succeed; once that many can no longer succeed it is the first failure's
 * error, and -ETIMEDOUT after timeout_usec.
 */
struct scd_forward;

struct scd_forward_config {
	sd_event *event;
	sc_cache *cache;	 /* the socket is next to its segment; forwarded writes run on it */
	struct scd_peers *peers; /* the links to the primaries */
	/* The node this node knows as partition's primary: "" when none, NULL for a partition out of range. */
	const char *(*primary_of)(void *userdata, uint32_t partition);
	/* The nodes this node knows as partition's replicas (its primary included) into names: how many. */
	uint32_t (*replicas_of)(void *userdata, uint32_t partition,
				char names[SC_MAX_REPLICATION_FACTOR][SCD_HELLO_NAME_MAX + 1]);
	const char *node;      /* this node's name */
	uint64_t timeout_usec; /* how long a request waits for its primary's reply */
	void (*log)(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *userdata;
};

/* Listen on the socket (one left by an earlier run is replaced) and start the workers: 0, or a negative errno with err filled in. */
int scd_forward_start(const struct scd_forward_config *cfg, struct scd_forward **out, char *err,
		      size_t errlen);
/* Close the socket (and remove it), every connection and the workers. NULL is fine. */
void scd_forward_free(struct scd_forward *f);

/* A FORWARD or FORWARD_REPLY frame from node: 0, or -EPROTO (a bad frame: the link closes). */
int scd_forward_received(struct scd_forward *f, const char *node, const struct scd_frame *fr);
/* node's link went down: the requests waiting for it get -ECONNRESET. */
void scd_forward_link_down(struct scd_forward *f, const char *node);

struct scd_forward_stats {
	uint64_t requests;    /* from this node's library */
	uint64_t sent;	      /* ... sent on to another node */
	uint64_t served;      /* run here: from other nodes, and this node's own */
	uint64_t timeouts;    /* answered -ETIMEDOUT */
	uint64_t unreachable; /* answered -EHOSTUNREACH: not sent */
	uint64_t broken;      /* answered -ECONNRESET: the link went down before the reply */
	uint64_t late; /* replies that came after their request timed out (or its quorum read was answered) */
	uint64_t quorum_reads; /* quorum reads from this node's library, each sent to every replica */
	uint64_t refused;      /* connections closed for a request that was not one */
};
void scd_forward_get_stats(const struct scd_forward *f, struct scd_forward_stats *out);

#endif /* SCD_FORWARD_H */
