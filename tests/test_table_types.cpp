// test_table_types.cpp — ETS table types: set, bag and duplicate_bag, each against a model of its semantics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

// A tuple as the tests see it: an int key and a short string value.
struct Row {
	int64_t key;
	std::string value;
	bool operator==(const Row &o) const
	{
		return key == o.key && value == o.value;
	}
};

static sc_options typed(uint32_t type, uint32_t partitions = 3)
{
	sc_options o = options(partitions, 64 << 20);
	o.table_type = type;
	return o;
}

static int put_row(sc_cache *c, const Row &r)
{
	return sc_put(
		c, SC_TUPLE(sc_int(r.key), sc_bytes(r.value.data(), static_cast<uint32_t>(r.value.size()))));
}

// What sc_get returns for key, as rows in the order returned.
static std::vector<Row> get_rows(sc_cache *c, int64_t key)
{
	std::vector<Row> rows;
	sc_tuples *t = nullptr;
	int n = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	REQUIRE(n >= 0);
	REQUIRE(static_cast<size_t>(n) == (t ? t->count : 0));
	for (int i = 0; i < n; i++)
		rows.push_back({ t->tuples[i].fields[0].v.i, str_field(t->tuples[i], 1) });
	sc_tuples_free(t);
	return rows;
}

TEST_CASE("bag: distinct tuples per key, in the order they were put", "[types][bag]")
{
	Cache c(unique_name("bag"), typed(SC_BAG));
	REQUIRE(c.start_error() == 0);
	REQUIRE(put_row(c, { 7, "a" }) == 0);
	REQUIRE(put_row(c, { 7, "b" }) == 0);
	REQUIRE(put_row(c, { 7, "a" }) == 0); // identical: nothing happens
	REQUIRE(put_row(c, { 8, "a" }) == 0);
	CHECK(get_rows(c, 7) == std::vector<Row>{ { 7, "a" }, { 7, "b" } });
	CHECK(Stats(c)->total.records == 3);
	CHECK(Stats(c)->total.puts == 4);
	// Same key and text, other type: a different tuple.
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(7), sc_int(1))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(7), sc_dbl(1.0))) == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(7), sc_int(1))) == 0);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(7)), &t) == 4);
	CHECK(t->tuples[2].fields[1].type == SC_FIELD_INT);
	CHECK(t->tuples[3].fields[1].type == SC_FIELD_DOUBLE);
	sc_tuples_free(t);
	// delete removes every tuple of the key.
	CHECK(sc_delete(c, SC_TUPLE(sc_int(7))) == 4);
	CHECK(get_rows(c, 7).empty());
	CHECK(get_rows(c, 8).size() == 1);
	CHECK(Stats(c)->total.deletes == 4);
}

TEST_CASE("duplicate_bag: every tuple kept, in put order, through deletes and growth", "[types][bag]")
{
	Cache c(unique_name("dupbag"), typed(SC_DUPLICATE_BAG, 1));
	REQUIRE(c.start_error() == 0);
	REQUIRE(put_row(c, { 1, "x" }) == 0);
	REQUIRE(put_row(c, { 1, "y" }) == 0);
	REQUIRE(put_row(c, { 1, "x" }) == 0);
	CHECK(get_rows(c, 1) == std::vector<Row>{ { 1, "x" }, { 1, "y" }, { 1, "x" } });
	CHECK(sc_delete(c, SC_TUPLE(sc_int(1))) == 3);
	// Reinserted after a delete, tuples take tombstoned slots ahead of others: order still holds.
	REQUIRE(put_row(c, { 1, "z" }) == 0);
	REQUIRE(put_row(c, { 1, "x" }) == 0);
	CHECK(get_rows(c, 1) == std::vector<Row>{ { 1, "z" }, { 1, "x" } });

	// A thousand tuples under one key, with other keys around them, across index growth.
	std::vector<Row> expect = get_rows(c, 1);
	for (int i = 0; i < 1000; i++) {
		Row r{ 1, std::to_string(i % 37) };
		REQUIRE(put_row(c, r) == 0);
		expect.push_back(r);
		REQUIRE(put_row(c, { 1000 + i, "other" }) == 0);
	}
	CHECK(get_rows(c, 1) == expect);
	CHECK(sc_delete(c, SC_TUPLE(sc_int(1))) == static_cast<int>(expect.size()));
	CHECK(get_rows(c, 1000).size() == 1);
}

static int first_only(const sc_tuple *, void *arg)
{
	++*static_cast<int *>(arg);
	return 1; // stop after the first
}

static int collect_values(const sc_tuple *t, void *arg)
{
	static_cast<std::vector<std::string> *>(arg)->push_back(str_field(*t, 1));
	return 0;
}

