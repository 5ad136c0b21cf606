/* btree.c — an ordered_set partition's index: a copy-on-write B+tree with lock-free readers. */
#include "index/btree.h"

#include <string.h>

#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/record_accounts.h"
#include "record/record_deadline.h"
#include "record/reference_bit.h"
#include "record/term_order.h"
#include "shm/crash_point.h"

/* A node left with fewer entries is merged with a sibling (and split again if the two overflow). */
#define MIN_FILL (SC_BT_FANOUT / 4)

/* A write replaces at most two nodes a level (a node and the sibling it merges with) and builds three at the top. */
#define MAX_TOUCHED (2 * (SC_BT_MAX_HEIGHT + 3))

#define ENTRY_SIZE sizeof(struct sc_bt_entry)

/* A node checked once: count and height as they were checked are the ones used. */
struct node_view {
	const struct sc_bt_node *n;
	uint64_t boff;
	uint32_t count;
	uint32_t height;
};

static int corrupt_node(sc_cache *c, uint64_t boff)
{
	sc_fail(-EUCLEAN, "cache \"%s\": ordered index node at %llu is corrupt", c->name,
		(unsigned long long)boff);
	return -EUCLEAN;
}

static int corrupt_record(sc_cache *c, uint64_t off)
{
	sc_fail(-EUCLEAN, "cache \"%s\": ordered index names a malformed record at %llu", c->name,
		(unsigned long long)off);
	return -EUCLEAN;
}

/* The node in block boff, of height expect (or any, if expect is negative: the root). */
static int node_at(sc_cache *c, uint64_t boff, int expect, struct node_view *v)
{
	const struct sc_blk *b;

	if (!sc_block_check(c, boff))
		return corrupt_node(c, boff);
	b = sc_blk_at(c, boff);
	if ((b->flags & SC_BLK_KIND_MASK) != SC_BLK_BTREE || b->len < sizeof(*b) + sizeof(struct sc_bt_node))
		return corrupt_node(c, boff);
	v->n = (const struct sc_bt_node *)(b + 1);
	v->boff = boff;
	v->count = sc_read(&v->n->count);
	v->height = sc_read(&v->n->height);
	if (sc_read(&v->n->magic) != SC_BT_MAGIC || v->count == 0 || v->count > SC_BT_FANOUT ||
	    v->height > SC_BT_MAX_HEIGHT || (expect >= 0 && v->height != (uint32_t)expect))
		return corrupt_node(c, boff);
	return 0;
}

/* The record in block `units`, checked to lie in the heap. */
static int record_hit(sc_cache *c, uint32_t units, struct sc_hit *hit)
{
	uint64_t off = sc_from_units(units);

	if (!sc_seg_span_ok(&c->seg, off, sizeof(struct sc_blk)))
		return corrupt_record(c, off);
	hit->rec_off = off;
	hit->rec_len = sc_read(&sc_blk_at(c, off)->len);
	if (hit->rec_len < sizeof(struct sc_blk) || !sc_seg_span_ok(&c->seg, off, hit->rec_len))
		return corrupt_record(c, off);
	return 0;
}

/* A found key's record: 1, 0 if it has expired, -EUCLEAN. */
static int leaf_hit(sc_cache *c, uint32_t units, struct sc_hit *hit)
{
	struct sc_blk *rec;

	if (record_hit(c, units, hit))
		return -EUCLEAN;
	rec = sc_blk_at(c, hit->rec_off);
	if (sc_rec_expired(rec, hit->rec_len))
		return 0;
	sc_rec_mark_referenced(c, rec);
	return 1;
}

static int hit_key(sc_cache *c, const struct sc_hit *hit, sc_field *key)
{
	if (sc_rec_field(c->seg.base + hit->rec_off, hit->rec_len, c->seg.cfg.key_pos, key))
		return corrupt_record(c, hit->rec_off);
	return 0;
}

