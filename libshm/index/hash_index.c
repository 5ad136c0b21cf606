/* hash_index.c — a partition's hash index: lock-free probes for readers, updates under the lock. */
#include "index/hash_index.h"

#include <string.h>

#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/record_accounts.h"
#include "record/entry_key.h"
#include "record/record_deadline.h"
#include "record/reference_bit.h"
#include "record/tuple_codec.h"
#include "shm/crash_point.h"

/* Grow (or rebuild without tombstones) once 13/16 of the slots are taken. */
#define FILL_NUM 13u
#define FILL_DEN 16u

/* An index checked once: readers and the writer use only these copies of its geometry. */
struct index_view {
	struct sc_index *idx;
	struct sc_bucket *buckets;
	uint64_t mask; /* buckets - 1 */
};

static uint64_t index_bytes(uint32_t log2)
{
	return sizeof(struct sc_index) + ((uint64_t)sizeof(struct sc_bucket) << log2);
}

/* Cold paths, out of line; they return the constant so that callers can see it is negative. */
static int corrupt_index(sc_cache *c, uint64_t ioff)
{
	sc_fail(-EUCLEAN, "cache \"%s\": partition index at %llu is corrupt", c->name,
		(unsigned long long)ioff);
	return -EUCLEAN;
}

/* 1 with v filled, 0 if there is no index yet, -EUCLEAN if ioff is not a sound index. */
static inline int view_index(sc_cache *c, uint64_t ioff, struct index_view *v)
{
	uint32_t log2;

	if (ioff == 0)
		return 0;
	if (sc_unlikely(ioff % 64 != 0 || !sc_seg_span_ok(&c->seg, ioff, sizeof(struct sc_index))))
		return corrupt_index(c, ioff);
	v->idx = (struct sc_index *)sc_seg_at(&c->seg, ioff);
	log2 = sc_read(&v->idx->log2_buckets);
	if (sc_unlikely(sc_read(&v->idx->magic) != SC_INDEX_MAGIC || log2 < SC_INDEX_MIN_LOG2 ||
			log2 > SC_INDEX_MAX_LOG2 || !sc_seg_span_ok(&c->seg, ioff, index_bytes(log2))))
		return corrupt_index(c, ioff);
	v->buckets = (struct sc_bucket *)(v->idx + 1);
	v->mask = (1ull << log2) - 1;
	return 1;
}

static int corrupt_record(sc_cache *c, uint64_t off)
{
	sc_fail(-EUCLEAN, "cache \"%s\": index names a malformed record at %llu", c->name,
		(unsigned long long)off);
	return -EUCLEAN;
}

/* Whether the record an index slot names is the key's: 1, 0, or -EUCLEAN. Inlined into every probe. */
static inline __attribute__((always_inline)) int key_matches(sc_cache *c, uint32_t units,
							     const struct sc_route *key, struct sc_hit *hit)
{
	uint64_t off = sc_from_units(units);
	uint32_t len;
	int r;

	if (sc_unlikely(!sc_seg_span_ok(&c->seg, off, sizeof(struct sc_blk))))
		return corrupt_record(c, off);
	len = sc_read(&sc_blk_at(c, off)->len);
	if (sc_unlikely(len < sizeof(struct sc_blk) || !sc_seg_span_ok(&c->seg, off, len)))
		return corrupt_record(c, off);
	r = sc_rec_key_equals(c->seg.base + off, len, key->key_pos, key);
	if (sc_unlikely(r < 0))
		return corrupt_record(c, off);
	hit->rec_off = off;
	hit->rec_len = len;
	return r;
}

/*
 * The records along the key's probe path that are the key's, each passed to
 * fn until it returns nonzero: how many were passed, or a negative error.
 * Inlined into its two callers, so that a set's find (fn constant) costs no
 * indirect call. Tags alone tell a never-used slot, which ends the path, so
 * offsets are loaded only on a tag match.
 */
