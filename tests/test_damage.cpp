// test_damage.cpp — writer state left broken by a writer that died mid-update, or by a scribbler, is survived.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

// Overwrite keys 0..keys-1 with 120-byte values once: each overwrite retires a record.
static void overwrite(sc_cache *c, int keys)
{
	const std::string value(120, 'v');
	for (int k = 0; k < keys; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 120))) == 0);
}

static void check_all_present(sc_cache *c, int keys)
{
	sc_tuples *t = nullptr;
	for (int k = 0; k < keys; k++) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(k)), &t) == 1);
		sc_tuples_free(t);
	}
}

TEST_CASE("a limbo list left half-updated by a dead writer costs a leak, never the header", "[damage]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("limbo"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	overwrite(c, 100); // retires 100 records, well under the grace-period step: they stay in limbo
	uint32_t head, tail;
	sctest_limbo_ends(c, 0, &head, &tail);
	REQUIRE(head != 0);
	REQUIRE(tail != 0);

	SECTION("head set, tail not: a writer died between the two stores of the first retire")
	{
		sctest_set_limbo_ends(c, 0, head, 0);
	}
	SECTION("a tail pointing outside the heap")
	{
		sctest_set_limbo_ends(c, 0, head, 0xfffffff0u);
	}
	SECTION("a tail pointing into the segment header")
	{
		sctest_set_limbo_ends(c, 0, head, 1);
	}
	overwrite(c, 5000); // enough retires for several grace periods
	check_all_present(c, 100);
	// The header is intact: a new process can still attach, and memory is reused again.
	sc_cache *other = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), nullptr, &other) == 0);
	check_all_present(other, 100);
	sc_stop(other);
	const uint64_t used = Stats(c)->memory_used;
	overwrite(c, 5000);
	CHECK(Stats(c)->memory_used == used);
}

TEST_CASE("a page map scribbled over is never a reason to hand out a page twice", "[damage]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("pagemap"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	// Every free page now reads as owned by some partition's garbage.
	REQUIRE(sctest_scribble_free_pages(c, 0xdeadbeefu) > 0);
	std::string big(200 * 1024, 'b');
	CHECK(sc_put(c, SC_TUPLE(sc_int(-1), sc_bytes(big.data(), static_cast<uint32_t>(big.size())))) ==
	      -ENOSPC);
	CHECK(contains(sc_last_error(), "memory_limit"));
	check_all_present(c, 100);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1000), sc_str("small records still fit"))) == 0);
}

static int capture_value(const sc_tuple *t, void *arg)
{
	*static_cast<std::string *>(arg) = str_field(*t, 1);
	return 0;
}

TEST_CASE("a read section survives the epoch moving 2^31 grace periods ahead", "[damage][rcu]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("epochwrap"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_str("original"))) == 0);
	std::string seen;
	const char *view = nullptr;
	REQUIRE(sc_read_begin(c) == 0);
	REQUIRE(sc_get_view(
			c, SC_TUPLE(sc_int(0)),
			[](const sc_tuple *t, void *arg) -> int {
				*static_cast<const char **>(arg) =
					static_cast<const char *>(t->fields[1].v.p);
				return 0;
			},
			&view) == 1);
	// Retire tags keep 32 bits of the epoch: 2^31 epochs later they must still compare right.
	sctest_add_epoch(c, (1ull << 31) + 16);
	const std::string filler(120, 'f');
	for (int i = 0; i < 5000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_bytes(filler.data(), 120))) == 0);
	CHECK(std::string(view) == "original");
	sc_read_end(c);
	// Once the section is over the backlog goes.
	for (int i = 0; i < 3000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_bytes(filler.data(), 120))) == 0);
	CHECK(Stats(c)->total.retired_bytes < 512u * 1024);
	REQUIRE(sc_get_view(c, SC_TUPLE(sc_int(0)), capture_value, &seen) == 1);
	CHECK(seen == filler);
}
