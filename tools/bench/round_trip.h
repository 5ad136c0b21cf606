/* round_trip.h — a TCP round trip between two of the cluster's namespaces: what every remote step costs. */
#ifndef ROUND_TRIP_H
#define ROUND_TRIP_H

#include <stdint.h>

#include "cluster_rig.h"
#include "latency_log.h"

/*
 * A client in node from sends a key and a value's worth of bytes (116) to an
 * echo server in node to and reads them back, one message at a time, over
 * one TCP connection with TCP_NODELAY, for at least min_ns. 0, or -1 with
 * the reason in bench_last_error().
 */
int round_trip_measure(struct cluster_rig *r, int from, int to, uint64_t min_ns, struct latency *out);

#endif /* ROUND_TRIP_H */
