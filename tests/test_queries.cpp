// test_queries.cpp — pattern matches, match_object, delete_by_match and scans, with their ETS semantics.
#include <catch2/catch.hpp>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

static sc_options query_cache(uint32_t type = SC_SET, uint32_t partitions = 4)
{
	sc_options o = options(partitions, 64 << 20);
	o.table_type = type;
	return o;
}

// A result's tuples rendered as "a,1|b,2" (ints as numbers, bytes as text), in result order.
static std::string render(const sc_tuples *t)
{
	std::string s;
	for (size_t i = 0; t && i < t->count; i++) {
		if (i)
			s += '|';
		for (uint32_t f = 0; f < t->tuples[i].nfields; f++) {
			const sc_field &x = t->tuples[i].fields[f];
			if (f)
				s += ',';
			s += x.type == SC_FIELD_INT ? std::to_string(x.v.i)
						    : std::string(static_cast<const char *>(x.v.p), x.len);
		}
	}
	return s;
}

// Run a query that fills an sc_tuples, check its count, and render the result.
template <typename Query> static std::string run(Query q)
{
	sc_tuples *t = nullptr;
	int n = q(&t);
	REQUIRE(n >= 0);
	REQUIRE(static_cast<size_t>(n) == (t ? t->count : 0));
	std::string s = render(t);
	sc_tuples_free(t);
	return s;
}

TEST_CASE("get_by_match returns captures by number, match_object whole tuples", "[queries]")
{
	Cache c(unique_name("match"), query_cache(SC_SET, 1));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("user"), sc_str("Alice"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(2), sc_str("admin"), sc_str("Bob"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(3), sc_str("user"), sc_str("Carol"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(4), sc_str("user"))) == 0); // other size: never matches

	// '$2' comes before '$1' in the tuple; the result lists $1 first, as :ets.match does.
	std::string m = run([&](sc_tuples **t) {
		return sc_get_by_match(c, nullptr, SC_TUPLE(sc_capture(2), sc_str("user"), sc_capture(1)), t);
	});
	CHECK((m == "Alice,1|Carol,3" || m == "Carol,3|Alice,1"));
	m = run([&](sc_tuples **t) {
		return sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_str("admin"), sc_any()), t);
	});
	CHECK(m == "2,admin,Bob");
	// No captures: one empty tuple per match.
	sc_tuples *t = nullptr;
	REQUIRE(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_any(), sc_any()), &t) == 3);
	CHECK(t->tuples[0].nfields == 0);
	sc_tuples_free(t);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_str("nobody"), sc_any()), &t) == 0);
	CHECK(t == nullptr);
	// Exact matching, as ETS: 1.0 is not 1.
	CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_dbl(1.0), sc_any(), sc_any()), &t) == 0);
}

TEST_CASE("a capture used twice must bind equal values", "[queries]")
{
	Cache c(unique_name("samecap"), query_cache(SC_SET, 2));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("x"), sc_str("x"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(2), sc_str("x"), sc_str("y"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(3), sc_int(5), sc_int(5))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(4), sc_int(5), sc_dbl(5.0))) == 0);
	std::string m = run([&](sc_tuples **t) {
		return sc_get_by_match(c, nullptr, SC_TUPLE(sc_capture(7), sc_capture(9), sc_capture(9)), t);
	});
	CHECK((m == "1,x|3,5" || m == "3,5|1,x"));
}

TEST_CASE("a pattern with a bound key touches only that key's records", "[queries]")
{
	Cache c(unique_name("boundkey"), query_cache(SC_SET, 1));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 100; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k * 2))) == 0);
	// A damaged record elsewhere in the partition: a whole-partition walk trips over it.
	REQUIRE(sctest_damage_record_of(c, 0, 42) == 0);
	sc_tuples *t = nullptr;
	CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_int(14)), &t) == -EUCLEAN);
	CHECK(run([&](sc_tuples **out) {
		      return sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_int(7), sc_any()), out);
	      }) == "7,14");
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_int(7), sc_any())) == 1);
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(14))) == -EUCLEAN);
}

TEST_CASE("partition data confines a query to one partition", "[queries][partitions]")
{
	Cache c(unique_name("qpart"), query_cache(SC_SET, 8));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 200; k++)
		REQUIRE(sc_put_partition(c, SC_TUPLE(sc_int(k), sc_str(k % 2 ? "odd" : "even")),
					 sc_str(k % 2 ? "odd" : "even")) == 0);
	sc_field odd = sc_str("odd"), even = sc_str("even");
	sc_tuples *t = nullptr;
	CHECK(sc_get_by_match(c, &odd, SC_TUPLE(sc_capture(1), sc_any()), &t) == 100);
	for (size_t i = 0; i < t->count; i++)
		CHECK(t->tuples[i].fields[0].v.i % 2 == 1);
	sc_tuples_free(t);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t) == 200);
	sc_tuples_free(t);
	CHECK(sc_delete_by_match(c, &even, SC_TUPLE(sc_any(), sc_str("odd"))) == 0);
	CHECK(sc_delete_by_match(c, &even, SC_TUPLE(sc_any(), sc_any())) == 100);
	CHECK(Stats(c)->total.records == 100);
}

