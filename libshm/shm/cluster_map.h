/* cluster_map.h — the partition map in the segment, as the library's writers consult it. */
#ifndef SC_CLUSTER_MAP_H
#define SC_CLUSTER_MAP_H

#include <stdint.h>

#include "shm/cache.h"

/*
 * Whether this node may write partition (< num_partition) of a
 * distributed cache now: 0 with the epoch its writes carry when its
 * coordinator ships the replication logs and the map names this node the
 * partition's primary before its lease deadline. Else, with a message:
 * -EOPNOTSUPP when nothing ships the logs or another node is the primary,
 * -EAGAIN when no node may act as it now (being assigned, lease lapsed).
 */
#define SC_ANY_PARTITION \
	UINT32_MAX /* for sc_cluster_write_epoch(): the coordinator's part of the check alone */
int sc_cluster_write_epoch(sc_cache *c, uint32_t partition, uint64_t *epoch);

#endif /* SC_CLUSTER_MAP_H */
