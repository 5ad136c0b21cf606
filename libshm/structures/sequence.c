/* sequence.c — queues and stacks: named sequences of values, each served whole by one partition. */
#include <string.h>

#include "forward/forward_client.h"
#include "mem/block_alloc.h"
#include "mem/rcu.h"
#include "mem/repl_log.h"
#include "shm/crash_point.h"
#include "shm/probes.h"
#include "structures/entries.h"
#include "structures/sequence.h"
#include "tables/read_modes.h"
#include "tables/results.h"
#include "write/partition.h"

/*
 * A queue or a stack has a header entry (kind, name) in the structure
 * partition its name hashes to, its home; the header's value is the offset
 * of a sequence block (shm/layout.h: head and tail positions), and the item at
 * position i is the entry ('I', the block's offset, i), also kept in the
 * home partition. Every change takes the home's lock, once: that lock is
 * what makes each item go to exactly one taker, in order. Keeping the
 * items in the home partition is what lets one lock do (a second lock per
 * operation would need an order between partitions, and a queue's items
 * all come and go through its two ends anyway).
 *
 * A push writes the item, then publishes the new tail; a take publishes the
 * new head (or tail), then removes the item. So a reader that loads a
 * position and finds no item there knows the position has moved, and a
 * writer that dies between the two steps leaves at worst an item nobody
 * can reach (a leak, never a wrong answer) rather than a position with no
 * item.
 */

enum end { FRONT, BACK };

/* A sequence found (or made) under its home's lock, or by a reader. */
/* Declared zeroed: GCC's -O3 with LTO cannot tell that it is set before any use, and fails -Werror. */
struct seq_ref {
	struct sc_part *home;
	uint32_t home_idx; /* counted from the first tuple partition, as routes count */
	uint64_t block_off;
	struct sc_sequence *seq;
};

/* Check the name and route its header. k is releasable whatever the result. */
static int header_route(sc_cache *c, uint8_t kind, const char *name, struct sc_entry_key *k, sc_field *kf,
			struct sc_route *route)
{
	int err;

	k->bytes = k->room;
	err = sc_cache_check(c);
	if (!err)
		err = sc_entry_key_init(k, kind, name, kind == SC_ENTRY_QUEUE ? "queue name" : "stack name");
	if (!err)
		sc_entry_route(c, k, kf, route);
	return err;
}

/* The sequence block a header entry names, checked: 0, or -EUCLEAN. */
static int header_block(sc_cache *c, const struct sc_hit *hit, struct seq_ref *s)
{
	sc_field v;
	int err = sc_entry_value(c, hit, &v);

	if (err)
		return err;
	if (v.type != SC_FIELD_INT || v.v.i <= 0 || !(s->seq = sc_sequence_at(c, (uint64_t)v.v.i)))
		return sc_fail(-EUCLEAN, "cache \"%s\": a sequence header names no sequence block", c->name);
	s->block_off = (uint64_t)v.v.i;
	return 0;
}

/*
 * Writer side, under the home's lock: the sequence, made empty if it does
 * not exist and create says so. 1 when there is one, 0 when there is none,
 * or a negative errno.
 */
static int locate_locked(sc_cache *c, const struct sc_route *header, bool create, struct seq_ref *s)
{
	struct sc_hit hit;
	sc_field v;
	int r = sc_entry_find(c, s->home, header, &hit);

	if (r == 1) {
		r = header_block(c, &hit, s);
		return r ? r : 1;
	}
	if (r < 0 || !create)
		return r;
	r = sc_block_alloc(c, s->home, sizeof(struct sc_blk) + sizeof(struct sc_sequence), SC_BLK_SEQUENCE,
			   &s->block_off);
	if (r)
		return r;
	s->seq = (struct sc_sequence *)(sc_blk_at(c, s->block_off) + 1);
	memset(s->seq, 0, sizeof(*s->seq));
	v = sc_int((int64_t)s->block_off);
	r = sc_entry_put(c, s->home, header, &v, 0);
	if (r) {
		sc_block_free(c, s->home, s->block_off);
		return r;
	}
	return 1;
}

