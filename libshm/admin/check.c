/* check.c — sc_check: a segment walked whole, every block accounted for exactly once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "mem/span_alloc.h"
#include "recovery/census.h"
#include "shm/probes.h"
#include "shm/shm_mutex.h"
#include "write/partition.h"

/* A scribbled lock is given this long before the partition is checked without it. */
#define LOCK_PATIENCE_S 2u

struct checker {
	sc_cache *c;
	sc_check_report *rep;
	struct sc_census cs;	 /* of the partition being checked */
	struct sc_offsets free;	 /* its free lists' blocks, sorted */
	struct sc_offsets slabs; /* its slabs, sorted */
	uint64_t free_in_slabs;	 /* free blocks its slabs hold */
};

static void note(void *ctx, uint32_t part, uint64_t off, const char *what)
{
	struct checker *k = ctx;
	sc_check_problem *pr;

	k->rep->problems++;
	if (part == UINT32_MAX) {
		k->rep->segment_problems++;
	} else if (part < SC_CHECK_PARTITIONS && !sc_check_damaged(k->rep, part)) {
		k->rep->damaged[part / 8] |= (uint8_t)(1u << (part % 8));
		k->rep->damaged_partitions++;
	}
	if (k->rep->listed == SC_CHECK_LISTED)
		return;
	pr = &k->rep->list[k->rep->listed++];
	pr->partition = part == UINT32_MAX ? -1 : (int32_t)part;
	pr->offset = off;
	snprintf(pr->what, sizeof(pr->what), "%s", what);
}

