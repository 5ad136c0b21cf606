// test_lazy_put.cpp — buffered puts: when they become visible, in what order, and what happens to errors.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// The int value field (field 1) of key's tuple, or -1.
int64_t value_of(sc_cache *c, int64_t key)
{
	sc_tuples *t = nullptr;
	int n = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	int64_t v = n == 1 ? t->tuples[0].fields[1].v.i : n < 0 ? n : -1;
	sc_tuples_free(t);
	return v;
}

} // namespace

TEST_CASE("lazy_put: nothing shows before a flush; everything after, in order", "[lazy]")
{
	Cache c(unique_name("lazy"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_lazy_configure(c, 10000000, 1000) == 0); // 10 s, 1000 tuples: only sc_flush stores
	for (int i = 0; i < 100; i++)
		REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(i % 10), sc_int(i))) == 0);
	CHECK(value_of(c, 3) == -1);
	CHECK(Stats(c)->total.records == 0);
	REQUIRE(sc_flush(c) == 0);
	// Puts of one key land in the order made: the last one wins.
	for (int k = 0; k < 10; k++)
		CHECK(value_of(c, k) == 90 + k);
	CHECK(sc_flush(c) == 0); // nothing left
}

TEST_CASE("lazy_put: a full buffer is stored at once", "[lazy]")
{
	Cache c(unique_name("lazyfull"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_lazy_configure(c, 10000000, 10) == 0);
	for (int i = 0; i < 9; i++)
		REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(i), sc_str("v"))) == 0);
	CHECK(Stats(c)->total.records == 0);
	REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(9), sc_str("v"))) == 0);
	CHECK(Stats(c)->total.records == 10);
}

TEST_CASE("lazy_put: stored after the delay with no further call", "[lazy]")
{
	Cache c(unique_name("lazydelay"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_lazy_configure(c, 2000, 1000) == 0); // 2 ms
	auto start = std::chrono::steady_clock::now();
	REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(1), sc_int(11))) == 0);
	// Wait for the flusher thread to store it: the condition, not a sleep, ends the wait.
	auto limit = start + std::chrono::seconds(5);
	while (value_of(c, 1) != 11 && std::chrono::steady_clock::now() < limit)
		std::this_thread::yield();
	auto waited = std::chrono::steady_clock::now() - start;
	REQUIRE(value_of(c, 1) == 11);
	CHECK(waited >= std::chrono::microseconds(2000));
	CHECK(waited < std::chrono::milliseconds(500));

	// Default delay: 5 ms at most.
	REQUIRE(sc_lazy_configure(c, 0, 0) == 0);
	start = std::chrono::steady_clock::now();
	REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(2), sc_int(22))) == 0);
	limit = start + std::chrono::seconds(5);
	while (value_of(c, 2) != 22 && std::chrono::steady_clock::now() < limit)
		std::this_thread::yield();
	REQUIRE(value_of(c, 2) == 22);
	CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

TEST_CASE("lazy_put: stop, thread exit and another thread's flush store the buffers", "[lazy]")
{
	Cache c(unique_name("lazystop"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_cache *h = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), nullptr, &h) == 0);
	REQUIRE(sc_lazy_configure(h, 10000000, 1000) == 0);
	REQUIRE(sc_lazy_put(h, SC_TUPLE(sc_int(1), sc_int(1))) == 0);
	REQUIRE(sc_stop(h) == 0);
	CHECK(value_of(c, 1) == 1);

	REQUIRE(sc_lazy_configure(c, 10000000, 1000) == 0);
	std::thread t([&] { CHECK(sc_lazy_put(c, SC_TUPLE(sc_int(2), sc_int(2))) == 0); });
	t.join();
	CHECK(value_of(c, 2) == 2);

	// A buffer another thread holds is stored by this thread's sc_flush.
	std::atomic<int> step{ 0 };
	std::thread u([&] {
		CHECK(sc_lazy_put(c, SC_TUPLE(sc_int(3), sc_int(3))) == 0);
		step = 1;
		while (step != 2)
			std::this_thread::yield();
	});
	while (step != 1)
		std::this_thread::yield();
	CHECK(value_of(c, 3) == -1);
	REQUIRE(sc_flush(c) == 0);
	CHECK(value_of(c, 3) == 3);
	step = 2;
	u.join();
}

TEST_CASE("lazy_put: a reader in another process sees one thread's puts in the order made",
	  "[lazy][multiprocess]")
{
	Cache c(unique_name("lazyorder"), options(4, 256 << 20));
	REQUIRE(c.start_error() == 0);
	auto *done = static_cast<std::atomic<int> *>(shared_anon(sizeof(std::atomic<int>)));
	new (done) std::atomic<int>(0);
	const std::string name = c.name();
	const int64_t rounds = 100000;

	// Keys 1 and 2 get round i in that order. A reader that sees 2 at i must see 1 at i or later, and
	// neither may ever go back.
	ChildGuard reader(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		int64_t last_b = -1;
		while (!done->load()) {
			int64_t b = value_of(h, 2), a = value_of(h, 1);
			if (b < last_b)
				return 2;
			if (a < b)
				return 3;
			last_b = b;
		}
		sc_stop(h);
		return 0;
	}));
	REQUIRE(sc_lazy_configure(c, 1000, 64) == 0);
	for (int64_t i = 0; i < rounds; i++) {
		REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(1), sc_int(i))) == 0);
		REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(2), sc_int(i))) == 0);
	}
	REQUIRE(sc_flush(c) == 0);
	done->store(1);
	CHECK(reader.wait() == 0);
	CHECK(value_of(c, 1) == rounds - 1);
	CHECK(value_of(c, 2) == rounds - 1);
}