/* key against an entry's key: the prefixes first, the records' keys only when they tie. */
static int cmp_entry(sc_cache *c, const struct sc_route *key, const struct sc_bt_entry *e, int *cmp)
{
	struct sc_hit hit;
	sc_field f;
	int err;

	*cmp = memcmp(key->prefix, e->prefix, SC_PREFIX_LEN);
	if (*cmp)
		return 0;
	err = record_hit(c, e->rec, &hit);
	if (!err)
		err = hit_key(c, &hit, &f);
	if (!err)
		*cmp = sc_term_cmp(key->key, &f);
	return err;
}

/* The first entry of v not below key (v->count if none), and whether it equals key. */
static int lower_bound(sc_cache *c, const struct node_view *v, const struct sc_route *key, uint32_t *pos,
		       bool *exact)
{
	uint32_t lo = 0, hi = v->count;
	int64_t equal_at = -1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp, err = cmp_entry(c, key, &v->n->e[mid], &cmp);

		if (err)
			return err;
		if (cmp > 0) {
			lo = mid + 1;
		} else {
			hi = mid;
			if (cmp == 0)
				equal_at = mid;
		}
	}
	*pos = lo;
	*exact = equal_at == lo;
	return 0;
}

int sc_bt_find(sc_cache *c, struct sc_part *p, const struct sc_route *key, struct sc_hit *hit)
{
	uint64_t boff = sc_consume(&p->index_off);
	int height = -1;

	for (uint32_t depth = 0; boff; depth++) {
		struct node_view v;
		uint32_t pos;
		bool exact;
		int err;

		if (depth > SC_BT_MAX_HEIGHT)
			return corrupt_node(c, boff);
		err = node_at(c, boff, height, &v);
		if (!err)
			err = lower_bound(c, &v, key, &pos, &exact);
		if (err)
			return err;
		if (v.height == 0)
			return exact ? leaf_hit(c, v.n->e[pos].rec, hit) : 0;
		/* Below the smallest key in the node: below every key under it. */
		if (!exact && pos == 0)
			return 0;
		boff = sc_from_units(v.n->e[exact ? pos : pos - 1].child);
		height = (int)v.height - 1;
	}
	return 0;
}

/* Push boff and its leftmost descendants down to a leaf. */
static int push_leftmost(struct sc_bt_iter *it, uint64_t boff, int height)
{
	for (;;) {
		struct node_view v;
		int err;

		if (it->depth > SC_BT_MAX_HEIGHT)
			return corrupt_node(it->c, boff);
		err = node_at(it->c, boff, height, &v);
		if (err)
			return err;
		it->lv[it->depth].n = v.n;
		it->lv[it->depth].count = v.count;
		it->lv[it->depth].height = v.height;
		it->lv[it->depth].i = 0;
		it->depth++;
		if (v.height == 0)
			return 1;
		boff = sc_from_units(v.n->e[0].child);
		height = (int)v.height - 1;
	}
}

/* One entry on, expired or not: 1 positioned, 0 at the end, -EUCLEAN. */
static int step(struct sc_bt_iter *it)
{
	while (it->depth) {
		__typeof__(it->lv[0]) *top = &it->lv[it->depth - 1];

		if (++top->i < top->count) {
			if (top->height == 0)
				return 1;
			return push_leftmost(it, sc_from_units(top->n->e[top->i].child),
					     (int)top->height - 1);
		}
		it->depth--;
	}
	return 0;
}

/* Past expired records, unless the walk wants them all. */
static int settle(struct sc_bt_iter *it, int r)
{
	struct sc_hit hit;

	while (r == 1 && !it->with_expired) {
		if (sc_bt_current(it, &hit, NULL))
			return -EUCLEAN;
		if (!sc_rec_expired(sc_blk_at(it->c, hit.rec_off), hit.rec_len))
			return 1;
		r = step(it);
	}
	return r;
}

int sc_bt_first(sc_cache *c, struct sc_part *p, struct sc_bt_iter *it)
{
	uint64_t root = sc_consume(&p->index_off);

	it->c = c;
	it->depth = 0;
	it->with_expired = false;
	return root ? settle(it, push_leftmost(it, root, -1)) : 0;
}

