// cluster_rig.hpp — three supercached, each in its own network namespace beside its own etcd
// member, with every node's partition map recorded for the checks of map_history.hpp; and writable
// handles on the three nodes' caches, as client processes on each host would hold them.
#ifndef SCTEST_CLUSTER_RIG_HPP
#define SCTEST_CLUSTER_RIG_HPP

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <sstream>
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

namespace sctest
{

constexpr uint32_t partitions = 8;
constexpr uint32_t lease_ms = 2000;
constexpr uint32_t heartbeat_ms = 200;

// Milliseconds until cond holds, looked at every period_ms, or -1 after timeout_ms: polling what the
// test records or reads, not a synchronisation.
inline int64_t ms_until(uint64_t timeout_ms, uint64_t period_ms, const std::function<bool()> &cond)
{
	uint64_t start = clock_ms();
	while (clock_ms() - start < timeout_ms) {
		if (cond())
			return static_cast<int64_t>(clock_ms() - start);
		std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
	}
	return -1;
}

inline uint64_t now_ns()
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

	// Node i's coordinator loses etcd, every member (its own included), and nothing else: its peer
	// links and its etcd member's raft traffic go on.
	void cut_from_etcd(unsigned i, bool cut)
	{
		for (unsigned m = 0; m < 3; m++) {
			if (cut)
				net.cut_out(i, net.ip(m), static_cast<int>(etcd.client_port(m)));
			else
				net.heal_out(i, net.ip(m), static_cast<int>(etcd.client_port(m)));
		}
	}

	void start_all()
	{
		for (unsigned i = 0; i < 3; i++)
			start(i);
	}

	// All three started, each partition placed over all three (as far as the replication factor goes),
	// and agreeing on a map where each partition has a primary.
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
		std::string why;
		int64_t ms = ms_until(timeout_ms, 5, [&] { return settled(which, alive, &why); });
		if (ms < 0)
			UNSCOPED_INFO("not settled: " << why);
		return ms;
	}

	// The replication factor the nodes run with: the last --replication-factor of their arguments.
	uint16_t replication_factor()
	{
		std::vector<std::string> a = args(0, {});
		uint16_t rf = 0;
		for (size_t k = 0; k + 1 < a.size(); k++)
			if (a[k] == "--replication-factor")
				rf = static_cast<uint16_t>(std::stoul(a[k + 1]));
		return rf;
	}

	// Milliseconds until the nodes are settled() on a map that gives each partition min(replication
	// factor, 3) replicas, or -1 after timeout_ms. Settled alone can be a map placed over the first
	// node to join, before the others were counted: a test that went on from there would find
	// partitions re-placed under it, and copies equal only because they had no replicas yet.
	int64_t wait_placed(const std::vector<unsigned> &which, const std::vector<std::string> &alive,
			    uint64_t timeout_ms)
	{
		const uint16_t want = std::min<uint16_t>(replication_factor(), 3);
		std::string why;
		int64_t ms = ms_until(timeout_ms, 5, [&] {
			if (!settled(which, alive, &why))
				return false;
			for (const MapSample &s : latest(which))
				for (size_t p = 0; p < s.parts.size(); p++)
					if (s.parts[p].replicas != want) {
						why = s.node + ": partition " + std::to_string(p) + " has " +
						      std::to_string(s.parts[p].replicas) + " replicas";
						return false;
					}
			return true;
		});
		if (ms < 0)
			UNSCOPED_INFO("not placed: " << why);
		return ms;
	}

	// Stop recording and check everything recorded.
	void check()
	{
		stop_sampling();
		std::vector<Violation> all = check_history(history), v;
		INFO(history.size() << " samples");
		for (auto &x : all) {
			if (!x.possible) {
				v.push_back(x);
				continue;
			}
			// Rests on changes the recorder missed: said, not failed (docs/distributed.md, "Faults, proven").
			std::cout << "possible (the recorder missed changes): " << x.what << std::endl;
		}
		for (auto &x : v)
			UNSCOPED_INFO(x.what);
		if (!v.empty())
			UNSCOPED_INFO("history: " << dump_history());
		CHECK(v.empty());
		CHECK(history.size() > 100);
		// What the sanitizers found in a node (built with them): a node that goes on after UBSan's
		// report, or whose death the test took for a fault of its own, fails the test all the same.
		for (auto &n : nodes) {
			std::string text = file_text(n.log);
			INFO(n.name << "'s log: " << n.log);
			CHECK(text.find("runtime error:") == std::string::npos);
			CHECK(text.find("ERROR: AddressSanitizer") == std::string::npos);
		}
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
		// A real-time thread: on a loaded machine (sanitizers, clients writing) a recorder that waits
		// for the CPU misses changes, which the checks then take as acted through. It sleeps between
		// samples, so it starves nobody. Without the privilege it runs as it is.
		sched_param sp{};
		sp.sched_priority = 10;
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
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
								    : "",
							    parts[p].replica_count });
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

