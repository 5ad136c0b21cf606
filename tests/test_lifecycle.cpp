// test_lifecycle.cpp — start, attach, stop, destroy, started?, options, and refusing segments we must not trust.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

TEST_CASE("start creates a cache that attach, stop and destroy manage", "[lifecycle]")
{
	std::string name = unique_name("life");
	sc_options o = options(3, 32 << 20);

	REQUIRE(sc_started(name.c_str(), &o) == 0);
	Cache a(name, o);
	REQUIRE(a.start_error() == 0);
	REQUIRE(sc_started(name.c_str(), &o) == 1);
	REQUIRE(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(7))) == 0);

	sc_cache *b = nullptr;
	REQUIRE(sc_attach(name.c_str(), &o, &b) == 0);
	sc_options got{};
	REQUIRE(sc_config(b, &got) == 0);
	CHECK(got.sz == sizeof(sc_options));
	CHECK(got.num_partition == 3);
	CHECK(got.memory_limit == (32u << 20));
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(b, SC_TUPLE(sc_str("k")), &t) == 1);
	CHECK(t->tuples[0].fields[1].v.i == 7);
	sc_tuples_free(t);
	REQUIRE(sc_stop(b) == 0);

	// Data outlives every handle.
	REQUIRE(a.stop() == 0);
	sc_cache *c = nullptr;
	REQUIRE(sc_attach(name.c_str(), &o, &c) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_str("k")), &t) == 1);
	sc_tuples_free(t);

	// Destroy removes the name; the attached handle keeps its mapping.
	REQUIRE(sc_destroy(name.c_str(), &o) == 0);
	CHECK(sc_started(name.c_str(), &o) == 0);
	REQUIRE(sc_get(c, SC_TUPLE(sc_str("k")), &t) == 1);
	sc_tuples_free(t);
	REQUIRE(sc_stop(c) == 0);
	CHECK(sc_destroy(name.c_str(), &o) == -ENOENT);
	CHECK(sc_attach(name.c_str(), &o, &c) == -ENOENT);
	CHECK(c == nullptr);
}

