// test_replication.cpp — writes on three nodes in network namespaces, each with its own etcd member:
// async and sync, a stopped replica, the in-sync set, a killed primary, a replica copied whole; every
// replica checked equal to its primary, versions included, and every acknowledged write found.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <deque>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cluster_rig.hpp"
#include "command.hpp"

using namespace sctest;

TEST_CASE(
	"async: a write on its partition's primary reaches the replica; a restarted node catches up from the log",
	"[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("ship");
	rig.start_settled();
	Writers w(rig);
	const int keys = 2000;
	int taken[3] = { 0, 0, 0 };
	// From every node in turn: two writes in three go to a primary elsewhere, forwarded.
	for (int k = 0; k < keys; k++) {
		const std::string key = "key" + std::to_string(k);
		REQUIRE(w.put_from(k % 3, key, k) == 0);
		taken[w.primary_of_key(key)]++;
	}
	// Deletes and KeyValue pairs replicate too, from any node.
	for (int k = 0; k < keys; k += 10)
		CHECK(sc_delete(w.h[k % 3], SC_TUPLE(sc_str(("key" + std::to_string(k)).c_str()))) == 1);
	for (int k = 0; k < 500; k++) {
		std::string key = "kv" + std::to_string(k);
		CHECK(sc_kv_add(w.h[(k + 1) % 3], "ns", sc_str(key.c_str()), sc_int(k)) == 0);
	}
	std::cout << "puts whose primary was n0/n1/n2: " << taken[0] << "/" << taken[1] << "/" << taken[2]
		  << std::endl;
	int64_t ms = w.wait_equal(10000);
	REQUIRE_LOGGED(rig, ms >= 0);
	std::cout << "every replica equal to its primary " << ms << " ms after the last write" << std::endl;

	// The node primary of most partitions killed: they move to their replicas; writes go on; restarted
	// with its segment, it follows each new primary from its last entry (a prefix of theirs).
	unsigned victim = static_cast<unsigned>(std::max_element(taken, taken + 3) - taken);
	rig.kill9(victim);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(victim), names_of(others(victim)), 4 * lease_ms) >= 0);
	for (int k = 0; k < keys; k++)
		CHECK(w.put_from(others(victim)[k % 2], "key" + std::to_string(k), -k) == 0);
	rig.start(victim);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	ms = w.wait_equal(10000);
	CHECK_LOGGED(rig, ms >= 0);
	std::cout << "the restarted node equal to every primary " << ms << " ms after the map settled"
		  << std::endl;
	// The replication's USDT probes are in the daemon (docs/telemetry.md).
	CommandResult notes = run_command({ "readelf", "-n", supercached_path() });
	for (const char *probe : { "repl_ship", "repl_ack", "in_sync_change", "repl_copy", "failover" })
		CHECK(notes.out.find(std::string("Name: ") + probe) != std::string::npos);
	// The key's last value, on replication_factor nodes (a replica whose link came back may be taking a
	// copy for a moment: looked at until it holds, for a while).
	CHECK_LOGGED(rig, ms_until(10000, 2, [&] {
				  int holders = 0;
				  for (auto *c : w.copy) {
					  sc_tuples *got = nullptr;
					  if (sc_get(c, SC_TUPLE(sc_str("key7")), &got) == 1 &&
					      got->tuples[0].fields[1].v.i == -7)
						  holders++;
					  sc_tuples_free(got);
				  }
				  return holders == 2;
			  }) >= 0);
	rig.check();
}

