/* record_accounts.h — a partition's counts of the records it holds, kept as records come and go. */
#ifndef SC_RECORD_ACCOUNTS_H
#define SC_RECORD_ACCOUNTS_H

#include "shm/cache.h"

/* Why a record leaves its partition's index: each reason has its counter (struct sc_part). */
enum sc_leaving {
	SC_LEFT_REPLACED, /* a put of its key took its place */
	SC_LEFT_DELETED,
	SC_LEFT_EXPIRED,
	SC_LEFT_EVICTED,
	SC_LEFT_SUPERSEDED, /* a bag's KeyValue update took the place of its key's every value */
};

/* Writer side: the record at off was just published in p's index. */
void sc_record_joined(sc_cache *c, struct sc_part *p, uint64_t off);

/*
 * The same for a record that takes the place of every other record of its
 * key, which leave as SC_LEFT_SUPERSEDED: a replica learns of them from
 * this put alone.
 */
void sc_record_joined_superseding(sc_cache *c, struct sc_part *p, uint64_t off);

/*
 * Writer side: the record at off was just made unreachable in p's index (by
 * an exchange, as sc_limbo_retire() wants): count it out and retire it. A
 * record replaced or deleted after its deadline counts as expired.
 */
void sc_record_left(sc_cache *c, struct sc_part *p, uint64_t off, enum sc_leaving why);

/* An sc_removed_fn for every remove: count the record out of p (deleted) and retire it. */
void sc_retire_removed(sc_cache *c, struct sc_part *p, uint64_t rec_off, void *unused);

#endif /* SC_RECORD_ACCOUNTS_H */
