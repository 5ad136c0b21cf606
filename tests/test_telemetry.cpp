// test_telemetry.cpp — supercache-top's BPF programs on real client processes: exact counts in the pinned
// maps, bpftool's view of them, --once --json, the Prometheus export, and supercached's probes.
#include "command.hpp"
#include "coordinator_harness.hpp"
#include "helpers.hpp"
#include "telemetry.h"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace sctest;

namespace
{

std::string env_path(const char *var)
{
	const char *v = getenv(var);
	return v ? v : "";
}

// Why this machine cannot attach the programs, or "" when it can: the only reasons to skip.
std::string bpf_unavailable()
{
	const uint64_t caps = effective_caps();
	const uint64_t sys_admin = 1ull << 21, bpf = 1ull << 39, perfmon = 1ull << 38;
	if (!(caps & sys_admin) && (caps & (bpf | perfmon)) != (bpf | perfmon))
		return "loading BPF programs needs CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON";
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) != 0)
		return "the kernel has no uprobe event source";
	return "";
}

// Without BPF every case would stop for the same reason: the program says why and exits 77, which
// the test harness counts as skipped (a case that returned early would count as passed).
#define REQUIRE_BPF() SCTEST_SKIP_IF(bpf_unavailable())

CommandResult top(const std::vector<std::string> &args)
{
	std::vector<std::string> argv = { env_path("SUPERCACHE_TOP") };
	argv.insert(argv.end(), args.begin(), args.end());
	return run_command(argv);
}

// The workload as a client process of the shared library; its output (a count, for expire and evict).
std::string workload(const std::string &cache, const char *op, long n, long first = 0)
{
	CommandResult r = run_command(
		{ env_path("TELEMETRY_WORKLOAD"), cache, op, std::to_string(n), std::to_string(first) });
	INFO(r.err);
	REQUIRE(r.status == 0);
	return r.out;
}

// Two workloads at once, in two processes.
void workloads_together(const std::string &cache, const char *op, long n1, long first1, long n2, long first2)
{
	auto run = [&](long n, long first) {
		return [&cache, op, n, first] {
			return run_command({ env_path("TELEMETRY_WORKLOAD"), cache, op, std::to_string(n),
					     std::to_string(first) })
				.status;
		};
	};
	ChildGuard a(spawn(run(n1, first1))), b(spawn(run(n2, first2)));
	CHECK(a.wait() == 0);
	CHECK(b.wait() == 0);
}

// supercache-top --pin for a cache of the test's own; --unpin and the segment gone when the test ends.
struct Pinned {
	std::string name, dir;
	explicit Pinned(const char *what) : name(unique_name(what)), dir("/sys/fs/bpf/supercache/" + name)
	{
		CommandResult r = top({ "--name", name, "--daemon", supercached_path(), "--pin" });
		INFO(r.err);
		REQUIRE(r.status == 0);
	}
	~Pinned()
	{
		top({ "--name", name, "--unpin" });
		sc_destroy(name.c_str(), nullptr);
	}
	int map(const char *m) const
	{
		return bpf_obj_get((dir + "/" + m).c_str());
	}
};

// A map opened from its pin, closed at the end of the scope.
struct MapFd {
	int fd;
	MapFd(const Pinned &p, const char *m) : fd(p.map(m))
	{
		REQUIRE(fd >= 0);
	}
	~MapFd()
	{
		close(fd);
	}
};

sc_histogram histogram_of(const Pinned &p, const char *m, const void *key)
{
	MapFd fd(p, m);
	sc_histogram h = {};
	bpf_map_lookup_elem(fd.fd, key, &h);
	return h;
}

uint64_t slots_total(const sc_histogram &h)
{
	uint64_t n = 0;
	for (uint64_t s : h.slots)
		n += s;
	return n;
}

// Every entry of a hash map, as (key, value) pairs of the given types.
template <typename K, typename V> std::vector<std::pair<K, V>> entries(const Pinned &p, const char *m)
{
	MapFd fd(p, m);
	std::vector<std::pair<K, V>> out;
	K key{}, next{};
	const K *prev = nullptr;
	while (bpf_map_get_next_key(fd.fd, prev, &next) == 0) {
		V v{};
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd.fd, &key, &v) == 0)
			out.emplace_back(key, v);
	}
	return out;
}

