/* cluster_map.h — the partition map in the segment, as the library's writers consult it. */
#ifndef SC_CLUSTER_MAP_H
#define SC_CLUSTER_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"

/*
 * Whether this node may write partition (< num_partition) of a
 * distributed cache now: 0 with the epoch its writes carry when its
 * coordinator ships the replication logs and the map names this node the
 * partition's primary before its lease deadline. Else, with a message:
 * -EOPNOTSUPP when nothing ships the logs, -EREMOTE when another node is
 * the primary (the write is to be forwarded there: forward/forward_client.h;
 * sc_cluster_refused_partition() then names the partition), -EAGAIN when no
 * node may act as it now (being assigned, lease lapsed).
 */
#define SC_ANY_PARTITION \
	UINT32_MAX /* for sc_cluster_write_epoch(): the coordinator's part of the check alone */
int sc_cluster_write_epoch(sc_cache *c, uint32_t partition, uint64_t *epoch);

/* The node the map names partition's primary (SC_MAP_NO_NODE if none); *here: this node acts as it now. */
uint32_t sc_cluster_primary_node(const sc_cache *c, uint32_t partition, bool *here);

/*
 * Whether the map names this node among partition's replicas (its primary
 * included), as one consistent look: 1 with the partition's epoch and how
 * many replicas it has; 0 when not, or when the map is mid-change.
 */
int sc_cluster_copy_look(const sc_cache *c, uint32_t partition, uint64_t *epoch, uint32_t *replica_count);

/* The partition of the calling thread's last -EREMOTE from sc_cluster_write_epoch(). */
uint32_t sc_cluster_refused_partition(void);

#endif /* SC_CLUSTER_MAP_H */
