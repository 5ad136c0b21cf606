// test_kv_update.cpp — the seed's update family beyond its README. sc_kv_update_fn: the caller's function
// over a KeyValue value, under the partition's lock: the default for a missing key, nothing written on its
// error, the time to live kept, no update lost between processes. sc_kv_update and sc_kv_replace: the key
// left with one value. sc_kv_get_all: every value of a key.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// int64 + *(int64_t *)arg.
int add_to(const sc_field *current, void *arg, sc_field *next)
{
	if (current->type != SC_FIELD_INT)
		return -EINVAL;
	*next = sc_int(current->v.i + *static_cast<int64_t *>(arg));
	return 0;
}

// Bytes: the current value with the string at arg appended, built in a buffer the function owns.
struct Appender {
	const char *tail;
	std::string built;
};

int append(const sc_field *current, void *arg, sc_field *next)
{
	auto *a = static_cast<Appender *>(arg);
	if (current->type != SC_FIELD_BYTES)
		return -EINVAL;
	a->built.assign(static_cast<const char *>(current->v.p), current->len);
	a->built += a->tail;
	*next = sc_bytes(a->built.data(), static_cast<uint32_t>(a->built.size()));
	return 0;
}

int refuse(const sc_field *, void *, sc_field *)
{
	return -ECANCELED;
}

// Writes to the cache at arg from inside the update: the partition's lock is this thread's already.
struct Reentry {
	sc_cache *c;
	int rc;
};

int write_inside(const sc_field *current, void *arg, sc_field *next)
{
	auto *r = static_cast<Reentry *>(arg);
	r->rc = sc_kv_add(r->c, "ns", sc_str("k"), sc_int(99));
	*next = *current;
	return 0;
}

int64_t int_value(sc_cache *c, const char *kv, const char *key)
{
	sc_tuples *t = nullptr;
	const int n = sc_kv_get(c, kv, sc_str(key), nullptr, &t);
	const int64_t v =
		n == 1 && t->tuples[0].fields[0].type == SC_FIELD_INT ? t->tuples[0].fields[0].v.i : -1;
	sc_tuples_free(t);
	return v;
}

// "w<writer>-<i>" and then 40 'x' when i is odd: what the racing writers below store.
bool well_formed(const std::string &v)
{
	const size_t dash = v.find('-');
	if (v.size() < 3 || v[0] != 'w' || dash == std::string::npos)
		return false;
	const size_t end = v.find_first_not_of("0123456789", dash + 1);
	const std::string digits =
		v.substr(dash + 1, end == std::string::npos ? std::string::npos : end - dash - 1);
	if (digits.empty())
		return false;
	const size_t tail = std::stoul(digits) % 2 ? 40 : 0;
	const size_t body = end == std::string::npos ? v.size() : end;
	return v.size() == body + tail && v.find_first_not_of('x', body) == std::string::npos;
}

} // namespace

TEST_CASE(
	"sc_kv_update_fn: the default for a missing key, the current value after, a copy of what was stored",
	"[kv]")
{
	for (uint32_t type : every_table_type) {
		INFO("table type " << type);
		Cache c(unique_name("kv-update"), typed_options(type, 2, 16 << 20));
		REQUIRE(c.start_error() == 0);
		int64_t step = 5;
		sc_tuples *out = nullptr;

		REQUIRE(sc_kv_update_fn(c, "ns", sc_str("n"), sc_int(100), add_to, &step, &out) == 0);
		REQUIRE(out != nullptr);
		CHECK(out->count == 1);
		CHECK(out->tuples[0].fields[0].v.i == 105);
		sc_tuples_free(out);
		step = -10;
		REQUIRE(sc_kv_update_fn(c, "ns", sc_str("n"), sc_int(100), add_to, &step, nullptr) == 0);
		CHECK(int_value(c, "ns", "n") == 95);

		// Bytes made by the function in its own buffer, stored whole.
		Appender a{ "-b", {} };
		REQUIRE(sc_kv_add(c, "ns", sc_str("s"), sc_str("a")) == 0);
		REQUIRE(sc_kv_update_fn(c, "ns", sc_str("s"), sc_str(""), append, &a, &out) == 0);
		CHECK(std::string(static_cast<const char *>(out->tuples[0].fields[0].v.p),
				  out->tuples[0].fields[0].len) == "a-b");
		sc_tuples_free(out);
		CHECK(sc_kv_count(c, "ns") == 2);
	}
}

