/* replication_log.c — the coordinator's side of the replication logs: their state, copying entries out, its progress. */
#include <stddef.h>
#include <string.h>

#include "mem/repl_log.h"
#include "shm/futex.h"
#include "shm/cache.h"
#include "shm/error.h"

_Static_assert(sizeof(sc_repl_entry_head) == sizeof(struct sc_repl_entry) &&
		       offsetof(sc_repl_entry_head, epoch) == offsetof(struct sc_repl_entry, epoch) &&
		       offsetof(sc_repl_entry_head, lseq) == offsetof(struct sc_repl_entry, lseq),
	       "supercache.h tells how an entry begins");

SC_EXPORT int sc_repl_state_read(sc_cache *c, uint32_t i, sc_repl_state *st)
{
	struct sc_repl_log *l;
	int err = sc_repl_log_named(c, i, &l);

	if (err)
		return err;
	sc_check_arg(st, -EINVAL, "state is NULL");
	/* Backwards along the way an entry goes (published, shipped, acknowledged): each is read no
	 * later than the one it cannot pass, so one reading has acked <= shipped <= last. */
	st->acked_lseq = sc_acquire(&l->acked_lseq);
	st->shipped_lseq = sc_acquire(&l->shipped_lseq);
	st->tail = sc_acquire(&l->tail);
	st->last_lseq = sc_read(&l->last_lseq);
	st->last_epoch = sc_read(&l->last_epoch);
	st->head = sc_read(&l->head);
	st->first_lseq = sc_read(&l->head_lseq) + 1;
	if (st->first_lseq > st->last_lseq + 1)
		st->first_lseq = st->last_lseq + 1;
	st->entries = sc_read(&l->entries);
	st->resyncs = sc_read(&l->resyncs);
	st->unshipped_lost = sc_read(&l->unshipped_lost);
	return 0;
}

/* The length of the entry at pos, if its header is one that ends by tail; 0 if not. */
static uint32_t entry_len_at(struct sc_repl_log *l, uint64_t pos, uint64_t tail)
{
	const struct sc_repl_entry *e = (const struct sc_repl_entry *)sc_repl_ring_at(l, pos);
	uint32_t len = sc_read(&e->len);

	if (len < sizeof(*e) || len % 8 || len > SC_REPL_LOG_BYTES - (pos & (SC_REPL_LOG_BYTES - 1)) ||
	    len > tail - pos)
		return 0;
	return len;
}

/* After copying from [from, ...): -ESTALE if the ring wrote over from meanwhile (what was copied may be torn). */
static int still_there(sc_cache *c, uint32_t i, struct sc_repl_log *l, uint64_t from)
{
	cmm_smp_rmb();
	if (sc_read(&l->head) > from)
		return sc_fail(
			-ESTALE,
			"cache \"%s\", log %u: position %llu was written over (the ring holds from %llu)",
			c->name, i, (unsigned long long)from, (unsigned long long)sc_read(&l->head));
	return 0;
}

static int damaged(sc_cache *c, uint32_t i, uint64_t pos)
{
	return sc_fail(-EUCLEAN, "cache \"%s\", log %u: no sound entry at position %llu", c->name, i,
		       (unsigned long long)pos);
}

SC_EXPORT ssize_t sc_repl_read(sc_cache *c, uint32_t i, uint64_t *pos, void *buf, size_t cap)
{
	struct sc_repl_log *l;
	uint64_t at, tail;
	size_t copied = 0;
	int err = sc_repl_log_named(c, i, &l);

	if (err)
		return err;
	sc_check_arg(pos && (buf || cap == 0), -EINVAL, "pos or buf is NULL");
	at = *pos;
	tail = sc_acquire(&l->tail);
	sc_check_arg(at <= tail, -EINVAL, "cache \"%s\", log %u: position %llu is past its end, %llu",
		     c->name, i, (unsigned long long)at, (unsigned long long)tail);
	err = still_there(c, i, l, at);
	if (err)
		return err;
	while (at < tail) {
		const struct sc_repl_entry *e = (const struct sc_repl_entry *)sc_repl_ring_at(l, at);
		uint32_t len = sc_repl_short_tail(at);

		if (len) {
			at += len;
			continue;
		}
		len = entry_len_at(l, at, tail);

		if (!len) {
			err = still_there(c, i, l, *pos);
			return err ? err : damaged(c, i, at);
		}
		if (sc_read(&e->op) != SC_REPL_PAD) {
			if (len > cap - copied)
				break;
			memcpy((uint8_t *)buf + copied, e, len);
			copied += len;
		}
		at += len;
	}
	err = still_there(c, i, l, *pos);
	if (err)
		return err;
	*pos = at;
	return (ssize_t)copied;
}

