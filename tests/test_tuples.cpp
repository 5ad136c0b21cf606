// test_tuples.cpp — put, get, delete, delete_all, put_batch, zero-copy views and stats of a set table.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

static sc_options small_cache(uint32_t partitions = 4)
{
	return options(partitions, 64 << 20);
}

TEST_CASE("put then get copies the tuple out", "[tuples]")
{
	Cache c(unique_name("putget"), small_cache());
	REQUIRE(c.start_error() == 0);

	REQUIRE(sc_put(c, SC_TUPLE(sc_str("user"), sc_int(1), sc_str("Alice"), sc_dbl(2.5))) == 0);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_str("user")), &t) == 1);
	REQUIRE(t != nullptr);
	REQUIRE(t->count == 1);
	const sc_tuple &u = t->tuples[0];
	REQUIRE(u.nfields == 4);
	CHECK(u.fields[0].type == SC_FIELD_BYTES);
	CHECK(str_field(u, 0) == "user");
	CHECK(u.fields[1].type == SC_FIELD_INT);
	CHECK(u.fields[1].v.i == 1);
	CHECK(str_field(u, 2) == "Alice");
	CHECK(std::strcmp(static_cast<const char *>(u.fields[2].v.p), "Alice") == 0); // NUL-terminated
	CHECK(u.fields[3].type == SC_FIELD_DOUBLE);
	CHECK(u.fields[3].v.d == 2.5);
	sc_tuples_free(t);

	// A miss: 0, and no result to free.
	t = reinterpret_cast<sc_tuples *>(0x1);
	REQUIRE(sc_get(c, SC_TUPLE(sc_str("nobody")), &t) == 0);
	CHECK(t == nullptr);
	sc_tuples_free(nullptr);
}

TEST_CASE("a set keeps one tuple per key: put replaces", "[tuples]")
{
	Cache c(unique_name("replace"), small_cache());
	REQUIRE(c.start_error() == 0);
	for (int v = 0; v < 100; v++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(42), sc_int(v))) == 0);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(42)), &t) == 1);
	CHECK(t->tuples[0].fields[1].v.i == 99);
	sc_tuples_free(t);
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == 1);
		CHECK(s->total.puts == 100);
	}
}

