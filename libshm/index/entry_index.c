/* entry_index.c — finding and removing one structure entry in its partition's index. */
#include "index/entry_index.h"

#include "mem/record_accounts.h"
#include "record/entry_key.h"

/* Keep the most recently written of the key's records (out's rec_off 0 before the first). */
static int keep_newest(sc_cache *c, const struct sc_hit *hit, void *out)
{
	struct sc_hit *newest = out;
	uint64_t version = sc_read(&sc_blk_at(c, hit->rec_off)->version);

	if (!newest->rec_off || version > newest->version) {
		*newest = *hit;
		newest->version = version;
	}
	return 0;
}

/*
 * An entry's key is in its partition once, the first record found is it
 * (sc_index_find(): its probe has no callback to call); but a bag's
 * KeyValue key has a record per value, and the newest is the key's value.
 */
int sc_entry_find(sc_cache *c, struct sc_part *p, const struct sc_route *route, struct sc_hit *hit)
{
	int r;

	if (sc_entry_kind_is_unique(c, sc_route_entry_kind(route)))
		return sc_index_find(c, p, route, hit);
	hit->rec_off = 0;
	r = sc_index_find_each(c, p, route, keep_newest, hit);
	return r > 0 ? 1 : r;
}

int sc_entry_remove(sc_cache *c, struct sc_part *p, const struct sc_route *route)
{
	return sc_index_remove(c, p, route, NULL, NULL, sc_retire_removed, NULL);
}
