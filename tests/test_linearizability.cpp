// test_linearizability.cpp — the register checker the nemesis uses, on histories whose answer is known:
// one that can fail, and does when it should.
#include <catch2/catch.hpp>

#include <random>

#include "linearizability.hpp"

using namespace sctest;

namespace
{

const uint64_t U = RegisterOp::UNKNOWN;

RegisterOp put(int64_t v, uint64_t a, uint64_t b)
{
	return { RegisterOp::PUT, v, a, b };
}

RegisterOp get(int64_t v, uint64_t a, uint64_t b)
{
	return { RegisterOp::GET, v, a, b };
}

bool ok(const std::vector<RegisterOp> &ops)
{
	LinearizabilityVerdict v = check_register(ops);
	REQUIRE(!v.gave_up);
	INFO(v.why);
	return v.linearizable;
}

// A register served by one copy, each operation taking effect at one instant inside its interval, by
// clients whose operations overlap: linearizable by construction. Some puts time out (unknown).
std::vector<RegisterOp> simulated(unsigned seed, int n, int clients)
{
	std::mt19937 rng(seed);
	std::vector<RegisterOp> ops;
	std::vector<uint64_t> busy_until(clients, 0);
	int64_t value = 0, next = 1;
	uint64_t now = 0;
	for (int k = 0; k < n; k++) {
		now += rng() % 10;
		const int c = static_cast<int>(rng() % clients);
		const uint64_t invoke = std::max(now, busy_until[c] + 1), effect = invoke + 1 + rng() % 30,
			       complete = effect + 1 + rng() % 30;
		busy_until[c] = complete;
		// Effects in invocation order here, so later ones see earlier ones: still linearizable.
		now = effect;
		if (rng() % 2) {
			value = next++;
			ops.push_back(put(value, invoke, rng() % 20 == 0 ? U : complete));
		} else {
			ops.push_back(get(value, invoke, complete));
		}
	}
	return ops;
}

} // namespace

TEST_CASE("the register checker accepts linearizable histories and refuses the others",
	  "[unit][linearizability]")
{
	CHECK(ok({}));
	CHECK(ok({ put(1, 0, 10), get(1, 20, 30), put(2, 40, 50), get(2, 60, 70) }));
	// A read that returns an older value after a newer was acknowledged: stale.
	CHECK(!ok({ put(1, 0, 10), put(2, 20, 30), get(1, 40, 50) }));
	// Overlapping: the read may come before or after the put, but not flip back once it saw it.
	CHECK(ok({ put(1, 0, 100), get(0, 5, 8), get(1, 10, 20) }));
	CHECK(!ok({ put(1, 0, 100), get(1, 10, 20), get(0, 30, 40) }));
	CHECK(ok({ put(1, 0, 100), get(1, 10, 20), get(0, 5, 40) }));
	// A value no put wrote.
	CHECK(!ok({ put(1, 0, 10), get(7, 20, 30) }));
	// A put of unknown outcome: seen, it took effect, once and for all; unseen, it may never have.
	CHECK(ok({ put(5, 0, U), get(5, 50, 60), get(5, 70, 80) }));
	CHECK(!ok({ put(5, 0, U), get(5, 50, 60), get(0, 70, 80) }));
	CHECK(ok({ put(1, 0, 10), put(5, 20, U), get(1, 50, 60) }));
	CHECK(!ok({ put(5, 100, U), get(5, 10, 20) })); // read before the put was invoked

	// Long histories of overlapping clients: linearizable as made, and refused once one read is changed
	// to a value that was current only well before it.
	for (unsigned seed = 1; seed <= 5; seed++) {
		std::vector<RegisterOp> ops = simulated(seed, 20000, 4);
		LinearizabilityVerdict v = check_register(ops);
		INFO("seed " << seed << ": " << v.why << ", " << v.states << " states");
		CHECK(v.linearizable);
		for (size_t i = ops.size() / 2; i < ops.size(); i++)
			if (ops[i].kind == RegisterOp::GET && ops[i].value > 10) {
				ops[i].value -= 10;
				break;
			}
		CHECK(!check_register(ops).linearizable);
	}
}