TEST_CASE("keys of different types or bits are different keys", "[tuples]")
{
	Cache c(unique_name("keytypes"), small_cache());
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("int"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_dbl(1.0), sc_str("double"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_bytes("\x01\0\0\0\0\0\0\0", 8), sc_str("bytes"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_dbl(0.0), sc_str("+0"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_dbl(-0.0), sc_str("-0"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_str(""), sc_str("empty"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_bytes("a\0b", 3), sc_str("nul inside"))) == 0);

	auto value_of = [&](const sc_tuple *key) {
		sc_tuples *t = nullptr;
		REQUIRE(sc_get(c, key, &t) == 1);
		std::string v = str_field(t->tuples[0], 1);
		sc_tuples_free(t);
		return v;
	};
	CHECK(value_of(SC_TUPLE(sc_int(1))) == "int");
	CHECK(value_of(SC_TUPLE(sc_dbl(1.0))) == "double");
	CHECK(value_of(SC_TUPLE(sc_bytes("\x01\0\0\0\0\0\0\0", 8))) == "bytes");
	CHECK(value_of(SC_TUPLE(sc_dbl(0.0))) == "+0");
	CHECK(value_of(SC_TUPLE(sc_dbl(-0.0))) == "-0");
	CHECK(value_of(SC_TUPLE(sc_str(""))) == "empty");
	CHECK(value_of(SC_TUPLE(sc_bytes("a\0b", 3))) == "nul inside");
	sc_tuples *t = nullptr;
	CHECK(sc_get(c, SC_TUPLE(sc_bytes("a\0c", 3)), &t) == 0);
	CHECK(sc_get(c, SC_TUPLE(sc_str("a")), &t) == 0);
}

TEST_CASE("key_pos and partition_pos pick the key and the partition", "[tuples]")
{
	sc_options o = small_cache(8);
	o.key_pos = 1;
	o.partition_pos = 2;
	Cache c(unique_name("positions"), o);
	REQUIRE(c.start_error() == 0);

	REQUIRE(sc_put(c, SC_TUPLE(sc_str("user"), sc_int(1), sc_str("eu"), sc_str("Alice"))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_str("user"), sc_int(2), sc_str("eu"), sc_str("Bob"))) == 0);
	sc_tuples *t = nullptr;
	// The lookup tuple carries the key and the partition data at their positions; field 0 is ignored.
	REQUIRE(sc_get(c, SC_TUPLE(sc_str("ignored"), sc_int(1), sc_str("eu")), &t) == 1);
	CHECK(str_field(t->tuples[0], 3) == "Alice");
	sc_tuples_free(t);
	REQUIRE(sc_delete(c, SC_TUPLE(sc_str("x"), sc_int(2), sc_str("eu"))) == 1);
	CHECK(sc_get(c, SC_TUPLE(sc_str("x"), sc_int(2), sc_str("eu")), &t) == 0);

	// Tuples that are too short get the seed's message.
	CHECK(sc_put(c, SC_TUPLE(sc_str("user"))) == -EINVAL);
	CHECK(contains(sc_last_error(), "tuple size is lower than key_pos"));
	CHECK(contains(sc_last_error(), "tuple has 1 fields, key_pos is 1"));
	CHECK(sc_put(c, SC_TUPLE(sc_str("user"), sc_int(3))) == -EINVAL);
	CHECK(contains(sc_last_error(), "tuple size is lower than partition_pos"));
	CHECK(sc_get(c, SC_TUPLE(sc_str("user")), &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "tuple size is lower than key_pos"));
	CHECK(sc_delete(c, SC_TUPLE(sc_str("user"), sc_int(3))) == -EINVAL);
	CHECK(contains(sc_last_error(), "partition_pos"));
}

TEST_CASE("malformed tuples are refused and write nothing", "[tuples][errors]")
{
	Cache c(unique_name("malformed"), small_cache());
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;

	CHECK(sc_put(c, nullptr) == -EINVAL);
	sc_tuple empty{ 0, nullptr };
	CHECK(sc_put(c, &empty) == -EINVAL);
	sc_tuple nofields{ 2, nullptr };
	CHECK(sc_put(c, &nofields) == -EINVAL);
	sc_field bad = sc_int(1);
	bad.type = 9;
	sc_tuple badt{ 1, &bad };
	CHECK(sc_put(c, &badt) == -EINVAL);
	CHECK(contains(sc_last_error(), "unknown type 9"));
	CHECK(sc_get(c, &badt, &t) == -EINVAL);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_bytes(nullptr, 5))) == -EINVAL);
	CHECK(contains(sc_last_error(), "NULL"));
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_bytes("x", SC_MAX_FIELD_BYTES + 1))) == -E2BIG);
	CHECK(sc_get(c, SC_TUPLE(sc_int(1)), nullptr) == -EINVAL);
	CHECK(sc_put(nullptr, SC_TUPLE(sc_int(1))) == -EINVAL);
	CHECK(sc_get(nullptr, SC_TUPLE(sc_int(1)), &t) == -EINVAL);
	CHECK(sc_delete(nullptr, SC_TUPLE(sc_int(1))) == -EINVAL);
	CHECK(sc_delete_all(nullptr) == -EINVAL);
	CHECK(sc_stats(c, nullptr) == -EINVAL);
	// An empty bytes field with a NULL pointer is fine.
	CHECK(sc_put(c, SC_TUPLE(sc_bytes(nullptr, 0), sc_int(5))) == 0);
	CHECK(sc_get(c, SC_TUPLE(sc_bytes(nullptr, 0)), &t) == 1);
	sc_tuples_free(t);

	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == 1);
	}
}

