// test_multiprocess.cpp — several processes on one segment: concurrent readers and writers, restarts, kills.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "checked_value.hpp"
#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

// One writer's deterministic history: replayed by the writer and, afterwards, by the model.
struct Op {
	bool put;
	int64_t key;
	uint64_t seq;
};

std::vector<Op> writer_ops(uint32_t writer, int count, int keys)
{
	std::mt19937_64 rng(1000 + writer);
	std::vector<Op> ops;
	for (int i = 0; i < count; i++) {
		int64_t key = static_cast<int64_t>(rng() % (keys / 2)) * 2 + writer;
		ops.push_back({ rng() % 5 != 0, key, static_cast<uint64_t>(i + 1) });
	}
	return ops;
}

sc_options mp_options()
{
	return options(4, 256 << 20);
}

struct Shared {
	std::atomic<int> writers_done;
	std::atomic<uint64_t> reads;
	std::atomic<uint64_t> hits;
};

int run_writer(const std::string &name, uint32_t writer, int count, int keys)
{
	sc_cache *c = nullptr;
	sc_options o = mp_options();
	if (sc_start(name.c_str(), &o, &c))
		return 20;
	for (const Op &op : writer_ops(writer, count, keys)) {
		if (op.put) {
			Value v = make_value(op.key, op.seq, writer);
			if (sc_put(c, SC_TUPLE(sc_int(op.key), sc_bytes(v.bytes, kValueSize))))
				return 21;
		} else if (sc_delete(c, SC_TUPLE(sc_int(op.key))) < 0) {
			return 22;
		}
	}
	sc_stop(c);
	return 0;
}

int run_reader(const std::string &name, Shared *sh, int keys, uint32_t seed)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 30;
	std::mt19937 rng(seed);
	std::vector<uint64_t> last_seq(keys, 0);
	uint64_t reads = 0, hits = 0;
	// Read until both writers are done, then once more over every key.
	for (int round = 0;; round++) {
		bool final_pass = sh->writers_done.load() == 2;
		for (int i = 0; i < (final_pass ? keys : 2000); i++) {
			int64_t key = final_pass ? i % keys : static_cast<int64_t>(rng() % keys);
			uint64_t seq = 0;
			int bad = 0;
			if ((round + i) % 2 == 0) {
				sc_tuples *t = nullptr;
				int r = sc_get(c, SC_TUPLE(sc_int(key)), &t);
				if (r < 0)
					return 31;
				if (r == 1) {
					bad = t->tuples[0].nfields != 2
						      ? 3
						      : check_value(t->tuples[0].fields[1], key, &seq);
					hits++;
				}
				sc_tuples_free(t);
			} else {
				ViewCheck vc{ key, 0, 0 };
				int r = sc_get_view(c, SC_TUPLE(sc_int(key)), view_check, &vc);
				if (r < 0)
					return 32;
				if (r == 1) {
					bad = vc.bad;
					seq = vc.seq;
					hits++;
				}
			}
			if (bad)
				return 10 + bad; // torn, freed or foreign record
			if (seq && seq < last_seq[key])
				return 15; // a write went backwards for this reader
			if (seq)
				last_seq[key] = seq;
			reads++;
		}
		if (final_pass)
			break;
	}
	sh->reads += reads;
	sh->hits += hits;
	sc_stop(c);
	return 0;
}

} // namespace

TEST_CASE("two writers and two readers: no torn or freed reads, final contents equal the model",
	  "[multiprocess]")
{
	const int keys = 20000, ops = 150000;
	std::string name = unique_name("mp");
	sc_options o = mp_options();
	Cache owner(name, o);
	REQUIRE(owner.start_error() == 0);
	auto *sh = static_cast<Shared *>(shared_anon(sizeof(Shared)));
	REQUIRE(sh != nullptr);
	new (sh) Shared{};

	pid_t w0 = spawn([&] { return run_writer(name, 0, ops, keys); });
	pid_t w1 = spawn([&] { return run_writer(name, 1, ops, keys); });
	pid_t r0 = spawn([&] { return run_reader(name, sh, keys, 7); });
	pid_t r1 = spawn([&] { return run_reader(name, sh, keys, 8); });
	CHECK(wait_child(w0) == 0);
	CHECK(wait_child(w1) == 0);
	sh->writers_done = 2;
	CHECK(wait_child(r0) == 0);
	CHECK(wait_child(r1) == 0);
	CHECK(sh->reads.load() >= 2u * keys);
	CHECK(sh->hits.load() > 0);

	// The model: each writer's history replayed; the writers own disjoint keys.
	std::map<int64_t, std::pair<uint64_t, uint32_t>> model;
	for (uint32_t w = 0; w < 2; w++)
		for (const Op &op : writer_ops(w, ops, keys)) {
			if (op.put)
				model[op.key] = { op.seq, w };
			else
				model.erase(op.key);
		}
	sc_tuples *t = nullptr;
	size_t mismatches = 0;
	for (int64_t key = 0; key < keys; key++) {
		int r = sc_get(owner, SC_TUPLE(sc_int(key)), &t);
		auto it = model.find(key);
		if (it == model.end()) {
			mismatches += r != 0;
		} else if (r != 1) {
			mismatches++;
		} else {
			Value want = make_value(key, it->second.first, it->second.second);
			mismatches += std::memcmp(t->tuples[0].fields[1].v.p, want.bytes, kValueSize) != 0;
		}
		sc_tuples_free(t);
	}
	CHECK(mismatches == 0);
	{
		Stats s(owner);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == model.size());
	}
}

