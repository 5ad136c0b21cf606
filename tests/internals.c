/* internals.c — test-only access to a segment's internals, to corrupt and inspect it on purpose. */
#include "internals.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string.h>

#include "libshm/index/btree.h"
#include "libshm/index/hash_index.h"
#include "libshm/mem/block_alloc.h"
#include "libshm/mem/rcu.h"
#include "libshm/record/record_deadline.h"
#include "libshm/record/checksum.h"
#include "libshm/record/tuple_codec.h"
#include "libshm/shm/cache.h"
#include "libshm/structures/entries.h"
#include "libshm/structures/kv.h"
#include "libshm/structures/sequence.h"
#include "libshm/write/partition.h"

int sctest_tamper_header(const char *path, enum sctest_hdr_field field)
{
	static const size_t offsets[] = {
		[SCTEST_HDR_MAGIC] = offsetof(struct sc_seg_hdr, magic),
		[SCTEST_HDR_ABI] = offsetof(struct sc_seg_hdr, abi_version),
		[SCTEST_HDR_LAYOUT_SIG] = offsetof(struct sc_seg_hdr, layout_sig),
		[SCTEST_HDR_READY] = offsetof(struct sc_seg_hdr, ready),
		[SCTEST_HDR_NUM_PARTITION] = offsetof(struct sc_seg_hdr, num_partition),
	};
	uint32_t garbage = 0x7badbeefu;
	int fd = open(path, O_RDWR);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pwrite(fd, &garbage, sizeof(garbage), (off_t)offsets[field]);
	close(fd);
	return n == sizeof(garbage) ? 0 : -EIO;
}

const char *sctest_path(sc_cache *c)
{
	return c->seg.path;
}

static uint32_t *first_entry(sc_cache *c, uint32_t part);

/* The first lane of p whose limbo list is not empty (lane 0 when none is): the one the tests read and damage. */
static uint32_t busy_lane(const struct sc_part *p)
{
	for (uint32_t i = 0; i < SC_LANES; i++)
		if (p->lanes[i].limbo_head)
			return i;
	return 0;
}

uint64_t sctest_offset(sc_cache *c, enum sctest_place place, uint32_t part)
{
	uint8_t *base = c->seg.base;

	switch (place) {
	case SCTEST_PART_LOCK:
		return (uint64_t)((uint8_t *)&sc_part_at(c, part)->lock.word - base);
	case SCTEST_ALLOC_LOCK:
		return (uint64_t)((uint8_t *)&sc_hdr(c)->alloc_lock.word - base);
	case SCTEST_GP_EPOCH:
		return offsetof(struct sc_seg_hdr, gp_epoch);
	case SCTEST_RECLAIM_LINE:
		return 192;
	case SCTEST_FIRST_RECORD: {
		uint32_t *e = sc_part_at(c, part)->index_off ? first_entry(c, part) : NULL;
		return e ? sc_from_units(*e) : 0;
	}
	case SCTEST_SLAB_PAGE_WORD: {
		uint64_t slab = sc_part_at(c, part)->slabs;
		return slab ? c->seg.geo.pagemap_off + (slab >> SC_PAGE_SHIFT) * sizeof(uint32_t) : 0;
	}
	case SCTEST_SLAB_PAGES: {
		uint64_t slab = sc_part_at(c, part)->slabs;
		return slab ? slab + offsetof(struct sc_slab, pages) : 0;
	}
	case SCTEST_PAGE_MAP:
		return c->seg.geo.pagemap_off;
	case SCTEST_LIMBO_HEAD_TAG: {
		uint32_t head = sc_part_at(c, part)->lanes[busy_lane(sc_part_at(c, part))].limbo_head;
		return head ? sc_from_units(head) + offsetof(struct sc_blk, retire_epoch) : 0;
	}
	}
	return 0;
}

