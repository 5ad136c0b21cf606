/* span_alloc.c — the segment-wide allocator of 64 KiB-page spans, over the page map. */
#include "mem/span_alloc.h"

#include "shm/crash_point.h"
#include "shm/shm_mutex.h"

static uint32_t *page_map(sc_cache *c)
{
	return (uint32_t *)(c->seg.base + c->seg.geo.pagemap_off);
}

static uint64_t heap_first_page(const sc_cache *c)
{
	return c->seg.geo.heap_off >> SC_PAGE_SHIFT;
}

static uint64_t heap_end_page(const sc_cache *c)
{
	return c->seg.map_len >> SC_PAGE_SHIFT;
}

/*
 * After a holder died: the map is right by construction (shm/layout.h), only
 * the count and the hint can be stale, and both are recomputed from it.
 */
static void recount(sc_cache *c)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	const uint32_t *map = page_map(c);
	uint64_t taken = 0;

	for (uint64_t pg = heap_first_page(c); pg < heap_end_page(c); pg++)
		taken += map[pg] != SC_PG_FREE;
	h->taken_pages = taken;
	h->search_from = heap_first_page(c);
}

void sc_span_map_rebuild(sc_cache *c, const struct sc_span_claim *claims, size_t n)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint32_t *map = page_map(c);
	uint64_t end = c->seg.geo.heap_off;

	for (uint64_t pg = heap_first_page(c); pg < heap_end_page(c); pg++)
		sc_write(&map[pg], SC_PG_FREE);
	for (size_t i = 0; i < n; i++) {
		uint64_t first = claims[i].off >> SC_PAGE_SHIFT;

		sc_write(&map[first], SC_PG_HEAD | claims[i].part);
		for (uint32_t k = 1; k < claims[i].pages; k++)
			sc_write(&map[first + k], SC_PG_BODY | claims[i].part);
		if (claims[i].off + ((uint64_t)claims[i].pages << SC_PAGE_SHIFT) > end)
			end = claims[i].off + ((uint64_t)claims[i].pages << SC_PAGE_SHIFT);
	}
	recount(c);
	/* What pages in use reach: every span is backed when it is taken (sc_seg_back()). */
	sc_write(&h->backed, end);
}

/* After the lock was taken (r from sc_shm_mutex_lock()): the recount it may owe. */
static int allocator_locked(sc_cache *c, int r, const struct sc_lock_wait *w, uint32_t limit_ms)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	char who[128];

	if (r == SC_LOCK_OWNER_DIED) {
		h->alloc_owner_died++;
		recount(c);
		return 0;
	}
	if (r == 0)
		return 0;
	if (r == -EDEADLK)
		return sc_fail(r, "cache \"%s\": this thread holds the allocator's lock already", c->name);
	sc_thread_describe(w->holder, who, sizeof(who));
	return sc_fail(r, "cache \"%s\": the allocator's lock has been held by %s for more than %u ms",
		       c->name, who, limit_ms);
}

static int lock_within_ms(sc_cache *c, uint32_t limit_ms)
{
	struct sc_lock_wait w = { c->seg.dev, c->seg.ino, 0 };

	return allocator_locked(c, sc_shm_mutex_lock(&sc_hdr(c)->alloc_lock, limit_ms, &w), &w, limit_ms);
}

static int lock_allocator(sc_cache *c)
{
	return lock_within_ms(c, SC_LOCK_WRITER_LIMIT_MS);
}

int sc_span_lock_within(sc_cache *c, unsigned seconds)
{
	return lock_within_ms(c, seconds * 1000u);
}

void sc_span_unlock(sc_cache *c)
{
	sc_shm_mutex_unlock(&sc_hdr(c)->alloc_lock);
}

uint32_t sc_span_pages(const sc_cache *c, uint64_t off)
{
	uint32_t head = sc_page_word(c, off), body = SC_PG_BODY | (head & SC_PG_OWNER_MASK);
	uint64_t pg = off >> SC_PAGE_SHIFT, end = heap_end_page(c);
	uint32_t n = 1;

	while (pg + n < end && sc_page_word(c, (pg + n) << SC_PAGE_SHIFT) == body)
		n++;
	return n;
}

