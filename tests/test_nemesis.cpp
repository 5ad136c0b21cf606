// test_nemesis.cpp — writes, primary and quorum reads, queue calls and counter increments from a client
// process on each of three nodes, while a nemesis kills, stops, slows down and cuts nodes off (from
// everything, or from etcd alone); every operation recorded with its start, end and result, and the
// history checked at the end. Sync mode: each key's puts and reads are linearizable (Wing and Gong's
// search), every acknowledged write is on every replica, the queue gives each value once, and no
// acknowledged increment is lost or applied twice. Async mode: what is lost is no more than the
// replicas had not acknowledged at the faults. In both, the partition maps never had two primaries at
// once.
//
// SCTEST_EPISODES sets how many faults in sync mode (default 20; async runs half as many;
// tests/nemesis.sh runs the long one).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cluster_rig.hpp"
#include "linearizability.hpp"

using namespace sctest;

namespace
{

const int keys = 6;

std::string key_name(int k)
{
	return "nk" + std::to_string(k);
}

const char *const queue_name = "nq";
// The counter every client increments (KeyValue namespace, key).
const char *const counter_kv = "nc";
const char *const counter_key = "counter";

std::string unique_key(int64_t value)
{
	return "u" + std::to_string(value);
}

// One put, primary or quorum read as a client saw it. A refusal before anything was written (not the primary,
// a lapsed lease) is not recorded: it had no effect; nor is a read that failed. Every other put is of
// a key of its own (key -1, named by its value): an acknowledged one must be found at the end, or it
// was lost.
struct Op {
	int key;
	int64_t value; // a put's; what a read returned (0: absent)
	uint64_t invoke_ns, complete_ns;
	bool acked; // false: -ETIMEDOUT, which may or may not have taken effect
	bool read;
	bool quorum; // a read by a majority of the replicas, not by the primary
};

// One increment of the counter as a client saw it: acknowledged with the value it returned, or of unknown
// outcome (-ETIMEDOUT, -ECONNRESET). One refused before anything was written is not recorded.
struct Increment {
	int64_t value; // the new value it returned (acknowledged ones)
	uint64_t invoke_ns, complete_ns;
	bool acked;
};

// What the clients did: calls recorded as each client saw them.
struct ClientRecord {
	std::vector<Op> history;
	uint64_t refused = 0, errors = 0;
	std::string first_error;
	// The queue's calls as the clients saw them: values added (acknowledged, or of unknown outcome),
	// values taken (a take that timed out after it took hands its values back), and takes that may
	// have taken a value nobody got back (their answer lost).
	std::vector<int64_t> queue_added, queue_maybe_added, queue_taken, queue_maybe_taken;
	uint64_t queue_takes_unknown = 0;
	std::vector<Increment> increments;
};

template <typename T> void dump_vector(std::FILE *f, const std::vector<T> &v)
{
	const uint64_t n = v.size();
	std::fwrite(&n, sizeof(n), 1, f);
	if (n)
		std::fwrite(v.data(), sizeof(T), n, f);
}

template <typename T> bool load_vector(std::FILE *f, std::vector<T> &into)
{
	uint64_t n = 0;
	if (std::fread(&n, sizeof(n), 1, f) != 1 || n > (1ull << 30) / sizeof(T))
		return false;
	std::vector<T> v(n);
	if (n && std::fread(v.data(), sizeof(T), n, f) != n)
		return false;
	into.insert(into.end(), v.begin(), v.end());
	return true;
}

// The record as bytes, for the test to read once the client has exited.
void dump(const ClientRecord &r, std::FILE *f)
{
	dump_vector(f, r.history);
	dump_vector(f, r.queue_added);
	dump_vector(f, r.queue_maybe_added);
	dump_vector(f, r.queue_taken);
	dump_vector(f, r.queue_maybe_taken);
	dump_vector(f, r.increments);
	const uint64_t counts[3] = { r.refused, r.errors, r.queue_takes_unknown };
	std::fwrite(counts, sizeof(counts), 1, f);
	dump_vector(f, std::vector<char>(r.first_error.begin(), r.first_error.end()));
}

// One client's record added to r: false when the bytes are not one.
bool load(std::FILE *f, ClientRecord &r)
{
	uint64_t counts[3];
	std::vector<char> error;
	if (!load_vector(f, r.history) || !load_vector(f, r.queue_added) ||
	    !load_vector(f, r.queue_maybe_added) || !load_vector(f, r.queue_taken) ||
	    !load_vector(f, r.queue_maybe_taken) || !load_vector(f, r.increments) ||
	    std::fread(counts, sizeof(counts), 1, f) != 1 || !load_vector(f, error))
		return false;
	r.refused += counts[0];
	r.errors += counts[1];
	r.queue_takes_unknown += counts[2];
	if (r.first_error.empty())
		r.first_error.assign(error.begin(), error.end());
	return true;
}

// A client process: its node's cache, and calls until SIGTERM.
volatile sig_atomic_t client_stopping;

class Client : public ClientRecord
{
      public:
	void run(const char *cache, unsigned node)
	{
		sc_options o = options();
		o.majority_timeout_ms = 1000;
		sc_cache *c = nullptr;
		if (sc_attach(cache, &o, &c) != 0) {
			std::fprintf(stderr, "client on n%u: %s\n", node, sc_last_error());
			return;
		}
		std::printf("ready\n");
		std::fflush(stdout);
		std::mt19937 rng(node * 7919u + 1);
		const sc_read_opts primary = { SC_READ_PRIMARY, 0 }, quorum = { SC_READ_QUORUM, 0 };
		for (int64_t n = 1; !client_stopping; n++) {
			if (n % 6 == 3 || n % 12 == 0) {
				if (n % 6 == 3)
					queue_step(c, static_cast<int64_t>(node) << 40 | n, n % 12 == 3);
				else
					increment(c);
				std::this_thread::sleep_for(std::chrono::milliseconds(1));
				continue;
			}
			Op op{ n % 3 == 0 ? -1 : static_cast<int>(rng() % keys),
			       static_cast<int64_t>(node) << 40 | n,
			       now_ns(),
			       0,
			       false,
			       n % 3 == 2,
			       n % 6 == 5 };
			std::string k = op.key < 0 ? unique_key(op.value) : key_name(op.key);
			int r;
			if (op.read) {
				sc_tuples *got = nullptr;
				r = sc_get_with(c, SC_TUPLE(sc_str(k.c_str())),
						op.quorum ? &quorum : &primary, &got);
				op.value = r == 1 ? got->tuples[0].fields[1].v.i : 0;
				sc_tuples_free(got);
				// A read that failed had no effect: refused, or timed out waiting for its answer.
				if (r == -ETIMEDOUT || r == -ECONNRESET)
					r = -EAGAIN;
				else if (r >= 0)
					r = 0;
			} else {
				r = sc_put(c, SC_TUPLE(sc_str(k.c_str()), sc_int(op.value)));
			}
			op.complete_ns = now_ns();
			op.acked = r == 0;
			// Acknowledged; or of unknown outcome: timed out, or forwarded to a primary that was cut
			// off or died before it answered (it may have taken effect); or not applied: no primary
			// now, no link to it, or this node's coordinator gone (killed) before the request got
			// there.
			if (r == 0 || r == -ETIMEDOUT || r == -ECONNRESET)
				history.push_back(op);
			else
				failed(r);
			// The workload's pace, not a synchronisation: about a put per millisecond per client.
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
		sc_stop(c);
	}

      private:
	// A call that failed with r: not applied (no primary now, no link to it, or this
	// node's coordinator gone before the request got there), or an error no fault explains.
	void failed(int r)
	{
		if (r == -EAGAIN || r == -EBUSY || r == -EHOSTUNREACH || r == -ECONNREFUSED || r == -ENOENT ||
		    r == -EPIPE)
			refused++;
		else if (errors++ == 0)
			first_error = std::to_string(r) + ": " + sc_last_error();
	}

	// An add of a unique value to the queue, or a take from its front.
	void queue_step(sc_cache *c, int64_t value, bool add)
	{
		sc_tuples *got = nullptr;
		const int r = add ? sc_queue_add(c, queue_name, sc_int(value))
				  : sc_queue_out(c, queue_name, nullptr, &got);
		// A take that timed out handed back what it took, but may be undone by a failover: its
		// values may be taken again.
		for (size_t i = 0; got && i < got->count; i++)
			(r < 0 ? queue_maybe_taken : queue_taken).push_back(got->tuples[i].fields[0].v.i);
		const bool unknown = r == -ETIMEDOUT || r == -ECONNRESET;
		if (add && r == 0)
			queue_added.push_back(value);
		else if (add && unknown)
			queue_maybe_added.push_back(value);
		else if (!add && unknown && !got)
			queue_takes_unknown++;
		else if (r < 0 && !unknown)
			failed(r);
		sc_tuples_free(got);
	}

	// An increment of the counter by one.
	void increment(sc_cache *c)
	{
		Increment inc{ 0, now_ns(), 0, false };
		sc_field out = {};
		const int r = sc_kv_increment(c, counter_kv, sc_str(counter_key), sc_int(0), sc_int(1), &out);
		inc.complete_ns = now_ns();
		inc.acked = r == 0;
		inc.value = out.v.i;
		if (r == 0 || r == -ETIMEDOUT || r == -ECONNRESET)
			increments.push_back(inc);
		else
			failed(r);
	}
};

// The client process's main, when the test runs itself as one (Clients below): SCTEST_NEMESIS_CLIENT is
// "<node> <cache> <record file>". It calls until SIGTERM, then writes its record and exits.
struct ClientRole {
	ClientRole()
	{
		const char *spec = std::getenv("SCTEST_NEMESIS_CLIENT");
		if (!spec)
			return;
		unsigned node = 0;
		char cache[256], path[4096];
		if (std::sscanf(spec, "%u %255s %4095s", &node, cache, path) != 3)
			_exit(2);
		struct sigaction sa = {};
		sa.sa_handler = [](int) { client_stopping = 1; };
		sigaction(SIGTERM, &sa, nullptr);
		Client client;
		client.run(cache, node);
		std::FILE *f = std::fopen(path, "wb");
		if (!f)
			_exit(3);
		dump(client, f);
		_exit(std::fclose(f) == 0 ? 0 : 4);
	}
} client_role;

// Clients: a process per node, in the node's namespace, each with its own handle on the node's cache;
// once stopped, what they all did.
class Clients : public ClientRecord
{
      public:
	explicit Clients(Rig &rig) : rig(rig)
	{
		char self[4096];
		const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		REQUIRE(len > 0);
		self[len] = 0;
		for (unsigned i = 0; i < 3; i++) {
			const std::string base = rig.dir + "/client-n" + std::to_string(i);
			pids[i] = rig.net.spawn(i, { self },
						{ "SCTEST_NEMESIS_CLIENT=" + std::to_string(i) + " " +
						  rig.nodes[i].cache + " " + base + ".record" },
						base + ".log");
			REQUIRE(pids[i] > 0);
		}
		// Each says "ready" once attached; 20 s bounds the wait.
		for (unsigned i = 0; i < 3; i++) {
			const std::string log = rig.dir + "/client-n" + std::to_string(i) + ".log";
			INFO("client on n" << i << ": " << file_text(log));
			REQUIRE(ms_until(20000, 5, [&] {
					return file_text(log).find("ready\n") != std::string::npos;
				}) >= 0);
		}
	}
	~Clients()
	{
		stop();
	}
	// Stop the clients and read what they did; a client that did not end well counts as an error.
	void stop()
	{
		if (stopped)
			return;
		stopped = true;
		for (pid_t pid : pids)
			kill(pid, SIGTERM);
		for (unsigned i = 0; i < 3; i++) {
			int st = 0;
			while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
				;
			const std::string base = rig.dir + "/client-n" + std::to_string(i);
			std::FILE *f = std::fopen((base + ".record").c_str(), "rb");
			const bool loaded = WIFEXITED(st) && WEXITSTATUS(st) == 0 && f && load(f, *this);
			if (f)
				std::fclose(f);
			if (!loaded && errors++ == 0)
				first_error = "the client on n" + std::to_string(i) + " ended with status " +
					      std::to_string(st) + ": " + file_text(base + ".log");
		}
	}

