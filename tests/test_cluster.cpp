// test_cluster.cpp — three supercached, each in its own network namespace with its own etcd member,
// under faults (kill -9, SIGSTOP, an iptables cut, a restart); every node's partition map recorded
// the whole time and checked: one primary per (partition, epoch), no epoch back, no split brain.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "command.hpp"
#include "coordinator_harness.hpp"
#include "etcd_cluster.hpp"
#include "helpers.hpp"
#include "internals.h"
#include "map_history.hpp"
#include "netns.hpp"

using namespace sctest;

namespace
{

const uint32_t partitions = 8;
const uint32_t lease_ms = 2000;
const uint32_t heartbeat_ms = 200;

uint64_t now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Three nodes n0..n2: node i's etcd member and supercached in namespace i; the test reads every
// node's segment from the root namespace about every millisecond and keeps what it saw.
class Rig
{
      public:
	explicit Rig(const std::string &what)
	    : net(3), etcd({ { "e0", net.ip(0), net.ns(0) },
			     { "e1", net.ip(1), net.ns(1) },
			     { "e2", net.ip(2), net.ns(2) } }),
	      cluster(what + "-" + std::to_string(getpid()))
	{
		char tmpl[] = "/tmp/sctest-cluster-XXXXXX";
		dir = mkdtemp(tmpl) ? tmpl : "/tmp";
		secret = dir + "/secret";
		int fd = open(secret.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		for (int i = 0; i < 64; i++)
			(void)!write(fd, &"0123456789abcdefghijklmnopqrstuvwxyz"[(i * 7 + getpid()) % 36], 1);
		close(fd);
		for (unsigned i = 0; i < 3; i++)
			nodes.push_back({ "n" + std::to_string(i),
					  "cl" + std::to_string(getpid()) + what.substr(0, 8) + "n" +
						  std::to_string(i),
					  -1, dir + "/n" + std::to_string(i) + ".log" });
		handles.assign(3, nullptr);
		sampler = std::thread([this] { sample_loop(); });
	}

	~Rig()
	{
		stop_sampling();
		for (unsigned i = 0; i < nodes.size(); i++)
			terminate(i);
		for (auto *h : handles)
			if (h)
				sc_stop(h);
		for (auto &n : nodes)
			sc_destroy(n.cache.c_str(), nullptr);
		etcd.stop();
		unlink(secret.c_str());
	}

	// Node i's supercached arguments, with extra ones (later keys win).
	std::vector<std::string> args(unsigned i, const std::vector<std::string> &extra = {}) const
	{
		// Each node asks its own etcd member first, as a deployment would.
		std::vector<unsigned> order = { i, (i + 1) % 3, (i + 2) % 3 };
		std::vector<std::string> a = {
			supercached_path(),
			"--name",
			nodes[i].cache,
			"--bus-address",
			bus.address(),
			"--cluster",
			"distributed",
			"--cluster-name",
			cluster,
			"--node-name",
			nodes[i].name,
			"--listen",
			net.ip(i) + ":7100",
			"--etcd-endpoints",
			etcd.endpoints(order),
			"--secret-file",
			secret,
			"--num-partition",
			std::to_string(partitions),
			"--replication-factor",
			"2",
			"--memory-limit",
			"64M",
			"--lease-ms",
			std::to_string(lease_ms),
			"--heartbeat-interval-ms",
			std::to_string(heartbeat_ms),
			"--debug-log",
			"true",
		};
		a.insert(a.end(), every_node.begin(), every_node.end());
		a.insert(a.end(), extra.begin(), extra.end());
		return a;
	}

	void start(unsigned i, const std::vector<std::string> &extra = {})
	{
		started_ns[i] = now_ns();
		nodes[i].pid = net.spawn(i, args(i, extra), {}, nodes[i].log);
		REQUIRE(nodes[i].pid > 0);
	}

	void start_all()
	{
		for (unsigned i = 0; i < 3; i++)
			start(i);
	}

	// All three started, and agreeing on a map where each partition has a primary.
	void start_settled();

	// SIGTERM and reap; its exit status (or -1 if it was not running).
	int terminate(unsigned i)
	{
		if (nodes[i].pid <= 0)
			return -1;
		kill(nodes[i].pid, SIGCONT);
		kill(nodes[i].pid, SIGTERM);
		return reap(i);
	}

	void kill9(unsigned i)
	{
		kill(nodes[i].pid, SIGKILL);
		reap(i);
	}

	int reap(unsigned i)
	{
		int status = 0;
		waitpid(nodes[i].pid, &status, 0);
		nodes[i].pid = -1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}

	// The latest sample of each of the given nodes (those not read yet are left out).
	std::vector<MapSample> latest(const std::vector<unsigned> &which) const
	{
		std::lock_guard<std::mutex> g(lock);
		std::vector<MapSample> out;
		for (unsigned i : which)
			if (!last[i].node.empty())
				out.push_back(last[i]);
		return out;
	}

	// Whether the given nodes agree on a map where every partition has a primary among alive.
	bool settled(const std::vector<unsigned> &which, const std::vector<std::string> &alive,
		     std::string *why = nullptr) const
	{
		std::vector<MapSample> l = latest(which);
		if (l.size() != which.size() || !agree(l, why))
			return false;
		for (auto &p : l[0].parts)
			if (std::find(alive.begin(), alive.end(), p.primary) == alive.end()) {
				if (why)
					*why = "a partition's primary is \"" + p.primary + "\"";
				return false;
			}
		for (size_t k = 0; k < l.size(); k++) {
			if (l[k].deadline_ns <= l[k].t_ns) {
				if (why)
					*why = l[k].node + " holds no lease";
				return false;
			}
			// A restarted node's segment still shows its previous run's map: only its own change counts.
			if (l[k].changed_ns <= started_ns[which[k]]) {
				if (why)
					*why = l[k].node + " has written nothing since it started";
				return false;
			}
		}
		return true;
	}

	// Milliseconds until settled(), or -1 after timeout_ms.
	int64_t wait_settled(const std::vector<unsigned> &which, const std::vector<std::string> &alive,
			     uint64_t timeout_ms)
	{
		uint64_t start = clock_ms();
		std::string why;
		while (clock_ms() - start < timeout_ms) {
			if (settled(which, alive, &why))
				return static_cast<int64_t>(clock_ms() - start);
			std::this_thread::sleep_for(
				std::chrono::milliseconds(5)); // polling the recorder, not synchronising
		}
		UNSCOPED_INFO("not settled: " << why);
		return -1;
	}

	// Stop recording and check everything recorded.
	void check()
	{
		stop_sampling();
		std::vector<Violation> v = check_history(history);
		INFO(history.size() << " samples");
		for (auto &x : v)
			UNSCOPED_INFO(x.what);
		if (!v.empty())
			UNSCOPED_INFO("history: " << dump_history());
		CHECK(v.empty());
		CHECK(history.size() > 100);
	}

	// The history as text, one sample a line, in a file of the rig's directory (kept for a failed test).
	std::string dump_history() const
	{
		std::string path = dir + "/history.txt";
		FILE *f = fopen(path.c_str(), "w");
		if (!f)
			return "(cannot write " + path + ")";
		for (auto &s : history) {
			fprintf(f, "%llu %s seq=%llu changed=%llu deadline=%llu", (unsigned long long)s.t_ns,
				s.node.c_str(), (unsigned long long)s.seq, (unsigned long long)s.changed_ns,
				(unsigned long long)s.deadline_ns);
			for (auto &p : s.parts)
				fprintf(f, " %lld:%s", (long long)p.epoch, p.primary.c_str());
			fputc('\n', f);
		}
		fclose(f);
		return path;
	}

	std::string logs() const
	{
		std::string out;
		for (auto &n : nodes)
			out += "--- " + n.name + "\n" + file_text(n.log);
		return out;
	}

	// The controller, as node i's coordinator says.
	std::string controller(unsigned i)
	{
		BusClient c(bus.address());
		BusDict d;
		std::string err;
		if (c.call_dict("org.supercache.Coordinator1." + nodes[i].cache, "org.supercache.Cluster1",
				"ClusterStats", d, &err) < 0)
			return "";
		return d["controller"].s;
	}

	// Arguments every node gets, before each start's own (the cluster's shared options).
	std::vector<std::string> every_node;
	NetnsCluster net;
	EtcdCluster etcd;
	PrivateBus bus;
	std::string cluster, dir, secret;
	struct Node {
		std::string name, cache;
		pid_t pid;
		std::string log;
	};
	std::vector<Node> nodes;

      private:
	void stop_sampling()
	{
		if (sampler.joinable()) {
			stopping = true;
			sampler.join();
		}
	}

	void sample_loop()
	{
		std::vector<sc_partition_owners> parts(partitions);
		sc_options ro = options();
		ro.read_only = 1;
		while (!stopping) {
			for (unsigned i = 0; i < 3; i++) {
				if (!handles[i] && sc_attach(nodes[i].cache.c_str(), &ro, &handles[i]) != 0)
					handles[i] = nullptr;
				// Taken before the read: a change the read missed came after it (map_history.cpp)...
				uint64_t t = now_ns();
				sc_cluster_map m;
				if (!handles[i] ||
				    sc_cluster_map_read(handles[i], &m, parts.data(), partitions) != 0)
					continue;
				MapSample s;
				// A change written during the read is in it: the sample shows the map from then on.
				s.t_ns = std::max(t, m.changed_ns);
				s.node = nodes[i].name;
				s.seq = m.changes;
				s.changed_ns = m.changed_ns;
				s.deadline_ns = m.lease_deadline_ns;
				for (uint32_t p = 0; p < partitions; p++)
					s.parts.push_back({ static_cast<int64_t>(parts[p].epoch),
							    parts[p].primary < m.node_count
								    ? m.nodes[parts[p].primary]
								    : "" });
				std::lock_guard<std::mutex> g(lock);
				// A map never written yet says nothing: the node has not started.
				if (s.seq == 0)
					continue;
				last[i] = s;
				history.push_back(std::move(s));
			}
			std::this_thread::sleep_for(std::chrono::microseconds(200)); // the sampling period
		}
	}

	std::vector<sc_cache *> handles;
	std::thread sampler;
	std::atomic<bool> stopping{ false };
	mutable std::mutex lock;
	MapSample last[3];
	uint64_t started_ns[3] = { 0, 0, 0 };
	std::vector<MapSample> history;
};

#define REQUIRE_NETNS() SCTEST_SKIP_IF(NetnsCluster::unavailable())

// CHECK and REQUIRE that add every node's log to the report when they fail (INFO would take it too early).
#define ASSERT_LOGGED(assertion, rig, expr)          \
	do {                                         \
		bool ok_ = static_cast<bool>(expr);  \
		if (!ok_)                            \
			UNSCOPED_INFO((rig).logs()); \
		assertion(ok_);                      \
	} while (0)
#define CHECK_LOGGED(rig, expr)	  ASSERT_LOGGED(CHECK, rig, expr)
#define REQUIRE_LOGGED(rig, expr) ASSERT_LOGGED(REQUIRE, rig, expr)

const std::vector<unsigned> all = { 0, 1, 2 };
const std::vector<std::string> all_names = { "n0", "n1", "n2" };

void Rig::start_settled()
{
	REQUIRE(etcd.ok());
	start_all();
	REQUIRE_LOGGED(*this, wait_settled(all, all_names, 20000) >= 0);
}

std::vector<unsigned> others(unsigned i)
{
	return { (i + 1) % 3, (i + 2) % 3 };
}

std::vector<std::string> names_of(const std::vector<unsigned> &which)
{
	std::vector<std::string> out;
	for (unsigned i : which)
		out.push_back("n" + std::to_string(i));
	return out;
}

} // namespace

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

namespace
{

// Writable handles on the three nodes' caches, as a client process on each host would hold.
struct Writers {
	explicit Writers(const Rig &rig, uint64_t majority_timeout_ms = 0)
	{
		sc_options o = options();
		o.majority_timeout_ms = majority_timeout_ms;
		for (unsigned i = 0; i < 3; i++)
			REQUIRE(sc_attach(rig.nodes[i].cache.c_str(), &o, &h[i]) == 0);
	}
	~Writers()
	{
		for (auto *c : h)
			if (c)
				sc_stop(c);
	}
	Writers(const Writers &) = delete;
	Writers &operator=(const Writers &) = delete;

