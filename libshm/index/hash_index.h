/* hash_index.h — a partition's hash index: lock-free probes for readers, updates under the lock. */
#ifndef SC_HASH_INDEX_H
#define SC_HASH_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "record/tuple_codec.h"
#include "shm/cache.h"

/*
 * Open addressing over cache-line buckets of eight (tag, offset) slots,
 * probed bucket by bucket from hash & mask. The tag is the low 32 bits of
 * the key's hash, the offset the record's position in 16-byte units; a
 * probe compares tags in one line and touches a record only on a tag match.
 *
 * Readers never lock: a slot changes by single aligned stores (an offset
 * replaced, or turned into a tombstone, never back to empty), and records
 * are immutable once published. A probe stops at the first empty slot,
 * since an insert always takes the first free slot on its probe path.
 * Growth builds a new index beside the old one and publishes it with one
 * store; readers already in the old one finish there, and the old one is
 * retired like any record.
 */

/* A record a probe found. version is filled only by those who sort hits (index/hit_list.h). */
struct sc_hit {
	uint64_t rec_off;
	uint32_t rec_len;
	uint64_t version;
};

/*
 * Find the record of the routed key in p. Reader side: call inside a read
 * section. 1 found, 0 absent, -EUCLEAN if the index or a record on the
 * probe path is corrupt.
 */
int sc_index_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, struct sc_hit *hit);

/* What a reader does with each record of a key: 0 goes on, nonzero stops (negative: an error). */
typedef int (*sc_hit_fn)(sc_cache *c, const struct sc_hit *hit, void *ctx);

/*
 * Reader side, inside a read section: call fn on every record of the key
 * (bags hold several), in probe order. Returns how many were visited, fn's
 * negative result, or -EUCLEAN.
 */
int sc_index_find_each(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_hit_fn fn, void *ctx);

/*
 * Reader side, inside a read section: call fn on every record of p, in
 * index order. Records never move within an index and a read section keeps
 * the index it started in alive through a resize, so each record present
 * for the whole walk is visited exactly once. Returns how many were
 * visited, fn's negative result, or -EUCLEAN.
 */
int sc_index_for_each(sc_cache *c, struct sc_part *p, sc_hit_fn fn, void *ctx);

/* How an insert treats the records already there under its key. */
enum sc_insert {
	SC_INSERT_REPLACE,  /* set: the key's record is replaced (*old_off) */
	SC_INSERT_DISTINCT, /* bag: nothing happens if an identical tuple is there */
	SC_INSERT_ALWAYS,   /* duplicate_bag: added whatever is there */
};

/*
 * How p's index takes a record of key when it holds the key already: the
 * table type's rules, and in a structure partition the entry kind's
 * (record/entry_key.h).
 */
enum sc_insert sc_insert_mode(const sc_cache *c, const struct sc_part *p, const struct sc_route *key);

/*
 * Writer side, under the partition lock: make the index hold the record at
 * rec_off under key. Returns 1 when it went in (for a replace, *old_off is
 * the record it replaced, 0 if none), 0 when an identical tuple was there
 * already (SC_INSERT_DISTINCT), or a negative errno. May grow the index.
 */
int sc_index_insert(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
		    enum sc_insert how, uint64_t *old_off);

/*
 * Writer side: make room for n more entries now, so that n inserts by
 * sc_index_insert_reserved() need no memory. 0 or a negative errno.
 */
int sc_index_reserve(sc_cache *c, struct sc_part *p, uint64_t n);

/* sc_index_insert() into the room sc_index_reserve() made: it never grows the index. */
int sc_index_insert_reserved(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
			     enum sc_insert how, uint64_t *old_off);

/* What a walk of an index's slots found, and what the index's own counters say. */
struct sc_index_census {
	uint64_t block_off; /* the index's block, 0 if its header names none truthfully */
	uint64_t slots;
	uint64_t live;
	uint64_t tombs;
	uint64_t live_counted;
	uint64_t tombs_counted;
};

/* Each slot holding a record: its bucket, tag and record offset (units). */
typedef int (*sc_slot_fn)(sc_cache *c, struct sc_part *p, uint64_t bucket, uint32_t tag, uint32_t units,
			  void *ctx);

/*
 * Writer side (the checker and the repair): walk every slot of p's index.
 * 0 (also when there is no index: out is zeroed), fn's nonzero result, or
 * -EUCLEAN if the index itself is corrupt.
 */
int sc_index_walk_slots(sc_cache *c, struct sc_part *p, struct sc_index_census *out, sc_slot_fn fn,
			void *ctx);

/* Writer side: set the index's counters, kept in its partition (after a repair counted them). */
void sc_index_set_counts(struct sc_part *p, uint64_t live, uint64_t tombs);

