// test_locks.cpp — partition locks across processes: no writer waits forever, whoever dies or stops.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

// A writer's progress, in memory its parent reads.
struct Progress {
	std::atomic<uint64_t> puts;
	std::atomic<int32_t> failed; // the first error a put returned, 0 while none
};

// Puts to the cache's one partition until stop is set (or for ever: a victim is killed).
int put_loop(const std::string &name, int id, Progress *progress, const std::atomic<int> *stop)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 2;
	for (int64_t i = 0; !stop->load(); i++) {
		int r = sc_put(c, SC_TUPLE(sc_int(id * 1000 + i % 1000), sc_int(i)));
		if (r) {
			progress->failed.store(r);
			return 3;
		}
		progress->puts.fetch_add(1);
	}
	sc_stop(c);
	return 0;
}

} // namespace

TEST_CASE("writers killed in bursts never leave a live writer asleep on a free lock", "[locks][kill]")
{
	// When a holder dies, the kernel wakes one waiter; when a holder unlocks, one waiter is woken.
	// If that waiter is killed before it takes the lock, the others must not sleep on for ever.
	constexpr int LIVE = 4, VICTIMS = 4;
	constexpr uint64_t RUN_MS = 8000, STALL_MS = 3000;
	Cache c(unique_name("burst"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	auto *progress = static_cast<Progress *>(shared_anon(sizeof(Progress) * (LIVE + 1)));
	auto *stop = static_cast<std::atomic<int> *>(shared_anon(sizeof(std::atomic<int>)));
	std::vector<pid_t> live;
	for (int w = 0; w < LIVE; w++)
		live.push_back(spawn([&, w] { return put_loop(c.name(), w, &progress[w], stop); }));

	std::mt19937_64 rng(20261206);
	std::vector<uint64_t> seen(LIVE, 0), since(LIVE, clock_ms());
	const uint64_t start = clock_ms();
	uint64_t kills = 0, worst = 0;
	int stuck = -1;
	while (clock_ms() - start < RUN_MS && stuck < 0) {
		pid_t victims[VICTIMS];
		for (auto &v : victims)
			v = spawn([&] { return put_loop(c.name(), LIVE, &progress[LIVE], stop); });
		// Let them queue up behind the lock, then kill them all at once.
		const uint64_t before = progress[LIVE].puts.load();
		while (progress[LIVE].puts.load() == before && clock_ms() - start < RUN_MS)
			sched_yield();
		timespec pause = { 0, static_cast<long>(200000 + rng() % 1800000) };
		nanosleep(&pause, nullptr); // the burst's length, not a synchronisation
		for (pid_t v : victims)
			kill(v, SIGKILL);
		for (pid_t v : victims)
			wait_child(v);
		kills += VICTIMS;
		for (int w = 0; w < LIVE; w++) {
			const uint64_t n = progress[w].puts.load();
			if (n != seen[w]) {
				seen[w] = n;
				since[w] = clock_ms();
			}
			worst = std::max(worst, clock_ms() - since[w]);
			if (clock_ms() - since[w] > STALL_MS || progress[w].failed.load())
				stuck = w;
		}
	}
	// Asked to stop, every live writer finishes its put and exits: one asleep on a free lock does not.
	stop->store(1);
	const uint64_t asked = clock_ms();
	for (int w = 0; w < LIVE; w++) {
		int status = 0;
		while (waitpid(live[w], &status, WNOHANG) == 0 && clock_ms() - asked < STALL_MS)
			sched_yield();
		if (clock_ms() - asked >= STALL_MS && waitpid(live[w], &status, WNOHANG) == 0) {
			stuck = stuck < 0 ? w : stuck;
			CHECK(sctest_lock_holder(c, 0) == 0); // the lock is free, yet it sleeps
			kill(live[w], SIGKILL);
			waitpid(live[w], &status, 0);
		}
	}
	INFO("kills " << kills << ", longest a live writer went without a put: " << worst << " ms");
	if (stuck >= 0)
		INFO("live writer " << stuck << " made no progress for " << STALL_MS << " ms (error "
				    << progress[stuck].failed.load() << ")");
	CHECK(stuck < 0);
	CHECK(kills >= 200);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}

namespace
{

// Whether process pid sleeps in futex(2), as a writer waiting for a lock does.
bool asleep_in_futex(pid_t pid)
{
	char path[64], buf[64] = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/syscall", static_cast<int>(pid));
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	const bool in = fgets(buf, sizeof(buf), f) && strncmp(buf, "202 ", 4) == 0;
	fclose(f);
	return in;
}

// Start a writer of one put to partition 0 on cpu and return once it sleeps on the lock. An idle
// one (SCHED_IDLE) runs only when nothing else wants its CPU.
pid_t start_waiter(const std::string &name, int64_t key, int cpu, bool idle)
{
	const pid_t pid = spawn([&] {
		pin_to(cpu);
		if (idle) {
			sched_param none = {};
			sched_setscheduler(0, SCHED_IDLE, &none);
		}
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || sc_put(h, SC_TUPLE(sc_int(key), sc_int(key))))
			return 3;
		sc_stop(h);
		return 0;
	});
	const uint64_t start = clock_ms();
	while (!asleep_in_futex(pid) && clock_ms() - start < 5000)
		sched_yield();
	return pid;
}

} // namespace

TEST_CASE("the waiter an unlock woke is killed before it takes the lock: the others still get it",
	  "[locks][kill]")
{
	// An unlock wakes one sleeper, the first queued, and clears the word. Here that sleeper is an
	// idle-priority process sharing a CPU with this busy one, so it cannot run before this process
	// takes the free lock and kills it. Nobody is left to tell the others that they sleep on a
	// lock: once it is free again they must still get it.
	constexpr int ROUNDS = 5, SLEEPERS = 3;
	constexpr uint64_t STALL_MS = 3000;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		WARN("SKIPPED: needs two CPUs");
		return;
	}
	Cache c(unique_name("lostwake"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	pin_to(0);
	int lost = 0, rounds = 0;
	for (int round = 0; round < ROUNDS; round++) {
		Pipe locked, release;
		pid_t holder = spawn([&] {
			pin_to(1);
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h) || sctest_take_lock(h, 0))
				return 2;
			locked.send();
			release.recv();
			sctest_release_lock(h, 0);
			sc_stop(h);
			return 0;
		});
		REQUIRE(locked.recv() == 'x');
		const pid_t first = start_waiter(name, 1000 + round, 0, true);
		std::vector<pid_t> sleepers;
		for (int w = 0; w < SLEEPERS; w++)
			sleepers.push_back(start_waiter(name, w, 1, false));
		release.send();
		// Busy on the first sleeper's CPU: once the holder has let go, take the lock before it can.
		while (sctest_lock_holder(c, 0) != 0)
			;
		REQUIRE(sctest_take_lock(c, 0) == 0);
		kill(first, SIGKILL);
		const bool void_round = wait_child(first) != 128 + SIGKILL; // it ran and took the lock first
		sctest_release_lock(c, 0);
		CHECK(wait_child(holder) == 0);
		rounds += !void_round;
		const uint64_t released = clock_ms();
		for (pid_t w : sleepers) {
			int status = 0;
			while (waitpid(w, &status, WNOHANG) == 0 && clock_ms() - released < STALL_MS)
				sched_yield();
			if (clock_ms() - released >= STALL_MS && waitpid(w, &status, WNOHANG) == 0) {
				lost++;
				kill(w, SIGKILL);
				waitpid(w, &status, 0);
			} else {
				CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
			}
		}
	}
	pin_to_all();
	INFO(lost << " writers of " << ROUNDS * SLEEPERS
		  << " slept on a free lock after the waiter woken for "
		  << "them died");
	CHECK(lost == 0);
	CHECK(rounds >= ROUNDS - 1);
	sc_tuples *t = nullptr;
	for (int w = 0; w < SLEEPERS; w++) {
		CHECK(sc_get(c, SC_TUPLE(sc_int(w)), &t) == 1);
		sc_tuples_free(t);
	}
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}

