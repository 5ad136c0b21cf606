// test_map_history.cpp — the partition-map history checker on hand-made histories, clean and broken.
#include "map_history.hpp"

#include <catch2/catch.hpp>

using namespace sctest;

namespace
{
MapSample sample(uint64_t t, const std::string &node, uint64_t seq, uint64_t changed, uint64_t deadline,
		 std::vector<PartitionView> parts)
{
	return MapSample{ t, node, seq, changed, deadline, std::move(parts) };
}

std::string all(const std::vector<Violation> &v)
{
	std::string s;
	for (const Violation &x : v)
		s += x.what + "\n";
	return s;
}

bool mentions(const Violation &v, const std::string &text)
{
	return v.what.find(text) != std::string::npos;
}

// A is primary of partition 0 under epoch 5 with a lease to 1000; partition 1 is C's throughout.
// The controller moves partition 0 to B under epoch 7; B's map names it at b_changed.
std::vector<MapSample> failover(uint64_t b_changed)
{
	return {
		sample(100, "A", 1, 50, 1000, { { 5, "A" }, { 3, "C" } }),
		sample(110, "B", 1, 60, 1000, { { 5, "A" }, { 3, "C" } }),
		sample(120, "C", 1, 70, 5000, { { 5, "A" }, { 3, "C" } }),
		sample(900, "A", 1, 50, 1000, { { 5, "A" }, { 3, "C" } }),
		sample(b_changed + 50, "B", 2, b_changed, 3000, { { 7, "B" }, { 3, "C" } }),
		sample(1500, "A", 2, 1200, 3000, { { 7, "B" }, { 3, "C" } }),
		sample(1600, "B", 2, b_changed, 3000, { { 7, "B" }, { 3, "C" } }),
		sample(1700, "C", 2, 1100, 5000, { { 7, "B" }, { 3, "C" } }),
	};
}
} // namespace

TEST_CASE("a clean failover: B starts acting after A's lease ran out")
{
	std::vector<Violation> v = check_history(failover(1050));
	INFO(all(v));
	CHECK(v.empty());
}

TEST_CASE("B acting before A's lease ran out is a split brain")
{
	std::vector<Violation> v = check_history(failover(950));
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "partition 0"));
	CHECK(mentions(v[0], "split brain"));
	CHECK(mentions(v[0], "A acts as primary in [50, 1000)"));
	CHECK(mentions(v[0], "B acts as primary in [950, 3000)"));
	CHECK(mentions(v[0], "both act in [950, 1000)"));
	CHECK_FALSE(v[0].possible); // proven: no change was missed
}

TEST_CASE("the last state seen lasts until its deadline")
{
	std::vector<Violation> v = check_history({
		sample(100, "A", 1, 50, 1000, { { 5, "A" } }),
		sample(110, "B", 1, 60, 0, { { 5, "A" } }),
		sample(950, "B", 2, 900, 2000, { { 7, "B" } }),
	});
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "both act in [900, 1000)"));
}

TEST_CASE("missed changes: the node may have renewed its lease unseen, so the gap counts as acting")
{
	// A's lease (as seen) ran out at 300 and B starts at 500: clean if nothing was missed.
	auto history = [](uint64_t a_next_seq) {
		return std::vector<MapSample>{
			sample(100, "A", 1, 50, 300, { { 5, "A" } }),
			sample(110, "B", 1, 60, 300, { { 5, "A" } }),
			sample(600, "B", 2, 500, 3000, { { 7, "B" } }),
			sample(1500, "A", a_next_seq, 1200, 3000, { { 7, "B" } }),
		};
	};
	std::vector<Violation> v = check_history(history(2));
	INFO(all(v));
	CHECK(v.empty());

	// seq 1 -> 3: a change in between (a renewal to 900, say) nobody saw. From A's reading at 100
	// to its next change at 1200, A may have been acting.
	v = check_history(history(3));
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "split brain"));
	CHECK(mentions(v[0], "A acts as primary in [50, 1200)"));
	CHECK(mentions(v[0], "including changes the test missed"));
	CHECK(mentions(v[0], "both act in [500, 1200)"));
	CHECK(v[0].possible); // it rests on the missed changes

	// A seq that went down (a restart) is missed changes too.
	std::vector<MapSample> restarted = history(2);
	restarted[0].seq = 7;
	v = check_history(restarted);
	INFO(all(v));
	CHECK(v.size() == 1);
}

