// test_writer_lanes.cpp — a partition's writer lanes: blocks go back to the CPU that retired them,
// a writer on another CPU reuses them before it takes new memory, and the checker and a repair
// see every lane.
#include <catch2/catch.hpp>

#include <string>
#include <unistd.h>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

// The CPU the second writer runs on: CPU 1, or CPU 0 again on a machine with one (then both
// writers share a lane, and what is checked of lanes apart is left out).
int second_cpu()
{
	return sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
}

// Put keys 0..keys-1 with 120-byte values: past the first time, each put retires a record.
void overwrite(sc_cache *c, int keys)
{
	const std::string value(120, 'v');
	for (int k = 0; k < keys; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 120))) == 0);
}

void check_all_present(sc_cache *c, int keys)
{
	for (int k = 0; k < keys; k++) {
		sc_tuples *t = nullptr;
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(k)), &t) == 1);
		sc_tuples_free(t);
	}
}

int check_clean(sc_cache *c)
{
	sc_check_report rep;
	int r = sc_check(c, 0, &rep);
	for (uint32_t i = 0; i < rep.listed; i++)
		UNSCOPED_INFO("partition " << rep.list[i].partition << ": " << rep.list[i].what);
	return r;
}

} // namespace

TEST_CASE("blocks retired on one CPU come back to its lane, and a writer on another reuses them first",
	  "[memory][lanes]")
{
	const int other = second_cpu();
	Cache c(unique_name("lanes"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);

	REQUIRE(pin_to(0));
	overwrite(c, 1000);
	overwrite(c, 1000);				    // 1000 retired on CPU 0, in its lane's limbo list
	CHECK(sctest_lane_retired_blocks(c, 0, 0) >= 1000); // and the index blocks its growth left
	uint64_t freed = 0;
	REQUIRE(sc_reclaim(c, &freed) == 0);
	CHECK(freed > 0);
	CHECK(sctest_lane_retired_blocks(c, 0, 0) == 0);
	const uint64_t free_on_0 = sctest_lane_free_blocks(c, 0, 0);
	CHECK(free_on_0 >= 1000);
	const uint64_t memory = Stats(c)->memory_used;

	REQUIRE(pin_to(other));
	overwrite(c, 500);
	REQUIRE(pin_to_all());
	if (other != 0) {
		// Each put on CPU 1 took a free block, its lane's first, CPU 0's when its own had none,
		// and retired one into its lane: what CPU 0's lane lost, CPU 1's holds, retired or free.
		const uint64_t taken_from_0 = free_on_0 - sctest_lane_free_blocks(c, 0, 0);
		CHECK(taken_from_0 > 0);
		CHECK(sctest_lane_retired_blocks(c, 0, other) + sctest_lane_free_blocks(c, 0, other) ==
		      taken_from_0);
		REQUIRE(sc_reclaim(c, &freed) == 0);
		CHECK(sctest_lane_retired_blocks(c, 0, other) == 0);
		CHECK(sctest_lane_free_blocks(c, 0, other) == taken_from_0);
	}
	// No new memory: CPU 1 reused what CPU 0 had freed.
	CHECK(Stats(c)->memory_used == memory);
	CHECK(check_clean(c) == 0);
	check_all_present(c, 1000);
}

TEST_CASE("the checker counts every lane's retired blocks, and a repair relinks a broken lane's list",
	  "[memory][lanes][damage]")
{
	const int other = second_cpu();
	Cache c(unique_name("lanes-repair"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(pin_to(0));
	overwrite(c, 300);
	overwrite(c, 300);
	REQUIRE(pin_to(other));
	overwrite(c, 200);
	REQUIRE(pin_to_all());
	// 500 records retired, and the index blocks its growth left behind.
	CHECK(sctest_lane_retired_blocks(c, 0, 0) + (other ? sctest_lane_retired_blocks(c, 0, other) : 0) >=
	      500);
	{
		Stats s(c);
		CHECK(s->total.retired_bytes >= 500 * 128);
	}
	REQUIRE(check_clean(c) == 0);

	// A writer that died between a retire's two stores: the first lane with a list loses its tail.
	uint32_t head = 0, tail = 0;
	sctest_limbo_ends(c, 0, &head, &tail);
	REQUIRE(head != 0);
	sctest_set_limbo_ends(c, 0, head, 0);
	sc_check_report rep;
	CHECK(sc_check(c, 0, &rep) != 0);
	REQUIRE(sc_repair(c) == 0);
	CHECK(check_clean(c) == 0);
	check_all_present(c, 300);
	// Memory is reused again after the repair: overwrites retire and free as before.
	REQUIRE(pin_to(other));
	overwrite(c, 300);
	REQUIRE(pin_to_all());
	uint64_t freed = 0;
	REQUIRE(sc_reclaim(c, &freed) == 0);
	CHECK(freed > 0);
	CHECK(check_clean(c) == 0);
}
