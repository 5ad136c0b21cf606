// test_ordered.cpp — ordered_set: ETS term order, key equality by value, order across partitions, and a model.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

// A key as the tests see it: a number (int or double) or bytes.
struct Key {
	uint32_t type;
	int64_t i;
	double d;
	std::string s;

	sc_field field() const
	{
		if (type == SC_FIELD_INT)
			return sc_int(i);
		if (type == SC_FIELD_DOUBLE)
			return sc_dbl(d);
		return sc_bytes(s.data(), static_cast<uint32_t>(s.size()));
	}
	static Key of(const sc_field &f)
	{
		if (f.type == SC_FIELD_INT)
			return { SC_FIELD_INT, f.v.i, 0, "" };
		if (f.type == SC_FIELD_DOUBLE)
			return { SC_FIELD_DOUBLE, 0, f.v.d, "" };
		return { SC_FIELD_BYTES, 0, 0, std::string(static_cast<const char *>(f.v.p), f.len) };
	}
	bool same_term(const Key &o) const // =:=
	{
		return type == o.type && i == o.i && std::signbit(d) == std::signbit(o.d) && d == o.d &&
		       s == o.s;
	}
};

// The oracle: ETS term order, written independently of the library. long double holds every int64_t and
// every double exactly, so numbers compare by value without rounding.
struct TermLess {
	static long double value(const Key &k)
	{
		return k.type == SC_FIELD_INT ? static_cast<long double>(k.i) : k.d;
	}
	bool operator()(const Key &a, const Key &b) const
	{
		bool ab = a.type == SC_FIELD_BYTES, bb = b.type == SC_FIELD_BYTES;
		if (ab != bb)
			return bb;
		if (!ab)
			return value(a) < value(b);
		return a.s < b.s; // std::string orders bytes as unsigned chars, a prefix first
	}
};

static sc_options ordered(uint32_t partitions)
{
	sc_options o = options(partitions, 64 << 20);
	o.table_type = SC_ORDERED_SET;
	return o;
}

static int collect_keys(const sc_tuple *t, void *acc)
{
	static_cast<std::vector<Key> *>(acc)->push_back(Key::of(t->fields[0]));
	return 0;
}

static std::vector<Key> scanned_keys(sc_cache *c)
{
	std::vector<Key> keys;
	REQUIRE(sc_scan(c, nullptr, collect_keys, &keys) >= 0);
	return keys;
}

static bool in_order(const std::vector<Key> &keys)
{
	for (size_t i = 1; i < keys.size(); i++)
		if (!TermLess()(keys[i - 1], keys[i]))
			return false;
	return true;
}

TEST_CASE("ordered_set orders keys as ETS orders terms, across every partition", "[ordered]")
{
	Cache c(unique_name("order"), ordered(4));
	REQUIRE(c.start_error() == 0);
	const std::string long_prefix(20, 'p'); // longer than the prefix an index entry keeps
	std::vector<sc_field> keys = { sc_str("b"),    sc_int(10),   sc_dbl(2.5),	  sc_str(""),
				       sc_int(-3),     sc_str("a"),  sc_dbl(-1e300),	  sc_int(INT64_MAX),
				       sc_dbl(9.3e18), sc_str("ab"), sc_bytes("\xff", 1), sc_int(INT64_MIN),
				       sc_dbl(1e300) };
	std::vector<std::string> longs = { long_prefix + "b", long_prefix, long_prefix + "a",
					   long_prefix + "ab" };
	for (const std::string &s : longs)
		keys.push_back(sc_bytes(s.data(), static_cast<uint32_t>(s.size())));
	for (const sc_field &k : keys)
		REQUIRE(sc_put(c, SC_TUPLE(k, sc_str("v"))) == 0);
	std::vector<Key> got = scanned_keys(c);
	REQUIRE(got.size() == keys.size());
	CHECK(in_order(got));
	// Numbers by value whatever their type, with no rounding in between: -1e300 < INT64_MIN, and
	// INT64_MAX < 9.3e18 < 1e300; then bytes, "" first and "\xff" last.
	size_t n_numbers = 0;
	while (n_numbers < got.size() && got[n_numbers].type != SC_FIELD_BYTES)
		n_numbers++;
	REQUIRE(n_numbers == 8);
	CHECK(got[0].d == -1e300);
	CHECK(got[1].i == INT64_MIN);
	CHECK(got[5].i == INT64_MAX);
	CHECK(got[6].d == 9.3e18);
	CHECK(got[7].d == 1e300);
	CHECK(got[8].s.empty());
	CHECK(got.back().s == "\xff");
}

