/* record_accounts.c — a partition's counts of the records it holds, kept as records come and go. */
#include "mem/record_accounts.h"

#include "mem/block_alloc.h"
#include "mem/limbo.h"
#include "mem/repl_log.h"
#include "record/entry_key.h"
#include "record/record_deadline.h"
#include "shm/crash_point.h"
#include "shm/probes.h"

static inline __attribute__((always_inline)) void joined(sc_cache *c, struct sc_part *p, uint64_t off,
							 uint8_t why)
{
	const struct sc_blk *rec = sc_blk_at(c, off);

	p->bytes += sc_block_size(rec);
	SC_CRASH_POINT();
	p->records++;
	if (sc_rec_deadline_word(rec, rec->len))
		p->ttl_records++;
	if (sc_unlikely(c->logs_writes))
		sc_repl_note_put(c, p, off, why);
}

void sc_record_joined(sc_cache *c, struct sc_part *p, uint64_t off)
{
	joined(c, p, off, 0);
}

void sc_record_joined_superseding(sc_cache *c, struct sc_part *p, uint64_t off)
{
	joined(c, p, off, SC_REPL_SUPERSEDES);
}

/*
 * Whether a replica learns of the record rec replaced from the put that
 * replaced it: a set's put of its key (or a structure's of its entry) takes
 * the old record's place there too. A bag's record (or a bag's KeyValue
 * value) is replaced only by a copy of itself (sc_touch() giving it a
 * deadline), which a bag's put would add beside it: the replica is told of
 * the removal.
 */
static bool replaced_by_key(const sc_cache *c, const struct sc_part *p, const struct sc_blk *rec)
{
	if (sc_part_is_structure(c, p))
		return sc_entry_kind_is_unique(c, sc_rec_entry_kind((const uint8_t *)rec, rec->len));
	return c->seg.cfg.table_type == SC_SET || c->seg.cfg.table_type == SC_ORDERED_SET;
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
	if (sc_unlikely(c->logs_writes) && why != SC_LEFT_SUPERSEDED &&
	    (why != SC_LEFT_REPLACED || !replaced_by_key(c, p, rec)))
		sc_repl_note_removed(c, p, off, (uint8_t)why);
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
