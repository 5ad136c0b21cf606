// test_crash.cpp — a writer killed at every crash point of a write leaves its partition whole.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "crash_walk.hpp"
#include "helpers.hpp"

using namespace sctest;

TEST_CASE("a put killed at any point is all-or-nothing and leaves the partition whole", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "put replacing", options(1, 16 << 20),
		    [](sc_cache *c) {
			    for (int k = 0; k < 100; k++)
				    REQUIRE(put_value(c, k, 0, 100) == 0);
		    },
		    [](sc_cache *c) { put_value(c, 7, 1, 100); },
		    [](sc_cache *c, bool done) {
			    const int v = version_of(c, 7, 100);
			    CHECK((v == 1 || (!done && v == 0)));
			    for (int k = 0; k < 100; k++)
				    if (k != 7)
					    CHECK(version_of(c, k, 100) == 0);
		    } };
	CHECK(walk_crash_points(s) >= 10);
}

TEST_CASE("puts that grow the index and take new slabs, killed anywhere, lose nothing acknowledged",
	  "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	const size_t size = 30 * 1024;
	Scenario s{ "growing puts", options(1, 16 << 20),
		    [](sc_cache *c) {
			    for (int k = 0; k < 100; k++)
				    REQUIRE(put_value(c, k, 0, 100) == 0);
		    },
		    [size](sc_cache *c) {
			    for (int k = 100; k < 140; k++)
				    put_value(c, k, 0, size);
		    },
		    [size](sc_cache *c, bool done) {
			    bool gap = false;
			    for (int k = 100; k < 140; k++) {
				    const int v = version_of(c, k, size);
				    CHECK((v == 0 || (v == -1 && !done)));
				    CHECK(!(gap &&
					    v == 0)); // the puts went in in order: what is there is a prefix
				    gap |= v == -1;
			    }
			    for (int k = 0; k < 100; k++)
				    CHECK(version_of(c, k, 100) == 0);
		    } };
	CHECK(walk_crash_points(s) >= 300);
}

TEST_CASE("deletes killed anywhere are each all-or-nothing", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "deletes", options(1, 16 << 20),
		    [](sc_cache *c) {
			    for (int k = 0; k < 200; k++)
				    REQUIRE(put_value(c, k, 0, 100) == 0);
		    },
		    [](sc_cache *c) {
			    for (int k = 0; k < 150; k++)
				    sc_delete(c, SC_TUPLE(sc_int(k)));
		    },
		    [](sc_cache *c, bool done) {
			    bool kept = false;
			    for (int k = 0; k < 150; k++) {
				    const int v = version_of(c, k, 100);
				    CHECK((v == -1 || (v == 0 && !done)));
				    CHECK(!(kept && v == -1));
				    kept |= v == 0;
			    }
			    for (int k = 150; k < 200; k++)
				    CHECK(version_of(c, k, 100) == 0);
		    } };
	CHECK(walk_crash_points(s) >= 300);
}

TEST_CASE("large records replaced and reclaimed, killed anywhere, free their spans exactly once", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	const size_t size = 100 * 1024;
	Scenario s{ "large records", options(1, 16 << 20),
		    [size](sc_cache *c) { REQUIRE(put_value(c, 0, 0, size) == 0); },
		    [size](sc_cache *c) {
			    for (int v = 1; v <= 6; v++)
				    put_value(c, 0, v, size);
		    },
		    [size](sc_cache *c, bool done) {
			    const int v = version_of(c, 0, size);
			    CHECK((v == 6 || (!done && v >= 0)));
		    } };
	CHECK(walk_crash_points(s) >= 30);
}

TEST_CASE("an ordered_set's copy-on-write paths, killed anywhere, are all-or-nothing", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	sc_options o = options(1, 16 << 20);
	o.table_type = SC_ORDERED_SET;
	Scenario s{ "ordered", o,
		    [](sc_cache *c) {
			    for (int k = 0; k < 300; k++)
				    REQUIRE(put_value(c, k, 0, 60) == 0);
		    },
		    [](sc_cache *c) {
			    for (int k = 0; k < 60; k++) {
				    put_value(c, 300 + k, 0, 60);
				    sc_delete(c, SC_TUPLE(sc_int(k * 5)));
			    }
		    },
		    [](sc_cache *c, bool done) {
			    int added = 0, deleted = 0;
			    for (int k = 0; k < 60; k++) {
				    added += version_of(c, 300 + k, 60) == 0;
				    deleted += version_of(c, k * 5, 60) == -1;
			    }
			    // Put k then delete k: the deletes trail the puts by at most one.
			    CHECK((added == deleted || added == deleted + 1));
			    CHECK((!done || added == 60));
		    } };
	CHECK(walk_crash_points(s) >= 300);
}

