/* cluster.h — supercache-bench --cluster: three nodes in network namespaces, measured against a TCP round trip and Redis. */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Build the rig, measure, print the table (or one JSON object), take it all
 * down. min_ns is each measurement's length. 0, or -1 with the reason in
 * bench_last_error().
 */
int cluster_run(uint64_t min_ns, bool json);

#endif /* CLUSTER_H */
