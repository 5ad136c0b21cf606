/* batch_resolve.c — what a repair makes of a dead writer's batch (finished if committed, else dropped) and bag update. */
#include "recovery/batch_resolve.h"

#include "index/hash_index.h"
#include "index/hit_list.h"
#include "mem/block_alloc.h"
#include "mem/span_alloc.h"
#include "record/entry_key.h"
#include "record/tuple_codec.h"
#include "shm/crash_point.h"

static int damaged(sc_cache *c, struct sc_part *p, const char *what)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": partition %u's batch intent %s", c->name, sc_part_index(c, p),
		       what);
}

/* Whether off holds a block inside memory p owns (the page map says). */
static bool in_partition(sc_cache *c, struct sc_part *p, uint64_t off)
{
	uint32_t w;

	if (!sc_block_check(c, off))
		return false;
	w = sc_page_word(c, off);
	return w != SC_PG_FREE && (w & SC_PG_OWNER_MASK) == sc_part_index(c, p);
}

/* ... and a live one of kind. */
static bool owned_block(sc_cache *c, struct sc_part *p, uint64_t off, uint8_t kind)
{
	const struct sc_blk *b = in_partition(c, p, off) ? sc_blk_at(c, off) : NULL;

	return b && (b->flags & SC_BLK_KIND_MASK) == kind && (b->flags & SC_BLK_STATE_MASK) == SC_BLK_LIVE;
}

/* The intent block at off, checked: a live intent block of p's holding its records' list. */
static int intent_at(sc_cache *c, struct sc_part *p, uint64_t off, struct sc_batch_intent **out)
{
	const struct sc_blk *b;
	struct sc_batch_intent *in;

	if (!owned_block(c, p, off, SC_BLK_INTENT))
		return damaged(c, p, "is not a live intent block of the partition's");
	b = sc_blk_at(c, off);
	if (b->len < sizeof(*b) + sizeof(*in))
		return damaged(c, p, "is too short");
	in = (struct sc_batch_intent *)(sc_blk_at(c, off) + 1);
	if ((b->len - sizeof(*b) - sizeof(*in)) / sizeof(in->rec[0]) < in->count || in->done > in->count)
		return damaged(c, p, "counts more records than it holds");
	if (sc_part_is_ordered(c, p) && !owned_block(c, p, in->new_root, SC_BLK_BTREE))
		return damaged(c, p, "names a tree that is not a live node of the partition's");
	*out = in;
	return 0;
}

/*
 * The record an intent's entry names, and the route of its key (key holds
 * the key field route points to). 1; 0 for a record no longer live, which
 * a remove may have taken already (a put's staged records are all live);
 * or -EUCLEAN.
 */
static int listed_record(sc_cache *c, struct sc_part *p, uint32_t units, sc_field *key,
			 struct sc_route *route)
{
	uint64_t off = sc_from_units(units);
	const struct sc_blk *rec;

	if (!in_partition(c, p, off))
		return damaged(c, p, "names a record outside the partition's memory");
	rec = sc_blk_at(c, off);
	if ((rec->flags & SC_BLK_KIND_MASK) != SC_BLK_RECORD)
		return damaged(c, p, "names something that is not a record");
	if ((rec->flags & SC_BLK_STATE_MASK) != SC_BLK_LIVE)
		return 0;
	if (sc_part_is_structure(c, p)) {
		if (sc_rec_field((const uint8_t *)rec, rec->len, 0, key) || key->type != SC_FIELD_BYTES)
			return damaged(c, p, "names an entry without a key");
		sc_entry_route_bytes(c, key->v.p, key->len, key, route);
		return 1;
	}
	if (sc_rec_field((const uint8_t *)rec, rec->len, c->seg.cfg.key_pos, key))
		return damaged(c, p, "names a record without a key");
	sc_route_key(c, key, route);
	route->partition = sc_part_index(c, p);
	return 1;
}

