/* limbo.c — a partition's retired blocks, freed once every reader that could see them has left. */
#include "mem/limbo.h"

#include "mem/block_alloc.h"
#include "mem/rcu.h"
#include "mem/writer_lane.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "shm/probes.h"

#include <sched.h>

/*
 * Bytes a thread retires between two grace periods it starts: ~1600
 * 100-byte records, so a membarrier every few ms. Counted per thread, not
 * per partition: a grace period frees what every partition retired before
 * it, so a step per partition would hold partitions times as much in limbo,
 * and a block would come back to be reused long after its lines had left
 * the cache. Per thread, it comes back within a step's worth of writes.
 */
#define LIMBO_STEP (256u * 1024u)

static __thread uint64_t retired_unadvanced __attribute__((tls_model("initial-exec")));

/*
 * Blocks a write frees from its lane at its unlock, beyond twice those it
 * retired: a grace period makes a whole LIMBO_STEP safe at once, and freeing
 * it all in one write would hold the partition lock for tens of
 * microseconds, long enough for a waiting writer to stop spinning and
 * sleep. Spread out, the lane drains at twice the rate it fills.
 */
#define FREE_BURST 32u

/*
 * The list lives in shared memory and a writer may die between any two of
 * its stores. Every update is ordered so that such a death leaves at worst
 * a block missing from the list (leaked), never a link through a stale or
 * freed block: the list counts as empty unless both ends are set, and the
 * tail end is updated first.
 */

static void forget_lane(struct sc_lane *l)
{
	l->limbo_tail = 0;
	l->limbo_head = 0;
	l->limbo_bytes = 0;
	l->limbo_count = 0;
}

void sc_limbo_forget(struct sc_part *p)
{
	for (uint32_t i = 0; i < SC_LANES; i++)
		forget_lane(&p->lanes[i]);
}

uint64_t sc_limbo_bytes(const struct sc_part *p)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < SC_LANES; i++)
		sum += sc_read(&p->lanes[i].limbo_bytes);
	return sum;
}

bool sc_limbo_empty(const struct sc_part *p)
{
	/* A lane's list counts as empty unless both ends are set (the rule above). */
	for (uint32_t i = 0; i < SC_LANES; i++)
		if (sc_read(&p->lanes[i].limbo_head) != 0 && sc_read(&p->lanes[i].limbo_tail) != 0)
			return false;
	return true;
}

bool sc_block_retired(sc_cache *c, uint64_t off)
{
	return sc_block_check(c, off) && (sc_blk_at(c, off)->flags & SC_BLK_STATE_MASK) == SC_BLK_RETIRED;
}

/*
 * Only the state changes: readers still looking at the block need its
 * deadline flag, and one of them may be setting its referenced bit, so the
 * change is one compare-and-swap that keeps the other bits.
 */
static void set_retired(struct sc_blk *b)
{
	uint8_t old = sc_read(&b->flags), want;

	do
		want = (uint8_t)((old & ~SC_BLK_STATE_MASK) | SC_BLK_RETIRED);
	while (!__atomic_compare_exchange_n(&b->flags, &old, want, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED));
}

void sc_limbo_retire(sc_cache *c, struct sc_part *p, uint64_t off)
{
	struct sc_lane *l = sc_lane_mine(p);
	struct sc_blk *b = sc_blk_at(c, off);
	uint32_t units = sc_to_units(off);
	uint64_t tail = sc_from_units(l->limbo_tail);

	b->retire_epoch = sc_rcu_retire_tag(c);
	set_retired(b);
	b->link = 0;
	SC_CRASH_POINT();
	/* A tail that is not a retired block was left by a dead writer or a scribbler: start over. */
	if (tail != 0 && l->limbo_head != 0 && !sc_block_retired(c, tail))
		forget_lane(l);
	if (l->limbo_tail == 0 || l->limbo_head == 0) {
		l->limbo_tail = units;
		l->limbo_head = units;
	} else {
		sc_blk_at(c, tail)->link = units;
		SC_CRASH_POINT();
		l->limbo_tail = units;
	}
	SC_CRASH_POINT();
	l->limbo_bytes += sc_block_size(b);
	l->limbo_count++;
	l->retired_since++;
	retired_unadvanced += sc_block_size(b);
}

/*
 * Free what is safe from the head of lane l of p, up to max blocks: into
 * l's free lists, where the CPU that retired them finds them.
 */