sc_op_count calls_of(const Pinned &p, sc_trace_op op, bool *routed)
{
	sc_op_count total = {};
	*routed = true;
	for (const auto &e : entries<sc_partition_op, sc_op_count>(p, "partition_ops"))
		if (e.first.op == op) {
			total.calls += e.second.calls;
			total.errors += e.second.errors;
			*routed = *routed && e.first.partition < 4;
		}
	return total;
}

sc_amount removed(const Pinned &p, sc_removal kind)
{
	sc_amount total = {};
	for (const auto &e : entries<sc_removal_key, sc_amount>(p, "removals"))
		if (e.first.kind == kind) {
			total.count += e.second.count;
			total.bytes += e.second.bytes;
		}
	return total;
}

// supercache-top running in the background, its output in pipes.
class Watcher
{
      public:
	explicit Watcher(const std::vector<std::string> &args)
	{
		int out[2], err[2];
		REQUIRE(pipe2(out, O_CLOEXEC) == 0);
		REQUIRE(pipe2(err, O_CLOEXEC) == 0);
		child = fork();
		REQUIRE(child >= 0);
		if (child == 0) {
			std::vector<std::string> all = { env_path("SUPERCACHE_TOP") };
			all.insert(all.end(), args.begin(), args.end());
			std::vector<char *> argv;
			for (auto &a : all)
				argv.push_back(const_cast<char *>(a.c_str()));
			argv.push_back(nullptr);
			dup2(out[1], STDOUT_FILENO);
			dup2(err[1], STDERR_FILENO);
			execv(argv[0], argv.data());
			_exit(127);
		}
		close(out[1]);
		close(err[1]);
		out_fd = out[0];
		err_fd = err[0];
	}
	~Watcher()
	{
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, nullptr, 0);
		}
		close(out_fd);
		close(err_fd);
	}
	// Read its stderr until it says it is watching (true), or it ends or 60 s pass (false).
	bool wait_watching()
	{
		char buf[512];
		while (err_text.find("watching") == std::string::npos) {
			struct pollfd p = { err_fd, POLLIN, 0 };
			if (poll(&p, 1, 60000) <= 0)
				return false;
			ssize_t n = read(err_fd, buf, sizeof(buf));
			if (n <= 0)
				return false;
			err_text.append(buf, static_cast<size_t>(n));
		}
		return true;
	}
	// SIGINT ends its interval: its exit status, with what it printed.
	int stop(std::string &out)
	{
		char buf[4096];
		ssize_t n;
		int status;
		kill(child, SIGINT);
		while ((n = read(out_fd, buf, sizeof(buf))) > 0)
			out.append(buf, static_cast<size_t>(n));
		waitpid(child, &status, 0);
		child = -1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	const std::string &err() const
	{
		return err_text;
	}

      private:
	pid_t child = -1;
	int out_fd = -1, err_fd = -1;
	std::string err_text;
};

// One operation's numbers from the JSON of --once --json.
struct OpJson {
	uint64_t count = 0, errors = 0, p50 = 0, p99 = 0;
	bool found = false;
};

OpJson op_json(const std::string &json, const std::string &op)
{
	OpJson o;
	size_t at = json.find("\"" + op + "\":{\"count\":");
	unsigned long long count, errors, p50, p99;
	double rate;
	// The object's keys come in a fixed order: supercache-top prints them so.
	if (at != std::string::npos &&
	    sscanf(json.c_str() + at + op.size() + 3,
		   "{\"count\":%llu,\"errors\":%llu,\"ops_per_s\":%lf,\"p50_ns\":%llu,\"p99_ns\":%llu",
		   &count, &errors, &rate, &p50, &p99) == 5)
		o = { count, errors, p50, p99, true };
	return o;
}

// One sample line of the text format: name{labels} value. False if the line is not one.
bool parse_sample(const std::string &line, std::string &name, std::string &labels, std::string &value)
{
	size_t open = line.find('{'), close = line.find("} ");
	if (open == std::string::npos || close == std::string::npos || open == 0 || close < open)
		return false;
	name = line.substr(0, open);
	labels = line.substr(open + 1, close - open - 1);
	value = line.substr(close + 2);
	const char *first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:";
	if (name.find_first_not_of(std::string(first) + "0123456789") != std::string::npos ||
	    std::string(first).find(name[0]) == std::string::npos)
		return false;
	char *end = nullptr;
	if (value != "+Inf" && value != "NaN") {
		strtod(value.c_str(), &end);
		if (end == value.c_str() || *end)
			return false;
	}
	return true;
}

} // namespace

