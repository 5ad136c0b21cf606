/* record_store.h — storing one checked, routed record under its partition's lock, for every kind of entry. */
#ifndef SC_RECORD_STORE_H
#define SC_RECORD_STORE_H

#include "index/hash_index.h"
#include "record/tuple_codec.h"
#include "shm/cache.h"

/* A tuple ready to be written: checked, routed, its record size known. */
struct sc_put_item {
	const sc_tuple *tuple;
	struct sc_route route;
	uint32_t len;	   /* of the record, its deadline aside */
	uint64_t deadline; /* record/record_deadline.h; 0 for none */
};

/*
 * Writer side, under p's lock: allocate and write w's record, not yet
 * published, at *off. 0, or -ENOSPC with nothing allocated.
 */
int sc_record_write(sc_cache *c, struct sc_part *p, const struct sc_put_item *w, uint64_t *off);
/*
 * Writer side, under p's lock: store t, whose record takes len bytes
 * (sc_tuple_check_put() or sc_tuple_record_len() gave it), under route's
 * key, by p's rules: a tuple partition's table type, a structure
 * partition's one entry per key. Retires what it replaces. 0 or a negative
 * errno (-ENOSPC when memory stays short after reclaiming what readers have
 * released, and evicting when the cache evicts). deadline: as for
 * sc_rec_set_deadline(), 0 for none.
 */
int sc_put_record(sc_cache *c, struct sc_part *p, const sc_tuple *t, const struct sc_route *route,
		  uint32_t len, uint64_t deadline);

/*
 * sc_put_record() for a record that takes the place of every record of its
 * key (a KeyValue update on a bag or duplicate_bag), which is sc_put_record()
 * where a key holds one record. It goes in beside them, so that a reader
 * of the key's newest record finds the old one or the new one, never none;
 * then the others leave. A writer that dies between leaves
 * p->superseding, which the repair finishes (recovery/batch_resolve.h).
 */
int sc_put_superseding(sc_cache *c, struct sc_part *p, const sc_tuple *t, const struct sc_route *route,
		       uint32_t len, uint64_t deadline);

/* Take w's partition's lock, sc_put_record() w there, let the lock go. */
int sc_put_locking(sc_cache *c, const struct sc_put_item *w);

/*
 * Store n tuples, each already checked by sc_tuple_check_put() for this
 * cache, in exactly the order given, holding every partition lock
 * they need (taken once each, in ascending order) for the whole run, so
 * that a reader who sees one of them sees every one before it. On an error
 * the tuples before the failing one stay stored.
 */
int sc_put_in_order(sc_cache *c, const sc_tuple *tuples, size_t n);

#endif /* SC_RECORD_STORE_H */
