/* replica_apply.c — a replica applying its primary's replication log entries to its copy of a partition. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/record_accounts.h"
#include "mem/repl_log.h"
#include "record/entry_key.h"
#include "record/record_deadline.h"
#include "record/tuple_codec.h"
#include "shm/clock.h"
#include "structures/sequence.h"
#include "tables/deletes.h"
#include "write/partition.h"
#include "write/record_store.h"

/* An entry's record, decoded into fields that point into the entry, and routed to partition p. */
struct applied_record {
	const struct sc_blk *rec;
	uint32_t len;
	uint64_t deadline; /* on this host's clock; 0 for none */
	sc_tuple tuple;
	sc_field key;
	struct sc_route route;
	sc_field room[16];
};

static int malformed(sc_cache *c, uint32_t log, uint64_t lseq, const char *what)
{
	return sc_fail(-EPROTO, "cache \"%s\", log %u: entry %llu is malformed: %s", c->name, log,
		       (unsigned long long)lseq, what);
}

/* Check the record e carries, and decode and route it in p. */
static int decode(sc_cache *c, struct sc_part *p, uint32_t log, const struct sc_repl_entry *e,
		  struct applied_record *a)
{
	struct sc_blk h;
	uint32_t key_pos = sc_part_is_structure(c, p) ? 0 : c->seg.cfg.key_pos;

	if (e->len < sizeof(*e) + sizeof(h))
		return malformed(c, log, e->lseq, "too short to hold a record");
	memcpy(&h, e + 1, sizeof(h));
	if (h.len < sizeof(h) || h.len > e->len - sizeof(*e) || h.nfields == 0 || h.nfields <= key_pos)
		return malformed(c, log, e->lseq, "its record's length or field count");
	a->rec = (const struct sc_blk *)(e + 1);
	a->len = h.len;
	if (!sc_rec_intact((const uint8_t *)a->rec, a->len))
		return malformed(c, log, e->lseq, "its record's checksum");
	a->deadline = 0;
	if (sc_rec_has_deadline(h.flags, a->len)) {
		uint64_t left;

		memcpy(&left, (const uint8_t *)a->rec + a->len - 8, sizeof(left));
		if (!(e->flags & SC_REPL_TTL_LEFT))
			return malformed(c, log, e->lseq, "a deadline not given as time left");
		a->deadline = left ? sc_clock_ns() + left : 0;
	}
	a->tuple.nfields = h.nfields;
	a->tuple.fields = h.nfields <= 16 ? a->room : malloc(h.nfields * sizeof(sc_field));
	if (!a->tuple.fields)
		return sc_fail(-ENOMEM, "no memory to decode %u fields", h.nfields);
	if (sc_rec_decode((const uint8_t *)a->rec, a->len, h.nfields, (sc_field *)a->tuple.fields))
		return malformed(c, log, e->lseq, "its record's fields");
	if (sc_part_is_structure(c, p)) {
		if (a->tuple.fields[0].type != SC_FIELD_BYTES)
			return malformed(c, log, e->lseq, "a structure entry whose key is not bytes");
		sc_entry_route_bytes(c, a->tuple.fields[0].v.p, a->tuple.fields[0].len, &a->key, &a->route);
	} else {
		a->key = a->tuple.fields[key_pos];
		sc_route_key(c, &a->key, &a->route);
	}
	a->route.partition = sc_part_index(c, p);
	return 0;
}

static void release_record(struct applied_record *a)
{
	if (a->tuple.fields != a->room)
		free((void *)a->tuple.fields);
}

/*
 * A put: the record goes in under its primary's version, by the table's
 * rules; one that superseded its key's other records there does here too.
 */
static int apply_put(sc_cache *c, struct sc_part *p, const struct applied_record *a, uint8_t why)
{
	uint32_t len;
	int err = sc_record_len(c, a->tuple.fields, a->tuple.nfields, &len);

	if (err)
		return err;
	p->seq = a->rec->version - 1;
	if (why == SC_REPL_SUPERSEDES)
		return sc_put_superseding(c, p, &a->tuple, &a->route, len, a->deadline);
	return sc_put_record(c, p, &a->tuple, &a->route, len, a->deadline);
}

struct removal {
	uint64_t version;
	uint8_t why;
};

static int has_version(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	return sc_blk_at(c, hit->rec_off)->version == ((const struct removal *)ctx)->version;
}

