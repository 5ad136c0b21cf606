// test_kv_table_types.cpp — KeyValue namespaces follow the cache's table_type. set and ordered_set: one
// value per key, an add replaces; an ordered_set lists in key order (ints numerically, bytes as memcmp does,
// a prefix first). bag: distinct values per key, an identical add a no-op; duplicate_bag: every add kept. On
// every type: sc_kv_get the newest value, sc_kv_get_all every value oldest first, the listings with a key's
// values together, sc_kv_remove and the batches taking every value of a key, sc_kv_update, sc_kv_replace and
// sc_kv_update_fn leaving one, a time to live per value, another namespace untouched; and a duplicate_bag's
// keys added to, updated and read by 4 processes at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

const char *type_name(uint32_t type)
{
	static const char *const names[] = { "?", "set", "ordered_set", "bag", "duplicate_bag" };
	return names[type < 5 ? type : 0];
}

// Time to live is about time: wait on the clock the deadlines use until ms have passed since after_ms, a time
// read after the writes whose deadlines it waits out.
void until(uint64_t after_ms, uint64_t ms)
{
	while (clock_ms(CLOCK_MONOTONIC_COARSE) <= after_ms + ms + 1)
		;
}

bool is_bag(uint32_t type)
{
	return type == SC_BAG || type == SC_DUPLICATE_BAG;
}

// A field as text: an int as its digits, a double with a 'd' before, bytes quoted.
std::string show(const sc_field &f)
{
	switch (f.type) {
	case SC_FIELD_INT:
		return std::to_string(f.v.i);
	case SC_FIELD_DOUBLE:
		return "d" + std::to_string(f.v.d);
	case SC_FIELD_BYTES:
		return "'" + std::string(static_cast<const char *>(f.v.p), f.len) + "'";
	}
	return "<type " + std::to_string(f.type) + ">";
}

// A call's result, one string per tuple (its fields joined by '='), then freed. The return must equal the
// count and *out be NULL for 0: an error or a mismatch comes back as one string saying so.
std::vector<std::string> texts(int rc, sc_tuples *t)
{
	std::vector<std::string> out;
	if (rc < 0)
		out.push_back("error " + std::to_string(rc));
	else if (rc == 0 && t)
		out.push_back("returned 0, *out not NULL");
	else if (rc > 0 && (!t || t->count != static_cast<size_t>(rc)))
		out.push_back("returned " + std::to_string(rc) + ", count " +
			      (t ? std::to_string(t->count) : std::string("none")));
	else
		for (size_t i = 0; t && i < t->count; i++) {
			std::string s;
			for (unsigned f = 0; f < t->tuples[i].nfields; f++)
				s += (f ? "=" : "") + show(t->tuples[i].fields[f]);
			out.push_back(s);
		}
	sc_tuples_free(t);
	return out;
}

std::vector<std::string> get_all(sc_cache *c, const char *ns, sc_field key)
{
	sc_tuples *t = nullptr;
	const int rc = sc_kv_get_all(c, ns, key, &t);
	return texts(rc, t);
}

// sc_kv_get's value, "missing" (0 and *out NULL), or what went wrong.
std::string newest(sc_cache *c, const char *ns, sc_field key)
{
	sc_tuples *t = nullptr;
	const int rc = sc_kv_get(c, ns, key, nullptr, &t);
	const std::vector<std::string> v = texts(rc, t);
	return rc == 0 && v.empty() ? "missing" : v.size() == 1 ? v[0] : "returned " + std::to_string(rc);
}

using lister = int (*)(sc_cache *, const char *, sc_tuples **);

std::vector<std::string> listing(lister fn, sc_cache *c, const char *ns)
{
	sc_tuples *t = nullptr;
	const int rc = fn(c, ns, &t);
	return texts(rc, t);
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
	std::sort(v.begin(), v.end());
	return v;
}

std::vector<std::string> ints(const std::vector<int64_t> &v)
{
	std::vector<std::string> out;
	for (int64_t i : v)
		out.push_back(std::to_string(i));
	return out;
}

// What a namespace should hold: each key's values, oldest first, as the table type keeps them.
struct Model {
	uint32_t type;
	std::map<int64_t, std::vector<int64_t>> keys;

