/* batch_write.c — a batch of puts or removes, all-or-nothing: staged in every partition, committed once, then done. */
#include "write/batch_write.h"

#include <stdlib.h>

#include "index/btree.h"
#include "index/evict.h"
#include "index/hash_index.h"
#include "index/hit_list.h"
#include "mem/block_alloc.h"
#include "mem/record_accounts.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "write/batch_intent.h"
#include "write/partition.h"

/* Removes: a record found, and the position in order of the key it is under. */
struct found_record {
	uint64_t off;
	size_t at;
};

/* One partition the batch writes. */
struct part_run {
	struct sc_part *p;
	size_t from, to;	    /* its items: order[from .. to) */
	struct found_record *found; /* removes: every record of its keys */
	size_t nfound;
	uint64_t intent;	 /* its intent block, 0 until taken */
	struct sc_bt_stage tree; /* ordered_set: the batch's tree */
	struct sc_logged
		logged; /* the last log entry its unlock published (sync and strong modes wait for it) */
};

/* A batch of puts (items) or of removes (routes). */
struct batch_run {
	sc_cache *c;
	const struct sc_put_item *items;
	const struct sc_route *routes;
	const size_t *order;
	uint64_t *rec; /* puts: by position in order, the staged record */
	uint64_t *old; /* ordered_set: what each staged insert replaced */
	struct part_run *parts;
	uint32_t nparts; /* partitions written */
	uint32_t locked; /* parts[0 .. locked) are held */
	uint64_t id;	 /* the batch's number, 0 before it has one */
	int removed;	 /* removes: how many records went */
};

/* What a step that may need room for works on: the run and one of its partitions (at: an item). */
struct step {
	struct batch_run *run;
	struct part_run *pr;
	size_t at;
};

/* Run fn, and when memory is short make room in p and run it again (index/evict.h). */
static int with_room(sc_cache *c, struct sc_part *p, sc_write_fn fn, const struct step *s)
{
	int err = fn(c, p, s);

	return err == -ENOSPC ? sc_retry_with_room(c, p, fn, s) : err;
}

static int take_intent(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct step *s = ctx;
	size_t count = s->run->items ? s->pr->to - s->pr->from : s->pr->nfound;
	size_t len = sizeof(struct sc_blk) + sizeof(struct sc_batch_intent) + count * sizeof(uint32_t);

	if (len > UINT32_MAX / 2)
		return sc_fail(-E2BIG, "a batch of %zu items in one partition is too large", count);
	return sc_block_alloc(c, p, (uint32_t)len, SC_BLK_INTENT, &s->pr->intent);
}

static int write_record(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct step *s = ctx;

	return sc_record_write(c, p, &s->run->items[s->run->order[s->at]], &s->run->rec[s->at]);
}

#ifdef SC_TEST_HOOKS
uint64_t sc_batch_tree_rebuilds; /* staged trees built again after making room */
#endif

/* The partition's staged tree, built again from its current tree (eviction may have changed it). */
static int build_tree(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct step *s = ctx;
	struct batch_run *run = s->run;
	int err = 0;

#ifdef SC_TEST_HOOKS
	sc_batch_tree_rebuilds += s->pr->tree.fresh.cap != 0;
#endif
	sc_bt_stage_abandon(c, p, &s->pr->tree);
	for (size_t at = s->pr->from; !err && at < s->pr->to; at++)
		err = sc_bt_stage_insert(c, p, &s->pr->tree, &run->items[run->order[at]].route, run->rec[at],
					 &run->old[at]);
	if (err)
		sc_bt_stage_abandon(c, p, &s->pr->tree);
	return err;
}

static int reserve_index(sc_cache *c, struct sc_part *p, const void *ctx)
{
	const struct step *s = ctx;

	return sc_index_reserve(c, p, s->pr->to - s->pr->from);
}

/*
 * Removes: every record each key has now (a bag's KeyValue key has one per
 * value; a key given twice names them twice: the second finds them gone).
 */
static int find_records(struct batch_run *run, struct part_run *pr)
{
	struct sc_hit_list hl;
	int r = 0;

	sc_hits_init(&hl);
	for (size_t at = pr->from; r >= 0 && at < pr->to; at++) {
		struct found_record *grown;

		hl.n = 0;
		r = sc_index_find_each(run->c, pr->p, &run->routes[run->order[at]], sc_hits_collect, &hl);
		if (r <= 0)
			continue;
		grown = realloc(pr->found, (pr->nfound + hl.n) * sizeof(*grown));
		if (!grown) {
			r = sc_fail(-ENOMEM, "out of memory for a batch's %zu records", pr->nfound + hl.n);
			break;
		}
		pr->found = grown;
		for (size_t i = 0; i < hl.n; i++)
			pr->found[pr->nfound++] = (struct found_record){ hl.v[i].rec_off, at };
	}
	sc_hits_free(&hl);
	return r < 0 ? r : 0;
}

