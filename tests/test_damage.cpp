// test_damage.cpp — writer state left broken by a writer that died mid-update, or by a scribbler, is survived.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

// Overwrite keys 0..keys-1 with 120-byte values once: each overwrite retires a record.
static void overwrite(sc_cache *c, int keys)
{
	const std::string value(120, 'v');
	for (int k = 0; k < keys; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 120))) == 0);
}

static void check_all_present(sc_cache *c, int keys)
{
	sc_tuples *t = nullptr;
	for (int k = 0; k < keys; k++) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(k)), &t) == 1);
		sc_tuples_free(t);
	}
}

TEST_CASE("a limbo list left half-updated by a dead writer costs a leak, never the header", "[damage]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("limbo"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	overwrite(c, 100); // retires 100 records, well under the grace-period step: they stay in limbo
	uint32_t head, tail;
	sctest_limbo_ends(c, 0, &head, &tail);
	REQUIRE(head != 0);
	REQUIRE(tail != 0);

	SECTION("head set, tail not: a writer died between the two stores of the first retire")
	{
		sctest_set_limbo_ends(c, 0, head, 0);
	}
	SECTION("a tail pointing outside the heap")
	{
		sctest_set_limbo_ends(c, 0, head, 0xfffffff0u);
	}
	SECTION("a tail pointing into the segment header")
	{
		sctest_set_limbo_ends(c, 0, head, 1);
	}
	overwrite(c, 5000); // enough retires for several grace periods
	check_all_present(c, 100);
	// The header is intact: a new process can still attach, and memory is reused again.
	sc_cache *other = nullptr;
	REQUIRE(sc_attach(c.name().c_str(), nullptr, &other) == 0);
	check_all_present(other, 100);
	sc_stop(other);
	const uint64_t used = Stats(c)->memory_used;
	overwrite(c, 5000);
	CHECK(Stats(c)->memory_used == used);
}

TEST_CASE("a page map scribbled over is never a reason to hand out a page twice", "[damage]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("pagemap"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	// Every free page now reads as owned by some partition's garbage.
	REQUIRE(sctest_scribble_free_pages(c, 0xdeadbeefu) > 0);
	std::string big(200 * 1024, 'b');
	CHECK(sc_put(c, SC_TUPLE(sc_int(-1), sc_bytes(big.data(), static_cast<uint32_t>(big.size())))) ==
	      -ENOSPC);
	CHECK(contains(sc_last_error(), "memory_limit"));
	check_all_present(c, 100);
	CHECK(sc_put(c, SC_TUPLE(sc_int(1000), sc_str("small records still fit"))) == 0);
}

static int capture_value(const sc_tuple *t, void *arg)
{
	*static_cast<std::string *>(arg) = str_field(*t, 1);
	return 0;
}

TEST_CASE("a read section survives the epoch moving 2^31 grace periods ahead", "[damage][rcu]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("epochwrap"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_str("original"))) == 0);
	std::string seen;
	const char *view = nullptr;
	REQUIRE(sc_read_begin(c) == 0);
	REQUIRE(sc_get_view(
			c, SC_TUPLE(sc_int(0)),
			[](const sc_tuple *t, void *arg) -> int {
				*static_cast<const char **>(arg) =
					static_cast<const char *>(t->fields[1].v.p);
				return 0;
			},
			&view) == 1);
	// Retire tags keep 32 bits of the epoch: 2^31 epochs later they must still compare right.
	sctest_add_epoch(c, (1ull << 31) + 16);
	const std::string filler(120, 'f');
	for (int i = 0; i < 5000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_bytes(filler.data(), 120))) == 0);
	CHECK(std::string(view) == "original");
	sc_read_end(c);
	// Once the section is over the backlog goes.
	for (int i = 0; i < 3000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_bytes(filler.data(), 120))) == 0);
	CHECK(Stats(c)->total.retired_bytes < 512u * 1024);
	REQUIRE(sc_get_view(c, SC_TUPLE(sc_int(0)), capture_value, &seen) == 1);
	CHECK(seen == filler);
}

// The id of a process that existed and is gone: what a stray write of a plausible thread id names.
static uint32_t gone_thread()
{
	const pid_t pid = spawn([] { return 0; });
	REQUIRE(wait_child(pid) == 0);
	return static_cast<uint32_t>(pid);
}