static inline __attribute__((always_inline)) int probe(sc_cache *c, struct sc_part *p,
						       const struct sc_route *key, sc_hit_fn fn, void *ctx)
{
	uint32_t tag = sc_tag(key->key_hash);
	struct index_view v;
	struct sc_hit hit;
	int visited = 0;
	uint64_t b;
	int r = view_index(c, sc_consume(&p->index_off), &v);

	if (r <= 0)
		return r;
	b = tag & v.mask;
	for (uint64_t n = 0; n <= v.mask; n++, b = (b + 1) & v.mask) {
		struct sc_bucket *bk = &v.buckets[b];

		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint32_t h = sc_read(&bk->hash[i]), o;

			if (h == SC_TAG_NEVER_USED)
				return visited;
			if (h != tag)
				continue;
			o = sc_consume(&bk->off[i]);
			if (o <= SC_SLOT_TOMB)
				continue;
			r = key_matches(c, o, key, &hit);
			if (r > 0) {
				struct sc_blk *rec = sc_blk_at(c, hit.rec_off);

				if (sc_rec_expired(rec, hit.rec_len))
					continue;
				sc_rec_mark_referenced(c, rec);
				visited++;
				r = fn(c, &hit, ctx);
			}
			if (r)
				return r < 0 ? r : visited;
		}
	}
	return visited;
}

static int keep_first(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	(void)c;
	*(struct sc_hit *)ctx = *hit;
	return 1;
}

int sc_index_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, struct sc_hit *hit)
{
	return probe(c, p, key, keep_first, hit);
}

int sc_index_find_each(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_hit_fn fn, void *ctx)
{
	return probe(c, p, key, fn, ctx);
}

/*
 * A walk asks for the records of the bucket this far ahead, so that their
 * misses overlap the work on these; and for their first three cache lines,
 * which hold a typical record (a 16-byte key and a 100-byte value take 176
 * bytes): the first line alone left matches waiting on the value's lines.
 */
#define PREFETCH_BUCKETS 2
#define PREFETCH_LINES	 3u

static inline void prefetch_records(sc_cache *c, const struct sc_bucket *bk)
{
	for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
		uint64_t off = sc_from_units(sc_read(&bk->off[i]));

		/* Only addresses inside the mapping: a prefetch never faults, but pointer arithmetic may not leave it. */
		if (off <= SC_UNIT || off + PREFETCH_LINES * 64 > c->seg.map_len)
			continue;
		for (uint32_t line = 0; line < PREFETCH_LINES; line++)
			__builtin_prefetch(c->seg.base + off + 64 * line);
	}
}

int sc_index_for_each(sc_cache *c, struct sc_part *p, sc_hit_fn fn, void *ctx)
{
	struct index_view v;
	int visited = 0;
	int r = view_index(c, sc_consume(&p->index_off), &v);

	if (r <= 0)
		return r;
	for (uint64_t b = 0; b <= v.mask; b++) {
		struct sc_bucket *bk = &v.buckets[b];

		if (b + PREFETCH_BUCKETS <= v.mask)
			prefetch_records(c, &v.buckets[b + PREFETCH_BUCKETS]);

		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint32_t o = sc_consume(&bk->off[i]);
			uint64_t off = sc_from_units(o);
			struct sc_hit hit;

			if (o <= SC_SLOT_TOMB)
				continue;
			if (!sc_seg_span_ok(&c->seg, off, sizeof(struct sc_blk)))
				return corrupt_record(c, off);
			hit.rec_off = off;
			hit.rec_len = sc_read(&sc_blk_at(c, off)->len);
			if (hit.rec_len < sizeof(struct sc_blk) || !sc_seg_span_ok(&c->seg, off, hit.rec_len))
				return corrupt_record(c, off);
			if (sc_rec_expired(sc_blk_at(c, off), hit.rec_len))
				continue;
			visited++;
			r = fn(c, &hit, ctx);
			if (r)
				return r < 0 ? r : visited;
		}
	}
	return visited;
}

/* Smallest index holding n entries at most half full. */
static uint32_t log2_for(uint64_t n)
{
	uint32_t log2 = SC_INDEX_MIN_LOG2;

	while (log2 < SC_INDEX_MAX_LOG2 && (SC_BUCKET_SLOTS << log2) < 2 * n)
		log2++;
	return log2;
}