      private:
	Rig &rig;
	pid_t pids[3] = { -1, -1, -1 };
	bool stopped = false;
};

// The final value of a register key (0: absent) against the puts of it. In a linearizable history it is
// written by a put that took effect (acked, or timed out and taken as applied) with no acknowledged
// put started after it ended (a put that timed out may take effect at any time after it started:
// it has no end). Each acknowledged put that started after the final value's put ended is lost;
// a final value no put wrote is a violation whatever the mode.
struct Verdict {
	std::string violation;
	uint64_t lost = 0;
};

Verdict judge_key(int key, int64_t final_value, const std::vector<Op> &history)
{
	Verdict v;
	const Op *writer = nullptr;
	for (auto &op : history)
		if (op.key == key && !op.read && op.value == final_value)
			writer = &op;
	if (final_value != 0 && !writer) {
		v.violation =
			key_name(key) + " ends with " + std::to_string(final_value) + ", which no put wrote";
		return v;
	}
	uint64_t end = !writer ? 0 : writer->acked ? writer->complete_ns : UINT64_MAX;
	for (auto &op : history)
		if (op.key == key && !op.read && op.acked && &op != writer && op.invoke_ns > end)
			v.lost++;
	return v;
}

// A register key's puts and primary and quorum reads, and the value every replica holds at the end (read after
// everything else), checked for a linearization.
LinearizabilityVerdict linearizable_key(int key, int64_t final_value, uint64_t end_ns,
					const std::vector<Op> &history)
{
	std::vector<RegisterOp> ops;
	for (auto &op : history)
		if (op.key == key)
			ops.push_back({ op.read ? RegisterOp::GET : RegisterOp::PUT, op.value, op.invoke_ns,
					op.acked ? op.complete_ns : RegisterOp::UNKNOWN });
	ops.push_back({ RegisterOp::GET, final_value, end_ns, end_ns + 1 });
	return check_register(ops);
}

// What the node had not had acknowledged by the replicas of the partitions it is primary of, as its
// segment says: an upper bound of what a failover may lose there.
uint64_t unacknowledged(sc_cache *node)
{
	std::vector<sc_partition_owners> parts(partitions);
	sc_cluster_map m;
	uint64_t n = 0;
	if (sc_cluster_map_read(node, &m, parts.data(), partitions) != 0)
		return 0;
	for (uint32_t log = 0; log < 2 * partitions; log++) {
		sc_repl_state st;
		if (parts[log % partitions].primary == m.self && sc_repl_state_read(node, log, &st) == 0)
			n += st.last_lseq - std::min(st.acked_lseq, st.last_lseq);
	}
	return n;
}

struct Outcome {
	uint64_t acked = 0, timed_out = 0, reads = 0, quorum_reads = 0, lost = 0,
		 unacknowledged_at_faults = 0, states = 0, delayed_packets = 0;
	uint64_t increments_acked = 0, increments_unknown = 0, increments_lost = 0;
	std::string lost_what, timeline; // for a failure's report
	int64_t counter = 0;
	uint64_t queue_adds = 0, queue_taken = 0, queue_maybe_taken = 0, queue_lost = 0, queue_twice = 0;
	std::vector<std::string> violations;
};

// The queue, drained at the end, against what the clients added and took: each value taken at most
// once by a take that succeeded (or the drain), and only one that was added; each acknowledged add
// taken, but for as many as takes whose answer was lost. A take that timed out may be undone, and
// its values taken again. A duplicate, a stranger or a loss beyond that is a violation where exactly once is
// required (sync mode); async mode counts them.
void judge_queue(Clients &clients, Writers &w, Outcome &out)
{
	std::vector<int64_t> taken = clients.queue_taken;
	sc_tuples *rest = nullptr;
	int r = 0;
	// The drain is a take like any other: refused until the home's primary is reachable again.
	ms_until(20000, 10, [&] {
		r = sc_queue_get_all(w.h[0], queue_name, &rest);
		return r != -EAGAIN && r != -EHOSTUNREACH;
	});
	if (r < 0)
		out.violations.push_back(std::string("the queue could not be drained: ") + sc_last_error());
	for (size_t i = 0; rest && i < rest->count; i++)
		taken.push_back(rest->tuples[i].fields[0].v.i);
	sc_tuples_free(rest);

	std::map<int64_t, int> times;
	for (int64_t v : taken)
		times[v]++;
	const std::set<int64_t> maybe_taken(clients.queue_maybe_taken.begin(),
					    clients.queue_maybe_taken.end());
	std::set<int64_t> added(clients.queue_added.begin(), clients.queue_added.end());
	added.insert(clients.queue_maybe_added.begin(), clients.queue_maybe_added.end());
	uint64_t strangers = 0;
	for (auto &[v, n] : times) {
		out.queue_twice += static_cast<uint64_t>(n - 1);
		strangers += !added.count(v);
	}
	for (int64_t v : maybe_taken)
		strangers += !added.count(v);
	for (int64_t v : clients.queue_added)
		out.queue_lost += !times.count(v) && !maybe_taken.count(v);
	out.queue_adds = clients.queue_added.size();
	out.queue_taken = taken.size();
	out.queue_maybe_taken = maybe_taken.size();
	if (strangers)
		out.violations.push_back("the queue gave " + std::to_string(strangers) +
					 " values no add put there");
	out.queue_lost = out.queue_lost > clients.queue_takes_unknown
				 ? out.queue_lost - clients.queue_takes_unknown
				 : 0;
}

// The counter at the end (the same on every replica) against its increments. In sync mode: each
// acknowledged increment returned a value no other did, no greater than the final count, and greater
// than that of every acknowledged increment that ended before it started; the final count is no more
// than the increments that may have happened. Async mode counts the acknowledged ones lost.
void judge_counter(const Clients &clients, Writers &w, bool exact, Outcome &out)
{
	int64_t finals[3] = { 0, 0, 0 };
	for (unsigned i = 0; i < 3; i++) {
		sc_tuples *got = nullptr;
		if (sc_kv_get(w.h[i], counter_kv, sc_str(counter_key), nullptr, &got) == 1)
			finals[i] = got->tuples[0].fields[0].v.i;
		sc_tuples_free(got);
	}
	if (finals[0] != finals[1] || finals[1] != finals[2])
		out.violations.push_back(
			"the counter differs between replicas: " + std::to_string(finals[0]) + ", " +
			std::to_string(finals[1]) + ", " + std::to_string(finals[2]));
	const int64_t final_count = finals[0];
	std::vector<Increment> acked;
	for (auto &inc : clients.increments)
		(inc.acked ? out.increments_acked : out.increments_unknown)++;
	for (auto &inc : clients.increments)
		if (inc.acked)
			acked.push_back(inc);
	out.counter = final_count;
	// Lost: those that returned more than the final count, and at least as many as the count falls short
	// of the acknowledged (a failover that lost some hands their values out again).
	std::set<int64_t> values;
	uint64_t twice = 0, above = 0;
	for (auto &inc : acked) {
		twice += !values.insert(inc.value).second;
		above += inc.value > final_count;
	}
	const uint64_t short_of = out.increments_acked > static_cast<uint64_t>(final_count)
					  ? out.increments_acked - static_cast<uint64_t>(final_count)
					  : 0;
	out.increments_lost = std::max(above, short_of);
	if (!exact)
		return;
	if (twice)
		out.violations.push_back(std::to_string(twice) +
					 " acknowledged increments returned a value another did");
	if (out.increments_lost)
		out.violations.push_back(std::to_string(out.increments_lost) +
					 " acknowledged increments lost (" + std::to_string(above) +
					 " returned more than the final count " +
					 std::to_string(final_count) + ")");
	if (final_count > static_cast<int64_t>(out.increments_acked + out.increments_unknown))
		out.violations.push_back("the counter ends at " + std::to_string(final_count) +
					 ", past the " +
					 std::to_string(out.increments_acked + out.increments_unknown) +
					 " increments that may have happened");
	// Real time: by completion, the greatest value of those done before each one started.
	std::vector<const Increment *> by_end, by_start;
	for (auto &inc : acked) {
		by_end.push_back(&inc);
		by_start.push_back(&inc);
	}
	std::sort(by_end.begin(), by_end.end(),
		  [](auto *x, auto *y) { return x->complete_ns < y->complete_ns; });
	std::sort(by_start.begin(), by_start.end(),
		  [](auto *x, auto *y) { return x->invoke_ns < y->invoke_ns; });
	int64_t done_max = 0;
	uint64_t backwards = 0;
	size_t e = 0;
	for (auto *inc : by_start) {
		for (; e < by_end.size() && by_end[e]->complete_ns < inc->invoke_ns; e++)
			done_max = std::max(done_max, by_end[e]->value);
		backwards += inc->value <= done_max;
	}
	if (backwards)
		out.violations.push_back(
			std::to_string(backwards) +
			" acknowledged increments returned no more than one that had ended before "
			"they started");
}

// The rig's three nodes, a client on each, episodes faults; the history judged at the end, each
// register key's for a linearization when linearizable says it must have one.
Outcome run_nemesis(Rig &rig, int episodes, bool linearizable)
{
	Outcome out;
	rig.start_settled();
	Writers w(rig);
	Clients clients(rig);
	std::mt19937 rng(static_cast<unsigned>(getpid()));
	std::map<std::string, int> faults;
	const uint64_t start_ns = now_ns();
	auto ms = [start_ns](uint64_t t) { return std::to_string((t - start_ns) / 1000000); };

	for (int e = 0; e < episodes; e++) {
		const uint64_t episode_ns = now_ns();
		unsigned victim = rng() % 3;
		int kind = e % 6;
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
		case 4:
			// Its lease lapses: it must stop acting as a primary while its peers still reach it.
			what = "cut off from etcd";
			rig.cut_from_etcd(victim, true);
			break;
		case 5: {
			// A slow host: everything it sends (peer links, etcd, its etcd member's raft) waits
			// 20 to 620 ms, below and past the replica lag and the links' 600 ms of silence.
			what = "delay";
			const unsigned ms = 20 + rng() % 600;
			rig.net.delay(victim, ms, ms / 5, rig.dir + "/delay.log");
			break;
		}
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
		// What the victim had not had acknowledged when it stopped shipping (killed, stopped, or cut
		// off and fenced by now), before it comes back and its logs are continued or copied.
		out.unacknowledged_at_faults += unacknowledged(w.h[victim]);
		if (kind == 0 || kind == 3)
			rig.start(victim);
		else if (kind == 1)
			kill(rig.nodes[victim].pid, SIGCONT);
		else if (kind == 2)
			rig.net.heal(victim);
		else if (kind == 4)
			rig.cut_from_etcd(victim, false);
		else
			out.delayed_packets += rig.net.undelay(victim);
		INFO("episode " << e << ": " << what << " of n" << victim);
		REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 30000) >= 0);
		// When what was lost happened, said with the losses (ms from the start).
		out.timeline += "episode " + std::to_string(e) + ": " + what + " of n" +
				std::to_string(victim) + " at " + ms(episode_ns) + " ms, settled at " +
				ms(now_ns()) + " ms\n";
	}
	clients.stop();
	// Settled means one primary, alive; a node that came back is named a replica again after, and
	// until then holds no copy.
	for (uint32_t p = 0; p < partitions; p++)
		REQUIRE_LOGGED(rig, w.wait_replicas(p, 3, 20000) >= 0);
	REQUIRE_LOGGED(rig, w.wait_equal(20000) >= 0);