SC_EXPORT int sc_repl_seek(sc_cache *c, uint32_t i, uint64_t lseq, uint64_t *pos)
{
	struct sc_repl_log *l;
	uint64_t at, tail, last, head_lseq;
	int err = sc_repl_log_named(c, i, &l);

	if (err)
		return err;
	sc_check_arg(pos, -EINVAL, "pos is NULL");
	tail = sc_acquire(&l->tail);
	last = sc_read(&l->last_lseq);
	at = sc_read(&l->head);
	head_lseq = sc_read(&l->head_lseq);
	cmm_smp_rmb();
	sc_check_arg(lseq <= last, -ERANGE, "cache \"%s\", log %u: entry %llu is past its last, %llu",
		     c->name, i, (unsigned long long)lseq, (unsigned long long)last);
	if (lseq == last) {
		*pos = tail;
		return 0;
	}
	if (lseq < head_lseq)
		return sc_fail(-ESTALE, "cache \"%s\", log %u: what follows entry %llu was written over",
			       c->name, i, (unsigned long long)lseq);
	for (uint64_t from = at; at < tail;) {
		const struct sc_repl_entry *e = (const struct sc_repl_entry *)sc_repl_ring_at(l, at);
		uint32_t len = sc_repl_short_tail(at);
		uint8_t op;
		uint64_t seen;

		if (len) {
			at += len;
			continue;
		}
		len = entry_len_at(l, at, tail);
		op = sc_read(&e->op);
		seen = sc_read(&e->lseq);

		if (!len) {
			err = still_there(c, i, l, from);
			return err ? err : damaged(c, i, at);
		}
		if (op != SC_REPL_PAD && seen > lseq) {
			err = still_there(c, i, l, from);
			if (!err)
				*pos = at;
			return err;
		}
		at += len;
	}
	return damaged(c, i, at);
}

SC_EXPORT int sc_repl_progress_write(sc_cache *c, uint32_t i, uint64_t shipped_lseq, uint64_t acked_lseq)
{
	struct sc_repl_log *l;
	uint64_t before;
	int err = sc_repl_log_named(c, i, &l);

	if (!err)
		err = sc_cache_writable(c);
	if (err)
		return err;
	sc_store_max(&l->shipped_lseq, shipped_lseq);
	before = sc_read(&l->acked_lseq);
	if (acked_lseq > before) {
		sc_store_max(&l->acked_lseq, acked_lseq);
		sc_repl_wake_acked(l, before, acked_lseq);
	}
	return 0;
}

/* Where every log's tail stands, summed: tails only grow, so the sum moves whenever any log does. */
static uint64_t tails(sc_cache *c)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < 2 * c->seg.cfg.num_partition; i++)
		sum += sc_acquire(&sc_repl_log_at(c, i)->tail);
	return sum;
}

/* The bell's callers: a distributed cache, and where the logs stood at the last look. 0 or -EINVAL. */
static int bell_check(sc_cache *c, const uint64_t *seen)
{
	struct sc_repl_log *l;
	int err = sc_repl_log_named(c, 0, &l);

	if (err)
		return err;
	sc_check_arg(seen, -EINVAL, "seen is NULL");
	return 0;
}

/*
 * Say the shipper sleeps (how), then take the last look at the logs:
 * sc_ship_bell_ring() in mem/ship_bell.c looks the other way round, so one
 * of the two sees the other.
 */
static uint64_t asleep_then_look(sc_cache *c, uint32_t how)
{
	sc_write(&sc_hdr(c)->ship_sleeping, how);
	sc_full_barrier();
	return tails(c);
}

/* 1, and *seen moved to now, when the logs stand elsewhere than at *seen; else 0. */
static int moved(uint64_t now, uint64_t *seen)
{
	if (now == *seen)
		return 0;
	*seen = now;
	return 1;
}

SC_EXPORT int sc_repl_bell_wait(sc_cache *c, uint64_t *seen, uint64_t timeout_ns)
{
	struct sc_seg_hdr *h;
	uint32_t bell;
	int err = bell_check(c, seen);

	if (err)
		return err;
	h = sc_hdr(c);
	bell = sc_acquire(&h->ship_bell);
	if (asleep_then_look(c, SC_SHIP_ON_FUTEX) == *seen)
		sc_futex_wait(&h->ship_bell, bell, timeout_ns);
	sc_write(&h->ship_sleeping, SC_SHIP_AWAKE);
	return moved(tails(c), seen);
}

SC_EXPORT int sc_repl_bell_arm(sc_cache *c, uint64_t *seen)
{
	int err = bell_check(c, seen);

	return err ? err : moved(asleep_then_look(c, SC_SHIP_ON_SOCKET), seen);
}
