/* replica_snapshot.c — a partition's records as log entries (its queues and stacks as pushes), for a replica that must copy it whole. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/rcu.h"
#include "mem/repl_log.h"
#include "shm/error.h"
#include "structures/sequence.h"
#include "write/partition.h"

/* The entries built so far. */
struct snapshot {
	uint8_t *buf;
	size_t len, cap;
	uint64_t epoch;
	struct sc_part *part;
	bool part_locked; /* a structure partition's copy, made under its lock */
	int err;
};

/* Room for need more bytes of entries, or NULL (s->err says why). */
static struct sc_repl_entry *room(struct snapshot *s, uint32_t need)
{
	struct sc_repl_entry *e;

	if (s->len + need > s->cap) {
		size_t cap = s->cap ? s->cap : 64 * 1024;
		uint8_t *p;

		while (cap < s->len + need)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p) {
			s->err = sc_fail(-ENOMEM, "no memory for a copy of %zu bytes", cap);
			return NULL;
		}
		s->buf = p;
		s->cap = cap;
	}
	e = (struct sc_repl_entry *)(s->buf + s->len);
	e->len = need;
	e->epoch = s->epoch;
	e->lseq = 0;
	s->len += need;
	return e;
}

/* One item of a queue or stack, as the push that puts it back. */
static int take_item(sc_cache *c, const sc_field *header_key, const sc_field *value, void *ctx)
{
	struct snapshot *s = ctx;
	const sc_field f[2] = { *header_key, *value };
	const sc_tuple t = { 2, f };
	uint32_t len = sc_repl_op_record_len(c, &t);
	struct sc_repl_entry *e;

	if (!len)
		return s->err = sc_fail(-EFBIG, "cache \"%s\": a queue or stack item too large to copy",
					c->name);
	e = room(s, sc_repl_record_entry_len(len));
	if (!e)
		return s->err;
	sc_repl_put_op(e, len, SC_REPL_SEQ_PUSH, &t);
	return 0;
}

static int take_record(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct snapshot *s = ctx;
	const struct sc_blk *rec = sc_blk_at(c, hit->rec_off);
	struct sc_repl_entry *e;
	int r;

	/* The index found it and named its length: a record of another length is not one to copy. */
	if (rec->len != hit->rec_len || rec->len > SC_REPL_MAX_RECORD || rec->len < sizeof(*rec))
		return s->err = sc_fail(-EUCLEAN, "cache \"%s\": a record at %llu is not what its index says",
					c->name, (unsigned long long)hit->rec_off);
	if (s->part_locked) {
		r = sc_seq_copy_record(c, s->part, hit, take_item, s);
		if (r)
			return r < 0 ? (s->err = r) : 0;
	}
	e = room(s, sc_repl_record_entry_len(rec->len));
	if (!e)
		return s->err;
	sc_repl_put_record(e, rec, SC_REPL_PUT, 0);
	return 0;
}

/* A structure partition's lock is held this long at most to copy it; past that the copy fails, and is tried again. */
#define COPY_LOCK_SECONDS 1u

SC_EXPORT ssize_t sc_repl_snapshot(sc_cache *c, uint32_t log, void **out, sc_repl_state *at)
{
	struct snapshot s = { 0 };
	struct sc_repl_log *l;
	struct sc_reader *r;
	int err = sc_repl_log_named(c, log, &l);

	if (err)
		return err;
	sc_check_arg(out && at, -EINVAL, "out or at is NULL");
	*out = NULL;
	s.part = sc_part_at(c, log);
	err = sc_reader_of(c, &r);
	/* A queue's or stack's operations must meet the copy exactly where the log's state says: under the lock. */
	if (!err && sc_part_is_structure(c, s.part)) {
		err = sc_part_lock_within(c, s.part, COPY_LOCK_SECONDS);
		s.part_locked = err == 0;
	}
	/* Then where the log is: what the copy misses of a write after it, the log from there brings. */
	if (!err)
		err = sc_repl_state_read(c, log, at);
	if (!err) {
		s.epoch = at->last_epoch;
		sc_rcu_enter(c, r);
		err = sc_part_is_ordered(c, s.part) ? sc_bt_for_each(c, s.part, take_record, &s)
						    : sc_index_for_each(c, s.part, take_record, &s);
		sc_rcu_exit(r);
	}
	if (s.part_locked)
		sc_part_release(c, s.part);
	if (err < 0 || s.err) {
		free(s.buf);
		return s.err ? s.err : err;
	}
	*out = s.buf;
	return (ssize_t)s.len;
}
