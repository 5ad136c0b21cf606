// test_placement.cpp — rendezvous placement: the same on every node, balanced, and moving only what it must.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <supercache.h>

extern "C" {
#include "cluster/placement.h"
}

namespace
{

const uint32_t partitions = 1024;

// The names holding partition p among members, primary first.
std::vector<std::string> holders(const std::vector<std::string> &members, uint32_t p, uint32_t rf)
{
	std::vector<const char *> names;
	for (const std::string &m : members)
		names.push_back(m.c_str());
	scd_placement out{};
	REQUIRE(scd_place(names.data(), static_cast<uint32_t>(names.size()), p, rf, &out) == 0);
	std::vector<std::string> got;
	for (uint32_t i = 0; i < out.count; i++)
		got.push_back(members[out.holder[i]]);
	return got;
}

std::vector<std::string> nodes(unsigned n)
{
	std::vector<std::string> v;
	for (unsigned i = 1; i <= n; i++)
		v.push_back("node-" + std::to_string(i));
	return v;
}

} // namespace

TEST_CASE("every node places alike, whatever order it lists the members in", "[placement]")
{
	std::vector<std::string> members = nodes(5), shuffled = members;
	std::mt19937 rng(7);
	for (int round = 0; round < 5; round++) {
		std::shuffle(shuffled.begin(), shuffled.end(), rng);
		for (uint32_t p = 0; p < partitions; p++)
			REQUIRE(holders(members, p, 3) == holders(shuffled, p, 3));
	}
}

TEST_CASE("a partition gets replication_factor distinct holders, or every member when fewer", "[placement]")
{
	for (unsigned n = 0; n <= 4; n++) {
		for (uint32_t rf = 1; rf <= 4; rf++) {
			for (uint32_t p = 0; p < 64; p++) {
				std::vector<std::string> h = holders(nodes(n), p, rf);
				CHECK(h.size() == std::min<size_t>(n, rf));
				CHECK(std::set<std::string>(h.begin(), h.end()).size() == h.size());
			}
		}
	}
	scd_placement out{};
	const char *one[] = { "a" };
	CHECK(scd_place(one, 1, 0, 0, &out) == -EINVAL);
	CHECK(scd_place(one, 1, 0, SC_MAX_REPLICATION_FACTOR + 1, &out) == -EINVAL);
}

TEST_CASE("a member leaving moves only what it held, each to one new holder", "[placement]")
{
	std::vector<std::string> all = nodes(6);
	for (size_t gone = 0; gone < all.size(); gone++) {
		std::vector<std::string> rest = all;
		rest.erase(rest.begin() + static_cast<long>(gone));
		for (uint32_t p = 0; p < partitions; p++) {
			std::vector<std::string> before = holders(all, p, 3), after = holders(rest, p, 3);
			std::vector<std::string> kept;
			for (const std::string &h : before)
				if (h != all[gone])
					kept.push_back(h);
			// The holders that stay keep their order, ahead of the one new holder.
			REQUIRE(std::vector<std::string>(after.begin(),
							 after.begin() + static_cast<long>(kept.size())) ==
				kept);
			REQUIRE(after.size() - kept.size() == (before.size() - kept.size()));
		}
	}
}

TEST_CASE("primaries spread evenly over the members", "[placement]")
{
	for (unsigned n : { 3u, 5u, 8u }) {
		std::map<std::string, unsigned> primaries;
		for (uint32_t p = 0; p < partitions; p++)
			primaries[holders(nodes(n), p, 2)[0]]++;
		REQUIRE(primaries.size() == n);
		for (const auto &kv : primaries) {
			INFO(n << " members: " << kv.first << " is primary of " << kv.second);
			// Within 25% of the fair share: binomial spread at 1024 partitions is far below it.
			CHECK(kv.second > partitions / n * 3 / 4);
			CHECK(kv.second < partitions / n * 5 / 4);
		}
	}
}