TEST_CASE("a tuple larger than the cache can hold is E2BIG", "[tuples][errors]")
{
	sc_options o = options(1, 16 << 20);
	Cache c(unique_name("toobig"), o);
	REQUIRE(c.start_error() == 0);
	std::vector<char> big(17 << 20, 'x');
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_bytes(big.data(), static_cast<uint32_t>(big.size())))) ==
	      -E2BIG);
	CHECK(contains(sc_last_error(), "holds records of at most"));
}

TEST_CASE("large records live in spans of their own and are reused after delete", "[tuples]")
{
	sc_options o = small_cache(2);
	Cache c(unique_name("large"), o);
	REQUIRE(c.start_error() == 0);
	for (uint32_t size : { 70u * 1024, 200u * 1024, 1024u * 1024 }) {
		std::string v(size, 'a');
		for (size_t i = 0; i < v.size(); i++)
			v[i] = static_cast<char>('a' + i % 26);
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(size), sc_bytes(v.data(), size))) == 0);
		sc_tuples *t = nullptr;
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(size)), &t) == 1);
		CHECK(str_field(t->tuples[0], 1) == v);
		sc_tuples_free(t);
	}
	// Rewriting a 1 MiB value many times must not grow the segment: retired spans come back.
	std::string v(1024 * 1024, 'z');
	auto rewrite = [&](int rounds) {
		for (int round = 0; round < rounds; round++)
			REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_bytes(v.data(), static_cast<uint32_t>(
											 v.size())))) == 0);
	};
	auto memory_used = [&]() {
		Stats s(c);
		REQUIRE(s.error() == 0);
		return s->memory_used;
	};
	rewrite(40);
	const uint64_t used = memory_used();
	rewrite(200);
	CHECK(memory_used() == used);
}

TEST_CASE("running out of memory is a clean ENOSPC, and freeing makes room again", "[tuples][errors]")
{
	sc_options o = options(1, 16 << 20);
	Cache c(unique_name("enospc"), o);
	REQUIRE(c.start_error() == 0);
	std::string v(1000, 'v');
	int i = 0, err = 0;
	for (; i < 100000 && err == 0; i++)
		err = sc_put(c, SC_TUPLE(sc_int(i), sc_bytes(v.data(), 1000)));
	REQUIRE(err == -ENOSPC);
	CHECK(contains(sc_last_error(), "memory_limit"));
	const int stored = i - 1;
	CHECK(stored > 10000);
	// Everything acknowledged is still there.
	sc_tuples *t = nullptr;
	for (int k = 0; k < stored; k += 97) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(k)), &t) == 1);
		sc_tuples_free(t);
	}
	REQUIRE(sc_delete_all(c) == 0);
	for (int k = 0; k < stored / 2; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(v.data(), 1000))) == 0);
}

TEST_CASE("delete removes one key; delete_all empties every partition", "[tuples]")
{
	Cache c(unique_name("delete"), small_cache(4));
	REQUIRE(c.start_error() == 0);
	for (int i = 0; i < 1000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_int(i * i))) == 0);
	CHECK(sc_delete(c, SC_TUPLE(sc_int(5))) == 1);
	CHECK(sc_delete(c, SC_TUPLE(sc_int(5))) == 0);
	CHECK(sc_delete(c, SC_TUPLE(sc_int(5000))) == 0);
	sc_tuples *t = nullptr;
	CHECK(sc_get(c, SC_TUPLE(sc_int(5)), &t) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(6)), &t) == 1);
	sc_tuples_free(t);

	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == 999);
		CHECK(s->total.deletes == 1);
	}

	REQUIRE(sc_delete_all(c) == 0);
	for (int i = 0; i < 1000; i++)
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(i)), &t) == 0);
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == 0);
		CHECK(s->total.bytes == 0);
		CHECK(s->total.deletes == 1000);
		for (uint32_t p = 0; p < s->num_partition; p++)
			CHECK(s->partitions[p].records == 0);
	}
	// The cache works after delete_all.
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_int(2))) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(1)), &t) == 1);
	sc_tuples_free(t);
}

