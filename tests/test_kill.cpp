// test_kill.cpp — writers SIGKILLed at random moments during a multi-process load: every death is repaired.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <random>
#include <sched.h>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "internals.h"
using namespace sctest;

namespace
{

constexpr int WRITERS = 2;
constexpr int KEYS = 200; // per writer
// With the sanitizers a fork of the ASan-sized parent costs six times what it does without: there
// 300 kills (20 s); all 1000 in the plain build, which the test command runs too.
#if defined(__SANITIZE_ADDRESS__)
constexpr int KILLS = 300;
#else
constexpr int KILLS = 1000;
#endif
constexpr uint32_t PARTITIONS = 4;

enum Kind : int32_t { NONE, PUT, DELETE };

// What a writer did to one key (acknowledged), and what it is doing now (not yet acknowledged).
struct KeyLog {
	std::atomic<int32_t> acked_version; // operations acknowledged on the key
	std::atomic<int32_t> acked_kind;
	std::atomic<int32_t> pending_version;
	std::atomic<int32_t> pending_kind;
};

struct WriterLog {
	std::atomic<uint64_t> ops;
	std::atomic<int32_t> in_call; // inside a library call that writes
	KeyLog keys[KEYS];
};

// A pattern to cut values from: building them byte by byte made the writers spend their time
// outside the lock, where a kill tests nothing.
const std::string &pattern()
{
	static const std::string p = [] {
		std::string s;
		for (size_t i = 0; i < 80 * 1024 + 26; i++)
			s += static_cast<char>('a' + (i * 7) % 26);
		return s;
	}();
	return p;
}

std::string value_of(int key, int version, size_t size)
{
	std::string v = "k" + std::to_string(key) + "v" + std::to_string(version) + ":";
	if (v.size() < size)
		v.append(pattern(), static_cast<size_t>(key) % 26, size - v.size());
	return v;
}

size_t size_of(int key, int version)
{
	// Mostly small, some spanning several size classes, now and then a large record (a span).
	const unsigned h = static_cast<unsigned>(key * 2654435761u + static_cast<unsigned>(version) * 40503u);
	return h % 97 == 0 ? 70 * 1024 : 20 + h % 2000;
}

// The writer's loop, in a child, until it is killed: puts, deletes and batches on its own keys.
int writer(const std::string &name, int w, WriterLog *log, uint64_t seed)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 2;
	std::mt19937_64 rng(seed);
	std::vector<std::string> values;
	std::vector<sc_field> fields;
	std::vector<sc_tuple> batch;
	for (;;) {
		const int n = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 8) : 1;
		const bool del = rng() % 4 == 0;
		int keys[8];
		values.clear();
		fields.clear();
		batch.clear();
		values.reserve(8);
		fields.reserve(16);
		for (int i = 0; i < n; i++) {
			keys[i] = static_cast<int>(rng() % KEYS);
			for (int j = 0; j < i; j++)
				if (keys[j] == keys[i])
					keys[i] = -1;
		}
		for (int i = 0; i < n; i++) {
			if (keys[i] < 0)
				continue;
			KeyLog &k = log->keys[keys[i]];
			const int version = k.acked_version.load() + 1;
			const int key = w * KEYS + keys[i];
			k.pending_kind.store(del ? DELETE : PUT);
			k.pending_version.store(version);
			values.push_back(value_of(key, version, size_of(key, version)));
			fields.push_back(sc_int(key));
			fields.push_back(
				sc_bytes(values.back().data(), static_cast<uint32_t>(values.back().size())));
		}
		for (size_t i = 0; i < values.size(); i++)
			batch.push_back(sc_tuple{ 2, &fields[2 * i] });
		int r = 0;
		log->in_call.store(1);
		if (del) {
			for (const sc_tuple &t : batch)
				if ((r = sc_delete(c, &t)) < 0)
					break;
		} else if (batch.size() == 1) {
			r = sc_put(c, &batch[0]);
		} else if (!batch.empty()) {
			r = sc_put_batch(c, batch.data(), batch.size());
		}
		log->in_call.store(0);
		if (r < 0)
			return 3;
		for (int i = 0; i < n; i++) {
			if (keys[i] < 0)
				continue;
			KeyLog &k = log->keys[keys[i]];
			k.acked_kind.store(del ? DELETE : PUT);
			k.acked_version.store(k.pending_version.load());
		}
		log->ops.fetch_add(1);
	}
}

// What the cache holds for a key: -1 absent, else the version of a whole value (a torn one fails).
int read_version(sc_cache *c, int key)
{
	sc_tuples *t = nullptr;
	int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	REQUIRE(r >= 0);
	if (r == 0)
		return -1;
	const std::string v = str_field(t->tuples[0], 1);
	sc_tuples_free(t);
	const int version = std::stoi(v.substr(v.find('v') + 1));
	CHECK(v == value_of(key, version, size_of(key, version)));
	return version;
}

