// test_clear.cpp — sc_clear empties the whole cache (tuples, KeyValue, queues, stacks, structs and their
// types), each partition all or nothing, with readers and writers in other processes; sc_delete_all stays
// the tuples' alone.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

struct point {
	int64_t id;
	int64_t x;
};

int count_one(const sc_tuple *, void *acc)
{
	++*static_cast<int *>(acc);
	return 0;
}

int tuples_in(sc_cache *c)
{
	int n = 0;
	REQUIRE(sc_scan(c, nullptr, count_one, &n) >= 0);
	return n;
}

// 100 tuples, 50 pairs in namespace "ns", 10 items in queue "q" and in stack "s", 20 structs of type "pt".
void fill(sc_cache *c)
{
	for (int k = 0; k < 100; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k))) == 0);
	for (int k = 0; k < 50; k++)
		REQUIRE(sc_kv_add(c, "ns", sc_int(k), sc_int(k)) == 0);
	for (int i = 0; i < 10; i++) {
		REQUIRE(sc_queue_add(c, "q", sc_int(i)) == 0);
		REQUIRE(sc_stack_push(c, "s", sc_int(i)) == 0);
	}
	REQUIRE(sc_struct_init(c, "pt", sizeof(point), offsetof(point, id), sizeof(int64_t)) == 0);
	for (int64_t id = 0; id < 20; id++) {
		const point p = { id, 2 * id };
		REQUIRE(sc_struct_add(c, "pt", &p) == 0);
	}
}

int structs_of(sc_cache *c, const char *type)
{
	void *all = nullptr;
	const int n = sc_struct_get_all(c, type, &all);
	sc_struct_free(all);
	return n;
}

void check_whole(sc_cache *c)
{
	std::string problems;
	const int rc = check_segment(c, 0, &problems);
	INFO(problems);
	CHECK(rc == 0);
}

} // namespace

TEST_CASE("sc_clear empties tuples and every structure, Struct types included; sc_delete_all only the tuples",
	  "[clear]")
{
	for (uint32_t type : every_table_type) {
		INFO("table type " << type);
		Cache c(unique_name("clear"), typed_options(type, 4, 32 << 20));
		REQUIRE(c.start_error() == 0);
		fill(c);

		REQUIRE(sc_delete_all(c) == 0);
		CHECK(tuples_in(c) == 0);
		CHECK(sc_kv_count(c, "ns") == 50);
		CHECK(sc_queue_count(c, "q") == 10);
		CHECK(sc_stack_count(c, "s") == 10);
		CHECK(structs_of(c, "pt") == 20);

		for (int k = 0; k < 100; k++)
			REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(k))) == 0);
		REQUIRE(sc_clear(c) == 0);
		CHECK(tuples_in(c) == 0);
		CHECK(sc_kv_count(c, "ns") == 0);
		CHECK(sc_queue_count(c, "q") == 0);
		CHECK(sc_stack_count(c, "s") == 0);
		CHECK(structs_of(c, "pt") == -ENXIO); // the type went too
		// Nothing leaked: the queues' and stacks' sequence blocks went with their headers.
		REQUIRE(sc_reclaim(c, nullptr) >= 0);
		check_whole(c);

		// An empty cache is as good as a new one, and a clear of one is a no-op.
		REQUIRE(sc_clear(c) == 0);
		fill(c);
		CHECK(tuples_in(c) == 100);
		CHECK(sc_queue_count(c, "q") == 10);
		CHECK(structs_of(c, "pt") == 20);
		check_whole(c);
	}
}

TEST_CASE("sc_clear: bad handles are refused, a read-only one too", "[clear]")
{
	CHECK(sc_clear(nullptr) == -EINVAL);
	Cache c(unique_name("clear-ro"), options(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_kv_add(c, "ns", sc_int(1), sc_int(1)) == 0);
	sc_options ro = options(2, 16 << 20);
	ro.read_only = 1;
	sc_cache *r = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), &ro, &r) == 0);
	CHECK(sc_clear(r) == -EROFS);
	CHECK(sc_kv_count(c, "ns") == 1);
	sc_stop(r);
}

TEST_CASE("sc_clear with writers and readers in other processes: every call returns, and the cache stays "
	  "whole",
	  "[clear][multiprocess]")
{
	Cache c(unique_name("clear-race"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string name = c.name();
	std::vector<pid_t> workers;
	for (int w = 0; w < 2; w++)
		workers.push_back(spawn([&name, w]() -> int {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			for (int i = 0; i < 20000; i++) {
				sc_tuples *t = nullptr;
				const int key = w * 100000 + i;
				if (sc_put(h, SC_TUPLE(sc_int(key), sc_int(i))) != 0 ||
				    sc_kv_add(h, "ns", sc_int(key), sc_int(i)) != 0 ||
				    sc_queue_add(h, "q", sc_int(i)) != 0)
					return 2;
				// A take may find the queue emptied by a clear: 0 then, never an error.
				const int took = sc_queue_out(h, "q", nullptr, &t);
				sc_tuples_free(t);
				t = nullptr;
				const int got = sc_kv_get(h, "ns", sc_int(key), nullptr, &t);
				sc_tuples_free(t);
				if (took < 0 || got < 0)
					return 3;
			}
			sc_stop(h);
			return 0;
		}));
	// Clears until both workers are done: every one of their calls meets clears before and after it.
	std::vector<int> status(workers.size(), -1);
	size_t left = workers.size();
	int clears = 0;
	while (left) {
		REQUIRE(sc_clear(c) == 0);
		clears++;
		for (size_t i = 0; i < workers.size(); i++) {
			int st = 0;
			if (status[i] == -1 && waitpid(workers[i], &st, WNOHANG) == workers[i]) {
				status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				left--;
			}
		}
	}
	for (int st : status)
		CHECK(st == 0);
	CHECK(clears > 1);
	REQUIRE(sc_clear(c) == 0);
	CHECK(tuples_in(c) == 0);
	CHECK(sc_kv_count(c, "ns") == 0);
	CHECK(sc_queue_count(c, "q") == 0);
	REQUIRE(sc_reclaim(c, nullptr) >= 0);
	check_whole(c);
}