static uint64_t free_safe(sc_cache *c, struct sc_part *p, struct sc_lane *l, uint64_t max)
{
	uint64_t before = l->limbo_bytes;

	for (uint64_t n = 0; n < max && l->limbo_head && l->limbo_tail; n++) {
		uint64_t off = sc_from_units(l->limbo_head);
		struct sc_blk *b;
		uint32_t next;

		if (!sc_block_retired(c, off)) {
			forget_lane(l);
			return 0;
		}
		b = sc_blk_at(c, off);
		switch (sc_rcu_tag_state(c, b->retire_epoch)) {
		case SC_TAG_HELD:
			return before - l->limbo_bytes;
		case SC_TAG_IMPOSSIBLE:
			/* Tagged in an epoch that has not begun: when it was retired is unknown, so now. */
			b->retire_epoch = sc_rcu_retire_tag(c);
			return before - l->limbo_bytes;
		case SC_TAG_SAFE:
			break;
		}
		next = b->link;
		if (next == 0)
			l->limbo_tail = 0;
		SC_CRASH_POINT();
		l->limbo_head = next;
		SC_CRASH_POINT();
		l->limbo_bytes -= sc_block_size(b);
		l->limbo_count--;
		sc_block_free_to(c, p, l, off);
		SC_CRASH_POINT();
	}
	return before - l->limbo_bytes;
}

static void note_freed(sc_cache *c, struct sc_part *p, uint64_t freed)
{
	if (freed)
		SC_PROBE(reclaim, c->trace_id, sc_part_index(c, p), freed);
}

uint64_t sc_limbo_free_safe(sc_cache *c, struct sc_part *p)
{
	uint64_t freed = 0;

	for (uint32_t i = 0; i < SC_LANES; i++)
		freed += free_safe(c, p, &p->lanes[i], UINT64_MAX);
	note_freed(c, p, freed);
	return freed;
}

/*
 * The writer's own lane only: the blocks a lane holds, and the lines of
 * its list, stay with the CPU that retired them. A lane another CPU fills
 * is freed by its writers, at their next writes after any grace period, or
 * by whoever finds the partition past its bound (sc_limbo_within_bound()).
 */
bool sc_limbo_reclaim(sc_cache *c, struct sc_part *p)
{
	struct sc_lane *l = sc_lane_mine(p);
	uint64_t budget = FREE_BURST + 2ull * l->retired_since;

	l->retired_since = 0;
	if (l->limbo_head)
		note_freed(c, p, free_safe(c, p, l, budget));
	/* A reader still holding the rest back costs one more grace period per LIMBO_STEP, no more. */
	if (retired_unadvanced < LIMBO_STEP)
		return false;
	retired_unadvanced = 0;
	return true;
}

void sc_limbo_reclaim_now(sc_cache *c, struct sc_part *p)
{
	if (!sc_limbo_empty(p) && sc_rcu_advance(c) == 0)
		sc_limbo_free_safe(c, p);
}

/* -EAGAIN, naming the reader in the oldest section and what it holds back in p. */
static int held_back(sc_cache *c, struct sc_part *p, const struct sc_oldest_reader *o)
{
	return sc_fail(
		-EAGAIN,
		"cache \"%s\": partition %u cannot reuse %llu retired bytes: reader pid %u (thread %u) "
		"has been in one read section for %llu grace periods",
		c->name, sc_part_index(c, p), (unsigned long long)sc_limbo_bytes(p), o->pid, o->tid,
		(unsigned long long)o->lag);
}

int sc_limbo_drain(sc_cache *c, struct sc_part *p)
{
	struct sc_oldest_reader o;
	struct sc_reader *me;
	uint64_t start = sc_clock_ns();

	for (bool first = true;; first = false) {
		if (sc_rcu_advance(c) == 0)
			sc_limbo_free_safe(c, p);
		if (sc_limbo_empty(p))
			return 0;
		if (first && (me = sc_reader_find(c)) != NULL && me->nest > 0)
			return sc_fail(
				-EDEADLK,
				"cache \"%s\": partition %u cannot reuse %llu retired bytes while this "
				"thread's own read section is open",
				c->name, sc_part_index(c, p), (unsigned long long)sc_limbo_bytes(p));
		if (first) {
			sc_rcu_oldest_reader(c, &o);
			if (o.epoch != 0 && o.epoch == p->stalled_epoch)
				return held_back(c, p, &o);
		}
		if (sc_clock_ns() - start > SC_READER_PATIENCE_MS * 1000000ull)
			break;
		sched_yield();
	}
	sc_rcu_oldest_reader(c, &o);
	p->stalled_epoch = o.epoch;
	return held_back(c, p, &o);
}

uint64_t sc_limbo_bound(const sc_cache *c)
{
	uint64_t share = c->seg.cfg.max_retired / (2ull * c->seg.cfg.num_partition * SC_LANES);

	return share > 4 * LIMBO_STEP ? share : 4 * LIMBO_STEP;
}

/* What every partition holds retired, summed without their locks: a moment's figure. */
static uint64_t retired_in_all(const sc_cache *c)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < 2 * c->seg.cfg.num_partition; i++)
		sum += sc_limbo_bytes(sc_part_at(c, i));
	return sum;
}

int sc_limbo_within_bound(sc_cache *c, struct sc_part *p)
{
	if (sc_likely(sc_lane_mine(p)->limbo_bytes < c->retired_bound))
		return 0;
	/* Past its share: max_retired bounds what the cache holds, and the shares others leave are free. */
	if (retired_in_all(c) < c->seg.cfg.max_retired)
		return 0;
	return sc_limbo_drain(c, p);
}