TEST_CASE("views of a bag visit its tuples in put order, and can stop early", "[types][bag][view]")
{
	Cache c(unique_name("bagview"), typed(SC_DUPLICATE_BAG));
	REQUIRE(c.start_error() == 0);
	for (const char *v : { "one", "two", "three" })
		REQUIRE(put_row(c, { 5, v }) == 0);
	std::vector<std::string> seen;
	CHECK(sc_get_view(c, SC_TUPLE(sc_int(5)), collect_values, &seen) == 3);
	CHECK(seen == std::vector<std::string>{ "one", "two", "three" });
	int visited = 0;
	CHECK(sc_get_view(c, SC_TUPLE(sc_int(5)), first_only, &visited) == 3);
	CHECK(visited == 1);
	// Partition-addressed reads see the same.
	sc_tuples *t = nullptr;
	CHECK(sc_get_same_key_partition(c, sc_int(5), &t) == 3);
	sc_tuples_free(t);
}

// The semantics each table type promises, in memory.
class Model
{
      public:
	explicit Model(uint32_t type) : type(type)
	{
	}

	void put(const Row &r)
	{
		auto &rows = keys[r.key];
		if (type == SC_SET)
			rows.assign(1, r);
		else if (type == SC_DUPLICATE_BAG || std::find(rows.begin(), rows.end(), r) == rows.end())
			rows.push_back(r);
	}
	size_t erase(int64_t key)
	{
		auto it = keys.find(key);
		size_t n = it == keys.end() ? 0 : it->second.size();
		if (it != keys.end())
			keys.erase(it);
		return n;
	}
	std::vector<Row> get(int64_t key) const
	{
		auto it = keys.find(key);
		return it == keys.end() ? std::vector<Row>{} : it->second;
	}
	size_t records() const
	{
		size_t n = 0;
		for (const auto &k : keys)
			n += k.second.size();
		return n;
	}
	size_t erase_value(const std::string &value)
	{
		size_t n = 0;
		for (auto it = keys.begin(); it != keys.end();) {
			auto &rows = it->second;
			for (auto r = rows.begin(); r != rows.end();)
				r = r->value == value ? (n++, rows.erase(r)) : r + 1;
			it = rows.empty() ? keys.erase(it) : std::next(it);
		}
		return n;
	}
	void clear()
	{
		keys.clear();
	}
	const std::map<int64_t, std::vector<Row>> &all() const
	{
		return keys;
	}

      private:
	uint32_t type;
	std::map<int64_t, std::vector<Row>> keys;
};

// Rows of a result, grouped by key in result order.
static std::map<int64_t, std::vector<Row>> by_key(const sc_tuples *t)
{
	std::map<int64_t, std::vector<Row>> keys;
	for (size_t i = 0; t && i < t->count; i++)
		keys[t->tuples[i].fields[0].v.i].push_back(
			{ t->tuples[i].fields[0].v.i, str_field(t->tuples[i], 1) });
	return keys;
}

static int scan_into(const sc_tuple *t, void *acc)
{
	auto *keys = static_cast<std::map<int64_t, std::vector<Row>> *>(acc);
	(*keys)[t->fields[0].v.i].push_back({ t->fields[0].v.i, str_field(*t, 1) });
	return 0;
}

// The whole cache, two ways: match_object keeps each key's put order; a scan's order is the index's.
static void check_everything(sc_cache *c, const Model &model)
{
	sc_tuples *t = nullptr;
	int n = sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t);
	REQUIRE(n == static_cast<int>(model.records()));
	REQUIRE(by_key(t) == model.all());
	sc_tuples_free(t);
	std::map<int64_t, std::vector<Row>> scanned;
	REQUIRE(sc_scan(c, nullptr, scan_into, &scanned) == static_cast<int>(model.records()));
	for (auto &k : scanned) {
		auto want = model.get(k.first);
		auto order = [](const Row &a, const Row &b) { return a.value < b.value; };
		std::sort(k.second.begin(), k.second.end(), order);
		std::sort(want.begin(), want.end(), order);
		REQUIRE(k.second == want);
	}
	REQUIRE(scanned.size() == model.all().size());
	REQUIRE(Stats(c)->total.records == model.records());
}

