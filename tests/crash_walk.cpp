// crash_walk.cpp — a write killed at each of its crash points in turn.
#include "crash_walk.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>

#include "helpers.hpp"
#include "internals.h"

namespace sctest
{

std::string value_of(int key, int version, size_t size)
{
	std::string v = "k" + std::to_string(key) + "v" + std::to_string(version) + ":";
	while (v.size() < size)
		v += static_cast<char>('a' + (v.size() * 7 + key) % 26);
	return v;
}

int put_value(sc_cache *c, int key, int version, size_t size)
{
	const std::string v = value_of(key, version, size);
	return sc_put(c, SC_TUPLE(sc_int(key), sc_bytes(v.data(), static_cast<uint32_t>(v.size()))));
}

int version_of(sc_cache *c, int key, size_t size)
{
	sc_tuples *t = nullptr;
	int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	REQUIRE(r >= 0);
	if (r == 0)
		return -1;
	REQUIRE(t->count == 1);
	const std::string v = str_field(t->tuples[0], 1);
	sc_tuples_free(t);
	const size_t colon = v.find(':');
	REQUIRE(colon != std::string::npos);
	const int version = std::stoi(v.substr(v.find('v') + 1));
	CHECK(v == value_of(key, version, size));
	return version;
}

int fill_until_evicting(sc_cache *c, size_t size)
{
	int k = 0;
	for (; Stats(c)->total.evictions == 0; k++)
		REQUIRE(put_value(c, k, 0, size) == 0);
	return k;
}

// With the sanitizers a crash point costs five to eight times what it does without: there the walk
// takes every one of the first 64 and every fourth after (64, 68, ...); every one in the plain
// build, which the test command runs too.
#if defined(__SANITIZE_ADDRESS__)
constexpr int STRIDE = 4;
#else
constexpr int STRIDE = 1;
#endif

int walk_crash_points(const Scenario &s)
{
	int k = 1, reached = 0; // reached: the last point the write was killed at
	for (;; reached = k, k += k < 64 ? 1 : STRIDE) {
		INFO(s.name << ": killed at crash point " << k);
		Cache c(unique_name("crash"), s.opts);
		REQUIRE(c.start_error() == 0);
		s.preload(c);
		const std::string name = c.name();
		pid_t pid = spawn([&] {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 2;
			sctest_crash_at(static_cast<uint64_t>(k));
			s.write(h);
			sctest_crash_at(0);
			sc_stop(h);
			return 0;
		});
		const int status = wait_child(pid);
		REQUIRE((status == 0 || status == 128 + SIGKILL));
		if (s.kill_repairer && status != 0) {
			const int repairer = wait_child(spawn([&] {
				sc_cache *h = nullptr;
				sc_check_report report;
				if (sc_attach(name.c_str(), nullptr, &h))
					return 2;
				sctest_crash_at(1 + static_cast<uint64_t>(k) % 29);
				sc_check(h, 0, &report);
				sctest_crash_at(0);
				sc_stop(h);
				return 0;
			}));
			REQUIRE((repairer == 0 || repairer == 128 + SIGKILL));
		}
		if (s.first_touch)
			s.first_touch(c, k);
		std::string problems;
		int rc = check_segment(c, 0, &problems);
		INFO(problems);
		REQUIRE(rc == 0);
		s.verify(c, status == 0);
		// The repaired partition takes writes, and stays whole.
		REQUIRE(put_value(c, 1000000, 0, 40) == 0);
		rc = check_segment(c, 0, &problems);
		INFO(problems);
		REQUIRE(rc == 0);
		if (status == 0)
			break;
	}
	// The write was killed at point `reached` and completed at k: it has reached to k - 1 of them.
	fprintf(stderr, "%s: %d crash points%s\n", s.name, reached,
		k - 1 > reached ? " at least (a sample walked)" : "");
	return reached;
}

} // namespace sctest