TEST_CASE("put_batch stores every tuple, and refuses a bad batch whole", "[tuples][batch]")
{
	Cache c(unique_name("batch"), small_cache(4));
	REQUIRE(c.start_error() == 0);
	const int n = 10000;
	std::vector<sc_field> fields(2 * n);
	std::vector<sc_tuple> batch(n);
	for (int i = 0; i < n; i++) {
		fields[2 * i] = sc_int(i);
		fields[2 * i + 1] = sc_int(-i);
		batch[i] = sc_tuple{ 2, &fields[2 * i] };
	}
	REQUIRE(sc_put_batch(c, batch.data(), n) == 0);
	sc_tuples *t = nullptr;
	for (int i = 0; i < n; i++) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(i)), &t) == 1);
		REQUIRE(t->tuples[0].fields[1].v.i == -i);
		sc_tuples_free(t);
	}
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == static_cast<uint64_t>(n));
		CHECK(s->total.puts == static_cast<uint64_t>(n));
		for (uint32_t p = 0; p < 4; p++)
			CHECK(s->partitions[p].records > 0);
	}

	// A later duplicate key in one batch wins, as n puts in order would.
	sc_field dup[4] = { sc_int(7), sc_int(1), sc_int(7), sc_int(2) };
	sc_tuple dups[2] = { { 2, &dup[0] }, { 2, &dup[2] } };
	REQUIRE(sc_put_batch(c, dups, 2) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(7)), &t) == 1);
	CHECK(t->tuples[0].fields[1].v.i == 2);
	sc_tuples_free(t);

	// One bad tuple: nothing of the batch is written, and the message says which.
	sc_field good[2] = { sc_int(-1), sc_int(0) };
	sc_field bad = sc_int(0);
	bad.type = 0;
	sc_tuple mixed[3] = { { 2, good }, { 1, &bad }, { 2, good } };
	CHECK(sc_put_batch(c, mixed, 3) == -EINVAL);
	CHECK(contains(sc_last_error(), "batch tuple 1"));
	CHECK(sc_get(c, SC_TUPLE(sc_int(-1)), &t) == 0);

	CHECK(sc_put_batch(c, nullptr, 0) == 0);
	CHECK(sc_put_batch(c, nullptr, 3) == -EINVAL);
}

static int record_view(const sc_tuple *t, void *arg)
{
	auto *seen = static_cast<std::vector<const sc_tuple *> *>(arg);
	seen->push_back(t);
	return 0;
}

struct ViewCapture {
	const char *value = nullptr;
	uint32_t len = 0;
};

static int capture_value(const sc_tuple *t, void *arg)
{
	auto *cap = static_cast<ViewCapture *>(arg);
	cap->value = static_cast<const char *>(t->fields[1].v.p);
	cap->len = t->fields[1].len;
	return 0;
}

static int stop_with(const sc_tuple *, void *arg)
{
	return *static_cast<int *>(arg);
}

