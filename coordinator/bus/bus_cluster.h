/* bus_cluster.h — the org.supercache.Cluster1 interface: the cluster as this node sees it. */
#ifndef SCD_BUS_CLUSTER_H
#define SCD_BUS_CLUSTER_H

#include <stdbool.h>

#include "daemon.h"

#define SCD_CLUSTER_INTERFACE "org.supercache.Cluster1"

extern const sd_bus_vtable scd_cluster_vtable[];

/*
 * The entries of ReplicationLag's reply in distributed mode, into the open
 * a{sv} m: partition's role on this node and, on its primary, each other
 * replica's lag (docs/distributed.md, "Node monitoring"). 0 or a negative errno.
 */
int scd_bus_replication_lag(sd_bus_message *m, const struct scd_daemon *d, uint32_t partition);

/*
 * ClusterHealth's entries in distributed mode, into the open a{sv} m:
 * cluster, nodes, unreachable_nodes, healthy_nodes (this node when
 * node_healthy, the others when their links are up), the partitions
 * without a primary or under-replicated, and the most behind replica of
 * the partitions this node is primary of. 0 or a negative errno.
 */
int scd_bus_cluster_health(sd_bus_message *m, const struct scd_daemon *d, bool node_healthy);

/* Emit NodeUp or NodeDown for node (a peer link came up, or went down). */
void scd_bus_node_changed(struct scd_daemon *d, const char *node, bool up);

#endif /* SCD_BUS_CLUSTER_H */