/*
 * An item's key, routed: kind, owner length, the sequence block's offset
 * (the owner), the position. Fixed size, so built in place; route points
 * into it, so it is never copied.
 */
struct item_key {
	uint8_t bytes[2 + 2 * sizeof(uint64_t)];
	sc_field field;
	struct sc_route route;
};

/* The key of the item at pos of the sequence, routed to its home. */
static void item_key(const sc_cache *c, const struct seq_ref *s, uint64_t pos, struct item_key *k)
{
	k->bytes[0] = SC_ENTRY_ITEM;
	k->bytes[1] = sizeof(s->block_off);
	memcpy(k->bytes + 2, &s->block_off, sizeof(s->block_off));
	memcpy(k->bytes + 2 + sizeof(s->block_off), &pos, sizeof(pos));
	sc_entry_route_bytes(c, k->bytes, sizeof(k->bytes), &k->field, &k->route);
	k->route.partition = s->home_idx;
}

/*
 * In a distributed cache the records a queue or stack operation changes are
 * not logged: its items are named by its positions block's place in this
 * host's segment, which a replica's copy does not share. The operation is
 * logged whole instead (SC_REPL_SEQ_*: the header's key and what it did),
 * and a replica runs it on its copy (sc_seq_apply()); a copy of the
 * partition carries each sequence as the pushes that rebuild it
 * (sc_seq_for_each_item()).
 */

/* A header's key, routed: hk owns the bytes kf points to; release it with sc_entry_key_free(). */
struct header_key {
	struct sc_entry_key hk;
	sc_field kf;
	struct sc_route route;
};

/* Under the home's lock (a writer's or a replica's): the sequence route names, as locate_locked(). */
static int locate_held(sc_cache *c, const struct sc_route *route, bool create, struct seq_ref *s)
{
	s->home_idx = route->partition;
	s->home = sc_part_at(c, s->home_idx);
	return locate_locked(c, route, create, s);
}

/*
 * Check the name, take its home partition's lock and find the sequence
 * (made empty if create says so). 1 with the lock held and s filled, 0 if
 * there is none (the lock held too), or a negative errno (not held):
 * -EREMOTE when the home's primary is another node. While the lock is
 * held the write's records are not logged until the caller says
 * (sc_repl_ops_only()). Release h->hk whatever the result.
 */
static int lock_sequence(sc_cache *c, uint8_t kind, const char *name, bool create, struct header_key *h,
			 struct seq_ref *s)
{
	int err = header_route(c, kind, name, &h->hk, &h->kf, &h->route);

	if (err)
		return err;
	s->home = sc_part_at(c, h->route.partition);
	err = sc_part_lock(c, s->home);
	if (err)
		return err;
	sc_repl_ops_only(c, s->home, true);
	err = locate_held(c, &h->route, create, s);
	if (err < 0) {
		sc_repl_ops_only(c, s->home, false);
		sc_part_unlock(c, s->home);
	}
	return err;
}

/* Under the home's lock: put value at the tail. */
static int push_locked(sc_cache *c, const struct seq_ref *s, const sc_field *value)
{
	struct item_key item;
	int err;

	item_key(c, s, s->seq->tail, &item);
	err = sc_entry_put(c, s->home, &item.route, value, 0);
	SC_CRASH_POINT();
	if (!err)
		sc_publish(&s->seq->tail, s->seq->tail + 1);
	return err;
}

/* The forwarded call of a push, or of a take of max items, on a sequence of kind. */
static uint16_t forwarded_op(uint8_t kind, bool push, uint64_t max)
{
	if (push)
		return kind == SC_ENTRY_QUEUE ? SC_FWD_QUEUE_ADD : SC_FWD_STACK_PUSH;
	if (max == 1)
		return kind == SC_ENTRY_QUEUE ? SC_FWD_QUEUE_OUT : SC_FWD_STACK_POP;
	return kind == SC_ENTRY_QUEUE ? SC_FWD_QUEUE_GET_ALL : SC_FWD_STACK_GET_ALL;
}

