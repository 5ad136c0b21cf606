/* read_your_writes.h — how far this handle's writes went in each replication log, so that its later reads see them. */
#ifndef SC_READ_YOUR_WRITES_H
#define SC_READ_YOUR_WRITES_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"
#include "shm/log_position.h"

/*
 * docs/distributed.md, "Read-your-writes". The handle keeps the newest
 * (epoch, lseq) of the writes it made that returned, per key:
 *
 * - a write made here, as the partition's primary, sets its log's local
 *   floor: this host's copy holds it already (it falls behind it only
 *   across a failover, or while being refilled), and two plain stores
 *   under the partition's lock are all the put path pays;
 * - a write forwarded to another node's primary, whose reply says where it
 *   went, of one key (between sc_ryw_key_begin() and sc_ryw_key_end() on
 *   its thread), raises that key's floor, in a table of SC_RYW_KEY_SLOTS
 *   indexed by (log, key hash), and its log's keyed floor: keys that share
 *   a slot share a floor, so a read of one may wait for another's write,
 *   never miss its own;
 * - a forwarded write of many keys (a batch, a match, a clear) raises its
 *   log's wide floor.
 *
 * A read of one key is answered from this host's copy once the copy's log
 * reached the wide and local floors and the key's (or the keyed one); a
 * read of many keys (a scan, a match), once it reached all three. In
 * epoch and in lseq: both only grow along a partition's history, so the
 * copy then holds the writes, or something newer.
 *
 * Each of the two words of a wide, keyed or key's floor is moved up alone,
 * lock-free: a writer may pair an epoch with another writer's lseq, which
 * is never less than either write.
 */
struct sc_ryw_floor {
	uint64_t epoch;
	uint64_t lseq;
};

#define SC_RYW_KEY_SLOTS 1024u /* 16 KiB */

/* The floors of a distributed, writable handle (c->ryw); 0 or -ENOMEM. NULL otherwise. */
int sc_ryw_init(sc_cache *c);
void sc_ryw_free(sc_cache *c);

/*
 * The one key the write this thread is making is of (its route's
 * key_hash), from before its first entry is logged or forwarded until its
 * result is known; none set, a forwarded write marks its log's wide floor.
 */
struct sc_ryw_key {
	uint64_t hash;
	bool set;
};
extern __thread struct sc_ryw_key sc_ryw_key __attribute__((tls_model("initial-exec")));

static inline void sc_ryw_key_begin(const sc_cache *c, uint64_t key_hash)
{
	if (c->ryw)
		sc_ryw_key = (struct sc_ryw_key){ key_hash, true };
}

/* Ends the key's write: r, its result, passed through. */
static inline int64_t sc_ryw_key_end(int64_t r)
{
	sc_ryw_key.set = false;
	return r;
}

/*
 * A write of this thread's published log's entries up to lseq under epoch:
 * raise the handle's wide floor, or, while the thread serves another node's
 * forwarded call (sc_ryw_serving), note it for the reply instead.
 */
void sc_ryw_wrote(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq);

/* The same for a write another node's primary reported (a forwarded write's reply). */
void sc_ryw_note(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq);

/*
 * Whether a read of log may be answered from this host's copy: nothing of
 * this handle's is owed there, or the copy reached it (waiting up to
 * SC_RYW_WAIT_US for it while this node holds a copy of the partition).
 * False: the read is to be asked of the partition's primary. The read of
 * one key (key_hash, its route's) asks only for what that key owes.
 */
#define SC_RYW_WAIT_US 5000u
bool sc_ryw_here(sc_cache *c, uint32_t log);
bool sc_ryw_here_key(sc_cache *c, uint32_t log, uint64_t key_hash);

/* Whether a copy standing at (epoch, lseq) holds everything this handle wrote to log. */
bool sc_ryw_covered(const sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq);

/*
 * What a served call (sc_forward_serve) wrote, per log, for its reply:
 * set by the server around the call; sc_ryw_wrote() fills it.
 */
struct sc_ryw_written {
	uint32_t n, cap;
	struct sc_log_position *at;
	int err; /* -ENOMEM: some went unnoted */
};
extern __thread struct sc_ryw_written *sc_ryw_serving __attribute__((tls_model("initial-exec")));

/*
 * Set while a read this handle could not answer here is asked of the
 * primary (or runs there as its here): the read it runs is not checked again.
 */
extern __thread bool sc_ryw_asking __attribute__((tls_model("initial-exec")));

#endif /* SC_READ_YOUR_WRITES_H */
