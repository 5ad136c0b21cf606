// test_forward_clear.cpp — sc_clear in a distributed cache: each partition, and each partition's
// structures, emptied by its primary; a malformed request for a structure partition is refused.
#include "forward_rig.hpp"

using namespace sctest;

TEST_CASE("sc_clear on a node empties the other node's partitions there, tuples and structures", "[forward]")
{
	TwoNodes nodes("fwd-clear");
	Cache &a = nodes.a, &b = nodes.b;
	for (int k = 0; k < 40; k++) {
		REQUIRE(sc_put(a, SC_TUPLE(sc_int(k), sc_int(k))) == 0);
		REQUIRE(sc_kv_add(a, "ns", sc_int(k), sc_int(k)) == 0);
	}
	const std::string q = name_on_b(a, b, "clearq", true);
	REQUIRE(sc_queue_add(a, q.c_str(), sc_int(1)) == 0);
	int on_b = 0;
	REQUIRE(sc_scan(b, nullptr, count_tuple, &on_b) >= 0);
	REQUIRE(on_b > 0);
	REQUIRE(sc_kv_count(b, "ns") > 0);
	REQUIRE(sc_queue_count(b, q.c_str()) == 1);

	// b is the primary of half the partitions: one request for each, and one for each one's structures.
	const int before = nodes.coordinator.requests;
	REQUIRE(sc_clear(a) == 0);
	CHECK(nodes.coordinator.requests - before == 2 * static_cast<int>(parts / 2));
	on_b = 0;
	REQUIRE(sc_scan(b, nullptr, count_tuple, &on_b) >= 0);
	CHECK(on_b == 0);
	CHECK(sc_kv_count(b, "ns") == 0);
	CHECK(sc_queue_count(b, q.c_str()) == 0);
	int on_a = 0;
	REQUIRE(sc_scan(nodes.a_copy, nullptr, count_tuple, &on_a) >= 0);
	CHECK(on_a == 0);
	CHECK(sc_kv_count(nodes.a_copy, "ns") == 0);
}

TEST_CASE("a forwarded clear of a structure partition out of range, or with a tuple, is refused", "[forward]")
{
	TwoNodes nodes("fwd-clear-bad");
	Cache &b = nodes.b;
	std::string msg;
	CHECK(serve(b, request(SC_FWD_CLEAR_STRUCTURES_PART, 0, parts, {}), &msg) == -ERANGE);
	CHECK(contains(msg.c_str(), "partition index"));
	const sc_field one = sc_int(1);
	CHECK(serve(b, request(SC_FWD_CLEAR_STRUCTURES_PART, 1, 1, { { 1, &one } }), &msg) == -EPROTO);
	// A good one, for one of b's partitions, empties that partition's structures only.
	CHECK(serve(b, request(SC_FWD_CLEAR_STRUCTURES_PART, 1, 1, {}), &msg) == 0);
}