TEST_CASE("get_view hands out tuples in shared memory, valid for the read section", "[tuples][view]")
{
	Cache c(unique_name("view"), small_cache(1));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_str("first value"))) == 0);

	std::vector<const sc_tuple *> seen;
	REQUIRE(sc_get_view(c, SC_TUPLE(sc_str("k")), record_view, &seen) == 1);
	CHECK(seen.size() == 1);
	CHECK(sc_get_view(c, SC_TUPLE(sc_str("absent")), record_view, &seen) == 0);
	CHECK(seen.size() == 1);

	// Inside an explicit section a view survives the key being overwritten again and again:
	// the old record is retired, but not reused until the section ends.
	ViewCapture cap;
	REQUIRE(sc_read_begin(c) == 0);
	REQUIRE(sc_read_begin(c) == 0); // sections nest
	REQUIRE(sc_get_view(c, SC_TUPLE(sc_str("k")), capture_value, &cap) == 1);
	std::string filler(200, 'f');
	for (int i = 0; i < 20000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_bytes(filler.data(), 200))) == 0);
	sc_read_end(c);
	CHECK(std::string(cap.value, cap.len) == "first value");
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.retired_bytes > 20000u * 200);
	}
	sc_read_end(c);
	// Once the section is over, the next writes reclaim the backlog.
	for (int i = 0; i < 2000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_bytes(filler.data(), 200))) == 0);
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.retired_bytes < 512u * 1024);
	}

	int stop = -42;
	CHECK(sc_get_view(c, SC_TUPLE(sc_str("k")), stop_with, &stop) == -42);
	stop = 5;
	CHECK(sc_get_view(c, SC_TUPLE(sc_str("k")), stop_with, &stop) == 1);
	CHECK(sc_get_view(c, SC_TUPLE(sc_str("k")), nullptr, nullptr) == -EINVAL);
	// Ending a section that is not open is ignored.
	sc_read_end(c);
	CHECK(sc_read_begin(nullptr) == -EINVAL);
	sc_read_end(nullptr);
}

TEST_CASE("a view of a tuple with many fields", "[tuples][view]")
{
	Cache c(unique_name("widetuple"), small_cache(1));
	REQUIRE(c.start_error() == 0);
	std::vector<sc_field> f;
	for (int i = 0; i < 100; i++)
		f.push_back(sc_int(i));
	sc_tuple wide{ 100, f.data() };
	REQUIRE(sc_put(c, &wide) == 0);
	std::vector<const sc_tuple *> seen;
	int64_t sum = 0;
	auto add = [](const sc_tuple *t, void *arg) -> int {
		for (uint32_t i = 0; i < t->nfields; i++)
			*static_cast<int64_t *>(arg) += t->fields[i].v.i;
		return 0;
	};
	REQUIRE(sc_get_view(c, SC_TUPLE(sc_int(0)), add, &sum) == 1);
	CHECK(sum == 4950);
}

TEST_CASE("stats count puts, gets, hits and deletes per partition", "[tuples][stats]")
{
	Cache c(unique_name("stats"), small_cache(4));
	REQUIRE(c.start_error() == 0);
	uint64_t puts[4] = {}, gets[4] = {}, hits[4] = {}, dels[4] = {};
	sc_tuples *t = nullptr;
	for (int i = 0; i < 400; i++) {
		uint32_t p = sctest_partition_of(c, SC_TUPLE(sc_int(i)));
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_str("value"))) == 0);
		puts[p]++;
	}
	for (int i = 0; i < 800; i++) {
		uint32_t p = sctest_partition_of(c, SC_TUPLE(sc_int(i)));
		int r = sc_get(c, SC_TUPLE(sc_int(i)), &t);
		sc_tuples_free(t);
		gets[p]++;
		hits[p] += r == 1;
	}
	for (int i = 0; i < 100; i++) {
		uint32_t p = sctest_partition_of(c, SC_TUPLE(sc_int(i)));
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(i))) == 1);
		dels[p]++;
	}
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		REQUIRE(s->num_partition == 4);
		CHECK(s->memory_limit == (64u << 20));
		CHECK(s->memory_used > 0);
		CHECK(s->readers == 1);
		for (uint32_t p = 0; p < 4; p++) {
			CHECK(s->partitions[p].puts == puts[p]);
			CHECK(s->partitions[p].gets == gets[p]);
			CHECK(s->partitions[p].hits == hits[p]);
			CHECK(s->partitions[p].deletes == dels[p]);
			CHECK(s->partitions[p].records == puts[p] - dels[p]);
			CHECK(s->partitions[p].index_capacity >= s->partitions[p].records);
			CHECK(s->partitions[p].bytes >=
			      s->partitions[p].records * sctest_record_header_size());
		}
		CHECK(s->total.gets == 800);
		CHECK(s->total.hits == 400);
	}
}

