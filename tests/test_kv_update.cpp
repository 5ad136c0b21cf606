// test_kv_update.cpp — sc_kv_update_fn: the caller's function over a KeyValue value, under the partition's
// lock: the default for a missing key, nothing written on its error, the time to live kept, no update lost
// between processes.
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

} // namespace

TEST_CASE(
	"sc_kv_update_fn: the default for a missing key, the current value after, a copy of what was stored",
	"[kv]")
{
	for (uint32_t type : { SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG }) {
		INFO("table type " << type);
		sc_options o = options(2, 16 << 20);
		o.table_type = type;
		Cache c(unique_name("kv-update"), o);
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
