/* query.h — what pattern queries share, reads and deletes alike: partitions to visit, records to try. */
#ifndef SC_QUERY_H
#define SC_QUERY_H

#include "index/hash_index.h"
#include "record/match.h"

/* The partitions a query visits, [first, end): the one partition_data picks, or all when it is NULL. */
int sc_query_range(const sc_cache *c, const sc_field *partition_data, uint32_t *first, uint32_t *end);

/*
 * Call fn on the records of p a pattern could match: only its key's, when
 * the pattern binds the key; else every record (pat may be NULL: a scan).
 * Reader side: inside a read section.
 */
int sc_query_walk(sc_cache *c, struct sc_part *p, const struct sc_pattern *pat, sc_hit_fn fn, void *ctx);

/* Small patterns match in the matcher's own room: no allocation per query. */
#define SC_MATCHER_INLINE 16u

/* A pattern and the room matching it needs: the decoded fields, and the captures. */
struct sc_matcher {
	const struct sc_pattern *pat;
	sc_field *scratch; /* pat's nfields: the record's fields after a match */
	sc_field *caps;	   /* pat's ncaptures: the captured values after a match */
	sc_field inline_fields[SC_MATCHER_INLINE];
};

int sc_matcher_init(struct sc_matcher *m, const struct sc_pattern *pat);
void sc_matcher_free(struct sc_matcher *m);

/* Whether the record hit names matches: 1, 0, or -EUCLEAN (with a message). */
int sc_matcher_test(sc_cache *c, struct sc_matcher *m, const struct sc_hit *hit);

#endif /* SC_QUERY_H */