TEST_CASE("lazy_put: bad input is the caller's error; a failed store's reaches sc_flush", "[lazy]")
{
	Cache c(unique_name("lazyerr"), options(1, 8 << 20));
	REQUIRE(c.start_error() == 0);
	CHECK(sc_lazy_put(nullptr, SC_TUPLE(sc_int(1))) == -EINVAL);
	CHECK(sc_lazy_put(c, nullptr) == -EINVAL);
	CHECK(sc_lazy_put(c, SC_TUPLE(sc_any())) == -EINVAL);
	CHECK(contains(sc_last_error(), "pattern field"));
	CHECK(sc_lazy_configure(c, 10000001, 0) == -EINVAL);
	CHECK(sc_lazy_configure(c, 0, 65537) == -EINVAL);
	CHECK(sc_flush(nullptr) == -EINVAL);

	// More than the cache holds, buffered: the store fails with -ENOSPC and sc_flush says so.
	REQUIRE(sc_lazy_configure(c, 10000000, 1000) == 0);
	std::string big(64 * 1024, 'x');
	for (int i = 0; i < 200; i++)
		REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(i), sc_bytes(big.data(), static_cast<uint32_t>(
											big.size())))) == 0);
	CHECK(sc_flush(c) == -ENOSPC);
	const uint64_t stored = Stats(c)->total.records; // those before the failing one stay
	CHECK(stored > 0);
	CHECK(stored < 200);
	CHECK(sc_flush(c) == 0);
}

TEST_CASE("lazy_put: a child forked while the parent's flusher waits buffers and flushes on its own",
	  "[lazy][multiprocess]")
{
	Cache c(unique_name("lazyfork"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	// The parent's flusher thread is waiting on its alarm when the fork happens.
	REQUIRE(sc_lazy_configure(c, 10000000, 1000) == 0);
	REQUIRE(sc_lazy_put(c, SC_TUPLE(sc_int(1), sc_int(1))) == 0);
	const std::string name = c.name();
	ChildGuard child(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_lazy_put(c, SC_TUPLE(sc_int(9), sc_int(9))) != -ECHILD)
			return 1;
		if (sc_attach(name.c_str(), nullptr, &h) || sc_lazy_configure(h, 2000, 1000))
			return 2;
		if (sc_lazy_put(h, SC_TUPLE(sc_int(2), sc_int(2))))
			return 3;
		// The child's own flusher stores it after 2 ms; the wait ends on the condition, bounded at 5 s.
		auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
		while (value_of(h, 2) != 2)
			if (std::chrono::steady_clock::now() > limit)
				return 4;
		sc_stop(h);
		return 0;
	}));
	CHECK(child.wait() == 0);
	CHECK(value_of(c, 2) == 2);
	CHECK(value_of(c, 1) == -1); // still buffered in the parent
	REQUIRE(sc_flush(c) == 0);
	CHECK(value_of(c, 1) == 1);
}

TEST_CASE("lazy_put: exit() stores every buffer, even one the flusher is storing", "[lazy][multiprocess]")
{
	Cache c(unique_name("lazyexit"), options(2, 256 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	const int puts = 60000;
	// A 1 ms delay and room for every tuple: the flusher is storing a buffer much of the time, and exit()
	// comes right after the last put, often in the middle of one of those stores.
	for (int round = 0; round < 8; round++) {
		INFO("round " << round);
		REQUIRE(sc_delete_all(c) == 0);
		ChildGuard child(spawn([&] {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h) || sc_lazy_configure(h, 1000, 65536))
				return 1;
			for (int i = 0; i < puts; i++)
				if (sc_lazy_put(h, SC_TUPLE(sc_int(i), sc_int(round))))
					return 2;
			std::exit(0); // not sc_stop: what exit() does is the point
		}));
		REQUIRE(child.wait() == 0);
		CHECK(Stats(c)->total.records == static_cast<uint64_t>(puts));
	}
}

TEST_CASE("lazy_put: sc_stop returns the error of storing what was buffered", "[lazy]")
{
	Cache c(unique_name("lazystoperr"), options(1, 8 << 20));
	REQUIRE(c.start_error() == 0);
	sc_cache *h = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), nullptr, &h) == 0);
	REQUIRE(sc_lazy_configure(h, 10000000, 1000) == 0);
	std::string big(64 * 1024, 'x');
	for (int i = 0; i < 200; i++)
		REQUIRE(sc_lazy_put(h, SC_TUPLE(sc_int(i), sc_bytes(big.data(), static_cast<uint32_t>(
											big.size())))) == 0);
	CHECK(sc_stop(h) == -ENOSPC);
	CHECK(Stats(c)->total.records > 0);
}
