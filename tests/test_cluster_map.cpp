// test_cluster_map.cpp — the partition map in a distributed cache's segment: one writer, consistent copies, no epoch back.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

const uint32_t parts = 8;

// Three nodes, this one "b"; partition p's primary is node p % 3 under epoch base + p, its replicas all three.
void make_map(sc_cluster_map &m, std::vector<sc_partition_owners> &o, uint64_t base, uint64_t deadline_ns)
{
	std::memset(&m, 0, sizeof(m));
	m.node_count = 3;
	m.self = 1;
	m.lease_deadline_ns = deadline_ns;
	std::strcpy(m.nodes[0], "a");
	std::strcpy(m.nodes[1], "b");
	std::strcpy(m.nodes[2], "node-c.example");
	o.assign(parts, sc_partition_owners{});
	for (uint32_t p = 0; p < parts; p++) {
		o[p].epoch = base + p;
		o[p].primary = static_cast<uint16_t>(p % 3);
		o[p].replica_count = 3;
		for (uint16_t r = 0; r < 3; r++)
			o[p].replicas[r] = static_cast<uint16_t>((p + r) % 3);
	}
}

uint64_t now_ns()
{
	return clock_ms() * 1000000ull;
}

} // namespace

TEST_CASE("a new distributed cache has an empty map; a local one has none", "[cluster-map]")
{
	Cache c(unique_name("map-empty"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(c.start_error() == 0);
	sc_cluster_map m;
	std::vector<sc_partition_owners> o(parts);
	REQUIRE(sc_cluster_map_read(c, &m, o.data(), parts) == 0);
	CHECK(m.changes == 0);
	CHECK(m.self == SC_NO_NODE);
	CHECK(m.node_count == 0);
	CHECK(m.num_partition == parts);
	CHECK(m.writer_pid == 0);
	for (auto &p : o) {
		CHECK(p.epoch == 0);
		CHECK(p.primary == SC_NO_NODE);
	}
	CHECK(sc_cluster_acting_primary(c, 0) == 0);
	CHECK(sc_cluster_acting_primary(c, parts) == -EINVAL);
	CHECK(sc_cluster_map_read(c, &m, o.data(), parts - 1) == -EINVAL);
	CHECK(contains(sc_last_error(), "room for 7 partitions"));

	Cache local(unique_name("map-local"), options(2, 32 << 20));
	REQUIRE(local.start_error() == 0);
	CHECK(sc_cluster_map_read(local, &m, nullptr, 0) == -EINVAL);
	CHECK(contains(sc_last_error(), "is local: it has no partition map"));
	CHECK(sc_cluster_lease_write(local, 1) == -EINVAL);
}

TEST_CASE("the map written is the map read; the lease decides who acts", "[cluster-map]")
{
	Cache c(unique_name("map-roundtrip"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(c.start_error() == 0);
	sc_cluster_map m;
	std::vector<sc_partition_owners> o;
	make_map(m, o, 100, now_ns() + 60000000000ull);
	uint64_t before = now_ns();
	REQUIRE(sc_cluster_map_write(c, &m, o.data()) == 0);

	sc_cluster_map got;
	std::vector<sc_partition_owners> go(parts);
	REQUIRE(sc_cluster_map_read(c, &got, go.data(), parts) == 0);
	CHECK(got.changes == 1);
	CHECK(got.changed_ns >= before);
	CHECK(got.self == 1);
	CHECK(got.node_count == 3);
	CHECK(got.writer_pid == static_cast<uint32_t>(getpid()));
	CHECK(std::string(got.nodes[2]) == "node-c.example");
	CHECK(got.nodes[3][0] == '\0');
	for (uint32_t p = 0; p < parts; p++) {
		CHECK(go[p].epoch == 100 + p);
		CHECK(go[p].primary == p % 3);
		CHECK(go[p].replica_count == 3);
		CHECK(go[p].replicas[1] == (p + 1) % 3);
		// This node is "b": it acts for the partitions whose primary is node 1, while its lease lasts.
		CHECK(sc_cluster_acting_primary(c, p) == (p % 3 == 1 ? 1 : 0));
	}

	// The check reads the coarse clock, which lags by up to two ticks: it stops acting that early.
	timespec tick{}, coarse{};
	REQUIRE(clock_getres(CLOCK_MONOTONIC_COARSE, &tick) == 0);
	REQUIRE(clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse) == 0);
	uint64_t tick_ns = uint64_t(tick.tv_sec) * 1000000000u + uint64_t(tick.tv_nsec);
	uint64_t coarse_ns = uint64_t(coarse.tv_sec) * 1000000000u + uint64_t(coarse.tv_nsec);
	REQUIRE(sc_cluster_lease_write(c, coarse_ns + tick_ns / 2) == 0);
	CHECK(sc_cluster_acting_primary(c, 1) == 0);

	// The lease lapses: nobody acts, though the map still names this node.
	REQUIRE(sc_cluster_lease_write(c, now_ns() - 1) == 0);
	CHECK(sc_cluster_acting_primary(c, 1) == 0);
	REQUIRE(sc_cluster_map_read(c, &got, nullptr, 0) == 0);
	CHECK(got.changes == 3);
	REQUIRE(sc_cluster_lease_write(c, 0) == 0);
	CHECK(sc_cluster_acting_primary(c, 1) == 0);

	// A read-only handle reads it too, and cannot write it.
	sc_options ro = options();
	ro.read_only = 1;
	sc_cache *r = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), &ro, &r) == 0);
	REQUIRE(sc_cluster_map_read(r, &got, go.data(), parts) == 0);
	CHECK(go[4].epoch == 104);
	CHECK(sc_cluster_lease_write(r, 1) == -EROFS);
	sc_stop(r);
}

