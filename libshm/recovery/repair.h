/* repair.h — a partition made whole again after a writer died holding its lock. */
#ifndef SC_REPAIR_H
#define SC_REPAIR_H

#include "shm/cache.h"
#include "shm/offsets.h"

/*
 * A writer may die between any two of its stores. What it leaves is never
 * seen by readers half-done: a record, an index, a tree root or a sequence
 * position becomes visible by one store, after it is complete. What it can
 * leave is the writer's own bookkeeping out of step: a block allocated and
 * never published, a block unpublished and not yet in limbo, free lists
 * and the limbo list cut short, counters off by a write, a slab linked but
 * never carved, a span taken and not yet used, a queue item written whose
 * tail was not moved (or a head moved whose item was not removed).
 *
 * The repair takes the partition's census (recovery/census.h) and rebuilds all of
 * that from what readers can reach, which is the truth: every block of the
 * partition's slabs and spans is reachable (kept), in limbo (kept, in
 * order), free (put back on its list), or neither, and then it goes to
 * limbo (it may still be read by someone who found it before it was
 * unpublished) or, for a span nobody ever published, straight back to the
 * segment. Counters are recounted; items outside their sequence's
 * [head, tail) are removed, which completes a take and undoes a push. So
 * the interrupted write is undone if it was not published and completed if
 * it was, and the memory accounting is exact. A repair that is itself
 * interrupted is run again by the next writer: every step is idempotent.
 */

/*
 * Under p's lock, when its last holder died or a repair did not finish. 0,
 * -ENOMEM (the repair is retried by the next writer), or -EUCLEAN when the
 * partition holds damage a writer could not have left (a scribbler's): it
 * then stays marked and refuses writes until sc_partition_reset().
 */
int sc_part_repair(sc_cache *c, struct sc_part *p);

/*
 * The same without reading the page map, for sc_repair(), which rebuilds
 * it: p's slabs are known by their headers, and every span p uses (its
 * slabs, and the large blocks it reaches or holds retired) is added to
 * spans, for the caller to mark p's. Spans p owns and does not use are
 * not looked for: they are free in the rebuilt map. 0, -ENOMEM, or
 * -EUCLEAN when p holds damage (the caller empties it).
 */
int sc_part_rebuild(sc_cache *c, struct sc_part *p, struct sc_offsets *spans);

#endif /* SC_REPAIR_H */