uint64_t sc_span_next_owned(const sc_cache *c, uint32_t part, uint64_t from)
{
	for (uint64_t off = from; off < c->seg.map_len; off += SC_PAGE)
		if (sc_page_word(c, off) == (SC_PG_HEAD | part))
			return off;
	return 0;
}

/* The first run of pages free pages at or after from: its first page, or 0 if there is none. */
static uint64_t first_fit(sc_cache *c, uint64_t from, uint32_t pages)
{
	const uint32_t *map = page_map(c);
	uint64_t end = heap_end_page(c), run = 0;

	for (uint64_t pg = from; pg < end; pg++) {
		run = map[pg] == SC_PG_FREE ? run + 1 : 0;
		if (run == pages)
			return pg + 1 - pages;
	}
	return 0;
}

/* Whether use may take pages more pages: records leave the reserve of an evicting cache alone. */
static bool within_share(sc_cache *c, uint64_t pages, enum sc_span_use use)
{
	uint64_t heap = heap_end_page(c) - heap_first_page(c);

	if (use == SC_SPAN_FOR_INDEXES || c->seg.cfg.eviction == SC_EVICTION_OFF)
		return true;
	return sc_hdr(c)->taken_pages + pages <= heap - heap / 8;
}

int sc_span_alloc(sc_cache *c, uint32_t part, uint32_t pages, enum sc_span_use use, uint64_t *out)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint32_t *map = page_map(c);
	uint64_t from, first;
	int err = lock_allocator(c);

	if (err)
		return err;
	from = h->search_from;
	if (from < heap_first_page(c) || from > heap_end_page(c))
		from = heap_first_page(c);
	first = pages && within_share(c, pages, use) ? first_fit(c, from, pages) : 0;
	if (first == 0) {
		err = sc_fail(-ENOSPC, "cache \"%s\": memory_limit of %llu bytes reached", c->name,
			      (unsigned long long)c->seg.map_len);
		goto out;
	}
	err = sc_seg_back(&c->seg, first << SC_PAGE_SHIFT, (first + pages) << SC_PAGE_SHIFT);
	if (err)
		goto out;
	/* Head first, then the body in order: see the page map's rules in shm/layout.h. */
	sc_write(&map[first], SC_PG_HEAD | part);
	SC_CRASH_POINT();
	for (uint32_t i = 1; i < pages; i++) {
		sc_write(&map[first + i], SC_PG_BODY | part);
		SC_CRASH_POINT();
	}
	h->taken_pages += pages;
	if (first == from)
		h->search_from = first + pages;
	*out = first << SC_PAGE_SHIFT;
out:
	sc_shm_mutex_unlock(&h->alloc_lock);
	return err;
}

int sc_span_free(sc_cache *c, uint32_t part, uint64_t off)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint32_t *map = page_map(c);
	uint64_t first = off >> SC_PAGE_SHIFT;
	uint32_t pages;
	int err = lock_allocator(c);

	if (err)
		return err;
	if (off % SC_PAGE != 0 || first < heap_first_page(c) || first >= heap_end_page(c) ||
	    map[first] != (SC_PG_HEAD | part)) {
		err = sc_fail(-EUCLEAN, "cache \"%s\": freeing a span at %llu that partition %u does not own",
			      c->name, (unsigned long long)off, part);
		goto out;
	}
	pages = sc_span_pages(c, off);
	/* The body from its last page, then the head: see the page map's rules in shm/layout.h. */
	for (uint32_t i = pages; i-- > 1;) {
		sc_write(&map[first + i], SC_PG_FREE);
		SC_CRASH_POINT();
	}
	sc_write(&map[first], SC_PG_FREE);
	SC_CRASH_POINT();
	h->taken_pages -= pages;
	if (first < h->search_from)
		h->search_from = first;
out:
	sc_shm_mutex_unlock(&h->alloc_lock);
	return err;
}