TEST_CASE("missed changes: a state that names the node starts at the earlier reading")
{
	// B was seen at 100 under A's epoch, and next at 1100 as primary since 1000; its unseen
	// states may have named it primary (epoch 7 does) from 100 on, while A still acted.
	std::vector<Violation> v = check_history({
		sample(100, "A", 1, 50, 800, { { 5, "A" } }),
		sample(100, "B", 1, 60, 800, { { 5, "A" } }),
		sample(1100, "B", 4, 1000, 3000, { { 7, "B" } }),
	});
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "B acts as primary in [100, 3000)"));
	CHECK(mentions(v[0], "both act in [100, 800)"));
}

TEST_CASE("missed changes that cannot have named the node are no alarm")
{
	// C misses changes while A hands partition 0 to B; no epoch in C's range names C.
	std::vector<MapSample> h = failover(1050);
	h.push_back(sample(2000, "C", 9, 1900, 5000, { { 7, "B" }, { 3, "C" } }));
	std::vector<Violation> v = check_history(h);
	INFO(all(v));
	CHECK(v.empty());
}

TEST_CASE("an epoch that goes back is caught")
{
	std::vector<Violation> v = check_history({
		sample(100, "A", 1, 50, 0, { { 7, "B" }, { 2, "A" } }),
		sample(200, "A", 2, 150, 0, { { 5, "B" }, { 2, "A" } }),
	});
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "node A partition 0: epoch went back from 7"));
	CHECK(mentions(v[0], "to 5"));
}

TEST_CASE("two primaries for one partition and epoch are caught")
{
	std::vector<Violation> v = check_history({
		sample(100, "A", 1, 50, 0, { { 5, "A" } }), sample(110, "B", 1, 60, 0, { { 5, "B" } }),
		sample(120, "C", 1, 70, 0, { { 5, "" } }), // no primary: no name to disagree with
	});
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "partition 0 epoch 5 has two primaries: A"));
	CHECK(mentions(v[0], "and B"));
}

TEST_CASE("a node that sees a newer epoch naming another stops acting at that change")
{
	// A's lease runs to 1000, but at 400 its map names B under epoch 7: B from 500 is no overlap.
	auto history = [](uint64_t a_second_seq) {
		return std::vector<MapSample>{
			sample(100, "A", 1, 50, 1000, { { 5, "A" } }),
			sample(110, "B", 1, 60, 1000, { { 5, "A" } }),
			sample(450, "A", a_second_seq, 400, 1000, { { 7, "B" } }),
			sample(550, "B", 2, 500, 2000, { { 7, "B" } }),
		};
	};
	std::vector<Violation> v = check_history(history(2));
	INFO(all(v));
	CHECK(v.empty());
	// Also with changes missed in between: A may have acted until 400, not after.
	v = check_history(history(5));
	INFO(all(v));
	CHECK(v.empty());
}

TEST_CASE("one seq with two different states is reported")
{
	std::vector<Violation> v = check_history({
		sample(100, "A", 1, 50, 1000, { { 5, "A" } }),
		sample(200, "A", 1, 50, 2000, { { 5, "A" } }),
	});
	INFO(all(v));
	REQUIRE(v.size() == 1);
	CHECK(mentions(v[0], "seq 1 shows two different states"));
}

TEST_CASE("samples interleaved across nodes and out of order between nodes")
{
	std::vector<MapSample> h = failover(950);
	std::reverse(h.begin(), h.end()); // per node out of order too: the checker sorts by t_ns
	std::vector<Violation> v = check_history(h);
	INFO(all(v));
	CHECK(v.size() == 1);
	CHECK(check_history({}).empty());
}

TEST_CASE("agree")
{
	std::vector<MapSample> same = {
		sample(100, "A", 3, 50, 1000, { { 5, "A" }, { 6, "B" } }),
		sample(100, "B", 9, 70, 2000, { { 5, "A" }, { 6, "B" } }),
		sample(100, "C", 1, 90, 0, { { 5, "A" }, { 6, "B" } }),
	};
	std::string why;
	CHECK(agree(same, &why));
	CHECK(agree({}));
	CHECK(agree({ same[0] }));

	std::vector<MapSample> epoch = same;
	epoch[2].parts[1].epoch = 4;
	CHECK_FALSE(agree(epoch, &why));
	CHECK(why.find("partition 1: node C shows epoch 4") != std::string::npos);

	std::vector<MapSample> primary = same;
	primary[1].parts[0].primary = "";
	CHECK_FALSE(agree(primary));

	std::vector<MapSample> count = same;
	count[0].parts.pop_back();
	CHECK_FALSE(agree(count, &why));
	CHECK(why.find("partitions") != std::string::npos);
}