int sc_bt_seek_prefix(sc_cache *c, struct sc_part *p, const uint8_t prefix[16], struct sc_bt_iter *it)
{
	uint64_t boff = sc_consume(&p->index_off);
	int height = -1;

	it->c = c;
	it->depth = 0;
	it->with_expired = true;
	while (boff) {
		struct node_view v;
		uint32_t i = 0;
		int err;

		if (it->depth > SC_BT_MAX_HEIGHT)
			return corrupt_node(c, boff);
		err = node_at(c, boff, height, &v);
		if (err)
			return err;
		if (v.height == 0) {
			while (i < v.count && memcmp(v.n->e[i].prefix, prefix, SC_PREFIX_LEN) < 0)
				i++;
		} else {
			while (i + 1 < v.count && memcmp(v.n->e[i + 1].prefix, prefix, SC_PREFIX_LEN) <= 0)
				i++;
		}
		it->lv[it->depth].n = v.n;
		it->lv[it->depth].count = v.count;
		it->lv[it->depth].height = v.height;
		it->lv[it->depth].i = i;
		it->depth++;
		if (v.height == 0) {
			if (i < v.count)
				return 1;
			it->lv[it->depth - 1].i = v.count - 1;
			return step(it);
		}
		boff = sc_from_units(v.n->e[i].child);
		height = (int)v.height - 1;
	}
	return 0;
}

int sc_bt_current(const struct sc_bt_iter *it, struct sc_hit *hit, const uint8_t **prefix)
{
	const struct sc_bt_entry *e = &it->lv[it->depth - 1].n->e[it->lv[it->depth - 1].i];

	if (prefix)
		*prefix = e->prefix;
	return record_hit(it->c, e->rec, hit);
}

int sc_bt_next(struct sc_bt_iter *it)
{
	return settle(it, step(it));
}

int sc_bt_for_each(sc_cache *c, struct sc_part *p, sc_hit_fn fn, void *ctx)
{
	struct sc_bt_iter it;
	int visited = 0;
	int r = sc_bt_first(c, p, &it);

	while (r == 1) {
		struct sc_hit hit;

		r = sc_bt_current(&it, &hit, NULL);
		if (r)
			return r;
		visited++;
		r = fn(c, &hit, ctx);
		if (r)
			return r < 0 ? r : visited;
		r = sc_bt_next(&it);
	}
	return r < 0 ? r : visited;
}

int sc_bt_cmp_records(sc_cache *c, const struct sc_hit *a, const uint8_t *pa, const struct sc_hit *b,
		      const uint8_t *pb, int *cmp)
{
	sc_field ka, kb;
	int err;

	*cmp = pa && pb ? memcmp(pa, pb, SC_PREFIX_LEN) : 0;
	if (*cmp)
		return 0;
	err = hit_key(c, a, &ka);
	if (!err)
		err = hit_key(c, b, &kb);
	if (!err)
		*cmp = sc_term_cmp(&ka, &kb);
	return err;
}

/* --- Writers: copy the path, build new nodes, publish a new root ---------- */

/* The entries of one node being rewritten, before they are built into one or two nodes. */
struct carry {
	uint32_t n;
	uint32_t height;
	struct sc_bt_entry e[2 * SC_BT_FANOUT + 1];
};

/* The nodes from the root down to a key's leaf, with the entry taken at each. */
struct bt_path {
	uint32_t depth; /* lv[0] is the root, lv[depth - 1] the leaf */
	struct {
		struct node_view v;
		uint32_t idx; /* internal: the child followed; leaf: the key's position */
	} lv[SC_BT_MAX_HEIGHT + 1];
};

/*
 * A write: nodes built (freed if the write fails) and nodes replaced
 * (retired once it succeeds). A write into a batch's staged tree (stage)
 * starts from that tree's root and makes its new root the stage's.
 */
struct bt_write {
	sc_cache *c;
	struct sc_part *p;
	struct sc_bt_stage *stage;
	uint64_t fresh[MAX_TOUCHED];
	uint32_t nfresh;
	uint64_t stale[MAX_TOUCHED];
	uint32_t nstale;
};

