// test_kv.cpp — KeyValue namespaces: every call and its errors, isolation from tuples, batches racing single calls.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// The value of key in namespace kv as an int, or the given miss value (-1 by default) when absent.
int64_t int_value(sc_cache *c, const char *kv, sc_field key, int64_t miss = -1)
{
	sc_tuples *t = nullptr;
	int n = sc_kv_get(c, kv, key, nullptr, &t);
	int64_t v = n == 1 && t && t->tuples[0].nfields == 1 ? t->tuples[0].fields[0].v.i : n < 0 ? n : miss;
	sc_tuples_free(t);
	return v;
}

std::set<int64_t> int_keys(sc_cache *c, const char *kv)
{
	sc_tuples *t = nullptr;
	std::set<int64_t> keys;
	int n = sc_kv_keys(c, kv, &t);
	for (int i = 0; i < n; i++)
		keys.insert(t->tuples[i].fields[0].v.i);
	sc_tuples_free(t);
	return keys;
}

} // namespace

TEST_CASE("kv: add, get with a default, remove, count and listings", "[kv]")
{
	Cache c(unique_name("kv"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);

	REQUIRE(sc_kv_add(c, "session", sc_str("user_1"), sc_str("Alice")) == 0);
	REQUIRE(sc_kv_add(c, "session", sc_int(2), sc_str("Bob")) == 0);
	REQUIRE(sc_kv_add(c, "session", sc_dbl(2.0), sc_int(20)) == 0);

	sc_tuples *t = nullptr;
	REQUIRE(sc_kv_get(c, "session", sc_str("user_1"), nullptr, &t) == 1);
	REQUIRE(t->count == 1);
	CHECK(str_field(t->tuples[0], 0) == "Alice");
	sc_tuples_free(t);
	// Keys compare exactly: 2 and 2.0 are different keys.
	CHECK(int_value(c, "session", sc_dbl(2.0)) == 20);
	REQUIRE(sc_kv_get(c, "session", sc_int(2), nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "Bob");
	sc_tuples_free(t);

	// A missing key: 0, and the default if one was given.
	t = reinterpret_cast<sc_tuples *>(1);
	CHECK(sc_kv_get(c, "session", sc_str("nobody"), nullptr, &t) == 0);
	CHECK(t == nullptr);
	sc_field dflt = sc_str("guest");
	REQUIRE(sc_kv_get(c, "session", sc_str("nobody"), &dflt, &t) == 0);
	REQUIRE(t);
	CHECK(str_field(t->tuples[0], 0) == "guest");
	sc_tuples_free(t);

	// add replaces.
	REQUIRE(sc_kv_add(c, "session", sc_int(2), sc_str("Robert")) == 0);
	REQUIRE(sc_kv_get(c, "session", sc_int(2), &dflt, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "Robert");
	sc_tuples_free(t);
	CHECK(sc_kv_count(c, "session") == 3);

	REQUIRE(sc_kv_to_list(c, "session", &t) == 3);
	std::set<std::string> pairs;
	for (size_t i = 0; i < t->count; i++) {
		const sc_tuple &p = t->tuples[i];
		REQUIRE(p.nfields == 2);
		std::string k = p.fields[0].type == SC_FIELD_BYTES ? str_field(p, 0)
				: p.fields[0].type == SC_FIELD_INT ? "i" + std::to_string(p.fields[0].v.i)
								   : "d" + std::to_string(p.fields[0].v.d);
		std::string v = p.fields[1].type == SC_FIELD_BYTES ? str_field(p, 1)
								   : std::to_string(p.fields[1].v.i);
		pairs.insert(k + "=" + v);
	}
	sc_tuples_free(t);
	CHECK(pairs == std::set<std::string>{ "user_1=Alice", "i2=Robert", "d2.000000=20" });

	REQUIRE(sc_kv_values(c, "session", &t) == 3);
	CHECK(t->tuples[0].nfields == 1);
	sc_tuples_free(t);
	REQUIRE(sc_kv_keys(c, "session", &t) == 3);
	CHECK(t->tuples[0].nfields == 1);
	sc_tuples_free(t);

	CHECK(sc_kv_remove(c, "session", sc_int(2)) == 1);
	CHECK(sc_kv_remove(c, "session", sc_int(2)) == 0);
	CHECK(sc_kv_count(c, "session") == 2);
	CHECK(sc_kv_remove_all(c, "session") == 2);
	CHECK(sc_kv_count(c, "session") == 0);
	REQUIRE(sc_kv_keys(c, "session", &t) == 0);
	CHECK(t == nullptr);
}

TEST_CASE("kv: namespaces are independent, even when one name extends another", "[kv]")
{
	Cache c(unique_name("kvns"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	for (int i = 0; i < 100; i++) {
		REQUIRE(sc_kv_add(c, "a", sc_int(i), sc_int(i)) == 0);
		REQUIRE(sc_kv_add(c, "ab", sc_int(i), sc_int(-i)) == 0);
	}
	REQUIRE(sc_kv_add(c, "a\xff", sc_int(1), sc_int(7)) == 0);
	CHECK(sc_kv_count(c, "a") == 100);
	CHECK(sc_kv_count(c, "ab") == 100);
	CHECK(int_value(c, "a", sc_int(5)) == 5);
	CHECK(int_value(c, "ab", sc_int(5)) == -5);
	CHECK(sc_kv_remove_all(c, "a") == 100);
	CHECK(sc_kv_count(c, "a") == 0);
	CHECK(sc_kv_count(c, "ab") == 100);
	CHECK(int_value(c, "a\xff", sc_int(1)) == 7);
	CHECK(sc_kv_count(c, "never-used") == 0);
}

TEST_CASE("kv: bad input is refused with a message and writes nothing", "[kv]")
{
	Cache c(unique_name("kverr"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;
	const std::string long_name(256, 'n');

	CHECK(sc_kv_add(c, nullptr, sc_int(1), sc_int(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "KeyValue namespace is NULL"));
	CHECK(sc_kv_add(c, "", sc_int(1), sc_int(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "a name has 1 to 255"));
	CHECK(sc_kv_add(c, long_name.c_str(), sc_int(1), sc_int(1)) == -EINVAL);
	CHECK(sc_kv_add(c, std::string(255, 'n').c_str(), sc_int(1), sc_int(1)) == 0);
	CHECK(sc_kv_add(c, "kv", sc_any(), sc_int(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "key is a pattern field"));
	CHECK(sc_kv_add(c, "kv", sc_int(1), sc_capture(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "value is a pattern field"));
	CHECK(sc_kv_add(c, "kv", sc_int(1), sc_bytes(nullptr, 3)) == -EINVAL);
	CHECK(sc_kv_get(c, "kv", sc_int(1), nullptr, nullptr) == -EINVAL);
	sc_field bad = sc_any();
	CHECK(sc_kv_get(c, "kv", sc_int(1), &bad, &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "default is a pattern field"));
	CHECK(sc_kv_keys(c, "kv", nullptr) == -EINVAL);
	CHECK(sc_kv_count(c, nullptr) == -EINVAL);
	CHECK(sc_kv_remove(c, "kv", sc_any()) == -EINVAL);
	CHECK(sc_kv_remove_all(c, "") == -EINVAL);
	CHECK(sc_kv_add(nullptr, "kv", sc_int(1), sc_int(1)) == -EINVAL);

	CHECK(sc_kv_add_batch(c, "kv", nullptr, 2) == -EINVAL);
	CHECK(sc_kv_add_batch(c, "kv", nullptr, 0) == 0);
	sc_kv_pair pairs[3] = { { sc_int(1), sc_int(1) }, { sc_int(2), sc_int(2) }, { sc_int(3), sc_any() } };
	CHECK(sc_kv_add_batch(c, "kv", pairs, 3) == -EINVAL);
	CHECK(contains(sc_last_error(), "batch pair 2: value is a pattern field"));
	pairs[2].value = sc_int(3);
	pairs[1].key = sc_capture(2);
	CHECK(sc_kv_add_batch(c, "kv", pairs, 3) == -EINVAL);
	CHECK(contains(sc_last_error(), "batch pair 1: key is a pattern field"));
	CHECK(sc_kv_count(c, "kv") == 0);
	CHECK(sc_kv_remove_batch(c, "kv", nullptr, 1) == -EINVAL);
	CHECK(sc_kv_add_batch(c, nullptr, pairs, 3) == -EINVAL);
	CHECK(sc_kv_count(c, "kv") == 0);
}

TEST_CASE("kv: batches take each partition's lock once and apply in the batch's order", "[kv]")
{
	const uint32_t parts = 4;
	Cache c(unique_name("kvbatch"), options(parts, 256 << 20));
	REQUIRE(c.start_error() == 0);
	std::vector<sc_kv_pair> pairs;
	for (int i = 0; i < 10000; i++)
		pairs.push_back({ sc_int(i), sc_int(i * 2) });
	// Key 7 twice: the later pair wins.
	pairs.push_back({ sc_int(7), sc_int(-7) });

	const uint64_t locks_before = Stats(c)->structures.locks;
	REQUIRE(sc_kv_add_batch(c, "big", pairs.data(), pairs.size()) == 0);
	const uint64_t locks = Stats(c)->structures.locks - locks_before;
	CHECK(locks <= parts);
	CHECK(locks >= parts - 1); // 10k keys spread over the partitions: a namespace is no hot partition
	CHECK(Stats(c)->structures.records == 10000);
	CHECK(sc_kv_count(c, "big") == 10000);
	CHECK(int_value(c, "big", sc_int(7)) == -7);
	CHECK(int_value(c, "big", sc_int(9999)) == 19998);

	std::vector<sc_field> gone;
	for (int i = 0; i < 10000; i += 2)
		gone.push_back(sc_int(i));
	gone.push_back(sc_int(123456)); // never there
	REQUIRE(sc_kv_remove_batch(c, "big", gone.data(), gone.size()) == 5000);
	CHECK(sc_kv_count(c, "big") == 5000);
	CHECK(int_value(c, "big", sc_int(2)) == -1);
	CHECK(int_value(c, "big", sc_int(3)) == 6);
}

TEST_CASE("kv: pairs never show up in the tuple API, whatever the table type and positions", "[kv]")
{
	for (uint32_t type : { SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG }) {
		INFO("table type " << type);
		sc_options o = options(3, 64 << 20);
		o.table_type = type;
		o.key_pos = 1;
		o.partition_pos = 2;
		Cache c(unique_name("kviso"), o);
		REQUIRE(c.start_error() == 0);
		for (int i = 0; i < 200; i++)
			REQUIRE(sc_kv_add(c, "ns", sc_int(i), sc_int(i)) == 0);
		REQUIRE(sc_put(c, SC_TUPLE(sc_str("t"), sc_int(1), sc_int(1))) == 0);

		sc_tuples *t = nullptr;
		CHECK(sc_get_same_key_partition(c, sc_int(5), &t) == 0);
		int visited = sc_scan(
			c, nullptr, [](const sc_tuple *, void *) { return 0; }, nullptr);
		CHECK(visited == 1);
		CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t) == 0);
		CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any(), sc_any()), &t) == 1);
		sc_tuples_free(t);
		{
			Stats s(c);
			CHECK(s->total.records == 1);
			CHECK(s->structures.records == 200);
		}
		REQUIRE(sc_delete_all(c) == 0);
		CHECK(sc_kv_count(c, "ns") == 200);
		CHECK(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_any())) == 0);
		CHECK(int_value(c, "ns", sc_int(199)) == 199);
	}
}

TEST_CASE("kv: batches racing single adds and removes in other processes lose nothing", "[kv][multiprocess]")
{
	Cache c(unique_name("kvrace"), options(4, 256 << 20));
	REQUIRE(c.start_error() == 0);
	const int keys = 1000, rounds = 200;
	auto *batch_done = static_cast<std::atomic<int> *>(shared_anon(sizeof(std::atomic<int>)));
	new (batch_done) std::atomic<int>(0);
	const std::string name = c.name();

	// The batcher writes every key with its round number; the single writer removes and re-adds keys with
	// negative values. Readers check every value seen is one that some writer wrote for that key.
	ChildGuard batcher(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		std::vector<sc_kv_pair> pairs(keys);
		for (int r = 1; r <= rounds; r++) {
			for (int k = 0; k < keys; k++)
				pairs[k] = { sc_int(k), sc_int(r * 10000 + k) };
			if (sc_kv_add_batch(h, "race", pairs.data(), pairs.size()))
				return 2;
		}
		batch_done->store(1);
		sc_stop(h);
		return 0;
	}));
	ChildGuard single(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		uint64_t x = 88172645463325252ull;
		int i = 0;
		while (!batch_done->load() || i < 1000) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			int k = static_cast<int>(x % keys);
			if ((x >> 20) % 2 == 0) {
				if (sc_kv_remove(h, "race", sc_int(k)) < 0)
					return 2;
			} else if (sc_kv_add(h, "race", sc_int(k), sc_int(-k - 1))) {
				return 3;
			}
			i++;
		}
		sc_stop(h);
		return 0;
	}));
	ChildGuard reader(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		while (!batch_done->load()) {
			for (int k = 0; k < keys; k += 7) {
				int64_t v = int_value(h, "race", sc_int(k), 0);
				if (v < -keys - 1 || (v > 0 && v % 10000 != k) || (v < 0 && v != -k - 1))
					return 2;
			}
		}
		sc_stop(h);
		return 0;
	}));
	CHECK(batcher.wait() == 0);
	CHECK(single.wait() == 0);
	CHECK(reader.wait() == 0);

	// Quiet now: a last batch puts every key back, and all of them are there exactly once.
	std::vector<sc_kv_pair> pairs;
	for (int k = 0; k < keys; k++)
		pairs.push_back({ sc_int(k), sc_int(k) });
	REQUIRE(sc_kv_add_batch(c, "race", pairs.data(), pairs.size()) == 0);
	CHECK(sc_kv_count(c, "race") == keys);
	std::set<int64_t> want;
	for (int k = 0; k < keys; k++)
		want.insert(k);
	CHECK(int_keys(c, "race") == want);
	CHECK(Stats(c)->structures.records == static_cast<uint64_t>(keys));
}

