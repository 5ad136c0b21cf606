/* batch_intent.h — a batch all-or-nothing across partitions: its intents and its commit point. */
#ifndef SC_BATCH_INTENT_H
#define SC_BATCH_INTENT_H

#include <stdint.h>

#include "shm/cache.h"

/*
 * A batch's writer holds the lock of every partition it writes, from the
 * first record it stages to the last it publishes. In each it writes the
 * records, unpublished, makes the index room for them (or builds an
 * ordered_set's new tree beside the old), and leaves an intent: a block
 * listing them, found from the partition (batch_intent), naming the batch
 * by its number and its commit partition, the lowest partition it writes.
 * The batch commits with one store, of its number and SC_BATCH_COMMITTED,
 * into the commit partition's batch_state. Only then does anything become
 * visible, partition by partition.
 *
 * A writer that dies leaves intents behind. Whoever takes such a
 * partition's lock next repairs it (recovery/repair.h), and the repair starts with
 * its intent (recovery/batch_resolve.h): if the batch committed, what the intent
 * lists is published (again: each step is idempotent), else it is dropped; the census that follows frees
 * what nobody can reach. Either way every partition of the batch agrees,
 * whichever of them is repaired first, since the commit partition's state
 * keeps saying what it said until every intent naming it is gone: a new
 * batch numbered by that partition first settles the old one's
 * partitions (sc_batch_settle()).
 */

/*
 * Writer side, holding the lock of commit, the batch's lowest partition,
 * and no other partition's: if a batch commit numbered died unfinished,
 * take and release the lock of every partition still holding its intent,
 * which repairs them. 0 or the error of a partition that could not be
 * repaired (-EUCLEAN: damaged; sc_partition_reset() it).
 */
int sc_batch_settle(sc_cache *c, struct sc_part *commit);

/* Writer side, holding every partition of the batch: number a new batch, staging. */
uint64_t sc_batch_begin(struct sc_part *commit);

/* Writer side: p's intent block is complete; make it p's, for the batch numbered id by commit. */
void sc_batch_intent_set(sc_cache *c, struct sc_part *p, const struct sc_part *commit, uint64_t id,
			 uint64_t intent_off);

/* The commit point: one store. */
void sc_batch_commit(struct sc_part *commit, uint64_t id);

/* Every intent of the batch is gone (published or given up): the batch is over. */
void sc_batch_end(struct sc_part *commit, uint64_t id);

#endif /* SC_BATCH_INTENT_H */