/*
 * Everything the partition's share needs, in an order that lets making
 * room (which evicts from the partition's index) happen between steps
 * but never after the index has its room or the tree is built.
 */
static int stage(struct batch_run *run, struct part_run *pr)
{
	sc_cache *c = run->c;
	struct sc_part *p = pr->p;
	struct step s = { run, pr, 0 };
	struct sc_batch_intent *in;
	/* A remove batch does not evict to make room for its intent: its caller falls back instead. */
	int err = run->items ? with_room(c, p, take_intent, &s) : find_records(run, pr);

	if (!run->items) {
		err = err ? err : take_intent(c, p, &s);
	} else {
		for (s.at = pr->from; !err && s.at < pr->to; s.at++)
			err = with_room(c, p, write_record, &s);
		if (!err)
			err = with_room(c, p, sc_part_is_ordered(c, p) ? build_tree : reserve_index, &s);
	}
	if (err)
		return err;
	in = (struct sc_batch_intent *)(sc_blk_at(c, pr->intent) + 1);
	in->new_root = pr->tree.root;
	in->count = 0;
	in->done = 0;
	in->removes = !run->items;
	for (size_t at = pr->from; run->items && at < pr->to; at++)
		in->rec[in->count++] = sc_to_units(run->rec[at]);
	for (size_t i = 0; i < pr->nfound; i++)
		in->rec[in->count++] = sc_to_units(pr->found[i].off);
	sc_batch_intent_set(c, p, run->parts[0].p, run->id, pr->intent);
	return 0;
}

/* Before the commit: give back everything staged. Nothing of it was ever visible. */
static void unstage(struct batch_run *run, struct part_run *pr)
{
	sc_cache *c = run->c;

	/* First the intent, so that a death from here on leaves blocks a census frees, not an intent. */
	pr->p->batch_intent = 0;
	SC_CRASH_POINT();
	for (size_t at = pr->from; run->items && at < pr->to; at++)
		if (run->rec[at])
			sc_block_free(c, pr->p, run->rec[at]);
	if (sc_part_is_ordered(c, pr->p))
		sc_bt_stage_abandon(c, pr->p, &pr->tree);
	if (pr->intent)
		sc_block_free(c, pr->p, pr->intent);
}

/* A hash index's share, record by record, counting each in the intent as it goes in. */
static int publish_records(struct batch_run *run, struct part_run *pr, struct sc_batch_intent *in)
{
	sc_cache *c = run->c;
	struct sc_part *p = pr->p;
	struct sc_index_hint hint;

	sc_index_hint_init(c, p, &hint);
	for (size_t at = pr->from; at < pr->to; at++) {
		const struct sc_route *key = &run->items[run->order[at]].route;
		uint64_t old;
		int r;

		sc_index_hint_ahead(c, &hint, &run->items[0].route, sizeof(run->items[0]), run->order, at,
				    pr->to);
		r = sc_index_insert_reserved(c, p, key, run->rec[at], sc_insert_mode(c, p, key), &old);
		if (r < 0)
			return r;
		in->done = (uint32_t)(at - pr->from + 1);
		SC_CRASH_POINT();
		if (r == 0) { /* a bag holding this tuple already: never published */
			sc_block_free(c, p, run->rec[at]);
			p->puts++;
			continue;
		}
		if (old)
			sc_record_left(c, p, old, SC_LEFT_REPLACED);
		sc_record_joined(c, p, run->rec[at]);
		p->puts++;
	}
	return 0;
}

/* Removes: the records found, each taken out and counted in the intent. */
static int remove_records(struct batch_run *run, struct part_run *pr, struct sc_batch_intent *in)
{
	sc_cache *c = run->c;
	struct sc_part *p = pr->p;

	for (size_t i = 0; i < pr->nfound; i++) {
		uint64_t off = pr->found[i].off;
		const struct sc_blk *rec = sc_blk_at(c, off);
		int r = sc_index_unpublish(c, p, &run->routes[run->order[pr->found[i].at]], off);

		if (r < 0)
			return r;
		in->done++;
		SC_CRASH_POINT();
		if (r == 0) /* the key came twice: gone already */
			continue;
		run->removed += !sc_rec_expired(rec, rec->len);
		sc_record_left(c, p, off, SC_LEFT_DELETED);
	}
	return 0;
}

/* An ordered_set's share: its tree at once, then the accounts, in the batch's order. */
static void publish_tree(struct batch_run *run, struct part_run *pr)
{
	sc_cache *c = run->c;
	struct sc_part *p = pr->p;

	sc_bt_stage_publish(c, p, &pr->tree);
	for (size_t at = pr->from; at < pr->to; at++) {
		sc_record_joined(c, p, run->rec[at]);
		if (run->old[at])
			sc_record_left(c, p, run->old[at], SC_LEFT_REPLACED);
		p->puts++;
	}
}