	// Put key on whichever node takes it: that node's index. Each other node must refuse it as
	// not its primary's; -1 when none or more than one took it.
	int put(const std::string &key, int64_t value)
	{
		int taken = -1, count = 0;
		for (int i = 0; i < 3; i++) {
			int r = sc_put(h[i], SC_TUPLE(sc_str(key.c_str()), sc_int(value)));
			if (r == 0) {
				taken = i;
				count++;
			} else if (r != -EOPNOTSUPP) {
				UNSCOPED_INFO("n" << i << ": put " << key << ": " << sc_last_error());
				return -1;
			}
		}
		return count == 1 ? taken : -1;
	}

	// Every log of every partition: its primary's copy and each replica's hold the same records
	// with the same versions (tuple partitions p, structure partitions num_partition + p).
	bool copies_equal(std::string *why)
	{
		std::vector<sc_partition_owners> parts(partitions);
		sc_cluster_map m;
		if (sc_cluster_map_read(h[0], &m, parts.data(), partitions) != 0) {
			*why = sc_last_error();
			return false;
		}
		for (uint32_t p = 0; p < partitions; p++) {
			const sc_partition_owners &o = parts[p];
			if (o.primary >= m.node_count) {
				*why = "partition " + std::to_string(p) + " has no primary";
				return false;
			}
			unsigned prim = static_cast<unsigned>(m.nodes[o.primary][1] - '0');
			for (uint32_t log : { p, partitions + p }) {
				uint64_t n0 = 0, n1 = 0;
				uint64_t want = sctest_partition_digest(h[prim], log, &n0);
				for (uint16_t k = 0; k < o.replica_count; k++) {
					unsigned rep = static_cast<unsigned>(m.nodes[o.replicas[k]][1] - '0');
					if (sctest_partition_digest(h[rep], log, &n1) != want || n1 != n0) {
						*why = "partition " + std::to_string(log) + ": n" +
						       std::to_string(rep) + " holds " + std::to_string(n1) +
						       " records, primary n" + std::to_string(prim) + " " +
						       std::to_string(n0);
						return false;
					}
				}
			}
		}
		return true;
	}

