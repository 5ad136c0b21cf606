/* batch_intent.c — a batch's intents and its commit point. */
#include "write/batch_intent.h"

#include "shm/crash_point.h"
#include "write/partition.h"

int sc_batch_settle(sc_cache *c, struct sc_part *commit)
{
	uint32_t me = sc_part_index(c, commit);

	if ((commit->batch_state & 3) == SC_BATCH_IDLE)
		return 0;
	/*
	 * Only a batch holding commit's lock sets an intent naming it, and
	 * that is ours now: every intent naming it is a dead writer's, whose
	 * partition's lock is owed a repair. Partitions above commit only, in
	 * ascending order, as every holder of several locks takes them.
	 */
	for (uint32_t i = me + 1; i < 2 * c->seg.cfg.num_partition; i++) {
		struct sc_part *q = sc_part_at(c, i);
		int err;

		if (!sc_read(&q->batch_intent) || sc_read(&q->batch_commit_part) != me)
			continue;
		err = sc_part_repair_owed(c, q);
		if (err)
			return sc_fail(
				err,
				"cache \"%s\": partition %u holds the unfinished batch of a dead writer "
				"and cannot be repaired: %s",
				c->name, i, sc_last_error());
	}
	commit->batch_state = SC_BATCH_STATE(commit->batch_state >> 2, SC_BATCH_IDLE);
	return 0;
}

uint64_t sc_batch_begin(struct sc_part *commit)
{
	uint64_t id = (commit->batch_state >> 2) + 1;

	sc_write(&commit->batch_state, SC_BATCH_STATE(id, SC_BATCH_STAGING));
	SC_CRASH_POINT();
	return id;
}

void sc_batch_intent_set(sc_cache *c, struct sc_part *p, const struct sc_part *commit, uint64_t id,
			 uint64_t intent_off)
{
	p->batch_id = id;
	p->batch_commit_part = sc_part_index(c, commit);
	/* Released after them: a settle that reads the offset reads the commit partition that goes with it. */
	sc_publish(&p->batch_intent, intent_off);
	SC_CRASH_POINT();
}

void sc_batch_commit(struct sc_part *commit, uint64_t id)
{
	/* Every intent and everything it lists is in memory before the batch is committed. */
	sc_publish(&commit->batch_state, SC_BATCH_STATE(id, SC_BATCH_COMMITTED));
	SC_CRASH_POINT();
}

void sc_batch_end(struct sc_part *commit, uint64_t id)
{
	sc_publish(&commit->batch_state, SC_BATCH_STATE(id, SC_BATCH_IDLE));
}