TEST_CASE("bags: matches give each key's tuples in put order", "[queries][bag]")
{
	Cache c(unique_name("bagmatch"), query_cache(SC_DUPLICATE_BAG, 1));
	REQUIRE(c.start_error() == 0);
	for (const char *v : { "c", "a", "b", "a" })
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str(v))) == 0);
	REQUIRE(sc_delete(c, SC_TUPLE(sc_int(9))) == 0);
	CHECK(run([&](sc_tuples **t) {
		      return sc_get_by_match(c, nullptr, SC_TUPLE(sc_int(1), sc_capture(1)), t);
	      }) == "c|a|b|a");
	CHECK(run([&](sc_tuples **t) {
		      return sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_capture(1)), t);
	      }) == "c|a|b|a");
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_str("a"))) == 2);
	CHECK(run([&](sc_tuples **t) { return sc_get(c, SC_TUPLE(sc_int(1)), t); }) == "1,c|1,b");
}

TEST_CASE("delete_by_match walks bucket by bucket, through the index shrinking under it", "[queries]")
{
	Cache c(unique_name("delmatch"), query_cache(SC_SET, 1));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 20000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k % 10))) == 0);
	const uint64_t before = Stats(c)->total.index_capacity;
	// Every key goes, which shrinks the index several times while the walk goes on.
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_capture(1))) == 20000);
	CHECK(Stats(c)->total.records == 0);
	CHECK(Stats(c)->total.index_capacity < before);
	for (int k = 0; k < 20000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k % 10))) == 0);
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(3))) == 2000);
	for (int v = 4; v < 10; v++)
		CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(v))) == 2000);
	CHECK(Stats(c)->total.records == 6000);
	sc_tuples *t = nullptr;
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(5)), &t) == 0);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(2)), &t) == 2000);
	sc_tuples_free(t);
}

struct Sum {
	int64_t total = 0;
	int seen = 0;
	int stop_after = -1;
	int fail_after = -1;
};

static int add_up(const sc_tuple *t, void *acc)
{
	auto *s = static_cast<Sum *>(acc);
	s->total += t->fields[1].v.i;
	s->seen++;
	if (s->seen == s->fail_after)
		return -ECANCELED;
	return s->seen == s->stop_after ? 1 : 0;
}

TEST_CASE("scan folds a callback over every tuple, of one partition or all", "[queries][scan]")
{
	Cache c(unique_name("scan"), query_cache(SC_SET, 4));
	REQUIRE(c.start_error() == 0);
	for (int k = 1; k <= 1000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k))) == 0);
	Sum sum;
	CHECK(sc_scan(c, nullptr, add_up, &sum) == 1000);
	CHECK(sum.total == 500500);

	Sum stop;
	stop.stop_after = 10;
	CHECK(sc_scan(c, nullptr, add_up, &stop) == 10);
	CHECK(stop.seen == 10);
	Sum fail;
	fail.fail_after = 3;
	CHECK(sc_scan(c, nullptr, add_up, &fail) == -ECANCELED);

	// One partition: exactly the tuples whose partition field picks it.
	sc_field pdata = sc_int(77);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(77)));
	Sum one;
	CHECK(sc_scan(c, &pdata, add_up, &one) == static_cast<int>(Stats(c)->partitions[part].records));
	Cache empty(unique_name("scanempty"), query_cache());
	REQUIRE(empty.start_error() == 0);
	Sum none;
	CHECK(sc_scan(empty, nullptr, add_up, &none) == 0);
}

TEST_CASE("queries refuse bad patterns, partition data and arguments", "[queries][errors]")
{
	Cache c(unique_name("qerrors"), query_cache());
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;
	sc_field bad = sc_int(0);
	bad.type = 17;
	CHECK(sc_get_by_match(c, nullptr, nullptr, &t) == -EINVAL);
	sc_tuple empty{ 0, nullptr };
	CHECK(sc_get_by_match(c, nullptr, &empty, &t) == -EINVAL);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_capture(0)), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "captures $0"));
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_capture(256)), &t) == -EINVAL);
	CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), bad), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "pattern field 1 has unknown type 17"));
	CHECK(sc_get_by_match(c, &bad, SC_TUPLE(sc_any()), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "partition data"));
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any()), nullptr) == -EINVAL);
	CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_capture(-1))) == -EINVAL);
	CHECK(sc_scan(c, nullptr, nullptr, nullptr) == -EINVAL);
	CHECK(sc_scan(nullptr, nullptr, add_up, nullptr) == -EINVAL);
	CHECK(sc_get_by_match(nullptr, nullptr, SC_TUPLE(sc_any()), &t) == -EINVAL);
	CHECK(t == nullptr);
	// Pattern fields are for patterns only.
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_capture(1))) == -EINVAL);
	CHECK(sc_get(c, SC_TUPLE(sc_any()), &t) == -EINVAL);
}
