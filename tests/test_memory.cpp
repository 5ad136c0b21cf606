// test_memory.cpp — bounded memory: reuse of freed records, eviction at the limit, a full /dev/shm, stalled readers.
#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

sc_options evicting(uint32_t partitions, uint64_t memory_limit, uint32_t table_type = SC_SET)
{
	sc_options o = options(partitions, memory_limit);
	o.eviction = SC_EVICTION_CLOCK;
	o.table_type = table_type;
	return o;
}

bool present(sc_cache *c, int64_t key)
{
	sc_tuples *t = nullptr;
	int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
	sc_tuples_free(t);
	return r == 1;
}

int check_whole(sc_cache *c)
{
	sc_check_report rep;
	int r = sc_check(c, 0, &rep);
	if (r)
		for (uint32_t i = 0; i < rep.listed; i++)
			UNSCOPED_INFO("partition " << rep.list[i].partition << ": " << rep.list[i].what);
	return r;
}

} // namespace

TEST_CASE("10 million overwrites over 100,000 keys keep the segment within twice the live data", "[memory]")
{
	Cache c(unique_name("overwrites"), options(4, 512ull << 20));
	REQUIRE(c.start_error() == 0);
	const std::string value(100, 'v');
	const int keys = 100000, batch = 1000;
	std::vector<sc_field> fields(2 * batch);
	std::vector<sc_tuple> tuples(batch);
	uint64_t puts = 0;
	for (int round = 0; puts < 10000000; round++) {
		for (int i = 0; i < batch; i++) {
			int64_t key = (static_cast<int64_t>(round) * batch + i) % keys;
			fields[2 * i] = sc_int(key);
			fields[2 * i + 1] = sc_bytes(value.data(), 100 - round % 7); // sizes vary a little
			tuples[i] = { 2, &fields[2 * i] };
		}
		REQUIRE(sc_put_batch(c, tuples.data(), batch) == 0);
		puts += batch;
	}
	Stats s(c);
	INFO("live bytes " << s->total.bytes << ", segment " << s->memory_used << ", retired "
			   << s->total.retired_bytes);
	CHECK(s->total.records == static_cast<uint64_t>(keys));
	CHECK(s->total.puts == puts);
	CHECK(s->memory_used <= 2 * s->total.bytes);
	CHECK(check_whole(c) == 0);
}

TEST_CASE("with eviction on, puts past the limit succeed and looked-up keys stay", "[memory][eviction]")
{
	const uint32_t type = GENERATE(as<uint32_t>{}, SC_SET, SC_ORDERED_SET, SC_BAG);
	INFO("table type " << type);
	Cache c(unique_name("evict"), evicting(2, 16 << 20, type));
	REQUIRE(c.start_error() == 0);
	const std::string value(200, 'v');
	const int hot = 500;
	for (int k = 0; k < hot; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 200))) == 0);
	// About ten times what the cache holds, with the hot keys looked up every 500 puts.
	for (int k = hot; k < 700000; k++) {
		int err = sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 200)));
		if (err)
			FAIL("put " << k << ": " << sc_strerror(err) << ": " << sc_last_error());
		if (k % 500 == 0)
			for (int h = 0; h < hot; h++)
				REQUIRE(present(c, h));
	}
	Stats s(c);
	CHECK(s->total.evictions > 500000);
	CHECK(s->memory_used <= s->memory_limit);
	CHECK(s->total.records + s->total.evictions == 700000u);
	int kept = 0;
	for (int h = 0; h < hot; h++)
		kept += present(c, h);
	CHECK(kept == hot);
	CHECK(present(c, 699999));
	CHECK(check_whole(c) == 0);
}

TEST_CASE("eviction takes KeyValue pairs but never queue items", "[memory][eviction]")
{
	Cache c(unique_name("evictkv"), evicting(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	for (int i = 0; i < 1000; i++)
		REQUIRE(sc_queue_add(c, "jobs", sc_int(i)) == 0);
	const std::string value(300, 'p');
	for (int k = 0; k < 200000; k++) {
		int err = sc_kv_add(c, "pages", sc_int(k), sc_bytes(value.data(), 300));
		if (err)
			FAIL("kv add " << k << ": " << sc_last_error());
	}
	Stats s(c);
	CHECK(s->structures.evictions > 100000);
	CHECK(sc_queue_count(c, "jobs") == 1000);
	sc_tuples *t = nullptr;
	for (int i = 0; i < 1000; i++) {
		REQUIRE(sc_queue_out(c, "jobs", nullptr, &t) == 1);
		CHECK(t->tuples[0].fields[0].v.i == i);
		sc_tuples_free(t);
	}
	CHECK(check_whole(c) == 0);
}

TEST_CASE("with eviction off, a full cache refuses with ENOSPC and keeps what it has", "[memory]")
{
	Cache c(unique_name("noevict"), options(2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string value(200, 'v');
	int k = 0, err = 0;
	for (; err == 0 && k < 1000000; k++)
		err = sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 200)));
	REQUIRE(err == -ENOSPC);
	const int stored = k - 1;
	CHECK(Stats(c)->total.evictions == 0);
	for (int i = 0; i < stored; i++)
		if (!present(c, i))
			FAIL("key " << i << " of " << stored << " is gone");
	CHECK(check_whole(c) == 0);
}

TEST_CASE("a full /dev/shm is a clean ENOSPC, never a SIGBUS", "[memory]")
{
	// In a child with a mount namespace of its own: a 24 MiB tmpfs under a 64 MiB cache.
	int status = wait_child(spawn([]() -> int {
		char dir[] = "/tmp/sc-fullshm-XXXXXX";
		if (unshare(CLONE_NEWNS) || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
		    !mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "size=24m"))
			return 2;
		sc_options o = options(2, 64 << 20);
		o.dir = dir;
		sc_cache *c = nullptr;
		if (sc_start("full", &o, &c))
			return 3;
		const std::string value(1000, 'v');
		int k = 0, err = 0;
		for (; err == 0 && k < 100000; k++)
			err = sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 1000)));
		if (err != -ENOSPC || !contains(sc_last_error(), "no room"))
			return 4;
		for (int i = 0; i < k - 1; i++) {
			sc_tuples *t = nullptr;
			if (sc_get(c, SC_TUPLE(sc_int(i)), &t) != 1)
				return 5;
			sc_tuples_free(t);
		}
		if (k < 10000 || sc_check(c, 0, nullptr) != 0)
			return 6;
		// Deleting makes room again, inside the memory already backed.
		if (sc_delete_all(c) || sc_put(c, SC_TUPLE(sc_int(1), sc_bytes(value.data(), 1000))))
			return 7;
		sc_stop(c);
		sc_destroy("full", &o);
		umount(dir);
		rmdir(dir);
		return 0;
	}));
	CHECK(status == 0);
}

