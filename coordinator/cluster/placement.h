/* placement.h — which live members hold each partition: rendezvous hashing, the same answer on every node. */
#ifndef SCD_PLACEMENT_H
#define SCD_PLACEMENT_H

#include <stdint.h>

#include <supercache.h>

/* A partition's holders, as indexes into the members given: the primary first, then the replicas. */
struct scd_placement {
	uint32_t holder[SC_MAX_REPLICATION_FACTOR];
	uint32_t count; /* min(replication_factor, members) */
};

/*
 * Place partition among the n members named (distinct names): each member
 * scores the partition with a hash of its name and the partition's number,
 * and the replication_factor highest scores hold it, the highest as
 * primary (highest random weight). Every node computes the same placement
 * from the same membership, whatever order it lists the members in; when a
 * member leaves, only the partitions it held move, and each to one new
 * holder, the others keeping their order; when one joins, it takes only
 * the partitions where it outscores a holder. 0, or -EINVAL when
 * replication_factor is 0 or above SC_MAX_REPLICATION_FACTOR.
 */
int scd_place(const char *const *members, uint32_t n, uint32_t partition, uint32_t replication_factor,
	      struct scd_placement *out);

#endif /* SCD_PLACEMENT_H */
