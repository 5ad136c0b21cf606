/* entry_index.c — finding and removing one structure entry in its partition's index. */
#include "index/entry_index.h"

#include "mem/record_accounts.h"

static int keep_hit(sc_cache *c, const struct sc_hit *hit, void *out)
{
	(void)c;
	*(struct sc_hit *)out = *hit;
	return 1;
}

/*
 * An entry's key is in its partition once: the first record found is it.
 * Not sc_index_find(), which stays the tuple get's own, inlined there.
 */
int sc_entry_find(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit *hit)
{
	int r = sc_index_find_each(c, p, route, keep_hit, hit);

	return r > 0 ? 1 : r;
}

int sc_entry_remove(sc_cache *c, struct sc_part *p, const struct sc_route *route)
{
	return sc_index_remove(c, p, route, NULL, NULL, sc_retire_removed, NULL);
}