static void count_out(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *ctx)
{
	sc_record_left(c, p, rec_off, (enum sc_leaving)((const struct removal *)ctx)->why);
}

/* A removal: the record of that key and version leaves, if it is still here. 1, 0, or an error. */
static int apply_remove(sc_cache *c, struct sc_part *p, const struct applied_record *a, uint8_t why)
{
	struct removal rm = { a->rec->version, why > SC_LEFT_EVICTED ? SC_LEFT_DELETED : why };

	if (sc_part_is_ordered(c, p))
		return sc_bt_remove(c, p, &a->route, has_version, &rm, count_out, &rm);
	return sc_index_remove(c, p, &a->route, has_version, &rm, count_out, &rm);
}

static int apply_one(sc_cache *c, struct sc_part *p, uint32_t log, const struct sc_repl_entry *e,
		     sc_repl_applied *out)
{
	struct applied_record a = { 0 };
	int r;

	if (e->op == SC_REPL_RESYNC) {
		out->resync = 1;
		return 0;
	}
	if (e->op == SC_REPL_CLEAR) {
		int64_t n = sc_part_clear(c, p);

		return n < 0 ? (int)n : 0;
	}
	if (e->op != SC_REPL_PUT && e->op != SC_REPL_REMOVE && e->op != SC_REPL_SEQ_PUSH &&
	    e->op != SC_REPL_SEQ_TAKE)
		return malformed(c, log, e->lseq, "its kind");
	if ((e->op == SC_REPL_SEQ_PUSH || e->op == SC_REPL_SEQ_TAKE) && !sc_part_is_structure(c, p))
		return malformed(c, log, e->lseq, "a queue or stack operation in a tuple partition");
	r = decode(c, p, log, e, &a);
	if (!r && (e->op == SC_REPL_SEQ_PUSH || e->op == SC_REPL_SEQ_TAKE)) {
		r = sc_seq_apply(c, p, e->op, &a.tuple);
		if (r == 0)
			out->missing++;
		r = r < 0 ? r : 0;
	} else if (!r && e->op == SC_REPL_PUT)
		r = apply_put(c, p, &a, e->why);
	else if (!r) {
		r = apply_remove(c, p, &a, e->why);
		if (r == 0)
			out->missing++;
		r = r < 0 ? r : 0;
	}
	release_record(&a);
	return r;
}

/*
 * Check the header of the entry at at (len bytes left): following the log's
 * last entry, or (restoring) a record of a copy, which has no lseq.
 */
static int check_header(sc_cache *c, uint32_t log, const struct sc_repl_log *l, const uint8_t *at,
			size_t left, bool restoring, struct sc_repl_entry *e)
{
	if (left < sizeof(*e))
		return sc_fail(-EPROTO, "cache \"%s\", log %u: %zu bytes left over after the last entry",
			       c->name, log, left);
	memcpy(e, at, sizeof(*e));
	if (e->len < sizeof(*e) || e->len % 8 || e->len > left || e->len > SC_REPL_ENTRY_MAX)
		return sc_fail(-EPROTO, "cache \"%s\", log %u: an entry of %u bytes (%zu left)", c->name, log,
			       e->len, left);
	if (restoring)
		return (e->op == SC_REPL_PUT || e->op == SC_REPL_SEQ_PUSH) && e->lseq == 0
			       ? 0
			       : sc_fail(-EPROTO,
					 "cache \"%s\", log %u: a copy holds an entry of kind %u, lseq %llu",
					 c->name, log, e->op, (unsigned long long)e->lseq);
	if (e->lseq != l->last_lseq + 1)
		return sc_fail(-ESTALE,
			       "cache \"%s\", log %u: entry %llu does not follow this log's last, %llu",
			       c->name, log, (unsigned long long)e->lseq, (unsigned long long)l->last_lseq);
	if (e->epoch < l->last_epoch)
		return sc_fail(-ESTALE,
			       "cache \"%s\", log %u: entry %llu is of epoch %llu, before this log's %llu",
			       c->name, log, (unsigned long long)e->lseq, (unsigned long long)e->epoch,
			       (unsigned long long)l->last_epoch);
	return 0;
}

/*
 * Apply the entries one by one, each published before the next is checked;
 * following, each is appended to this node's log as it came.
 */
