/* btree.h — an ordered_set partition's index: a copy-on-write B+tree with lock-free readers. */
#ifndef SC_BTREE_H
#define SC_BTREE_H

#include <stdbool.h>
#include <stdint.h>
#include "index/hash_index.h"
#include "record/tuple_codec.h"
#include "shm/cache.h"
#include "shm/offsets.h"

/*
 * Nodes are immutable once published (shm/layout.h). A write copies the path
 * from the root to the leaf it changes, splitting or merging nodes on the
 * way, and publishes the new root with one exchange of the partition's
 * index offset; the nodes it replaced are retired like records. A reader
 * descends from the root it loaded through nodes no writer changes, so a
 * walk in a read section sees one snapshot of the partition: every record
 * once, in key order, however the tree changes meanwhile.
 *
 * Internal entries hold their child's smallest key, with its record. A
 * write that retires a subtree's smallest record is on that subtree's path
 * and rewrites those entries, so internal nodes only ever refer to records
 * that are in the tree.
 */

/*
 * Reader side, inside a read section: the record with key's key (term
 * equality), marked as looked up. 1, 0 (none, or expired) or -EUCLEAN.
 */
int sc_bt_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, struct sc_hit *hit);

/* A walk over one partition's records in key order, in one snapshot. */
struct sc_bt_iter {
	sc_cache *c;
	bool with_expired; /* visit expired records too (eviction's walk) */
	uint32_t depth;	   /* levels on the stack; 0 once the walk is over */
	struct {
		const struct sc_bt_node *n;
		uint32_t count;
		uint32_t height;
		uint32_t i;
	} lv[SC_BT_MAX_HEIGHT + 1];
};

/*
 * Reader side: start at the smallest key. 1 positioned, 0 empty, -EUCLEAN.
 * The walk passes over expired records.
 */
int sc_bt_first(sc_cache *c, struct sc_part *p, struct sc_bt_iter *it);

/*
 * Writer side: start at the first record whose key prefix is not below
 * prefix, expired records included from there on. 1, 0 (none), -EUCLEAN.
 */
int sc_bt_seek_prefix(sc_cache *c, struct sc_part *p, const uint8_t prefix[16], struct sc_bt_iter *it);

/* The current record and its key's prefix. -EUCLEAN if the record is not one. */
int sc_bt_current(const struct sc_bt_iter *it, struct sc_hit *hit, const uint8_t **prefix);

/* Move on: 1 positioned, 0 at the end, -EUCLEAN. */
int sc_bt_next(struct sc_bt_iter *it);

/* Reader side: call fn on every record of p in key order (as sc_index_for_each()). */
int sc_bt_for_each(sc_cache *c, struct sc_part *p, sc_hit_fn fn, void *ctx);

/* Order two records by key, their prefixes (if given) settling most comparisons. -EUCLEAN on a bad record. */
int sc_bt_cmp_records(sc_cache *c, const struct sc_hit *a, const uint8_t *pa, const struct sc_hit *b,
		      const uint8_t *pb, int *cmp);

/*
 * Writer side, under the partition lock: hold the record at rec_off under
 * key, replacing the record of an equal key (*old_off, else 0). 1, or a
 * negative errno (nothing changed).
 */
int sc_bt_insert(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
		 uint64_t *old_off);

/*
 * A batch's inserts into a tree of its own, made beside the partition's
 * by the same copy-on-write steps, that readers see only when it is
 * published, all at once. Under the partition's lock throughout, with no
 * other write to the partition in between.
 */
struct sc_bt_stage {
	uint64_t root;		 /* the staged tree */
	struct sc_offsets fresh; /* every node built for it */
	struct sc_offsets stale; /* every node it stopped using: the partition's, and fresh ones */
};

/* Start a stage (zeroed, or used before) from the partition's tree. */
void sc_bt_stage_init(struct sc_part *p, struct sc_bt_stage *s);

/* sc_bt_insert() into the staged tree: 0, or a negative errno and the stage is as it was. */
int sc_bt_stage_insert(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s, const struct sc_route *key,
		       uint64_t rec_off, uint64_t *old_off);

/* Give every node built back and start over from the partition's tree. */
void sc_bt_stage_abandon(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s);

/* Publish the staged tree with one exchange, retire what the partition's tree loses, count nodes. */
void sc_bt_stage_publish(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s);

void sc_bt_stage_free(struct sc_bt_stage *s);

/*
 * Writer side: remove key's record if pred (or none) selects it, handing it
 * to fn. 1, 0 or -errno. An expired record goes whatever pred says, counted
 * as expired, not handed to fn, and 0 is returned: it was no longer there.
 */
int sc_bt_remove(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_rec_pred pred, void *pctx,
		 sc_removed_fn fn, void *ctx);

/*
 * Writer side: remove the very record hit names (a walk found it), routed by
 * its own key, as sc_bt_remove() does: 1, 0 (the tree holds another record
 * under that key, or it had expired) or -errno.
 */
int sc_bt_remove_record(sc_cache *c, struct sc_part *p, const struct sc_hit *hit, sc_removed_fn fn,
			void *ctx);

/* Writer side: unpublish the tree, retire it and every record in it. The number of records. */
int64_t sc_bt_clear(sc_cache *c, struct sc_part *p);

/* Entries the partition's nodes have room for. */
uint64_t sc_bt_capacity(const struct sc_part *p);

/*
 * Writer side (the checker and the repair): every node of p's tree, depth
 * first, each before its children (its entries, their number, its height),
 * and every leaf entry. 0, a callback's nonzero result, or -EUCLEAN at a
 * corrupt node.
 */
typedef int (*sc_bt_node_fn)(sc_cache *c, struct sc_part *p, const struct sc_bt_entry *e, uint64_t boff,
			     uint32_t count, uint32_t height, void *ctx);
typedef int (*sc_bt_rec_fn)(sc_cache *c, struct sc_part *p, const struct sc_bt_entry *e, void *ctx);
int sc_bt_walk(sc_cache *c, struct sc_part *p, sc_bt_node_fn node_fn, sc_bt_rec_fn rec_fn, void *ctx);

#endif /* SC_BTREE_H */
