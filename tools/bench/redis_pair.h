/* redis_pair.h — Redis with one replica across the cluster's namespaces: the peer for sync writes. */
#ifndef REDIS_PAIR_H
#define REDIS_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster_rig.h"
#include "latency_log.h"

/* Whether redis-server is installed: without it the run says so and leaves Redis out. */
bool redis_pair_available(void);

/*
 * A redis-server in node 0's namespace (no persistence) and its replica in
 * node 1's; procs clients in node 0's namespace each SET a 16-byte key to a
 * 100-byte value and WAIT 1 0 (the replica has it), pipelined as a client
 * library sends them, one pair at a time, for at least min_ns. 0, or -1
 * with the reason in bench_last_error().
 */
int redis_pair_measure(struct cluster_rig *r, unsigned procs, uint64_t min_ns, struct latency *out);

#endif /* REDIS_PAIR_H */
