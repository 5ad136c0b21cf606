/* bus_cluster.h — the org.supercache.Cluster1 interface: the cluster as this node sees it. */
#ifndef SCD_BUS_CLUSTER_H
#define SCD_BUS_CLUSTER_H

#include <stdbool.h>

#include "daemon.h"

#define SCD_CLUSTER_INTERFACE "org.supercache.Cluster1"

extern const sd_bus_vtable scd_cluster_vtable[];

/* Emit NodeUp or NodeDown for node (a peer link came up, or went down). */
void scd_bus_node_changed(struct scd_daemon *d, const char *node, bool up);

#endif /* SCD_BUS_CLUSTER_H */
