// test_ttl.cpp — time to live: expired tuples and pairs vanish from every read at once, and are reclaimed.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <time.h>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// Time to live is about time: wait on the clock the deadlines use until ms have passed since
// after_ms, a time read after the puts whose deadlines it waits out.
void until(uint64_t after_ms, uint64_t ms)
{
	while (clock_ms(CLOCK_MONOTONIC_COARSE) <= after_ms + ms + 1)
		;
}

int count_get(sc_cache *c, int64_t key)
{
	sc_tuples *t = nullptr;
	int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	sc_tuples_free(t);
	return r;
}

int count_visits(const sc_tuple *, void *acc)
{
	++*static_cast<int *>(acc);
	return 0;
}

int scan_count(sc_cache *c)
{
	int n = 0;
	int r = sc_scan(c, nullptr, count_visits, &n);
	return r < 0 ? r : n;
}

int match_count(sc_cache *c)
{
	sc_tuples *t = nullptr;
	int r = sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t);
	sc_tuples_free(t);
	return r;
}

} // namespace

TEST_CASE("an expired tuple is invisible to every read at once, in every table type", "[ttl]")
{
	const uint32_t type = GENERATE(as<uint32_t>{}, SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG);
	INFO("table type " << type);
	sc_options o = options(2, 64 << 20);
	o.table_type = type;
	Cache c(unique_name("ttl"), o);
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 100; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("stays"))) == 0);
	const uint64_t before = clock_ms(CLOCK_MONOTONIC_COARSE);
	for (int k = 100; k < 200; k++)
		REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(k), sc_str("goes")), 200) == 0);
	const uint64_t start = clock_ms(CLOCK_MONOTONIC_COARSE);
	uint64_t left = 0;
	REQUIRE(sc_ttl(c, SC_TUPLE(sc_int(150)), &left) == 1);
	CHECK(left <= 200);
	CHECK(left > 0);
	REQUIRE(sc_ttl(c, SC_TUPLE(sc_int(50)), &left) == 1);
	CHECK(left == SC_TTL_FOREVER);
	CHECK(sc_ttl(c, SC_TUPLE(sc_int(1000)), &left) == 0);
	// Checked before the deadline only if the check began before it: a slow machine may skip this.
	if (clock_ms(CLOCK_MONOTONIC_COARSE) + 50 < before + 200) {
		CHECK(count_get(c, 150) == 1);
		CHECK(scan_count(c) == 200);
	}

	until(start, 200);
	CHECK(count_get(c, 150) == 0);
	CHECK(count_get(c, 50) == 1);
	CHECK(sc_ttl(c, SC_TUPLE(sc_int(150)), &left) == 0);
	CHECK(sc_get_view(c, SC_TUPLE(sc_int(150)), count_visits, &left) == 0);
	CHECK(scan_count(c) == 100);
	CHECK(match_count(c) == 100);
	CHECK(sc_touch(c, SC_TUPLE(sc_int(150)), SC_TTL_FOREVER) == 0); // no coming back
	CHECK(count_get(c, 150) == 0);
	// Invisible to other processes too.
	std::string name = c.name();
	CHECK(wait_child(spawn([&]() -> int {
		      sc_cache *h = nullptr;
		      if (sc_attach(name.c_str(), nullptr, &h))
			      return 1;
		      int r = count_get(h, 150) == 0 && count_get(h, 50) == 1 && scan_count(h) == 100 ? 0 : 2;
		      sc_stop(h);
		      return r;
	      })) == 0);

	// Counted until reclaimed; sc_expire reclaims them all.
	CHECK(Stats(c)->total.records == 200);
	CHECK(sc_expire(c) == 100);
	Stats s(c);
	CHECK(s->total.records == 100);
	CHECK(s->total.expirations == 100);
	CHECK(s->total.deletes == 0);
	CHECK(sc_check(c, 0, nullptr) == 0);
}

TEST_CASE("sc_touch extends, shortens or removes a deadline, and gives one to a tuple without", "[ttl]")
{
	const uint32_t type = GENERATE(as<uint32_t>{}, SC_SET, SC_ORDERED_SET, SC_BAG);
	INFO("table type " << type);
	sc_options o = options(2, 64 << 20);
	o.table_type = type;
	Cache c(unique_name("touch"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(1), sc_str("a")), 100) == 0);
	REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(2), sc_str("b")), 100) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(3), sc_str("c"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(4), sc_str("d"))) == 0);
	if (type == SC_BAG)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(4), sc_str("e"))) == 0);

	CHECK(sc_touch(c, SC_TUPLE(sc_int(1)), SC_TTL_FOREVER) == 1); // now permanent
	CHECK(sc_touch(c, SC_TUPLE(sc_int(2)), 3600 * 1000) == 1);    // an hour
	CHECK(sc_touch(c, SC_TUPLE(sc_int(3)), 100) == 1);	      // gets a deadline
	CHECK(sc_touch(c, SC_TUPLE(sc_int(4)), 3600 * 1000) == (type == SC_BAG ? 2 : 1));
	CHECK(sc_touch(c, SC_TUPLE(sc_int(9)), 100) == 0);
	const uint64_t start = clock_ms(CLOCK_MONOTONIC_COARSE);
	uint64_t left = 0;
	REQUIRE(sc_ttl(c, SC_TUPLE(sc_int(2)), &left) == 1);
	CHECK(left > 3500 * 1000);
	REQUIRE(sc_ttl(c, SC_TUPLE(sc_int(4)), &left) == 1);
	CHECK(left > 3500 * 1000);
	REQUIRE(sc_check(c, 0, nullptr) == 0);

	until(start, 100);
	CHECK(count_get(c, 1) == 1);
	CHECK(count_get(c, 2) == 1);
	CHECK(count_get(c, 3) == 0);
	CHECK(count_get(c, 4) == (type == SC_BAG ? 2 : 1));
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(2)), &t) == 1);
	CHECK(std::string(static_cast<const char *>(t->tuples[0].fields[1].v.p)) == "b");
	sc_tuples_free(t);
	CHECK(sc_check(c, 0, nullptr) == 0);
}