TEST_CASE("sc_kv_update_fn: the function's error writes nothing; bad arguments are refused; a write from "
	  "inside is refused, not deadlocked; the time to live stays",
	  "[kv]")
{
	Cache c(unique_name("kv-update-errors"), options(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_kv_add(c, "ns", sc_str("k"), sc_int(1)) == 0);
	sc_tuples *out = reinterpret_cast<sc_tuples *>(1);

	CHECK(sc_kv_update_fn(c, "ns", sc_str("k"), sc_int(0), refuse, nullptr, &out) == -ECANCELED);
	CHECK(contains(sc_last_error(), "the update function returned"));
	CHECK(out == nullptr);
	CHECK(int_value(c, "ns", "k") == 1);
	int64_t step = 1;
	Appender a{ "x", {} };
	CHECK(sc_kv_update_fn(c, "ns", sc_str("k"), sc_int(0), append, &a, nullptr) == -EINVAL); // not bytes
	CHECK(int_value(c, "ns", "k") == 1);
	CHECK(sc_kv_update_fn(c, "ns", sc_str("k"), sc_int(0), nullptr, &step, nullptr) == -EINVAL);
	CHECK(sc_kv_update_fn(c, "", sc_str("k"), sc_int(0), add_to, &step, nullptr) == -EINVAL);
	CHECK(sc_kv_update_fn(nullptr, "ns", sc_str("k"), sc_int(0), add_to, &step, nullptr) == -EINVAL);

	Reentry r{ c, 0 };
	CHECK(sc_kv_update_fn(c, "ns", sc_str("k"), sc_int(0), write_inside, &r, nullptr) == 0);
	CHECK(r.rc == -EDEADLK);
	CHECK(int_value(c, "ns", "k") == 1);

	REQUIRE(sc_kv_add_ttl(c, "ns", sc_str("t"), sc_int(1), 60000) == 0);
	REQUIRE(sc_kv_update_fn(c, "ns", sc_str("t"), sc_int(0), add_to, &step, nullptr) == 0);
	uint64_t ttl = 0;
	CHECK(sc_kv_ttl(c, "ns", sc_str("t"), &ttl) == 1);
	CHECK(ttl > 50000);
	CHECK(int_value(c, "ns", "t") == 2);
}

TEST_CASE("sc_kv_update_fn from 4 processes, with adds and removes of the partition's other keys between: no "
	  "update lost",
	  "[kv][multiprocess]")
{
	Cache c(unique_name("kv-update-race"), options(1, 32 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	const int procs = 4, each = 1000;
	std::vector<pid_t> pids;
	for (int w = 0; w < procs; w++)
		pids.push_back(spawn([&name, w]() -> int {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			int64_t step = 1;
			for (int i = 0; i < each; i++) {
				if (sc_kv_update_fn(h, "ns", sc_str("counter"), sc_int(0), add_to, &step,
						    nullptr))
					return 2;
				// Other keys of the one partition come and go meanwhile.
				const sc_field other = sc_int(w * each + i);
				if (sc_kv_add(h, "ns", other, sc_int(i)) || sc_kv_remove(h, "ns", other) != 1)
					return 3;
			}
			sc_stop(h);
			return 0;
		}));
	for (pid_t pid : pids)
		CHECK(wait_child(pid) == 0);
	CHECK(int_value(c, "ns", "counter") == procs * each);
	CHECK(sc_kv_count(c, "ns") == 1);
}

TEST_CASE("sc_kv_update and sc_kv_replace leave the key one value, without a time to live; sc_kv_get_all "
	  "gives it, or none",
	  "[kv]")
{
	for (uint32_t type : every_table_type) {
		INFO("table type " << type);
		Cache c(unique_name("kv-replace"), typed_options(type, 2, 16 << 20));
		REQUIRE(c.start_error() == 0);
		sc_tuples *all = reinterpret_cast<sc_tuples *>(1);

		CHECK(sc_kv_get_all(c, "ns", sc_str("k"), &all) == 0);
		CHECK(all == nullptr);
		REQUIRE(sc_kv_update(c, "ns", sc_str("k"), sc_int(1)) == 0); // inserts
		CHECK(int_value(c, "ns", "k") == 1);
		REQUIRE(sc_kv_update(c, "ns", sc_str("k"), sc_int(2)) == 0);  // updates
		REQUIRE(sc_kv_replace(c, "ns", sc_str("r"), sc_int(3)) == 0); // inserts
		REQUIRE(sc_kv_add_ttl(c, "ns", sc_str("r"), sc_int(4), 60000) == 0);
		REQUIRE(sc_kv_replace(c, "ns", sc_str("r"), sc_int(5)) == 0); // replaces, time to live gone
		uint64_t ttl = 1;
		CHECK(sc_kv_ttl(c, "ns", sc_str("r"), &ttl) == 1);
		CHECK(ttl == SC_TTL_FOREVER);
		CHECK(sc_kv_count(c, "ns") == 2);

		for (auto kv : { std::make_pair("k", 2), std::make_pair("r", 5) }) {
			REQUIRE(sc_kv_get_all(c, "ns", sc_str(kv.first), &all) == 1);
			REQUIRE(all->count == 1);
			CHECK(all->tuples[0].nfields == 1);
			CHECK(all->tuples[0].fields[0].v.i == kv.second);
			sc_tuples_free(all);
		}
		REQUIRE(sc_kv_remove(c, "ns", sc_str("k")) == 1);
		CHECK(sc_kv_get_all(c, "ns", sc_str("k"), &all) == 0);
		CHECK(all == nullptr);
	}
}

TEST_CASE("sc_kv_update, sc_kv_replace and sc_kv_get_all refuse bad arguments and a read-only handle, and "
	  "write nothing then",
	  "[kv]")
{
	Cache c(unique_name("kv-replace-errors"), options(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_kv_add(c, "ns", sc_str("k"), sc_int(1)) == 0);
	sc_tuples *all = nullptr;
	const sc_field bad = { static_cast<sc_field_type>(99), 0, { 0 } };

	CHECK(sc_kv_update(nullptr, "ns", sc_str("k"), sc_int(2)) == -EINVAL);
	CHECK(sc_kv_replace(c, "", sc_str("k"), sc_int(2)) == -EINVAL);
	CHECK(sc_kv_replace(c, nullptr, sc_str("k"), sc_int(2)) == -EINVAL);
	CHECK(sc_kv_update(c, "ns", bad, sc_int(2)) == -EINVAL);
	CHECK(sc_kv_replace(c, "ns", sc_str("k"), bad) == -EINVAL);
	CHECK(contains(sc_last_error(), "value"));
	CHECK(sc_kv_get_all(c, "ns", sc_str("k"), nullptr) == -EINVAL);
	CHECK(sc_kv_get_all(c, "", sc_str("k"), &all) == -EINVAL);
	CHECK(sc_kv_get_all(nullptr, "ns", sc_str("k"), &all) == -EINVAL);

	sc_options ro = options(2, 16 << 20);
	ro.read_only = 1;
	sc_cache *r = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), &ro, &r) == 0);
	CHECK(sc_kv_update(r, "ns", sc_str("k"), sc_int(2)) == -EROFS);
	CHECK(sc_kv_replace(r, "ns", sc_str("k"), sc_int(2)) == -EROFS);
	REQUIRE(sc_kv_get_all(r, "ns", sc_str("k"), &all) == 1); // reading is allowed
	sc_tuples_free(all);
	sc_stop(r);
	CHECK(int_value(c, "ns", "k") == 1);
	CHECK(sc_kv_count(c, "ns") == 1);
}

TEST_CASE("sc_kv_update and sc_kv_replace from 2 processes, 2 others reading with sc_kv_get_all: every read "
	  "finds one whole value, the last write stays",
	  "[kv][multiprocess]")
{
	Cache c(unique_name("kv-replace-race"), options(1, 32 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	const int writers = 2, readers = 2, each = 2000;
	REQUIRE(sc_kv_add(c, "ns", sc_str("k"), sc_str("w0-0")) == 0);
	std::vector<pid_t> pids;
	for (int w = 0; w < writers + readers; w++)
		pids.push_back(spawn([&name, w]() -> int {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			for (int i = 0; i < each; i++) {
				if (w < writers) {
					// Values of two lengths, so that a torn read would show.
					const std::string v =
						"w" + std::to_string(w) + "-" + std::to_string(i) +
						std::string(static_cast<size_t>(i % 2) * 40, 'x');
					const int r = (i % 2 ? sc_kv_update : sc_kv_replace)(
						h, "ns", sc_str("k"), sc_str(v.c_str()));
					if (r)
						return 2;
					continue;
				}
				sc_tuples *all = nullptr;
				if (sc_kv_get_all(h, "ns", sc_str("k"), &all) != 1 || all->count != 1)
					return 3;
				const sc_field &f = all->tuples[0].fields[0];
				const std::string v(static_cast<const char *>(f.v.p), f.len);
				sc_tuples_free(all);
				if (!well_formed(v))
					return 4;
			}
			sc_stop(h);
			return 0;
		}));
	for (pid_t pid : pids)
		CHECK(wait_child(pid) == 0);
	sc_tuples *all = nullptr;
	REQUIRE(sc_kv_get_all(c, "ns", sc_str("k"), &all) == 1);
	const std::string last(static_cast<const char *>(all->tuples[0].fields[0].v.p),
			       all->tuples[0].fields[0].len);
	sc_tuples_free(all);
	CHECK((last.rfind("w0-1999", 0) == 0 || last.rfind("w1-1999", 0) == 0));
	CHECK(sc_kv_count(c, "ns") == 1);
}