TEST_CASE("kv: a batch with a pair too big for the cache writes nothing", "[kv]")
{
	Cache c(unique_name("kvbig"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string huge(100 << 20, 'h');
	sc_kv_pair pairs[2] = { { sc_int(1), sc_int(1) },
				{ sc_int(2), sc_bytes(huge.data(), static_cast<uint32_t>(huge.size())) } };
	CHECK(sc_kv_add_batch(c, "kv", pairs, 2) == -E2BIG);
	CHECK(contains(sc_last_error(), "batch pair 1"));
	CHECK(sc_kv_count(c, "kv") == 0);
}

TEST_CASE("kv: increment counts over int64 and double, from a default, keeping the time to live; bad input "
	  "writes nothing",
	  "[kv]")
{
	Cache c(unique_name("kvincr"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_field out = {};

	// A missing key starts from the default; each call adds the step and says the sum.
	REQUIRE(sc_kv_increment(c, "n", sc_str("hits"), sc_int(10), sc_int(1), &out) == 0);
	CHECK(out.type == SC_FIELD_INT);
	CHECK(out.v.i == 11);
	REQUIRE(sc_kv_increment(c, "n", sc_str("hits"), sc_int(10), sc_int(-5), &out) == 0);
	CHECK(out.v.i == 6);
	CHECK(int_value(c, "n", sc_str("hits")) == 6);
	REQUIRE(sc_kv_increment(c, "n", sc_str("ratio"), sc_dbl(0.5), sc_dbl(0.25), &out) == 0);
	CHECK(out.type == SC_FIELD_DOUBLE);
	CHECK(out.v.d == 0.75);

	// The time to live stays.
	REQUIRE(sc_kv_add_ttl(c, "n", sc_str("ttl"), sc_int(1), 60000) == 0);
	REQUIRE(sc_kv_increment(c, "n", sc_str("ttl"), sc_int(0), sc_int(1), &out) == 0);
	CHECK(out.v.i == 2);
	uint64_t ttl = 0;
	REQUIRE(sc_kv_ttl(c, "n", sc_str("ttl"), &ttl) == 1);
	CHECK(ttl > 50000);
	CHECK(ttl <= 60000);

	// Unlike types, a value that is not a number, an overflow: refused, and the value stays.
	out = {};
	CHECK(sc_kv_increment(c, "n", sc_str("hits"), sc_int(0), sc_dbl(1.0), &out) == -EINVAL);
	CHECK(contains(sc_last_error(), "the default is an int64, the step a double"));
	CHECK(sc_kv_increment(c, "n", sc_str("hits"), sc_dbl(0), sc_dbl(1.0), &out) == -EINVAL);
	CHECK(contains(sc_last_error(), "the value is an int64, the step a double"));
	CHECK(sc_kv_increment(c, "n", sc_str("hits"), sc_str("0"), sc_str("1"), &out) == -EINVAL);
	CHECK(contains(sc_last_error(), "the step is bytes"));
	REQUIRE(sc_kv_add(c, "n", sc_str("name"), sc_str("alice")) == 0);
	CHECK(sc_kv_increment(c, "n", sc_str("name"), sc_int(0), sc_int(1), &out) == -EINVAL);
	CHECK(contains(sc_last_error(), "the value is bytes"));
	REQUIRE(sc_kv_add(c, "n", sc_str("big"), sc_int(INT64_MAX - 1)) == 0);
	CHECK(sc_kv_increment(c, "n", sc_str("big"), sc_int(0), sc_int(2), &out) == -ERANGE);
	CHECK(out.type == 0);
	CHECK(int_value(c, "n", sc_str("big")) == INT64_MAX - 1);
	CHECK(int_value(c, "n", sc_str("hits")) == 6);
	CHECK(sc_kv_increment(c, "n", sc_str("hits"), sc_int(0), sc_int(1), nullptr) == -EINVAL);
	CHECK(sc_kv_increment(c, nullptr, sc_str("hits"), sc_int(0), sc_int(1), &out) == -EINVAL);
	CHECK(sc_kv_increment(nullptr, "n", sc_str("hits"), sc_int(0), sc_int(1), &out) == -EINVAL);
	CHECK(int_value(c, "n", sc_str("hits")) == 6);

	// Counters are for one value per key: a bag cache refuses them.
	for (uint32_t type : { SC_BAG, SC_DUPLICATE_BAG }) {
		sc_options o = options(2, 16 << 20);
		o.table_type = type;
		Cache bag(unique_name("kvincr-bag"), o);
		REQUIRE(bag.start_error() == 0);
		CHECK(sc_kv_increment(bag, "n", sc_str("k"), sc_int(0), sc_int(1), &out) == -EINVAL);
		CHECK(contains(sc_last_error(), "not supported for bag/duplicate_bag"));
		CHECK(sc_kv_count(bag, "n") == 0);
	}
}

TEST_CASE("kv: increments from several processes at once lose none", "[kv][multiprocess]")
{
	Cache c(unique_name("kvincr-race"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const int procs = 8, each = 2000;
	const std::string name = c.name();
	std::vector<std::unique_ptr<ChildGuard>> children;
	for (int p = 0; p < procs; p++)
		children.push_back(std::make_unique<ChildGuard>(spawn([&] {
			sc_cache *h = nullptr;
			sc_field out;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			for (int i = 0; i < each; i++)
				if (sc_kv_increment(h, "race", sc_str("counter"), sc_int(0), sc_int(1),
						    &out) ||
				    out.v.i < 1 || out.v.i > procs * each)
					return 2;
			sc_stop(h);
			return 0;
		})));
	for (auto &child : children)
		CHECK(child->wait() == 0);
	CHECK(int_value(c, "race", sc_str("counter")) == procs * each);
}
