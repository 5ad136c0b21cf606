// test_cluster.cpp — three supercached, each in its own network namespace with its own etcd member,
// under faults (kill -9, SIGSTOP, an iptables cut, a restart); every node's partition map recorded
// the whole time and checked: one primary per (partition, epoch), no epoch back, no split brain.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include "cluster_rig.hpp"

using namespace sctest;

TEST_CASE("three nodes agree on one map within 5 s", "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("agree");
	REQUIRE(rig.etcd.ok());
	rig.start_all();
	int64_t ms = rig.wait_settled(all, all_names, 20000);
	REQUIRE_LOGGED(rig, ms >= 0);
	CHECK(ms <= 5000);
	std::cout << "agreed on one map " << ms << " ms after the three started" << std::endl;
	// The peer links come up on their own schedule: an agreed map says nothing of them.
	const int64_t links_ms = wait_links(rig, 5000);
	CHECK_LOGGED(rig, links_ms >= 0);
	std::cout << "every peer link up " << links_ms << " ms after the map agreed" << std::endl;
	// Every partition has replication_factor copies, its primary first.
	BusClient c(rig.bus.address());
	BusDict d;
	REQUIRE(c.call_dict("org.supercache.Coordinator1." + rig.nodes[0].cache, "org.supercache.Cluster1",
			    "ClusterStats", d) >= 0);
	CHECK(d["nodes"].strings == all_names);
	CHECK(d["unreachable_nodes"].strings.empty());
	CHECK(d["node_stats"].dict.size() == 3);
	CHECK(d["node_stats"].dict["n1"].dict["lease_state"].s == "registered");
	CHECK(d["node_stats"].dict["n0"].dict["lease_state"].s == "held");
	CHECK(d["node_stats"].dict["n1"].dict["up"].b);
	CHECK(d["node_stats"].dict["n1"].dict["bad_frames"].u == 0);

	// The command line: the map from the segment, the cluster from the coordinator.
	const char *cli = std::getenv("SUPERCACHE_CLI");
	REQUIRE(cli);
	CommandResult map = run_command({ cli, "--name", rig.nodes[1].cache, "--json", "cluster", "map" });
	INFO(map.err);
	CHECK(map.status == 0);
	CHECK(map.out.find("\"self\":\"n1\"") != std::string::npos);
	CHECK(map.out.find("{\"partition\":7,\"epoch\":") != std::string::npos);
	CommandResult table = run_command({ cli, "--name", rig.nodes[1].cache, "cluster", "map" });
	CHECK(table.status == 0);
	CHECK(table.out.find("PARTITION EPOCH") != std::string::npos);
	CommandResult status = run_command({ cli, "--name", rig.nodes[2].cache, "--bus-address",
					     rig.bus.address(), "cluster", "status" });
	CHECK(status.status == 0);
	CHECK(status.out.find("unreachable_nodes  []") != std::string::npos);
	CHECK(status.out.find("lease_state") != std::string::npos);
	CHECK(d["num_partitions"].u == partitions);
	CHECK(d["replication_factor"].u == 2);
	// The USDT probes that go with NodeUp and NodeDown are in the daemon (docs/telemetry.md).
	CommandResult notes = run_command({ "readelf", "-n", supercached_path() });
	CHECK(notes.out.find("Name: node_up") != std::string::npos);
	CHECK(notes.out.find("Name: node_down") != std::string::npos);
	rig.check();
}

TEST_CASE("kill -9 of the controller: a new one, and its primaries moved within 2 leases", "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("kill");
	rig.start_settled();
	// NodeDown, as the survivors' coordinators send it on the bus.
	BusClient watcher(rig.bus.address());
	REQUIRE(watcher.ok());
	std::vector<std::string> downs;
	REQUIRE(sd_bus_match_signal(
			watcher.get(), nullptr, nullptr, "/org/supercache/Coordinator",
			"org.supercache.Cluster1", "NodeDown",
			[](sd_bus_message *m, void *userdata, sd_bus_error *) {
				const char *node = nullptr;
				if (sd_bus_message_read(m, "s", &node) > 0)
					static_cast<std::vector<std::string> *>(userdata)->push_back(node);
				return 0;
			},
			&downs) >= 0);
	std::string ctl = rig.controller(0);
	REQUIRE_LOGGED(rig, !ctl.empty());
	unsigned victim = static_cast<unsigned>(ctl[1] - '0');
	uint64_t t0 = clock_ms();
	rig.kill9(victim);
	int64_t ms = rig.wait_settled(others(victim), names_of(others(victim)), 4 * lease_ms);
	REQUIRE_LOGGED(rig, ms >= 0);
	CHECK(ms <= 2 * lease_ms);
	std::cout << "controller " << ctl << " killed: map without it " << ms << " ms later" << std::endl;
	std::string next = rig.controller(others(victim)[0]);
	CHECK(!next.empty());
	CHECK(next != ctl);
	// Both survivors said it is down.
	while (downs.size() < 2 && clock_ms() - t0 < 4 * lease_ms) {
		while (sd_bus_process(watcher.get(), nullptr) > 0)
			;
		sd_bus_wait(watcher.get(), 100000);
	}
	CHECK(downs == std::vector<std::string>{ ctl, ctl });
	rig.check();
}