/* Walk down to key's leaf. An empty tree is a path of depth 0. */
static int descend(sc_cache *c, uint64_t root, const struct sc_route *key, struct bt_path *path, bool *exact)
{
	uint64_t boff = root;
	int height = -1;
	path->depth = 0;
	*exact = false;
	while (boff) {
		__typeof__(path->lv[0]) *lv;
		uint32_t pos;
		int err;

		if (path->depth > SC_BT_MAX_HEIGHT)
			return corrupt_node(c, boff);
		lv = &path->lv[path->depth++];
		err = node_at(c, boff, height, &lv->v);
		if (!err)
			err = lower_bound(c, &lv->v, key, &pos, exact);
		if (err)
			return err;
		if (lv->v.height == 0) {
			lv->idx = pos;
			return 0;
		}
		lv->idx = *exact ? pos : (pos ? pos - 1 : 0);
		boff = sc_from_units(lv->v.n->e[lv->idx].child);
		height = (int)lv->v.height - 1;
	}
	return 0;
}

static void carry_load(struct carry *cy, const struct node_view *v)
{
	memcpy(cy->e, v->n->e, v->count * ENTRY_SIZE);
	cy->n = v->count;
	cy->height = v->height;
}

static void carry_insert(struct carry *cy, uint32_t at, const struct sc_bt_entry *e)
{
	memmove(&cy->e[at + 1], &cy->e[at], (cy->n - at) * ENTRY_SIZE);
	cy->e[at] = *e;
	cy->n++;
}

static void carry_remove(struct carry *cy, uint32_t at)
{
	memmove(&cy->e[at], &cy->e[at + 1], (cy->n - at - 1) * ENTRY_SIZE);
	cy->n--;
}

/* Build one node of n entries; *ref is the entry that refers to it from its parent. */
static int build(struct bt_write *w, const struct sc_bt_entry *e, uint32_t n, uint32_t height,
		 struct sc_bt_entry *ref)
{
	struct sc_bt_node *node;
	uint64_t boff;
	int err = sc_block_alloc(w->c, w->p, sizeof(struct sc_blk) + sizeof(*node), SC_BLK_BTREE, &boff);

	if (err)
		return err;
	w->fresh[w->nfresh++] = boff;
	node = (struct sc_bt_node *)(sc_blk_at(w->c, boff) + 1);
	memset(node, 0, sizeof(*node));
	node->magic = SC_BT_MAGIC;
	node->count = (uint16_t)n;
	node->height = (uint8_t)height;
	memcpy(node->e, e, n * ENTRY_SIZE);
	memcpy(ref->prefix, e[0].prefix, SC_PREFIX_LEN);
	ref->rec = e[0].rec;
	ref->child = sc_to_units(boff);
	return 0;
}

/* Build a carry as one node, or as two halves if it overflows one. Returns how many, or -errno. */
static int build_carry(struct bt_write *w, const struct carry *cy, struct sc_bt_entry refs[2])
{
	uint32_t half = cy->n / 2;
	int err;

	if (cy->n <= SC_BT_FANOUT)
		return build(w, cy->e, cy->n, cy->height, &refs[0]) ?: 1;
	err = build(w, cy->e, half, cy->height, &refs[0]);
	if (!err)
		err = build(w, cy->e + half, cy->n - half, cy->height, &refs[1]);
	return err ? err : 2;
}

/* Take in the entries of child i's neighbour (cy is child i's new content); i ends at the merged entry. */
static int merge_sibling(struct bt_write *w, struct carry *up, uint32_t *i, struct carry *cy)
{
	uint32_t s = *i + 1 < up->n ? *i + 1 : *i - 1;
	struct node_view sv;
	int err = node_at(w->c, sc_from_units(up->e[s].child), (int)cy->height, &sv);

	if (err)
		return err;
	if (s > *i) {
		memcpy(&cy->e[cy->n], sv.n->e, sv.count * ENTRY_SIZE);
		carry_remove(up, s);
	} else {
		memmove(&cy->e[sv.count], cy->e, cy->n * ENTRY_SIZE);
		memcpy(cy->e, sv.n->e, sv.count * ENTRY_SIZE);
		carry_remove(up, *i);
		*i = s;
	}
	cy->n += sv.count;
	w->stale[w->nstale++] = sv.boff;
	return 0;
}