static int apply_all(sc_cache *c, struct sc_part *p, uint32_t log, struct sc_repl_log *l, const uint8_t *buf,
		     size_t len, bool restoring, sc_repl_applied *out)
{
	size_t done = 0;
	int err = 0;

	while (done < len && !out->resync && !err) {
		struct sc_repl_entry e;
		const struct sc_repl_entry *whole;

		err = check_header(c, log, l, buf + done, len - done, restoring, &e);
		if (err)
			break;
		/* Aligned for the record's fields: the entry as it came may not be. */
		whole = (const struct sc_repl_entry *)aligned_alloc(8, e.len);
		if (!whole)
			return sc_fail(-ENOMEM, "no memory for an entry of %u bytes", e.len);
		memcpy((void *)whole, buf + done, e.len);
		err = apply_one(c, p, log, whole, out);
		if (!err) {
			if (!restoring) {
				sc_repl_append_copy(c, p, whole);
				sc_repl_commit(c, p, NULL);
			}
			out->entries++;
			done += e.len;
		}
		free((void *)whole);
	}
	out->last_lseq = l->last_lseq;
	return err;
}

/* Name log and take its partition's lock as a replica: 0 with *l and *p set, or a negative errno. */
static int lock_log(sc_cache *c, uint32_t log, struct sc_repl_log **l, struct sc_part **p)
{
	int err = sc_repl_log_named(c, log, l);

	if (err)
		return err;
	*p = sc_part_at(c, log);
	return sc_part_lock_replica(c, *p);
}

static int apply_locked(sc_cache *c, uint32_t log, const void *entries, size_t len, bool restoring,
			sc_repl_applied *out)
{
	struct sc_repl_log *l;
	struct sc_part *p;
	int err;

	sc_check_arg(out && (entries || len == 0), -EINVAL, "entries or applied is NULL");
	memset(out, 0, sizeof(*out));
	err = lock_log(c, log, &l, &p);
	if (err)
		return err;
	err = apply_all(c, p, log, l, entries, len, restoring, out);
	sc_part_release(c, p);
	return err;
}

SC_EXPORT int sc_repl_apply(sc_cache *c, uint32_t log, const void *entries, size_t len, sc_repl_applied *out)
{
	return apply_locked(c, log, entries, len, false, out);
}

SC_EXPORT int sc_repl_restore(sc_cache *c, uint32_t log, const void *entries, size_t len,
			      sc_repl_applied *out)
{
	return apply_locked(c, log, entries, len, true, out);
}

/*
 * Under the partition's lock: the log holds no entry, and its last is lseq
 * of epoch, as if it had followed up to there. Head first: a reader holding
 * a position sees it written over, then the numbers change.
 */
static void renumber(struct sc_repl_log *l, uint64_t lseq, uint64_t epoch)
{
	l->staged = l->tail;
	sc_write(&l->head, l->tail);
	cmm_smp_wmb();
	l->head_lseq = l->staged_lseq = lseq;
	sc_write(&l->last_lseq, lseq);
	sc_write(&l->last_epoch, epoch);
	l->epoch = epoch;
	/* So that a write numbered again is not taken as acknowledged by the old numbers. */
	sc_write(&l->shipped_lseq, 0);
	sc_write(&l->acked_lseq, 0);
	/* And a writer still waiting for an entry of the old numbering learns it will never be (mem/repl_log.c). */
	sc_write(&l->restarts, l->restarts + 1);
	sc_repl_wake_acked(l, 0, UINT64_MAX);
}

/* Under log's lock: empty its partition first when clear (how many records went), then renumber it. */
static int64_t start_over(sc_cache *c, uint32_t log, bool clear, uint64_t lseq, uint64_t epoch)
{
	struct sc_repl_log *l;
	struct sc_part *p;
	int64_t gone = 0;
	int err = lock_log(c, log, &l, &p);

	if (err)
		return err;
	if (clear)
		gone = sc_part_clear(c, p);
	if (gone >= 0)
		renumber(l, lseq, epoch);
	sc_part_release(c, p);
	return gone;
}

SC_EXPORT int64_t sc_repl_reset(sc_cache *c, uint32_t log)
{
	return start_over(c, log, true, 0, 0);
}

SC_EXPORT int sc_repl_restore_end(sc_cache *c, uint32_t log, uint64_t lseq, uint64_t epoch)
{
	return (int)start_over(c, log, false, lseq, epoch);
}
