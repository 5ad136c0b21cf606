// linearizability.hpp — a register's history checked for a linearization (Wing and Gong's search, with
// Lowe's memoisation of the states already explored).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sctest
{

// One operation on one register (a key), as a client saw it. A put whose outcome is unknown (it timed
// out: it may take effect at any time after its invocation, or never) has no completion.
struct RegisterOp {
	enum Kind { PUT, GET } kind;
	int64_t value;	   // a put's value; the value a get returned, 0 for absent
	uint64_t invoke;   // ns
	uint64_t complete; // ns; UNKNOWN for a put of unknown outcome
	static const uint64_t UNKNOWN = UINT64_MAX;
};

// What the check found: linearizable, or not (and where the search stopped), or given up after
// max_states states (then neither is known).
struct LinearizabilityVerdict {
	bool linearizable = false;
	bool gave_up = false;
	uint64_t states = 0; // explored
	std::string why;     // when not linearizable: the operations the search could not get past
};

// Whether the operations on a register that starts absent (0) have a linearization: an order that
// keeps every operation's real-time order (one that completed before another was invoked comes
// first) and in which each get returns the value of the last put before it. A put of unknown outcome
// is in the order or not, as suits. Values are unique per put.
LinearizabilityVerdict check_register(std::vector<RegisterOp> ops, uint64_t max_states = 5000000);

} // namespace sctest