inline const std::vector<unsigned> all = { 0, 1, 2 };
inline const std::vector<std::string> all_names = { "n0", "n1", "n2" };

inline void Rig::start_settled()
{
	REQUIRE(etcd.ok());
	start_all();
	REQUIRE_LOGGED(*this, wait_placed(all, all_names, 20000) >= 0);
}

inline std::vector<unsigned> others(unsigned i)
{
	return { (i + 1) % 3, (i + 2) % 3 };
}

inline std::vector<std::string> names_of(const std::vector<unsigned> &which)
{
	std::vector<std::string> out;
	for (unsigned i : which)
		out.push_back("n" + std::to_string(i));
	return out;
}

// A method of node i's coordinator on interface iface (types and ap: its arguments): its a{sv} reply.
inline BusDict coordinator_dictv(const Rig &rig, unsigned i, const char *iface, const char *method,
				 const char *types, va_list ap)
{
	BusClient client(rig.bus.address());
	sd_bus_message *reply = nullptr;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	BusDict d;
	std::string dest = "org.supercache.Coordinator1." + rig.nodes[i].cache;
	int r = sd_bus_call_methodv(client.get(), dest.c_str(), "/org/supercache/Coordinator", iface, method,
				    &e, &reply, types, ap);
	INFO(method << ": " << (e.message ? e.message : ""));
	REQUIRE(r >= 0);
	REQUIRE(read_dict(reply, d) >= 0);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return d;
}

// A HealthMonitor1 method of node i's coordinator (types and what follows: its arguments).
inline BusDict health_monitor(const Rig &rig, unsigned i, const char *method, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	BusDict d = coordinator_dictv(rig, i, "org.supercache.HealthMonitor1", method, types, ap);
	va_end(ap);
	return d;
}

inline BusDict coordinator_dict(const Rig &rig, unsigned i, const char *iface, const char *method,
				const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	BusDict d = coordinator_dictv(rig, i, iface, method, types, ap);
	va_end(ap);
	return d;
}

// What node i's coordinator says of node j (Cluster1.NodeHealth), its link to it among the rest.
inline BusDict node_health(const Rig &rig, unsigned i, unsigned j)
{
	return coordinator_dict(rig, i, "org.supercache.Cluster1", "NodeHealth", "s",
				rig.nodes[j].name.c_str());
}

inline BusDict replication_lag(const Rig &rig, unsigned i, uint32_t partition)
{
	return health_monitor(rig, i, "ReplicationLag", "u", partition);
}

inline BusDict cluster_health(const Rig &rig, unsigned i)
{
	return health_monitor(rig, i, "ClusterHealth", "");
}

// Milliseconds until every node has its peer links up (ClusterHealth lists none unreachable), or -1
// after timeout_ms: a settled map says nothing of the links, and a write forwarded before they are up
// is refused as not sent. With since_ns, every link must also have had a heartbeat answered after it:
// a link that outlived a cut looks up, yet its heartbeats may still be stuck behind TCP's backoff, and
// it is closed as dead (with what it carried) once they are late enough.
inline int64_t wait_links(const Rig &rig, uint64_t timeout_ms, uint64_t since_ns = 0)
{
	return ms_until(timeout_ms, 20, [&] {
		for (unsigned i = 0; i < 3; i++) {
			if (!cluster_health(rig, i)["unreachable_nodes"].strings.empty())
				return false;
			for (unsigned j = 0; j < 3 && since_ns; j++) {
				if (j == i)
					continue;
				BusDict d = node_health(rig, i, j);
				// The age is in whole ms, rounded down: the ack may be up to 1 ms older.
				const uint64_t acked_ns =
					now_ns() - (d["last_heartbeat_ms_ago"].u + 1) * 1000000ull;
				if (!d["up"].b || !d["heartbeat_seen"].b || acked_ns <= since_ns)
					return false;
			}
		}
		return true;
	});
}