/*
 * Put an entry into a fresh index (no tombstones, no duplicates): the first
 * empty slot on its path. The old index is shared memory: its tag gets the
 * used bit whatever it holds, and a full index (more entries than were
 * counted: a scribbler added some) is -EUCLEAN rather than an endless walk.
 */
static int place(struct index_view *v, uint32_t tag, uint32_t units)
{
	uint64_t b = tag & v->mask;

	for (uint64_t n = 0; n <= v->mask; n++, b = (b + 1) & v->mask) {
		struct sc_bucket *bk = &v->buckets[b];

		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			if (bk->off[i] == SC_SLOT_EMPTY) {
				bk->hash[i] = sc_tag(tag);
				bk->off[i] = units;
				return 0;
			}
		}
	}
	return -EUCLEAN;
}

/* The block an index sits in, if its header names it truthfully; else 0. */
static uint64_t index_block(sc_cache *c, const struct index_view *v)
{
	uint64_t boff = v->idx->block_off;
	uint64_t ioff = (uint64_t)((uint8_t *)v->idx - c->seg.base);

	if (boff < ioff && sc_align_up(boff + sizeof(struct sc_blk), 64) == ioff && sc_block_check(c, boff) &&
	    (sc_blk_at(c, boff)->flags & SC_BLK_KIND_MASK) == SC_BLK_INDEX)
		return boff;
	return 0;
}

/*
 * The old index's block, if block_off really is the block the index sits
 * in: a forged one must not retire some other live block. Otherwise the old
 * index leaks.
 */
static void retire_index(sc_cache *c, struct sc_part *p, struct index_view *old)
{
	uint64_t boff = index_block(c, old);

	if (boff)
		sc_limbo_retire(c, p, boff);
}

static uint64_t count_live(const struct index_view *v)
{
	uint64_t live = 0;

	for (uint64_t b = 0; b <= v->mask; b++)
		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++)
			live += v->buckets[b].off[i] > SC_SLOT_TOMB;
	return live;
}

/*
 * Build an index sized for the live entries of the current one plus extra,
 * holding them, publish it, and retire the old one. Readers still in the
 * old index finish there; it stays intact until they have all left. The
 * entries are counted, not taken from the counter, so that a wrong counter
 * cannot make the new index too small to hold them.
 */
static int rebuild(sc_cache *c, struct sc_part *p, uint64_t extra)
{
	struct index_view old = { 0 }, fresh;
	int has_old = view_index(c, p->index_off, &old);
	uint64_t live = has_old == 1 ? count_live(&old) : 0;
	uint32_t log2 = log2_for(live + extra);
	uint64_t len = sizeof(struct sc_blk) + 63 + index_bytes(log2);
	uint64_t boff, ioff;
	int err;

	if (has_old < 0)
		return has_old;
	if (live + extra > (SC_BUCKET_SLOTS << log2) * FILL_NUM / FILL_DEN)
		return sc_fail(-ENOSPC, "cache \"%s\": partition %u holds as many keys as an index can",
			       c->name, sc_part_index(c, p));
	err = sc_block_alloc(c, p, (uint32_t)len, SC_BLK_INDEX, &boff);
	if (err)
		return err;
	SC_CRASH_POINT();
	ioff = sc_align_up(boff + sizeof(struct sc_blk), 64);
	fresh.idx = (struct sc_index *)sc_seg_at(&c->seg, ioff);
	memset(fresh.idx, 0, index_bytes(log2));
	fresh.buckets = (struct sc_bucket *)(fresh.idx + 1);
	fresh.mask = (1ull << log2) - 1;
	fresh.idx->magic = SC_INDEX_MAGIC;
	fresh.idx->log2_buckets = log2;
	fresh.idx->block_off = boff;
	for (uint64_t b = 0; has_old && b <= old.mask; b++) {
		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint32_t o = old.buckets[b].off[i];

			if (o > SC_SLOT_TOMB && place(&fresh, old.buckets[b].hash[i], o)) {
				/* Never published: nobody can see it, so it goes back at once. */
				sc_block_free(c, p, boff);
				return corrupt_index(c, p->index_off);
			}
		}
	}
	/* The exchange is a full barrier: the new index is complete before anyone can load it. */
	SC_CRASH_POINT();
	sc_xchg(&p->index_off, ioff);
	SC_CRASH_POINT();
	/* A writer that dies before these leaves them the old index's: its repair counts them again. */
	p->index_live = live;
	p->index_tombs = 0;
	if (has_old)
		retire_index(c, p, &old);
	return 0;
}

