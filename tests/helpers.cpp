// helpers.cpp — what the test suites share: unique cache names, handles that clean up, child processes.
#include "helpers.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sctest
{

uint64_t effective_caps()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	uint64_t caps = 0;
	while (std::getline(status, line))
		if (line.rfind("CapEff:", 0) == 0)
			caps = std::stoull(line.substr(7), nullptr, 16);
	return caps;
}

uint64_t clock_ms(clockid_t id)
{
	timespec ts;
	clock_gettime(id, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

std::string unique_name(const char *what)
{
	static std::atomic<unsigned> counter{ 0 };
	return std::string("t-") + what + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

bool pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

bool pin_to_all()
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (long i = 0; i < sysconf(_SC_NPROCESSORS_ONLN); i++)
		CPU_SET(static_cast<int>(i), &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

sc_options options(uint32_t partitions, uint64_t memory_limit)
{
	sc_options o{};
	o.sz = sizeof(o);
	o.num_partition = partitions;
	o.memory_limit = memory_limit;
	return o;
}

sc_options typed_options(uint32_t table_type, uint32_t partitions, uint64_t memory_limit)
{
	sc_options o = options(partitions, memory_limit);
	o.table_type = table_type;
	return o;
}

sc_options distributed_options(uint32_t partitions, uint64_t memory_limit, uint32_t replication_factor)
{
	sc_options o = options(partitions, memory_limit);
	o.cluster = SC_CLUSTER_DISTRIBUTED;
	o.replication_factor = replication_factor;
	return o;
}

Cache::Cache(const std::string &name, const sc_options &opts) : cache_name(name), cache_opts(opts)
{
	err = sc_start(name.c_str(), &cache_opts, &handle);
}

Cache::Cache(const std::string &name) : Cache(name, options())
{
}

Cache::~Cache()
{
	if (handle)
		sc_stop(handle);
	sc_destroy(cache_name.c_str(), &cache_opts);
}

int Cache::stop()
{
	int r = sc_stop(handle);
	handle = nullptr;
	return r;
}

pid_t spawn(const std::function<int()> &fn)
{
	pid_t pid = fork();
	if (pid == 0) {
		int code = fn();
		// Skip atexit handlers and static destructors: they belong to the test runner.
		_exit(code);
	}
	return pid;
}

pid_t spawn_reader_stopped_in_section(const std::string &cache_name)
{
	int status = 0;
	pid_t pid = spawn([&]() -> int {
		sc_cache *h = nullptr;
		if (sc_attach(cache_name.c_str(), nullptr, &h) || sc_read_begin(h))
			return 1;
		raise(SIGSTOP); // stopped inside the read section until SIGCONT
		sc_read_end(h);
		sc_stop(h);
		return 0;
	});
	if (pid < 0 || waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		return -1;
	return pid;
}

int leave_dead_reader(const std::string &cache_name)
{
	return wait_child(spawn([&]() -> int {
		sc_cache *h = nullptr;
		sc_tuples *got = nullptr;
		if (sc_attach(cache_name.c_str(), nullptr, &h))
			return 1;
		sc_get(h, SC_TUPLE(sc_int(1)), &got);
		return 0; // spawn's _exit skips sc_stop()
	}));
}

int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

ChildGuard::~ChildGuard()
{
	if (child > 0) {
		kill(child, SIGKILL);
		wait_child(child);
	}
}

int ChildGuard::wait()
{
	int status = wait_child(child);
	child = -1;
	return status;
}

Pipe::Pipe()
{
	int fds[2];
	if (pipe(fds) == 0) {
		rd = fds[0];
		wr = fds[1];
	}
}

Pipe::~Pipe()
{
	if (rd >= 0)
		close(rd);
	if (wr >= 0)
		close(wr);
}

void Pipe::send(char c) const
{
	while (write(wr, &c, 1) < 0 && errno == EINTR) {
	}
}

char Pipe::recv() const
{
	char c = 0;
	ssize_t n;
	while ((n = read(rd, &c, 1)) < 0 && errno == EINTR) {
	}
	return n == 1 ? c : 0;
}

Stats::Stats(sc_cache *c) : err(sc_stats(c, &stats))
{
}

const sc_cache_stats *Stats::operator->() const
{
	static const sc_cache_stats empty{};
	return stats ? stats : &empty;
}

bool contains(const char *haystack, const char *needle)
{
	return std::strstr(haystack, needle) != nullptr;
}

void *shared_anon(size_t bytes)
{
	void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? nullptr : p;
}

std::string str_field(const sc_tuple &t, unsigned i)
{
	const sc_field &f = t.fields[i];

	/* A test expecting bytes that finds a number fails its comparison, it does not crash. */
	if (f.type != SC_FIELD_BYTES)
		return "<not bytes: type " + std::to_string(f.type) + ">";
	return std::string(static_cast<const char *>(f.v.p), f.len);
}

} // namespace sctest

namespace sctest
{
int check_segment(sc_cache *c, unsigned flags, std::string *problems)
{
	sc_check_report rep;
	int rc = sc_check(c, flags, &rep);

	problems->clear();
	for (uint32_t i = 0; rc == -EUCLEAN && i < rep.listed; i++)
		*problems += "partition " + std::to_string(rep.list[i].partition) + " at " +
			     std::to_string(rep.list[i].offset) + ": " + rep.list[i].what + "\n";
	if (rc && rc != -EUCLEAN)
		*problems = sc_last_error();
	return rc;
}
} // namespace sctest