TEST_CASE("a writer behind a stopped holder gives up after its limit and names the holder", "[locks]")
{
	Cache c(unique_name("stopped"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	ChildGuard holder(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || sctest_take_lock(h, 0))
			return 2;
		raise(SIGSTOP); // holding the lock until SIGCONT
		sctest_release_lock(h, 0);
		sc_stop(h);
		return 0;
	}));
	int status = 0;
	REQUIRE(waitpid(holder.pid(), &status, WUNTRACED) == holder.pid());
	REQUIRE(WIFSTOPPED(status));
	const std::string who = "thread " + std::to_string(holder.pid());

	const uint64_t start = clock_ms();
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_str("waits"))) == -ETIMEDOUT);
	const uint64_t waited = clock_ms() - start;
	CHECK(waited >= 9900); // the library measures on the coarse clock, a tick behind
	CHECK(waited < 15000);
	CHECK(contains(sc_last_error(), who.c_str()));
	CHECK(contains(sc_last_error(), "stopped"));
	// A reset does not take the lock from a live writer: it says who holds it.
	CHECK(sc_partition_reset(c, 0) == -EBUSY);
	CHECK(contains(sc_last_error(), who.c_str()));

	kill(holder.pid(), SIGCONT);
	CHECK(holder.wait() == 0);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_str("after"))) == 0);
}