/*
 * All new nodes are complete: publish the root (the exchange is a full
 * barrier), retire the old path. A staged write only hands both on.
 */
static void publish(struct bt_write *w, uint64_t root)
{
	if (w->stage) {
		w->stage->root = root;
		for (uint32_t i = 0; i < w->nfresh; i++)
			w->stage->fresh.v[w->stage->fresh.n++] = w->fresh[i];
		for (uint32_t i = 0; i < w->nstale; i++)
			w->stage->stale.v[w->stage->stale.n++] = w->stale[i];
		return;
	}
	SC_CRASH_POINT();
	sc_xchg(&w->p->index_off, root);
	SC_CRASH_POINT();
	for (uint32_t i = 0; i < w->nstale; i++)
		sc_limbo_retire(w->c, w->p, w->stale[i]);
	w->p->bt_nodes += w->nfresh;
	w->p->bt_nodes -= w->nstale;
}

static int build_root(struct bt_write *w, struct carry *cy)
{
	struct sc_bt_entry refs[2], top;
	int n;

	if (cy->n == 0) {
		publish(w, 0);
		return 0;
	}
	/* A root left with one child gives way to it: the tree loses a level. */
	if (cy->n == 1 && cy->height > 0) {
		publish(w, sc_from_units(cy->e[0].child));
		return 0;
	}
	n = build_carry(w, cy, refs);
	if (n == 2) {
		if (cy->height + 1 > SC_BT_MAX_HEIGHT)
			return sc_fail(-ENOSPC, "cache \"%s\": ordered index of partition %u is too deep",
				       w->c->name, sc_part_index(w->c, w->p));
		n = build(w, refs, 2, cy->height + 1, &top) ?: 1;
		refs[0] = top;
	}
	if (n < 0)
		return n;
	publish(w, sc_from_units(refs[0].child));
	return 0;
}

/*
 * cy is the new content of the path's leaf (or, for an empty tree, of a new
 * root leaf). Rebuild each node up the path around its changed child,
 * merging an underfull child with a sibling and splitting an overfull one,
 * then publish.
 */
static int propagate(struct bt_write *w, const struct bt_path *path, struct carry *cy)
{
	struct carry up;

	for (uint32_t level = path->depth; level > 1; level--) {
		const struct node_view *parent = &path->lv[level - 2].v;
		uint32_t i = path->lv[level - 2].idx;
		struct sc_bt_entry refs[2];
		int n, err = 0;

		w->stale[w->nstale++] = path->lv[level - 1].v.boff;
		carry_load(&up, parent);
		if (cy->n == 0) {
			carry_remove(&up, i);
		} else {
			if (cy->n < MIN_FILL && up.n > 1)
				err = merge_sibling(w, &up, &i, cy);
			n = err ? err : build_carry(w, cy, refs);
			if (n < 0)
				return n;
			up.e[i] = refs[0];
			if (n == 2)
				carry_insert(&up, i + 1, &refs[1]);
		}
		*cy = up;
	}
	if (path->depth)
		w->stale[w->nstale++] = path->lv[0].v.boff;
	return build_root(w, cy);
}

/* A failed write never published anything it built: those nodes go back at once. */
static int abandon(struct bt_write *w, int err)
{
	for (uint32_t i = 0; i < w->nfresh; i++)
		sc_block_free(w->c, w->p, w->fresh[i]);
	return err;
}