TEST_CASE("sync: a write returns once its replica has it; with the replica stopped it fails, never succeeds",
	  "[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("sync");
	rig.every_node = { "--replication-mode", "sync" };
	rig.start_settled();
	const uint64_t timeout_ms = 500;
	Writers w(rig, timeout_ms);
	// Every partition on two nodes before the first write: until then a partition may have one copy,
	// and a write to it is acknowledged by its primary alone.
	for (uint32_t p = 0; p < partitions; p++)
		REQUIRE_LOGGED(rig, w.wait_replicas(p, 2, 20000) >= 0);
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	auto node_of = [&](uint16_t index) { return static_cast<unsigned>(m.nodes[index][1] - '0'); };

	// Each write is on its replica when the call returns: read there at once, it is found.
	// Also when the placement moved the partition meanwhile: a replica leaves once its successor is in sync.
	int on_replica = 0, moved = 0;
	for (int k = 0; k < 300; k++) {
		std::string key = "s" + std::to_string(k);
		const uint32_t part = sctest_partition_of(w.h[0], SC_TUPLE(sc_str(key.c_str())));
		const std::vector<uint64_t> before = w.epochs_of(part);
		// On the primary itself: forwarding has its own test (test_forwarding.cpp), and this one
		// times nothing but the write and its replica.
		const int i = static_cast<int>(w.primary_of_key(key));
		REQUIRE(w.put_from(static_cast<unsigned>(i), key, k) == 0);
		int holders = 0;
		for (unsigned r = 0; r < 3; r++) {
			if (r == static_cast<unsigned>(i))
				continue;
			sc_tuples *got = nullptr;
			int n = sc_get(w.copy[r], SC_TUPLE(sc_str(key.c_str())), &got);
			sc_tuples_free(got);
			holders += n == 1;
		}
		moved += w.epochs_of(part) != before;
		if (holders == 0)
			w.describe_partition(part);
		on_replica += holders > 0;
	}
	// replication_factor 2: each on its replica when the call returned (a node the placement has
	// just moved away may still hold a copy for a moment: a key may be on both others).
	CHECK(on_replica == 300);
	std::cout << "sync writes on their replica at once: " << on_replica << " (" << moved
		  << " while their partition moved)" << std::endl;
	CHECK_LOGGED(rig, w.wait_equal(5000) >= 0);

	// A replica stopped: a write whose partition it holds waits majority_timeout_ms, then fails
	// with -ETIMEDOUT, as long as the map has not moved the partition away from it (its lease is 4
	// times longer, but a slow build can spend it: a write that succeeds then is on the new replica).
	// Partition 0's other replica is the one stopped (placement decides which node that is, once every
	// node is placed: settled says only that each partition has a live primary).
	const uint32_t part = 0;
	REQUIRE_LOGGED(rig, w.wait_replicas(part, 2, 20000) >= 0);
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	unsigned primary = node_of(parts[part].primary), stopped = 3;
	for (uint16_t k = 0; k < parts[part].replica_count; k++)
		if (node_of(parts[part].replicas[k]) != primary)
			stopped = node_of(parts[part].replicas[k]);
	REQUIRE(stopped < 3);
	const uint64_t stopped_epoch = parts[part].epoch;
	kill(rig.nodes[stopped].pid, SIGSTOP);
	int timed_out = 0, tried = 0;
	std::string timeout_message;
	for (int k = 0; tried < 3 && k < 1000; k++) {
		std::string key = "t" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) != part)
			continue;
		tried++;
		uint64_t t0 = clock_ms();
		int r = sc_put(w.h[primary], SC_TUPLE(sc_str(key.c_str()), sc_int(k)));
		uint64_t took = clock_ms() - t0;
		INFO(sc_last_error());
		if (r == -ETIMEDOUT) {
			timed_out++;
			timeout_message = sc_last_error();
			CHECK(took >= timeout_ms);
			continue;
		}
		// Acknowledged: only by another replica, in a record that no longer holds the stopped node.
		CHECK(r == 0);
		REQUIRE(sc_cluster_map_read(w.h[primary], &m, parts.data(), partitions) == 0);
		CHECK(parts[part].epoch != stopped_epoch);
		for (uint16_t i = 0; i < parts[part].replica_count; i++)
			CHECK(node_of(parts[part].replicas[i]) != stopped);
	}
	kill(rig.nodes[stopped].pid, SIGCONT);
	CHECK(timed_out >= 1);
	CHECK(timeout_message.find("not acknowledged") != std::string::npos);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	rig.check();
}

