/* read_your_writes.c — how far this handle's writes went in each replication log, so that its later reads see them. */
#include <stdlib.h>
#include <time.h>

#include "mem/read_your_writes.h"
#include "mem/repl_log.h"
#include "shm/clock.h"
#include "shm/cluster_map.h"

__thread struct sc_ryw_written *sc_ryw_serving __attribute__((tls_model("initial-exec")));
__thread bool sc_ryw_asking __attribute__((tls_model("initial-exec")));
__thread struct sc_ryw_key sc_ryw_key __attribute__((tls_model("initial-exec")));

/*
 * c->ryw: each log's wide floor, [0, logs): forwarded writes of many keys;
 * each log's keyed floor, [logs, 2 logs): the forwarded writes of one key,
 * every key's; each log's local floor, [2 logs, 3 logs): the writes made
 * here, as the partition's primary; the keys' floors, after: each
 * forwarded write of one key, its key's.
 */
static uint32_t logs(const sc_cache *c)
{
	return 2 * c->seg.cfg.num_partition;
}

static struct sc_ryw_floor *wide_floor(const sc_cache *c, uint32_t log)
{
	return &c->ryw[log];
}

static struct sc_ryw_floor *keyed_floor(const sc_cache *c, uint32_t log)
{
	return &c->ryw[logs(c) + log];
}

static struct sc_ryw_floor *local_floor(const sc_cache *c, uint32_t log)
{
	return &c->ryw[2 * logs(c) + log];
}

static struct sc_ryw_floor *key_floor(const sc_cache *c, uint32_t log, uint64_t key_hash)
{
	/* A multiplicative mix of both: the same key in two logs, or two keys of one log, rarely meet. */
	const uint64_t mixed = (key_hash ^ ((uint64_t)log << 40)) * 0x9e3779b97f4a7c15ull;

	return &c->ryw[3 * logs(c) + (mixed >> 54) % SC_RYW_KEY_SLOTS];
}

int sc_ryw_init(sc_cache *c)
{
	c->ryw = NULL;
	if (!c->logs_writes)
		return 0;
	c->ryw = calloc(3 * (size_t)logs(c) + SC_RYW_KEY_SLOTS, sizeof(*c->ryw));
	return c->ryw ? 0
		      : sc_fail(-ENOMEM, "out of memory for cache \"%s\"'s read-your-writes marks", c->name);
}

void sc_ryw_free(sc_cache *c)
{
	free(c->ryw);
	c->ryw = NULL;
}

static void raise_floor(struct sc_ryw_floor *f, uint64_t epoch, uint64_t lseq)
{
	sc_store_max(&f->epoch, epoch);
	sc_store_max(&f->lseq, lseq);
}

void sc_ryw_note(sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	if (!c->ryw || log >= logs(c))
		return;
	if (!sc_ryw_key.set) {
		raise_floor(wide_floor(c, log), epoch, lseq);
		return;
	}
	raise_floor(key_floor(c, log, sc_ryw_key.hash), epoch, lseq);
	/* The log's keyed floor last: a read that finds its copy past it finds it past the key's too. */
	raise_floor(keyed_floor(c, log), epoch, lseq);
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
	/*
	 * Made here: this host's copy has it already, and falls behind it only
	 * across a failover or a copy being refilled. Its log's local floor is
	 * enough then. The caller holds the partition's lock, as every write
	 * here that reaches this does: the floor's writers take turns, each
	 * with a later (epoch, lseq) of the same log, and plain stores do what
	 * two compare-and-swaps would on every put. (A log that started over
	 * numbers from 1 again: its floor follows it down.)
	 */
	else if (c->ryw && log < logs(c)) {
		sc_write(&local_floor(c, log)->epoch, epoch);
		sc_write(&local_floor(c, log)->lseq, lseq);
	}
}

static bool reached(const struct sc_ryw_floor *f, uint64_t epoch, uint64_t lseq)
{
	return epoch >= sc_read(&f->epoch) && lseq >= sc_read(&f->lseq);
}

bool sc_ryw_covered(const sc_cache *c, uint32_t log, uint64_t epoch, uint64_t lseq)
{
	return !c->ryw ||
	       (reached(wide_floor(c, log), epoch, lseq) && reached(keyed_floor(c, log), epoch, lseq) &&
		reached(local_floor(c, log), epoch, lseq));
}

/*
 * Whether this host's copy of log holds everything this handle wrote there
 * (keyed false), or everything it wrote to the key and to no key in
 * particular.
 */
static bool copy_reached(const sc_cache *c, uint32_t log, bool keyed, uint64_t key_hash)
{
	const struct sc_repl_log *l = sc_repl_log_at(c, log);
	const uint64_t epoch = sc_acquire(&l->last_epoch), lseq = sc_acquire(&l->last_lseq);

	if (!reached(wide_floor(c, log), epoch, lseq) || !reached(local_floor(c, log), epoch, lseq))
		return false;
	return reached(keyed_floor(c, log), epoch, lseq) ||
	       (keyed && reached(key_floor(c, log, key_hash), epoch, lseq));
}

static bool here(sc_cache *c, uint32_t log, bool keyed, uint64_t key_hash)
{
	uint64_t epoch, deadline;
	uint32_t replicas;

	if (!c->ryw || sc_ryw_asking || sc_ryw_serving ||
	    sc_likely(!sc_read(&wide_floor(c, log)->lseq) && !sc_read(&keyed_floor(c, log)->lseq) &&
		      !sc_read(&local_floor(c, log)->lseq)) ||
	    copy_reached(c, log, keyed, key_hash))
		return true;
	/* No copy of the partition here: nothing to wait for. */
	if (!sc_cluster_copy_look(c, log % c->seg.cfg.num_partition, &epoch, &replicas))
		return false;
	deadline = sc_clock_ns() + SC_RYW_WAIT_US * 1000ull;
	while (sc_clock_ns() < deadline) {
		nanosleep(&(struct timespec){ 0, 50 * 1000 }, NULL);
		if (copy_reached(c, log, keyed, key_hash))
			return true;
	}
	return false;
}

bool sc_ryw_here(sc_cache *c, uint32_t log)
{
	return here(c, log, false, 0);
}

bool sc_ryw_here_key(sc_cache *c, uint32_t log, uint64_t key_hash)
{
	return here(c, log, true, key_hash);
}