	void add(int64_t k, int64_t v)
	{
		std::vector<int64_t> &vals = keys[k];
		if (!is_bag(type))
			vals = { v };
		else if (type == SC_DUPLICATE_BAG || std::find(vals.begin(), vals.end(), v) == vals.end())
			vals.push_back(v);
	}
	int total() const
	{
		int n = 0;
		for (const auto &kv : keys)
			n += static_cast<int>(kv.second.size());
		return n;
	}
};

// The first way a listing of (key, value) rows breaks the model, or "": every value there once, a key's
// values together and oldest first.
std::string rows_problem(const std::vector<std::pair<int64_t, int64_t>> &rows, const Model &m)
{
	std::map<int64_t, std::vector<int64_t>> seen;
	for (size_t i = 0; i < rows.size(); i++) {
		const int64_t k = rows[i].first;
		if ((i == 0 || rows[i - 1].first != k) && seen.count(k))
			return "key " + std::to_string(k) + "'s values are apart";
		seen[k].push_back(rows[i].second);
	}
	for (const auto &kv : m.keys)
		if (seen[kv.first] != kv.second)
			return "key " + std::to_string(kv.first) + "'s values are not the model's";
	return seen.size() == m.keys.size() ? "" : "a key the model does not have is listed";
}

// A listing of ints as (key, value) rows; a value alone is key*100 + j, its row (value / 100, value). A
// failed listing ("error ...") throws from std::stoll, which fails the test.
std::vector<std::pair<int64_t, int64_t>> int_rows(lister fn, sc_cache *c, const char *ns)
{
	std::vector<std::pair<int64_t, int64_t>> rows;
	for (const std::string &s : listing(fn, c, ns)) {
		const size_t eq = s.find('=');
		const int64_t v = std::stoll(eq == std::string::npos ? s : s.substr(eq + 1));
		rows.push_back({ eq == std::string::npos ? v / 100 : std::stoll(s), v });
	}
	return rows;
}

// Records the value it is given and stores it plus 100.
int plus_100(const sc_field *current, void *arg, sc_field *next)
{
	static_cast<std::vector<std::string> *>(arg)->push_back(show(*current));
	if (current->type != SC_FIELD_INT)
		return -EINVAL;
	*next = sc_int(current->v.i + 100);
	return 0;
}

} // namespace

TEST_CASE("kv table types: adds, reads, listings and removes of a namespace follow the table type, and "
	  "another namespace is untouched",
	  "[kv][kv-types]")
{
	for (uint32_t type : every_table_type)
		DYNAMIC_SECTION(type_name(type))
		{
			Cache c(unique_name("kvtt"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			for (int k = 0; k < 30; k++)
				REQUIRE(sc_kv_add(c, "other", sc_int(k), sc_int(-k)) == 0);
			const std::vector<std::string> other = sorted(listing(sc_kv_to_list, c, "other"));
			REQUIRE(other.size() == 30);

			// Key k holds k*100 + j. The adds go round the keys: each key's values come apart in time.
			// Keys divisible by 3 get k*100 again (a no-op on a bag), then a new one, so each key's
			// last add is kept on every type.
			Model m{ type, {} };
			for (int phase = 0; phase < 4; phase++)
				for (int k = 0; k < 30; k++) {
					const int64_t v = k * 100 + (phase == 1 ? 1 : phase == 3 ? 2 : 0);
					if ((phase == 1 && k % 2) || (phase >= 2 && k % 3))
						continue;
					REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_int(v)) == 0);
					m.add(k, v);
				}
			CHECK(m.total() == (type == SC_SET || type == SC_ORDERED_SET ? 30
					    : type == SC_BAG			     ? 55
										     : 65));
			CHECK(sc_kv_count(c, "ns") == m.total());
			for (const auto &kv : m.keys) {
				INFO("key " << kv.first);
				CHECK(get_all(c, "ns", sc_int(kv.first)) == ints(kv.second));
				CHECK(newest(c, "ns", sc_int(kv.first)) == std::to_string(kv.second.back()));
			}
			CHECK(get_all(c, "ns", sc_int(30)).empty());
			CHECK(newest(c, "ns", sc_int(30)) == "missing");

			// Each key listed once; every value, a key's together and oldest first.
			std::vector<int64_t> all_keys;
			for (int k = 0; k < 30; k++)
				all_keys.push_back(k);
			CHECK(sorted(listing(sc_kv_keys, c, "ns")) == sorted(ints(all_keys)));
			CHECK(rows_problem(int_rows(sc_kv_values, c, "ns"), m) == "");
			CHECK(rows_problem(int_rows(sc_kv_to_list, c, "ns"), m) == "");

			// A remove takes every value of its key and says how many.
			for (int k : { 0, 1, 2, 3 }) {
				INFO("key " << k);
				CHECK(sc_kv_remove(c, "ns", sc_int(k)) == static_cast<int>(m.keys[k].size()));
				m.keys.erase(k);
				CHECK(sc_kv_remove(c, "ns", sc_int(k)) == 0);
				CHECK(get_all(c, "ns", sc_int(k)).empty());
			}
			CHECK(sc_kv_count(c, "ns") == m.total());
			CHECK(rows_problem(int_rows(sc_kv_to_list, c, "ns"), m) == "");

			CHECK(sc_kv_remove_all(c, "ns") == m.total());
			CHECK(sc_kv_count(c, "ns") == 0);
			CHECK(listing(sc_kv_keys, c, "ns").empty());
			CHECK(listing(sc_kv_values, c, "ns").empty());
			CHECK(get_all(c, "ns", sc_int(6)).empty());
			CHECK(sorted(listing(sc_kv_to_list, c, "other")) == other);
			CHECK(sc_kv_count(c, "other") == 30);
			REQUIRE(sc_kv_add(c, "ns", sc_int(6), sc_int(1)) == 0);
			CHECK(get_all(c, "ns", sc_int(6)) == ints({ 1 }));
		}
}