static int insert(struct bt_write *w, uint64_t root, const struct sc_route *key, uint64_t rec_off,
		  uint64_t *old_off)
{
	struct sc_bt_entry e = { .rec = sc_to_units(rec_off) };
	struct bt_path path;
	struct carry cy = { 0 };
	bool exact;
	int err = descend(w->c, root, key, &path, &exact);
	*old_off = 0;
	if (err)
		return err;
	memcpy(e.prefix, key->prefix, SC_PREFIX_LEN);
	if (path.depth) {
		const __typeof__(path.lv[0]) *leaf = &path.lv[path.depth - 1];

		carry_load(&cy, &leaf->v);
		if (exact) {
			*old_off = sc_from_units(cy.e[leaf->idx].rec);
			cy.e[leaf->idx] = e;
		} else {
			carry_insert(&cy, leaf->idx, &e);
		}
	} else {
		cy.e[0] = e;
		cy.n = 1;
	}
	err = propagate(w, &path, &cy);
	return err ? abandon(w, err) : 1;
}

int sc_bt_insert(sc_cache *c, struct sc_part *p, const struct sc_route *key, uint64_t rec_off,
		 uint64_t *old_off)
{
	struct bt_write w = { .c = c, .p = p };

	return insert(&w, p->index_off, key, rec_off, old_off);
}

void sc_bt_stage_init(struct sc_part *p, struct sc_bt_stage *s)
{
	s->root = p->index_off;
	s->fresh.n = 0;
	s->stale.n = 0;
}

int sc_bt_stage_insert(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s, const struct sc_route *key,
		       uint64_t rec_off, uint64_t *old_off)
{
	struct bt_write w = { .c = c, .p = p, .stage = s };
	int err = sc_offsets_reserve(&s->fresh, MAX_TOUCHED);

	if (!err)
		err = sc_offsets_reserve(&s->stale, MAX_TOUCHED);
	if (!err)
		err = insert(&w, s->root, key, rec_off, old_off);
	return err < 0 ? err : 0;
}

void sc_bt_stage_abandon(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s)
{
	for (size_t i = 0; i < s->fresh.n; i++)
		sc_block_free(c, p, s->fresh.v[i]);
	sc_bt_stage_init(p, s);
}

void sc_bt_stage_publish(sc_cache *c, struct sc_part *p, struct sc_bt_stage *s)
{
	SC_CRASH_POINT();
	sc_xchg(&p->index_off, s->root);
	SC_CRASH_POINT();
	/* A node built and replaced again within the batch was never seen: it goes back at once. */
	sc_offsets_sort(&s->fresh);
	for (size_t i = 0; i < s->stale.n; i++) {
		if (sc_offsets_has(&s->fresh, s->stale.v[i]))
			sc_block_free(c, p, s->stale.v[i]);
		else
			sc_limbo_retire(c, p, s->stale.v[i]);
	}
	p->bt_nodes += s->fresh.n;
	p->bt_nodes -= s->stale.n;
}

void sc_bt_stage_free(struct sc_bt_stage *s)
{
	sc_offsets_free(&s->fresh);
	sc_offsets_free(&s->stale);
}
int sc_bt_remove(sc_cache *c, struct sc_part *p, const struct sc_route *key, sc_rec_pred pred, void *pctx,
		 sc_removed_fn fn, void *ctx)
{
	struct bt_write w = { .c = c, .p = p };
	struct bt_path path;
	struct carry cy;
	struct sc_hit hit;
	bool exact, expired;
	int err = descend(c, p->index_off, key, &path, &exact);

	if (err || !exact)
		return err;
	carry_load(&cy, &path.lv[path.depth - 1].v);
	err = record_hit(c, cy.e[path.lv[path.depth - 1].idx].rec, &hit);
	expired = !err && sc_rec_expired(sc_blk_at(c, hit.rec_off), hit.rec_len);
	if (!err && pred && !expired)
		err = pred(c, &hit, pctx);
	else if (!err)
		err = 1;
	if (err <= 0)
		return err;
	carry_remove(&cy, path.lv[path.depth - 1].idx);
	err = propagate(&w, &path, &cy);
	if (err)
		return abandon(&w, err);
	/* Unreachable in the new tree: only now retired. An expired record was no longer there to remove. */
	if (expired) {
		sc_record_left(c, p, hit.rec_off, SC_LEFT_EXPIRED);
		return 0;
	}
	fn(c, p, hit.rec_off, ctx);
	return 1;
}