TEST_CASE("ordered_set keys are equal by value: 1 and 1.0, 0.0 and -0.0", "[ordered]")
{
	Cache c(unique_name("byvalue"), ordered(4));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("int"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_dbl(1.0), sc_str("double"))) == 0); // replaces: the same key
	CHECK(Stats(c)->total.records == 1);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(1)), &t) == 1);
	CHECK(t->tuples[0].fields[0].type == SC_FIELD_DOUBLE); // the tuple as last put
	CHECK(str_field(t->tuples[0], 1) == "double");
	sc_tuples_free(t);
	REQUIRE(sc_put(c, SC_TUPLE(sc_dbl(-0.0), sc_str("minus zero"))) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(0)), &t) == 1);
	sc_tuples_free(t);
	REQUIRE(sc_get_same_key_partition(c, sc_dbl(0.0), &t) == 1);
	sc_tuples_free(t);
	// A pattern's key field is looked up, and compared, the same way.
	REQUIRE(sc_get_by_match(c, nullptr, SC_TUPLE(sc_int(1), sc_capture(1)), &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "double");
	sc_tuples_free(t);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_str("minus zero")), &t) == 1);
	sc_tuples_free(t);
	CHECK(sc_delete(c, SC_TUPLE(sc_dbl(1.0))) == 1);
	CHECK(sc_delete(c, SC_TUPLE(sc_int(0))) == 1);
	CHECK(Stats(c)->total.records == 0);
	// NaN has no place in the order.
	CHECK(sc_put(c, SC_TUPLE(sc_dbl(NAN), sc_str("x"))) == -EINVAL);
	CHECK(contains(sc_last_error(), "NaN"));
	CHECK(sc_get(c, SC_TUPLE(sc_dbl(NAN)), &t) == -EINVAL);
	CHECK(sc_delete_same_key_partition(c, sc_dbl(NAN)) == -EINVAL);
	CHECK(sc_put(c, SC_TUPLE(sc_int(2), sc_dbl(NAN))) == 0); // only keys need an order
}

TEST_CASE("ordered_set matches come in key order across partitions", "[ordered][queries]")
{
	Cache c(unique_name("omatch"), ordered(4));
	REQUIRE(c.start_error() == 0);
	std::mt19937 rng(5);
	for (int i = 0; i < 2000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(static_cast<int64_t>(rng() % 100000)), sc_int(i % 3))) ==
			0);
	sc_tuples *t = nullptr;
	int n = sc_get_by_match(c, nullptr, SC_TUPLE(sc_capture(1), sc_int(1)), &t);
	REQUIRE(n > 100);
	for (int i = 1; i < n; i++)
		REQUIRE(t->tuples[i - 1].fields[0].v.i < t->tuples[i].fields[0].v.i);
	sc_tuples_free(t);
	CHECK(in_order(scanned_keys(c)));
	// Within one partition, too.
	sc_field pdata = sc_int(7);
	std::vector<Key> keys;
	REQUIRE(sc_scan(c, &pdata, collect_keys, &keys) >= 0);
	CHECK(in_order(keys));
	// delete_by_match, and what is left stays in order.
	const int before = static_cast<int>(Stats(c)->total.records);
	const int gone = sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(2)));
	CHECK(gone > 100);
	CHECK(static_cast<int>(Stats(c)->total.records) == before - gone);
	CHECK(sc_get_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_int(2)), &t) == 0);
	CHECK(in_order(scanned_keys(c)));
}