static int needs_room(const struct sc_part *p, const struct index_view *v, uint64_t extra)
{
	uint64_t slots = (v->mask + 1) * SC_BUCKET_SLOTS;

	return (p->index_live + p->index_tombs + extra) * FILL_DEN > slots * FILL_NUM;
}

/* The index, grown (or cleaned of tombstones) if extra more entries would fill it past 13/16. */
static int writable_index(sc_cache *c, struct sc_part *p, uint64_t extra, struct index_view *v)
{
	int r = view_index(c, p->index_off, v);

	if (r < 0)
		return r;
	if (r == 1 && !needs_room(p, v, extra))
		return 0;
	r = rebuild(c, p, extra);
	if (r)
		return r;
	/* rebuild() published an index; finding none means someone else overwrote the offset. */
	r = view_index(c, p->index_off, v);
	if (r == 1)
		return 0;
	return r < 0 ? r : corrupt_index(c, 0);
}

/* A slot of an index: its bucket and position. */
struct slot_ref {
	struct sc_bucket *bk;
	uint32_t i;
};

/* What the writer's walk does at each record of the key: 0 goes on, anything else stops the walk. */
typedef int (*slot_fn)(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, void *ctx);

/*
 * Writer side: walk key's probe path in v, calling fn at each record of the
 * key until fn returns nonzero (then *at is that slot, and that is the
 * result). With fn NULL no record is read. Either way *free_at is the first
 * free slot (tombstone or empty) on the path, bk NULL if there was none.
 * Returns 0 at the end of the path, or a negative errno.
 */
static int walk_key(sc_cache *c, const struct index_view *v, const struct sc_route *key, slot_fn fn,
		    void *ctx, struct slot_ref *at, struct slot_ref *free_at)
{
	uint32_t tag = sc_tag(key->key_hash);
	uint64_t b = tag & v->mask;

	free_at->bk = NULL;
	for (uint64_t n = 0; n <= v->mask; n++, b = (b + 1) & v->mask) {
		struct sc_bucket *bk = &v->buckets[b];

		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint32_t o = bk->off[i];
			struct sc_hit hit;
			int r;

			if (o <= SC_SLOT_TOMB && !free_at->bk)
				*free_at = (struct slot_ref){ bk, i };
			if (o == SC_SLOT_EMPTY)
				return 0;
			if (!fn || o == SC_SLOT_TOMB || bk->hash[i] != tag)
				continue;
			r = key_matches(c, o, key, &hit);
			if (r > 0)
				r = fn(c, (struct slot_ref){ bk, i }, &hit, ctx);
			if (r) {
				*at = (struct slot_ref){ bk, i };
				return r;
			}
		}
	}
	return 0;
}

static int first_record(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, void *ctx)
{
	(void)c;
	(void)at;
	*(uint64_t *)ctx = hit->rec_off;
	return 1;
}

/*
 * Whether the record at hit holds the very tuple of the record in ctx: same
 * fields, same bytes, deadlines aside. A record with a deadline may have 4
 * bytes of padding after its fields that the other lacks; fields delimit
 * themselves, so with as many of them, the shorter body equal to the start
 * of the longer means the same fields. An expired record holds nothing.
 */
static int same_tuple(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, void *ctx)
{
	const struct sc_blk *mine = ctx, *theirs = sc_blk_at(c, hit->rec_off);
	uint32_t a = sc_rec_body_len(mine, mine->len), b = sc_rec_body_len(theirs, hit->rec_len);

	(void)at;
	return (a == b || a + 4 == b || b + 4 == a) && theirs->nfields == mine->nfields &&
	       memcmp(theirs + 1, mine + 1, a < b ? a : b) == 0 && !sc_rec_expired(theirs, hit->rec_len);
}

