// test_struct.cpp — Struct storage: registration, every call and its errors, sharing across processes.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

struct user {
	int64_t id;
	char name[24];
	char email[40];
};

user make_user(int64_t id, const char *name)
{
	user u;
	std::memset(&u, 0, sizeof(u));
	u.id = id;
	std::snprintf(u.name, sizeof(u.name), "%s", name);
	std::snprintf(u.email, sizeof(u.email), "%s@example.com", name);
	return u;
}

user key_of(int64_t id)
{
	return make_user(id, "");
}

int init_user(sc_cache *c)
{
	return sc_struct_init(c, "user", sizeof(user), offsetof(user, id), sizeof(int64_t));
}

} // namespace

TEST_CASE("struct: add, get, get_all, remove, remove_all", "[struct]")
{
	Cache c(unique_name("struct"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(init_user(c) == 0);
	REQUIRE(init_user(c) == 0); // again, the same geometry: nothing happens

	user alice = make_user(1, "alice");
	REQUIRE(sc_struct_add(c, "user", &alice) == 0);
	user got;
	user k = key_of(1);
	REQUIRE(sc_struct_get(c, "user", &k, &got) == 0);
	CHECK(std::memcmp(&got, &alice, sizeof(user)) == 0);

	// add replaces the struct with the same key.
	user alice2 = make_user(1, "alicia");
	REQUIRE(sc_struct_add(c, "user", &alice2) == 0);
	REQUIRE(sc_struct_get(c, "user", &k, &got) == 0);
	CHECK(std::string(got.name) == "alicia");

	for (int64_t id = 2; id <= 100; id++) {
		user u = make_user(id, ("u" + std::to_string(id)).c_str());
		REQUIRE(sc_struct_add(c, "user", &u) == 0);
	}
	void *all = nullptr;
	int n = sc_struct_get_all(c, "user", &all);
	REQUIRE(n == 100);
	std::set<int64_t> ids;
	for (int i = 0; i < n; i++) {
		const user &u = static_cast<const user *>(all)[i];
		ids.insert(u.id);
		CHECK(std::string(u.email).find("@example.com") != std::string::npos);
	}
	sc_struct_free(all);
	CHECK(ids.size() == 100);
	CHECK(*ids.begin() == 1);
	CHECK(*ids.rbegin() == 100);

	user k50 = key_of(50);
	CHECK(sc_struct_remove(c, "user", &k50) == 1);
	CHECK(sc_struct_remove(c, "user", &k50) == 0);
	CHECK(sc_struct_get(c, "user", &k50, &got) == -ENOENT);
	CHECK(sc_struct_remove_all(c, "user") == 99);
	all = reinterpret_cast<void *>(1);
	CHECK(sc_struct_get_all(c, "user", &all) == 0);
	CHECK(all == nullptr);
	// Still registered after remove_all.
	REQUIRE(sc_struct_add(c, "user", &alice) == 0);
	CHECK(sc_struct_get(c, "user", &k, &got) == 0);
}

TEST_CASE("struct: an unregistered type and a missing key are different errors", "[struct]")
{
	Cache c(unique_name("structerr"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	user u = make_user(7, "x"), out;
	void *all = nullptr;

	CHECK(sc_struct_get(c, "user", &u, &out) == -ENXIO);
	CHECK(contains(sc_last_error(), "struct type \"user\" was never registered"));
	CHECK(sc_struct_add(c, "user", &u) == -ENXIO);
	CHECK(sc_struct_get_all(c, "user", &all) == -ENXIO);
	CHECK(sc_struct_remove(c, "user", &u) == -ENXIO);
	CHECK(sc_struct_remove_all(c, "user") == -ENXIO);
	REQUIRE(init_user(c) == 0);
	CHECK(sc_struct_get(c, "user", &u, &out) == -ENOENT);
	CHECK(contains(sc_last_error(), "no struct of type \"user\" has that key"));

	// Geometry: another one for a registered type, keys outside the struct, sizes out of range.
	CHECK(sc_struct_init(c, "user", sizeof(user) + 8, 0, 8) == -EEXIST);
	CHECK(contains(sc_last_error(), "is registered with size 72"));
	CHECK(sc_struct_init(c, "t", 16, 12, 8) == -EINVAL);
	CHECK(contains(sc_last_error(), "does not lie inside"));
	CHECK(sc_struct_init(c, "t", 16, 17, 0) == -EINVAL);
	CHECK(sc_struct_init(c, "t", 16, SIZE_MAX, 2) == -EINVAL);
	CHECK(sc_struct_init(c, "t", 0, 0, 0) == -EINVAL);
	CHECK(sc_struct_init(c, "t", (size_t)1 << 31, 0, 8) == -EINVAL);
	CHECK(sc_struct_init(c, nullptr, 16, 0, 8) == -EINVAL);
	CHECK(sc_struct_init(c, "", 16, 0, 8) == -EINVAL);
	CHECK(sc_struct_get(c, "t", &u, &out) == -ENXIO);

	CHECK(sc_struct_add(c, "user", nullptr) == -EINVAL);
	CHECK(sc_struct_get(c, "user", &u, nullptr) == -EINVAL);
	CHECK(sc_struct_get(c, "user", nullptr, &out) == -EINVAL);
	CHECK(sc_struct_get_all(c, "user", nullptr) == -EINVAL);
	CHECK(sc_struct_add(nullptr, "user", &u) == -EINVAL);
}

TEST_CASE("struct: registered and stored in one process, read in another; kept out of the tuples", "[struct]")
{
	sc_options o = options(2, 64 << 20);
	o.table_type = SC_ORDERED_SET;
	o.key_pos = 1;
	Cache c(unique_name("structmp"), o);
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	ChildGuard writer(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || init_user(h))
			return 1;
		for (int64_t id = 0; id < 50; id++) {
			user u = make_user(id, "child");
			if (sc_struct_add(h, "user", &u))
				return 2;
		}
		sc_stop(h);
		return 0;
	}));
	REQUIRE(writer.wait() == 0);
	user k = key_of(49), got;
	REQUIRE(sc_struct_get(c, "user", &k, &got) == 0);
	CHECK(std::string(got.name) == "child");
	// Registered elsewhere: a different geometry is refused here too.
	CHECK(sc_struct_init(c, "user", 8, 0, 8) == -EEXIST);
	CHECK(sc_scan(
		      c, nullptr, [](const sc_tuple *, void *) { return 0; }, nullptr) == 0);
	REQUIRE(sc_delete_all(c) == 0);
	Stats s(c);
	CHECK(s->total.records == 0);
	CHECK(s->structures.records == 51); // 50 structs and the type
}

TEST_CASE(
	"struct: a type whose geometry was scribbled on is corrupt, and nothing reads past the caller's struct",
	"[struct]")
{
	Cache c(unique_name("structbad"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(init_user(c) == 0);
	user u = make_user(1, "alice"), out;
	REQUIRE(sc_struct_add(c, "user", &u) == 0);
	REQUIRE(sctest_scribble_struct_key_offset(c, "user", 1ull << 40) == 0);
	CHECK(sc_struct_get(c, "user", &u, &out) == -EUCLEAN);
	CHECK(contains(sc_last_error(), "geometry is corrupt"));
	CHECK(sc_struct_add(c, "user", &u) == -EUCLEAN);
	CHECK(sc_struct_remove(c, "user", &u) == -EUCLEAN);
	void *all = nullptr;
	CHECK(sc_struct_get_all(c, "user", &all) == -EUCLEAN);
	CHECK(sc_struct_init(c, "user", sizeof(user), offsetof(user, id), sizeof(int64_t)) == -EUCLEAN);
	// The tuples and other types are untouched.
	CHECK(sc_struct_init(c, "other", 8, 0, 8) == 0);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1))) == 0);
}