TEST_CASE("expired records are reclaimed when their key is written and by the sweep of later writes", "[ttl]")
{
	Cache c(unique_name("sweep"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 1000; k++)
		REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(k), sc_str("v")), 50) == 0);
	const uint64_t start = clock_ms(CLOCK_MONOTONIC_COARSE);
	until(start, 50);
	// A put over an expired tuple replaces it, counted as an expiration.
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_str("new"))) == 0);
	CHECK(Stats(c)->total.expirations == 1);
	// A delete of an expired tuple deletes nothing.
	CHECK(sc_delete(c, SC_TUPLE(sc_int(1))) == 0);
	CHECK(Stats(c)->total.expirations == 2);
	// Writes of one other key sweep the rest out, a bucket every few writes.
	const uint64_t buckets = Stats(c)->total.index_capacity / 8;
	// Two turns: the index shrinks once most are gone, and the sweep starts over in the new one.
	for (uint64_t i = 0; i < 2 * (16 * buckets + 16); i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(5000), sc_int(static_cast<int64_t>(i)))) == 0);
	Stats s(c);
	CHECK(s->total.expirations == 1000);
	CHECK(s->total.records == 2);
	CHECK(sc_check(c, 0, nullptr) == 0);
}

TEST_CASE("in a bag, an expired tuple does not keep an identical one out", "[ttl]")
{
	sc_options o = options(1, 64 << 20);
	o.table_type = SC_BAG;
	Cache c(unique_name("bagttl"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(1), sc_str("x")), 300) == 0);
	const uint64_t start = clock_ms(CLOCK_MONOTONIC_COARSE);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("x"))) == 0); // there already: changes nothing
	CHECK(count_get(c, 1) == 1);
	until(start, 300);
	CHECK(count_get(c, 1) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("x"))) == 0);
	CHECK(count_get(c, 1) == 1);
	CHECK(sc_check(c, 0, nullptr) == 0);
}

TEST_CASE("KeyValue pairs take a time to live too", "[ttl][kv]")
{
	Cache c(unique_name("kvttl"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_kv_add_ttl(c, "sessions", sc_str("alice"), sc_int(1), 100) == 0);
	REQUIRE(sc_kv_add_ttl(c, "sessions", sc_str("bob"), sc_int(2), 100) == 0);
	const uint64_t start = clock_ms(CLOCK_MONOTONIC_COARSE);
	REQUIRE(sc_kv_add(c, "sessions", sc_str("carol"), sc_int(3)) == 0);
	CHECK(sc_kv_touch(c, "sessions", sc_str("bob"), 3600 * 1000) == 1);
	uint64_t left = 0;
	REQUIRE(sc_kv_ttl(c, "sessions", sc_str("carol"), &left) == 1);
	CHECK(left == SC_TTL_FOREVER);
	until(start, 100);
	sc_tuples *t = nullptr;
	CHECK(sc_kv_get(c, "sessions", sc_str("alice"), nullptr, &t) == 0);
	CHECK(t == nullptr);
	REQUIRE(sc_kv_get(c, "sessions", sc_str("bob"), nullptr, &t) == 1);
	sc_tuples_free(t);
	CHECK(sc_kv_count(c, "sessions") == 2);
	REQUIRE(sc_kv_keys(c, "sessions", &t) == 2);
	sc_tuples_free(t);
	CHECK(sc_kv_ttl(c, "sessions", sc_str("alice"), &left) == 0);
	CHECK(sc_expire(c) == 1);
	CHECK(Stats(c)->structures.expirations == 1);
	CHECK(sc_check(c, 0, nullptr) == 0);
}

TEST_CASE("a time to live must be 1 ms to 2^42 ms, or SC_TTL_FOREVER", "[ttl][errors]")
{
	Cache c(unique_name("ttlbad"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	CHECK(sc_put_ttl(c, SC_TUPLE(sc_int(1)), 0) == -EINVAL);
	CHECK(contains(sc_last_error(), "time to live"));
	CHECK(sc_put_ttl(c, SC_TUPLE(sc_int(1)), (1ull << 42) + 1) == -EINVAL);
	CHECK(sc_kv_add_ttl(c, "kv", sc_int(1), sc_int(1), 0) == -EINVAL);
	CHECK(sc_touch(c, SC_TUPLE(sc_int(1)), 0) == -EINVAL);
	CHECK(sc_ttl(c, SC_TUPLE(sc_int(1)), nullptr) == -EINVAL);
	CHECK(count_get(c, 1) == 0);
	REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(1)), SC_TTL_FOREVER) == 0);
	uint64_t left = 0;
	REQUIRE(sc_ttl(c, SC_TUPLE(sc_int(1)), &left) == 1);
	CHECK(left == SC_TTL_FOREVER);
}
