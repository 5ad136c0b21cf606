/* replica_snapshot.c — a partition's records as log entries, for a replica that must copy it whole. */
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/rcu.h"
#include "mem/repl_log.h"
#include "shm/error.h"

/* The entries built so far. */
struct snapshot {
	uint8_t *buf;
	size_t len, cap;
	uint64_t epoch;
	int err;
};

static int take_record(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct snapshot *s = ctx;
	const struct sc_blk *rec = sc_blk_at(c, hit->rec_off);
	uint32_t need;
	struct sc_repl_entry *e;

	/* The index found it and named its length: a record of another length is not one to copy. */
	if (rec->len != hit->rec_len || rec->len > SC_REPL_MAX_RECORD || rec->len < sizeof(*rec))
		return s->err = sc_fail(-EUCLEAN, "cache \"%s\": a record at %llu is not what its index says",
					c->name, (unsigned long long)hit->rec_off);
	need = sc_repl_record_entry_len(rec->len);
	if (s->len + need > s->cap) {
		size_t cap = s->cap ? s->cap : 64 * 1024;
		uint8_t *p;

		while (cap < s->len + need)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p)
			return s->err = sc_fail(-ENOMEM, "no memory for a copy of %zu bytes", cap);
		s->buf = p;
		s->cap = cap;
	}
	e = (struct sc_repl_entry *)(s->buf + s->len);
	e->len = need;
	e->epoch = s->epoch;
	e->lseq = 0;
	sc_repl_put_record(e, rec, SC_REPL_PUT, 0);
	s->len += need;
	return 0;
}

SC_EXPORT ssize_t sc_repl_snapshot(sc_cache *c, uint32_t log, void **out, sc_repl_state *at)
{
	struct snapshot s = { 0 };
	struct sc_repl_log *l;
	struct sc_reader *r;
	struct sc_part *p;
	int err = sc_repl_log_named(c, log, &l);

	if (err)
		return err;
	sc_check_arg(out && at, -EINVAL, "out or at is NULL");
	*out = NULL;
	/* First where the log is: what the copy misses of a write after it, the log from there brings. */
	err = sc_repl_state_read(c, log, at);
	if (!err)
		err = sc_reader_of(c, &r);
	if (err)
		return err;
	s.epoch = at->last_epoch;
	p = sc_part_at(c, log);
	sc_rcu_enter(c, r);
	err = sc_part_is_ordered(c, p) ? sc_bt_for_each(c, p, take_record, &s)
				       : sc_index_for_each(c, p, take_record, &s);
	sc_rcu_exit(r);
	if (err < 0 || s.err) {
		free(s.buf);
		return s.err ? s.err : err;
	}
	*out = s.buf;
	return (ssize_t)s.len;
}