/* Called on each record a remove takes out of the index (to retire it and count it). */
typedef void (*sc_removed_fn)(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *ctx);

/*
 * Writer side: put the record at new_off in the slot of key's record at
 * old_off (a copy of it: the same key). 1 swapped, 0 if old_off is not
 * there, or -EUCLEAN. The caller retires old_off.
 */
int sc_index_swap(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t old_off,
		  uint64_t new_off);

/*
 * Writer side: take the very record at rec_off out of key's slots (a
 * tombstone in its place). 1, 0 if it is not there, or -EUCLEAN. Nothing
 * is retired or counted: the caller does that, or a census.
 */
int sc_index_unpublish(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off);

/* Which records a remove takes: 1 takes it, 0 leaves it, negative stops with that error. */
typedef int (*sc_rec_pred)(sc_cache *c, const struct sc_hit *hit, void *ctx);

/*
 * Writer side: remove the records of key that pred selects (all, if pred is
 * NULL), handing each to fn. Returns how many went. Expired records of the
 * key go too, whatever pred says, counted as expired, neither handed to fn
 * nor counted in the result (so do sc_index_remove_step()'s).
 */
int sc_index_remove(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_rec_pred pred, void *pctx,
		    sc_removed_fn fn, void *ctx);

/* Where a bucket-by-bucket walk over a partition's index stands. Start zeroed. */
struct sc_index_cursor {
	uint64_t ioff;	 /* the index it walks */
	uint64_t bucket; /* the next bucket */
	bool done;
};

/*
 * Writer side, one bucket at a time so that the lock is held for one
 * bucket's work: remove the records of the cursor's bucket that pred
 * selects, and move the cursor on (done after the last bucket). If the index
 * was rebuilt since the last step the walk starts over in the new one; what
 * was removed is gone, so nothing is removed twice. Returns how many went.
 */
int sc_index_remove_step(sc_cache *c, struct sc_part *p, struct sc_index_cursor *cur, sc_rec_pred pred,
			 void *pctx, sc_removed_fn fn, void *ctx);

/*
 * Writer side: unpublish the whole index (the partition reads as empty),
 * retire it and every record in it, each shown to fn (when not NULL) just
 * before: a record may own blocks no index holds. Returns the number of
 * records retired.
 */
int64_t sc_index_clear(sc_cache *c, struct sc_part *p, sc_removed_fn fn, void *ctx);

/*
 * Hints for a batch's writer, taken once per run of the batch in one
 * partition: for the items ahead of the one being written, ask for the
 * bucket a key's probe starts at, and later (once that bucket has had time
 * to arrive) for the record its first tag match names, so that the insert
 * finds both in cache. Prefetches only: an index rebuilt meanwhile makes
 * them useless, never wrong, and nothing is checked beyond keeping the
 * addresses inside the mapping.
 */
struct sc_index_hint {
	const struct sc_bucket *buckets; /* NULL: no hash index to hint at */
	uint64_t mask;
};

void sc_index_hint_init(sc_cache *c, struct sc_part *p, struct sc_index_hint *h);

static inline void sc_index_hint_bucket(const struct sc_index_hint *h, const struct sc_route *key)
{
	if (h->buckets)
		__builtin_prefetch(&h->buckets[sc_tag(key->key_hash) & h->mask], 1);
}

void sc_index_hint_record(sc_cache *c, const struct sc_index_hint *h, const struct sc_route *key);

/* How far ahead of the item being written a batch asks for a bucket, then for a record. */
#define SC_HINT_BUCKET_AHEAD 8u
#define SC_HINT_RECORD_AHEAD 4u

/*
 * Both hints for a batch's run order[at .. end), being at at: the routes
 * of item i lie at first + i * stride bytes.
 */
static inline void sc_index_hint_ahead(sc_cache *c, const struct sc_index_hint *h,
				       const struct sc_route *first, size_t stride, const size_t *order,
				       size_t at, size_t end)
{
	const uint8_t *base = (const uint8_t *)first;

	if (at + SC_HINT_BUCKET_AHEAD < end)
		sc_index_hint_bucket(
			h, (const struct sc_route *)(base + order[at + SC_HINT_BUCKET_AHEAD] * stride));
	if (at + SC_HINT_RECORD_AHEAD < end)
		sc_index_hint_record(
			c, h, (const struct sc_route *)(base + order[at + SC_HINT_RECORD_AHEAD] * stride));
}

/* Slots of the partition's current index (0 before the first insert). */
uint64_t sc_index_capacity(sc_cache *c, struct sc_part *p);

#endif /* SC_HASH_INDEX_H */