static int push(sc_cache *c, uint8_t kind, const char *name, const sc_field *value)
{
	struct header_key h;
	struct seq_ref s = { 0 };
	int err = sc_cache_check(c);

	if (!err)
		err = sc_field_check(value, "value");
	if (err)
		return err;
	err = lock_sequence(c, kind, name, true, &h, &s);
	if (err == -EREMOTE) {
		const sc_field f[2] = { sc_str(name), *value };

		err = sc_forward_if_remote(err, c, forwarded_op(kind, true, 0), 0, &(sc_tuple){ 2, f }, 1);
	} else if (err >= 0) {
		const sc_field f[2] = { h.kf, *value };

		/* A push whose operation the log cannot hold is refused before it is made, not made unshipped. */
		if (c->logs_writes && !sc_repl_op_record_len(c, &(sc_tuple){ 2, f }))
			err = sc_fail(
				-EFBIG,
				"cache \"%s\": a push of %u bytes makes a replication log entry past the %u "
				"bytes a distributed cache takes (the name counts too: \"%.64s\")",
				c->name, value->len, SC_REPL_MAX_RECORD, name);
		else
			err = push_locked(c, &s, value);
		sc_repl_ops_only(c, s.home, false);
		if (!err)
			sc_repl_note_op(c, s.home, SC_REPL_SEQ_PUSH, &(sc_tuple){ 2, f });
		err = (int)sc_write_result(err, sc_part_unlock_write(c, s.home));
	}
	sc_entry_key_free(&h.hk);
	return err;
}

/* Copy the value of the item k names (under the home's lock, or in a read section) into b. 1, 0, or < 0. */
static int copy_item(sc_cache *c, const struct seq_ref *s, const struct item_key *k, struct sc_builder *b)
{
	struct sc_hit hit;
	int r = sc_entry_find(c, s->home, &k->route, &hit);

	if (r == 1) {
		r = sc_entry_value_into(c, &hit, b);
		if (!r)
			r = 1;
	}
	return r;
}

static int missing_item(sc_cache *c, uint64_t pos)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": a sequence has no item at position %llu", c->name,
		       (unsigned long long)pos);
}

/*
 * Under the home's lock: copy up to max items from one end (all:
 * UINT64_MAX) into b, in the order they come off, taking nothing yet.
 * *first is left holding the first item's key for remove_taken(). Returns
 * how many were copied, or a negative errno.
 */
static int copy_items(sc_cache *c, const struct seq_ref *s, enum end from, uint64_t max, struct sc_builder *b,
		      struct item_key *first)
{
	uint64_t head = s->seq->head, tail = s->seq->tail;
	uint64_t n = tail - head;
	struct item_key k;
	int r = 0;

	if (head > tail)
		return sc_fail(-EUCLEAN, "cache \"%s\": a sequence's head is past its tail", c->name);
	if (n > max)
		n = max;
	if (n > INT32_MAX)
		n = INT32_MAX;
	for (uint64_t i = 0; i < n && r >= 0; i++) {
		struct item_key *ik = i == 0 ? first : &k;

		item_key(c, s, from == FRONT ? head + i : tail - 1 - i, ik);
		r = copy_item(c, s, ik, b);
		if (r == 0)
			r = missing_item(c, from == FRONT ? head + i : tail - 1 - i);
	}
	return r < 0 ? r : (int)n;
}

/*
 * Under the home's lock: take the n items copy_items() copied. The new end
 * is published first, then the items go: an item that cannot be removed
 * is leaked, never handed out twice.
 */
static void remove_taken(sc_cache *c, const struct seq_ref *s, enum end from, uint64_t n,
			 const struct item_key *first)
{
	uint64_t head = s->seq->head, tail = s->seq->tail;
	struct item_key k;

	if (from == FRONT)
		sc_publish(&s->seq->head, head + n);
	else
		sc_publish(&s->seq->tail, tail - n);
	SC_CRASH_POINT();
	for (uint64_t i = 0; i < n; i++) {
		if (i > 0)
			item_key(c, s, from == FRONT ? head + i : tail - 1 - i, &k);
		(void)sc_entry_remove(c, s->home, i == 0 ? &first->route : &k.route);
	}
}

