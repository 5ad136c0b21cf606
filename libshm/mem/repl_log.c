/* repl_log.c — a partition's replication log, writer side: what each write did, appended under the partition's lock. */
#include "mem/repl_log.h"

#include <stdbool.h>
#include <string.h>

#include "mem/ship_bell.h"
#include "record/entry_key.h"
#include "record/record_deadline.h"
#include "record/tuple_codec.h"
#include "shm/clock.h"
#include "shm/futex.h"

#define RING_MASK ((uint64_t)SC_REPL_LOG_BYTES - 1)

int sc_repl_log_named(sc_cache *c, uint32_t i, struct sc_repl_log **l)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	sc_check_arg(c->seg.cfg.cluster == SC_CLUSTER_DISTRIBUTED, -EINVAL,
		     "cache \"%s\" is local: it has no replication logs", c->name);
	sc_check_arg(i < 2 * c->seg.cfg.num_partition, -EINVAL, "log %u out of range (cache \"%s\" has %u)",
		     i, c->name, 2 * c->seg.cfg.num_partition);
	*l = sc_repl_log_at(c, i);
	return 0;
}

/*
 * Move head past the oldest entries until [head, end) fits the ring, before
 * anything is written there: a reader that copied from below the new head
 * sees it moved and drops its copy. An entry that does not look like one
 * (someone wrote over the ring) gives up the whole past at once.
 */
static void make_room(struct sc_repl_log *l, uint64_t end)
{
	uint64_t head = l->head, head_lseq = l->head_lseq, shipped = sc_read(&l->shipped_lseq);

	while (end - head > SC_REPL_LOG_BYTES) {
		const struct sc_repl_entry *e = (const struct sc_repl_entry *)sc_repl_ring_at(l, head);
		uint32_t len = sc_repl_short_tail(head);

		if (len) {
			head += len;
			continue;
		}
		len = e->len;

		if (len < sizeof(*e) || len % 8 || len > SC_REPL_LOG_BYTES - (head & RING_MASK) ||
		    head + len > l->staged) {
			head = l->staged;
			head_lseq = l->staged_lseq;
			break;
		}
		if (e->op != SC_REPL_PAD) {
			head_lseq = e->lseq;
			if (e->lseq > shipped)
				l->unshipped_lost++;
		}
		head += len;
	}
	l->head_lseq = head_lseq;
	sc_write(&l->head, head);
	cmm_smp_wmb();
}

/* Room for an entry of len bytes at the end of the staged ones, a pad first if it would wrap. */
static struct sc_repl_entry *stage(struct sc_repl_log *l, uint32_t len)
{
	uint64_t to_end = SC_REPL_LOG_BYTES - (l->staged & RING_MASK);
	struct sc_repl_entry *e;

	if (to_end < len) {
		make_room(l, l->staged + to_end);
		if (!sc_repl_short_tail(l->staged)) {
			e = (struct sc_repl_entry *)sc_repl_ring_at(l, l->staged);
			memset(e, 0, sizeof(*e));
			e->len = (uint32_t)to_end;
			e->op = SC_REPL_PAD;
		}
		l->staged += to_end;
	}
	make_room(l, l->staged + len);
	e = (struct sc_repl_entry *)sc_repl_ring_at(l, l->staged);
	e->len = len;
	e->flags = 0;
	e->why = 0;
	e->epoch = l->epoch;
	e->lseq = ++l->staged_lseq;
	l->staged += len;
	l->entries++;
	return e;
}

static void stage_marker(struct sc_repl_log *l, uint8_t op)
{
	stage(l, sizeof(struct sc_repl_entry))->op = op;
	if (op == SC_REPL_RESYNC)
		l->resyncs++;
}

void sc_repl_begin(sc_cache *c, struct sc_part *p, uint64_t epoch)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);

	if (!l)
		return;
	if (epoch)
		l->epoch = epoch;
	l->applying = 0;
	l->ops_only = 0;
	if (l->staged != l->tail || l->staged_lseq != l->last_lseq) {
		/* A writer died between staging and publishing: what it did is the repair's to say. */
		l->staged = l->tail;
		l->staged_lseq = l->last_lseq;
		stage_marker(l, SC_REPL_RESYNC);
	}
}