static int is_units(sc_cache *c, struct sc_part *p, uint64_t bucket, uint32_t tag, uint32_t units, void *ctx)
{
	(void)c;
	(void)p;
	(void)bucket;
	(void)tag;
	return units == *(const uint32_t *)ctx;
}

/*
 * What a hash-indexed partition had not done: the records from done on,
 * published, or taken out. A put at done may have gone in just before the
 * writer died (a duplicate_bag would take it twice), so it is looked for
 * first; a remove finds its record gone, or not. Nothing is retired or
 * counted here: the census that follows sends what left to limbo and
 * recounts everything.
 */
static int finish_rest(sc_cache *c, struct sc_part *p, struct sc_batch_intent *in)
{
	for (uint32_t i = in->done; i < in->count; i++) {
		struct sc_index_census ic;
		struct sc_route route;
		sc_field key;
		uint64_t old, off = sc_from_units(in->rec[i]);
		int r = listed_record(c, p, in->rec[i], &key, &route);

		if (r > 0 && in->removes) {
			r = sc_index_unpublish(c, p, &route, off);
		} else if (r > 0) {
			r = i == in->done ? sc_index_walk_slots(c, p, &ic, is_units, &in->rec[i]) : 0;
			if (r == 0)
				r = sc_index_insert_reserved(c, p, &route, off, sc_insert_mode(c, p, &route),
							     &old);
		} else if (r == 0 && !in->removes) {
			r = damaged(c, p, "names a staged record that is not live");
		}
		if (r < 0)
			return r;
		in->done = i + 1;
		SC_CRASH_POINT();
	}
	return 0;
}

/* The hits of a key that are not the record at *keep, collected. */
struct others {
	uint64_t keep;
	struct sc_hit_list hits;
};

static int collect_other(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	struct others *o = ctx;

	return hit->rec_off == o->keep ? 0 : sc_hits_push(c, &o->hits, hit);
}

int sc_supersede_resolve(sc_cache *c, struct sc_part *p)
{
	struct others o = { sc_from_units(p->superseding), { 0 } };
	struct sc_index_census ic;
	struct sc_route route;
	sc_field key;
	int r;

	if (!p->superseding)
		return 0;
	r = listed_record(c, p, p->superseding, &key, &route);
	if (r == 0)
		return damaged(c, p, "names, for a KeyValue update, a record that is not live");
	/* Published: the others leave. Not: it was never seen, and the census frees it. */
	if (r > 0)
		r = sc_index_walk_slots(c, p, &ic, is_units, &p->superseding);
	sc_hits_init(&o.hits);
	if (r > 0)
		r = sc_index_find_each(c, p, &route, collect_other, &o);
	for (size_t i = 0; r >= 0 && i < o.hits.n; i++)
		r = sc_index_unpublish(c, p, &route, o.hits.v[i].rec_off);
	sc_hits_free(&o.hits);
	if (r < 0)
		return r;
	p->superseding = 0;
	SC_CRASH_POINT();
	return 0;
}

int sc_batch_resolve(sc_cache *c, struct sc_part *p)
{
	uint32_t cp = p->batch_commit_part;
	struct sc_batch_intent *in = NULL;
	int err;

	if (!p->batch_intent)
		return 0;
	if (cp >= 2 * c->seg.cfg.num_partition)
		return damaged(c, p, "names no partition to commit in");
	if (sc_read(&sc_part_at(c, cp)->batch_state) == SC_BATCH_STATE(p->batch_id, SC_BATCH_COMMITTED)) {
		err = intent_at(c, p, p->batch_intent, &in);
		if (err)
			return err;
		if (sc_part_is_ordered(c, p))
			sc_xchg(&p->index_off, in->new_root);
		else if ((err = finish_rest(c, p, in)) != 0)
			return err;
	}
	/* Uncommitted (or the commit partition was reset since): the staged records stay unpublished. */
	p->batch_intent = 0;
	SC_CRASH_POINT();
	return 0;
}
