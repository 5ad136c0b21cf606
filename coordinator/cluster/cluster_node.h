/* cluster_node.h — one node's cluster side, as the daemon holds it: etcd client, membership, peer links, replication. */
#ifndef SCD_CLUSTER_NODE_H
#define SCD_CLUSTER_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/forward.h"
#include "cluster/in_sync.h"
#include "cluster/membership.h"
#include "cluster/peer_link.h"
#include "cluster/replication.h"

/* One node's cluster side: NULL in local mode. */
struct scd_cluster {
	struct scd_etcd *etcd;
	struct scd_membership *membership;
	struct scd_peers *peers;
	struct scd_replication *replication;
	struct scd_forward *forward;	   /* writes forwarded to and from the partitions' primaries */
	struct scd_isr_writer *isr_writer; /* the in-sync sets this node writes as primary */
	sd_event_source *write_source;	   /* writes the map once per turn of the loop */
	unsigned pending;		   /* SCD_CHANGED_* since the last write */
	bool ready_sent;
	bool leaving;
	int exit_code; /* what the loop ends with once the lease is given back */
	uint64_t map_writes;
	int last_map_error;
	/* the nodes seen up on a peer link: for NodeUp / NodeDown */
	char up[SCD_MAX_MEMBERS][SCD_HELLO_NAME_MAX + 1];
	uint32_t up_count;
};

#endif /* SCD_CLUSTER_NODE_H */