	const uint64_t end_ns = now_ns();
	for (auto &op : clients.history) {
		if (op.read) {
			(op.quorum ? out.quorum_reads : out.reads)++;
			continue;
		}
		(op.acked ? out.acked : out.timed_out)++;
		if (op.key >= 0 || !op.acked)
			continue;
		// A put of a key of its own, acknowledged: on every replica (three copies), or lost.
		std::string name = unique_key(op.value);
		for (auto *c : w.h) {
			sc_tuples *got = nullptr;
			int found = sc_get(c, SC_TUPLE(sc_str(name.c_str())), &got);
			sc_tuples_free(got);
			if (found != 1) {
				out.lost++;
				out.lost_what += name + " (a put from n" + std::to_string(op.value >> 40) +
						 ", from " + ms(op.invoke_ns) + " to " + ms(op.complete_ns) +
						 " ms)\n";
				break;
			}
		}
	}
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
			out.violations.push_back(key_name(k) + ": the replicas differ");
		Verdict v = judge_key(k, seen[0], clients.history);
		if (!v.violation.empty())
			out.violations.push_back(v.violation);
		out.lost += v.lost;
		if (v.lost)
			out.lost_what += key_name(k) + ": " + std::to_string(v.lost) +
					 " acknowledged puts after the one of its final value " +
					 std::to_string(seen[0]) + "\n";
		if (linearizable) {
			LinearizabilityVerdict l = linearizable_key(k, seen[0], end_ns, clients.history);
			out.states += l.states;
			if (l.gave_up)
				out.violations.push_back(key_name(k) + ": the search gave up after " +
							 std::to_string(l.states) + " states");
			else if (!l.linearizable)
				out.violations.push_back(key_name(k) + " is not linearizable: " + l.why);
		}
	}
	judge_queue(clients, w, out);
	judge_counter(clients, w, linearizable, out);
	std::cout << episodes << " episodes (";
	for (auto &f : faults)
		std::cout << f.first << " " << f.second << ", ";
	std::cout << "): " << out.acked << " puts acknowledged, " << out.timed_out << " timed out, "
		  << out.reads << " primary reads, " << out.quorum_reads << " quorum reads, " << out.lost
		  << " acknowledged and lost (missing, or overwritten out of order), "
		  << out.unacknowledged_at_faults << " unacknowledged by replicas at the faults, "
		  << clients.refused << " not applied (no primary, no link to it, or no coordinator), "
		  << clients.errors << " other errors; queue: " << out.queue_adds << " adds acknowledged, "
		  << out.queue_taken << " values taken (" << out.queue_twice << " twice) and "
		  << out.queue_maybe_taken << " by takes that timed out, " << out.queue_lost << " lost; "
		  << "counter: " << out.increments_acked << " increments acknowledged, "
		  << out.increments_unknown << " of unknown outcome, final count " << out.counter << ", "
		  << out.increments_lost << " acknowledged and lost; " << out.violations.size()
		  << " violations; " << out.delayed_packets << " packets delayed";
	if (linearizable)
		std::cout << " (linearizability of the " << keys << " register keys: " << out.states
			  << " states searched)";
	std::cout << std::endl;
	INFO("the first other error: " << clients.first_error);
	CHECK(clients.errors == 0);
	CHECK(out.acked > 100);
	rig.check();
	return out;
}