TEST_CASE(
	"sync, three copies: a stopped replica leaves the in-sync set and writes go on; the primary killed, "
	"an in-sync replica takes over with every acknowledged write",
	"[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("isr");
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3",
			   "--replica-lag-ms",	 "300" };
	rig.start_settled();
	Writers w(rig, 5000);
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	auto node_of = [&](uint16_t index) { return static_cast<unsigned>(m.nodes[index][1] - '0'); };
	const uint32_t part = 0;
	unsigned primary = node_of(parts[part].primary), stopped = (primary + 1) % 3;

	// The keys of one partition, and what each was last acknowledged with.
	std::vector<std::string> keys;
	for (int k = 0; keys.size() < 40; k++) {
		std::string key = "i" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) == part)
			keys.push_back(key);
	}
	std::map<std::string, int64_t> acked;
	auto put_all = [&](int64_t base, uint64_t *slowest_ms) {
		for (size_t k = 0; k < keys.size(); k++) {
			uint64_t t0 = clock_ms();
			int r = sc_put(w.h[primary],
				       SC_TUPLE(sc_str(keys[k].c_str()), sc_int(base + (int64_t)k)));
			INFO(keys[k] << ": " << sc_last_error());
			REQUIRE(r == 0);
			acked[keys[k]] = base + static_cast<int64_t>(k);
			*slowest_ms = std::max(*slowest_ms, clock_ms() - t0);
		}
	};
	uint64_t slowest = 0;
	put_all(0, &slowest);

	// One replica stopped: within replica_lag_ms (and an etcd txn) it is out, and writes go on with two of three.
	kill(rig.nodes[stopped].pid, SIGSTOP);
	slowest = 0;
	put_all(1000, &slowest);
	// ClusterHealth on the primary: the stopped node unreachable once its heartbeats stop, the
	// partition whose set shrank under-replicated.
	BusDict health;
	CHECK(ms_until(5000, 20, [&] {
		      health = cluster_health(rig, primary);
		      return health["healthy_nodes"].u == 2;
	      }) >= 0);
	CHECK(health["cluster"].s == rig.cluster);
	CHECK(health["node"].s == "n" + std::to_string(primary));
	CHECK(health["nodes"].u == 3);
	CHECK(health["unreachable_nodes"].strings ==
	      std::vector<std::string>{ "n" + std::to_string(stopped) });
	CHECK(health["partitions_under_replicated"].u >= 1);
	CHECK(health["partitions_without_primary"].u == 0);
	CHECK(health["primaries_here"].u >= 1);
	CHECK(health["max_lag_writes"].u >= 1);
	CHECK_FALSE(health["cluster_healthy"].b);
	kill(rig.nodes[stopped].pid, SIGCONT);
	std::cout << "sync writes with a replica stopped: the slowest took " << slowest << " ms" << std::endl;
	CHECK(slowest < 1500); // the lease is 2 s: the set shrank, the map did not move
	// The set went on without it (a line of the primary's log naming the set, without the stopped node).
	CHECK_LOGGED(rig, [&] {
		std::string log = file_text(rig.nodes[primary].log);
		for (size_t at = log.find("partition 0: in-sync set now"); at != std::string::npos;
		     at = log.find("partition 0: in-sync set now", at + 1))
			if (log.substr(at, log.find('\n', at) - at).find("n" + std::to_string(stopped)) ==
			    std::string::npos)
				return true;
		return false;
	}());

	// Back, it catches up (and rejoins the set); then the primary is killed: a member of the set takes over.
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	// ReplicationLag says so, on the primary and on a replica: equal copies first, then the primary
	// hears the replica's position (it may have been finishing a copy), so looked at until it has.
	BusDict lag;
	CHECK(ms_until(5000, 20, [&] {
		      lag = replication_lag(rig, primary, part);
		      return lag["replica_lags"].dict["n" + std::to_string(stopped)].dict["following"].b;
	      }) >= 0);
	CHECK(lag["mode"].s == "sync");
	CHECK(lag["role"].s == "primary");
	CHECK(lag["replicas"].u == 2);
	CHECK(lag["seq"].u >= keys.size() * 2);
	CHECK(lag["replica_lags"].dict.size() == 2);
	CHECK(lag["replica_lags"].dict["n" + std::to_string(stopped)].dict["following"].b);
	lag = replication_lag(rig, stopped, part);
	CHECK(lag["role"].s == "replica");
	CHECK(lag["primary"].s == "n" + std::to_string(primary));
	// And ClusterHealth, once the set has it back.
	CHECK(ms_until(5000, 20, [&] {
		      health = cluster_health(rig, primary);
		      return health["cluster_healthy"].b;
	      }) >= 0);
	CHECK(health["healthy_nodes"].u == 3);
	CHECK(health["unreachable_nodes"].strings.empty());
	CHECK(health["partitions_under_replicated"].u == 0);
	CHECK(health["max_lag_writes"].u == 0);
	put_all(2000, &slowest);
	rig.kill9(primary);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(primary), names_of(others(primary)), 4 * lease_ms) >= 0);
	for (unsigned i : others(primary))
		for (auto &kv : acked) {
			sc_tuples *got = nullptr;
			INFO("n" << i << " " << kv.first);
			REQUIRE(sc_get(w.copy[i], SC_TUPLE(sc_str(kv.first.c_str())), &got) == 1);
			CHECK(got->tuples[0].fields[1].v.i == kv.second);
			sc_tuples_free(got);
		}
	rig.check();
}

