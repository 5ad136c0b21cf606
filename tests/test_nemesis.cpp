// test_nemesis.cpp — sync-mode writes from a client on each of three nodes, while a nemesis kills,
// stops and cuts nodes off; every operation recorded with its start, end and result, and the history
// checked at the end: every acknowledged write is where linearizability says it must be, on every
// replica, and the partition maps never had two primaries at once.
//
// SCTEST_EPISODES sets how many faults (default 20; tests/nemesis.sh runs the long one).
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster_rig.hpp"

using namespace sctest;

namespace
{

const int keys = 6;

std::string key_name(int k)
{
	return "nk" + std::to_string(k);
}

// One put as a client saw it. A refusal before anything was written (not the primary, a lapsed
// lease) is not recorded: it had no effect.
struct Op {
	int key;
	int64_t value;
	uint64_t invoke_ns, complete_ns;
	bool acked; // false: -ETIMEDOUT, which may or may not have taken effect
};

// Clients: one thread per node, each with its own handle on its node's cache, putting unique values.
class Clients
{
      public:
	explicit Clients(const Rig &rig)
	{
		for (unsigned i = 0; i < 3; i++)
			threads.emplace_back([this, &rig, i] { run(rig, i); });
	}
	~Clients()
	{
		stop();
	}
	void stop()
	{
		stopping = true;
		for (auto &t : threads)
			if (t.joinable())
				t.join();
	}
	std::vector<Op> history;
	uint64_t refused = 0, errors = 0;

      private:
	void run(const Rig &rig, unsigned node)
	{
		sc_options o = options();
		o.majority_timeout_ms = 1000;
		sc_cache *c = nullptr;
		if (sc_attach(rig.nodes[node].cache.c_str(), &o, &c) != 0)
			return;
		std::mt19937 rng(node * 7919u + 1);
		for (int64_t n = 1; !stopping; n++) {
			Op op{ static_cast<int>(rng() % keys), static_cast<int64_t>(node) << 40 | n, now_ns(),
			       0, false };
			std::string k = key_name(op.key);
			int r = sc_put(c, SC_TUPLE(sc_str(k.c_str()), sc_int(op.value)));
			op.complete_ns = now_ns();
			op.acked = r == 0;
			std::lock_guard<std::mutex> g(lock);
			if (r == 0 || r == -ETIMEDOUT)
				history.push_back(op);
			else if (r == -EOPNOTSUPP || r == -EAGAIN)
				refused++;
			else
				errors++;
			// The workload's pace, not a synchronisation: about a put per millisecond per client.
			if (r != 0)
				std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
		sc_stop(c);
	}

	std::vector<std::thread> threads;
	std::atomic<bool> stopping{ false };
	std::mutex lock;
};

// The final value of a key (0: absent) must be that of a put that can be linearized last: one that
// took effect (acked, or timed out and taken as applied) with no acknowledged put started after it
// ended. A put that timed out may take effect at any time after it started, so it has no end.
std::string check_key(int key, int64_t final_value, const std::vector<Op> &history)
{
	std::vector<const Op *> ops;
	for (auto &op : history)
		if (op.key == key)
			ops.push_back(&op);
	auto last_possible = [&](const Op *w) {
		uint64_t end = w->acked ? w->complete_ns : UINT64_MAX;
		for (const Op *o : ops)
			if (o != w && o->acked && o->invoke_ns > end)
				return false;
		return true;
	};
	if (final_value == 0) {
		for (const Op *o : ops)
			if (o->acked)
				return key_name(key) + " is absent though a put of it was acknowledged";
		return "";
	}
	for (const Op *o : ops)
		if (o->value == final_value)
			return last_possible(o)
				       ? ""
				       : key_name(key) + " ends with " + std::to_string(final_value) +
						 ", written before an acknowledged put that started after it ended";
	return key_name(key) + " ends with " + std::to_string(final_value) + ", which no put wrote";
}

} // namespace

TEST_CASE(
	"sync mode under kill -9, SIGSTOP and iptables cuts: no acknowledged write lost, one primary at a time",
	"[cluster][nemesis]")
{
	REQUIRE_NETNS();
	const char *env = std::getenv("SCTEST_EPISODES");
	const int episodes = env ? std::atoi(env) : 20;
	Rig rig("nemesis");
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3",
			   "--replica-lag-ms",	 "300" };
	rig.start_settled();
	Writers w(rig);
	Clients clients(rig);
	std::mt19937 rng(static_cast<unsigned>(getpid()));
	std::map<std::string, int> faults;

	for (int e = 0; e < episodes; e++) {
		unsigned victim = rng() % 3;
		int kind = e % 4;
		std::string what;
		switch (kind) {
		case 0:
			what = "kill -9";
			rig.kill9(victim);
			break;
		case 1:
			what = "SIGSTOP";
			kill(rig.nodes[victim].pid, SIGSTOP);
			break;
		case 2:
			what = "iptables cut";
			rig.net.cut(victim);
			break;
		default: {
			// The primary of partition 0, whoever it is now.
			std::vector<sc_partition_owners> parts(partitions);
			sc_cluster_map m;
			if (sc_cluster_map_read(w.h[victim], &m, parts.data(), partitions) == 0 &&
			    parts[0].primary < m.node_count)
				victim = static_cast<unsigned>(m.nodes[parts[0].primary][1] - '0');
			what = "kill -9 of a primary";
			rig.kill9(victim);
			break;
		}
		}
		faults[what]++;
		// The fault lasts 0.3 to 2.5 s, within the 2 s lease or past it: the nemesis's timing, not a
		// synchronisation.
		std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 2200));
		if (kind == 0 || kind == 3)
			rig.start(victim);
		else if (kind == 1)
			kill(rig.nodes[victim].pid, SIGCONT);
		else
			rig.net.heal(victim);
		INFO("episode " << e << ": " << what << " of n" << victim);
		REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 30000) >= 0);
	}
	clients.stop();
	REQUIRE_LOGGED(rig, w.wait_equal(20000) >= 0);

	uint64_t acked = 0, timed_out = 0;
	for (auto &op : clients.history)
		(op.acked ? acked : timed_out)++;
	std::vector<std::string> violations;
	for (int k = 0; k < keys; k++) {
		int64_t seen[3] = { 0, 0, 0 };
		for (unsigned i = 0; i < 3; i++) {
			sc_tuples *got = nullptr;
			std::string name = key_name(k);
			if (sc_get(w.h[i], SC_TUPLE(sc_str(name.c_str())), &got) == 1)
				seen[i] = got->tuples[0].fields[1].v.i;
			sc_tuples_free(got);
		}
		if (seen[0] != seen[1] || seen[1] != seen[2])
			violations.push_back(key_name(k) + ": the replicas differ");
		std::string why = check_key(k, seen[0], clients.history);
		if (!why.empty())
			violations.push_back(why);
	}
	std::cout << episodes << " episodes (";
	for (auto &f : faults)
		std::cout << f.first << " " << f.second << ", ";
	std::cout << "): " << acked << " puts acknowledged, " << timed_out << " timed out, "
		  << clients.refused << " refused by the fence, " << clients.errors << " other errors; "
		  << violations.size() << " violations" << std::endl;
	for (auto &v : violations)
		UNSCOPED_INFO(v);
	CHECK_LOGGED(rig, violations.empty());
	CHECK(clients.errors == 0);
	CHECK(acked > 100);
	rig.check();
}
