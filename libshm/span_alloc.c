/* span_alloc.c — the segment-wide allocator of 64 KiB-page spans: first fit, coalescing, bump. */
#include "span_alloc.h"

#include "shm_mutex.h"

static int lock_allocator(sc_cache *c)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	int r = sc_shm_mutex_lock(&h->alloc_lock);

	if (r == SC_LOCK_OWNER_DIED) {
		/*
		 * The stores below are ordered so that a writer dying between
		 * any two of them can leak a span but never leave two free
		 * spans overlapping; the walk's checks catch anything worse.
		 */
		h->alloc_owner_died++;
		sc_shm_mutex_consistent(&h->alloc_lock);
		r = 0;
	}
	return r;
}

/* The end of the pages ever handed out: the bump pointer, which a scribbler may have moved. */
static uint64_t heap_end(sc_cache *c)
{
	uint64_t bump = sc_hdr(c)->bump;

	return bump < c->seg.map_len ? bump : c->seg.map_len;
}

/* A free span at off, checked before it is trusted. */
static struct sc_span_free *free_span_at(sc_cache *c, uint64_t off)
{
	struct sc_span_free *s;

	if (off % SC_PAGE != 0 || !sc_seg_span_ok(&c->seg, off, sizeof(*s)))
		return NULL;
	s = (struct sc_span_free *)sc_seg_at(&c->seg, off);
	if (s->magic != SC_SPAN_FREE_MAGIC || s->pages == 0 ||
	    off + ((uint64_t)s->pages << SC_PAGE_SHIFT) > heap_end(c))
		return NULL;
	return s;
}

static int corrupt_list(sc_cache *c)
{
	return sc_fail(-EUCLEAN, "cache \"%s\": the free span list is corrupt", c->name);
}

static int take_free(sc_cache *c, uint32_t pages, uint64_t *out)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint64_t *link = &h->free_spans;
	uint64_t budget = c->seg.map_len >> SC_PAGE_SHIFT;

	while (*link) {
		uint64_t off = *link;
		struct sc_span_free *s = free_span_at(c, off);

		if (!s || budget-- == 0)
			return corrupt_list(c);
		if (s->pages >= pages) {
			if (s->pages == pages) {
				*link = s->next;
			} else {
				uint64_t rest_off = off + ((uint64_t)pages << SC_PAGE_SHIFT);
				struct sc_span_free *rest =
					(struct sc_span_free *)sc_seg_at(&c->seg, rest_off);

				rest->magic = SC_SPAN_FREE_MAGIC;
				rest->pages = s->pages - pages;
				rest->next = s->next;
				*link = rest_off;
			}
			s->magic = 0;
			h->free_pages -= pages;
			*out = off;
			return 1;
		}
		link = &s->next;
	}
	return 0;
}

int sc_span_alloc(sc_cache *c, uint32_t pages, uint64_t *out)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint64_t bytes = (uint64_t)pages << SC_PAGE_SHIFT;
	int err = lock_allocator(c);

	if (err)
		return err;
	err = take_free(c, pages, out);
	if (err == 0) {
		uint64_t off = h->bump;

		if (off < c->seg.geo.heap_off || off > c->seg.map_len)
			err = sc_fail(-EUCLEAN, "cache \"%s\": the heap's bump pointer is corrupt", c->name);
		else if (bytes > c->seg.map_len - off)
			err = sc_fail(-ENOSPC, "cache \"%s\": memory_limit of %llu bytes reached", c->name,
				      (unsigned long long)c->seg.map_len);
		else
			err = sc_seg_back(&c->seg, off + bytes);
		if (!err) {
			h->bump = off + bytes;
			*out = off;
		}
	} else if (err > 0) {
		err = 0;
	}
	sc_shm_mutex_unlock(&h->alloc_lock);
	return err;
}

int sc_span_free(sc_cache *c, uint64_t off, uint32_t pages)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint64_t *link = &h->free_spans;
	uint64_t budget = c->seg.map_len >> SC_PAGE_SHIFT;
	struct sc_span_free *prev = NULL, *s;
	uint64_t prev_off = 0;
	int err = lock_allocator(c);

	if (err)
		return err;
	if (off % SC_PAGE != 0 || off < c->seg.geo.heap_off || pages == 0 ||
	    off + ((uint64_t)pages << SC_PAGE_SHIFT) > heap_end(c)) {
		err = sc_fail(-EUCLEAN, "cache \"%s\": freeing a span outside the heap", c->name);
		goto out;
	}
	/* Find the neighbours: prev ends at or before off, *link starts after it. */
	while (*link && *link < off) {
		prev_off = *link;
		prev = free_span_at(c, prev_off);
		if (!prev || budget-- == 0) {
			err = corrupt_list(c);
			goto out;
		}
		link = &prev->next;
	}
	s = (struct sc_span_free *)sc_seg_at(&c->seg, off);
	s->magic = SC_SPAN_FREE_MAGIC;
	s->pages = pages;
	s->next = *link;
	if (s->next && s->next == off + ((uint64_t)pages << SC_PAGE_SHIFT)) {
		struct sc_span_free *next = free_span_at(c, s->next);
		if (next) {
			s->pages += next->pages;
			s->next = next->next;
			next->magic = 0;
		}
	}
	if (prev && prev_off + ((uint64_t)prev->pages << SC_PAGE_SHIFT) == off) {
		prev->next = s->next;
		prev->pages += s->pages;
		s->magic = 0;
	} else {
		*link = off;
	}
	h->free_pages += pages;
out:
	sc_shm_mutex_unlock(&h->alloc_lock);
	return err;
}