/*
 * Hand b over as *out: its n tuples, or a copy of the default when n is 0
 * (NULL without one). Returns n, or a negative errno; b is gone either way.
 */
static int finish_result(int n, struct sc_builder *b, const sc_field *dflt, sc_tuples **out)
{
	int err = n < 0 ? n : 0;

	if (n == 0 && dflt)
		err = sc_builder_add(b, dflt, 1);
	if (err) {
		sc_builder_free(b);
		return err;
	}
	err = sc_builder_finish(b, out);
	return err ? err : n;
}

/* Check what every call that returns values is given. */
static int check_out(const sc_field *dflt, sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	return dflt ? sc_field_check(dflt, "default") : 0;
}

/*
 * A take whose home's primary is another node, run there: the values it
 * took come back into *out, with its result (as a take here: a sync take
 * not acknowledged in time is -ETIMEDOUT with what it took). Values lost on
 * the way back (no memory for the copy here) are said lost.
 */
static int take_forwarded(sc_cache *c, uint16_t op, const char *name, const sc_field *dflt, sc_tuples **out)
{
	const sc_field f[2] = { sc_str(name), dflt ? *dflt : sc_int(0) };
	struct sc_fwd_values v;
	int err, n = sc_forward_values(c, op, sc_cluster_refused_partition(), 0,
				       &(sc_tuple){ dflt ? 2 : 1, f }, 1, &v);

	if (!v.held)
		return n;
	if (n >= 0 && v.t.n != (uint32_t)(n ? n : dflt != NULL))
		n = sc_fail(-EPROTO,
			    "cache \"%s\": the primary took %d items from \"%s\" and sent back %u values",
			    c->name, n, name, v.t.n);
	err = sc_results_of_tuples(v.t.tuples, v.t.n, out);
	if (err)
		n = sc_fail(err, "cache \"%s\": %u values taken from \"%s\" on its primary are lost: %s",
			    c->name, v.t.n, name, sc_last_error());
	sc_fwd_values_free(&v);
	return n;
}

/*
 * Take up to max items from one end into *out, or the default when there
 * are none; a sequence that does not exist is empty. The result is built
 * before anything is taken, so a failed allocation takes nothing. Returns
 * how many were taken, or a negative errno.
 */
static int take(sc_cache *c, uint8_t kind, const char *name, enum end from, uint64_t max,
		const sc_field *dflt, sc_tuples **out)
{
	struct header_key h;
	struct item_key first;
	struct sc_builder b;
	struct seq_ref s = { 0 };
	int n = check_out(dflt, out);

	if (n)
		return n;
	n = lock_sequence(c, kind, name, false, &h, &s);
	if (n == -EREMOTE) {
		n = take_forwarded(c, forwarded_op(kind, false, max), name, dflt, out);
	} else if (n >= 0) {
		sc_builder_init(&b);
		if (n == 1)
			n = copy_items(c, &s, from, max, &b, &first);
		n = finish_result(n, &b, dflt, out);
		/* Taken for another node, the values must fit the reply: else nothing is taken. */
		if (n > 0 && sc_fwd_serving && !sc_fwd_reply_fits((*out)->tuples, (*out)->count)) {
			sc_tuples_free(*out);
			*out = NULL;
			n = sc_fail(
				-E2BIG,
				"cache \"%s\": the %d values of \"%s\" are more than a forwarded reply holds "
				"(%u bytes); nothing was taken: take them on the primary, or one by one",
				c->name, n, name, SC_FORWARD_MAX);
		}
		if (n > 0)
			remove_taken(c, &s, from, (uint64_t)n, &first);
		sc_repl_ops_only(c, s.home, false);
		if (n > 0) {
			const sc_field f[3] = { h.kf, sc_int(from == BACK), sc_int(n) };

			sc_repl_note_op(c, s.home, SC_REPL_SEQ_TAKE, &(sc_tuple){ 3, f });
		}
		n = (int)sc_write_result(n, sc_part_unlock_write(c, s.home));
	}
	sc_entry_key_free(&h.hk);
	return n;
}