// First: it needs no BPF, so it runs even where the others skip.
TEST_CASE("supercache-top refuses bad usage with status 2 and says what was wrong", "[telemetry]")
{
	const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
		{ { "--name", "" }, "is not a cache name" },
		{ { "--name", "a.b" }, "is not a cache name" }, // the library would refuse it
		{ { "--name", "../etc" }, "is not a cache name" },
		{ { "--name", std::string(65, 'x') }, "is not a cache name" },
		{ { "--json" }, "--json goes with --once" },
		{ { "--pin", "--unpin" }, "" },
		{ { "--interval", "0" }, "--interval" },
		{ { "--bogus" }, "" },
		{ { "extra" }, "unexpected argument 'extra'" },
	};
	for (const auto &[args, says] : bad) {
		CommandResult r = top(args);
		INFO(args.front() << ": " << r.err);
		CHECK(r.status == 2);
		CHECK(r.err.find(says) != std::string::npos);
	}
	CHECK(top({ "--name", std::string(64, 'x'), "--help" }).status == 0);
}

TEST_CASE("puts and gets from two processes are counted exactly in the pinned maps", "[telemetry]")
{
	REQUIRE_BPF();
	Pinned p("bpf-exact");
	const long puts1 = 1700, puts2 = 1300, gets1 = 1200, gets2 = 800;
	workloads_together(p.name, "put", puts1, 0, puts2, puts1);
	workloads_together(p.name, "get", gets1, 0, gets2, puts1);

	for (auto [op, n] :
	     { std::pair<sc_trace_op, long>{ SC_OP_PUT, puts1 + puts2 }, { SC_OP_GET, gets1 + gets2 } }) {
		INFO("operation " << op);
		sc_histogram h = histogram_of(p, "op_latency", &op);
		CHECK(h.count == static_cast<uint64_t>(n));
		CHECK(slots_total(h) == h.count);
		CHECK(h.sum_ns > 0);
		bool routed;
		sc_op_count calls = calls_of(p, op, &routed);
		CHECK(calls.calls == static_cast<uint64_t>(n));
		CHECK(calls.errors == 0);
		CHECK(routed); // every put and get worked in one of the cache's 4 partitions
	}
	// Each put took one partition lock and let it go.
	uint64_t held = 0;
	for (const auto &e : entries<uint32_t, sc_histogram>(p, "lock_hold")) {
		CHECK(slots_total(e.second) == e.second.count);
		held += e.second.count;
	}
	CHECK(held >= static_cast<uint64_t>(puts1 + puts2));

	SECTION("bpftool prints the pinned maps with their field and operation names")
	{
		CommandResult ops =
			run_command({ env_path("BPFTOOL"), "map", "dump", "pinned", p.dir + "/op_latency" });
		REQUIRE(ops.status == 0);
		CHECK(ops.out.find("\"SC_OP_PUT\"") != std::string::npos);
		CHECK(ops.out.find("\"count\": " + std::to_string(puts1 + puts2)) != std::string::npos);
		CHECK(ops.out.find("\"slots\": [") != std::string::npos);
		CommandResult parts = run_command(
			{ env_path("BPFTOOL"), "map", "dump", "pinned", p.dir + "/partition_ops" });
		REQUIRE(parts.status == 0);
		CHECK(parts.out.find("\"partition\": ") != std::string::npos);
		CHECK(parts.out.find("\"op\": \"SC_OP_GET\"") != std::string::npos);
		CHECK(parts.out.find("\"calls\": ") != std::string::npos);
	}
	SECTION("--unpin removes the pins and detaches the programs")
	{
		std::vector<std::string> links;
		CommandResult ls = run_command({ "ls", p.dir + "/links" });
		std::istringstream names(ls.out);
		for (std::string l; names >> l;)
			links.push_back(l.substr(l.rfind('-') + 1));
		REQUIRE(!links.empty());
		CommandResult r = top({ "--name", p.name, "--unpin" });
		INFO(r.err);
		REQUIRE(r.status == 0);
		CHECK(access(p.dir.c_str(), F_OK) != 0);
		CHECK(top({ "--name", p.name, "--unpin" }).status == 1); // nothing left to unpin
		// The kernel lets the links go in a work item: bounded, not instant.
		for (const auto &id : links) {
			bool gone = false;
			for (int i = 0; i < 600 && !gone; i++) {
				gone = run_command({ env_path("BPFTOOL"), "link", "show", "id", id })
					       .status != 0;
				if (!gone)
					usleep(100000);
			}
			CHECK(gone);
		}
	}
}