TEST_CASE("a replica the ring left behind is copied whole; a primary that comes back diverged is copied too",
	  "[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("copy");
	// Three copies on three nodes: whoever comes back is a replica of every partition again.
	rig.every_node = { "--replication-factor", "3" };
	rig.start_settled();
	Writers w(rig);
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	const uint32_t part = 0;
	unsigned primary = static_cast<unsigned>(m.nodes[parts[part].primary][1] - '0');
	std::vector<unsigned> rest = others(primary);
	std::vector<std::string> keys;
	for (int k = 0; keys.size() < 20; k++) {
		std::string key = "c" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) == part)
			keys.push_back(key);
	}
	// Large values: a ring's worth in a few puts, so that a replica is stopped for milliseconds, far
	// less than a lease, and the map does not move.
	std::string big(60000, 'v');
	auto put_on = [&](unsigned node, int64_t v) {
		for (auto &k : keys) {
			const int r = sc_put(w.h[node],
					     SC_TUPLE(sc_str(k.c_str()), sc_int(v), sc_str(big.c_str())));
			INFO("n" << node << ", value " << v << ": " << (r ? sc_last_error() : ""));
			REQUIRE_LOGGED(rig, r == 0);
		}
	};
	// Whether node logged one of whats within 10 s. A copy can be logged after the copies are equal: a
	// replica that missed only writes deleted again already holds what the copy brings.
	auto logged = [&](unsigned node, const std::vector<std::string> &whats) {
		return ms_until(10000, 5, [&] {
			       const std::string text = file_text(rig.nodes[node].log);
			       for (auto &what : whats)
				       if (text.find(what) != std::string::npos)
					       return true;
			       return false;
		       }) >= 0;
	};

	// Another partition, not led by the replica about to be stopped, written and emptied again while
	// it is stopped: its copy has no bytes (one that once crashed the sender).
	auto node_of = [&](uint32_t p) { return static_cast<unsigned>(m.nodes[parts[p].primary][1] - '0'); };
	uint32_t emptied = 1;
	while (node_of(emptied) == rest[0])
		emptied++;
	REQUIRE(emptied < partitions);
	const unsigned emptied_primary = node_of(emptied);
	std::vector<std::string> gone;
	for (int k = 0; gone.size() < keys.size(); k++) {
		std::string key = "e" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) == emptied)
			gone.push_back(key);
	}

	// Rounds of a ring's worth and more while a replica is stopped, until both primaries' rings wrote
	// over entries not yet sent to it (the link's socket buffers hold a few megabytes: how many rounds
	// that takes varies).
	auto lost = [&](unsigned node, uint32_t log) {
		sc_repl_state st{};
		REQUIRE(sc_repl_state_read(w.h[node], log, &st) == 0);
		return st.unshipped_lost;
	};
	// A queue in the structure partition of the same index, whose primary is the same: its items as
	// large, so that its ring is written over too and the copy rebuilds it from pushes.
	const uint32_t queue_log = partitions + part;
	std::string queue;
	for (int k = 0; queue.empty(); k++) {
		const std::string q = "cq" + std::to_string(k);
		sc_repl_state before{}, after{};
		REQUIRE(sc_repl_state_read(w.h[primary], queue_log, &before) == 0);
		REQUIRE(sc_queue_add(w.h[primary], q.c_str(), sc_int(-1)) == 0);
		REQUIRE(sc_repl_state_read(w.h[primary], queue_log, &after) == 0);
		if (after.last_lseq != before.last_lseq)
			queue = q;
	}
	int64_t queued = 0;
	const uint64_t lost_before[3] = { lost(primary, part), lost(emptied_primary, emptied),
					  lost(primary, queue_log) };
	kill(rig.nodes[rest[0]].pid, SIGSTOP);
	for (int round = 0;
	     round < 3 || lost(primary, part) == lost_before[0] ||
	     lost(emptied_primary, emptied) == lost_before[1] || lost(primary, queue_log) == lost_before[2];
	     round++) {
		REQUIRE(round < 40);
		put_on(primary, round);
		for (int i = 0; i < 6; i++)
			REQUIRE(sc_queue_add(w.h[primary], queue.c_str(),
					     sc_str((std::to_string(queued++) + big).c_str())) == 0);
		sc_tuples *out = nullptr;
		REQUIRE(sc_queue_out(w.h[primary], queue.c_str(), nullptr, &out) == 1);
		sc_tuples_free(out);
		for (auto &k : gone)
			REQUIRE(sc_put(w.h[emptied_primary],
				       SC_TUPLE(sc_str(k.c_str()), sc_int(round), sc_str(big.c_str()))) == 0);
		for (auto &k : gone)
			REQUIRE(sc_delete(w.h[emptied_primary], SC_TUPLE(sc_str(k.c_str()))) == 1);
	}
	kill(rig.nodes[rest[0]].pid, SIGCONT);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	// Each ring wrote over entries some replica had not been sent, so it copied that replica: mostly
	// the stopped one, but on a loaded machine the other can fall as far behind (its link is the
	// slower one when the stopped node's socket buffers took everything).
	auto copied = [&](unsigned node, uint32_t log, const std::string &tail) {
		const std::string what = "log " + std::to_string(log) + ": copying the partition to n";
		std::vector<std::string> whats;
		for (unsigned to : others(node))
			whats.push_back(what + std::to_string(to) + tail);
		return logged(node, whats);
	};
	CHECK_LOGGED(rig, copied(primary, part, ""));
	CHECK_LOGGED(rig, copied(emptied_primary, emptied, " (0 bytes"));
	CHECK_LOGGED(rig, copied(primary, queue_log, ""));
	for (auto *c : w.copy)
		CHECK(sc_queue_count(c, queue.c_str()) ==
		      static_cast<int>(queued) + 1 - static_cast<int>(queued / 6));

	// Writes neither replica got, then the primary killed: in async mode a replica takes over without
	// them; the old primary comes back with a log the new one does not continue, and is copied.
	kill(rig.nodes[rest[0]].pid, SIGSTOP);
	kill(rig.nodes[rest[1]].pid, SIGSTOP);
	put_on(primary, 100);
	rig.kill9(primary);
	kill(rig.nodes[rest[0]].pid, SIGCONT);
	kill(rig.nodes[rest[1]].pid, SIGCONT);
	REQUIRE_LOGGED(rig, rig.wait_settled(rest, names_of(rest), 4 * lease_ms) >= 0);
	REQUIRE(sc_cluster_map_read(w.h[rest[0]], &m, parts.data(), partitions) == 0);
	unsigned now_primary = static_cast<unsigned>(m.nodes[parts[part].primary][1] - '0');
	put_on(now_primary, 200);
	rig.start(primary);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	// Settled means one primary, alive; the controller names the node that came back a replica again after.
	REQUIRE_LOGGED(rig, w.wait_replicas(part, 3, 20000) >= 0);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	CHECK_LOGGED(rig,
		     logged(now_primary, { "log 0: copying the partition to n" + std::to_string(primary) }));
	CHECK_LOGGED(rig, ms_until(10000, 2, [&] {
				  int holders = 0;
				  for (auto *c : w.copy) {
					  sc_tuples *got = nullptr;
					  if (sc_get(c, SC_TUPLE(sc_str(keys[0].c_str())), &got) == 1 &&
					      got->tuples[0].fields[1].v.i == 200)
						  holders++;
					  sc_tuples_free(got);
				  }
				  return holders == 3;
			  }) >= 0);
	rig.check();
}