	// Milliseconds until copies_equal(), or -1 after timeout_ms.
	int64_t wait_equal(uint64_t timeout_ms)
	{
		uint64_t start = clock_ms();
		std::string why;
		while (clock_ms() - start < timeout_ms) {
			if (copies_equal(&why))
				return static_cast<int64_t>(clock_ms() - start);
			std::this_thread::sleep_for(std::chrono::milliseconds(2)); // polling the copies
		}
		UNSCOPED_INFO("copies differ: " << why);
		return -1;
	}

	sc_cache *h[3] = { nullptr, nullptr, nullptr };
};

} // namespace

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
	for (int k = 0; k < keys; k++) {
		int i = w.put("key" + std::to_string(k), k);
		REQUIRE(i >= 0);
		taken[i]++;
	}
	// Deletes and KeyValue pairs replicate too, each from its partition's primary.
	for (int k = 0; k < keys; k += 10) {
		int done = 0;
		for (auto *c : w.h)
			done += sc_delete(c, SC_TUPLE(sc_str(("key" + std::to_string(k)).c_str()))) == 1;
		CHECK(done == 1);
	}
	for (int k = 0; k < 500; k++) {
		int done = 0;
		std::string key = "kv" + std::to_string(k);
		for (auto *c : w.h)
			done += sc_kv_add(c, "ns", sc_str(key.c_str()), sc_int(k)) == 0;
		CHECK(done == 1);
	}
	std::cout << "puts taken by n0/n1/n2: " << taken[0] << "/" << taken[1] << "/" << taken[2]
		  << std::endl;
	int64_t ms = w.wait_equal(10000);
	REQUIRE_LOGGED(rig, ms >= 0);
	std::cout << "every replica equal to its primary " << ms << " ms after the last write" << std::endl;