TEST_CASE("defaults follow the seed: one partition per CPU, key and partition at field 0, set", "[lifecycle]")
{
	Cache c(unique_name("defaults"));
	REQUIRE(c.start_error() == 0);
	sc_options got{};
	REQUIRE(sc_config(c, &got) == 0);
	CHECK(got.num_partition == static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
	CHECK(got.key_pos == 0);
	CHECK(got.partition_pos == 0);
	CHECK(got.table_type == SC_SET);
	CHECK(got.memory_limit == (1ull << 30));
	CHECK(got.max_readers == 1024);
	CHECK(std::string(got.prefix) == "supercache");
	CHECK(std::string(got.dir) == "/dev/shm");
	std::string path = std::string("/dev/shm/supercache.") + c.name() + ".seg";
	CHECK(std::string(sctest_path(c)) == path);
	struct stat st;
	REQUIRE(stat(path.c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0660);
}

TEST_CASE("NULL options mean defaults", "[lifecycle]")
{
	std::string name = unique_name("nullopts");
	sc_cache *c = nullptr;
	REQUIRE(sc_start(name.c_str(), nullptr, &c) == 0);
	REQUIRE(sc_started(name.c_str(), nullptr) == 1);
	REQUIRE(sc_stop(c) == 0);
	REQUIRE(sc_destroy(name.c_str(), nullptr) == 0);
}

TEST_CASE("attaching with another configuration names the mismatch", "[lifecycle]")
{
	sc_options base = options();
	base.num_partition = 4;
	base.memory_limit = 32 << 20;
	Cache c(unique_name("mismatch"), base);
	REQUIRE(c.start_error() == 0);
	sc_cache *other = nullptr;

	SECTION("num_partition")
	{
		sc_options o = base;
		o.num_partition = 8;
		REQUIRE(sc_start(c.name().c_str(), &o, &other) == -EINVAL);
		CHECK(contains(sc_last_error(), "Partition count mismatch"));
		CHECK(contains(sc_last_error(), "num_partition 4, asked for 8"));
	}
	SECTION("key_pos")
	{
		sc_options o = base;
		o.key_pos = 1;
		REQUIRE(sc_start(c.name().c_str(), &o, &other) == -EINVAL);
		CHECK(contains(sc_last_error(), "key_pos mismatch"));
	}
	SECTION("partition_pos")
	{
		sc_options o = base;
		o.partition_pos = 2;
		REQUIRE(sc_start(c.name().c_str(), &o, &other) == -EINVAL);
		CHECK(contains(sc_last_error(), "partition_pos mismatch"));
	}
	SECTION("table_type")
	{
		sc_options o = base;
		o.table_type = SC_BAG;
		REQUIRE(sc_start(c.name().c_str(), &o, &other) == -EINVAL);
		CHECK(contains(sc_last_error(), "table_type mismatch"));
		CHECK(contains(sc_last_error(), "is a set table, asked for bag"));
	}
	SECTION("memory_limit and max_readers are the creator's: an attacher adopts them")
	{
		sc_options o = base;
		o.memory_limit = 64 << 20;
		o.max_readers = 16;
		REQUIRE(sc_start(c.name().c_str(), &o, &other) == 0);
		sc_options got{};
		REQUIRE(sc_config(other, &got) == 0);
		CHECK(got.memory_limit == (32u << 20));
		CHECK(got.max_readers == 1024);
		sc_stop(other);
		other = nullptr;
	}
	CHECK(other == nullptr);
}

TEST_CASE("bad options and names are refused with a message", "[lifecycle][errors]")
{
	std::string name = unique_name("badopts");
	sc_cache *c = nullptr;
	sc_options o = options();

	SECTION("sz unset")
	{
		sc_options z{};
		CHECK(sc_start(name.c_str(), &z, &c) == -EINVAL);
		CHECK(contains(sc_last_error(), "sz"));
	}
	SECTION("a newer caller's unknown fields")
	{
		struct {
			sc_options o;
			uint64_t future;
		} big{};
		big.o.sz = sizeof(big);
		big.future = 1;
		CHECK(sc_start(name.c_str(), &big.o, &c) == -E2BIG);
		big.future = 0;
		REQUIRE(sc_start(name.c_str(), &big.o, &c) == 0);
		sc_stop(c);
		c = nullptr;
		sc_destroy(name.c_str(), nullptr);
	}
	SECTION("limits")
	{
		o.num_partition = 5000;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		o = options();
		o.table_type = 9;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		o = options();
		o.memory_limit = 1 << 20;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		CHECK(contains(sc_last_error(), "memory_limit"));
		o.memory_limit = 128ull << 30;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		o = options();
		o.max_readers = 1 << 20;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		o = options();
		o.key_pos = 70000;
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	}
	SECTION("names")
	{
		CHECK(sc_start("", &o, &c) == -EINVAL);
		CHECK(sc_start("a/b", &o, &c) == -EINVAL);
		CHECK(sc_start("..", &o, &c) == -EINVAL);
		CHECK(sc_start(std::string(65, 'x').c_str(), &o, &c) == -ENAMETOOLONG);
		CHECK(sc_start(nullptr, &o, &c) == -EINVAL);
		o.prefix = "bad prefix";
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		o.prefix = nullptr;
		o.dir = "relative/dir";
		CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
		CHECK(sc_destroy("a/b", nullptr) == -EINVAL);
		CHECK(sc_started("a/b", nullptr) == -EINVAL);
	}
	SECTION("no place for the handle")
	{
		CHECK(sc_start(name.c_str(), &o, nullptr) == -EINVAL);
	}
	CHECK(c == nullptr);
	CHECK(sc_started(name.c_str(), nullptr) == 0);
}

TEST_CASE("every table type can be created, and says which it is", "[lifecycle]")
{
	for (uint32_t type : { SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG }) {
		sc_options o = options(2, 16 << 20);
		o.table_type = type;
		Cache c(unique_name("types"), o);
		REQUIRE(c.start_error() == 0);
		sc_options got{};
		REQUIRE(sc_config(c, &got) == 0);
		CHECK(got.table_type == type);
	}
}

TEST_CASE("prefix and dir place the segment", "[lifecycle]")
{
	char dir[] = "/dev/shm/sctest-dir-XXXXXX";
	REQUIRE(mkdtemp(dir) != nullptr);
	sc_options o = options();
	o.prefix = "myapp";
	o.dir = dir;
	o.memory_limit = 16 << 20;
	std::string name = unique_name("placed");
	{
		Cache c(name, o);
		REQUIRE(c.start_error() == 0);
		std::string path = std::string(dir) + "/myapp." + name + ".seg";
		CHECK(access(path.c_str(), F_OK) == 0);
		CHECK(sc_started(name.c_str(), nullptr) == 0);
		CHECK(sc_started(name.c_str(), &o) == 1);
	}
	CHECK(rmdir(dir) == 0);
}

static std::string seg_path(const std::string &name)
{
	return "/dev/shm/supercache." + name + ".seg";
}

TEST_CASE("a segment someone else could have planted is refused", "[lifecycle][security]")
{
	std::string name = unique_name("planted");
	std::string path = seg_path(name);
	sc_cache *c = nullptr;
	{
		Cache owner(name, options(0, 16 << 20));
		REQUIRE(owner.start_error() == 0);
		owner.stop();

		SECTION("mode open to others")
		{
			REQUIRE(chmod(path.c_str(), 0666) == 0);
			CHECK(sc_attach(name.c_str(), nullptr, &c) == -EPERM);
			CHECK(contains(sc_last_error(), "mode 0666"));
			CHECK(sc_start(name.c_str(), nullptr, &c) == -EPERM);
		}
		SECTION("owner neither us, root, nor a group of ours")
		{
			if (geteuid() != 0) {
				WARN("SKIPPED: changing a file's owner needs root");
				return;
			}
			REQUIRE(chown(path.c_str(), 65534, 65534) == 0);
			CHECK(sc_attach(name.c_str(), nullptr, &c) == -EPERM);
			CHECK(contains(sc_last_error(), "belongs to uid 65534"));
		}
		SECTION("a second hard link")
		{
			std::string link = path + ".link";
			REQUIRE(::link(path.c_str(), link.c_str()) == 0);
			CHECK(sc_attach(name.c_str(), nullptr, &c) == -EPERM);
			CHECK(contains(sc_last_error(), "hard links"));
			unlink(link.c_str());
		}
	}
	CHECK(c == nullptr);
}

TEST_CASE("a symlink or a directory under our name is refused", "[lifecycle][security]")
{
	std::string name = unique_name("symlink");
	std::string path = seg_path(name);
	sc_cache *c = nullptr;

	REQUIRE(symlink("/etc/passwd", path.c_str()) == 0);
	CHECK(sc_start(name.c_str(), nullptr, &c) == -ELOOP);
	CHECK(sc_attach(name.c_str(), nullptr, &c) == -ELOOP);
	unlink(path.c_str());

	REQUIRE(mkdir(path.c_str(), 0700) == 0);
	CHECK(sc_start(name.c_str(), nullptr, &c) < 0);
	rmdir(path.c_str());
	CHECK(c == nullptr);
}

TEST_CASE("a segment of another build or layout is refused", "[lifecycle][security]")
{
	sc_options o = options(0, 16 << 20);
	Cache owner(unique_name("layout"), o);
	REQUIRE(owner.start_error() == 0);
	std::string path = sctest_path(owner);
	sc_cache *c = nullptr;

	SECTION("magic")
	{
		REQUIRE(sctest_tamper_header(path.c_str(), SCTEST_HDR_MAGIC) == 0);
		CHECK(sc_attach(owner.name().c_str(), nullptr, &c) == -EPROTO);
		CHECK(contains(sc_last_error(), "not a supercache segment"));
	}
	SECTION("ABI version")
	{
		REQUIRE(sctest_tamper_header(path.c_str(), SCTEST_HDR_ABI) == 0);
		CHECK(sc_attach(owner.name().c_str(), nullptr, &c) == -EPROTO);
		CHECK(contains(sc_last_error(), "ABI version"));
		CHECK(sc_start(owner.name().c_str(), &o, &c) == -EPROTO);
	}
	SECTION("layout signature")
	{
		REQUIRE(sctest_tamper_header(path.c_str(), SCTEST_HDR_LAYOUT_SIG) == 0);
		CHECK(sc_attach(owner.name().c_str(), nullptr, &c) == -EPROTO);
		CHECK(contains(sc_last_error(), "another memory layout"));
	}
	SECTION("corrupt configuration")
	{
		REQUIRE(sctest_tamper_header(path.c_str(), SCTEST_HDR_NUM_PARTITION) == 0);
		CHECK(sc_attach(owner.name().c_str(), nullptr, &c) == -EUCLEAN);
	}
	CHECK(c == nullptr);
}

TEST_CASE("a file under our name that is not a complete segment is refused", "[lifecycle][security]")
{
	sc_options o = options(0, 16 << 20);
	Cache first(unique_name("incomplete"), o);
	REQUIRE(first.start_error() == 0);
	REQUIRE(sctest_tamper_header(sctest_path(first), SCTEST_HDR_READY) == 0);

	sc_cache *c = nullptr;
	CHECK(sc_attach(first.name().c_str(), &o, &c) == -EUCLEAN);
	CHECK(contains(sc_last_error(), "not a complete segment"));
	CHECK(sc_start(first.name().c_str(), &o, &c) == -EUCLEAN);
	CHECK(c == nullptr);
}

TEST_CASE("processes creating the same cache at once all end up on one segment", "[lifecycle][race]")
{
	const int rounds = 30, procs = 8;
	const mode_t old_umask = umask(077); // the segment's mode must not depend on it
	for (int round = 0; round < rounds; round++) {
		std::string name = unique_name("race");
		sc_options o = options(2, 16 << 20);
		Pipe gate;
		std::vector<pid_t> kids;
		for (int k = 0; k < procs; k++)
			kids.push_back(spawn([&, k]() -> int {
				sc_cache *c = nullptr;
				if (gate.recv() != 'x')
					return 1;
				if (sc_start(name.c_str(), &o, &c))
					return 2;
				if (sc_put(c, SC_TUPLE(sc_int(k), sc_int(round))))
					return 3;
				return sc_stop(c) ? 4 : 0;
			}));
		for (int k = 0; k < procs; k++)
			gate.send();
		int failed = 0;
		for (pid_t pid : kids)
			failed += wait_child(pid) != 0;
		INFO("round " << round);
		CHECK(failed == 0);
		Cache c(name, o);
		REQUIRE(c.start_error() == 0);
		CHECK(Stats(c)->total.records == static_cast<uint64_t>(procs));
		struct stat st;
		REQUIRE(stat(sctest_path(c), &st) == 0);
		CHECK((st.st_mode & 07777) == 0660);
	}
	umask(old_umask);
}

TEST_CASE("a handle used in a forked child returns -ECHILD", "[lifecycle][fork]")
{
	sc_options o = options(0, 16 << 20);
	Cache c(unique_name("fork"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_int(10))) == 0);
	REQUIRE(sc_read_begin(c) == 0); // the parent's slot is registered, and in a section, at fork
	sc_cache *handle = c.get();
	std::string name = c.name();

	pid_t pid = spawn([&]() -> int {
		sc_tuples *t = nullptr;
		sc_cache_stats *s = nullptr;
		if (sc_put(handle, SC_TUPLE(sc_int(2))) != -ECHILD)
			return 1;
		if (sc_get(handle, SC_TUPLE(sc_int(1)), &t) != -ECHILD)
			return 2;
		if (sc_delete(handle, SC_TUPLE(sc_int(1))) != -ECHILD)
			return 3;
		if (sc_stats(handle, &s) != -ECHILD || sc_read_begin(handle) != -ECHILD)
			return 4;
		if (sc_delete_all(handle) != -ECHILD || sc_put_batch(handle, nullptr, 0) != -ECHILD)
			return 5;
		if (!strstr(sc_last_error(), "fork"))
			return 6;
		// Its own handle works, and releasing the inherited one touches nothing shared.
		sc_cache *mine = nullptr;
		if (sc_attach(name.c_str(), nullptr, &mine) != 0)
			return 7;
		if (sc_get(mine, SC_TUPLE(sc_int(1)), &t) != 1 || t->tuples[0].fields[1].v.i != 10)
			return 8;
		sc_tuples_free(t);
		if (sc_stop(handle) != 0 || sc_stop(mine) != 0)
			return 9;
		return 0;
	});
	CHECK(wait_child(pid) == 0);
	sc_read_end(c);

	// The parent's handle and slot are untouched by the child's exit.
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(1)), &t) == 1);
	sc_tuples_free(t);
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->readers == 1);
	}
}

TEST_CASE("error strings", "[lifecycle][errors]")
{
	CHECK(std::string(sc_strerror(-ECHILD)).find("fork") != std::string::npos);
	CHECK(std::string(sc_strerror(ECHILD)) == sc_strerror(-ECHILD));
	CHECK(std::string(sc_strerror(-EUCLEAN)).find("corrupt") != std::string::npos);
	CHECK(std::string(sc_strerror(-ENOENT)) == "No such file or directory");
	CHECK(std::string(sc_strerror(0)) == "success");
	CHECK(sc_strerror(-99999) != nullptr);
	CHECK(sc_stop(nullptr) == 0); // as free(NULL)
	CHECK(sc_config(nullptr, nullptr) == -EINVAL);
}