static int malformed_op(const sc_cache *c, const char *what)
{
	return sc_fail(-EPROTO, "cache \"%s\": a logged queue or stack operation is malformed: %s", c->name,
		       what);
}

int sc_seq_apply(sc_cache *c, struct sc_part *p, uint8_t op, const sc_tuple *t)
{
	const sc_field *f = t->fields;
	struct item_key first;
	struct sc_route route;
	struct seq_ref s = { 0 };
	sc_field kf;
	uint64_t n;
	int r;

	if (t->nfields != (op == SC_REPL_SEQ_PUSH ? 2u : 3u))
		return malformed_op(c, "its field count");
	if (f[0].type != SC_FIELD_BYTES || f[0].len < 3 ||
	    (((const uint8_t *)f[0].v.p)[0] != SC_ENTRY_QUEUE &&
	     ((const uint8_t *)f[0].v.p)[0] != SC_ENTRY_STACK))
		return malformed_op(c, "its header key");
	if (op == SC_REPL_SEQ_TAKE && (f[1].type != SC_FIELD_INT || (uint64_t)f[1].v.i > BACK ||
				       f[2].type != SC_FIELD_INT || f[2].v.i <= 0))
		return malformed_op(c, "the end or count of a take");
	sc_entry_route_bytes(c, f[0].v.p, f[0].len, &kf, &route);
	route.partition = sc_part_index(c, p);
	r = locate_held(c, &route, op == SC_REPL_SEQ_PUSH, &s);
	if (r <= 0)
		return r;
	if (op == SC_REPL_SEQ_PUSH) {
		r = push_locked(c, &s, &f[1]);
		return r ? r : 1;
	}
	if (s.seq->head > s.seq->tail)
		return sc_fail(-EUCLEAN, "cache \"%s\": a sequence's head is past its tail", c->name);
	n = s.seq->tail - s.seq->head;
	if (n > (uint64_t)f[2].v.i)
		n = (uint64_t)f[2].v.i;
	if (n) {
		item_key(c, &s, f[1].v.i == FRONT ? s.seq->head : s.seq->tail - 1, &first);
		remove_taken(c, &s, (enum end)f[1].v.i, n, &first);
	}
	return n == (uint64_t)f[2].v.i;
}

int sc_seq_copy_record(sc_cache *c, struct sc_part *p, const struct sc_hit *hit, sc_seq_item_fn fn, void *ctx)
{
	struct seq_ref s = { .home = p, .home_idx = sc_part_index(c, p) };
	const uint8_t *rec = (const uint8_t *)sc_blk_at(c, hit->rec_off);
	const uint8_t kind = sc_rec_entry_kind(rec, hit->rec_len);
	sc_field key, value;
	int r;

	if (!kind)
		return sc_fail(-EUCLEAN, "cache \"%s\": a structure entry has no key", c->name);
	if (kind == SC_ENTRY_ITEM)
		return 1;
	if (kind != SC_ENTRY_QUEUE && kind != SC_ENTRY_STACK)
		return 0;
	r = sc_rec_field(rec, hit->rec_len, 0, &key); /* it decoded once: the kind came from it */
	if (!r)
		r = header_block(c, hit, &s);
	if (!r && s.seq->head > s.seq->tail)
		r = sc_fail(-EUCLEAN, "cache \"%s\": a sequence's head is past its tail", c->name);
	for (uint64_t pos = s.seq->head; !r && pos < s.seq->tail; pos++) {
		struct item_key k;
		struct sc_hit item;

		item_key(c, &s, pos, &k);
		r = sc_entry_find(c, p, &k.route, &item);
		if (r == 1)
			r = sc_entry_value(c, &item, &value);
		else if (r == 0)
			r = missing_item(c, pos);
		if (!r)
			r = fn(c, &key, &value, ctx);
	}
	return r ? r : 1;
}