TEST_CASE("--once --json reports one interval's operations with their quantiles", "[telemetry]")
{
	REQUIRE_BPF();
	const std::string name = unique_name("bpf-once");
	Watcher w(
		{ "--name", name, "--daemon", supercached_path(), "--once", "--json", "--interval", "600" });
	REQUIRE(w.wait_watching());
	workloads_together(name, "put", 900, 0, 600, 900);
	workloads_together(name, "get", 500, 0, 250, 900);
	std::string out;
	INFO(w.err());
	REQUIRE(w.stop(out) == 0);
	INFO(out);
	CHECK(run_command({ "python3", "-c", "import json,sys; json.load(sys.stdin)" }, {}, out).status == 0);
	OpJson put = op_json(out, "put"), get = op_json(out, "get"), del = op_json(out, "delete");
	REQUIRE(put.found);
	REQUIRE(get.found);
	CHECK(put.count == 1500);
	CHECK(get.count == 750);
	CHECK(put.errors == 0);
	CHECK(0 < put.p50);
	CHECK(put.p50 <= put.p99);
	CHECK(0 < get.p50);
	CHECK(get.p50 <= get.p99);
	CHECK(del.found); // every operation is listed, whether it ran or not
	CHECK(del.count == 0);
	CHECK(out.find("\"source\":\"attached\"") != std::string::npos);
	CHECK(out.find("\"replication\":null") != std::string::npos); // a local cache replicates nothing
	sc_destroy(name.c_str(), nullptr);
}

TEST_CASE("expirations and evictions are counted as the cache counts them", "[telemetry]")
{
	REQUIRE_BPF();
	Pinned p("bpf-expire");
	const std::string expired = workload(p.name, "expire", 300);
	CHECK(std::stoull(expired) == 300);
	CHECK(removed(p, SC_REMOVAL_EXPIRED).count == std::stoull(expired));
	CHECK(removed(p, SC_REMOVAL_EXPIRED).bytes > 0);

	Pinned e("bpf-evict");
	const uint64_t evicted = std::stoull(workload(e.name, "evict", 120000));
	CHECK(evicted > 0);
	CHECK(removed(e, SC_REMOVAL_EVICTED).count == evicted);
	CHECK(removed(e, SC_REMOVAL_EXPIRED).count == 0);
}