/* sc_index_insert() into the index v, which has room. Inlined into the common put's insert. */
static inline __attribute__((always_inline)) int insert_into(sc_cache *c, struct sc_part *p,
							     const struct index_view *v,
							     const struct sc_route *key, uint64_t rec_off,
							     enum sc_insert how, uint64_t *old_off)
{
	uint32_t units = sc_to_units(rec_off);
	struct slot_ref at, free_at;
	int r;

	if (how == SC_INSERT_REPLACE)
		r = walk_key(c, v, key, first_record, old_off, &at, &free_at);
	else if (how == SC_INSERT_DISTINCT)
		r = walk_key(c, v, key, same_tuple, sc_blk_at(c, rec_off), &at, &free_at);
	else
		r = walk_key(c, v, key, NULL, NULL, &at, &free_at);
	if (r < 0)
		return r;
	if (r && how == SC_INSERT_REPLACE) {
		sc_xchg(&at.bk->off[at.i], units);
		SC_CRASH_POINT();
		return 1;
	}
	if (r) /* SC_INSERT_DISTINCT: the tuple is there already */
		return 0;
	/* needs_room() keeps an index from filling up; only a corrupt one has no free slot. */
	if (!free_at.bk)
		return sc_fail(-EUCLEAN, "cache \"%s\": partition %u's index has no free slot", c->name,
			       sc_part_index(c, p));
	if (free_at.bk->off[free_at.i] == SC_SLOT_TOMB)
		p->index_tombs--;
	SC_CRASH_POINT();
	sc_write(&free_at.bk->hash[free_at.i], sc_tag(key->key_hash));
	SC_CRASH_POINT();
	sc_publish(&free_at.bk->off[free_at.i], units);
	SC_CRASH_POINT();
	p->index_live++;
	return 1;
}

int sc_index_insert(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
		    enum sc_insert how, uint64_t *old_off)
{
	struct index_view v;
	int r = writable_index(c, p, 1, &v);

	*old_off = 0;
	return r ? r : insert_into(c, p, &v, key, rec_off, how, old_off);
}

int sc_index_reserve(sc_cache *c, struct sc_part *p, uint64_t n)
{
	struct index_view v;

	return writable_index(c, p, n, &v);
}

int sc_index_insert_reserved(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
			     enum sc_insert how, uint64_t *old_off)
{
	struct index_view v;
	int r = view_index(c, p->index_off, &v);

	*old_off = 0;
	if (r == 0)
		return sc_fail(-EUCLEAN, "cache \"%s\": partition %u has no index where room was reserved",
			       c->name, sc_part_index(c, p));
	return r < 0 ? r : insert_into(c, p, &v, key, rec_off, how, old_off);
}
/* A slot to change: the record it must hold, what it gets instead (units, or a tombstone). */
struct swap {
	struct sc_part *p;
	uint64_t old_off;
	uint32_t units;
};

static int swap_at(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, void *ctx)
{
	struct swap *s = ctx;

	(void)c;
	if (hit->rec_off != s->old_off)
		return 0;
	sc_xchg(&at.bk->off[at.i], s->units);
	if (s->units == SC_SLOT_TOMB) {
		SC_CRASH_POINT();
		s->p->index_live--;
		s->p->index_tombs++;
	}
	return 1;
}

static int swap(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t old_off, uint32_t units)
{
	struct swap s = { p, old_off, units };
	struct slot_ref at, free_at;
	struct index_view v;
	int r = view_index(c, p->index_off, &v);

	if (r <= 0)
		return r;
	return walk_key(c, &v, key, swap_at, &s, &at, &free_at);
}

int sc_index_swap(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t old_off,
		  uint64_t new_off)
{
	return swap(c, p, key, old_off, sc_to_units(new_off));
}

int sc_index_unpublish(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off)
{
	return swap(c, p, key, rec_off, SC_SLOT_TOMB);
}

/*
 * After deletes: an index less than 1/16 full is rebuilt at half full,
 * giving its memory back. The delete has happened either way, so a
 * rebuild that fails (no memory for the smaller index) changes nothing.
 */