/* The record at off, and only it. */
static int is_record(sc_cache *c, const struct sc_hit *hit, void *off)
{
	(void)c;
	return hit->rec_off == *(const uint64_t *)off;
}

int sc_bt_remove_record(sc_cache *c, struct sc_part *p, const struct sc_hit *hit, sc_removed_fn fn, void *ctx)
{
	struct sc_route route;
	sc_field key;
	uint64_t off = hit->rec_off;

	if (hit_key(c, hit, &key))
		return -EUCLEAN;
	sc_route_key(c, &key, &route);
	route.partition = sc_part_index(c, p);
	return sc_bt_remove(c, p, &route, is_record, &off, fn, ctx);
}

int64_t sc_bt_clear(sc_cache *c, struct sc_part *p)
{
	struct {
		struct node_view v;
		uint32_t next;
	} stack[SC_BT_MAX_HEIGHT + 1];
	uint64_t root = p->index_off;
	uint32_t depth = 0;
	int64_t records = 0;
	int err;

	if (!root)
		return 0;
	sc_xchg(&p->index_off, 0);
	p->bt_nodes = 0;
	err = node_at(c, root, -1, &stack[0].v);
	stack[0].next = 0;
	depth = err ? 0 : 1;
	/* Depth first: a node is retired once everything under it is. A bad node leaks what is below. */
	while (depth) {
		__typeof__(stack[0]) *top = &stack[depth - 1];

		if (top->v.height == 0) {
			for (uint32_t i = 0; i < top->v.count; i++) {
				uint64_t off = sc_from_units(top->v.n->e[i].rec);

				if (sc_block_check(c, off)) {
					sc_limbo_retire(c, p, off);
					records++;
				}
			}
		} else if (top->next < top->v.count && depth <= SC_BT_MAX_HEIGHT) {
			uint64_t child = sc_from_units(top->v.n->e[top->next++].child);

			if (node_at(c, child, (int)top->v.height - 1, &stack[depth].v) == 0) {
				stack[depth].next = 0;
				depth++;
			}
			continue;
		}
		sc_limbo_retire(c, p, top->v.boff);
		depth--;
	}
	return records;
}

uint64_t sc_bt_capacity(const struct sc_part *p)
{
	return sc_read(&p->bt_nodes) * SC_BT_FANOUT;
}

int sc_bt_walk(sc_cache *c, struct sc_part *p, sc_bt_node_fn node_fn, sc_bt_rec_fn rec_fn, void *ctx)
{
	struct {
		struct node_view v;
		uint32_t next;
	} stack[SC_BT_MAX_HEIGHT + 1];
	uint32_t depth = 1;
	int r;

	if (!p->index_off)
		return 0;
	r = node_at(c, p->index_off, -1, &stack[0].v);
	stack[0].next = 0;
	if (!r)
		r = node_fn(c, p, &stack[0].v.n->e[0], stack[0].v.boff, stack[0].v.count, stack[0].v.height,
			    ctx);
	while (!r && depth) {
		__typeof__(stack[0]) *top = &stack[depth - 1];

		if (top->v.height == 0) {
			for (uint32_t i = 0; !r && i < top->v.count; i++)
				r = rec_fn(c, p, &top->v.n->e[i], ctx);
			depth--;
		} else if (top->next < top->v.count) {
			uint64_t child = sc_from_units(top->v.n->e[top->next++].child);

			if (depth > SC_BT_MAX_HEIGHT)
				return corrupt_node(c, child);
			r = node_at(c, child, (int)top->v.height - 1, &stack[depth].v);
			if (!r)
				r = node_fn(c, p, stack[depth].v.n->e, child, stack[depth].v.count,
					    stack[depth].v.height, ctx);
			stack[depth].next = 0;
			depth++;
		} else {
			depth--;
		}
	}
	return r;
}