TEST_CASE("kv on a bag: an identical add is a no-op, a value differing in type or bytes is kept beside",
	  "[kv][kv-types]")
{
	Cache c(unique_name("kvtt-bag"), typed_options(SC_BAG, 4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	const sc_field a = sc_str("a");

	REQUIRE(sc_kv_add(c, "ns", a, sc_int(1)) == 0);
	REQUIRE(sc_kv_add(c, "ns", a, sc_int(2)) == 0);
	CHECK(sc_kv_add(c, "ns", a, sc_int(1)) == 0);
	CHECK(sc_kv_count(c, "ns") == 2);
	CHECK(get_all(c, "ns", a) == ints({ 1, 2 }));

	// 1, 1.0 and "1" are different values; "1" twice is one.
	REQUIRE(sc_kv_add(c, "ns", a, sc_dbl(1.0)) == 0);
	REQUIRE(sc_kv_add(c, "ns", a, sc_str("1")) == 0);
	CHECK(newest(c, "ns", a) == "'1'");
	CHECK(sc_kv_add(c, "ns", a, sc_str("1")) == 0);
	CHECK(sc_kv_count(c, "ns") == 4);
	CHECK(get_all(c, "ns", a) == std::vector<std::string>{ "1", "2", show(sc_dbl(1.0)), "'1'" });

	// Another key may hold the same value.
	REQUIRE(sc_kv_add(c, "ns", sc_str("b"), sc_int(1)) == 0);
	CHECK(sc_kv_count(c, "ns") == 5);
	CHECK(get_all(c, "ns", sc_str("b")) == ints({ 1 }));
	CHECK(sorted(listing(sc_kv_keys, c, "ns")) == std::vector<std::string>{ "'a'", "'b'" });
	CHECK(listing(sc_kv_values, c, "ns").size() == 5);

	CHECK(sc_kv_remove(c, "ns", a) == 4);
	CHECK(sc_kv_remove(c, "ns", a) == 0);
	CHECK(get_all(c, "ns", a).empty());
	CHECK(sc_kv_count(c, "ns") == 1);
	CHECK(listing(sc_kv_to_list, c, "ns") == std::vector<std::string>{ "'b'=1" });
}

TEST_CASE("kv on a duplicate_bag: every add is kept, identical ones included", "[kv][kv-types]")
{
	Cache c(unique_name("kvtt-dup"), typed_options(SC_DUPLICATE_BAG, 4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	const sc_field a = sc_str("a"), b = sc_str("b");

	for (int64_t v : { 1, 1, 2, 1 }) {
		REQUIRE(sc_kv_add(c, "ns", a, sc_int(v)) == 0);
		CHECK(newest(c, "ns", a) == std::to_string(v));
	}
	REQUIRE(sc_kv_add(c, "ns", b, sc_int(1)) == 0);
	REQUIRE(sc_kv_add(c, "ns", a, sc_int(3)) == 0);
	REQUIRE(sc_kv_add(c, "ns", b, sc_int(1)) == 0);
	CHECK(sc_kv_count(c, "ns") == 7);
	CHECK(get_all(c, "ns", a) == ints({ 1, 1, 2, 1, 3 }));
	CHECK(get_all(c, "ns", b) == ints({ 1, 1 }));
	CHECK(newest(c, "ns", a) == "3");
	CHECK(sorted(listing(sc_kv_keys, c, "ns")) == std::vector<std::string>{ "'a'", "'b'" });
	CHECK(sorted(listing(sc_kv_values, c, "ns")) == ints({ 1, 1, 1, 1, 1, 2, 3 }));
	// Each key's pairs together, oldest first: a's then b's, or b's then a's.
	std::vector<std::string> pairs = listing(sc_kv_to_list, c, "ns");
	if (pairs.size() > 2 && pairs[0] == "'b'=1")
		std::rotate(pairs.begin(), pairs.begin() + 2, pairs.end());
	CHECK(pairs ==
	      std::vector<std::string>{ "'a'=1", "'a'=1", "'a'=2", "'a'=1", "'a'=3", "'b'=1", "'b'=1" });

	CHECK(sc_kv_remove(c, "ns", a) == 5);
	CHECK(sc_kv_count(c, "ns") == 2);
	CHECK(sc_kv_remove(c, "ns", b) == 2);
	CHECK(sc_kv_count(c, "ns") == 0);
}

TEST_CASE("kv on an ordered_set: int keys listed in ascending numeric order", "[kv][kv-types]")
{
	Cache c(unique_name("kvtt-oint"), typed_options(SC_ORDERED_SET, 4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	// 300 distinct keys in [-300, 300), added out of order (119 and 600 are coprime), and the extremes.
	std::vector<int64_t> keys = { INT64_MAX, INT64_MIN, int64_t(1) << 40, -1000000000000, 4096, -4096 };
	for (int i = 0; i < 300; i++)
		keys.push_back((i * 119) % 600 - 300);
	const std::set<int64_t> want(keys.begin(), keys.end());
	REQUIRE(want.size() == keys.size());
	for (int64_t k : keys)
		REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_int(~k)) == 0);
	std::vector<std::string> ks, vs, ps;
	for (int64_t k : want) {
		ks.push_back(std::to_string(k));
		vs.push_back(std::to_string(~k));
		ps.push_back(std::to_string(k) + "=" + std::to_string(~k));
	}
	CHECK(listing(sc_kv_keys, c, "ns") == ks);
	CHECK(listing(sc_kv_values, c, "ns") == vs);
	CHECK(listing(sc_kv_to_list, c, "ns") == ps);
}

TEST_CASE("kv on an ordered_set: byte keys listed in memcmp order, a prefix first", "[kv][kv-types]")
{
	Cache c(unique_name("kvtt-obytes"), typed_options(SC_ORDERED_SET, 4, 16 << 20));
	REQUIRE(c.start_error() == 0);
	using namespace std::string_literals;
	std::vector<std::string> added = { "b"s,   "a\x80"s, "abc"s, "zz"s, "\xff"s, "a"s,
					   "a\0"s, "ba"s,    "B"s,   "ab"s, "aa"s };
	// std::string compares as memcmp does: sorted, these are in this order.
	REQUIRE(sorted(added) == std::vector<std::string>{ "B"s, "a"s, "a\0"s, "aa"s, "ab"s, "abc"s, "a\x80"s,
							   "b"s, "ba"s, "zz"s, "\xff"s });
	for (int i = 299; i >= 0; i--)
		added.push_back("k" + std::to_string(i)); // "k1" before "k10" before "k2"
	for (const std::string &k : added)
		REQUIRE(sc_kv_add(c, "ns", sc_bytes(k.data(), static_cast<uint32_t>(k.size())),
				  sc_int(static_cast<int64_t>(k.size()))) == 0);
	std::vector<std::string> ks, ps;
	for (const std::string &k : sorted(added)) {
		ks.push_back("'" + k + "'");
		ps.push_back("'" + k + "'=" + std::to_string(k.size()));
	}
	CHECK(listing(sc_kv_keys, c, "ns") == ks);
	CHECK(listing(sc_kv_to_list, c, "ns") == ps);
}

TEST_CASE("kv batches: add_batch keeps what the table type keeps, remove_batch takes every value of each key",
	  "[kv][kv-types]")
{
	for (uint32_t type : every_table_type)
		DYNAMIC_SECTION(type_name(type))
		{
			Cache c(unique_name("kvtt-batch"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			REQUIRE(sc_kv_add(c, "other", sc_int(1), sc_int(99)) == 0);
			Model m{ type, {} };
			REQUIRE(sc_kv_add(c, "ns", sc_int(1), sc_int(10)) == 0);
			m.add(1, 10);

			// The same pair twice in one batch, and one already there.
			std::vector<sc_kv_pair> pairs = {
				{ sc_int(1), sc_int(10) }, { sc_int(1), sc_int(11) },
				{ sc_int(1), sc_int(10) }, { sc_int(2), sc_int(20) },
				{ sc_int(2), sc_int(20) }, { sc_int(1), sc_int(12) }
			};
			for (int64_t k = 100; k < 300; k++)
				for (int64_t v : { k, k, -k })
					pairs.push_back({ sc_int(k), sc_int(v) });
			for (const sc_kv_pair &p : pairs)
				m.add(p.key.v.i, p.value.v.i);
			REQUIRE(sc_kv_add_batch(c, "ns", pairs.data(), pairs.size()) == 0);
			CHECK(m.total() == (is_bag(type) ? type == SC_BAG ? 404 : 607 : 202));
			CHECK(sc_kv_count(c, "ns") == m.total());
			for (int64_t k : { 1, 2, 100, 201, 299 }) {
				INFO("key " << k);
				CHECK(get_all(c, "ns", sc_int(k)) == ints(m.keys[k]));
				CHECK(newest(c, "ns", sc_int(k)) == std::to_string(m.keys[k].back()));
			}

			std::vector<sc_field> gone = { sc_int(1), sc_int(2), sc_int(12345) };
			int went = static_cast<int>(m.keys[1].size() + m.keys[2].size());
			m.keys.erase(1);
			m.keys.erase(2);
			for (int64_t k = 100; k < 300; k += 2) {
				gone.push_back(sc_int(k));
				went += static_cast<int>(m.keys[k].size());
				m.keys.erase(k);
			}
			CHECK(sc_kv_remove_batch(c, "ns", gone.data(), gone.size()) == went);
			CHECK(sc_kv_count(c, "ns") == m.total());
			CHECK(get_all(c, "ns", sc_int(1)).empty());
			CHECK(get_all(c, "ns", sc_int(100)).empty());
			CHECK(get_all(c, "ns", sc_int(101)) == ints(m.keys[101]));
			CHECK(rows_problem(int_rows(sc_kv_to_list, c, "ns"), m) == "");
			CHECK(get_all(c, "other", sc_int(1)) == ints({ 99 }));
		}
}

TEST_CASE("kv update, replace and update_fn leave the key one value, on every table type", "[kv][kv-types]")
{
	for (uint32_t type : every_table_type)
		DYNAMIC_SECTION(type_name(type))
		{
			Cache c(unique_name("kvtt-update"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			const sc_field k = sc_str("k"), f = sc_str("f");
			REQUIRE(sc_kv_add(c, "other", k, sc_int(1)) == 0);
			REQUIRE(sc_kv_add(c, "other", k, sc_int(2)) == 0);
			const std::vector<std::string> other = get_all(c, "other", k);

			REQUIRE(sc_kv_add(c, "ns", k, sc_int(1)) == 0);
			REQUIRE(sc_kv_add(c, "ns", k, sc_int(2)) == 0);
			REQUIRE(sc_kv_add_ttl(c, "ns", k, sc_int(3), 60000) == 0);
			CHECK(get_all(c, "ns", k) == (is_bag(type) ? ints({ 1, 2, 3 }) : ints({ 3 })));
			// A value the key holds already, and one with a time to live beside it.
			REQUIRE(sc_kv_update(c, "ns", k, sc_int(2)) == 0);
			CHECK(get_all(c, "ns", k) == ints({ 2 }));
			CHECK(newest(c, "ns", k) == "2");
			uint64_t ttl = 0;
			CHECK(sc_kv_ttl(c, "ns", k, &ttl) == 1);
			CHECK(ttl == SC_TTL_FOREVER);
			CHECK(sc_kv_count(c, "ns") == 1);

			REQUIRE(sc_kv_add(c, "ns", k, sc_int(4)) == 0);
			REQUIRE(sc_kv_add_ttl(c, "ns", k, sc_int(5), 60000) == 0);
			REQUIRE(sc_kv_replace(c, "ns", k, sc_int(6)) == 0);
			CHECK(get_all(c, "ns", k) == ints({ 6 }));
			ttl = 0;
			CHECK(sc_kv_ttl(c, "ns", k, &ttl) == 1);
			CHECK(ttl == SC_TTL_FOREVER);
			CHECK(sc_kv_count(c, "ns") == 1);

			// update_fn is given the newest value; what it returns is the key's one value.
			for (int64_t v : { 10, 12, 11 })
				REQUIRE(sc_kv_add(c, "ns", f, sc_int(v)) == 0);
			std::vector<std::string> seen;
			sc_tuples *out = nullptr;
			REQUIRE(sc_kv_update_fn(c, "ns", f, sc_int(0), plus_100, &seen, &out) == 0);
			CHECK(seen == ints({ 11 }));
			CHECK(texts(1, out) == ints({ 111 }));
			CHECK(get_all(c, "ns", f) == ints({ 111 }));
			seen.clear();
			REQUIRE(sc_kv_update_fn(c, "ns", sc_str("g"), sc_int(5), plus_100, &seen, nullptr) ==
				0);
			CHECK(seen == ints({ 5 }));
			CHECK(get_all(c, "ns", sc_str("g")) == ints({ 105 }));
			CHECK(sc_kv_count(c, "ns") == 3);
			CHECK(get_all(c, "other", k) == other);
		}
}

TEST_CASE(
	"kv on bag and duplicate_bag keys: increment is refused and writes nothing; add_ttl's deadline is its "
	"own value's, touch sets every value's",
	"[kv][kv-types]")
{
	for (uint32_t type : { SC_BAG, SC_DUPLICATE_BAG })
		DYNAMIC_SECTION(type_name(type))
		{
			Cache c(unique_name("kvtt-ttl"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			const sc_field k = sc_str("k");
			uint64_t ttl = 0;
			REQUIRE(sc_kv_add(c, "ns", k, sc_int(1)) == 0);
			REQUIRE(sc_kv_add_ttl(c, "ns", k, sc_int(2), 500) == 0);
			uint64_t after = clock_ms(CLOCK_MONOTONIC_COARSE);
			REQUIRE(sc_kv_add_ttl(c, "ns", sc_str("long"), sc_int(3), 60000) == 0);
			sc_field out = {};
			CHECK(sc_kv_increment(c, "ns", k, sc_int(0), sc_int(1), &out) == -EINVAL);
			CHECK(contains(sc_last_error(), "not supported for bag/duplicate_bag"));
			CHECK(sc_kv_increment(c, "ns", sc_str("m"), sc_int(0), sc_int(1), &out) == -EINVAL);
			CHECK(out.type == 0);
			CHECK(get_all(c, "ns", sc_str("m")).empty());
			CHECK(get_all(c, "ns", k) == ints({ 1, 2 }));
			CHECK(sc_kv_count(c, "ns") == 3);
			until(after, 500);
			CHECK(get_all(c, "ns", k) == ints({ 1 }));
			CHECK(newest(c, "ns", k) == "1");
			CHECK(sc_kv_count(c, "ns") == 2);

			REQUIRE(sc_kv_add(c, "ns", k, sc_int(4)) == 0);
			CHECK(sc_kv_touch(c, "ns", k, 60000) == 2);
			CHECK(sc_kv_ttl(c, "ns", k, &ttl) == 1);
			CHECK(ttl > 50000);
			CHECK(ttl <= 60000);
			CHECK(get_all(c, "ns", k) == ints({ 1, 4 }));
			CHECK(sc_kv_touch(c, "ns", k, 200) == 2);
			after = clock_ms(CLOCK_MONOTONIC_COARSE);
			until(after, 200);
			CHECK(get_all(c, "ns", k).empty());
			CHECK(sc_kv_count(c, "ns") == 1);
			CHECK(get_all(c, "ns", sc_str("long")) == ints({ 3 }));
		}
}

namespace
{

// An update function that takes its time: it returns only once the clock the deadlines use has passed
// *arg (ms), then adds 10.
int plus_ten_after(const sc_field *current, void *arg, sc_field *next)
{
	while (clock_ms(CLOCK_MONOTONIC_COARSE) <= *static_cast<const uint64_t *>(arg))
		;
	*next = sc_int(current->v.i + 10);
	return 0;
}

} // namespace

TEST_CASE("a bag's update_fn whose kept time to live runs out while it runs leaves the key empty and every "
	  "count right",
	  "[kv][kv-types]")
{
	for (uint32_t type : { SC_BAG, SC_DUPLICATE_BAG })
		DYNAMIC_SECTION(type_name(type))
		{
			Cache c(unique_name("kvtt-lapse"), typed_options(type, 2, 16 << 20));
			REQUIRE(c.start_error() == 0);
			const sc_field k = sc_str("k");
			REQUIRE(sc_kv_add(c, "ns", k, sc_int(1)) == 0);
			REQUIRE(sc_kv_add_ttl(c, "ns", k, sc_int(2), 100) == 0);
			uint64_t lapsed = clock_ms(CLOCK_MONOTONIC_COARSE) + 101;
			// fn gets 2, the newest; 12 keeps 2's deadline, which has passed by the time it is stored.
			sc_tuples *out = nullptr;
			REQUIRE(sc_kv_update_fn(c, "ns", k, sc_int(0), plus_ten_after, &lapsed, &out) == 0);
			REQUIRE(out != nullptr);
			CHECK(out->tuples[0].fields[0].v.i == 12);
			sc_tuples_free(out);
			CHECK(get_all(c, "ns", k).empty());
			CHECK(sc_kv_count(c, "ns") == 0);
			std::string problems;
			CHECK(check_segment(c, 0, &problems) == 0);
			INFO(problems);
			CHECK(problems.empty());
		}
}

namespace
{

// What the racing processes below store under key: "<tag>-<n>" with n % 8 == key, then 40 'x' when n is
// odd (two lengths, so that a torn read would show).
std::string race_value(const std::string &tag, int n)
{
	return tag + "-" + std::to_string(n) + std::string(static_cast<size_t>(n % 2) * 40, 'x');
}

// One read of key's values into *vals as (tag, n): "" when each is a well-formed value of key ("w0", "w1" or
// "u" its tag) and none is there twice, else what is wrong.
std::string race_read(sc_cache *c, int key, std::vector<std::pair<std::string, int>> *vals)
{
	sc_tuples *t = nullptr;
	const int rc = sc_kv_get_all(c, "ns", sc_int(key), &t);
	std::string problem;
	std::set<std::pair<std::string, int>> seen;
	vals->clear();
	if (rc < 0 || rc != (t ? static_cast<int>(t->count) : 0))
		problem = "get_all returned " + std::to_string(rc);
	for (size_t i = 0; problem.empty() && t && i < t->count; i++) {
		const sc_field &f = t->tuples[i].fields[0];
		if (t->tuples[i].nfields != 1 || f.type != SC_FIELD_BYTES) {
			problem = "value " + std::to_string(i) + " is no one bytes field";
			break;
		}
		// Garbage reads as some n, and then v is not race_value(tag, n).
		const std::string v(static_cast<const char *>(f.v.p), f.len);
		const size_t dash = v.find('-');
		const std::string tag = v.substr(0, dash);
		const int n = dash == std::string::npos ? 0 : std::atoi(v.c_str() + dash + 1);
		vals->push_back({ tag, n });
		if ((tag != "w0" && tag != "w1" && tag != "u") || n % 8 != key || v != race_value(tag, n))
			problem = "value " + std::to_string(i) + " is malformed";
		else if (!seen.insert(vals->back()).second)
			problem = v + " twice";
	}
	sc_tuples_free(t);
	return problem.empty() ? "" : "key " + std::to_string(key) + ": " + problem;
}

struct RaceFlags {
	std::atomic<int> attached{ 0 };
	std::atomic<int> added{ 0 };
	std::atomic<int> writers_left{ 2 };
	std::atomic<int> updater_done{ 0 };
};

} // namespace

TEST_CASE("kv on a duplicate_bag: 2 processes adding to 8 keys, 1 updating them, 1 reading them all: every "
	  "read well formed, each key's values consistent at the end",
	  "[kv][kv-types][multiprocess]")
{
	Cache c(unique_name("kvtt-race"), typed_options(SC_DUPLICATE_BAG, 4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	const int keys = 8, each = 1000;
	void *shared = shared_anon(sizeof(RaceFlags));
	REQUIRE(shared);
	auto *flags = new (shared) RaceFlags;
	const uint64_t deadline = clock_ms() + 4000;

	// Every child attaches, then waits for the others, so that the four run together.
	auto child = [&](const std::function<int(sc_cache *)> &body) {
		return spawn([&name, flags, deadline, body]() -> int {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			flags->attached++;
			while (flags->attached.load() < 4 && clock_ms() < deadline) {
			}
			const int rc = body(h);
			sc_stop(h);
			return rc;
		});
	};
	std::vector<std::unique_ptr<ChildGuard>> children;
	for (int w = 0; w < 2; w++)
		children.push_back(std::make_unique<ChildGuard>(child([w, flags](sc_cache *h) {
			const std::string tag = "w" + std::to_string(w);
			for (int i = 0; i < each; i++, flags->added++)
				if (sc_kv_add(h, "ns", sc_int(i % keys), sc_str(race_value(tag, i).c_str())))
					return 2;
			flags->writers_left--;
			return 0;
		})));
	children.push_back(std::make_unique<ChildGuard>(child([&](sc_cache *h) {
		// It stops with a quarter of the adds to come, so that the keys end with adds after its last update.
		for (int round = 0;
		     (flags->added.load() < 3 * each / 2 || round < 3) && clock_ms() < deadline; round++)
			for (int k = 0; k < keys; k++)
				if (sc_kv_update(h, "ns", sc_int(k),
						 sc_str(race_value("u", round * keys + k).c_str())))
					return 2;
		flags->updater_done = 1;
		return 0;
	})));
	children.push_back(std::make_unique<ChildGuard>(child([&](sc_cache *h) {
		std::vector<std::pair<std::string, int>> vals;
		for (int reads = 0;
		     (flags->writers_left.load() || !flags->updater_done.load() || reads < 20) &&
		     clock_ms() < deadline;
		     reads++)
			for (int k = 0; k < keys; k++) {
				const std::string problem = race_read(h, k, &vals);
				if (!problem.empty()) {
					std::fprintf(stderr, "reader: %s\n", problem.c_str());
					return 3;
				}
			}
		return 0;
	})));
	for (auto &ch : children)
		CHECK(ch->wait() == 0);

	// Each key: the last update's value first, then for each writer a run of the adds it made after it, in
	// order, up to its last add to that key.
	int total = 0;
	for (int k = 0; k < keys; k++) {
		INFO("key " << k);
		std::vector<std::pair<std::string, int>> vals;
		REQUIRE(race_read(c, k, &vals) == "");
		REQUIRE(!vals.empty());
		CHECK(vals[0].first == "u");
		std::map<std::string, std::vector<int>> by_tag;
		for (const auto &v : vals)
			by_tag[v.first].push_back(v.second);
		CHECK(by_tag["u"].size() == 1);
		for (const char *w : { "w0", "w1" }) {
			const std::vector<int> &ns = by_tag[w];
			for (size_t i = 0; i < ns.size(); i++)
				CHECK(ns[i] ==
				      each - keys + k - static_cast<int>(keys * (ns.size() - 1 - i)));
		}
		total += static_cast<int>(vals.size());
	}
	CHECK(sc_kv_count(c, "ns") == total);

	for (int k = 0; k < keys; k++) {
		REQUIRE(sc_kv_update(c, "ns", sc_int(k), sc_int(k)) == 0);
		CHECK(get_all(c, "ns", sc_int(k)) == ints({ k }));
	}
	CHECK(sc_kv_count(c, "ns") == keys);
}