TEST_CASE("warm restart: after every process has exited, a new one reads everything back", "[multiprocess]")
{
	const int keys = 20000;
	std::string name = unique_name("warm");
	sc_options o = mp_options();
	// Two writers: one stops cleanly, one just exits (its reader slot is left behind).
	auto write_half = [&](int half, bool clean) {
		return spawn([=]() -> int {
			sc_cache *c = nullptr;
			sc_options opts = mp_options();
			if (sc_start(name.c_str(), &opts, &c))
				return 1;
			for (int64_t k = half; k < keys; k += 2) {
				Value v = make_value(k, 1, 0);
				if (sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(v.bytes, kValueSize))))
					return 2;
			}
			sc_tuples *t = nullptr;
			sc_get(c, SC_TUPLE(sc_int(half)), &t); // registers a reader slot
			sc_tuples_free(t);
			if (clean)
				sc_stop(c);
			return 0;
		});
	};
	pid_t a = write_half(0, true), b = write_half(1, false);
	REQUIRE(wait_child(a) == 0);
	REQUIRE(wait_child(b) == 0);

	pid_t reader = spawn([&]() -> int {
		sc_cache *c = nullptr;
		if (sc_attach(name.c_str(), nullptr, &c))
			return 1;
		sc_tuples *t = nullptr;
		for (int64_t k = 0; k < keys; k++) {
			uint64_t seq;
			if (sc_get(c, SC_TUPLE(sc_int(k)), &t) != 1)
				return 2;
			if (check_value(t->tuples[0].fields[1], k, &seq) || seq != 1)
				return 3;
			sc_tuples_free(t);
		}
		{
			Stats s(c);
			if (s.error() || s->total.records != static_cast<uint64_t>(keys))
				return 4;
		}
		sc_stop(c);
		return 0;
	});
	CHECK(wait_child(reader) == 0);
	CHECK(sc_destroy(name.c_str(), &o) == 0);
}

// Overwrite keys 0..999 with 120-byte values, rounds times: 150 KiB retired a round.
static void overwrite(sc_cache *c, int rounds)
{
	const std::string value(120, 'v');
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < 1000; k++)
			REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(value.data(), 120))) == 0);
}

TEST_CASE("a reader killed inside a read section does not stall reclamation", "[multiprocess][rcu]")
{
	sc_options o = options(1, 128 << 20);
	Cache c(unique_name("killed"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 1);

	Pipe ready, never;
	std::string name = c.name();
	ChildGuard reader(spawn([&]() -> int {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || sc_read_begin(h))
			return 1;
		ready.send();
		never.recv(); // blocks inside the read section until killed
		return 0;
	}));
	REQUIRE(ready.recv() == 'x');
	CHECK(Stats(c)->readers == 2);

	// While it lives, nothing retired after it entered can be reused.
	overwrite(c, 20);
	CHECK(Stats(c)->total.retired_bytes > 2u * 1024 * 1024);

	REQUIRE(kill(reader.pid(), SIGKILL) == 0);
	REQUIRE(reader.wait() == 128 + SIGKILL);

	// The next grace period finds the slot's owner dead, releases it, and frees the backlog.
	overwrite(c, 3);
	uint64_t used;
	{
		Stats after(c);
		CHECK(after->total.retired_bytes < 512u * 1024);
		CHECK(after->readers == 1);
		used = after->memory_used;
	}
	// And from here on memory is reused, not grown.
	overwrite(c, 20);
	CHECK(Stats(c)->memory_used == used);
}