TEST_CASE("SIGSTOP: the node is down, and after SIGCONT acts on no old epoch", "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("stop");
	rig.start_settled();
	const unsigned victim = 1;
	kill(rig.nodes[victim].pid, SIGSTOP);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(victim), names_of(others(victim)), 4 * lease_ms) >= 0);
	// Past its lease: whatever its segment still names, it acts nowhere.
	kill(rig.nodes[victim].pid, SIGCONT);
	int64_t ms = rig.wait_settled(all, names_of(others(victim)), 20000);
	CHECK_LOGGED(rig, ms >= 0);
	rig.check();
}

TEST_CASE("an iptables cut: the cut node stops being primary before the others take over; all converge after",
	  "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("cut");
	rig.start_settled();
	// Cut the node that is primary of partition 0.
	std::string p0 = rig.latest({ 0 })[0].parts[0].primary;
	unsigned victim = static_cast<unsigned>(p0[1] - '0');
	rig.net.cut(victim);
	int64_t ms = rig.wait_settled(others(victim), names_of(others(victim)), 6 * lease_ms);
	CHECK_LOGGED(rig, ms >= 0);
	// The cut node cannot renew: its own map ends with its lease.
	uint64_t until = clock_ms() + 4 * lease_ms;
	bool fenced = false;
	while (!fenced && clock_ms() < until) {
		auto l = rig.latest({ victim });
		fenced = !l.empty() && l[0].deadline_ns <= now_ns();
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	CHECK_LOGGED(rig, fenced);
	rig.net.heal(victim);
	CHECK_LOGGED(rig, rig.wait_settled(all, names_of(others(victim)), 30000) >= 0);
	rig.check();
}

TEST_CASE("a node restarted with its segment intact rejoins", "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("restart");
	rig.start_settled();
	rig.kill9(2);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(2), names_of(others(2)), 4 * lease_ms) >= 0);
	rig.start(2);
	CHECK_LOGGED(rig, rig.wait_settled(all, names_of(others(2)), 20000) >= 0);
	// A clean stop gives the lease back: its partitions move without waiting for the lease to end.
	CHECK(rig.terminate(0) == 0);
	uint64_t t0 = clock_ms();
	int64_t ms = rig.wait_settled({ 1, 2 }, { "n1", "n2" }, 4 * lease_ms);
	CHECK_LOGGED(rig, ms >= 0);
	CHECK_LOGGED(rig, clock_ms() - t0 < lease_ms / 2);
	CHECK(file_text(rig.nodes[0].log).find("leaving; giving the lease back") != std::string::npos);
	std::cout << "n0 stopped cleanly: map without it " << ms << " ms after it exited" << std::endl;
	rig.check();
}

TEST_CASE("a node whose structural options differ from the cluster's is refused (exit 78)", "[cluster]")
{
	REQUIRE_NETNS();
	Rig rig("config");
	REQUIRE(rig.etcd.ok());
	rig.start(0);
	REQUIRE_LOGGED(rig, rig.wait_settled({ 0 }, { "n0" }, 20000) >= 0);
	rig.start(1, { "--num-partition", "16" });
	int status = rig.reap(1);
	std::string log = file_text(rig.nodes[1].log);
	INFO(log);
	CHECK(status == 78);
	CHECK(log.find("Partition count mismatch: cluster " + rig.cluster +
		       " has num_partition = 8 in etcd, this node has num_partition = 16") !=
	      std::string::npos);
	rig.start(2, { "--table-type", "bag" });
	CHECK(rig.reap(2) == 78);
	CHECK(file_text(rig.nodes[2].log).find("table_type mismatch") != std::string::npos);
	rig.check();
}
