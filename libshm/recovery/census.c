/* census.c — what a partition holds, found by walking it: the blocks readers can reach, and its limbo list. */
#include "recovery/census.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/btree.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "record/entry_key.h"
#include "record/record_deadline.h"
#include "record/tuple_codec.h"

static void tell(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt,
		 va_list ap)
{
	char what[200];

	if (!cs->problem)
		return;
	vsnprintf(what, sizeof(what), fmt, ap);
	cs->problem(cs->problem_ctx, sc_part_index(c, p), off, what);
}

/* Damage: something readers reach is not what it should be. */
static void problem(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void problem(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	cs->damaged++;
	va_start(ap, fmt);
	tell(c, cs, p, off, fmt, ap);
	va_end(ap);
}

/* Something to tell the checker about that is not damage a repair has to mend. */
static void tellf(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void tellf(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tell(c, cs, p, off, fmt, ap);
	va_end(ap);
}

/* The limbo list out of step: what a dying writer leaves, and what the repair rebuilds. */
static void limbo_problem(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt,
			  ...) __attribute__((format(printf, 5, 6)));

static void limbo_problem(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, const char *fmt,
			  ...)
{
	va_list ap;

	cs->limbo_broken = true;
	va_start(ap, fmt);
	tell(c, cs, p, off, fmt, ap);
	va_end(ap);
}

/* A block the index reaches, checked to be a live block of the kind it should be. */
static bool reachable_block(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, uint8_t kind,
			    const char *what)
{
	const struct sc_blk *b;

	if (!sc_block_check(c, off)) {
		problem(c, cs, p, off, "%s is not a block inside the heap", what);
		return false;
	}
	b = sc_blk_at(c, off);
	if ((b->flags & SC_BLK_KIND_MASK) != kind || (b->flags & SC_BLK_STATE_MASK) != SC_BLK_LIVE) {
		problem(c, cs, p, off, "%s is not a live block of its kind (flags 0x%02x)", what, b->flags);
		return false;
	}
	return true;
}

/* A structure entry: a sequence header reaches its block; an item must lie inside its sequence. */
static int entry_refs(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off)
{
	const struct sc_blk *rec = sc_blk_at(c, off);
	sc_field f[2];
	const uint8_t *k;

	if (rec->nfields != 2 || sc_rec_decode((const uint8_t *)rec, rec->len, 2, f) ||
	    f[0].type != SC_FIELD_BYTES || f[0].len < 2) {
		problem(c, cs, p, off, "structure entry is malformed");
		return 0;
	}
	k = f[0].v.p;
	if ((k[0] == SC_ENTRY_QUEUE || k[0] == SC_ENTRY_STACK) && f[1].type == SC_FIELD_INT) {
		if (f[1].v.i <= 0 || !sc_sequence_at(c, (uint64_t)f[1].v.i)) {
			problem(c, cs, p, off, "sequence header names no sequence block");
			return 0;
		}
		if (reachable_block(c, cs, p, (uint64_t)f[1].v.i, SC_BLK_SEQUENCE, "sequence block"))
			return sc_offsets_add(&cs->reach, (uint64_t)f[1].v.i);
	} else if (k[0] == SC_ENTRY_ITEM && f[0].len == 2 + 2 * sizeof(uint64_t) &&
		   k[1] == sizeof(uint64_t)) {
		uint64_t owner, pos;
		const struct sc_sequence *s;

		memcpy(&owner, k + 2, sizeof(owner));
		memcpy(&pos, k + 2 + sizeof(owner), sizeof(pos));
		s = sc_sequence_at(c, owner);
		if (!s || pos < s->head || pos >= s->tail)
			return sc_offsets_add(&cs->orphan_items, off);
	}
	return 0;
}

static int visit_record(sc_cache *c, struct sc_census *cs, struct sc_part *p, uint64_t off, uint32_t tag)
{
	const struct sc_blk *rec;
	sc_field key;
	int err;

	if (!reachable_block(c, cs, p, off, SC_BLK_RECORD, "record"))
		return 0;
	rec = sc_blk_at(c, off);
	if (cs->verify) {
		if (rec->csum != sc_rec_checksum(rec, rec->len))
			problem(c, cs, p, off, "record's checksum does not match its contents");
		if (tag && sc_tag(rec->hash) != tag)
			problem(c, cs, p, off, "record's hash does not match its index tag");
		if (sc_rec_field((const uint8_t *)rec, rec->len,
				 sc_part_is_structure(c, p) ? 0 : c->seg.cfg.key_pos, &key))
			problem(c, cs, p, off, "record has no key field");
		if ((rec->flags & SC_BLK_EXPIRES) && !sc_rec_deadline_word(rec, rec->len))
			problem(c, cs, p, off, "record is marked with a deadline but has no room for one");
	}
	if (sc_part_is_structure(c, p)) {
		err = entry_refs(c, cs, p, off);
		if (err)
			return err;
	}
	cs->records++;
	cs->record_bytes += sc_block_size(rec);
	if (sc_rec_deadline_word(rec, rec->len))
		cs->ttl_records++;
	return sc_offsets_add(&cs->reach, off);
}

static int visit_slot(sc_cache *c, struct sc_part *p, uint64_t bucket, uint32_t tag, uint32_t units,
		      void *ctx)
{
	(void)bucket;
	return visit_record(c, ctx, p, sc_from_units(units), tag);
}

static int visit_node(sc_cache *c, struct sc_part *p, const struct sc_bt_entry *e, uint64_t boff,
		      uint32_t count, uint32_t height, void *ctx)
{
	struct sc_census *cs = ctx;

	(void)e;
	(void)count;
	(void)height;
	(void)c;
	(void)p;
	cs->nodes++;
	return sc_offsets_add(&cs->reach, boff);
}

static int visit_leaf_entry(sc_cache *c, struct sc_part *p, const struct sc_bt_entry *e, void *ctx)
{
	return visit_record(c, ctx, p, sc_from_units(e->rec), 0);
}

static int take_index(sc_cache *c, struct sc_part *p, struct sc_census *cs)
{
	int r;

	if (sc_part_is_ordered(c, p)) {
		r = sc_bt_walk(c, p, visit_node, visit_leaf_entry, cs);
		if (r == -EUCLEAN)
			problem(c, cs, p, p->index_off, "ordered index is corrupt");
		return r == -EUCLEAN ? 0 : r;
	}
	r = sc_index_walk_slots(c, p, &cs->index, visit_slot, cs);
	if (r == -EUCLEAN) {
		problem(c, cs, p, p->index_off, "index is corrupt");
		return 0;
	}
	if (!r && p->index_off) {
		if (!cs->index.block_off)
			problem(c, cs, p, p->index_off, "index does not name the block it sits in");
		else
			r = sc_offsets_add(&cs->reach, cs->index.block_off);
	}
	return r;
}

/* Lane l's limbo list, appended to cs->limbo: the valid prefix of it, when a link is bad. */
static int take_lane(sc_cache *c, struct sc_part *p, const struct sc_lane *l, struct sc_census *cs)
{
	uint64_t off = sc_from_units(l->limbo_head), tail = sc_from_units(l->limbo_tail);
	uint64_t slow = off; /* half the speed: meets off again only on a cycle */
	size_t n = 0;
	int err;

	if (!off || !tail)
		return 0;
	for (;; n++) {
		if (!sc_block_retired(c, off) || (n > 0 && off == slow)) {
			limbo_problem(
				c, cs, p, off,
				"limbo list is broken: a link to something that is not a retired block");
			return 0;
		}
		err = sc_offsets_add(&cs->limbo, off);
		if (err)
			return err;
		cs->limbo_bytes += sc_block_size(sc_blk_at(c, off));
		if (sc_rcu_tag_state(c, sc_blk_at(c, off)->retire_epoch) == SC_TAG_IMPOSSIBLE)
			tellf(c, cs, p, off,
			      "retired block's retire tag %u is from an epoch that has not begun (the epoch is "
			      "%llu); the next reclaim tags it again",
			      sc_blk_at(c, off)->retire_epoch, (unsigned long long)sc_rcu_epoch(c));
		if (off == tail)
			break;
		off = sc_from_units(sc_blk_at(c, off)->link);
		if (n % 2 == 1)
			slow = sc_from_units(sc_blk_at(c, slow)->link);
	}
	if (sc_blk_at(c, tail)->link)
		limbo_problem(c, cs, p, tail, "limbo list goes on past its tail");
	return 0;
}

static int take_limbo(sc_cache *c, struct sc_part *p, struct sc_census *cs)
{
	int err = 0;

	for (uint32_t i = 0; !err && i < SC_LANES; i++)
		err = take_lane(c, p, &p->lanes[i], cs);
	return err;
}

/* Sorted, and every offset once: a block reached twice is damage. */
static void sort_unique(sc_cache *c, struct sc_census *cs, struct sc_part *p, struct sc_offsets *s,
			const char *what)
{
	size_t w = 0;

	sc_offsets_sort(s);
	for (size_t i = 0; i < s->n; i++) {
		if (w && s->v[w - 1] == s->v[i]) {
			problem(c, cs, p, s->v[i], "%s twice", what);
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
}

int sc_census_take(sc_cache *c, struct sc_part *p, struct sc_census *cs)
{
	int err = take_index(c, p, cs);

	if (!err)
		err = take_limbo(c, p, cs);
	if (err)
		return err;
	sort_unique(c, cs, p, &cs->reach, "a block is reachable");
	for (size_t i = 0; i < cs->limbo.n; i++) {
		err = sc_offsets_add(&cs->limbo_sorted, cs->limbo.v[i]);
		if (err)
			return err;
	}
	sort_unique(c, cs, p, &cs->limbo_sorted, "a block is in the limbo list");
	if (cs->limbo_sorted.n != cs->limbo.n)
		cs->limbo_broken = true;
	for (size_t i = 0; i < cs->limbo_sorted.n; i++)
		if (sc_offsets_has(&cs->reach, cs->limbo_sorted.v[i]))
			problem(c, cs, p, cs->limbo_sorted.v[i],
				"a block is both reachable and in the limbo list");
	return 0;
}

void sc_census_free(struct sc_census *cs)
{
	sc_offsets_free(&cs->reach);
	sc_offsets_free(&cs->limbo);
	sc_offsets_free(&cs->limbo_sorted);
	sc_offsets_free(&cs->orphan_items);
}
