/* deletes.h — what the tuple deletes share with a replica applying its primary's log. */
#ifndef SC_DELETES_H
#define SC_DELETES_H

#include <stdbool.h>

#include "shm/cache.h"

/*
 * Writer side, under p's lock: empty p, every record retired and counted
 * as deleted, and log it as one entry. How many went, or a negative errno.
 */
int64_t sc_part_clear(sc_cache *c, struct sc_part *p);

/*
 * One partition's share of sc_delete_all(), sc_clear() and
 * sc_delete_by_match(), as a primary runs it for another node: partition
 * idx's tuples (structures false) or its structure partition's entries
 * emptied (0), or its tuples matching pattern deleted (how many); idx
 * below num_partition (the caller checks). Its primary another node's:
 * forwarded there, or -EAGAIN when this thread serves a forwarded request.
 */
int sc_clear_part(sc_cache *c, uint32_t idx, bool structures);
int sc_delete_by_match_part(sc_cache *c, const sc_tuple *pattern, uint32_t idx);

#endif /* SC_DELETES_H */
