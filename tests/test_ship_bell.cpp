// test_ship_bell.cpp — the replication logs' doorbell: a sync writer wakes the coordinator asleep, on the futex
// or in its event loop on the bell socket, at once and once; an async one leaves its entries to the poll.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "internals.h"
#include "log_rig.hpp"

using namespace sctest;

namespace
{

// The test in the coordinator's event loop's place: the bell socket, bound where writers ring.
struct BellSocket {
	int fd = -1;
	std::string path;

	explicit BellSocket(sc_cache *c)
	{
		char buf[sizeof(sockaddr_un::sun_path)];
		REQUIRE(sc_repl_bell_socket_path(c, buf, sizeof(buf)) == 0);
		path = buf;
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		std::strcpy(sa.sun_path, buf);
		::unlink(buf);
		fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
	}
	~BellSocket()
	{
		::close(fd);
		::unlink(path.c_str());
	}
	// The datagrams waiting now: a ring is sent before the write's call returns.
	int rings()
	{
		char b[8];
		int n = 0;
		while (::recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
			n++;
		return n;
	}
};

} // namespace

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

TEST_CASE("the bell socket: armed, the first sync write sends one datagram; an async one none; the arm "
	  "finds what was published before it",
	  "[replication]")
{
	for (uint32_t mode : { SC_REPLICATION_SYNC, SC_REPLICATION_ASYNC }) {
		INFO("mode " << mode);
		const bool sync = mode == SC_REPLICATION_SYNC;
		Cache a(unique_name("repl-bell-socket"), mode_options(mode));
		start_as_shipping_primary(a);
		BellSocket loop(a);
		uint64_t seen = 0;

		CHECK(sc_repl_bell_arm(a, &seen) == 0); // nothing written yet
		CHECK(seen == 0);
		CHECK(sctest_ship_sleeping(a) != 0);

		// Armed: the first write rings (sync) and clears the arm; the second finds it clear.
		CHECK(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(1))) == (sync ? -ETIMEDOUT : 0));
		CHECK(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(2))) == (sync ? -ETIMEDOUT : 0));
		CHECK(loop.rings() == (sync ? 1 : 0));
		CHECK((sctest_ship_sleeping(a) != 0) == !sync);

		// The next arm finds both writes, and the one after it nothing new.
		CHECK(sc_repl_bell_arm(a, &seen) == 1);
		CHECK(seen != 0);
		CHECK(sc_repl_bell_arm(a, &seen) == 0);
	}
}

TEST_CASE("the bell socket: a ring nobody hears leaves the write as it was; bad arguments are refused",
	  "[replication]")
{
	Cache a(unique_name("repl-bell-deaf"), mode_options(SC_REPLICATION_SYNC));
	start_as_shipping_primary(a);
	uint64_t seen = 0;
	char path[sizeof(sockaddr_un::sun_path)];

	// Nothing bound at the path: the ring goes nowhere, and the write still waits its 100 ms and says so.
	REQUIRE(sc_repl_bell_socket_path(a, path, sizeof(path)) == 0);
	CHECK(std::string(path).find(a.name()) != std::string::npos);
	::unlink(path);
	CHECK(sc_repl_bell_arm(a, &seen) == 0);
	CHECK(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(1))) == -ETIMEDOUT);
	CHECK(sctest_ship_sleeping(a) == 0);

	CHECK(sc_repl_bell_socket_path(a, path, 8) == -ENAMETOOLONG);
	CHECK(sc_repl_bell_socket_path(a, nullptr, sizeof(path)) == -EINVAL);
	CHECK(sc_repl_bell_arm(a, nullptr) == -EINVAL);
	Cache local(unique_name("repl-bell-socket-local"), options(2, 16 << 20));
	REQUIRE(local.start_error() == 0);
	CHECK(sc_repl_bell_arm(local, &seen) == -EINVAL);
}
