/* expiry_sweep.c — taking expired records out of a partition's index or tree, under its lock. */
#include "index/expiry_sweep.h"

#include "index/btree.h"
#include "mem/record_accounts.h"
#include "record/record_deadline.h"

/*
 * Keeps everything: a sweep's predicate, since expired records go before
 * any predicate is asked (so the removal callback it is given never runs).
 */
static int keep(sc_cache *c, const struct sc_hit *hit, void *ctx)
{
	(void)c;
	(void)hit;
	(void)ctx;
	return 0;
}

/* How many writes of a partition holding deadlines pass between two steps of its sweep. */
#define SWEEP_EVERY 16u

int sc_sweep_bucket(sc_cache *c, struct sc_part *p, struct sc_index_cursor *cur)
{
	return sc_index_remove_step(c, p, cur, keep, NULL, sc_retire_removed, NULL);
}

void sc_sweep_step(sc_cache *c, struct sc_part *p)
{
	struct sc_index_cursor cur = { p->sweep_ioff, p->sweep_bucket, false };

	if (sc_part_is_ordered(c, p) || ++p->sweep_tick % SWEEP_EVERY != 0)
		return;
	(void)sc_sweep_bucket(c, p, &cur);
	p->sweep_ioff = cur.ioff;
	p->sweep_bucket = cur.done ? 0 : cur.bucket;
}

/* An ordered_set partition's expired records, found in one walk of its tree and removed by key. */
int sc_sweep_tree(sc_cache *c, struct sc_part *p)
{
	uint64_t before = p->expirations;
	struct sc_bt_iter it;
	int r = sc_bt_seek_prefix(c, p, (const uint8_t[16]){ 0 }, &it);

	while (r == 1) {
		struct sc_hit hit;

		r = sc_bt_current(&it, &hit, NULL);
		/* An expired record goes whatever the predicate says, counted as an expiration. */
		if (!r && sc_rec_expired(sc_blk_at(c, hit.rec_off), hit.rec_len))
			r = sc_bt_remove_record(c, p, &hit, sc_retire_removed, NULL);
		if (r >= 0)
			r = sc_bt_next(&it);
	}
	return r < 0 ? r : (int)(p->expirations - before);
}