// Writable handles on the three nodes' caches, as a client process on each host would hold; and
// read-only ones, which see each node's copy as it is (a handle reads back its own writes from the
// partition's primary while its copy lacks them: read-your-writes).
struct Writers {
	explicit Writers(const Rig &rig, uint64_t majority_timeout_ms = 0)
	{
		sc_options o = options();
		o.majority_timeout_ms = majority_timeout_ms;
		for (unsigned i = 0; i < 3; i++)
			REQUIRE(sc_attach(rig.nodes[i].cache.c_str(), &o, &h[i]) == 0);
		o.read_only = true;
		for (unsigned i = 0; i < 3; i++)
			REQUIRE(sc_attach(rig.nodes[i].cache.c_str(), &o, &copy[i]) == 0);
	}
	~Writers()
	{
		for (auto *c : h)
			if (c)
				sc_stop(c);
		for (auto *c : copy)
			if (c)
				sc_stop(c);
	}
	Writers(const Writers &) = delete;
	Writers &operator=(const Writers &) = delete;

	// The index of the node partition p's primary is, as node 0's map says.
	unsigned primary_of(uint32_t p)
	{
		std::vector<sc_partition_owners> parts(partitions);
		sc_cluster_map m;
		REQUIRE(sc_cluster_map_read(h[0], &m, parts.data(), partitions) == 0);
		REQUIRE(parts[p].primary < m.node_count);
		return static_cast<unsigned>(m.nodes[parts[p].primary][1] - '0');
	}

	// The index of the node that is the primary of key's partition, as node 0's map says.
	unsigned primary_of_key(const std::string &key)
	{
		return primary_of(sctest_partition_of(h[0], SC_TUPLE(sc_str(key.c_str()))));
	}

	// Put key from node `from` (the write goes to its partition's primary, forwarded when that is
	// another node): 0, or the error.
	int put_from(unsigned from, const std::string &key, int64_t value)
	{
		int r = sc_put(h[from], SC_TUPLE(sc_str(key.c_str()), sc_int(value)));
		if (r != 0)
			UNSCOPED_INFO("n" << from << ": put " << key << ": " << sc_last_error());
		return r;
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
		std::string why;
		int64_t ms = ms_until(timeout_ms, 2, [&] { return copies_equal(&why); });
		if (ms < 0)
			UNSCOPED_INFO("copies differ: " << why);
		return ms;
	}

	// Milliseconds until every node's map gives partition p count replicas, or -1 after timeout_ms.
	int64_t wait_replicas(uint32_t p, uint16_t count, uint64_t timeout_ms)
	{
		std::vector<sc_partition_owners> parts(partitions);
		int64_t ms = ms_until(timeout_ms, 2, [&] {
			int ok = 0;
			for (auto *c : h) {
				sc_cluster_map m;
				ok += sc_cluster_map_read(c, &m, parts.data(), partitions) == 0 &&
				      parts[p].replica_count == count;
			}
			return ok == 3;
		});
		if (ms < 0)
			UNSCOPED_INFO("partition " << p << " has not " << count << " replicas on every node");
		return ms;
	}

	// Partition p's epoch in each node's map: two readings that differ saw the partition's record change
	// (a new epoch per change).
	std::vector<uint64_t> epochs_of(uint32_t p)
	{
		std::vector<sc_partition_owners> parts(partitions);
		std::vector<uint64_t> out;
		for (auto *c : h) {
			sc_cluster_map m;
			out.push_back(sc_cluster_map_read(c, &m, parts.data(), partitions) == 0
					      ? parts[p].epoch
					      : 0);
		}
		return out;
	}

	// What each node holds of partition p's map entry and log, for a failure's message.
	void describe_partition(uint32_t p)
	{
		std::vector<sc_partition_owners> parts(partitions);
		for (unsigned i = 0; i < 3; i++) {
			sc_cluster_map m;
			sc_repl_state st{};
			std::ostringstream line;
			line << "n" << i << ": partition " << p;
			if (sc_cluster_map_read(h[i], &m, parts.data(), partitions) == 0) {
				line << " epoch " << parts[p].epoch << " primary " << parts[p].primary
				     << " replicas";
				for (uint16_t k = 0; k < parts[p].replica_count; k++)
					line << " " << parts[p].replicas[k];
			}
			if (sc_repl_state_read(h[i], p, &st) == 0)
				line << "; log last " << st.last_lseq << " of epoch " << st.last_epoch
				     << ", shipped " << st.shipped_lseq << ", acked " << st.acked_lseq;
			UNSCOPED_INFO(line.str());
		}
	}

	sc_cache *h[3] = { nullptr, nullptr, nullptr };
	sc_cache *copy[3] = { nullptr, nullptr, nullptr }; // read-only: each node's copy as it is
};

} // namespace sctest

#endif // SCTEST_CLUSTER_RIG_HPP
