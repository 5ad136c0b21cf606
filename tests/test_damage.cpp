// test_damage.cpp — writer state left broken by a writer that died mid-update, or by a scribbler, is survived.
#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
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
	// Four times the keys' worth of replacements (3 MiB) take at most one more 1 MiB slab.
	const uint64_t used = Stats(c)->memory_used;
	for (int round = 0; round < 4; round++)
		overwrite(c, 5000);
	CHECK(Stats(c)->memory_used <= used + (1u << 20));
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

// A view of key 0's value taken inside a read section the caller opened: the pointer into shared memory.
static const char *view_of_key0(sc_cache *c)
{
	const char *view = nullptr;
	REQUIRE(sc_get_view(
			c, SC_TUPLE(sc_int(0)),
			[](const sc_tuple *t, void *arg) -> int {
				*static_cast<const char **>(arg) =
					static_cast<const char *>(t->fields[1].v.p);
				return 0;
			},
			&view) == 1);
	return view;
}

TEST_CASE("a read section survives the epoch moving 2^31 grace periods ahead", "[damage][rcu]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("epochwrap"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(0), sc_str("original"))) == 0);
	std::string seen;
	REQUIRE(sc_read_begin(c) == 0);
	const char *view = view_of_key0(c);
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

TEST_CASE(
	"a lock word naming a thread that is gone, or no user of the cache, is taken back by the next writer",
	"[damage][locks]")
{
	sc_options o = options(2, 64 << 20);
	Cache c(unique_name("lockgone"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 100);
	// A process that exited, or one that lives but maps no cache (what a stray write of a small
	// number names: some system process).
	const bool alive = GENERATE(false, true);
	pid_t stranger = alive ? fork() : -1;
	if (stranger == 0) {
		execl("/bin/sleep", "sleep", "600", static_cast<char *>(nullptr));
		_exit(127);
	}
	ChildGuard guard(stranger);
	const uint32_t tid = alive ? static_cast<uint32_t>(stranger) : gone_thread();
	const bool allocator = GENERATE(false, true);
	INFO((allocator ? "the allocator's lock" : "a partition's lock") << " names thread " << tid);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(7)));
	REQUIRE(sctest_scribble(c, sctest_offset(c, allocator ? SCTEST_ALLOC_LOCK : SCTEST_PART_LOCK, part),
				&tid, sizeof(tid)) == 0);

	// A look without locks names a holder that does not exist.
	std::string problems;
	if (!alive) {
		CHECK(check_segment(c, SC_CHECK_NO_LOCKS, &problems) == -EUCLEAN);
		CHECK(contains(problems.c_str(), ("thread " + std::to_string(tid)).c_str()));
		CHECK(contains(problems.c_str(), "does not exist"));
	}

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
		REQUIRE(pread(fd, bytes, sizeof(bytes), static_cast<off_t>(rec)) ==
			static_cast<ssize_t>(sizeof(bytes)));
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
	// Into the caller's buffer: the copy is checked, and nothing of it is handed out.
	uint64_t room[64];
	const sc_tuples *into = nullptr;
	CHECK(sc_get_into(c, SC_TUPLE(sc_int(1)), room, sizeof(room), &into, nullptr) == -EUCLEAN);
	CHECK(into == nullptr);
	char buf[64];
	sc_field value = sc_int(-1);
	CHECK(sc_kv_get_into(c, "session", sc_str("user_1"), buf, sizeof(buf), &value, nullptr) == -EUCLEAN);
	CHECK(contains(sc_last_error(), "checksum"));
	CHECK((value.type == SC_FIELD_INT && value.v.i == -1));
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
		REQUIRE(sctest_checksum(data.data(), len, seed, 1) ==
			sctest_checksum(data.data(), len, seed, 0));
	}
	// And a change of any one byte changes it.
	const uint32_t whole = sctest_checksum(data.data(), data.size(), 7, 1);
	for (size_t i = 0; i < data.size(); i++) {
		std::string changed = data;
		changed[i] ^= 0x01;
		REQUIRE(sctest_checksum(changed.data(), changed.size(), 7, 1) != whole);
	}
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
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i % 200), sc_str("a value of some length, replaced"))) ==
			0);
	CHECK(Stats(c)->total.retired_bytes < 1u << 20);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}