void sc_repl_put_record(struct sc_repl_entry *e, const struct sc_blk *rec, uint8_t op, uint8_t why)
{
	uint32_t len = rec->len;
	uint64_t *deadline;

	e->op = op;
	e->why = why;
	e->flags = 0;
	memcpy(e + 1, rec, len);
	memset((uint8_t *)(e + 1) + len, 0, sc_repl_record_entry_len(len) - sizeof(*e) - len);
	deadline = sc_rec_deadline_word((const struct sc_blk *)(e + 1), len);
	if (deadline) {
		uint64_t now = sc_clock_ns(), at = *deadline;

		/* 0 is "none"; a record already due keeps 1 ns so that it stays due over there. */
		*deadline = at == 0 ? 0 : at > now ? at - now : 1;
		e->flags |= SC_REPL_TTL_LEFT;
	}
}

/*
 * Whether rec is a queue's or stack's record (its header, or an item): a
 * structure entry whose key begins with their kind. While a sequence
 * operation runs, those are what it logs as the operation; anything else
 * it changes (a KeyValue pair evicted to make room) is noted as usual.
 */
static bool is_sequence_record(const struct sc_blk *rec)
{
	switch (sc_rec_entry_kind((const uint8_t *)rec, rec->len)) {
	case SC_ENTRY_QUEUE:
	case SC_ENTRY_STACK:
	case SC_ENTRY_ITEM:
		return true;
	default:
		return false;
	}
}

/* Stage the record at off as op's payload. */
static void stage_record(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t op, uint8_t why)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);
	const struct sc_blk *rec = sc_blk_at(c, off);

	if (!l || l->applying || (l->ops_only && is_sequence_record(rec)))
		return;
	if (rec->len > SC_REPL_MAX_RECORD) {
		stage_marker(l, SC_REPL_RESYNC); /* not stored: record_write() refuses them */
		return;
	}
	sc_repl_put_record(stage(l, sc_repl_record_entry_len(rec->len)), rec, op, why);
}

void sc_repl_note_put(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t why)
{
	stage_record(c, p, off, SC_REPL_PUT, why);
}

void sc_repl_note_removed(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t why)
{
	stage_record(c, p, off, SC_REPL_REMOVE, why);
}

void sc_repl_note_clear(sc_cache *c, struct sc_part *p)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);

	if (l && !l->applying)
		stage_marker(l, SC_REPL_CLEAR);
}

void sc_repl_ops_only(sc_cache *c, struct sc_part *p, bool on)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);

	if (l)
		l->ops_only = on;
}

uint32_t sc_repl_op_record_len(const sc_cache *c, const sc_tuple *t)
{
	uint32_t len;

	if (sc_record_len(c, t->fields, t->nfields, &len) || len > SC_REPL_MAX_RECORD)
		return 0;
	return len;
}

void sc_repl_put_op(struct sc_repl_entry *e, uint32_t rec_len, uint8_t op, const sc_tuple *t)
{
	struct sc_blk *rec = (struct sc_blk *)(e + 1);

	e->op = op;
	e->why = 0;
	e->flags = 0;
	memset(rec, 0, sc_repl_record_entry_len(rec_len) - sizeof(*e));
	rec->len = rec_len;
	sc_rec_encode(rec, t, 0);
}

void sc_repl_note_op(sc_cache *c, struct sc_part *p, uint8_t op, const sc_tuple *t)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);
	uint32_t len;

	if (!l || l->applying)
		return;
	len = sc_repl_op_record_len(c, t);
	if (!len) {
		stage_marker(l, SC_REPL_RESYNC);
		return;
	}
	sc_repl_put_op(stage(l, sc_repl_record_entry_len(len)), len, op, t);
}

void sc_repl_note_resync(sc_cache *c, struct sc_part *p)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);

	if (l)
		stage_marker(l, SC_REPL_RESYNC);
}

void sc_repl_append_copy(sc_cache *c, struct sc_part *p, const struct sc_repl_entry *e)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);
	struct sc_repl_entry *copy;

	if (!l)
		return;
	l->epoch = e->epoch;
	l->staged_lseq = e->lseq - 1;
	copy = stage(l, e->len);
	memcpy(copy, e, e->len);
	if (e->op == SC_REPL_RESYNC)
		l->resyncs++;
}

