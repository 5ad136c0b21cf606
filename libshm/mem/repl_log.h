/* repl_log.h — a partition's replication log, writer side: what each write did, appended under the partition's lock. */
#ifndef SC_REPL_LOG_H
#define SC_REPL_LOG_H

#include <stdbool.h>

#include "shm/cache.h"

/*
 * In a distributed cache every change to a partition's index is logged as
 * it happens (mem/record_accounts.c calls the notes below): a record
 * published, a record that left. Replaying the entries in order on a copy
 * of the partition as it was gives the partition as it is: that is what the
 * replicas do (admin/replica_apply.c). A write's entries are staged as it
 * goes and published together as it releases the lock, so a reader of the
 * log sees every entry of a write or none. When the log cannot say what
 * happened (its holder died inside a write, or one write staged more than
 * the ring holds), it says so with a resync mark, and the replicas copy the
 * partition instead of following it.
 */

/* Log i of a distributed cache (i < 2 x num_partition: the partition of the same index's). */
static inline struct sc_repl_log *sc_repl_log_at(const sc_cache *c, uint32_t i)
{
	return (struct sc_repl_log *)(c->seg.base + c->seg.geo.repl_off + (uint64_t)i * SC_REPL_LOG_SPAN);
}

/*
 * For the calls that name a log: 0 and *l when c is a sound handle of a
 * distributed cache and i one of its logs; else -EINVAL (or the handle's
 * error) with a message.
 */
int sc_repl_log_named(sc_cache *c, uint32_t i, struct sc_repl_log **l);

/* The place of position pos in l's ring. */
static inline uint8_t *sc_repl_ring_at(struct sc_repl_log *l, uint64_t pos)
{
	return (uint8_t *)(l + 1) + (pos & ((uint64_t)SC_REPL_LOG_BYTES - 1));
}

/*
 * The bytes from position pos to the ring's end when they are too few for
 * an entry's header (8 or 16: entries are multiples of 8), else 0. No
 * header is written there: every reader skips them as a pad, and a writer
 * that would wrap leaves them so instead of writing a header past the ring.
 */
static inline uint32_t sc_repl_short_tail(uint64_t pos)
{
	uint64_t to_end = SC_REPL_LOG_BYTES - (pos & ((uint64_t)SC_REPL_LOG_BYTES - 1));

	return to_end < sizeof(struct sc_repl_entry) ? (uint32_t)to_end : 0;
}

/* p's log, or NULL when this handle logs no writes (a local cache, a read-only handle). */
static inline struct sc_repl_log *sc_repl_log_of(const sc_cache *c, const struct sc_part *p)
{
	return c->logs_writes ? sc_repl_log_at(c, sc_part_index(c, p)) : NULL;
}

/*
 * Writer side, as the write starts under p's lock: its entries carry epoch
 * (0: the log's last, for maintenance, which no fence gave one).
 * Entries a writer that died left staged are dropped, with a resync mark.
 */
void sc_repl_begin(sc_cache *c, struct sc_part *p, uint64_t epoch);

/* The length of an entry carrying a record of len bytes. */
static inline uint32_t sc_repl_record_entry_len(uint32_t len)
{
	return (uint32_t)sc_align_up(sizeof(struct sc_repl_entry) + len, 8);
}

/*
 * Fill entry e (sc_repl_record_entry_len(rec->len) bytes; its len, epoch and
 * lseq are the caller's) with op, why and a copy of rec, its deadline as the
 * time it has left.
 */
void sc_repl_put_record(struct sc_repl_entry *e, const struct sc_blk *rec, uint8_t op, uint8_t why);

/* Writer side: the record at off was published in p's index. */
void sc_repl_note_put(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t why);

/* Writer side: the record at off left p's index; why: enum sc_leaving. */
void sc_repl_note_removed(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t why);

/* Writer side: p was emptied (one entry, not one per record). */
void sc_repl_note_clear(sc_cache *c, struct sc_part *p);

/*
 * Writer side, under p's lock: while on, the queue and stack records this
 * write changes (headers and items) are not noted record by record; it
 * logs itself with sc_repl_note_op(). Other records it changes (one
 * evicted to make room) are noted as usual. Turned off by the writer, and
 * at the latest as the lock is released.
 */
void sc_repl_ops_only(sc_cache *c, struct sc_part *p, bool on);

/* The length of the record of an operation's fields t, or 0 when it is too large to log. */
uint32_t sc_repl_op_record_len(const sc_cache *c, const sc_tuple *t);

/*
 * Fill entry e (sc_repl_record_entry_len(rec_len) bytes; its len, epoch and
 * lseq are the caller's) with op and the record of t, rec_len bytes.
 */
void sc_repl_put_op(struct sc_repl_entry *e, uint32_t rec_len, uint8_t op, const sc_tuple *t);

/*
 * Writer side: the operation op (SC_REPL_SEQ_*) with its fields t ran on p;
 * a replica runs it on its copy. A record too large to log is a resync mark.
 */
void sc_repl_note_op(sc_cache *c, struct sc_part *p, uint8_t op, const sc_tuple *t);

/* Writer side: the log cannot say what the write did (a repair ran): replicas must copy p. */
void sc_repl_note_resync(sc_cache *c, struct sc_part *p);

/*
 * Writer side, a replica applying its primary's entry e (checked): append
 * it as it came, under its own epoch and lseq.
 */
void sc_repl_append_copy(sc_cache *c, struct sc_part *p, const struct sc_repl_entry *e);

/*
 * Writer side, as the lock is released: publish the write's entries. The
 * lseq of the last one, for a write whose caller is to wait for it (not a
 * replica's, which applies its primary's); 0 when it published none. Into
 * *restarts (when not NULL) the log's restarts, the numbering that lseq
 * belongs to, for sc_repl_wait_acked().
 */
uint64_t sc_repl_commit(sc_cache *c, struct sc_part *p, uint64_t *restarts);

/*
 * After the lock is released, in sync and strong modes: wait until the
 * coordinator says every in-sync replica has p's entries up to lseq (asleep
 * on the log's futex, with lseq's bit: sc_repl_wake_acked()), for at most the handle's
 * majority_timeout_ms. 0, or -ETIMEDOUT: the write is in this node's copy
 * and its log, and may or may not reach the replicas; also when the log
 * started over since restarts (the numbering lseq belongs to) and dropped it.
 */
int sc_repl_wait_acked(sc_cache *c, struct sc_part *p, uint64_t lseq, uint64_t restarts);

/*
 * Coordinator side, once l's acked_lseq moved from after to upto (or the
 * log started over: after 0, upto UINT64_MAX): wake the writers waiting
 * for an entry in between, and only those (each sleeps with the bit of its
 * lseq, a sync writer among many is woken once, by its own ack).
 */
void sc_repl_wake_acked(struct sc_repl_log *l, uint64_t after, uint64_t upto);

#endif /* SC_REPL_LOG_H */