TEST_CASE("queue and stack operations killed anywhere neither lose nor repeat an item", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "queue", options(2, 16 << 20),
		    [](sc_cache *c) {
			    for (int i = 0; i < 10; i++)
				    REQUIRE(sc_queue_add(c, "q", sc_int(i)) == 0);
		    },
		    [](sc_cache *c) {
			    for (int i = 10; i < 15; i++)
				    sc_queue_add(c, "q", sc_int(i));
			    for (int i = 0; i < 8; i++) {
				    sc_tuples *t = nullptr;
				    sc_queue_out(c, "q", nullptr, &t);
				    sc_tuples_free(t);
			    }
		    },
		    [](sc_cache *c, bool done) {
			    sc_tuples *t = nullptr;
			    const int count = sc_queue_count(c, "q");
			    const int n = sc_queue_get_all(c, "q", &t);
			    REQUIRE(n >= 0);
			    CHECK(count == n);
			    // What is left is a run of consecutive items, in order.
			    for (int i = 1; i < n; i++)
				    CHECK(t->tuples[i].fields[0].v.i == t->tuples[i - 1].fields[0].v.i + 1);
			    if (done)
				    CHECK(n == 7);
			    sc_tuples_free(t);
		    } };
	CHECK(walk_crash_points(s) >= 50);
}

TEST_CASE("sc_clear killed anywhere empties each partition, and each partition's structures, whole or not at "
	  "all",
	  "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "clear", options(2, 16 << 20),
		    [](sc_cache *c) {
			    for (int k = 0; k < 40; k++)
				    REQUIRE(put_value(c, k, 0, 60) == 0);
			    for (int k = 0; k < 20; k++)
				    REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_int(k)) == 0);
			    for (int i = 0; i < 5; i++)
				    REQUIRE(sc_queue_add(c, "q", sc_int(i)) == 0);
		    },
		    [](sc_cache *c) { sc_clear(c); },
		    [](sc_cache *c, bool done) {
			    // Per partition: how many of its tuples, or pairs, are left, against how many it had.
			    std::map<uint32_t, std::pair<int, int>> left;
			    for (int k = 0; k < 40; k++) {
				    auto &l = left[sctest_partition_of(c, SC_TUPLE(sc_int(k)))];
				    l.first += version_of(c, k, 60) == 0;
				    l.second++;
			    }
			    for (int k = 0; k < 20; k++) {
				    sc_tuples *t = nullptr;
				    auto &l = left[sctest_kv_partition_of(c, "ns", sc_int(k))];
				    l.first += sc_kv_get(c, "ns", sc_int(k), nullptr, &t) == 1;
				    l.second++;
				    sc_tuples_free(t);
			    }
			    for (const auto &[partition, l] : left) {
				    INFO("partition " << partition << ": " << l.first << " of " << l.second
						      << " left");
				    CHECK((l.first == 0 || (l.first == l.second && !done)));
			    }
			    const int queued = sc_queue_count(c, "q");
			    CHECK((queued == 0 || (queued == 5 && !done)));
		    } };
	CHECK(walk_crash_points(s) >= 4);
}

namespace
{
int plus_one(const sc_field *current, void *, sc_field *next)
{
	*next = sc_int(current->v.i + 1);
	return 0;
}

int64_t counter(sc_cache *c, const char *key)
{
	sc_tuples *t = nullptr;
	const int n = sc_kv_get(c, "ns", sc_str(key), nullptr, &t);
	const int64_t v = n == 1 ? t->tuples[0].fields[0].v.i : -1;
	sc_tuples_free(t);
	return v;
}
} // namespace

