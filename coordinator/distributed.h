/* distributed.h — supercached in a cluster: etcd membership, peer links, the partition map in the segment. */
#ifndef SCD_DISTRIBUTED_H
#define SCD_DISTRIBUTED_H

#include <stdbool.h>

#include "cluster/cluster_node.h"

struct scd_daemon;

/*
 * In distributed mode: fence the cache (lease deadline 0), open the peer
 * links and start joining the cluster. READY=1 goes to systemd once etcd
 * has accepted this node's configuration; a mismatch ends the loop with
 * EX_CONFIG. 0 in local mode, or a negative errno.
 */
int scd_distributed_start(struct scd_daemon *d);

/* Fence, give the lease back (bounded by the etcd timeout) and end the loop with code. */
void scd_distributed_leave(struct scd_daemon *d, int code);

void scd_distributed_free(struct scd_daemon *d);

/* Whether node is up on a peer link. */
bool scd_distributed_node_up(const struct scd_daemon *d, const char *node);

#endif /* SCD_DISTRIBUTED_H */