TEST_CASE("the Prometheus export passes promtool, with every family described and histograms that add up",
	  "[telemetry]")
{
	REQUIRE_BPF();
	Pinned p("bpf-prom");
	workloads_together(p.name, "put", 400, 0, 100, 400);
	workload(p.name, "get", 300);
	char tmpl[] = "/tmp/sctest-prom-XXXXXX";
	REQUIRE(mkdtemp(tmpl));
	const std::string file = std::string(tmpl) + "/supercache.prom";
	CommandResult r = top({ "--name", p.name, "--once", "--interval", "0.01", "--prometheus", file });
	INFO(r.err);
	REQUIRE(r.status == 0);
	const std::string text = file_text(file);
	INFO(text.substr(0, 2000));

	const std::string promtool = env_path("PROMTOOL");
	if (promtool.empty()) {
		WARN("SKIPPED: promtool is not installed; only the test's own reading of the format ran");
	} else {
		CommandResult check = run_command({ promtool, "check", "metrics" }, {}, text);
		INFO(check.out << check.err);
		CHECK(check.status == 0);
	}

	// The format's rules, read line by line: HELP and TYPE before a family's samples, each once.
	std::map<std::string, std::string> types;
	std::map<std::string, int> helps;
	std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> put_buckets;
	std::map<std::string, uint64_t> put_totals;
	std::istringstream lines(text);
	for (std::string line; std::getline(lines, line);) {
		INFO(line);
		std::string name, labels, value;
		if (line.rfind("# HELP ", 0) == 0) {
			helps[line.substr(7, line.find(' ', 7) - 7)]++;
			continue;
		}
		if (line.rfind("# TYPE ", 0) == 0) {
			std::istringstream t(line.substr(7));
			std::string name, type;
			t >> name >> type;
			CHECK(types.count(name) == 0);
			CHECK((type == "counter" || type == "gauge" || type == "histogram"));
			types[name] = type;
			continue;
		}
		REQUIRE(parse_sample(line, name, labels, value));
		std::string family = name;
		for (const char *suffix : { "_bucket", "_sum", "_count" })
			if (types.count(name) == 0 && name.size() > strlen(suffix) &&
			    name.compare(name.size() - strlen(suffix), strlen(suffix), suffix) == 0)
				family = name.substr(0, name.size() - strlen(suffix));
		CHECK(types.count(family) == 1);
		CHECK(helps[family] == 1);
		CHECK(labels.find("cache=\"" + p.name + "\"") != std::string::npos);
		if (family == "supercache_op_duration_seconds" &&
		    labels.find("op=\"put\"") != std::string::npos) {
			if (name == "supercache_op_duration_seconds_bucket")
				put_buckets["put"].emplace_back(labels.substr(labels.find("le=")),
								std::stoull(value));
			else
				put_totals[name] = static_cast<uint64_t>(
					std::stod(value) *
					(name.find("_sum") != std::string::npos ? 1e9 : 1));
		}
	}
	CHECK(types["supercache_op_duration_seconds"] == "histogram");
	CHECK(types["supercache_evictions_total"] == "counter");
	// put's buckets: cumulative, ending in +Inf, which holds every put, as _count does.
	const auto &buckets = put_buckets["put"];
	REQUIRE(buckets.size() == SC_HIST_SLOTS);
	for (size_t i = 1; i < buckets.size(); i++)
		CHECK(buckets[i - 1].second <= buckets[i].second);
	CHECK(buckets.back().first == "le=\"+Inf\"");
	CHECK(buckets.back().second == 500);
	CHECK(put_totals["supercache_op_duration_seconds_count"] == 500);
	CHECK(put_totals["supercache_op_duration_seconds_sum"] > 0);
	unlink(file.c_str());
	rmdir(tmpl);
}

TEST_CASE("supercached's sweeps and health checks fire probes the same programs count", "[telemetry]")
{
	REQUIRE_BPF();
	Pinned p("bpf-coord");
	PrivateBus bus;
	REQUIRE(bus.ok());
	NotifySocket notify;
	Daemon daemon({ "--name", p.name, "--bus-address", bus.address(), "--num_partition=4",
			"--memory_limit=16M", "--maintenance_interval_ms=20", "--health_interval_ms=3600000",
			// Any memory use is an alert: a HealthAlert to count.
			"--memory_alert_percent=1" },
		      { "NOTIFY_SOCKET=" + notify.path() });
	REQUIRE(!notify.wait_for("READY=1").empty());
	BusClient client(bus.address());
	REQUIRE(client.ok());
	REQUIRE(client.watch_health_signals() >= 0);
	BusDict h;
	const std::string dest = "org.supercache.Coordinator1." + p.name;
	// ForceCheck answers after its signals are sent, and the probes fire before them.
	REQUIRE(client.call_dict(dest, "org.supercache.HealthMonitor1", "ForceCheck", h) >= 0);
	REQUIRE(client.call_dict(dest, "org.supercache.HealthMonitor1", "ForceCheck", h) >= 0);
	REQUIRE(client.wait_signals("HealthAlert", 1));
	std::map<sc_coordinator_event, sc_coordinator_count> seen;
	for (const auto &e : entries<sc_coordinator_event, sc_coordinator_count>(p, "coordinator"))
		seen[e.first] = e.second;
	CHECK(seen[SC_COORD_HEALTH_CHECK].count == 2);
	CHECK(seen[SC_COORD_HEALTH_CHECK].last_value == 0); // not healthy: the memory check is in alert
	CHECK(seen[SC_COORD_HEALTH_ALERT].count == 1);	    // raised once, not again while it stays
	// The maintenance timer runs every 20 ms: its sweeps are counted and timed.
	uint32_t only = 0;
	bool swept = false;
	for (int i = 0; i < 600 && !swept; i++) {
		swept = histogram_of(p, "sweeps", &only).count > 0;
		if (!swept)
			usleep(10000);
	}
	CHECK(swept);
	CHECK(daemon.terminate() == 0);
}