static void random_ops_against_model(uint32_t type, uint32_t seed)
{
	INFO("table type " << type << ", seed " << seed << " (rerun with this seed to reproduce)");
	std::mt19937 rng(seed);
	Cache c(unique_name("model"), typed(type));
	REQUIRE(c.start_error() == 0);
	Model model(type);
	const int keys = 500, steps = 100000;
	auto random_row = [&]() {
		return Row{ static_cast<int64_t>(rng() % keys),
			    std::string(rng() % 3, 'v') + std::to_string(rng() % 4) };
	};
	for (int step = 0; step < steps; step++) {
		INFO("step " << step);
		uint32_t dice = rng() % 1000;
		int64_t touched;
		if (dice < 600) {
			Row r = random_row();
			REQUIRE(put_row(c, r) == 0);
			model.put(r);
			touched = r.key;
		} else if (dice < 700) {
			// A batch: one lock per partition, same result as the puts in order.
			std::vector<Row> rows(1 + rng() % 20);
			std::vector<sc_field> fields;
			fields.reserve(2 * rows.size());
			std::vector<sc_tuple> batch;
			for (Row &r : rows) {
				r = random_row();
				fields.push_back(sc_int(r.key));
				fields.push_back(
					sc_bytes(r.value.data(), static_cast<uint32_t>(r.value.size())));
				batch.push_back(sc_tuple{ 2, &fields[fields.size() - 2] });
				model.put(r);
			}
			REQUIRE(sc_put_batch(c, batch.data(), batch.size()) == 0);
			touched = rows.back().key;
		} else if (dice < 780) {
			touched = rng() % keys;
			REQUIRE(sc_delete(c, SC_TUPLE(sc_int(touched))) ==
				static_cast<int>(model.erase(touched)));
		} else if (dice < 880) {
			// A bound key: only its records, in put order.
			touched = rng() % keys;
			sc_tuples *t = nullptr;
			int n = sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_int(touched), sc_any()), &t);
			REQUIRE(n == static_cast<int>(model.get(touched).size()));
			REQUIRE(by_key(t)[touched] == model.get(touched));
			sc_tuples_free(t);
		} else if (dice < 900) {
			std::string value = random_row().value;
			REQUIRE(sc_delete_by_match(
					c, nullptr,
					SC_TUPLE(sc_any(), sc_bytes(value.data(),
								    static_cast<uint32_t>(value.size())))) ==
				static_cast<int>(model.erase_value(value)));
			touched = rng() % keys;
		} else if (dice < 999) {
			touched = rng() % keys;
		} else {
			REQUIRE(sc_delete_all(c) == 0);
			model.clear();
			touched = rng() % keys;
		}
		REQUIRE(get_rows(c, touched) == model.get(touched));
		if (step % 1000 == 999) {
			for (int64_t k = 0; k < keys; k++)
				REQUIRE(get_rows(c, k) == model.get(k));
			check_everything(c, model);
		}
	}
}

TEST_CASE("set: 100k random operations agree with a model", "[types][model]")
{
	random_ops_against_model(SC_SET, 101);
}

TEST_CASE("bag: 100k random operations agree with a model", "[types][model]")
{
	random_ops_against_model(SC_BAG, 202);
}

TEST_CASE("duplicate_bag: 100k random operations agree with a model", "[types][model]")
{
	random_ops_against_model(SC_DUPLICATE_BAG, 303);
}

static int count_view(const sc_tuple *, void *n)
{
	++*static_cast<int *>(n);
	return 0;
}

TEST_CASE("partition-addressed operations and views work on every table type", "[types][partitions]")
{
	// Three puts under one key, two of them identical: what each type keeps of them.
	const std::map<uint32_t, int> kept = {
		{ SC_SET, 1 }, { SC_ORDERED_SET, 1 }, { SC_BAG, 2 }, { SC_DUPLICATE_BAG, 3 }
	};
	for (const auto &tk : kept) {
		INFO("table type " << tk.first);
		Cache c(unique_name("patypes"), typed(tk.first, 4));
		REQUIRE(c.start_error() == 0);
		for (const char *v : { "a", "b", "a" })
			REQUIRE(sc_put_partition_by_idx(c, SC_TUPLE(sc_str("k"), sc_str(v)), 1) == 0);
		sc_tuples *t = nullptr;
		CHECK(sc_get_partition_by_idx(c, sc_str("k"), 1, &t) == tk.second);
		sc_tuples_free(t);
		CHECK(sc_get_partition_by_idx(c, sc_str("k"), 2, &t) == 0);
		REQUIRE(sc_put_partition(c, SC_TUPLE(sc_str("j"), sc_str("x")), sc_str("elsewhere")) == 0);
		CHECK(sc_get_by_key_partition(c, sc_str("j"), sc_str("elsewhere"), &t) == 1);
		sc_tuples_free(t);
		REQUIRE(sc_put(c, SC_TUPLE(sc_str("m"), sc_str("y"))) == 0);
		int seen = 0;
		CHECK(sc_get_view(c, SC_TUPLE(sc_str("m")), count_view, &seen) == 1);
		CHECK(seen == 1);
		seen = 0;
		CHECK(sc_scan(c, nullptr, count_view, &seen) == tk.second + 2);
		CHECK(seen == tk.second + 2);
		CHECK(sc_delete(c, SC_TUPLE(sc_str("m"))) == 1);
		CHECK(sc_delete_partition_by_idx(c, sc_str("k"), 1) == tk.second);
		CHECK(sc_delete_by_key_partition(c, sc_str("j"), sc_str("elsewhere")) == 1);
		CHECK(Stats(c)->total.records == 0);
	}
}
