// test_batch.cpp — a batch is all-or-nothing: when it fails, and when its writer is killed anywhere inside it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "crash_walk.hpp"
#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

constexpr int kReplaced = 12; // keys 0 .. 11 exist before the batch, which gives them version 1
constexpr int kAddedFrom = 100;
constexpr int kAdded = 6; // keys 100 .. 105 the batch adds, at version 0
constexpr size_t kSize = 80;

// Tuples (key, value_of(key, version, size)) that outlive the vectors' growth.
class Batch
{
      public:
	explicit Batch(size_t capacity)
	{
		values.reserve(capacity);
		fields.reserve(2 * capacity);
	}
	void add(int key, int version, size_t size)
	{
		values.push_back(value_of(key, version, size));
		fields.push_back(sc_int(key));
		fields.push_back(sc_bytes(values.back().data(), static_cast<uint32_t>(values.back().size())));
		tuples.push_back(sc_tuple{ 2, &fields[fields.size() - 2] });
	}
	const sc_tuple *data() const
	{
		return tuples.data();
	}
	size_t size() const
	{
		return tuples.size();
	}

      private:
	std::vector<std::string> values;
	std::vector<sc_field> fields;
	std::vector<sc_tuple> tuples;
};

// The keys the batch writes: those it replaces, then those it adds.
std::vector<int> batch_keys()
{
	std::vector<int> keys;
	for (int k = 0; k < kReplaced; k++)
		keys.push_back(k);
	for (int k = kAddedFrom; k < kAddedFrom + kAdded; k++)
		keys.push_back(k);
	return keys;
}

// Key k's value in namespace "ns", "" if it has none.
std::string kv_value(sc_cache *c, int k)
{
	sc_tuples *t = nullptr;
	const int r = sc_kv_get(c, "ns", sc_int(k), nullptr, &t);
	REQUIRE(r >= 0);
	const std::string v = r ? str_field(t->tuples[0], 0) : "";
	sc_tuples_free(t);
	return v;
}

Batch the_batch()
{
	Batch b(kReplaced + kAdded);
	for (int k = 0; k < kReplaced; k++)
		b.add(k, 1, kSize);
	for (int k = kAddedFrom; k < kAddedFrom + kAdded; k++)
		b.add(k, 0, kSize);
	return b;
}

void preload(sc_cache *c)
{
	for (int k = 0; k < kReplaced; k++)
		REQUIRE(put_value(c, k, 0, kSize) == 0);
}

uint32_t partition_of(sc_cache *c, int key)
{
	return sctest_partition_of(c, SC_TUPLE(sc_int(key)));
}

// The lowest (the batch's commit partition) and highest partitions the batch writes.
void batch_partitions(sc_cache *c, uint32_t *lowest, uint32_t *highest)
{
	*lowest = UINT32_MAX;
	*highest = 0;
	for (int k : batch_keys()) {
		*lowest = std::min(*lowest, partition_of(c, k));
		*highest = std::max(*highest, partition_of(c, k));
	}
}

/*
 * Who meets what the dead writer left first, by crash point: the checker,
 * partition by partition from the commit partition up (0); a put into the
 * batch's highest partition, repaired before its commit partition (1); a
 * batch of the commit partition alone, which must settle the dead batch's
 * other partitions before it numbers its own (2).
 */
void first_touch(sc_cache *c, int k)
{
	uint32_t lowest, highest;
	batch_partitions(c, &lowest, &highest);
	REQUIRE(lowest < highest);
	if (k % 3 == 1) {
		const std::string v = value_of(2000000, 0, 40);
		REQUIRE(sc_put_partition_by_idx(c, SC_TUPLE(sc_int(2000000), sc_bytes(v.data(), 40)),
						highest) == 0);
	} else if (k % 3 == 2) {
		Batch own(2);
		for (int key = 3000000; own.size() < 2; key++)
			if (partition_of(c, key) == lowest)
				own.add(key, 0, 40);
		REQUIRE(sc_put_batch(c, own.data(), own.size()) == 0);
	}
}