TEST_CASE("ordered_set grows and shrinks its tree through 100k keys", "[ordered]")
{
	Cache c(unique_name("bigtree"), ordered(1));
	REQUIRE(c.start_error() == 0);
	std::mt19937_64 rng(77);
	std::map<int64_t, int64_t> model;
	for (int i = 0; i < 100000; i++) {
		int64_t k = static_cast<int64_t>(rng() % 1000000);
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(i))) == 0);
		model[k] = i;
	}
	CHECK(Stats(c)->total.records == model.size());
	std::vector<Key> keys = scanned_keys(c);
	REQUIRE(keys.size() == model.size());
	size_t at = 0;
	for (const auto &kv : model)
		REQUIRE(keys[at++].i == kv.first);
	// Delete nine in ten: underfull nodes merge; the index shrinks with the data.
	const uint64_t grown = Stats(c)->total.index_capacity;
	int deleted = 0;
	for (auto it = model.begin(); it != model.end();) {
		if (deleted++ % 10 != 0) {
			REQUIRE(sc_delete(c, SC_TUPLE(sc_int(it->first))) == 1);
			it = model.erase(it);
		} else {
			++it;
		}
	}
	keys = scanned_keys(c);
	REQUIRE(keys.size() == model.size());
	at = 0;
	for (const auto &kv : model)
		REQUIRE(keys[at++].i == kv.first);
	CHECK(Stats(c)->total.index_capacity * 3 < grown); // nodes merge once under a quarter full
	sc_tuples *t = nullptr;
	for (const auto &kv : model) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(kv.first)), &t) == 1);
		REQUIRE(t->tuples[0].fields[1].v.i == kv.second);
		sc_tuples_free(t);
	}
	REQUIRE(sc_delete_all(c) == 0);
	CHECK(Stats(c)->total.index_capacity == 0);
	CHECK(scanned_keys(c).empty());
}

// 100k random operations on keys of every kind against std::map with the oracle's order.
TEST_CASE("ordered_set: 100k random operations agree with a model", "[ordered][model]")
{
	const uint32_t seed = 404;
	INFO("seed " << seed << " (rerun with this seed to reproduce)");
	std::mt19937 rng(seed);
	Cache c(unique_name("omodel"), ordered(3));
	REQUIRE(c.start_error() == 0);
	std::map<Key, std::pair<Key, std::string>, TermLess> model; // key -> (the key as put, value)
	const std::string shared(20, 's');
	auto random_key = [&]() -> Key {
		switch (rng() % 4) {
		case 0:
			return { SC_FIELD_INT, static_cast<int64_t>(rng() % 101) - 50, 0, "" };
		case 1: // integral doubles collide with the ints; halves and -0.0 do not collide with them
			return { SC_FIELD_DOUBLE, 0, (static_cast<double>(rng() % 201) - 100) / 2, "" };
		case 2:
			return { SC_FIELD_BYTES, 0, 0, shared + std::to_string(rng() % 60) };
		default:
			return { SC_FIELD_BYTES, 0, 0,
				 std::string(rng() % 3, 'a') + std::to_string(rng() % 5) };
		}
	};
	auto get_value = [&](const Key &k, std::string *value, Key *stored) {
		sc_tuples *t = nullptr;
		int n = sc_get(c, SC_TUPLE(k.field()), &t);
		REQUIRE(n >= 0);
		if (n == 1) {
			*value = str_field(t->tuples[0], 1);
			*stored = Key::of(t->tuples[0].fields[0]);
		}
		sc_tuples_free(t);
		return n;
	};
	for (int step = 0; step < 100000; step++) {
		INFO("step " << step);
		Key k = random_key();
		uint32_t dice = rng() % 100;
		if (dice < 55) {
			std::string v = std::to_string(rng() % 7);
			REQUIRE(sc_put(c, SC_TUPLE(k.field(), sc_bytes(v.data(), static_cast<uint32_t>(
											 v.size())))) == 0);
			model[k] = { k, v };
		} else if (dice < 80) {
			REQUIRE(sc_delete(c, SC_TUPLE(k.field())) == static_cast<int>(model.erase(k)));
		} else if (dice < 82) {
			std::string v = std::to_string(rng() % 7);
			int expect = 0;
			for (auto it = model.begin(); it != model.end();)
				it = it->second.second == v ? (expect++, model.erase(it)) : std::next(it);
			REQUIRE(sc_delete_by_match(
					c, nullptr,
					SC_TUPLE(sc_any(), sc_bytes(v.data(), static_cast<uint32_t>(
										      v.size())))) == expect);
		}
		std::string value;
		Key stored{};
		auto it = model.find(k);
		REQUIRE(get_value(k, &value, &stored) == (it == model.end() ? 0 : 1));
		if (it != model.end()) {
			REQUIRE(value == it->second.second);
			REQUIRE(stored.same_term(it->second.first)); // the key exactly as it was last put
		}
		if (step % 1000 == 999) {
			std::vector<Key> keys = scanned_keys(c);
			REQUIRE(keys.size() == model.size());
			size_t at = 0;
			for (const auto &kv : model)
				REQUIRE(keys[at++].same_term(kv.second.first));
			REQUIRE(Stats(c)->total.records == model.size());
		}
	}
}
