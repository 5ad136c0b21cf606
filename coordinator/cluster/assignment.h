/* assignment.h — what the controller writes for a partition: its primary, its replicas, its in-sync set. */
#ifndef SCD_ASSIGNMENT_H
#define SCD_ASSIGNMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster_state.h"

/* What the controller knows of a partition, and how the cluster replicates. */
struct scd_assign_from {
	const struct scd_record *cur;
	/* cur's in-sync set when it is current (scd_isr_current), else NULL: every replica of cur counts */
	const struct scd_isr *isr;
	/* sync or strong mode: a primary only from the in-sync set, which holds every acknowledged write */
	bool in_sync_only;
	uint32_t partition;
	uint32_t replication_factor;
};

/*
 * The record the partition should have, given what it has and the n live
 * members eligible to hold it (distinct names). The replicas are the
 * replication_factor members rendezvous hashing ranks highest (placement.h);
 * the primary is:
 *
 *   - the current primary while it is live: a primary is never moved away
 *     from a live node (a node acts as primary until its lease says
 *     otherwise, so moving it would make two: docs/distributed.md);
 *   - else the first live member of the in-sync set, in its order;
 *   - else, unless in_sync_only, the first live replica of the current
 *     record (async mode: what it had not received is lost, and counted);
 *   - else, in async mode or for a partition never assigned, the highest
 *     ranked member.
 *
 * In sync mode a partition whose in-sync members are all down keeps its
 * record (returns false): it has no primary until one of them comes back,
 * rather than one that lacks acknowledged writes.
 *
 * The primary is always among the replicas, first. The new in-sync set
 * (*isr_out) is the primary and, among the other new replicas, those live
 * and in the current in-sync set; a partition never assigned has every
 * replica in it (none holds anything). In sync mode (in_sync_only) a move
 * is made before it breaks: a live in-sync replica the placement leaves out
 * stays, last, in the record and the in-sync set, for each new replica not
 * in sync yet, so the record may hold more than replication_factor
 * replicas until the new ones have caught up (docs/distributed.md, "Moving
 * a partition"). In async mode no in-sync set is kept to say when. With no live member the record
 * names no primary and no replica. Returns whether *out differs from *cur,
 * or the in-sync set was not current: both must then be written, together.
 * out->epoch is cur->epoch.
 */
bool scd_assign(const struct scd_assign_from *from, const char *const *live, uint32_t n,
		struct scd_record *out, struct scd_isr *isr_out);

#endif /* SCD_ASSIGNMENT_H */