static void notef(struct checker *k, uint32_t part, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void notef(struct checker *k, uint32_t part, uint64_t off, const char *fmt, ...)
{
	char what[sizeof(k->rep->list[0].what)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	note(k, part, off, what);
}

/* Every body page follows its owner's head; every owner is a partition; the count is right. */
static void check_page_map(struct checker *k)
{
	sc_cache *c = k->c;
	uint32_t prev = SC_PG_FREE, parts = 2 * c->seg.cfg.num_partition;
	uint64_t taken = 0, reach = c->seg.geo.heap_off;

	for (uint64_t off = c->seg.geo.heap_off; off < c->seg.map_len; off += SC_PAGE) {
		uint32_t w = sc_page_word(c, off), owner = w & SC_PG_OWNER_MASK;

		if (w != SC_PG_FREE) {
			taken++;
			reach = off + SC_PAGE;
			if ((w & ~(SC_PG_HEAD | SC_PG_OWNER_MASK)) && (w & ~(SC_PG_BODY | SC_PG_OWNER_MASK)))
				notef(k, UINT32_MAX, off,
				      "page map word 0x%08x is neither free, head nor body", w);
			else if (owner >= parts)
				notef(k, UINT32_MAX, off, "page map names partition %u as an owner", owner);
			else if ((w & SC_PG_BODY) &&
				 (prev == SC_PG_FREE || (prev & SC_PG_OWNER_MASK) != owner))
				notef(k, UINT32_MAX, off,
				      "page map has a body page that follows no head of its owner");
		}
		prev = w;
	}
	if (taken != sc_hdr(c)->taken_pages)
		notef(k, UINT32_MAX, 0, "page map holds %llu taken pages, the allocator counts %llu",
		      (unsigned long long)taken, (unsigned long long)sc_hdr(c)->taken_pages);
	if (sc_read(&sc_hdr(c)->backed) < reach)
		notef(k, UINT32_MAX, offsetof(struct sc_seg_hdr, backed),
		      "the backed mark %llu is below the last page in use, %llu: new processes would take "
		      "records there for damage",
		      (unsigned long long)sc_read(&sc_hdr(c)->backed), (unsigned long long)reach);
}

/*
 * The reader registry and the epochs: what a stray write there can do is
 * hide a reader or make a section's age unknown. Reclaimers survive both
 * (mem/rcu.h); the check names them, and the next grace period mends them.
 */
static void check_registry(struct checker *k)
{
	sc_cache *c = k->c;
	const struct sc_seg_hdr *h = sc_hdr(c);
	const struct sc_registry *g = sc_registry(c);
	uint64_t readers = sc_read(&h->gp_epoch), copy = sc_read(&h->gp_epoch_copy), now = sc_rcu_epoch(c);
	uint32_t hwm = sc_rcu_slots_used(c);

	if (readers < copy || readers >= SC_EPOCH_MAX)
		notef(k, UINT32_MAX, offsetof(struct sc_seg_hdr, gp_epoch),
		      "the readers' grace-period epoch %llu is behind the reclaimers' %llu",
		      (unsigned long long)readers, (unsigned long long)copy);
	if (sc_read(&g->slots_hwm) != sc_read(&g->slots_hwm_copy))
		notef(k, UINT32_MAX, c->seg.geo.regs_off,
		      "the reader slots' two high-water marks differ (%u, %u)", sc_read(&g->slots_hwm),
		      sc_read(&g->slots_hwm_copy));
	for (uint32_t i = 0; i < c->seg.cfg.max_readers; i++) {
		const struct sc_slot *s = sc_slot_at(c, i);
		uint64_t slot_epoch = sc_read(&s->epoch), e = sc_slot_section_epoch(slot_epoch);
		uint32_t pid = sc_owner_pid(sc_read(&s->owner));

		if (pid && i >= hwm)
			notef(k, UINT32_MAX, (uint64_t)((const uint8_t *)s - c->seg.base),
			      "reader slot %u is owned by pid %u above the slots' high-water mark %u", i, pid,
			      hwm);
		else if (slot_epoch && !pid)
			notef(k, UINT32_MAX, (uint64_t)((const uint8_t *)s - c->seg.base),
			      "reader slot %u has no owner but is in a read section", i);
		else if (slot_epoch && e > now)
			notef(k, UINT32_MAX, (uint64_t)((const uint8_t *)s - c->seg.base),
			      "reader slot %u (pid %u) is in a section from epoch %llu, which has not begun "
			      "(the epoch is %llu)",
			      i, pid, (unsigned long long)e, (unsigned long long)now);
	}
}

static int collect_free(sc_cache *c, struct sc_part *p, uint64_t off, void *ctx)
{
	(void)c;
	(void)p;
	return sc_offsets_add(&((struct checker *)ctx)->free, off);
}

/* Each carved block is in exactly the place its state says. */
static int check_block(sc_cache *c, struct sc_part *p, uint64_t slab, uint64_t off, void *ctx)
{
	struct checker *k = ctx;
	uint32_t me = sc_part_index(c, p);
	uint8_t state;

	if (!off) {
		if (sc_slab_is_abandoned(c, p, slab))
			notef(k, me, slab,
			      "slab was linked but never carved (a writer died switching slabs)");
		return sc_offsets_add(&k->slabs, slab);
	}
	k->rep->blocks++;
	state = sc_blk_at(c, off)->flags & SC_BLK_STATE_MASK;
	if (state == SC_BLK_LIVE && !sc_offsets_has(&k->cs.reach, off))
		notef(k, me, off, "live block is reachable from nowhere (leaked)");
	else if (state == SC_BLK_RETIRED && !sc_offsets_has(&k->cs.limbo_sorted, off))
		notef(k, me, off, "retired block is not in the limbo list (leaked)");
	else if (state == SC_BLK_FREE && !sc_offsets_has(&k->free, off))
		notef(k, me, off, "free block is on no free list (leaked)");
	else if (state != SC_BLK_LIVE && state != SC_BLK_RETIRED && state != SC_BLK_FREE)
		notef(k, me, off, "block has no valid state (flags 0x%02x)", sc_blk_at(c, off)->flags);
	k->free_in_slabs += state == SC_BLK_FREE;
	return 0;
}

/* Spans: each one p owns is a slab of its list or a block it reaches or retired. */
static void check_spans(struct checker *k, struct sc_part *p)
{
	sc_cache *c = k->c;
	uint32_t me = sc_part_index(c, p);

	for (uint64_t off = sc_span_next_owned(c, me, c->seg.geo.heap_off); off;
	     off = sc_span_next_owned(c, me, off + SC_PAGE)) {
		if (sc_offsets_has(&k->slabs, off))
			continue;
		if (sc_offsets_has(&k->cs.reach, off) || sc_offsets_has(&k->cs.limbo_sorted, off)) {
			k->rep->blocks++;
			continue;
		}
		/* The page map disagrees with the partition: sc_repair() rebuilds it, keeping the data. */
		notef(k, UINT32_MAX, off,
		      "page map: partition %u owns a span that is neither a slab nor a block it uses", me);
	}
	for (size_t i = 0; i < k->cs.reach.n; i++) {
		uint64_t off = k->cs.reach.v[i];

		if (sc_blk_at(c, off)->cls == SC_CLS_SPAN && sc_page_word(c, off) != (SC_PG_HEAD | me))
			notef(k, UINT32_MAX, off,
			      "page map: a large block of partition %u is not a span it owns", me);
	}
}

static void check_count(struct checker *k, struct sc_part *p, const char *what, uint64_t kept, uint64_t found)
{
	if (kept != found)
		notef(k, sc_part_index(k->c, p), 0, "%s: the partition counts %llu, the walk found %llu",
		      what, (unsigned long long)kept, (unsigned long long)found);
}

static uint64_t retired_blocks(const struct sc_part *p)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < SC_LANES; i++)
		n += p->lanes[i].limbo_count;
	return n;
}

