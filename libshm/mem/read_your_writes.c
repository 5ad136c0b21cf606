/* read_your_writes.c — how far this handle's writes went in each replication log, so that its later reads see them. */
#include <stdlib.h>
#include <time.h>

#include "mem/read_your_writes.h"
#include "mem/repl_log.h"
#include "shm/clock.h"
#include "shm/cluster_map.h"

__thread struct sc_ryw_written *sc_ryw_serving;
__thread bool sc_ryw_asking;

int sc_ryw_init(sc_cache *c)
{
	c->ryw = NULL;
	if (!c->logs_writes)
		return 0;
	c->ryw = calloc(2 * (size_t)c->seg.cfg.num_partition, sizeof(*c->ryw));
	return c->ryw ? 0
		      : sc_fail(-ENOMEM, "out of memory for cache \"%s\"'s read-your-writes marks", c->name);
}

void sc_ryw_free(sc_cache *c)
{
	free(c->ryw);
	c->ryw = NULL;
}

void sc_ryw_note(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	if (!c->ryw || log >= 2 * c->seg.cfg.num_partition)
		return;
	sc_store_max(&c->ryw[log].epoch, epoch);
	sc_store_max(&c->ryw[log].lseq, lseq);
}

static void note_served(struct sc_ryw_written *w, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (w->at[i].log == log) {
			w->at[i].epoch = epoch > w->at[i].epoch ? epoch : w->at[i].epoch;
			w->at[i].lseq = lseq > w->at[i].lseq ? lseq : w->at[i].lseq;
			return;
		}
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? 2 * w->cap : 4;
		struct sc_log_position *at = realloc(w->at, cap * sizeof(*at));

		if (!at) {
			w->err = -ENOMEM;
			return;
		}
		w->at = at;
		w->cap = cap;
	}
	w->at[w->n++] = (struct sc_log_position){ log, epoch, lseq };
}

void sc_ryw_wrote(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	if (sc_ryw_serving)
		note_served(sc_ryw_serving, log, epoch, lseq);
	else
		sc_ryw_note(c, log, epoch, lseq);
}

bool sc_ryw_covered(const sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	return !c->ryw || (epoch >= sc_read(&c->ryw[log].epoch) && lseq >= sc_read(&c->ryw[log].lseq));
}

/* Whether this host's copy of log holds everything this handle wrote there. */
static bool copy_reached(const sc_cache *c, uint32_t log)
{
	const struct sc_repl_log *l = sc_repl_log_at(c, log);

	return sc_ryw_covered(c, log, sc_acquire(&l->last_epoch), sc_acquire(&l->last_lseq));
}

bool sc_ryw_here(sc_cache *c, uint32_t log)
{
	uint64_t epoch, deadline;
	uint32_t replicas;

	if (!c->ryw || sc_ryw_asking || sc_ryw_serving || sc_likely(!sc_read(&c->ryw[log].lseq)) ||
	    copy_reached(c, log))
		return true;
	/* No copy of the partition here: nothing to wait for. */
	if (!sc_cluster_copy_look(c, log % c->seg.cfg.num_partition, &epoch, &replicas))
		return false;
	deadline = sc_clock_ns() + SC_RYW_WAIT_US * 1000ull;
	while (sc_clock_ns() < deadline) {
		nanosleep(&(struct timespec){ 0, 50 * 1000 }, NULL);
		if (copy_reached(c, log))
			return true;
	}
	return false;
}