static void shrink_if_sparse(sc_cache *c, struct sc_part *p, const struct index_view *v)
{
	uint64_t slots = (v->mask + 1) * SC_BUCKET_SLOTS;

	if (v->mask + 1 > (1u << SC_INDEX_MIN_LOG2) && p->index_live * 16 < slots)
		(void)rebuild(c, p, 1);
}

struct removal {
	struct sc_part *p;
	sc_rec_pred pred;
	void *pctx;
	sc_removed_fn fn;
	void *ctx;
	bool unique; /* the key has one record at most: the walk stops at it */
	int count;
	int expired; /* removed because their deadline had passed (not in count) */
};

/*
 * Take the record out of the slot if the predicate (or none) wants it gone.
 * A key that holds one record at most (sc_insert_mode() replaces) has its
 * walk stop there (1); a bag's goes on to the key's other records.
 */
static int remove_if(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, struct removal *rm)
{
	bool expired = sc_rec_expired(sc_blk_at(c, hit->rec_off), hit->rec_len);
	int r = rm->pred && !expired ? rm->pred(c, hit, rm->pctx) : 1;

	if (r <= 0)
		return r;
	sc_xchg(&at.bk->off[at.i], SC_SLOT_TOMB);
	SC_CRASH_POINT();
	rm->p->index_live--;
	rm->p->index_tombs++;
	if (expired) {
		/* Invisible already: it goes whatever pred says, and is not counted as removed. */
		sc_record_left(c, rm->p, hit->rec_off, SC_LEFT_EXPIRED);
		rm->expired++;
	} else {
		rm->count++;
		rm->fn(c, rm->p, hit->rec_off, rm->ctx);
	}
	return rm->unique;
}

static int tombstone(sc_cache *c, struct slot_ref at, const struct sc_hit *hit, void *ctx)
{
	return remove_if(c, at, hit, ctx);
}

int sc_index_remove(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_rec_pred pred, void *pctx,
		    sc_removed_fn fn, void *ctx)
{
	struct slot_ref at, free_at;
	struct index_view v;
	struct removal rm = { p, pred, pctx, fn, ctx, sc_insert_mode(c, p, key) == SC_INSERT_REPLACE, 0, 0 };
	int r = view_index(c, p->index_off, &v);

	if (r <= 0)
		return r;
	r = walk_key(c, &v, key, tombstone, &rm, &at, &free_at);
	if (r < 0)
		return r;
	if (rm.count || rm.expired)
		shrink_if_sparse(c, p, &v);
	return rm.count;
}

int sc_index_remove_step(sc_cache *c, struct sc_part *p, struct sc_index_cursor *cur, sc_rec_pred pred,
			 void *pctx, sc_removed_fn fn, void *ctx)
{
	struct index_view v;
	struct removal rm = { p, pred, pctx, fn, ctx, false, 0, 0 };
	uint64_t ioff = p->index_off;
	struct sc_bucket *bk;
	int r = view_index(c, ioff, &v);

	if (r <= 0) {
		cur->done = true;
		return r;
	}
	/*
	 * Rebuilt since the last step: bucket numbers mean nothing now, start
	 * over in the new index. A cursor kept in shared memory may name an
	 * index since freed and another made at the same place: its bucket is
	 * checked against this one's size.
	 */
	if (ioff != cur->ioff || cur->bucket > v.mask) {
		cur->ioff = ioff;
		cur->bucket = 0;
	}
	bk = &v.buckets[cur->bucket];
	for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
		uint32_t o = bk->off[i];
		struct sc_hit hit;

		if (o <= SC_SLOT_TOMB)
			continue;
		hit.rec_off = sc_from_units(o);
		if (!sc_block_check(c, hit.rec_off))
			return corrupt_record(c, hit.rec_off);
		hit.rec_len = sc_blk_at(c, hit.rec_off)->len;
		r = remove_if(c, (struct slot_ref){ bk, i }, &hit, &rm);
		if (r < 0)
			return r;
	}
	cur->done = ++cur->bucket > v.mask;
	if (rm.count || rm.expired)
		shrink_if_sparse(c, p, &v);
	return rm.count;
}