// All of the batch is there, or none of it: how many of its tuples are.
int batch_landed(sc_cache *c, size_t size)
{
	int landed = 0;
	for (int k = 0; k < kReplaced; k++) {
		const int v = version_of(c, k, size);
		CHECK((v == 0 || v == 1));
		landed += v == 1;
	}
	for (int k = kAddedFrom; k < kAddedFrom + kAdded; k++) {
		const int v = version_of(c, k, size);
		CHECK((v == -1 || v == 0));
		landed += v == 0;
	}
	CHECK((landed == 0 || landed == kReplaced + kAdded));
	return landed;
}

Scenario put_batch_scenario(const char *name, sc_options o)
{
	Scenario s{ name,
		    o,
		    preload,
		    [](sc_cache *c) {
			    Batch b = the_batch();
			    sc_put_batch(c, b.data(), b.size());
		    },
		    [](sc_cache *c, bool done) {
			    const int landed = batch_landed(c, kSize);
			    CHECK((!done || landed == kReplaced + kAdded));
		    },
		    first_touch };
	s.kill_repairer = true;
	return s;
}

// The checker finds nothing wrong; what it found is shown if it did.
void check_clean(sc_cache *c)
{
	std::string problems;
	const int rc = check_segment(c, 0, &problems);
	INFO(problems);
	CHECK(rc == 0);
}

int records_of(sc_cache *c, int key)
{
	sc_tuples *t = nullptr;
	const int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	REQUIRE(r >= 0);
	sc_tuples_free(t);
	return r;
}

} // namespace

TEST_CASE("a batch over several partitions killed anywhere is all there or not at all", "[batch][crash]")
{
	SCTEST_NEEDS_HOOKS();
	CHECK(walk_crash_points(put_batch_scenario("batch, set", options(4, 16 << 20))) >= 100);
}

TEST_CASE("an ordered_set batch killed anywhere is all there or not at all", "[batch][crash]")
{
	SCTEST_NEEDS_HOOKS();
	sc_options o = options(4, 16 << 20);
	o.table_type = SC_ORDERED_SET;
	CHECK(walk_crash_points(put_batch_scenario("batch, ordered_set", o)) >= 50);
}

TEST_CASE("a duplicate_bag batch killed anywhere adds each tuple once or not at all", "[batch][crash]")
{
	SCTEST_NEEDS_HOOKS();
	sc_options o = options(4, 16 << 20);
	o.table_type = SC_DUPLICATE_BAG;
	Scenario s{ "batch, duplicate_bag",
		    o,
		    preload,
		    [](sc_cache *c) {
			    Batch b = the_batch();
			    sc_put_batch(c, b.data(), b.size());
		    },
		    [](sc_cache *c, bool done) {
			    // A repair that completed the batch twice would show a third record somewhere.
			    int landed = 0;
			    for (int k = 0; k < kReplaced; k++) {
				    const int n = records_of(c, k);
				    CHECK((n == 1 || n == 2));
				    landed += n == 2;
			    }
			    for (int k = kAddedFrom; k < kAddedFrom + kAdded; k++) {
				    const int n = records_of(c, k);
				    CHECK((n == 0 || n == 1));
				    landed += n == 1;
			    }
			    CHECK((landed == 0 || landed == kReplaced + kAdded));
			    CHECK((!done || landed == kReplaced + kAdded));
		    },
		    first_touch };
	s.kill_repairer = true;
	CHECK(walk_crash_points(s) >= 100);
}