int sctest_scribble(sc_cache *c, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(c->seg.path, O_RDWR | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pwrite(fd, bytes, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

uint64_t sctest_index_off(sc_cache *c, uint32_t part)
{
	return sc_part_at(c, part)->index_off;
}

void sctest_set_index_off(sc_cache *c, uint32_t part, uint64_t off)
{
	sc_part_at(c, part)->index_off = off;
}

static uint32_t *first_entry(sc_cache *c, uint32_t part)
{
	struct sc_index *idx = (struct sc_index *)(c->seg.base + sc_part_at(c, part)->index_off);
	struct sc_bucket *b = (struct sc_bucket *)(idx + 1);

	for (uint64_t i = 0; i < (1ull << idx->log2_buckets); i++)
		for (unsigned s = 0; s < SC_BUCKET_SLOTS; s++)
			if (b[i].off[s] > SC_SLOT_TOMB)
				return &b[i].off[s];
	return NULL;
}

uint32_t sctest_redirect_first_entry(sc_cache *c, uint32_t part, uint32_t units)
{
	uint32_t *e = first_entry(c, part), old = *e;

	*e = units;
	return old;
}

void sctest_set_first_record_len(sc_cache *c, uint32_t part, uint32_t len)
{
	sc_blk_at(c, sc_from_units(*first_entry(c, part)))->len = len;
}

uint64_t sctest_heap_off(sc_cache *c)
{
	return c->seg.geo.heap_off;
}

uint64_t sctest_map_len(sc_cache *c)
{
	return c->seg.map_len;
}

int sctest_ship_sleeping(sc_cache *c)
{
	return (int)__atomic_load_n(&sc_hdr(c)->ship_sleeping, __ATOMIC_SEQ_CST);
}

uint32_t sctest_partition_of(sc_cache *c, const sc_tuple *t)
{
	struct sc_route r;

	sc_tuple_route(c, t, &r);
	return r.partition;
}

uint32_t sctest_kv_partition_of(sc_cache *c, const char *kv, sc_field key)
{
	struct sc_entry_key k;
	struct sc_route r = { 0 };
	sc_field kf;

	sc_kv_route(c, kv, &key, &k, &kf, &r);
	sc_entry_key_free(&k);
	return r.partition;
}

uint32_t sctest_entry_partition_of(sc_cache *c, uint8_t kind, const char *owner, const void *own, size_t len)
{
	struct sc_entry_key k;
	struct sc_route r = { 0 };
	sc_field kf;

	k.bytes = k.room;
	if (sc_entry_key_init(&k, kind, owner, "owner") == 0 && sc_entry_key_append(&k, own, len) == 0)
		sc_entry_route(c, &k, &kf, &r);
	sc_entry_key_free(&k);
	return r.partition;
}

uint32_t sctest_plant_reader(sc_cache *c, uint32_t pid, uint64_t start_time)
{
	struct sc_seg_hdr *h = sc_hdr(c);

	for (uint32_t i = 0;; i++) {
		struct sc_slot *s = sc_slot_at(c, i);
		uint64_t owner = s->owner;

		if (sc_owner_pid(owner) != 0 ||
		    sc_cmpxchg(&s->owner, owner, sc_owner_next(owner, pid)) != owner)
			continue;
		s->start_time = start_time;
		s->epoch = sc_read(&h->gp_epoch) | SC_SLOT_IN_SECTION;
		sc_store_max(&sc_registry(c)->slots_hwm, i + 1);
		sc_store_max(&sc_registry(c)->slots_hwm_copy, i + 1);
		return i;
	}
}

int sctest_slot_owned(sc_cache *c, uint32_t slot)
{
	return sc_owner_pid(sc_slot_at(c, slot)->owner) != 0;
}

void sctest_limbo_ends(sc_cache *c, uint32_t part, uint32_t *head, uint32_t *tail)
{
	const struct sc_lane *l = &sc_part_at(c, part)->lanes[busy_lane(sc_part_at(c, part))];

	*head = l->limbo_head;
	*tail = l->limbo_tail;
}

void sctest_set_limbo_ends(sc_cache *c, uint32_t part, uint32_t head, uint32_t tail)
{
	struct sc_lane *l = &sc_part_at(c, part)->lanes[busy_lane(sc_part_at(c, part))];

	l->limbo_head = head;
	l->limbo_tail = tail;
}

uint64_t sctest_lane_free_blocks(sc_cache *c, uint32_t part, uint32_t cpu)
{
	const struct sc_lane *l = &sc_part_at(c, part)->lanes[cpu % SC_LANES];
	uint64_t n = 0;

	for (uint32_t cls = 0; cls < SC_NCLASSES; cls++)
		for (uint32_t u = l->free_head[cls]; u; u = sc_blk_at(c, sc_from_units(u))->link)
			n++;
	return n;
}

uint64_t sctest_lane_retired_blocks(sc_cache *c, uint32_t part, uint32_t cpu)
{
	return sc_part_at(c, part)->lanes[cpu % SC_LANES].limbo_count;
}

uint64_t sctest_scribble_free_pages(sc_cache *c, uint32_t word)
{
	uint32_t *map = (uint32_t *)(c->seg.base + c->seg.geo.pagemap_off);
	uint64_t n = 0;

	for (uint64_t pg = c->seg.geo.heap_off >> SC_PAGE_SHIFT; pg < c->seg.map_len >> SC_PAGE_SHIFT; pg++) {
		if (map[pg] == SC_PG_FREE) {
			map[pg] = word;
			n++;
		}
	}
	return n;
}

void sctest_tear_cluster_map(sc_cache *c)
{
	struct sc_map_hdr *h = sc_seg_at(&c->seg, c->seg.geo.map_off);

	sc_write(&h->seq, sc_read(&h->seq) | 1);
}

void sctest_scribble_map_entry(sc_cache *c, uint32_t part, uint16_t primary, uint16_t replica_count)
{
	struct sc_map_entry *e =
		(struct sc_map_entry *)((struct sc_map_hdr *)sc_seg_at(&c->seg, c->seg.geo.map_off) + 1);

	e[part].primary = primary;
	e[part].replica_count = replica_count;
	e[part].replicas[0] = primary;
}

void sctest_add_epoch(sc_cache *c, uint64_t delta)
{
	sc_add(&sc_hdr(c)->gp_epoch, delta);
	sc_add(&sc_hdr(c)->gp_epoch_copy, delta);
}

int sctest_damage_record_of(sc_cache *c, uint32_t part, int64_t key)
{
	struct sc_index *idx = (struct sc_index *)(c->seg.base + sc_part_at(c, part)->index_off);
	struct sc_bucket *b = (struct sc_bucket *)(idx + 1);

	for (uint64_t i = 0; i < (1ull << idx->log2_buckets); i++) {
		for (unsigned s = 0; s < SC_BUCKET_SLOTS; s++) {
			struct sc_blk *rec;
			sc_field f;

			if (b[i].off[s] <= SC_SLOT_TOMB)
				continue;
			rec = sc_blk_at(c, sc_from_units(b[i].off[s]));
			if (sc_rec_decode((const uint8_t *)rec, rec->len, 1, &f) == 0 &&
			    f.type == SC_FIELD_INT && f.v.i == key) {
				rec->len = 0xffffff00u;
				return 0;
			}
		}
	}
	return -ENOENT;
}

uint32_t sctest_checksum(const void *data, size_t len, uint64_t seed, int hw)
{
	return hw ? sc_checksum(data, len, seed) : sc_checksum_portable(data, len, seed);
}

uint32_t sctest_record_header_size(void)
{
	return sizeof(struct sc_blk);
}

int sctest_scribble_struct_key_offset(sc_cache *c, const char *type, uint64_t key_offset)
{
	struct sc_entry_key k;
	struct sc_route route;
	struct sc_hit hit;
	sc_field kf, v;
	int r = sc_entry_key_init(&k, SC_ENTRY_TYPE, type, "struct type");

	if (!r) {
		sc_entry_route(c, &k, &kf, &route);
		r = sc_entry_find(c, sc_part_at(c, route.partition), &route, &hit);
		if (r == 1)
			r = sc_entry_value(c, &hit, &v);
		else if (r == 0)
			r = -ENOENT;
	}
	sc_entry_key_free(&k);
	if (r)
		return r;
	/*
	 * The geometry is {size, key_offset, key_size}: overwrite the middle word in the record, and
	 * its checksum with one that matches, so that the geometry's own check is what must catch it.
	 */
	memcpy((uint8_t *)v.v.p + sizeof(uint64_t), &key_offset, sizeof(key_offset));
	sc_blk_at(c, hit.rec_off)->csum = sc_rec_checksum(sc_blk_at(c, hit.rec_off), hit.rec_len);
	return 0;
}

int sctest_leak_block(sc_cache *c, uint32_t part, uint32_t len)
{
	struct sc_part *p = sc_part_at(c, part);
	uint64_t off;
	int err = sc_part_lock(c, p);

	if (err)
		return err;
	err = sc_block_alloc(c, p, len, SC_BLK_RECORD, &off);
	sc_part_unlock(c, p);
	return err;
}

void sctest_add_to_record_count(sc_cache *c, uint32_t part, int64_t delta)
{
	sc_part_at(c, part)->records += (uint64_t)delta;
}

void sctest_flip_record_byte(sc_cache *c, uint32_t part)
{
	struct sc_blk *rec = sc_blk_at(c, sc_from_units(*first_entry(c, part)));

	((uint8_t *)rec)[rec->len - 1] ^= 0x5a;
}

#ifdef SC_TEST_HOOKS
extern uint64_t sc_crash_countdown;
extern uint64_t sc_batch_tree_rebuilds;

int sctest_hooks_built(void)
{
	return 1;
}

void sctest_crash_at(uint64_t k)
{
	sc_crash_countdown = k;
}

uint64_t sctest_batch_tree_rebuilds(void)
{
	return sc_batch_tree_rebuilds;
}
#else
/* Without the hooks the library has no crash points: the tests that need them skip (SCTEST_NEEDS_HOOKS). */
int sctest_hooks_built(void)
{
	return 0;
}

void sctest_crash_at(uint64_t k)
{
	(void)k;
}

uint64_t sctest_batch_tree_rebuilds(void)
{
	return 0;
}
#endif

int sctest_lock_holder(sc_cache *c, uint32_t part)
{
	return (int)(__atomic_load_n(&sc_part_at(c, part)->lock.word, __ATOMIC_RELAXED) & SC_MUTEX_TID_MASK);
}

uint64_t sctest_backed(sc_cache *c)
{
	return sc_hdr(c)->backed;
}

int sctest_take_lock(sc_cache *c, uint32_t part)
{
	return sc_part_lock(c, sc_part_at(c, part));
}

void sctest_release_lock(sc_cache *c, uint32_t part)
{
	sc_part_unlock(c, sc_part_at(c, part));
}

struct digest {
	uint64_t sum, count;
	struct sc_part *part;
	uint64_t pos; /* of the item in its sequence */
};

static void digest_add(struct digest *d, uint64_t h)
{
	d->sum += h * 0x9e3779b97f4a7c15ull;
	d->count++;
}

static uint64_t digest_bytes(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
	return h;
}

/* A queue's or stack's item: its header's key, its place and its value (its record names this host's blocks). */
static int digest_item(sc_cache *c, const sc_field *header_key, const sc_field *value, void *ctx)
{
	uint64_t h = digest_bytes(0xcbf29ce484222325ull, header_key->v.p, header_key->len);

	(void)c;
	h = digest_bytes(h, &((struct digest *)ctx)->pos, sizeof(uint64_t));
	((struct digest *)ctx)->pos++;
	h = digest_bytes(h, &value->type, sizeof(value->type));
	h = value->type == SC_FIELD_BYTES ? digest_bytes(h, value->v.p, value->len)
					  : digest_bytes(h, &value->v, 8);
	digest_add(ctx, h);
	return 0;
}

static int digest_one(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	const struct sc_blk *rec = sc_blk_at(c, hit->rec_off);
	struct digest *d = ctx;
	uint64_t h = 0xcbf29ce484222325ull ^ rec->version;

	if (sc_part_is_structure(c, d->part)) {
		int r;

		d->pos = 0;
		r = sc_seq_copy_record(c, d->part, hit, digest_item, d);

		/* Torn by a writer meanwhile (no lock is held): a sum of this handle's own, equal to no other. */
		if (r < 0)
			d->sum += 0x5eedull ^ (uint64_t)(uintptr_t)c;
		if (r)
			return 0;
	}
	h = (h ^ rec->nfields) * 0x100000001b3ull;
	digest_add(d, digest_bytes(h, rec + 1, sc_rec_body_len(rec, hit->rec_len)));
	return 0;
}

uint64_t sctest_partition_digest(sc_cache *c, uint32_t part, uint64_t *count)
{
	struct sc_part *p = sc_part_at(c, part);
	struct digest d = { 0, 0, p, 0 };
	struct sc_reader *r;

	if (sc_reader_of(c, &r))
		return 0;
	sc_rcu_enter(c, r);
	if (sc_part_is_ordered(c, p))
		sc_bt_for_each(c, p, digest_one, &d);
	else
		sc_index_for_each(c, p, digest_one, &d);
	sc_rcu_exit(r);
	*count = d.count;
	return d.sum;
}