uint64_t sc_repl_commit(sc_cache *c, struct sc_part *p, uint64_t *restarts)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);

	if (!l)
		return 0;
	l->ops_only = 0;
	if (l->staged == l->tail)
		return 0;
	/* This write staged more than the ring holds: its first entries are gone. */
	if (l->head > l->tail && !l->applying)
		stage_marker(l, SC_REPL_RESYNC);
	sc_write(&l->last_lseq, l->staged_lseq);
	sc_write(&l->last_epoch, l->epoch);
	sc_publish(&l->tail, l->staged);
	if (restarts)
		*restarts = l->restarts;
	if (l->applying)
		return 0;
	/* Only a writer that waits for the replicas needs them told at once; async ones leave it to the poll. */
	if (c->waits_acks)
		sc_ship_bell_ring(c);
	return l->last_lseq;
}

/* Looks at acked_lseq before a lone writer's first sleep: some microseconds. */
#define ACK_SPIN 200

/* The futex bit a writer waiting for entry lseq sleeps with. */
static uint32_t ack_bit(uint64_t lseq)
{
	return 1u << (lseq % 32u);
}

void sc_repl_wake_acked(struct sc_repl_log *l, uint64_t after, uint64_t upto)
{
	uint32_t bits = UINT32_MAX;

	if (upto - after < 32u)
		for (bits = 0; after < upto; after++)
			bits |= ack_bit(after + 1);
	/* The word first, then the waiters: a writer counted after this look saw the new acked_lseq. */
	sc_add(&l->acked_wake, 1);
	sc_full_barrier();
	if (sc_read(&l->ack_waiters))
		sc_futex_wake_bits(&l->acked_wake, bits);
}

/*
 * Whether entry lseq of the numbering the write was committed under is
 * acknowledged: 1, 0 not yet, -1 never (the log started over since: this
 * node stopped holding the partition, or took a copy, and dropped it).
 * acked_lseq is read first: a log that started over zeroed it before any
 * later acknowledgement moved it on, so that one's restarts are seen.
 */
static int acked(const struct sc_repl_log *l, uint64_t lseq, uint64_t restarts)
{
	const bool reached = sc_acquire(&l->acked_lseq) >= lseq;

	if (sc_read(&l->restarts) != restarts)
		return -1;
	return reached;
}

int sc_repl_wait_acked(sc_cache *c, struct sc_part *p, uint64_t lseq, uint64_t restarts)
{
	struct sc_repl_log *l = sc_repl_log_of(c, p);
	uint64_t start, limit = (uint64_t)c->majority_timeout_ms * 1000000u, spent;
	int done = 0;

	/*
	 * A writer alone spins a little first (it measured ~10% faster that way,
	 * though an ack takes a round trip); one that finds others asleep on the
	 * log goes straight to sleep, leaving them the CPU (on 2 cores, 32
	 * writers that all spun made ~20% fewer sync writes/s).
	 */
	for (int i = 0; i < ACK_SPIN && !done && !sc_read(&l->ack_waiters); i++) {
		done = acked(l, lseq, restarts);
		sc_cpu_relax();
	}
	start = sc_clock_ns();
	while (!done) {
		uint32_t seen = sc_acquire(&l->acked_wake);

		done = acked(l, lseq, restarts);
		if (done)
			break;
		spent = sc_clock_ns() - start;
		if (spent >= limit)
			break;
		/* Counted before the last look: a coordinator that moves acked_lseq after it sees us and wakes us. */
		sc_add(&l->ack_waiters, 1);
		sc_full_barrier();
		if (!acked(l, lseq, restarts))
			sc_futex_wait_bits(&l->acked_wake, seen, limit - spent, ack_bit(lseq));
		sc_add(&l->ack_waiters, (uint32_t)-1);
	}
	if (done > 0)
		return 0;
	if (done < 0)
		return sc_fail(
			-ETIMEDOUT,
			"cache \"%s\", partition %u: its log started over before entry %llu was "
			"acknowledged (this node stopped holding the partition, or took a copy of it): "
			"the write is gone from this node's copy, and may or may not be on the others",
			c->name, sc_part_index(c, p), (unsigned long long)lseq);
	return sc_fail(
		-ETIMEDOUT,
		"cache \"%s\", partition %u: entry %llu not acknowledged by the in-sync replicas within "
		"majority_timeout_ms = %u (acknowledged up to %llu); it is in this node's copy and may or may "
		"not reach the others",
		c->name, sc_part_index(c, p), (unsigned long long)lseq, c->majority_timeout_ms,
		(unsigned long long)sc_acquire(&l->acked_lseq));
}