TEST_CASE("a KeyValue batch killed anywhere is all there or not at all", "[batch][crash][kv]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "kv batch", options(4, 16 << 20),
		    [](sc_cache *c) {
			    for (int k = 0; k < kReplaced; k++) {
				    const std::string v = value_of(k, 0, kSize);
				    REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_bytes(v.data(), kSize)) == 0);
			    }
		    },
		    [](sc_cache *c) {
			    std::vector<std::string> values;
			    std::vector<sc_kv_pair> pairs;
			    values.reserve(kReplaced + kAdded);
			    for (int k : batch_keys()) {
				    values.push_back(value_of(k, k < kReplaced ? 1 : 0, kSize));
				    pairs.push_back(
					    sc_kv_pair{ sc_int(k), sc_bytes(values.back().data(), kSize) });
			    }
			    sc_kv_add_batch(c, "ns", pairs.data(), pairs.size());
		    },
		    [](sc_cache *c, bool done) {
			    int landed = 0;
			    for (int k : batch_keys()) {
				    const std::string v = kv_value(c, k);
				    if (k < kReplaced)
					    CHECK((v == value_of(k, 0, kSize) || v == value_of(k, 1, kSize)));
				    else
					    CHECK((v.empty() || v == value_of(k, 0, kSize)));
				    landed += v == value_of(k, k < kReplaced ? 1 : 0, kSize);
			    }
			    CHECK((landed == 0 || landed == kReplaced + kAdded));
			    CHECK((!done || landed == kReplaced + kAdded));
		    } };
	s.kill_repairer = true;
	CHECK(walk_crash_points(s) >= 100);
}

TEST_CASE("a KeyValue remove batch killed anywhere removes all of its keys or none", "[batch][crash][kv]")
{
	SCTEST_NEEDS_HOOKS();
	Scenario s{ "kv remove batch", options(4, 16 << 20),
		    [](sc_cache *c) {
			    for (int k : batch_keys()) {
				    const std::string v = value_of(k, 0, kSize);
				    REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_bytes(v.data(), kSize)) == 0);
			    }
		    },
		    [](sc_cache *c) {
			    // Keys 0 .. 11, one of them twice, and one that is not there.
			    std::vector<sc_field> keys;
			    for (int k = 0; k < kReplaced; k++)
				    keys.push_back(sc_int(k));
			    keys.push_back(sc_int(3));
			    keys.push_back(sc_int(500));
			    sc_kv_remove_batch(c, "ns", keys.data(), keys.size());
		    },
		    [](sc_cache *c, bool done) {
			    int gone = 0;
			    for (int k : batch_keys()) {
				    const std::string v = kv_value(c, k);
				    CHECK((v.empty() || v == value_of(k, 0, kSize)));
				    if (k >= kReplaced)
					    CHECK(!v.empty());
				    else
					    gone += v.empty();
			    }
			    CHECK((gone == 0 || gone == kReplaced));
			    CHECK((!done || gone == kReplaced));
		    } };
	s.kill_repairer = true;
	CHECK(walk_crash_points(s) >= 50);
}

TEST_CASE("a remove batch works in a cache too full for its intent", "[batch][kv][memory]")
{
	Cache c(unique_name("rmfull"), options(2, 8 << 20));
	REQUIRE(c.start_error() == 0);
	std::vector<std::string> values;
	int n = 0;
	for (;; n++) {
		const std::string v = value_of(n, 0, 100);
		if (sc_kv_add(c, "ns", sc_int(n), sc_bytes(v.data(), 100)) == -ENOSPC)
			break;
	}
	REQUIRE(n > 1000);
	std::vector<sc_field> keys;
	for (int k = 0; k < 1000; k++)
		keys.push_back(sc_int(k));
	CHECK(sc_kv_remove_batch(c, "ns", keys.data(), keys.size()) == 1000);
	CHECK(sc_kv_count(c, "ns") == n - 1000);
	check_clean(c);
}

TEST_CASE("a remove batch counts each pair that went once", "[batch][kv]")
{
	Cache c(unique_name("rmbatch"), options(4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 10; k++)
		REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_int(k)) == 0);
	const sc_field keys[] = { sc_int(1), sc_int(2), sc_int(1), sc_int(42), sc_int(9) };
	CHECK(sc_kv_remove_batch(c, "ns", keys, 5) == 3);
	CHECK(sc_kv_count(c, "ns") == 7);
	CHECK(sc_kv_remove_batch(c, "ns", keys, 5) == 0);
	check_clean(c);
}

