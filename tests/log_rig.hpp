// log_rig.hpp — a distributed cache standing alone as the primary of its partitions, with a test in its
// coordinator's place: what the replication log's tests (test_replication_log.cpp, test_ship_bell.cpp) share.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

namespace sctest
{

inline const uint32_t parts = 4;

inline sc_options log_options(uint32_t table_type = SC_SET)
{
	sc_options o = distributed_options(parts, 64 << 20, 2);
	o.table_type = table_type;
	return o;
}

inline uint64_t now_ns()
{
	return clock_ms() * 1000000ull;
}

// Two nodes, "a" and "b"; this cache is self, partition p's primary is primary_of(p), both hold every partition.
inline void write_map(sc_cache *c, uint16_t self, uint16_t (*primary_of)(uint32_t), uint64_t deadline_ns)
{
	sc_cluster_map m;
	std::memset(&m, 0, sizeof(m));
	m.node_count = 2;
	m.self = self;
	m.lease_deadline_ns = deadline_ns;
	std::strcpy(m.nodes[0], "a");
	std::strcpy(m.nodes[1], "b");
	std::vector<sc_partition_owners> o(parts);
	for (uint32_t p = 0; p < parts; p++) {
		o[p].epoch = 100;
		o[p].primary = primary_of(p);
		o[p].replica_count = 2;
		o[p].replicas[0] = 0;
		o[p].replicas[1] = 1;
	}
	REQUIRE(sc_cluster_map_write(c, &m, o.data()) == 0);
}

inline uint16_t node_a(uint32_t)
{
	return 0;
}

// Started, and node a of the map: the primary of every partition for an hour, its logs shipped.
inline void start_as_shipping_primary(Cache &a)
{
	REQUIRE(a.start_error() == 0);
	write_map(a, 0, node_a, now_ns() + 3600ull * 1000000000ull);
	REQUIRE(sc_cluster_shipping_write(a, 1) == 0);
}

// log_options() in replication mode, a write waiting at most majority_timeout_ms for acknowledgements.
inline sc_options mode_options(uint32_t mode, uint32_t majority_timeout_ms = 100)
{
	sc_options o = log_options();
	o.replication_mode = mode;
	o.majority_timeout_ms = majority_timeout_ms;
	return o;
}

} // namespace sctest
