/* census.h — what a partition holds, found by walking it: the blocks readers can reach, and its limbo list. */
#ifndef SC_CENSUS_H
#define SC_CENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "index/hash_index.h"
#include "shm/cache.h"
#include "shm/offsets.h"
/* A problem a walk found: the partition (all partitions count from 0), where, and what. */
typedef void (*sc_problem_fn)(void *ctx, uint32_t part, uint64_t off, const char *what);

struct sc_census {
	/* set by the caller: told every problem found on the way (the checker), or NULL */
	sc_problem_fn problem;
	void *problem_ctx;
	bool verify; /* also verify every record's checksum and key (the checker) */

	struct sc_offsets reach;	/* sorted: every block a reader can reach */
	struct sc_offsets limbo;	/* the limbo list, in its order */
	struct sc_offsets limbo_sorted; /* the same, sorted */
	struct sc_offsets orphan_items; /* queue and stack items outside their sequence's [head, tail) */
	bool limbo_broken;		/* the list stops at a bad link before its tail */
	uint64_t damaged;		/* reachable things that are not what they should be */
	uint64_t records;
	uint64_t record_bytes;
	uint64_t ttl_records; /* records carrying a deadline */
	uint64_t nodes;
	uint64_t limbo_bytes;
	struct sc_index_census index;
};

/*
 * Walk p: its index (or tree) and every record, node and sequence block it
 * reaches, and its limbo list. Holding p's lock, or on a segment nobody
 * writes. 0, or -ENOMEM; damage is counted and told, not returned.
 * Release with sc_census_free() whatever the result.
 */
int sc_census_take(sc_cache *c, struct sc_part *p, struct sc_census *cs);
void sc_census_free(struct sc_census *cs);

#endif /* SC_CENSUS_H */