TEST_CASE("a stopped reader is named in the stats as the one holding back reuse", "[multiprocess][rcu]")
{
	sc_options o = options(1, 128 << 20);
	Cache c(unique_name("stopped"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 1);
	CHECK(Stats(c)->oldest_reader_pid == 0);

	ChildGuard reader(spawn_reader_stopped_in_section(c.name()));
	REQUIRE(reader.pid() > 0);

	overwrite(c, 5); // several grace periods go by without it
	{
		Stats s(c);
		CHECK(s->oldest_reader_pid == static_cast<uint32_t>(reader.pid()));
		CHECK(s->oldest_reader_tid == static_cast<uint32_t>(reader.pid()));
		CHECK(s->oldest_reader_lag >= 2);
	}
	REQUIRE(kill(reader.pid(), SIGCONT) == 0);
	REQUIRE(reader.wait() == 0);
	CHECK(Stats(c)->oldest_reader_pid == 0);
}

// Field 22 of /proc/<pid>/stat: the process's start time in clock ticks after boot.
static uint64_t start_time_of(pid_t pid)
{
	std::string path = "/proc/" + std::to_string(pid) + "/stat";
	FILE *f = fopen(path.c_str(), "r");
	char buf[1024] = {};
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	const char *p = n ? strrchr(buf, ')') : nullptr;
	unsigned long long start = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

TEST_CASE("a reader slot whose pid now names another process is released; a live reader's is not",
	  "[multiprocess][rcu]")
{
	sc_options o = options(1, 64 << 20);
	Cache c(unique_name("pidreuse"), o);
	REQUIRE(c.start_error() == 0);
	overwrite(c, 1);

	// A live process stands in for the reader; only its recorded start time differs.
	Pipe never;
	ChildGuard child(spawn([&]() -> int {
		never.recv();
		return 0;
	}));
	const uint64_t real_start = start_time_of(child.pid());
	REQUIRE(real_start != 0);

	SECTION("same pid, another start time: the pid was reused, the reader is gone")
	{
		uint32_t slot = sctest_plant_reader(c, static_cast<uint32_t>(child.pid()), real_start + 1);
		overwrite(c, 10);
		CHECK_FALSE(sctest_slot_owned(c, slot));
		CHECK(Stats(c)->total.retired_bytes < 512u * 1024);
	}
	SECTION("our own pid with another start time: an earlier process with our pid died reading")
	{
		const uint64_t ours = start_time_of(getpid());
		REQUIRE(ours != 0);
		uint32_t slot = sctest_plant_reader(c, static_cast<uint32_t>(getpid()), ours + 1);
		overwrite(c, 10);
		CHECK_FALSE(sctest_slot_owned(c, slot));
		CHECK(Stats(c)->total.retired_bytes < 512u * 1024);
	}
	SECTION("same pid and start time: a live reader holds memory back")
	{
		uint32_t slot = sctest_plant_reader(c, static_cast<uint32_t>(child.pid()), real_start);
		overwrite(c, 10);
		CHECK(sctest_slot_owned(c, slot));
		CHECK(Stats(c)->total.retired_bytes > 1024u * 1024);
	}
}

TEST_CASE("a process that exited without sc_stop gives its reader slot back within a few grace periods",
	  "[multiprocess][rcu]")
{
	Cache c(unique_name("exited"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	overwrite(c, 1);
	std::string name = c.name();
	pid_t child = spawn([&]() -> int {
		sc_cache *h = nullptr;
		sc_tuples *t = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h) || sc_get(h, SC_TUPLE(sc_int(1)), &t) != 1)
			return 1;
		return 0; // no sc_stop: the slot stays owned by a pid that is gone
	});
	REQUIRE(wait_child(child) == 0);
	REQUIRE(Stats(c)->readers == 2);
	overwrite(c, 10); // several grace periods, each checking one more slot
	CHECK(Stats(c)->readers == 1);
}

TEST_CASE("ending a read section a thread never began claims no slot", "[multiprocess][rcu]")
{
	Cache c(unique_name("noslot"), options(1, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(Stats(c)->readers == 1); // the slot Stats itself takes, in this thread
	Pipe ended, done;
	std::thread other([&] {
		sc_read_end(c);
		ended.send();
		done.recv(); // stays alive, with whatever slot it has, until checked
	});
	REQUIRE(ended.recv() == 'x');
	CHECK(Stats(c)->readers == 1);
	done.send();
	other.join();
}

// What the visitor of the fork test does and finds; no Catch2 assertion may run inside a visitor.
struct ForkInVisitor {
	sc_cache *cache;
	pid_t parent;
	int child_status = -1;
	int overwrite_errors = 0;
	bool view_intact = false;
};

static int fork_and_overwrite(const sc_tuple *t, void *arg)
{
	auto *fv = static_cast<ForkInVisitor *>(arg);
	const std::string original(static_cast<const char *>(t->fields[1].v.p), t->fields[1].len);
	const std::string filler(120, 'f');
	pid_t pid = fork();

	if (pid == 0)
		return 0; // the child goes back out through the parent's read section
	fv->child_status = wait_child(pid);
	// Still inside the section: what it sees must not be reclaimed, however much is retired.
	for (int i = 0; i < 20000; i++)
		fv->overwrite_errors +=
			sc_put(fv->cache, SC_TUPLE(sc_int(1), sc_bytes(filler.data(), 120))) != 0;
	fv->view_intact =
		std::string(static_cast<const char *>(t->fields[1].v.p), t->fields[1].len) == original;
	return 0;
}

TEST_CASE("a child forked inside a visitor leaves the parent's read section alone", "[multiprocess][fork]")
{
	Cache c(unique_name("forkview"), options(1, 64 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(1), sc_str("the original value"))) == 0);
	ForkInVisitor fv;
	fv.cache = c;
	fv.parent = getpid();
	int found = sc_get_view(c, SC_TUPLE(sc_int(1)), fork_and_overwrite, &fv);
	if (getpid() != fv.parent)
		_exit(found == 1 ? 0 : 1);
	CHECK(found == 1);
	CHECK(fv.child_status == 0);
	CHECK(fv.overwrite_errors == 0);
	CHECK(fv.view_intact);
}