TEST_CASE("sync: a member of the in-sync set that needs a copy leaves the set before the copy begins",
	  "[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("copy-isr");
	// A lag allowance far longer than the replica is stopped: it is still in the set when it asks to
	// follow again, and its ring position has been written over.
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3",
			   "--replica-lag-ms",	 "1000" };
	rig.start_settled();
	Writers w(rig, 10000);
	const uint32_t part = 0;
	const unsigned primary = w.primary_of(part);
	const unsigned copied = (primary + 1) % 3;
	std::vector<std::string> keys;
	for (int k = 0; keys.size() < 40; k++) {
		std::string key = "s" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) == part)
			keys.push_back(key);
	}
	// One batch of 2.4 MB: more than the ring and a link's queue hold, appended before it waits.
	std::string big(60000, 'b');
	std::vector<sc_tuple> batch;
	std::vector<std::vector<sc_field>> fields;
	for (auto &k : keys)
		fields.push_back({ sc_str(k.c_str()), sc_int(1), sc_str(big.c_str()) });
	for (auto &f : fields)
		batch.push_back(sc_tuple{ static_cast<uint32_t>(f.size()), f.data() });

	// Both replicas in the set first: a replica not yet in it is copied at once, and this is about members.
	CHECK(ms_until(20000, 20, [&] {
		      BusDict health = cluster_health(rig, primary);
		      return health["partitions_under_replicated"].u == 0;
	      }) >= 0);
	kill(rig.nodes[copied].pid, SIGSTOP);
	std::thread writer([&] { CHECK(sc_put_batch(w.h[primary], batch.data(), batch.size()) == 0); });
	std::this_thread::sleep_for(std::chrono::milliseconds(200)); // the fault's length, within the lag
	kill(rig.nodes[copied].pid, SIGCONT);
	writer.join();
	REQUIRE_LOGGED(rig, w.wait_equal(20000) >= 0);

	// On the primary: each replica's copy waited, and began only once the set went on without it (the
	// batch overran the ring for the running replica too: one copy at a time, the set kept a majority).
	std::string log = file_text(rig.nodes[primary].log);
	INFO(log);
	CHECK(log.find("log 0: n" + std::to_string(copied) + " needs a copy of the partition") !=
	      std::string::npos);
	int copies = 0;
	for (unsigned i : others(primary)) {
		const std::string n = "n" + std::to_string(i);
		for (size_t began = log.find("log 0: copying the partition to " + n);
		     began != std::string::npos;
		     began = log.find("log 0: copying the partition to " + n, began + 1)) {
			size_t set = log.rfind("partition 0: in-sync set now", began);
			REQUIRE(set != std::string::npos);
			CHECK(log.substr(set, log.find('\n', set) - set).find(n) == std::string::npos);
			copies++;
		}
	}
	CHECK(copies >= 1);
	rig.check();
}

