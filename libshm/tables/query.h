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

/* What a match returns for each tuple it matched. */
enum sc_match_shape {
	SC_MATCH_CAPTURES = 0,	     /* the captures (sc_get_by_match) */
	SC_MATCH_OBJECTS = 1,	     /* the whole tuple (sc_get_by_match_object) */
	SC_MATCH_KEYED_CAPTURES = 2, /* the tuple's key, then the captures: for a merge in key order */
	SC_MATCH_ALL = 3,	     /* every tuple, the pattern ignored (a scan's) */
	SC_MATCH_SHAPE_MAX = SC_MATCH_ALL,
};

/*
 * The matches of pattern (ignored for SC_MATCH_ALL) in partition idx alone,
 * shaped, into *out: how many, -ERANGE for an idx past num_partition, or
 * another negative errno. A read from this host's copy.
 */
int sc_match_in_part(sc_cache *c, uint32_t idx, const sc_tuple *pattern, enum sc_match_shape shape,
		     sc_tuples **out);

#endif /* SC_QUERY_H */