static void check_counters(struct checker *k, struct sc_part *p)
{
	const struct sc_census *cs = &k->cs;

	check_count(k, p, "records", p->records, cs->records);
	check_count(k, p, "record bytes", p->bytes, cs->record_bytes);
	check_count(k, p, "records with a deadline", p->ttl_records, cs->ttl_records);
	if (!cs->limbo_broken) {
		check_count(k, p, "retired blocks", retired_blocks(p), cs->limbo.n);
		check_count(k, p, "retired bytes", sc_limbo_bytes(p), cs->limbo_bytes);
	}
	if (sc_part_is_ordered(k->c, p)) {
		check_count(k, p, "ordered index nodes", p->bt_nodes, cs->nodes);
	} else if (p->index_off) {
		check_count(k, p, "index entries", cs->index.live_counted, cs->index.live);
		check_count(k, p, "index tombstones", cs->index.tombs_counted, cs->index.tombs);
	}
	if (cs->orphan_items.n)
		notef(k, sc_part_index(k->c, p), cs->orphan_items.v[0],
		      "%zu queue or stack items lie outside their sequence", cs->orphan_items.n);
}

static void release(struct checker *k)
{
	sc_census_free(&k->cs);
	sc_offsets_free(&k->free);
	sc_offsets_free(&k->slabs);
	memset(&k->cs, 0, sizeof(k->cs));
	k->free_in_slabs = 0;
}

/* A walk's -EUCLEAN is a problem to report (its message says where), not a reason to stop. */
static int noted(struct checker *k, uint32_t part, int err)
{
	if (err != -EUCLEAN)
		return err;
	note(k, part, 0, sc_last_error());
	return 0;
}

static int check_partition(struct checker *k, struct sc_part *p)
{
	sc_cache *c = k->c;
	uint32_t me = sc_part_index(c, p);
	int err;

	k->cs.problem = note;
	k->cs.problem_ctx = k;
	k->cs.verify = true;
	err = sc_census_take(c, p, &k->cs);
	for (uint32_t cls = 0; !err && cls < SC_NCLASSES; cls++)
		err = noted(k, me, sc_free_list_walk(c, p, cls, collect_free, k));
	if (err)
		return err;
	sc_offsets_sort(&k->free);
	k->rep->records += k->cs.records;
	err = noted(k, me, sc_slab_walk(c, p, check_block, k));
	if (err)
		return err;
	sc_offsets_sort(&k->slabs);
	if (k->free_in_slabs != k->free.n)
		notef(k, me, 0, "free lists hold %zu blocks, the slabs %llu", k->free.n,
		      (unsigned long long)k->free_in_slabs);
	check_spans(k, p);
	check_counters(k, p);
	if (p->needs_repair)
		note(k, me, 0, "a writer died holding the lock and the partition awaits its repair");
	return 0;
}

/*
 * A lock named by a thread that is gone: a problem for a look without
 * locks; with them, taking the lock takes it back and repairs, as any
 * writer would (counted as repaired).
 */