TEST_CASE(
	"supercache-top reads a primary's replication logs: entries appended, shipped and acknowledged, and the lag",
	"[cluster][replication][telemetry]")
{
	REQUIRE_NETNS();
	const char *top = std::getenv("SUPERCACHE_TOP");
	if (!top || !*top) {
		WARN("SKIPPED: built without the BPF telemetry: no supercache-top");
		return;
	}
	Rig rig("top");
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3" };
	rig.start_settled();
	Writers w(rig, 5000);
	const unsigned primary = w.primary_of(0);

	// Sync puts on the primary for as long as supercache-top watches (those of partitions it is not
	// primary of are refused: no matter).
	std::atomic<bool> done{ false };
	std::thread writer([&] {
		for (int k = 0; !done; k++)
			sc_put(w.h[primary], SC_TUPLE(sc_str(("t" + std::to_string(k)).c_str()), sc_int(k)));
	});
	CommandResult r = run_command({ top, "--name", rig.nodes[primary].cache, "--daemon",
					std::getenv("SUPERCACHED"), "--once", "--json", "--interval", "1" });
	done = true;
	writer.join();
	INFO(r.out << r.err);
	REQUIRE(r.status == 0);
	CHECK(run_command({ "python3", "-c", "import json,sys; json.load(sys.stdin)" }, {}, r.out).status ==
	      0);
	size_t at = r.out.find("\"replication\":{");
	REQUIRE(at != std::string::npos);
	unsigned long long appended = 0, shipped = 0, acked = 0, lag = 0;
	unsigned logs = 0;
	double appended_rate = 0, shipped_rate = 0, acked_rate = 0;
	// The keys come in a fixed order: supercache-top prints them so.
	REQUIRE(sscanf(r.out.c_str() + at,
		       "\"replication\":{\"appended\":%llu,\"appended_per_s\":%lf,\"primary_logs\":%u,"
		       "\"shipped\":%llu,\"shipped_per_s\":%lf,\"acked\":%llu,\"acked_per_s\":%lf,"
		       "\"lag_entries\":%llu",
		       &appended, &appended_rate, &logs, &shipped, &shipped_rate, &acked, &acked_rate,
		       &lag) == 8);
	CHECK(logs >= 1);
	CHECK(appended > 0);
	CHECK(shipped > 0);
	CHECK(acked > 0);
	// No order between the three: each counts what moved during the interval, and entries shipped
	// before it may be acknowledged within it.
	CHECK(acked_rate > 0);
	rig.check();
}