TEST_CASE("an ordered_set batch that evicts at the memory limit, killed anywhere, is all there or not at all",
	  "[batch][crash][eviction]")
{
	SCTEST_NEEDS_HOOKS();
	const size_t size = 2000;
	const int n = 8;
	sc_options o = options(2, 8 << 20);
	o.max_readers = 16;
	o.table_type = SC_ORDERED_SET;
	o.eviction = SC_EVICTION_CLOCK;
	static int filled; // keys 0 .. filled - 1 were put before the batch
	Scenario s{ "evicting batch", o, [size](sc_cache *c) { filled = fill_until_evicting(c, size); },
		    [size](sc_cache *c) {
			    Batch b(n);
			    for (int k = filled; k < filled + n; k++)
				    b.add(k, 0, size);
			    sc_put_batch(c, b.data(), b.size());
		    },
		    [size](sc_cache *c, bool done) {
			    int landed = 0, present = 0;
			    for (int k = 0; k < filled + n; k++) {
				    const bool there = version_of(c, k, size) == 0; // whole, or gone
				    present += there;
				    landed += there && k >= filled;
			    }
			    CHECK((landed == 0 || landed == n));
			    CHECK((!done || landed == n));
			    CHECK(Stats(c)->total.records == static_cast<uint64_t>(present));
		    } };
	CHECK(walk_crash_points(s) >= 50);
}

TEST_CASE("an ordered_set batch short of room for its tree evicts and builds the tree again",
	  "[batch][eviction]")
{
	SCTEST_NEEDS_HOOKS();
	// Tiny tuples: the tree's nodes, not the records, run out of room first.
	sc_options o = options(1, 8 << 20);
	o.table_type = SC_ORDERED_SET;
	o.eviction = SC_EVICTION_CLOCK;
	Cache c(unique_name("batchtree"), o);
	REQUIRE(c.start_error() == 0);
	uint64_t before = sctest_batch_tree_rebuilds();
	int key = 0;
	// Until batches evict, then until one of them has to build its tree again.
	while ((Stats(c)->total.evictions == 0 || sctest_batch_tree_rebuilds() == before) && key < 2000000) {
		if (Stats(c)->total.evictions == 0)
			before = sctest_batch_tree_rebuilds();
		std::vector<sc_field> fields;
		std::vector<sc_tuple> tuples(500);
		fields.reserve(1000);
		for (int i = 0; i < 500; i++, key++) {
			fields.push_back(sc_int(key));
			fields.push_back(sc_int(-key));
			tuples[i] = sc_tuple{ 2, &fields[fields.size() - 2] };
		}
		REQUIRE(sc_put_batch(c, tuples.data(), tuples.size()) == 0);
	}
	INFO("keys put " << key << ", evictions " << Stats(c)->total.evictions);
	CHECK(sctest_batch_tree_rebuilds() > before);
	// The batch that rebuilt its tree is all there.
	for (int k = key - 500; k < key; k++)
		CHECK(records_of(c, k) == 1);
	check_clean(c);
}

TEST_CASE("a batch that does not fit writes nothing and says ENOSPC", "[batch][memory]")
{
	Cache c(unique_name("batchfull"), options(4, 8 << 20));
	REQUIRE(c.start_error() == 0);
	const size_t size = 3000;
	int k = 0;
	int err = 0;
	while ((err = put_value(c, k, 0, size)) == 0)
		k++;
	REQUIRE(err == -ENOSPC);
	const uint64_t records = Stats(c)->total.records;
	// Small tuples fit in what the big ones left; the big ones of the batch cannot.
	Batch b(64);
	for (int i = 0; i < 32; i++)
		b.add(100000 + i, 0, 40);
	for (int i = 32; i < 64; i++)
		b.add(100000 + i, 0, size);
	REQUIRE(sc_put_batch(c, b.data(), b.size()) == -ENOSPC);
	for (int i = 0; i < 64; i++)
		CHECK(version_of(c, 100000 + i, i < 32 ? 40 : size) == -1);
	CHECK(Stats(c)->total.records == records);
	check_clean(c);
	// With room made, the small half goes in whole.
	for (int i = 0; i < 100; i++)
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(i))) == 1);
	Batch small(32);
	for (int i = 0; i < 32; i++)
		small.add(100000 + i, 0, 40);
	REQUIRE(sc_put_batch(c, small.data(), small.size()) == 0);
	for (int i = 0; i < 32; i++)
		CHECK(version_of(c, 100000 + i, 40) == 0);
	check_clean(c);
}