	// The node primary of most partitions killed: they move to their replicas; writes go on; restarted
	// with its segment, it follows each new primary from its last entry (a prefix of theirs).
	unsigned victim = static_cast<unsigned>(std::max_element(taken, taken + 3) - taken);
	rig.kill9(victim);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(victim), names_of(others(victim)), 4 * lease_ms) >= 0);
	for (int k = 0; k < keys; k++) {
		int done = 0;
		for (unsigned i : others(victim))
			done += sc_put(w.h[i], SC_TUPLE(sc_str(("key" + std::to_string(k)).c_str()),
							sc_int(-k))) == 0;
		CHECK(done == 1);
	}
	rig.start(victim);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	ms = w.wait_equal(10000);
	CHECK_LOGGED(rig, ms >= 0);
	std::cout << "the restarted node equal to every primary " << ms << " ms after the map settled"
		  << std::endl;
	// The key's last value, on replication_factor nodes.
	int holders = 0;
	for (auto *c : w.h) {
		sc_tuples *got = nullptr;
		if (sc_get(c, SC_TUPLE(sc_str("key7")), &got) == 1) {
			holders++;
			CHECK(got->tuples[0].fields[1].v.i == -7);
		}
		sc_tuples_free(got);
	}
	CHECK(holders == 2);
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
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	auto node_of = [&](uint16_t index) { return static_cast<unsigned>(m.nodes[index][1] - '0'); };

	// Each write is on its replica when the call returns: read there at once, it is found.
	int on_replica = 0;
	for (int k = 0; k < 300; k++) {
		std::string key = "s" + std::to_string(k);
		int i = w.put(key, k);
		REQUIRE(i >= 0);
		for (unsigned r = 0; r < 3; r++) {
			if (r == static_cast<unsigned>(i))
				continue;
			sc_tuples *got = nullptr;
			int n = sc_get(w.h[r], SC_TUPLE(sc_str(key.c_str())), &got);
			sc_tuples_free(got);
			on_replica += n == 1;
		}
	}
	CHECK(on_replica == 300); // replication_factor 2: one replica each
	CHECK_LOGGED(rig, w.wait_equal(5000) >= 0);

	// A replica stopped: a write whose partition it holds waits majority_timeout_ms, then fails
	// with -ETIMEDOUT, before the map has moved anything (the lease is 4 times longer).
	unsigned stopped = 2, primary = 3;
	uint32_t part = partitions;
	for (uint32_t p = 0; p < partitions && part == partitions; p++)
		for (uint16_t k = 0; k < parts[p].replica_count; k++)
			if (node_of(parts[p].replicas[k]) == stopped &&
			    node_of(parts[p].primary) != stopped) {
				part = p;
				primary = node_of(parts[p].primary);
			}
	REQUIRE(part < partitions);
	kill(rig.nodes[stopped].pid, SIGSTOP);
	int timed_out = 0, tried = 0;
	for (int k = 0; tried < 3 && k < 1000; k++) {
		std::string key = "t" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) != part)
			continue;
		tried++;
		uint64_t t0 = clock_ms();
		int r = sc_put(w.h[primary], SC_TUPLE(sc_str(key.c_str()), sc_int(k)));
		uint64_t took = clock_ms() - t0;
		INFO(sc_last_error());
		CHECK(r == -ETIMEDOUT);
		timed_out += r == -ETIMEDOUT;
		CHECK(took >= timeout_ms);
	}
	kill(rig.nodes[stopped].pid, SIGCONT);
	CHECK(timed_out == 3);
	CHECK(std::string(sc_last_error()).find("not acknowledged") != std::string::npos);
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
	kill(rig.nodes[stopped].pid, SIGCONT);
	std::cout << "sync writes with a replica stopped: the slowest took " << slowest << " ms" << std::endl;
	CHECK(slowest < 1500); // the lease is 2 s: the set shrank, the map did not move
	CHECK_LOGGED(rig, file_text(rig.nodes[primary].log).find("partition 0: in-sync set now") !=
				  std::string::npos);

	// Back, it catches up (and rejoins the set); then the primary is killed: a member of the set takes over.
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	put_all(2000, &slowest);
	rig.kill9(primary);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(primary), names_of(others(primary)), 4 * lease_ms) >= 0);
	for (unsigned i : others(primary))
		for (auto &kv : acked) {
			sc_tuples *got = nullptr;
			INFO("n" << i << " " << kv.first);
			REQUIRE(sc_get(w.h[i], SC_TUPLE(sc_str(kv.first.c_str())), &got) == 1);
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
	rig.start_settled();
	Writers w(rig);
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	REQUIRE(sc_cluster_map_read(w.h[0], &m, parts.data(), partitions) == 0);
	auto node_of = [&](uint16_t index) { return static_cast<unsigned>(m.nodes[index][1] - '0'); };
	const uint32_t part = 0;
	unsigned primary = node_of(parts[part].primary);
	unsigned replica = node_of(parts[part].replicas[0]) == primary ? node_of(parts[part].replicas[1])
								       : node_of(parts[part].replicas[0]);
	std::vector<std::string> keys;
	for (int k = 0; keys.size() < 400; k++) {
		std::string key = "c" + std::to_string(k);
		if (sctest_partition_of(w.h[primary], SC_TUPLE(sc_str(key.c_str()))) == part)
			keys.push_back(key);
	}
	std::string big(1000, 'v');
	auto put_on = [&](unsigned node, int64_t v) {
		for (auto &k : keys)
			REQUIRE(sc_put(w.h[node],
				       SC_TUPLE(sc_str(k.c_str()), sc_int(v), sc_str(big.c_str()))) == 0);
	};

	// Over four rings' worth while the replica is stopped: the entries it lacks are written over.
	kill(rig.nodes[replica].pid, SIGSTOP);
	for (int round = 0; round < 3; round++)
		put_on(primary, round);
	kill(rig.nodes[replica].pid, SIGCONT);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	CHECK_LOGGED(rig, file_text(rig.nodes[primary].log)
					  .find("log 0: copying the partition to n" +
						std::to_string(replica)) != std::string::npos);

	// Writes the replica never got, then the primary killed: in async mode the replica takes over without
	// them; the old primary comes back with a log the new one does not continue, and is copied.
	kill(rig.nodes[replica].pid, SIGSTOP);
	put_on(primary, 100);
	rig.kill9(primary);
	kill(rig.nodes[replica].pid, SIGCONT);
	REQUIRE_LOGGED(rig, rig.wait_settled(others(primary), names_of(others(primary)), 4 * lease_ms) >= 0);
	put_on(replica, 200);
	rig.start(primary);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	REQUIRE_LOGGED(rig, w.wait_equal(10000) >= 0);
	CHECK_LOGGED(rig, file_text(rig.nodes[replica].log)
					  .find("log 0: copying the partition to n" +
						std::to_string(primary)) != std::string::npos);
	sc_tuples *got = nullptr;
	REQUIRE(sc_get(w.h[primary], SC_TUPLE(sc_str(keys[0].c_str())), &got) == 1);
	CHECK(got->tuples[0].fields[1].v.i == 200);
	sc_tuples_free(got);
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
