/* record_accounts.c — a partition's counts of the records it holds, kept as records come and go. */
#include "mem/record_accounts.h"

#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "shm/probes.h"

void sc_record_joined(sc_cache *c, struct sc_part *p, uint64_t off)
{
	const struct sc_blk *rec = sc_blk_at(c, off);

	p->bytes += sc_block_size(rec);
	SC_CRASH_POINT();
	p->records++;
	if (sc_rec_deadline_word(rec, rec->len))
		p->ttl_records++;
}

void sc_record_left(sc_cache *c, struct sc_part *p, uint64_t off, enum sc_leaving why)
{
	const struct sc_blk *rec = sc_blk_at(c, off);

	if (why != SC_LEFT_EVICTED && sc_rec_expired(rec, rec->len))
		why = SC_LEFT_EXPIRED;
	p->bytes -= sc_block_size(rec);
	SC_CRASH_POINT();
	p->records--;
	if (sc_rec_deadline_word(rec, rec->len))
		p->ttl_records--;
	if (why == SC_LEFT_DELETED) {
		p->deletes++;
	} else if (why == SC_LEFT_EXPIRED) {
		p->expirations++;
		SC_PROBE(expire, c->trace_id, sc_part_index(c, p), sc_block_size(rec));
	} else if (why == SC_LEFT_EVICTED) {
		p->evictions++;
		SC_PROBE(evict, c->trace_id, sc_part_index(c, p), sc_block_size(rec));
	}
	sc_limbo_retire(c, p, off);
}

void sc_retire_removed(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *unused)
{
	(void)unused;
	sc_record_left(c, p, rec_off, SC_LEFT_DELETED);
}