static void check_lock_holder(struct checker *k, const struct sc_shm_mutex *m, uint32_t part,
			      const char *whose)
{
	int alive;
	uint32_t tid = sc_shm_mutex_holder(m, &alive);

	if (tid && !alive)
		notef(k, part, 0, "%s lock is held by thread %u, which does not exist", whose, tid);
}

/* Under the partition's lock unless told not to; a lock that cannot be had is a problem, not a stop. */
static int check_locked(struct checker *k, struct sc_part *p, unsigned flags)
{
	uint32_t died = p->owner_died, me = sc_part_index(k->c, p);
	int locked = 0, err;

	if (flags & SC_CHECK_NO_LOCKS)
		check_lock_holder(k, &p->lock, me, "the partition's");
	else {
		err = sc_part_lock_within(k->c, p, LOCK_PATIENCE_S);
		if (err == -ENOMEM)
			return err;
		if (err)
			notef(k, me, 0, "cannot take the partition's lock (%s); checked without it",
			      sc_last_error());
		locked = !err;
		k->rep->repaired += locked && p->owner_died != died;
	}
	err = check_partition(k, p);
	release(k);
	if (locked)
		sc_part_release(k->c, p);
	return err;
}

/*
 * The file before anything in it: a segment another process truncated
 * faults (SIGBUS) wherever the cut reaches, so nothing is walked then.
 * False when it is short.
 */
static bool check_file(struct checker *k)
{
	sc_cache *c = k->c;
	struct stat st;
	const char *field;

	if (fstat(c->seg.fd, &st) == 0 && (uint64_t)st.st_size < c->seg.map_len) {
		notef(k, UINT32_MAX, (uint64_t)st.st_size,
		      "the segment file is %llu bytes, its memory_limit %llu: another process truncated it, "
		      "and whatever touches the part cut off dies of SIGBUS (sc_repair() gives the file its "
		      "size back; what was cut off is lost)",
		      (unsigned long long)st.st_size, (unsigned long long)c->seg.map_len);
		return false;
	}
	field = sc_seg_header_damage(&c->seg);
	if (field)
		notef(k, UINT32_MAX, 0,
		      "the header's %s is not what this process attached to (new processes cannot attach)",
		      field);
	return true;
}

static int do_check(sc_cache *c, unsigned flags, sc_check_report *report)
{
	sc_check_report local;
	struct checker k = { .c = c, .rep = report ? report : &local };
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (flags & ~SC_CHECK_NO_LOCKS)
		return sc_fail(-EINVAL, "sc_check: unknown flags 0x%x", flags & ~SC_CHECK_NO_LOCKS);
	/* A read-only handle cannot take a lock (it is a write): it looks, as without locks. */
	if (c->read_only)
		flags |= SC_CHECK_NO_LOCKS;
	memset(k.rep, 0, sizeof(*k.rep));
	if (!check_file(&k))
		goto done;
	if (flags & SC_CHECK_NO_LOCKS)
		check_lock_holder(&k, &sc_hdr(c)->alloc_lock, UINT32_MAX, "the allocator's");
	else {
		err = sc_span_lock_within(c, LOCK_PATIENCE_S);
		if (err)
			notef(&k, UINT32_MAX, 0, "cannot take the allocator's lock (%s); checked without it",
			      sc_last_error());
	}
	check_page_map(&k);
	check_registry(&k);
	if (!(flags & SC_CHECK_NO_LOCKS) && !err)
		sc_span_unlock(c);
	err = 0;
	for (uint32_t i = 0; !err && i < 2 * c->seg.cfg.num_partition; i++)
		err = check_locked(&k, sc_part_at(c, i), flags);
	if (err)
		return err;
done:
	if (k.rep->problems)
		return sc_fail(-EUCLEAN, "cache \"%s\": %llu problems found; the first: %s", c->name,
			       (unsigned long long)k.rep->problems, k.rep->list[0].what);
	return 0;
}

SC_EXPORT int sc_check(sc_cache *c, unsigned flags, sc_check_report *report)
{
	return SC_TRACED(c, SC_OP_CHECK, do_check(c, flags, report));
}