TEST_CASE("an epoch never goes back, and a bad map is refused whole", "[cluster-map][errors]")
{
	Cache c(unique_name("map-stale"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(c.start_error() == 0);
	sc_cluster_map m;
	std::vector<sc_partition_owners> o;
	make_map(m, o, 100, 0);
	REQUIRE(sc_cluster_map_write(c, &m, o.data()) == 0);

	std::vector<sc_partition_owners> older = o;
	older[5].epoch = 104; // was 105
	older[5].primary = 0;
	CHECK(sc_cluster_map_write(c, &m, older.data()) == -ESTALE);
	CHECK(contains(sc_last_error(), "partition 5: epoch 104 is older than epoch 105"));

	std::vector<sc_partition_owners> bad = o;
	bad[2].primary = 3;
	CHECK(sc_cluster_map_write(c, &m, bad.data()) == -EINVAL);
	CHECK(contains(sc_last_error(), "partition 2: primary is node 3 of 3"));
	bad = o;
	bad[0].replica_count = SC_MAX_REPLICATION_FACTOR + 1;
	CHECK(sc_cluster_map_write(c, &m, bad.data()) == -EINVAL);
	CHECK(contains(sc_last_error(), "partition 0: 17 replicas; a partition has at most 16"));
	sc_cluster_map badm = m;
	std::strcpy(badm.nodes[1], "no spaces");
	CHECK(sc_cluster_map_write(c, &badm, o.data()) == -EINVAL);
	CHECK(contains(sc_last_error(), "node 1: a name is"));
	badm = m;
	badm.self = 3;
	CHECK(sc_cluster_map_write(c, &badm, o.data()) == -EINVAL);
	CHECK(sc_cluster_map_write(c, nullptr, o.data()) == -EINVAL);

	// Nothing of the refused writes landed.
	sc_cluster_map got;
	std::vector<sc_partition_owners> go(parts);
	REQUIRE(sc_cluster_map_read(c, &got, go.data(), parts) == 0);
	CHECK(got.changes == 1);
	CHECK(go[5].epoch == 105);
	CHECK(go[2].primary == 2);

	// A damaged entry reads as no node, never as an index past the table.
	sctest_scribble_map_entry(c, 3, 999, 200);
	REQUIRE(sc_cluster_map_read(c, &got, go.data(), parts) == 0);
	CHECK(go[3].primary == SC_NO_NODE);
	CHECK(go[3].replica_count == SC_MAX_REPLICATION_FACTOR);
	CHECK(sc_cluster_acting_primary(c, 3) == 0);
}

TEST_CASE("one process writes the map; a dead writer's claim and torn change are taken over", "[cluster-map]")
{
	Cache c(unique_name("map-claim"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(c.start_error() == 0);
	sc_cluster_map m;
	std::vector<sc_partition_owners> o;
	make_map(m, o, 10, 0);
	Pipe claimed, done;

	// A live child holds the claim: this process is refused, naming it.
	pid_t child = spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(c.name().c_str(), nullptr, &h) || sc_cluster_lease_write(h, 1))
			return 1;
		claimed.send();
		done.recv();
		sctest_tear_cluster_map(h); // and it dies in the middle of a change
		return 0;
	});
	ChildGuard guard(child);
	REQUIRE(claimed.recv() == 'x');
	CHECK(sc_cluster_map_write(c, &m, o.data()) == -EBUSY);
	CHECK(contains(sc_last_error(), ("written by process " + std::to_string(child)).c_str()));
	done.send();
	REQUIRE(guard.wait() == 0);

	sc_cluster_map got;
	CHECK(sc_cluster_map_read(c, &got, nullptr, 0) == -EAGAIN);
	CHECK(contains(sc_last_error(), "died or stopped writing it"));
	CHECK(sc_cluster_acting_primary(c, 0) == 0);

	// The writer is gone: the next one claims the map and rewrites it whole.
	REQUIRE(sc_cluster_map_write(c, &m, o.data()) == 0);
	REQUIRE(sc_cluster_map_read(c, &got, nullptr, 0) == 0);
	CHECK(got.writer_pid == static_cast<uint32_t>(getpid()));
	CHECK(got.changes == 2);

	// A writer that exited but was not reaped yet (a zombie) holds nothing either.
	Cache z(unique_name("map-zombie"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(z.start_error() == 0);
	pid_t zombie = spawn([&] {
		sc_cache *h = nullptr;
		return sc_attach(z.name().c_str(), nullptr, &h) || sc_cluster_lease_write(h, 1) ? 1 : 0;
	});
	ChildGuard zguard(zombie);
	std::string stat_path = "/proc/" + std::to_string(zombie) + "/stat";
	bool is_zombie = false;
	for (uint64_t end = clock_ms() + 10000; !is_zombie && clock_ms() < end;) {
		std::ifstream f(stat_path);
		std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		size_t paren = stat.rfind(')');
		is_zombie = paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
	}
	REQUIRE(is_zombie);
	REQUIRE(sc_cluster_map_read(z, &got, nullptr, 0) == 0);
	CHECK(got.writer_pid == static_cast<uint32_t>(zombie));
	CHECK(sc_cluster_map_write(z, &m, o.data()) == 0);
	CHECK(zguard.wait() == 0);
}

TEST_CASE("a reader never sees half of a change", "[cluster-map][multiprocess]")
{
	Cache c(unique_name("map-torn"), distributed_options(parts, 32 << 20, 3));
	REQUIRE(c.start_error() == 0);
	auto *stop = static_cast<volatile int *>(shared_anon(sizeof(int)));

	// The writer alternates two maps whose every epoch says which one it belongs to.
	pid_t writer = spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(c.name().c_str(), nullptr, &h))
			return 1;
		sc_cluster_map m;
		std::vector<sc_partition_owners> o;
		for (uint64_t round = 1; !*stop; round++) {
			make_map(m, o, 0, round);
			for (uint32_t p = 0; p < parts; p++) {
				o[p].epoch = round;
				o[p].primary = static_cast<uint16_t>(round % 3);
			}
			if (sc_cluster_map_write(h, &m, o.data()))
				return 2;
		}
		return 0;
	});
	ChildGuard guard(writer);
	sc_cluster_map got;
	std::vector<sc_partition_owners> go(parts);
	uint64_t seen = 0, reads = 0;
	for (uint64_t end = clock_ms() + 1000; clock_ms() < end || seen < 100;) {
		REQUIRE(sc_cluster_map_read(c, &got, go.data(), parts) == 0);
		reads++;
		if (got.changes == 0)
			continue;
		for (uint32_t p = 0; p < parts; p++) {
			REQUIRE(go[p].epoch == got.lease_deadline_ns);
			REQUIRE(go[p].primary == got.lease_deadline_ns % 3);
		}
		REQUIRE(got.lease_deadline_ns >= seen);
		seen = got.lease_deadline_ns;
	}
	*stop = 1;
	CHECK(guard.wait() == 0);
	INFO(reads << " reads");
	CHECK(seen >= 100);
}