// Every acknowledged write of the dead writer is there; its interrupted one is there whole or not at all,
// and so is an interrupted batch of puts, as a whole (its deletes are one call per key).
// An interrupted write that landed counts as acknowledged from now on, for the writer's next life.
void verify_writer(sc_cache *c, int w, WriterLog *log)
{
	int pending_puts = 0, landed_puts = 0;
	for (int i = 0; i < KEYS; i++) {
		KeyLog &k = log->keys[i];
		const int acked = k.acked_version.load(), pending = k.pending_version.load();
		const int kind = k.acked_kind.load(), pkind = k.pending_kind.load();
		const int got = read_version(c, w * KEYS + i);
		const bool as_acked = kind == PUT ? got == acked : got == -1;
		const bool as_pending = pending == acked + 1 && (pkind == PUT ? got == pending : got == -1);
		INFO("key " << w * KEYS + i << ": acknowledged " << acked << " (kind " << kind
			    << "), pending " << pending << " (kind " << pkind << "), found " << got);
		CHECK((as_acked || as_pending));
		if (pending == acked + 1 && pkind == PUT) {
			pending_puts++;
			landed_puts += as_pending;
		}
		if (as_pending && !as_acked) {
			k.acked_kind.store(pkind);
			k.acked_version.store(pending);
		}
		k.pending_version.store(
			k.acked_version.load()); // settled: nothing pending into the next life
	}
	INFO("the interrupted batch of " << pending_puts << " puts landed for " << landed_puts);
	CHECK((landed_puts == 0 || landed_puts == pending_puts));
}

// Until pid holds one of the partition locks (it takes one within an operation or two).
void wait_for_lock_holder(sc_cache *c, pid_t pid, uint32_t partitions)
{
	for (;;)
		for (uint32_t p = 0; p < partitions; p++)
			if (sctest_lock_holder(c, p) == pid)
				return;
}

} // namespace

TEST_CASE("writers killed at random moments of a two-writer load: each death is repaired", "[kill]")
{
	Cache c(unique_name("kill"), options(PARTITIONS, 64 << 20));
	REQUIRE(c.start_error() == 0);
	auto *logs = static_cast<WriterLog *>(shared_anon(WRITERS * sizeof(WriterLog)));
	for (int w = 0; w < WRITERS; w++)
		for (int i = 0; i < KEYS; i++)
			logs[w].keys[i].acked_kind.store(DELETE);
	std::mt19937_64 rng(20261124);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++)
		pids[w] = spawn([&, w] { return writer(c.name(), w, &logs[w], rng()); });
	uint64_t repaired = 0;
	for (int round = 0; round < KILLS; round++) {
		const int w = round % WRITERS;
		INFO("kill " << round << " of writer " << w);
		// Let it get somewhere: a random number of its operations (a condition, not a sleep).
		const uint64_t until = logs[w].ops.load() + rng() % 40;
		while (logs[w].ops.load() < until)
			sched_yield();
		// ... and then, every other time, until it holds a partition's lock (a kill that lands
		// there is the one a repair is for); else a random stretch more, so that the kill lands
		// at any phase rather than just after an operation.
		if (round % 2)
			wait_for_lock_holder(c, pids[w], 2 * PARTITIONS);
		else
			for (uint64_t i = 0, spins = rng() % 50000; i < spins; i++)
				__asm__ __volatile__("pause" ::: "memory");
		REQUIRE(kill(pids[w], SIGKILL) == 0);
		const int status = wait_child(pids[w]);
		REQUIRE(status == 128 + SIGKILL);
		// The other writer goes on meanwhile; the check takes each partition's lock, repairing first.
		sc_check_report rep;
		const int rc = sc_check(c, 0, &rep);
		std::string problems;
		for (uint32_t i = 0; i < rep.listed; i++)
			problems += std::to_string(rep.list[i].partition) + ": " + rep.list[i].what + "\n";
		INFO(problems);
		REQUIRE(rc == 0);
		repaired += rep.repaired;
		verify_writer(c, w, &logs[w]);
		pids[w] = spawn([&, w] { return writer(c.name(), w, &logs[w], rng()); });
	}
	for (int w = 0; w < WRITERS; w++) {
		kill(pids[w], SIGKILL);
		wait_child(pids[w]);
	}
	REQUIRE(sc_check(c, 0, nullptr) == 0);
	// Deaths inside the lock, each repaired by the next writer (often the other one, before the
	// check got there).
	const uint64_t deaths = Stats(c)->total.writer_deaths;
	CHECK(deaths >= repaired);
	// Half the kills are aimed at a writer holding a lock; most of those land inside it.
	CHECK(deaths >= KILLS / 10);
	WARN(deaths << " of " << KILLS << " kills landed inside a lock; the check itself repaired "
		    << repaired);
}