int episodes_wanted(int dflt)
{
	const char *env = std::getenv("SCTEST_EPISODES");
	return env ? std::atoi(env) : dflt;
}

} // namespace

TEST_CASE(
	"sync mode under kill -9, SIGSTOP, iptables cuts and delay: no acknowledged write lost, one primary at a "
	"time",
	"[cluster][nemesis]")
{
	REQUIRE_NETNS();
	Rig rig("nemesis");
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3",
			   "--replica-lag-ms",	 "300" };
	Outcome o = run_nemesis(rig, episodes_wanted(20), true);
	for (auto &v : o.violations)
		UNSCOPED_INFO(v);
	CHECK_LOGGED(rig, o.violations.empty());
	INFO("lost:\n" << o.lost_what << "the episodes:\n" << o.timeline);
	CHECK_LOGGED(rig, o.lost == 0);
	CHECK(o.queue_adds > 20);
	CHECK(o.queue_twice == 0);
	CHECK(o.queue_lost == 0);
	CHECK(o.increments_acked > 10);
}

TEST_CASE("async mode under the same faults: what is lost is no more than the replicas had not acknowledged",
	  "[cluster][nemesis]")
{
	REQUIRE_NETNS();
	Rig rig("nemesis-async");
	rig.every_node = { "--replication-factor", "3", "--replica-lag-ms", "300" };
	Outcome o = run_nemesis(rig, episodes_wanted(20) / 2, false);
	for (auto &v : o.violations)
		UNSCOPED_INFO(v);
	CHECK_LOGGED(rig, o.violations.empty());
	CHECK(o.lost + o.increments_lost <= o.unacknowledged_at_faults);
}
