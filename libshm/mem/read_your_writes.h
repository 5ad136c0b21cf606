/* read_your_writes.h — how far this handle's writes went in each replication log, so that its later reads see them. */
#ifndef SC_READ_YOUR_WRITES_H
#define SC_READ_YOUR_WRITES_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"
#include "shm/log_position.h"

/*
 * docs/distributed.md, "Read-your-writes". For each replication log
 * (partition) the handle keeps the newest (epoch, lseq) of the writes it
 * made there that returned: here, or on the partition's primary, whose
 * reply says where the write went. A read of the partition is answered
 * from this host's copy only once the copy's log has reached that point,
 * in epoch and in lseq (both only grow along a partition's history): it
 * then holds the write, or something newer.
 *
 * Each of the two words is moved up alone, lock-free: a writer may pair an
 * epoch with another writer's lseq, which is never less than either write.
 */
struct sc_ryw_floor {
	uint64_t epoch;
	uint64_t lseq;
};

/* The floors of a distributed, writable handle (c->ryw, one per log); 0 or -ENOMEM. NULL otherwise. */
int sc_ryw_init(sc_cache *c);
void sc_ryw_free(sc_cache *c);

/*
 * A write of this thread's published log's entries up to lseq under epoch:
 * raise the handle's floor, or, while the thread serves another node's
 * forwarded call (sc_ryw_serving), note it for the reply instead.
 */
void sc_ryw_wrote(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq);

/* The same for a write another node's primary reported (a forwarded write's reply). */
void sc_ryw_note(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq);

/*
 * Whether a read of log may be answered from this host's copy: nothing of
 * this handle's is owed there, or the copy reached it (waiting up to
 * SC_RYW_WAIT_US for it while this node holds a copy of the partition).
 * False: the read is to be asked of the partition's primary.
 */
#define SC_RYW_WAIT_US 5000u
bool sc_ryw_here(sc_cache *c, uint32_t log);

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
extern __thread struct sc_ryw_written *sc_ryw_serving;

/*
 * Set while a read this handle could not answer here is asked of the
 * primary (or runs there as its here): the read it runs is not checked again.
 */
extern __thread bool sc_ryw_asking;

#endif /* SC_READ_YOUR_WRITES_H */