TEST_CASE(
	"sync: a node that joins takes partitions over without a moment on one copy: the replica it replaces "
	"stays until it is in sync, and every write is on two nodes when the call returns",
	"[cluster][replication]")
{
	REQUIRE_NETNS();
	Rig rig("move");
	rig.every_node = { "--replication-mode", "sync" };
	REQUIRE(rig.etcd.ok());
	rig.start(0);
	rig.start(1);
	REQUIRE_LOGGED(rig, rig.wait_settled({ 0, 1 }, { "n0", "n1" }, 20000) >= 0);
	sc_options o = options(), ro = options();
	ro.read_only = true;
	// h writes; copy reads each node's copy as it is (h reads back its own writes from their primary).
	sc_cache *h[3] = { nullptr, nullptr, nullptr }, *copy[3] = { nullptr, nullptr, nullptr };
	for (unsigned i = 0; i < 2; i++) {
		REQUIRE(sc_attach(rig.nodes[i].cache.c_str(), &o, &h[i]) == 0);
		REQUIRE(sc_attach(rig.nodes[i].cache.c_str(), &ro, &copy[i]) == 0);
	}
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	// Every partition on both nodes first: until then a write may be on its primary alone.
	REQUIRE_LOGGED(rig, ms_until(20000, 2, [&] {
				    if (sc_cluster_map_read(h[0], &m, parts.data(), partitions) != 0)
					    return false;
				    for (auto &p : parts)
					    if (p.replica_count != 2)
						    return false;
				    return true;
			    }) >= 0);

	// Queues, which a node that joins gets as copies of their partitions (pushes that rebuild them), then
	// follows by their operations.
	std::map<std::string, std::deque<int64_t>> queues;
	int64_t next_item = 0;
	auto queue_op = [&](int k) {
		const std::string q = "jq" + std::to_string(k % 4);
		sc_tuples *out = nullptr;
		if (k % 3 == 2 && !queues[q].empty()) {
			const int r = sc_queue_out(h[0], q.c_str(), nullptr, &out);
			if (r == -EAGAIN || r == -EHOSTUNREACH)
				return; // not applied, as for a put below
			INFO(sc_last_error());
			REQUIRE(r == 1);
			CHECK(out->tuples[0].fields[0].v.i == queues[q].front());
			queues[q].pop_front();
			sc_tuples_free(out);
		} else {
			const int r = sc_queue_add(h[0], q.c_str(), sc_int(next_item));
			if (r == -EAGAIN || r == -EHOSTUNREACH)
				return;
			INFO(sc_last_error());
			REQUIRE(r == 0);
			queues[q].push_back(next_item++);
		}
	};
	for (int k = 0; k < 120; k++)
		queue_op(k);

	// n2 joins: the partitions it outranks a replica of move to it while writes go on, from n0.
	rig.start(2);
	auto found_on = [&](const std::string &key) {
		int n = 0;
		for (auto *c : copy) {
			sc_tuples *got = nullptr;
			n += c && sc_get(c, SC_TUPLE(sc_str(key.c_str())), &got) == 1;
			sc_tuples_free(got);
		}
		return n;
	};
	int writes = 0, on_two = 0, most_replicas = 0;
	const uint64_t t0 = clock_ms();
	bool placed = false;
	while (!placed && clock_ms() - t0 < 20000) {
		if (!h[2] && sc_attach(rig.nodes[2].cache.c_str(), &o, &h[2]) != 0)
			h[2] = nullptr; // its coordinator has not made the segment yet
		if (h[2] && !copy[2])
			REQUIRE(sc_attach(rig.nodes[2].cache.c_str(), &ro, &copy[2]) == 0);
		if (writes % 4 == 0)
			queue_op(writes / 4);
		const std::string key = "m" + std::to_string(writes++);
		const int r = sc_put(h[0], SC_TUPLE(sc_str(key.c_str()), sc_int(writes)));
		INFO(key << ": " << (r ? sc_last_error() : "written"));
		// Refused while a partition's record changes hands (-EAGAIN) or a link comes up: not applied.
		if (r == -EAGAIN || r == -EHOSTUNREACH)
			continue;
		REQUIRE(r == 0);
		const int holders = found_on(key);
		CHECK(holders >= 2);
		on_two += holders >= 2;
		REQUIRE(sc_cluster_map_read(h[0], &m, parts.data(), partitions) == 0);
		int on_n2 = 0, two = 0;
		for (auto &p : parts) {
			most_replicas = std::max<int>(most_replicas, p.replica_count);
			two += p.replica_count == 2;
			for (uint16_t k = 0; k < p.replica_count; k++)
				on_n2 += std::string(m.nodes[p.replicas[k]]) == "n2";
		}
		placed = h[2] && on_n2 > 0 && two == static_cast<int>(partitions) && writes > 200;
	}
	REQUIRE_LOGGED(rig, placed);
	// Three replicas at once is seen when a sample falls between the two record changes of a move
	// (they can be a few milliseconds apart): printed, not required. Without make-before-break the
	// check on holders above fails (a write on one node only).
	std::cout << "writes while n2 joined: " << on_two << " on two nodes at once; at most "
		  << most_replicas << " replicas of a partition seen during the moves" << std::endl;
	for (auto *c : h)
		if (c)
			sc_stop(c);
	for (auto *c : copy)
		if (c)
			sc_stop(c);
	// Every copy of the queues' partitions holds what their primary holds, item for item; the primary
	// hands back what the calls left, in order.
	Writers w(rig);
	CHECK_LOGGED(rig, w.wait_equal(10000) >= 0);
	for (auto &[q, items] : queues) {
		INFO(q);
		sc_tuples *out = nullptr;
		const int n = sc_queue_get_all(w.h[1], q.c_str(), &out);
		INFO(sc_last_error());
		REQUIRE(n == static_cast<int>(items.size()));
		for (int i = 0; i < n; i++)
			CHECK(out->tuples[i].fields[0].v.i == items[static_cast<size_t>(i)]);
		sc_tuples_free(out);
	}
	rig.check();
}
