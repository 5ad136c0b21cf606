// helpers.hpp — what the test suites share: unique cache names, handles that clean up, child processes.
#pragma once

#include <supercache.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <sys/types.h>
#include <time.h>

namespace sctest
{

// The calling process's effective capabilities (CapEff in /proc/self/status), 0 when unreadable.
uint64_t effective_caps();

// A suite whose every case needs what this machine lacks (why_expr: the reason, or "" when it has
// it): print "SKIPPED: why" and exit 77, which the harness counts as skipped, not passed.
#define SCTEST_SKIP_IF(why_expr)                                       \
	do {                                                           \
		const std::string why_ = (why_expr);                   \
		if (!why_.empty()) {                                   \
			std::cout << "SKIPPED: " << why_ << std::endl; \
			std::exit(77);                                 \
		}                                                      \
	} while (0)

// Milliseconds on a kernel clock (CLOCK_MONOTONIC unless named), for the tests' own deadlines.
uint64_t clock_ms(clockid_t id = CLOCK_MONOTONIC);

// A cache name no other test (or earlier run) uses.
std::string unique_name(const char *what);

// Run the calling thread on one CPU only, or on every CPU again: whether the kernel agreed.
bool pin_to(int cpu);
bool pin_to_all();

// Options with sz set, as SC_OPTIONS() does in C; 0 leaves a field at its default.
sc_options options(uint32_t partitions = 0, uint64_t memory_limit = 0);

// The four table types, for tests that run once on each.
inline constexpr uint32_t every_table_type[] = { SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG };

// options() of a table type.
sc_options typed_options(uint32_t table_type, uint32_t partitions, uint64_t memory_limit);

// The same for a distributed cache with replication_factor copies of each partition.
sc_options distributed_options(uint32_t partitions, uint64_t memory_limit, uint32_t replication_factor);

// Start or attach a cache, destroying its segment when the test ends.
class Cache
{
      public:
	Cache(const std::string &name, const sc_options &opts);
	explicit Cache(const std::string &name);
	~Cache();
	Cache(const Cache &) = delete;
	Cache &operator=(const Cache &) = delete;

	sc_cache *get() const
	{
		return handle;
	}
	operator sc_cache *() const
	{
		return handle;
	}
	const std::string &name() const
	{
		return cache_name;
	}
	sc_options opts() const
	{
		return cache_opts;
	}
	int start_error() const
	{
		return err;
	}
	// Stop the handle now (the segment is still destroyed at the end).
	int stop();

      private:
	std::string cache_name;
	sc_options cache_opts;
	sc_cache *handle = nullptr;
	int err = 0;
};

// Run fn in a child process; its return value is the child's exit code.
pid_t spawn(const std::function<int()> &fn);

// Wait for a child: its exit code, or 128 + signal if a signal ended it.
int wait_child(pid_t pid);

// A child that attaches to the cache, opens a read section and stops itself inside it
// (SIGSTOP): returned once it is stopped, -1 if it did not get there. After SIGCONT it
// closes the section and exits 0.
pid_t spawn_reader_stopped_in_section(const std::string &cache_name);

// A child that attaches to the cache, registers a reader slot with a lookup and exits
// without sc_stop(), leaving the slot to a dead process. Its exit code once it is gone.
int leave_dead_reader(const std::string &cache_name);

// Kills and reaps a child when the scope ends, so a failed assertion leaves no process behind.
class ChildGuard
{
      public:
	explicit ChildGuard(pid_t pid) : child(pid)
	{
	}
	~ChildGuard();
	ChildGuard(const ChildGuard &) = delete;
	ChildGuard &operator=(const ChildGuard &) = delete;
	pid_t pid() const
	{
		return child;
	}
	// Wait for the child ourselves: its status as wait_child() gives it.
	int wait();

      private:
	pid_t child;
};

// A pipe for one-byte handshakes between processes (no sleeps).
struct Pipe {
	int rd = -1, wr = -1;
	Pipe();
	~Pipe();
	void send(char c = 'x') const;
	char recv() const; // blocks; returns 0 at end of file
};

// A stats snapshot, freed when it goes out of scope: Stats s(cache); s->total.records.
class Stats
{
      public:
	explicit Stats(sc_cache *c);
	~Stats()
	{
		sc_stats_free(stats);
	}
	Stats(const Stats &) = delete;
	Stats &operator=(const Stats &) = delete;
	int error() const
	{
		return err;
	}
	// A failed snapshot reads as all zeros, so checks on it fail instead of crashing.
	const sc_cache_stats *operator->() const;

      private:
	sc_cache_stats *stats = nullptr;
	int err;
};

// Whether haystack contains needle (for checking sc_last_error() messages).
bool contains(const char *haystack, const char *needle);

// Shared anonymous memory visible to parent and children (for flags and counters).
void *shared_anon(size_t bytes);

// The single field of a one-tuple result, as a string.
std::string str_field(const sc_tuple &t, unsigned i);

} // namespace sctest

namespace sctest
{
// sc_check's result; its listed problems, one per line, in *problems.
int check_segment(sc_cache *c, unsigned flags, std::string *problems);
} // namespace sctest