TEST_CASE("a segment file another process truncated is named, given its size back and repaired",
	  "[damage][truncate]")
{
	sc_options o = options(4, 64 << 20);
	Cache c(unique_name("truncated"), o);
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 3000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("value"), sc_int(k))) == 0);
	// Cut off all but the metadata and the first slab: everything past it faults.
	const off_t cut = static_cast<off_t>(sctest_heap_off(c) + (1u << 20));
	const bool attach_after = GENERATE(false, true);
	INFO((attach_after ? "a new attach" : "a handle attached before") << " finds it");
	pid_t cutter = spawn([&] { return truncate(sctest_path(c), cut) == 0 ? 0 : 1; });
	REQUIRE(wait_child(cutter) == 0);

	sc_cache *h = c;
	if (attach_after) {
		// The attach gives the file its size back and repairs before it returns.
		REQUIRE(sc_attach(c.name().c_str(), nullptr, &h) == 0);
		Stats s(h);
		CHECK(s->truncations == 1);
		CHECK(s->truncated_to == static_cast<uint64_t>(cut));
	} else {
		// The check names it without touching what was cut off (it would fault).
		sc_check_report rep;
		REQUIRE(sc_check(c, 0, &rep) == -EUCLEAN);
		CHECK(rep.segment_problems == 1);
		CHECK(contains(rep.list[0].what, "truncated"));
		CHECK(sc_repair(c) >= 0);
	}
	std::string problems;
	CHECK(check_segment(h, 0, &problems) == 0);
	CHECK(problems == "");
	// What lay in the first slab is still there or gone whole; every partition takes writes.
	sc_tuples *t = nullptr;
	for (int k = 0; k < 3000; k++) {
		const int r = sc_get(h, SC_TUPLE(sc_int(k)), &t);
		REQUIRE(r >= 0);
		if (r == 1)
			CHECK(t->tuples[0].fields[2].v.i == k);
		sc_tuples_free(t);
	}
	for (int k = 0; k < 3000; k++)
		REQUIRE(sc_put(h, SC_TUPLE(sc_int(k), sc_str("again"), sc_int(k))) == 0);
	CHECK(check_segment(h, 0, &problems) == 0);
	if (h != c.get())
		sc_stop(h);
}

TEST_CASE(
	"a read-only handle reads everything, writes nothing, and its stray writes fault in its own process",
	"[damage][read-only]")
{
	sc_options o = options(2, 64 << 20);
	o.eviction = SC_EVICTION_CLOCK;
	Cache c(unique_name("readonly"), o);
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("Alice"))) == 0);
	REQUIRE(sc_kv_add(c, "session", sc_str("user_1"), sc_str("Alice")) == 0);
	REQUIRE(sc_queue_add(c, "jobs", sc_int(7)) == 0);
	sc_options ro = options();
	ro.read_only = 1;
	sc_options bad = options();
	bad.read_only = 1;
	sc_cache *refused = nullptr;
	CHECK(sc_start(c.name().c_str(), &bad, &refused) == -EINVAL);

	const std::string name = c.name();
	const int status = wait_child(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), &ro, &h))
			return 2;
		sc_tuples *t = nullptr;
		if (sc_get(h, SC_TUPLE(sc_int(1)), &t) != 1)
			return 3;
		sc_tuples_free(t);
		if (sc_kv_get(h, "session", sc_str("user_1"), nullptr, &t) != 1)
			return 4;
		sc_tuples_free(t);
		if (sc_queue_peek(h, "jobs", nullptr, &t) != 1)
			return 5;
		sc_tuples_free(t);
		if (sc_get_by_match_object(h, nullptr, SC_TUPLE(sc_any(), sc_any()), &t) != 1)
			return 6;
		sc_tuples_free(t);
		sc_cache_stats *s = nullptr;
		if (sc_stats(h, &s) || s->total.records != 1)
			return 7;
		sc_stats_free(s);
		if (sc_check(h, 0, nullptr) != 0)
			return 8;
		// Every write is refused, and says why.
		if (sc_put(h, SC_TUPLE(sc_int(2), sc_str("Bob"))) != -EROFS ||
		    !contains(sc_last_error(), "read-only") || sc_delete(h, SC_TUPLE(sc_int(1))) != -EROFS ||
		    sc_kv_add(h, "session", sc_str("user_2"), sc_str("Bob")) != -EROFS ||
		    sc_queue_out(h, "jobs", nullptr, &t) != -EROFS ||
		    sc_lazy_put(h, SC_TUPLE(sc_int(3), sc_str("Carol"))) != -EROFS ||
		    sc_partition_reset(h, 0) != -EROFS || sc_repair(h) != -EROFS ||
		    sc_reclaim(h, nullptr) != -EROFS)
			return 9;
		// A stray write through a view's pointer: this process faults, not the cache (and dies
		// of it: the test framework's handler, inherited, would report the fault as its own).
		signal(SIGSEGV, SIG_DFL);
		sc_get_view(
			h, SC_TUPLE(sc_int(1)),
			[](const sc_tuple *tup, void *) -> int {
				const_cast<char *>(static_cast<const char *>(tup->fields[1].v.p))[0] = 'D';
				return 0;
			},
			nullptr);
		return 10;
	}));
	CHECK(status == 128 + SIGSEGV);
	sc_tuples *t = nullptr;
	REQUIRE(sc_get(c, SC_TUPLE(sc_int(1)), &t) == 1);
	CHECK(str_field(t->tuples[0], 1) == "Alice");
	sc_tuples_free(t);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}