TEST_CASE("update_fn and increment killed anywhere: each all or nothing, no step lost or doubled", "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "kv read-modify-writes", options(2, 16 << 20),
		    [](sc_cache *c) {
			    REQUIRE(sc_kv_add(c, "ns", sc_str("n"), sc_int(0)) == 0);
			    REQUIRE(sc_kv_add(c, "ns", sc_str("i"), sc_int(0)) == 0);
		    },
		    [](sc_cache *c) {
			    for (int k = 0; k < 10; k++) {
				    sc_field now;
				    if (sc_kv_update_fn(c, "ns", sc_str("n"), sc_int(0), plus_one, nullptr,
							nullptr) ||
					sc_kv_increment(c, "ns", sc_str("i"), sc_int(0), sc_int(1), &now))
					    return;
			    }
		    },
		    [](sc_cache *c, bool done) {
			    const int64_t n = counter(c, "n"), i = counter(c, "i");
			    // Steps alternate, n's first: i trails n by one at most, never leads it.
			    CHECK((n == i || n == i + 1));
			    CHECK(n >= 0);
			    CHECK(n <= 10);
			    if (done)
				    CHECK((n == 10 && i == 10));
		    } };
	CHECK(walk_crash_points(s) >= 20);
}

// Every value of key, oldest first.
static std::vector<int64_t> values_of(sc_cache *c, const char *key)
{
	sc_tuples *t = nullptr;
	std::vector<int64_t> v;
	const int n = sc_kv_get_all(c, "ns", sc_str(key), &t);
	REQUIRE(n >= 0);
	for (int i = 0; i < n; i++)
		v.push_back(t->tuples[i].fields[0].v.i);
	sc_tuples_free(t);
	return v;
}

TEST_CASE("a duplicate_bag's KeyValue updates killed anywhere leave the old values or the one new one",
	  "[crash]")
{
	SCTEST_NEEDS_HOOKS();
	sc_options o = options(2, 16 << 20);
	o.table_type = SC_DUPLICATE_BAG;
	Scenario s{ "bag updates", o,
		    [](sc_cache *c) {
			    for (int64_t v : { 1, 2, 3, 2 })
				    REQUIRE(sc_kv_add(c, "ns", sc_str("k"), sc_int(v)) == 0);
			    for (int64_t v : { 7, 8 })
				    REQUIRE(sc_kv_add(c, "ns", sc_str("other"), sc_int(v)) == 0);
		    },
		    [](sc_cache *c) {
			    if (sc_kv_update(c, "ns", sc_str("k"), sc_int(100)) == 0)
				    sc_kv_update_fn(c, "ns", sc_str("k"), sc_int(0), plus_one, nullptr,
						    nullptr);
		    },
		    [](sc_cache *c, bool done) {
			    const std::vector<int64_t> k = values_of(c, "k");
			    const bool before = k == std::vector<int64_t>{ 1, 2, 3, 2 };
			    const bool updated =
				    k == std::vector<int64_t>{ 100 } || k == std::vector<int64_t>{ 101 };
			    INFO("the key holds " << k.size() << " values");
			    CHECK((before || updated));
			    CHECK((!done || k == std::vector<int64_t>{ 101 }));
			    CHECK(values_of(c, "other") == std::vector<int64_t>{ 7, 8 });
		    } };
	s.kill_repairer = true;
	CHECK(walk_crash_points(s) >= 10);
}

TEST_CASE("a put that evicts at the memory limit, killed anywhere, leaves every tuple whole or gone",
	  "[crash][eviction]")
{
	SCTEST_NEEDS_HOOKS();
	const size_t size = 2000;
	sc_options o = options(1, 8 << 20);
	o.max_readers = 16;
	o.eviction = SC_EVICTION_CLOCK;
	static int filled; // keys 0 .. filled - 1 were put before the write
	Scenario s{ "evicting put", o, [size](sc_cache *c) { filled = fill_until_evicting(c, size); },
		    [size](sc_cache *c) {
			    // On until a put has evicted again: one whole round of the hand at least.
			    const uint64_t before = Stats(c)->total.evictions;
			    for (int k = filled; k < filled + 100 && Stats(c)->total.evictions == before; k++)
				    put_value(c, k, 0, size);
		    },
		    [size](sc_cache *c, bool done) {
			    int present = 0;
			    for (int k = 0; k < filled + 100; k++)
				    present += version_of(c, k, size) == 0; // whole, or gone
			    Stats st(c);
			    CHECK(st->total.records == static_cast<uint64_t>(present));
			    if (done)
				    CHECK(st->total.evictions > 0);
		    } };
	CHECK(walk_crash_points(s) >= 100);
}