/* Reader side, in a read section: the sequence a header names, if there is one (1), else 0 or < 0. */
static int locate(sc_cache *c, const struct sc_route *header, struct seq_ref *s)
{
	struct sc_hit hit;
	int r;

	s->home_idx = header->partition;
	s->home = sc_part_at(c, s->home_idx);
	r = sc_entry_find(c, s->home, header, &hit);
	if (r == 1) {
		r = header_block(c, &hit, s);
		return r ? r : 1;
	}
	return r;
}

/*
 * A peek at the front without the lock. A take publishes the new head
 * before it removes the item, so an item missing at the head we loaded
 * means the head has moved on: load it again. A head that stays put with
 * no item under it is damage, not a race.
 */
static int peek_front(sc_cache *c, const struct seq_ref *s, struct sc_builder *b)
{
	/*
	 * Acquire loads: the item looked up next depends on head and tail only
	 * through its key, not its address, so a consume would not order them.
	 */
	for (;;) {
		uint64_t head = sc_acquire(&s->seq->head);
		struct item_key k;
		int r;

		if (head == sc_acquire(&s->seq->tail))
			return 0;
		item_key(c, s, head, &k);
		r = copy_item(c, s, &k, b);
		if (r != 0)
			return r;
		if (sc_acquire(&s->seq->head) == head)
			return missing_item(c, head);
	}
}

/* What a lock-free read of a sequence does, inside the read section. */
typedef int (*seq_read_fn)(sc_cache *c, const struct seq_ref *s, void *ctx);

static int read_sequence(sc_cache *c, uint8_t kind, const char *name, seq_read_fn fn, void *ctx)
{
	struct sc_entry_key hk;
	struct sc_route header;
	struct sc_reader *r;
	struct seq_ref s = { 0 };
	sc_field hkf;
	int err = header_route(c, kind, name, &hk, &hkf, &header);

	if (!err)
		err = sc_reader_of(c, &r);
	if (!err) {
		sc_trace_note_partition(header.partition);
		sc_rcu_enter(c, r);
		err = locate(c, &header, &s);
		if (err == 1)
			err = fn(c, &s, ctx);
		sc_rcu_exit(r);
	}
	sc_entry_key_free(&hk);
	return err;
}

static int peek_fn(sc_cache *c, const struct seq_ref *s, void *b)
{
	return peek_front(c, s, b);
}

static int count_fn(sc_cache *c, const struct seq_ref *s, void *unused)
{
	/* The head first: the tail only grows past it meanwhile, so the difference is never negative. */
	uint64_t head = sc_acquire(&s->seq->head);
	uint64_t tail = sc_acquire(&s->seq->tail);

	(void)c;
	(void)unused;
	if (tail < head)
		return 0;
	return tail - head > INT32_MAX ? INT32_MAX : (int)(tail - head);
}

static int do_queue_add(sc_cache *c, const char *queue, sc_field value)
{
	return push(c, SC_ENTRY_QUEUE, queue, &value);
}

SC_EXPORT int sc_queue_add(sc_cache *c, const char *queue, sc_field value)
{
	return SC_TRACED(c, SC_OP_QUEUE_ADD, do_queue_add(c, queue, value));
}

static int do_queue_out(sc_cache *c, const char *queue, const sc_field *dflt, sc_tuples **out)
{
	return take(c, SC_ENTRY_QUEUE, queue, FRONT, 1, dflt, out);
}

SC_EXPORT int sc_queue_out(sc_cache *c, const char *queue, const sc_field *dflt, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_QUEUE_OUT, do_queue_out(c, queue, dflt, out));
}

/* Whether a read of the sequence may be answered from this host's copy (read-your-writes); a bad name reads on, to fail. */
static bool read_here(sc_cache *c, uint8_t kind, const char *name)
{
	struct sc_part *home;

	return !c || !c->ryw || !name || sc_seq_home(c, kind, name, &home) ||
	       sc_ryw_local(c, sc_part_index(c, home));
}

