// test_partitions.cpp — the seed's partition-addressed operations: by partition data, by the key, by index.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

// The number of tuples sc_get_partition_by_idx() finds for key in each partition, as a string "0010".
static std::string where(sc_cache *c, sc_field key, uint32_t partitions)
{
	std::string s;
	for (uint32_t i = 0; i < partitions; i++) {
		sc_tuples *t = nullptr;
		int n = sc_get_partition_by_idx(c, key, i, &t);
		sc_tuples_free(t);
		s += n < 0 ? '!' : static_cast<char>('0' + n);
	}
	return s;
}

TEST_CASE("by index: put, get and delete in the partition named", "[partitions]")
{
	Cache c(unique_name("byidx"), options(4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put_partition_by_idx(c, SC_TUPLE(sc_str("k"), sc_int(1)), 2) == 0);
	CHECK(where(c, sc_str("k"), 4) == "0010");
	sc_tuples *t = nullptr;
	REQUIRE(sc_get_partition_by_idx(c, sc_str("k"), 2, &t) == 1);
	CHECK(t->tuples[0].fields[1].v.i == 1);
	sc_tuples_free(t);
	CHECK(Stats(c)->partitions[2].records == 1);
	CHECK(sc_delete_partition_by_idx(c, sc_str("k"), 1) == 0);
	CHECK(sc_delete_partition_by_idx(c, sc_str("k"), 2) == 1);
	CHECK(where(c, sc_str("k"), 4) == "0000");

	CHECK(sc_put_partition_by_idx(c, SC_TUPLE(sc_str("k")), 4) == -ERANGE);
	CHECK(contains(sc_last_error(), "partition 4 is out of range"));
	CHECK(sc_get_partition_by_idx(c, sc_str("k"), 99, &t) == -ERANGE);
	CHECK(t == nullptr);
	CHECK(sc_delete_partition_by_idx(c, sc_str("k"), UINT32_MAX) == -ERANGE);
}

TEST_CASE("by partition data: the partition is the one that data picks", "[partitions]")
{
	sc_options o = options(8, 16 << 20);
	o.key_pos = 1;
	o.partition_pos = 2;
	Cache c(unique_name("bydata"), o);
	REQUIRE(c.start_error() == 0);
	// A tuple put the ordinary way lands where its partition field points.
	REQUIRE(sc_put(c, SC_TUPLE(sc_str("user"), sc_int(1), sc_str("eu"), sc_str("Alice"))) == 0);
	const uint32_t eu = sctest_partition_of(c, SC_TUPLE(sc_int(0), sc_int(0), sc_str("eu")));
	std::string expect(8, '0');
	expect[eu] = '1';
	CHECK(where(c, sc_int(1), 8) == expect);

	sc_tuples *t = nullptr;
	REQUIRE(sc_get_by_key_partition(c, sc_int(1), sc_str("eu"), &t) == 1);
	CHECK(str_field(t->tuples[0], 3) == "Alice");
	sc_tuples_free(t);
	REQUIRE(sc_get_partition(c, sc_int(1), sc_str("eu"), &t) == 1);
	sc_tuples_free(t);

	// put_partition picks the partition from the data it is given, not from the tuple's field,
	// and needs no partition field at all.
	REQUIRE(sc_put_partition(c, SC_TUPLE(sc_str("user"), sc_int(2)), sc_str("eu")) == 0);
	REQUIRE(sc_get_by_key_partition(c, sc_int(2), sc_str("eu"), &t) == 1);
	CHECK(t->tuples[0].nfields == 2);
	sc_tuples_free(t);
	CHECK(sc_put_partition(c, SC_TUPLE(sc_str("user")), sc_str("eu")) == -EINVAL);
	CHECK(contains(sc_last_error(), "key_pos"));

	CHECK(sc_delete_partition(c, sc_int(2), sc_str("eu")) == 1);
	CHECK(sc_delete_by_key_partition(c, sc_int(1), sc_str("eu")) == 1);
	CHECK(sc_delete_by_key_partition(c, sc_int(1), sc_str("eu")) == 0);
	CHECK(Stats(c)->total.records == 0);
}

TEST_CASE("same key partition: the key is its own partition data", "[partitions]")
{
	sc_options o = options(8, 16 << 20);
	o.partition_pos = 1; // tuples are routed by field 1, so the key's own partition differs
	Cache c(unique_name("samekey"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put_partition(c, SC_TUPLE(sc_str("k"), sc_str("other")), sc_str("k")) == 0);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get_same_key_partition(c, sc_str("k"), &t) == 1);
	sc_tuples_free(t);
	CHECK(sc_delete_same_key_partition(c, sc_str("k")) == 1);
	CHECK(sc_get_same_key_partition(c, sc_str("k"), &t) == 0);
}

TEST_CASE("partition-addressed calls refuse bad keys, partition data and handles", "[partitions][errors]")
{
	Cache c(unique_name("paerrors"), options(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;
	sc_field bad = sc_int(1);
	bad.type = 42;

	CHECK(sc_get_by_key_partition(c, bad, sc_int(1), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "key has unknown type 42"));
	CHECK(sc_get_by_key_partition(c, sc_int(1), bad, &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "partition data has unknown type 42"));
	CHECK(sc_get_same_key_partition(c, sc_any(), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "key is a pattern field"));
	CHECK(sc_put_partition(c, SC_TUPLE(sc_int(1)), sc_capture(1)) == -EINVAL);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_any())) == -EINVAL);
	CHECK(contains(sc_last_error(), "field 1 is a pattern field"));
	CHECK(sc_delete_same_key_partition(c, sc_bytes(nullptr, 3)) == -EINVAL);
	CHECK(sc_get_partition_by_idx(c, sc_int(1), 0, nullptr) == -EINVAL);
	CHECK(sc_get_same_key_partition(nullptr, sc_int(1), &t) == -EINVAL);
	CHECK(sc_put_partition_by_idx(nullptr, SC_TUPLE(sc_int(1)), 0) == -EINVAL);
	CHECK(sc_delete_partition(nullptr, sc_int(1), sc_int(1)) == -EINVAL);
	CHECK(t == nullptr);
	CHECK(Stats(c)->total.records == 0);
}
