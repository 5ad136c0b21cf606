// test_maintenance.cpp — sc_reclaim and sc_release_dead_readers, against real reader processes.
#include "helpers.hpp"
#include "internals.h"
#include <catch2/catch.hpp>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>
using namespace sctest;

namespace
{
// Put then delete n tuples with 1 KiB values: their records go to limbo, retired.
void churn(sc_cache *c, int n)
{
	std::string value(1000, 'v');

	for (int i = 0; i < n; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_str(value.c_str()))) == 0);
	for (int i = 0; i < n; i++)
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(i))) == 1);
}
} // namespace

TEST_CASE("sc_reclaim frees what no reader can see, and nothing a reader still can", "[maintenance]")
{
	Cache c(unique_name("reclaim"), options(4));
	REQUIRE(c.start_error() == 0);
	pid_t reader = spawn_reader_stopped_in_section(c.name());
	REQUIRE(reader > 0);
	ChildGuard guard(reader);
	uint64_t freed = 1;

	// Retired while the stopped reader's section is open: no grace period can free it.
	churn(c, 100);
	uint64_t retired = Stats(c)->total.retired_bytes;
	REQUIRE(retired >= 100 * 1000);
	REQUIRE(sc_reclaim(c, &freed) == 0);
	CHECK(freed == 0);
	CHECK(Stats(c)->total.retired_bytes == retired);

	// The reader leaves its section and exits: one call frees all of it.
	REQUIRE(kill(reader, SIGCONT) == 0);
	REQUIRE(guard.wait() == 0);
	REQUIRE(sc_reclaim(c, &freed) == 0);
	CHECK(freed == retired);
	CHECK(Stats(c)->total.retired_bytes == 0);
	REQUIRE(sc_reclaim(c, nullptr) == 0);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems.empty());
}

TEST_CASE("sc_release_dead_readers releases the slots of processes gone without sc_stop", "[maintenance]")
{
	Cache c(unique_name("dead-readers"), options(2));
	REQUIRE(c.start_error() == 0);
	std::string name = c.name();
	const int children = 3;
	// This process's own slots (its thread has read) are live and stay.
	sc_tuples *got = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(1)), &got) == 0);
	const uint32_t mine = Stats(c)->readers;
	REQUIRE(mine >= 1);
	for (int i = 0; i < children; i++) {
		REQUIRE(leave_dead_reader(name) == 0);
	}
	CHECK(Stats(c)->readers == mine + children);
	CHECK(sc_release_dead_readers(c) == children);
	CHECK(Stats(c)->readers == mine);
	CHECK(sc_release_dead_readers(c) == 0);
	CHECK(Stats(c)->readers == mine);
}

TEST_CASE("maintenance passes over a partition whose lock a stopped writer holds", "[maintenance]")
{
	Cache c(unique_name("busy-lock"), options(2));
	REQUIRE(c.start_error() == 0);
	const int n = 200;
	for (int i = 0; i < n; i++)
		REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(i), sc_str("brief")), 1) == 0);
	// Expired tuples vanish from reads at once; wait for the last one's deadline so.
	for (sc_tuples *got = nullptr; sc_get(c, SC_TUPLE(sc_int(n - 1)), &got) == 1; sc_tuples_free(got))
		;
	// What the puts' own sweep steps left to reclaim, in each partition.
	const int in_0 = (int)Stats(c)->partitions[0].records, in_1 = (int)Stats(c)->partitions[1].records;
	REQUIRE(in_0 > 0);
	REQUIRE(in_1 > 0);
	std::string name = c.name();
	pid_t writer = spawn([&]() -> int {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || sctest_take_lock(h, 0))
			return 1;
		raise(SIGSTOP); // holding partition 0's lock until SIGCONT
		sctest_release_lock(h, 0);
		return sc_stop(h);
	});
	ChildGuard guard(writer);
	int status = 0;
	REQUIRE(waitpid(writer, &status, WUNTRACED) == writer);
	REQUIRE(WIFSTOPPED(status));

	// Partition 1's go; partition 0's wait for the next call.
	CHECK(sc_expire_within(c, 1) == in_1);
	CHECK((int)Stats(c)->partitions[0].records == in_0);
	uint64_t freed = 0;
	CHECK(sc_reclaim(c, &freed) == 0);
	CHECK(freed > 0);

	REQUIRE(kill(writer, SIGCONT) == 0);
	REQUIRE(guard.wait() == 0);
	CHECK(sc_expire_within(c, 1) == in_0);
	CHECK(Stats(c)->total.records == 0);
	CHECK(sc_expire_within(c, 0) == -EINVAL);
}

TEST_CASE("maintenance calls refuse a NULL cache", "[maintenance]")
{
	CHECK(sc_reclaim(nullptr, nullptr) == -EINVAL);
	CHECK(sc_release_dead_readers(nullptr) == -EINVAL);
	CHECK(sc_expire_within(nullptr, 1) == -EINVAL);
}
