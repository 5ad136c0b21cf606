// test_ship_bell.cpp — the replication logs' doorbell: a sync writer wakes the coordinator asleep at once; an
// async one leaves its entries to the poll.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <thread>

#include "helpers.hpp"
#include "internals.h"
#include "log_rig.hpp"

using namespace sctest;

TEST_CASE("the ship bell: a sync write wakes the coordinator asleep on it at once; an async one leaves its "
	  "entries to the next look",
	  "[replication]")
{
	for (uint32_t mode : { SC_REPLICATION_SYNC, SC_REPLICATION_ASYNC }) {
		INFO("mode " << mode);
		Cache a(unique_name("repl-bell"), mode_options(mode));
		start_as_shipping_primary(a);
		uint64_t seen = 0;
		CHECK(sc_repl_bell_wait(a, &seen, 0) == 0); // nothing written yet
		CHECK(seen == 0);

		// Asleep for up to 2 s (async: 300 ms), then one write.
		const uint64_t sleep_ns = mode == SC_REPLICATION_SYNC ? 2000000000ull : 300000000ull;
		int rc = -1;
		uint64_t slept_ms = 0;
		std::thread coordinator([&] {
			const uint64_t t0 = clock_ms();
			rc = sc_repl_bell_wait(a, &seen, sleep_ns);
			slept_ms = clock_ms() - t0;
		});
		while (!sctest_ship_sleeping(a))
			std::this_thread::yield();
		const int put = sc_put(a, SC_TUPLE(sc_str("k"), sc_int(1)));
		coordinator.join();
		CHECK(rc == 1);
		CHECK(seen != 0);
		CHECK_FALSE(sctest_ship_sleeping(a));
		if (mode == SC_REPLICATION_SYNC) {
			// Woken by the write, which then waited its 100 ms for acks nobody sends.
			CHECK(put == -ETIMEDOUT);
			CHECK(slept_ms < 1000);
		} else {
			// Not woken: the write found at the end of the sleep.
			CHECK(put == 0);
			CHECK(slept_ms >= 300);
		}
		// Nothing new since: no move.
		CHECK(sc_repl_bell_wait(a, &seen, 0) == 0);
	}
	uint64_t seen = 0;
	Cache local(unique_name("repl-bell-local"), options(2, 16 << 20));
	REQUIRE(local.start_error() == 0);
	CHECK(sc_repl_bell_wait(local, &seen, 0) == -EINVAL);
}
