/* read_every.h — reads over several partitions made by a read mode: each partition read as read_modes.h reads one, the answers put together. */
#ifndef SC_READ_EVERY_H
#define SC_READ_EVERY_H

#include <stdbool.h>

#include "shm/cache.h"
#include "tables/read_modes.h"

/*
 * One partition's part of such a read, by opts' mode: t is (the partition
 * index, the read's own arguments...), as the forwarded read carries it
 * too; what it found into *out. Each module keeps its own (a match's
 * here, a KeyValue namespace's and a struct type's in structures/), and
 * the node that serves a forwarded one calls the same.
 */
typedef int (*sc_part_read_fn)(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out);

/*
 * Run part for each partition index in [first, end), each with (index,
 * args' fields...), and put what they found together into *out in that
 * order: how many tuples, or the first error (nothing in *out then).
 */
int sc_read_partitions(sc_cache *c, const sc_read_opts *opts, uint32_t first, uint32_t end,
		       sc_part_read_fn part, const sc_tuple *args, sc_tuples **out);

/*
 * Reorder *t by the field at key of each tuple, in the cache's key order
 * (an ordered_set's, for a read over several partitions); with strip_key,
 * drop that field (which must be the first) from each: 0, or -ENOMEM.
 */
int sc_results_sort_by_key(sc_tuples **t, uint32_t key, bool strip_key);

/*
 * A part of a read over the structure partitions (KeyValue, Struct), by
 * opts' mode: t[0] the structure partition's index (checked: -EPROTO when
 * it names none), call and here as sc_read_by_mode() takes them.
 */
int sc_structure_part_read(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, uint32_t call,
			   sc_read_here_fn here, sc_tuples **out);

/* A match's part in partition t[0] (for sc_forward_serve too): t is (index, enum sc_match_shape, pattern fields...). */
int sc_match_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out);

#endif /* SC_READ_EVERY_H */