// Keys 0..999 with 200-byte values.
static void fill_keys(sc_cache *c)
{
	const std::string value(200, 'v');

	for (int k = 0; k < 1000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 200))) == 0);
}

// Overwrite keys 0..999 with 200-byte values until a put is refused (at most 200000 times): its error.
static int overwrite_until_refused(sc_cache *c, int *n)
{
	const std::string value(200, 'v');
	int err = 0;

	for (*n = 0; err == 0 && *n < 200000; ++*n)
		err = sc_put(c, SC_TUPLE(sc_int(*n % 1000), sc_bytes(value.data(), 200)));
	return err;
}

TEST_CASE("a stopped reader bounds retired memory; writers name it, and all is reclaimed after SIGCONT",
	  "[memory][rcu]")
{
	sc_options o = options(2, 128 << 20);
	o.max_retired = 8 << 20; // 2 MiB for each of the 4 partitions
	Cache c(unique_name("stalled"), o);
	REQUIRE(c.start_error() == 0);
	fill_keys(c);
	ChildGuard reader(spawn_reader_stopped_in_section(c.name()));
	REQUIRE(reader.pid() > 0);
	// Overwrites retire 256 bytes each: the bound is reached within 8 MiB of them, not more.
	int n = 0;
	REQUIRE(overwrite_until_refused(c, &n) == -EAGAIN);
	const std::string pid = "pid " + std::to_string(reader.pid());
	CHECK(contains(sc_last_error(), pid.c_str()));
	CHECK(n < 8 * 4096 + 1000);
	{
		Stats s(c);
		CHECK(s->oldest_reader_pid == static_cast<uint32_t>(reader.pid()));
		CHECK(s->total.retired_bytes <= (8u << 20) + (1u << 20));
	}
	// Refused at once while the reader stays stopped, in every partition that reached the bound.
	CHECK(sc_put(c, SC_TUPLE(sc_int((n - 1) % 1000), sc_str("refused"))) == -EAGAIN);

	REQUIRE(kill(reader.pid(), SIGCONT) == 0);
	REQUIRE(reader.wait() == 0);
	fill_keys(c);
	Stats s(c);
	CHECK(s->oldest_reader_pid == 0);
	CHECK(s->total.retired_bytes < (2u << 20));
	CHECK(check_whole(c) == 0);
}

TEST_CASE("max_retired bounds what is in use: writes to one partition may use all of it", "[memory][rcu]")
{
	// One tuple partition, one structure partition: an even split gave the tuples half.
	sc_options o = options(1, 64 << 20);
	o.max_retired = 6 << 20;
	Cache c(unique_name("wholebound"), o);
	REQUIRE(c.start_error() == 0);
	fill_keys(c);
	ChildGuard reader(spawn_reader_stopped_in_section(c.name()));
	REQUIRE(reader.pid() > 0);
	int n = 0;
	CHECK(overwrite_until_refused(c, &n) == -EAGAIN);
	{
		Stats s(c);
		CHECK(s->total.retired_bytes >= (6u << 20) - (256u << 10));
		CHECK(s->total.retired_bytes <= (6u << 20) + (256u << 10));
	}
	REQUIRE(kill(reader.pid(), SIGCONT) == 0);
	REQUIRE(reader.wait() == 0);
	fill_keys(c);
	CHECK(Stats(c)->total.retired_bytes < (2u << 20));
}

TEST_CASE("a writer inside its own read section past the bound is told so at once", "[memory][rcu]")
{
	sc_options o = options(1, 64 << 20);
	o.max_retired = 2 << 20; // 8192 retires of 256 bytes, all of them the one tuple partition's to use
	Cache c(unique_name("ownsection"), o);
	REQUIRE(c.start_error() == 0);
	const std::string value(200, 'v');
	REQUIRE(sc_read_begin(c) == 0);
	int err = 0, n = 0;
	for (; err == 0 && n < 100000; n++)
		err = sc_put(c, SC_TUPLE(sc_int(n % 100), sc_bytes(value.data(), 200)));
	sc_read_end(c);
	CHECK(err == -EDEADLK);
	CHECK(contains(sc_last_error(), "own read section"));
	CHECK(n < 8192 + 1024);
	// Nothing was marked stalled: the next write goes through.
	CHECK(sc_put(c, SC_TUPLE(sc_int(1), sc_bytes(value.data(), 200))) == 0);
	CHECK(Stats(c)->total.retired_bytes < (1u << 20));
}
