/* assignment.h — what the controller writes for a partition: who is its primary, who holds its replicas. */
#ifndef SCD_ASSIGNMENT_H
#define SCD_ASSIGNMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_state.h"

/*
 * The record partition should have, given its current one and the n live
 * members eligible to hold it (distinct names). The replicas are the
 * replication_factor members rendezvous hashing ranks highest (placement.h);
 * the primary is:
 *
 *   - the current primary while it is live: a primary is never moved away
 *     from a live node (a node acts as primary until its lease says
 *     otherwise, so moving it would make two: docs/distributed.md);
 *   - else the first live replica of the current record, in its order (the
 *     copy most likely to be complete; the next issue's in-sync set makes
 *     that a rule);
 *   - else the highest ranked member.
 *
 * The primary is always among the replicas, first. With no live member the
 * record names no primary and no replica. Returns whether *out differs from
 * *cur (and so must be written); out->epoch is cur->epoch.
 */
bool scd_assign(const struct scd_record *cur, const char *const *live, uint32_t n, uint32_t partition,
		uint32_t replication_factor, struct scd_record *out);

#endif /* SCD_ASSIGNMENT_H */
