// map_history.hpp — a checker over recorded views of the partition map: one primary per epoch, no split brain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sctest
{
struct PartitionView {
	int64_t epoch;
	std::string primary;   // "" = none
	uint16_t replicas = 0; // the primary among them; what placement, not the acting checks, looks at
};

// One reading of one node's map. All times are CLOCK_MONOTONIC on the one host all nodes share.
struct MapSample {
	// When the test read this node's map: take it just BEFORE the read, so that every change the
	// reading did not show is later than t_ns (map_history.cpp says why that matters).
	uint64_t t_ns;
	// The node whose segment was read.
	std::string node;
	// The map's change counter: +1 per change the node wrote (a gap = changes the test missed).
	uint64_t seq;
	// When the node wrote its latest change (the state this sample shows).
	uint64_t changed_ns;
	// The node's lease deadline: it may act as primary only while now < deadline_ns (0 = no lease).
	uint64_t deadline_ns;
	// Index = partition number.
	std::vector<PartitionView> parts;
};

struct Violation {
	std::string what;
	// Only possible: it rests on changes the recorder missed, taken as acted through (a split brain
	// that a renewal nobody saw could have caused). Reported, and counted apart from the proven ones.
	bool possible = false;
};

// The history's problems, none if it is clean. Samples may interleave nodes; each node's own
// samples are taken in t_ns order. Checked:
//  (a) at most one primary name per (partition, epoch) across all samples ("" is no name);
//  (b) per (node, partition) the epoch never goes back;
//  (c) split brain: per partition, the intervals in which different nodes act as primary never
//      overlap. A node acts as primary of p at t when its map as of t names it primary of p and
//      t < that map state's deadline_ns. How the intervals are bounded when the test missed
//      changes is explained in map_history.cpp; it errs towards reporting.
// Also reported, because (c)'s reasoning would not hold: a change with an earlier changed_ns than
// the state it replaced, and one seq shown with two different states (a change written without a
// seq step: lease renewals must step seq too).
std::vector<Violation> check_history(const std::vector<MapSample> &samples);

// Whether every given node shows the same (epoch, primary) for every partition (and the same
// number of partitions). An empty list agrees. If not and why is given, *why says where.
bool agree(const std::vector<MapSample> &latest_per_node, std::string *why = nullptr);
} // namespace sctest