static int do_queue_peek(sc_cache *c, const char *queue, const sc_field *dflt, sc_tuples **out)
{
	struct sc_builder b;
	int err = check_out(dflt, out);

	if (err)
		return err;
	if (!read_here(c, SC_ENTRY_QUEUE, queue))
		return SC_RYW_BY_PRIMARY(sc_queue_peek_with(c, queue, dflt, &sc_by_primary, out));
	sc_builder_init(&b);
	return finish_result(read_sequence(c, SC_ENTRY_QUEUE, queue, peek_fn, &b), &b, dflt, out);
}

SC_EXPORT int sc_queue_peek(sc_cache *c, const char *queue, const sc_field *dflt, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_QUEUE_PEEK, do_queue_peek(c, queue, dflt, out));
}

SC_EXPORT int sc_queue_peak(sc_cache *c, const char *queue, const sc_field *dflt, sc_tuples **out)
{
	return sc_queue_peek(c, queue, dflt, out);
}

static int do_queue_count(sc_cache *c, const char *queue)
{
	if (!read_here(c, SC_ENTRY_QUEUE, queue))
		return SC_RYW_BY_PRIMARY(sc_queue_count_with(c, queue, &sc_by_primary));
	return read_sequence(c, SC_ENTRY_QUEUE, queue, count_fn, NULL);
}

SC_EXPORT int sc_queue_count(sc_cache *c, const char *queue)
{
	return SC_TRACED(c, SC_OP_QUEUE_COUNT, do_queue_count(c, queue));
}

static int do_queue_get_all(sc_cache *c, const char *queue, sc_tuples **out)
{
	return take(c, SC_ENTRY_QUEUE, queue, FRONT, UINT64_MAX, NULL, out);
}

SC_EXPORT int sc_queue_get_all(sc_cache *c, const char *queue, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_QUEUE_GET_ALL, do_queue_get_all(c, queue, out));
}

static int do_stack_push(sc_cache *c, const char *stack, sc_field value)
{
	return push(c, SC_ENTRY_STACK, stack, &value);
}

SC_EXPORT int sc_stack_push(sc_cache *c, const char *stack, sc_field value)
{
	return SC_TRACED(c, SC_OP_STACK_PUSH, do_stack_push(c, stack, value));
}

static int do_stack_pop(sc_cache *c, const char *stack, const sc_field *dflt, sc_tuples **out)
{
	return take(c, SC_ENTRY_STACK, stack, BACK, 1, dflt, out);
}

SC_EXPORT int sc_stack_pop(sc_cache *c, const char *stack, const sc_field *dflt, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_STACK_POP, do_stack_pop(c, stack, dflt, out));
}

static int do_stack_count(sc_cache *c, const char *stack)
{
	if (!read_here(c, SC_ENTRY_STACK, stack))
		return SC_RYW_BY_PRIMARY(sc_stack_count_with(c, stack, &sc_by_primary));
	return read_sequence(c, SC_ENTRY_STACK, stack, count_fn, NULL);
}

SC_EXPORT int sc_stack_count(sc_cache *c, const char *stack)
{
	return SC_TRACED(c, SC_OP_STACK_COUNT, do_stack_count(c, stack));
}

static int do_stack_get_all(sc_cache *c, const char *stack, sc_tuples **out)
{
	return take(c, SC_ENTRY_STACK, stack, BACK, UINT64_MAX, NULL, out);
}

SC_EXPORT int sc_stack_get_all(sc_cache *c, const char *stack, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_STACK_GET_ALL, do_stack_get_all(c, stack, out));
}

int sc_seq_home(sc_cache *c, uint8_t kind, const char *name, struct sc_part **home)
{
	struct sc_entry_key hk;
	struct sc_route route;
	sc_field hkf;
	int err = header_route(c, kind, name, &hk, &hkf, &route);

	if (!err)
		*home = sc_part_at(c, route.partition);
	sc_entry_key_free(&hk);
	return err;
}