int64_t sc_index_clear(sc_cache *c, struct sc_part *p, sc_removed_fn fn, void *ctx)
{
	struct index_view v;
	int64_t n = 0;
	int r = view_index(c, p->index_off, &v);

	if (r <= 0)
		return r;
	sc_xchg(&p->index_off, 0);
	sc_index_set_counts(p, 0, 0);
	for (uint64_t b = 0; b <= v.mask; b++) {
		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint64_t off = sc_from_units(v.buckets[b].off[i]);

			if (v.buckets[b].off[i] > SC_SLOT_TOMB && sc_block_check(c, off)) {
				if (fn)
					fn(c, p, off, ctx);
				sc_limbo_retire(c, p, off);
				n++;
			}
		}
	}
	retire_index(c, p, &v);
	return n;
}

void sc_index_hint_init(sc_cache *c, struct sc_part *p, struct sc_index_hint *h)
{
	struct index_view v;

	h->buckets = NULL;
	if (sc_part_is_ordered(c, p))
		return;
	if (view_index(c, p->index_off, &v) == 1) {
		h->buckets = v.buckets;
		h->mask = v.mask;
	}
}

void sc_index_hint_record(sc_cache *c, const struct sc_index_hint *h, const struct sc_route *key)
{
	uint32_t tag = sc_tag(key->key_hash);
	const struct sc_bucket *bk;

	if (!h->buckets)
		return;
	bk = &h->buckets[tag & h->mask];
	for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
		if (bk->hash[i] == tag) {
			uint64_t off = sc_from_units(bk->off[i]);

			/* Only inside the mapping: the prefetch cannot fault, but the address must not leave it. */
			if (off > SC_UNIT && off + 64 <= c->seg.map_len)
				__builtin_prefetch(c->seg.base + off);
			return;
		}
	}
}

uint64_t sc_index_capacity(sc_cache *c, struct sc_part *p)
{
	struct index_view v;

	return view_index(c, sc_consume(&p->index_off), &v) == 1 ? (v.mask + 1) * SC_BUCKET_SLOTS : 0;
}
int sc_index_walk_slots(sc_cache *c, struct sc_part *p, struct sc_index_census *out, sc_slot_fn fn, void *ctx)
{
	struct index_view v;
	int r = view_index(c, p->index_off, &v);

	memset(out, 0, sizeof(*out));
	if (r <= 0)
		return r;
	out->block_off = index_block(c, &v);
	out->live_counted = p->index_live;
	out->tombs_counted = p->index_tombs;
	out->slots = (v.mask + 1) * SC_BUCKET_SLOTS;
	for (uint64_t b = 0; b <= v.mask; b++) {
		for (uint32_t i = 0; i < SC_BUCKET_SLOTS; i++) {
			uint32_t o = v.buckets[b].off[i], tag = v.buckets[b].hash[i];

			if (o == SC_SLOT_TOMB)
				out->tombs++;
			if (o <= SC_SLOT_TOMB)
				continue;
			out->live++;
			r = fn(c, p, b, tag, o, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

void sc_index_set_counts(struct sc_part *p, uint64_t live, uint64_t tombs)
{
	p->index_live = live;
	p->index_tombs = tombs;
}

/*
 * ETS semantics: a set replaces, a bag ignores an identical tuple, a
 * duplicate_bag keeps all. A structure partition holds one entry per key,
 * but for KeyValue entries, which follow the table type.
 */
enum sc_insert sc_insert_mode(const sc_cache *c, const struct sc_part *p, const struct sc_route *key)
{
	if (sc_part_is_structure(c, p) && sc_entry_kind_is_unique(c, sc_route_entry_kind(key)))
		return SC_INSERT_REPLACE;
	switch (c->seg.cfg.table_type) {
	case SC_BAG:
		return SC_INSERT_DISTINCT;
	case SC_DUPLICATE_BAG:
		return SC_INSERT_ALWAYS;
	default:
		return SC_INSERT_REPLACE;
	}
}