TEST_CASE("gets counted by a thread that has exited are kept", "[tuples][stats]")
{
	Cache c(unique_name("foldstats"), small_cache(2));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1))) == 0);
	std::thread th([&] {
		sc_tuples *t = nullptr;
		for (int i = 0; i < 50; i++) {
			sc_get(c, SC_TUPLE(sc_int(1)), &t);
			sc_tuples_free(t);
		}
	});
	th.join();
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.gets == 50);
		CHECK(s->total.hits == 50);
		CHECK(s->readers == 1); // the exited thread's slot was given back; this one is ours
	}
}

TEST_CASE("random operations agree with a model", "[tuples][model]")
{
	const uint32_t seed = 12345;
	INFO("seed " << seed);
	std::mt19937 rng(seed);
	Cache c(unique_name("model"), small_cache(3));
	REQUIRE(c.start_error() == 0);
	std::map<int64_t, std::string> model;
	sc_tuples *t = nullptr;
	for (int step = 0; step < 200000; step++) {
		int64_t key = rng() % 5000;
		switch (rng() % 4) {
		case 0:
		case 1: {
			std::string v(rng() % 300, static_cast<char>('a' + rng() % 26));
			REQUIRE(sc_put(c, SC_TUPLE(sc_int(key), sc_bytes(v.data(), static_cast<uint32_t>(
											   v.size())))) == 0);
			model[key] = v;
			break;
		}
		case 2:
			REQUIRE(sc_delete(c, SC_TUPLE(sc_int(key))) == static_cast<int>(model.erase(key)));
			break;
		default: {
			int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
			auto it = model.find(key);
			REQUIRE(r == (it != model.end() ? 1 : 0));
			if (r == 1)
				REQUIRE(str_field(t->tuples[0], 1) == it->second);
			sc_tuples_free(t);
		}
		}
	}
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == model.size());
	}
}

TEST_CASE("corrupt offsets in the segment give -EUCLEAN, never a crash", "[tuples][corrupt]")
{
	Cache c(unique_name("corrupt"), small_cache(1));
	REQUIRE(c.start_error() == 0);
	for (int i = 0; i < 100; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_str("v"))) == 0);
	sc_tuples *t = nullptr;
	const uint64_t saved = sctest_index_off(c, 0);

	SECTION("index beyond the segment")
	{
		sctest_set_index_off(c, 0, sctest_map_len(c) + 4096);
		CHECK(sc_get(c, SC_TUPLE(sc_int(1)), &t) == -EUCLEAN);
		CHECK(sc_put(c, SC_TUPLE(sc_int(1))) == -EUCLEAN);
		CHECK(sc_delete(c, SC_TUPLE(sc_int(1))) == -EUCLEAN);
		sctest_set_index_off(c, 0, 64); // inside the header, not an index
		CHECK(sc_get(c, SC_TUPLE(sc_int(1)), &t) == -EUCLEAN);
		sctest_set_index_off(c, 0, saved + 8); // misaligned
		CHECK(sc_get(c, SC_TUPLE(sc_int(1)), &t) == -EUCLEAN);
	}
	// Gets of every key: how many found the damage, -EUCLEAN; all others must succeed.
	auto corrupt_gets = [&]() {
		int bad = 0;
		for (int i = 0; i < 100; i++) {
			int r = sc_get(c, SC_TUPLE(sc_int(i)), &t);
			if (r == 1)
				sc_tuples_free(t);
			else
				bad += r == -EUCLEAN;
		}
		return bad;
	};
	SECTION("an entry naming a record outside the heap")
	{
		uint32_t old = sctest_redirect_first_entry(c, 0, 0xfffffff0u);
		CHECK(corrupt_gets() >= 1);
		sctest_redirect_first_entry(c, 0, old);
	}
	SECTION("a record whose length runs off the heap")
	{
		sctest_set_first_record_len(c, 0, 0xffffff00u);
		CHECK(corrupt_gets() >= 1);
	}
	sctest_set_index_off(c, 0, saved);
}