TEST_CASE("a lock word naming a thread that is gone is taken back by the next writer", "[damage][locks]")
{
	sc_options o = options(2, 64 << 20);
	Cache c(unique_name("lockgone"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	const uint32_t tid = gone_thread();
	const bool allocator = GENERATE(false, true);
	INFO((allocator ? "the allocator's lock" : "a partition's lock") << " names thread " << tid);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(7)));
	REQUIRE(sctest_scribble(c, sctest_offset(c, allocator ? SCTEST_ALLOC_LOCK : SCTEST_PART_LOCK, part), &tid,
				sizeof(tid)) == 0);

	// A look without locks names it.
	std::string problems;
	CHECK(check_segment(c, SC_CHECK_NO_LOCKS, &problems) == -EUCLEAN);
	CHECK(contains(problems.c_str(), ("thread " + std::to_string(tid)).c_str()));
	CHECK(contains(problems.c_str(), "does not exist"));

	// Another process writes at once: it takes the lock back, repairs, and goes on.
	const std::string name = c.name();
	pid_t writer = spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 2;
		const std::string big(200 * 1024, 'b'); // a span of its own: the allocator's lock too
		if (sc_put(h, SC_TUPLE(sc_int(7), sc_str("after"))) ||
		    sc_put(h, SC_TUPLE(sc_int(-1), sc_bytes(big.data(), static_cast<uint32_t>(big.size())))))
			return 3;
		sc_stop(h);
		return 0;
	});
	CHECK(wait_child(writer) == 0);
	check_all_present(c, 100);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	if (!allocator)
		CHECK(Stats(c)->partitions[part].writer_deaths == 1);
}

TEST_CASE("a lock word naming a live thread that is no writer is taken back by a reset", "[damage][locks]")
{
	sc_options o = options(2, 64 << 20);
	Cache c(unique_name("locklive"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	// A live process that never touches the cache: the word will name it.
	Pipe hold;
	ChildGuard bystander(spawn([&] {
		hold.recv();
		return 0;
	}));
	const uint32_t tid = static_cast<uint32_t>(bystander.pid());
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(7)));
	REQUIRE(sctest_scribble(c, sctest_offset(c, SCTEST_PART_LOCK, part), &tid, sizeof(tid)) == 0);

	std::string problems;
	CHECK(check_segment(c, 0, &problems) == -EUCLEAN);
	CHECK(contains(problems.c_str(), "cannot take the partition's lock"));
	CHECK(contains(problems.c_str(), ("thread " + std::to_string(tid)).c_str()));

	REQUIRE(sc_partition_reset(c, part) == 0);
	CHECK(sc_put(c, SC_TUPLE(sc_int(7), sc_str("after"))) == 0);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	hold.send();
	CHECK(bystander.wait() == 0);
}

TEST_CASE("a record whose bytes changed under its checksum is never read: every read says -EUCLEAN",
	  "[damage][checksum]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("payload"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("Alice"))) == 0);
	REQUIRE(sc_kv_add(c, "session", sc_str("user_1"), sc_str("Alice")) == 0);
	// One byte of each payload ('A' of "Alice" becomes 'D'), as a stray write through a view's
	// pointer would change it: the tuple's record, then the KeyValue pair's (structure partition 1).
	for (uint32_t part : { 0u, 1u }) {
		const uint64_t rec = sctest_offset(c, SCTEST_FIRST_RECORD, part);
		REQUIRE(rec != 0);
		char bytes[256];
		const int fd = open(sctest_path(c), O_RDONLY | O_CLOEXEC);
		REQUIRE(pread(fd, bytes, sizeof(bytes), static_cast<off_t>(rec)) == static_cast<ssize_t>(sizeof(bytes)));
		close(fd);
		const char *alice = static_cast<const char *>(memmem(bytes, sizeof(bytes), "Alice", 5));
		REQUIRE(alice != nullptr);
		const char scribble = 'D';
		REQUIRE(sctest_scribble(c, rec + static_cast<uint64_t>(alice - bytes), &scribble, 1) == 0);
	}
	sc_tuples *t = nullptr;
	CHECK(sc_get(c, SC_TUPLE(sc_int(1)), &t) == -EUCLEAN);
	CHECK(t == nullptr);
	CHECK(contains(sc_last_error(), "checksum"));
	int visited = 0;
	CHECK(sc_get_view(
		      c, SC_TUPLE(sc_int(1)),
		      [](const sc_tuple *, void *arg) -> int {
			      ++*static_cast<int *>(arg);
			      return 0;
		      },
		      &visited) == -EUCLEAN);
	CHECK(visited == 0);
	CHECK(sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t) == -EUCLEAN);
	CHECK(sc_kv_get(c, "session", sc_str("user_1"), nullptr, &t) == -EUCLEAN);
	CHECK(contains(sc_last_error(), "checksum"));
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == -EUCLEAN);
	CHECK(contains(problems.c_str(), "checksum"));
}