/*
 * After the commit there is no going back: a partition whose index fails
 * (only a damaged one can) keeps its intent and is marked for repair, which
 * completes it or finds the damage, and the batch stays committed for it.
 */
static int publish(struct batch_run *run)
{
	sc_cache *c = run->c;
	int failed = 0;

	for (uint32_t i = 0; i < run->nparts; i++) {
		struct part_run *pr = &run->parts[i];
		struct sc_batch_intent *in = (struct sc_batch_intent *)(sc_blk_at(c, pr->intent) + 1);
		int err = 0;

		if (!run->items)
			err = remove_records(run, pr, in);
		else if (sc_part_is_ordered(c, pr->p))
			publish_tree(run, pr);
		else
			err = publish_records(run, pr, in);
		if (err) {
			pr->p->needs_repair = 1;
			failed = failed ? failed : err;
			continue;
		}
		pr->p->batch_intent = 0;
		SC_CRASH_POINT();
		sc_block_free(c, pr->p, pr->intent);
	}
	if (!failed)
		sc_batch_end(run->parts[0].p, run->id);
	return failed;
}

/*
 * Every partition's lock, ascending; the lowest is the commit partition,
 * and a dead batch it numbered is settled before any other lock is held.
 */
static int lock_all(struct batch_run *run)
{
	int err = 0;

	for (; !err && run->locked < run->nparts; run->locked++) {
		struct sc_part *p = run->parts[run->locked].p;

		err = sc_part_lock(run->c, p);
		if (!err && run->locked == 0 && (err = sc_batch_settle(run->c, p)) != 0)
			sc_part_unlock(run->c, p);
		if (err)
			break;
	}
	return err;
}

static int run_batch(struct batch_run *run)
{
	int err = lock_all(run);
	uint32_t staged = 0;

	if (err)
		return err;
	run->id = sc_batch_begin(run->parts[0].p);
	for (; !err && staged < run->nparts; staged++)
		if ((err = stage(run, &run->parts[staged])) != 0)
			break;
	if (err) {
		for (uint32_t i = 0; i <= staged && i < run->nparts; i++)
			unstage(run, &run->parts[i]);
		sc_batch_end(run->parts[0].p, run->id);
		return err;
	}
	SC_CRASH_POINT();
	sc_batch_commit(run->parts[0].p, run->id);
	return publish(run);
}

/* The partitions of o's groups, from first_part on, then the batch. */
static int run_over(struct batch_run *run, uint32_t first_part, size_t n, const struct sc_batch_order *o)
{
	sc_cache *c = run->c;
	uint32_t nparts = c->seg.cfg.num_partition;
	size_t from = 0;
	int err = 0;

	run->order = o->order;
	run->rec = calloc(n, sizeof(*run->rec));
	run->old = calloc(n, sizeof(*run->old));
	run->parts = calloc(nparts, sizeof(*run->parts));
	if (!run->rec || !run->old || !run->parts)
		err = sc_fail(-ENOMEM, "out of memory for a batch of %zu", n);
	for (uint32_t pi = 0; !err && pi < nparts; from = o->end[pi], pi++) {
		if (o->end[pi] == from)
			continue;
		run->parts[run->nparts++] = (struct part_run){ .p = sc_part_at(c, first_part + pi),
							       .from = from,
							       .to = o->end[pi] };
	}
	if (!err)
		err = run_batch(run);
	for (uint32_t i = 0; i < run->locked; i++)
		run->parts[i].logged = sc_part_unlock_logged(c, run->parts[i].p);
	for (uint32_t i = 0; i < run->locked; i++)
		err = (int)sc_write_result(err, sc_part_acked(c, run->parts[i].p, run->parts[i].logged));
	for (uint32_t i = 0; run->parts && i < run->nparts; i++) {
		sc_bt_stage_free(&run->parts[i].tree);
		free(run->parts[i].found);
	}
	free(run->rec);
	free(run->old);
	free(run->parts);
	return err;
}

int sc_batch_write(sc_cache *c, uint32_t first_part, const struct sc_put_item *items, size_t n,
		   const struct sc_batch_order *o)
{
	struct batch_run run = { .c = c, .items = items };

	return run_over(&run, first_part, n, o);
}

int sc_batch_remove(sc_cache *c, uint32_t first_part, const struct sc_route *routes, size_t n,
		    const struct sc_batch_order *o)
{
	struct batch_run run = { .c = c, .routes = routes };
	int err = run_over(&run, first_part, n, o);

	return err ? err : run.removed;
}
