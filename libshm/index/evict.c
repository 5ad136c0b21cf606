/* evict.c — making room at the memory limit: CLOCK eviction over a partition's records. */
#include "index/evict.h"

#include <string.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/record_accounts.h"
#include "record/entry_key.h"
#include "record/term_order.h"

/* What one round evicts before it lets readers go and tries the write again. */
#define EVICT_ROUND_BYTES (32u * 1024u)

/*
 * Rounds one write may take (2 MiB): memory carved for one size class
 * serves only it and smaller ones, so evicting small records may never make
 * room for a larger one, and the write is refused rather than empty the
 * partition trying.
 */
#define EVICT_MAX_ROUNDS 64u

/*
 * Tuples, KeyValue pairs and structs are cached data; queue and stack
 * items and headers and Struct types are not, and never go.
 */
static bool evictable(sc_cache *c, struct sc_part *p, const struct sc_hit *hit)
{
	uint8_t kind;

	if (!sc_part_is_structure(c, p))
		return true;
	kind = sc_rec_entry_kind(c->seg.base + hit->rec_off, hit->rec_len);
	return kind == SC_ENTRY_KV || kind == SC_ENTRY_STRUCT;
}

/* The hand at a record: a second chance if it was looked up since the last pass, else out. */
static int clock_takes(sc_cache *c, const struct sc_hit *hit, void *p)
{
	struct sc_blk *rec = sc_blk_at(c, hit->rec_off);

	if (!evictable(c, p, hit))
		return 0;
	if (sc_read(&rec->flags) & SC_BLK_REFERENCED) {
		__atomic_fetch_and(&rec->flags, (uint8_t)~SC_BLK_REFERENCED, __ATOMIC_RELAXED);
		return 0;
	}
	return 1;
}

static void evicted(sc_cache *c, struct sc_part *p, uint64_t off, void *unused)
{
	(void)unused;
	sc_record_left(c, p, off, SC_LEFT_EVICTED);
}

/*
 * What a round has freed so far: the bytes of records gone from p since it
 * began, evicted or found expired on the way (those go whatever the hand
 * says, and count as expirations).
 */
static uint64_t freed_since(const struct sc_part *p, uint64_t bytes_before)
{
	return bytes_before > p->bytes ? bytes_before - p->bytes : 0;
}

/* A hash index: the hand moves bucket by bucket, and goes round at most twice. */
static int evict_hashed(sc_cache *c, struct sc_part *p, uint64_t want)
{
	struct sc_index_cursor cur = { p->hand_ioff, p->hand_bucket, false };
	uint64_t steps = 2 * (sc_index_capacity(c, p) / SC_BUCKET_SLOTS) + 2, before = p->bytes;
	int r = 0;

	for (; freed_since(p, before) < want && steps > 0 && r >= 0; steps--) {
		r = sc_index_remove_step(c, p, &cur, clock_takes, p, evicted, NULL);
		if (cur.done)
			cur = (struct sc_index_cursor){ cur.ioff, 0, false };
	}
	p->hand_ioff = cur.ioff;
	p->hand_bucket = cur.bucket;
	return r < 0 ? r : 0;
}

/*
 * An ordered_set's tree: the hand is the key prefix it stopped at, and
 * walks the tree in key order from there, going round at most twice. The
 * walk reads the tree it started in, which evictions on the way replace
 * copy-on-write but leave intact until reclaimed, after this.
 */
static int evict_ordered(sc_cache *c, struct sc_part *p, uint64_t want)
{
	uint64_t left = 2 * p->records + 2, before = p->bytes;
	struct sc_bt_iter it;
	int r = sc_bt_seek_prefix(c, p, p->hand_prefix, &it);

	while (r >= 0 && freed_since(p, before) < want && left > 0) {
		struct sc_hit hit;
		const uint8_t *prefix;

		if (r == 0) { /* past the end: round again */
			r = sc_bt_seek_prefix(c, p, (const uint8_t[SC_PREFIX_LEN]){ 0 }, &it);
			if (r <= 0)
				break;
		}
		r = sc_bt_current(&it, &hit, NULL);
		if (r)
			break;
		left--;
		r = clock_takes(c, &hit, p);
		if (r > 0)
			r = sc_bt_remove_record(c, p, &hit, evicted, NULL);
		if (r >= 0)
			r = sc_bt_next(&it);
		/* Where the next round starts: the record after this one, which has had no look yet. */
		if (r == 1 && sc_bt_current(&it, &hit, &prefix) == 0)
			memcpy(p->hand_prefix, prefix, SC_PREFIX_LEN);
		else if (r == 0)
			memset(p->hand_prefix, 0, SC_PREFIX_LEN);
	}
	/* Out of room for the tree's copied path: what went so far is this round's. */
	return r < 0 && !(r == -ENOSPC && freed_since(p, before) > 0) ? r : 0;
}

/* One round: 0 with *freed set, or a negative errno. */
static int evict(sc_cache *c, struct sc_part *p, uint64_t want, uint64_t *freed)
{
	uint64_t before = p->bytes;
	int r = sc_part_is_ordered(c, p) ? evict_ordered(c, p, want) : evict_hashed(c, p, want);

	*freed = freed_since(p, before);
	return r;
}

int sc_retry_with_room(sc_cache *c, struct sc_part *p, sc_write_fn fn, const void *ctx)
{
	uint32_t rounds = 0;
	int err = -ENOSPC;

	if (!sc_limbo_empty(p) && c->seg.cfg.eviction == SC_EVICTION_OFF) {
		sc_limbo_reclaim_now(c, p);
		err = fn(c, p, ctx);
	} else if (!sc_limbo_empty(p)) {
		/* Before evicting anything: what readers still hold may do, and a stuck one is named now. */
		err = sc_limbo_drain(c, p);
		if (err)
			return err;
		err = fn(c, p, ctx);
	}
	while (err == -ENOSPC && c->seg.cfg.eviction != SC_EVICTION_OFF) {
		uint64_t got;
		int r;

		if (++rounds > EVICT_MAX_ROUNDS)
			return sc_fail(
				-ENOSPC,
				"cache \"%s\": memory_limit reached, and evicting %u KiB from partition "
				"%u did not make room (records of other sizes hold its memory)",
				c->name, EVICT_MAX_ROUNDS * EVICT_ROUND_BYTES / 1024, sc_part_index(c, p));
		r = evict(c, p, EVICT_ROUND_BYTES, &got);

		/* Evicting from a tree needs room for a copied path: what limbo holds gives it. */
		if (r == -ENOSPC && !sc_limbo_empty(p)) {
			r = sc_limbo_drain(c, p);
			if (r == 0)
				continue;
		}
		if (r == 0 && got == 0)
			return sc_fail(-ENOSPC,
				       "cache \"%s\": memory_limit reached, and partition %u has nothing "
				       "left to evict",
				       c->name, sc_part_index(c, p));
		if (r == 0)
			r = sc_limbo_drain(c, p);
		if (r)
			return r;
		err = fn(c, p, ctx);
	}
	return err;
}