TEST_CASE("the record checksum is the same with and without the CPU's CRC instruction", "[checksum]")
{
	// It is part of the segment's format: two processes must agree whatever they run on.
	std::string data;
	uint64_t seed = 1;
	for (size_t len = 0; len < 600; len++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		data.push_back(static_cast<char>(seed >> 56));
		INFO("length " << len);
		REQUIRE(sctest_checksum(data.data(), len, seed, 1) == sctest_checksum(data.data(), len, seed, 0));
	}
	// And a change of any one byte changes it.
	const uint32_t whole = sctest_checksum(data.data(), data.size(), 7, 1);
	for (size_t i = 0; i < data.size(); i++) {
		std::string changed = data;
		changed[i] ^= 0x01;
		REQUIRE(sctest_checksum(changed.data(), changed.size(), 7, 1) != whole);
	}
}

// A view of key 0's value taken inside a read section the caller opened: the pointer into shared memory.
static const char *view_of_key0(sc_cache *c)
{
	const char *view = nullptr;
	REQUIRE(sc_get_view(
			c, SC_TUPLE(sc_int(0)),
			[](const sc_tuple *t, void *arg) -> int {
				*static_cast<const char **>(arg) = static_cast<const char *>(t->fields[1].v.p);
				return 0;
			},
			&view) == 1);
	return view;
}

TEST_CASE("scribbled reclamation state never frees memory an open read section sees, nor stalls writers",
	  "[damage][rcu]")
{
	sc_options o = options(1, 64 << 20);
	o.max_retired = 8 << 20;
	Cache c(unique_name("gpstate"), o);
	REQUIRE(c.start_error() == 0);
	const std::string original(120, 'A'), filler(120, 'f');
	overwrite(c, 100);
	overwrite(c, 100);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_bytes(original.data(), 120))) == 0);
	const uint64_t values[] = { ~0ull, 0, 1, 1ull << 62, 0x7fffffff00000000ull };
	const bool epoch = GENERATE(false, true);
	const uint64_t value = GENERATE_REF(from_range(values, values + 5));
	INFO((epoch ? "gp_epoch" : "the reclaimers' line") << " := " << value);

	// A reader holds a view of key 0's record; then the word is scribbled.
	REQUIRE(sc_read_begin(c) == 0);
	const char *view = view_of_key0(c);
	REQUIRE(sctest_scribble(c, sctest_offset(c, epoch ? SCTEST_GP_EPOCH : SCTEST_RECLAIM_LINE, 0), &value,
				sizeof(value)) == 0);
	// Key 0 is replaced, and enough is written to reuse its memory if anything let it go.
	for (int i = 0; i < 20000; i++) {
		const int r = sc_put(c, SC_TUPLE(sc_int(i % 200), sc_bytes(filler.data(), 120)));
		if (r == -EAGAIN) // the bound on what this open section holds back: not a stall
			break;
		REQUIRE(r == 0);
	}
	CHECK(std::string(view, 120) == original);
	sc_read_end(c);

	// With no section open, nothing holds writers back: the backlog goes and writes go on.
	for (int i = 0; i < 20000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i % 200), sc_bytes(filler.data(), 120))) == 0);
	CHECK(Stats(c)->total.retired_bytes < 1u << 20);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}

TEST_CASE("a retire tag from an epoch that has not begun is named, and never stalls writers", "[damage][rcu]")
{
	sc_options o = options(1, 64 << 20);
	o.max_retired = 4 << 20; // the partition's share is 2 MiB: an unfreeable head stalls quickly
	Cache c(unique_name("badtag"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	overwrite(c, 100);
	const uint64_t at = sctest_offset(c, SCTEST_LIMBO_HEAD_TAG, 0);
	REQUIRE(at != 0);
	uint32_t tag = 0;
	const int fd = open(sctest_path(c), O_RDONLY | O_CLOEXEC);
	REQUIRE(pread(fd, &tag, sizeof(tag), static_cast<off_t>(at)) == static_cast<ssize_t>(sizeof(tag)));
	close(fd);
	tag += 1000; // a thousand grace periods from now
	REQUIRE(sctest_scribble(c, at, &tag, sizeof(tag)) == 0);

	std::string problems;
	CHECK(check_segment(c, SC_CHECK_NO_LOCKS, &problems) == -EUCLEAN);
	CHECK(contains(problems.c_str(), "retire tag"));
	// Far more than the bound's worth of replacements: the tag must not hold the list back.
	for (int i = 0; i < 60000; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i % 200), sc_str("a value of some length, replaced"))) == 0);
	CHECK(Stats(c)->total.retired_bytes < 1u << 20);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}
