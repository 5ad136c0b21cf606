/* distributed.h — supercached in a cluster: etcd membership, peer links, the partition map in the segment. */
#ifndef SCD_DISTRIBUTED_H
#define SCD_DISTRIBUTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/membership.h"
#include "cluster/peer_link.h"

struct scd_daemon;

/* One node's cluster side: NULL in local mode. */
struct scd_cluster {
	struct scd_etcd *etcd;
	struct scd_membership *membership;
	struct scd_peers *peers;
	sd_event_source *write_source; /* writes the map once per turn of the loop */
	unsigned pending;	       /* SCD_CHANGED_* since the last write */
	bool ready_sent;
	bool leaving;
	int exit_code; /* what the loop ends with once the lease is given back */
	uint64_t map_writes;
	int last_map_error;
	/* the nodes seen up on a peer link: for NodeUp / NodeDown */
	char up[SCD_MAX_MEMBERS][SCD_HELLO_NAME_MAX + 1];
	uint32_t up_count;
};

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
