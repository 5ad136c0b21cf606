// test_cli.cpp — the supercache command run as a user runs it: every command's output, JSON and exit status.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <systemd/sd-bus.h>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

struct Run {
	int status = -1;
	std::string out, err;
};

// Read both pipes to their end at once, so a child filling one never blocks on the other.
void drain(int out_fd, int err_fd, Run &r)
{
	struct pollfd fds[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	std::string *bufs[2] = { &r.out, &r.err };
	int open_fds = 2;
	char buf[4096];

	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				bufs[i]->append(buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
}

// Run the supercache executable (SUPERCACHE_CLI) with args: its exit status, stdout and stderr.
Run run_cli(const std::vector<std::string> &args)
{
	const char *exe = std::getenv("SUPERCACHE_CLI");
	Run r;
	int out[2], err[2];

	REQUIRE(exe != nullptr);
	REQUIRE(pipe(out) == 0);
	REQUIRE(pipe(err) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		std::vector<char *> argv{ const_cast<char *>(exe) };
		for (const std::string &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		close(out[1]);
		close(err[1]);
		execv(exe, argv.data());
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	drain(out[0], err[0], r);
	r.status = wait_child(pid);
	return r;
}

// A cache in a directory of its own, and the command pointed at it.
struct CliCache {
	std::string dir, name = unique_name("cli");
	sc_options opts = options(2, 64 << 20);
	sc_cache *c = nullptr;

	CliCache()
	{
		char tmpl[] = "/tmp/sctest-cli-XXXXXX";
		REQUIRE(mkdtemp(tmpl) != nullptr);
		dir = tmpl;
		opts.dir = dir.c_str();
		REQUIRE(sc_start(name.c_str(), &opts, &c) == 0);
	}
	~CliCache()
	{
		sc_stop(c);
		sc_destroy(name.c_str(), &opts);
		rmdir(dir.c_str());
	}
	// supercache --dir DIR --name NAME [--json] args...
	Run run(std::vector<std::string> args, bool json = false) const
	{
		std::vector<std::string> all{ "--dir", dir, "--name", name };
		if (json)
			all.push_back("--json");
		all.insert(all.end(), args.begin(), args.end());
		return run_cli(all);
	}
};

// The tuples sc_get finds for a one-field key, as the CLI's human form prints them.
std::string lib_get(sc_cache *c, sc_field key)
{
	sc_tuples *t = nullptr;
	std::string s;
	int n = sc_get(c, SC_TUPLE(key), &t);
	for (int i = 0; i < n; i++) {
		s += std::to_string(t->tuples[i].nfields) + ":";
		for (uint32_t f = 0; f < t->tuples[i].nfields; f++) {
			const sc_field &x = t->tuples[i].fields[f];
			s += x.type == SC_FIELD_INT ? "i" + std::to_string(x.v.i)
			     : x.type == SC_FIELD_DOUBLE
				     ? "d" + std::to_string(x.v.d)
				     : "s" + std::string(static_cast<const char *>(x.v.p), x.len);
			s += ";";
		}
	}
	sc_tuples_free(t);
	return s;
}

void expect_usage_error(const Run &r, const char *problem)
{
	CHECK(r.status == 2);
	CHECK(r.out.empty());
	CHECK(contains(r.err.c_str(), problem));
	CHECK(contains(r.err.c_str(), "usage: supercache"));
}

} // namespace

TEST_CASE("--help, --version and every command's --help print usage and exit 0", "[cli]")
{
	Run r = run_cli({ "--help" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "usage: supercache [--name NAME]"));
	CHECK(contains(r.out.c_str(), "Exit status: 0 success; 1 nothing found"));
	CHECK(contains(r.out.c_str(), "  kv set NS KEY VALUE [--ttl MS]"));

	r = run_cli({ "--version" });
	CHECK(r.status == 0);
	CHECK(r.out.rfind("supercache ", 0) == 0);

	const std::vector<std::vector<std::string>> commands = {
		{ "put" },	     { "get" },		  { "delete" },		{ "match" },
		{ "scan" },	     { "kv", "get" },	  { "kv", "set" },	{ "kv", "del" },
		{ "kv", "keys" },    { "queue", "push" }, { "queue", "pop" },	{ "queue", "count" },
		{ "stack", "push" }, { "stack", "pop" },  { "stack", "count" }, { "stats" },
		{ "check" },	     { "destroy" },	  { "status" },		{ "health" },
	};
	for (const auto &words : commands) {
		std::string name = words.size() == 2 ? words[0] + " " + words[1] : words[0];
		std::vector<std::string> args = words;
		args.push_back("--help");
		INFO(name);
		r = run_cli(args);
		CHECK(r.status == 0);
		CHECK(r.out.rfind("usage: supercache [GLOBAL OPTIONS] " + name, 0) == 0);
		CHECK(r.err.empty());
	}

	r = run_cli({ "kv", "--help" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "  kv keys NS"));
}

TEST_CASE("usage errors name the problem and exit 2", "[cli]")
{
	CliCache cc;

	expect_usage_error(run_cli({}), "no command given");
	expect_usage_error(run_cli({ "--bogus" }), "unknown option '--bogus'");
	expect_usage_error(run_cli({ "--name" }), "option '--name' needs a value");
	expect_usage_error(cc.run({ "frobnicate" }), "unknown command 'frobnicate'");
	expect_usage_error(cc.run({ "get" }), "too few arguments (0 given)");
	expect_usage_error(cc.run({ "get", "1", "2" }), "too many arguments (2 given)");
	expect_usage_error(cc.run({ "get", "1", "--bogus" }), "unknown option '--bogus'");
	expect_usage_error(cc.run({ "get", "1", "--partition-data" }), "needs a value");
	expect_usage_error(cc.run({ "put" }), "too few arguments");
	expect_usage_error(cc.run({ "put", "i:abc" }), "'i:abc': not a decimal integer");
	expect_usage_error(cc.run({ "put", "i:99999999999999999999" }), "out of the int64 range");
	expect_usage_error(cc.run({ "put", "99999999999999999999" }), "out of the int64 range");
	expect_usage_error(cc.run({ "put", "d:1.5x" }), "'d:1.5x': not a number");
	expect_usage_error(cc.run({ "put", "k", "--ttl", "0" }), "--ttl wants a whole number");
	expect_usage_error(cc.run({ "scan", "--limit", "x" }), "--limit wants a whole number");
	expect_usage_error(cc.run({ "scan", "extra" }), "too many arguments");
	expect_usage_error(cc.run({ "match", "$0" }), "captures are $1 to $255");
	expect_usage_error(cc.run({ "match", "$256" }), "captures are $1 to $255");
	expect_usage_error(cc.run({ "stats", "--partitions=yes" }), "takes no value");
	expect_usage_error(cc.run({ "kv" }), "kv: no subcommand");
	expect_usage_error(cc.run({ "kv", "nope" }), "unknown subcommand 'nope'");
	expect_usage_error(cc.run({ "kv", "get", "ns" }), "too few arguments");
	expect_usage_error(cc.run({ "kv", "set", "ns", "k", "v", "--ttl", "-1" }),
			   "--ttl wants a whole number");
	expect_usage_error(cc.run({ "queue", "push", "q" }), "too few arguments");
	expect_usage_error(cc.run({ "stack", "pop" }), "too few arguments");
	// Nothing was written by the refused commands.
	Stats s(cc.c);
	CHECK(s->total.puts == 0);
}

TEST_CASE("a missing cache exits 3 and is never created", "[cli]")
{
	CliCache cc;
	const std::string missing = unique_name("cli-missing");

	for (const std::vector<std::string> &args :
	     std::vector<std::vector<std::string>>{ { "get", "1" },
						    { "put", "1" },
						    { "stats" },
						    { "check" },
						    { "kv", "keys", "ns" },
						    { "destroy", "--yes" } }) {
		std::vector<std::string> all{ "--dir", cc.dir, "--name", missing };
		all.insert(all.end(), args.begin(), args.end());
		Run r = run_cli(all);
		INFO(args[0]);
		CHECK(r.status == 3);
		CHECK(r.err == "supercache: no cache called \"" + missing + "\" in " + cc.dir +
				       " (is supercached@" + missing + " running?)\n");
	}
	sc_options o = cc.opts;
	CHECK(sc_started(missing.c_str(), &o) == 0);
}

TEST_CASE("put and get: the command line's fields, and tuples the library put", "[cli]")
{
	CliCache cc;

	Run r = cc.run({ "put", "user", "1", "Alice" });
	CHECK(r.status == 0);
	CHECK(r.out.empty());
	CHECK(lib_get(cc.c, sc_str("user")) == "3:suser;i1;sAlice;");

	r = cc.run({ "put", "types", "s:42", "i:7", "d:2", "-5", "1e3", "inf", "s:_", "" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "{\"ok\":true}\n");
	CHECK(lib_get(cc.c, sc_str("types")) == "9:stypes;s42;i7;d2.000000;i-5;d1000.000000;sinf;s_;s;");

	r = cc.run({ "get", "user" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"user\", 1, \"Alice\"}\n");

	const char raw[] = { 'a', '\x01', '\xff', 'b' };
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(9), sc_dbl(1.5), sc_dbl(3), sc_bytes(raw, 4), sc_str("q\"\\\n"),
				      sc_str("caf\xc3\xa9"))) == 0);
	r = cc.run({ "get", "9" });
	CHECK(r.status == 0);
	CHECK(r.out == "{9, 1.5, 3.0, \"a\\x01\\xffb\", \"q\\\"\\\\\\n\", \"caf\xc3\xa9\"}\n");
	r = cc.run({ "get", "9" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "[[9,1.5,3.0,{\"base64\":\"YQH/Yg==\"},\"q\\\"\\\\\\n\",\"caf\xc3\xa9\"]]\n");

	// 9 as a string is another key.
	r = cc.run({ "get", "s:9" });
	CHECK(r.status == 1);
	CHECK(r.out.empty());
	r = cc.run({ "get", "nobody" }, true);
	CHECK(r.status == 1);
	CHECK(r.out == "[]\n");

	r = cc.run({ "put", "brief", "x", "--ttl", "600000" });
	CHECK(r.status == 0);
	uint64_t ttl = 0;
	CHECK(sc_ttl(cc.c, SC_TUPLE(sc_str("brief")), &ttl) == 1);
	CHECK(ttl > 0);
	CHECK(ttl <= 600000);
}

TEST_CASE("get and delete build the lookup tuple from key_pos and partition_pos", "[cli]")
{
	CliCache cc;
	sc_cache *c2 = nullptr;
	sc_options o = cc.opts;
	std::string name = unique_name("cli-pos");
	o.key_pos = 1;
	o.partition_pos = 2;
	REQUIRE(sc_start(name.c_str(), &o, &c2) == 0);
	REQUIRE(sc_put(c2, SC_TUPLE(sc_str("row"), sc_int(5), sc_str("tenant"), sc_str("v"))) == 0);
	std::vector<std::string> base{ "--dir", cc.dir, "--name", name };
	auto run = [&](std::vector<std::string> args) {
		std::vector<std::string> all = base;
		all.insert(all.end(), args.begin(), args.end());
		return run_cli(all);
	};

	Run r = run({ "get", "5", "--partition-data", "tenant" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"row\", 5, \"tenant\", \"v\"}\n");
	r = run({ "delete", "5", "--partition-data=tenant" });
	CHECK(r.status == 0);
	CHECK(r.out == "deleted 1\n");
	r = run({ "get", "5", "--partition-data", "tenant" });
	CHECK(r.status == 1);

	sc_stop(c2);
	sc_destroy(name.c_str(), &o);

	// Where the key is its own partition data, other partition data makes no sense.
	expect_usage_error(cc.run({ "get", "1", "--partition-data", "x" }), "key is its partition data");
}

TEST_CASE("delete says how many tuples went", "[cli]")
{
	CliCache cc;
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_str("k"), sc_int(1))) == 0);

	Run r = cc.run({ "delete", "k" });
	CHECK(r.status == 0);
	CHECK(r.out == "deleted 1\n");
	CHECK(lib_get(cc.c, sc_str("k")).empty());
	r = cc.run({ "delete", "k" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "{\"deleted\":0}\n");
}

TEST_CASE("match: captures, whole tuples, wildcards, literal _ and no match", "[cli]")
{
	CliCache cc;
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_str("user"), sc_int(1), sc_str("Alice"))) == 0);
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_str("_"), sc_int(2), sc_str("Bob"))) == 0);

	Run r = cc.run({ "match", "user", "$2", "$1" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"Alice\", 1}\n");
	r = cc.run({ "match", "--object", "s:_", "_", "_" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "[[\"_\",2,\"Bob\"]]\n");
	r = cc.run({ "match", "_", "2", "_", "--object", "--partition-data", "s:_" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"_\", 2, \"Bob\"}\n");
	r = cc.run({ "match", "_", "_", "_" });
	CHECK(r.status == 0);
	CHECK(r.out == "{}\n{}\n");
	r = cc.run({ "match", "_", "3", "_" });
	CHECK(r.status == 1);
	CHECK(r.out.empty());
	r = cc.run({ "match", "_", "3", "_" }, true);
	CHECK(r.status == 1);
	CHECK(r.out == "[]\n");
}

TEST_CASE("scan prints every tuple, or up to --limit", "[cli]")
{
	CliCache cc;

	Run r = cc.run({ "scan" });
	CHECK(r.status == 0);
	CHECK(r.out.empty());
	for (int i = 0; i < 3; i++)
		REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(i), sc_str("v"))) == 0);
	r = cc.run({ "scan" });
	CHECK(r.status == 0);
	for (int i = 0; i < 3; i++)
		CHECK(contains(r.out.c_str(), ("{" + std::to_string(i) + ", \"v\"}\n").c_str()));
	CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 3);
	r = cc.run({ "scan", "--limit", "2" }, true);
	CHECK(r.status == 0);
	CHECK(std::count(r.out.begin(), r.out.end(), '[') == 3);
	CHECK(r.out.rfind("[[", 0) == 0);
	r = cc.run({ "scan", "--partition-data", "1" }, true);
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "[1,\"v\"]"));
}

TEST_CASE("kv get, set, del and keys, shared with the library", "[cli]")
{
	CliCache cc;

	Run r = cc.run({ "kv", "set", "ns", "name", "Alice" });
	CHECK(r.status == 0);
	CHECK(r.out.empty());
	sc_tuples *t = nullptr;
	REQUIRE(sc_kv_get(cc.c, "ns", sc_str("name"), nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "Alice");
	sc_tuples_free(t);

	REQUIRE(sc_kv_add(cc.c, "ns", sc_int(7), sc_dbl(0.25)) == 0);
	r = cc.run({ "kv", "get", "ns", "7" });
	CHECK(r.status == 0);
	CHECK(r.out == "0.25\n");
	r = cc.run({ "kv", "get", "ns", "name" }, true);
	CHECK(r.out == "\"Alice\"\n");
	r = cc.run({ "kv", "get", "ns", "s:7" });
	CHECK(r.status == 1);
	CHECK(r.out.empty());
	r = cc.run({ "kv", "get", "ns", "absent" }, true);
	CHECK(r.status == 1);
	CHECK(r.out == "null\n");

	r = cc.run({ "kv", "keys", "ns" });
	CHECK(r.status == 0);
	CHECK((r.out == "\"name\"\n7\n" || r.out == "7\n\"name\"\n"));
	r = cc.run({ "kv", "keys", "ns" }, true);
	CHECK((r.out == "[\"name\",7]\n" || r.out == "[7,\"name\"]\n"));
	r = cc.run({ "kv", "keys", "empty" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "[]\n");

	r = cc.run({ "kv", "del", "ns", "7" });
	CHECK(r.status == 0);
	CHECK(r.out == "deleted 1\n");
	CHECK(sc_kv_count(cc.c, "ns") == 1);
	r = cc.run({ "kv", "del", "ns", "7" }, true);
	CHECK(r.out == "{\"deleted\":0}\n");

	r = cc.run({ "kv", "set", "ns", "brief", "1", "--ttl", "600000" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "{\"ok\":true}\n");
	uint64_t ttl = 0;
	CHECK(sc_kv_ttl(cc.c, "ns", sc_str("brief"), &ttl) == 1);
	CHECK(ttl <= 600000);
}

TEST_CASE("queue and stack push, pop and count, shared with the library", "[cli]")
{
	CliCache cc;

	for (const char *kind : { "queue", "stack" }) {
		bool queue = !strcmp(kind, "queue");
		INFO(kind);
		CHECK(cc.run({ kind, "push", "jobs", "1" }).status == 0);
		CHECK(cc.run({ kind, "push", "jobs", "s:two" }, true).out == "{\"ok\":true}\n");
		REQUIRE((queue ? sc_queue_add(cc.c, "jobs", sc_dbl(3))
			       : sc_stack_push(cc.c, "jobs", sc_dbl(3))) == 0);
		Run r = cc.run({ kind, "count", "jobs" });
		CHECK(r.status == 0);
		CHECK(r.out == "count 3\n");
		CHECK(cc.run({ kind, "count", "jobs" }, true).out == "{\"count\":3}\n");

		r = cc.run({ kind, "pop", "jobs" });
		CHECK(r.status == 0);
		CHECK(r.out == (queue ? "1\n" : "3.0\n"));
		r = cc.run({ kind, "pop", "jobs" }, true);
		CHECK(r.out == "\"two\"\n");
		sc_tuples *t = nullptr;
		REQUIRE((queue ? sc_queue_out(cc.c, "jobs", nullptr, &t)
			       : sc_stack_pop(cc.c, "jobs", nullptr, &t)) == 1);
		CHECK(t->tuples[0].fields[0].type == (queue ? SC_FIELD_DOUBLE : SC_FIELD_INT));
		sc_tuples_free(t);

		r = cc.run({ kind, "pop", "jobs" });
		CHECK(r.status == 1);
		CHECK(r.out.empty());
		r = cc.run({ kind, "pop", "jobs" }, true);
		CHECK(r.status == 1);
		CHECK(r.out == "null\n");
		CHECK(cc.run({ kind, "count", "jobs" }).out == "count 0\n");
	}
}

TEST_CASE("stats reads the counters from shared memory, per partition on request", "[cli]")
{
	CliCache cc;
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(1), sc_str("a"))) == 0);
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(2), sc_str("b"))) == 0);
	REQUIRE(sc_kv_add(cc.c, "ns", sc_int(1), sc_int(1)) == 0);

	Run r = cc.run({ "stats" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), ("cache              " + cc.name + "\n").c_str()));
	CHECK(contains(r.out.c_str(), "\npartitions         2\n"));
	CHECK(contains(r.out.c_str(), "\nrecords            2\n"));
	CHECK(contains(r.out.c_str(), "\nputs               2\n"));
	CHECK(contains(r.out.c_str(), "\nstructure records  1\n"));
	CHECK(contains(r.out.c_str(), "\nmemory limit       67108864\n"));
	CHECK(contains(r.out.c_str(), "\noldest reader      none\n"));
	CHECK(!contains(r.out.c_str(), "writer_deaths"));

	r = cc.run({ "stats", "--partitions" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "partition  records  bytes"));
	CHECK(contains(r.out.c_str(), "\n        0 "));
	CHECK(contains(r.out.c_str(), "\n        1 "));

	r = cc.run({ "stats", "--partitions" }, true);
	CHECK(r.status == 0);
	CHECK(r.out.rfind("{\"cache\":\"" + cc.name + "\",\"num_partition\":2,\"readers\":", 0) == 0);
	CHECK(contains(r.out.c_str(), ",\"memory_limit\":67108864,\"total\":{\"records\":2,"));
	CHECK(contains(r.out.c_str(), ",\"structures\":{\"records\":1,"));
	CHECK(contains(r.out.c_str(), "\"oldest_reader\":null,\"partitions\":[{\"records\":"));
	CHECK(r.out.substr(r.out.size() - 4) == "}]}\n");
}

TEST_CASE("check: a sound cache exits 0, a damaged one 4 with the problem listed", "[cli]")
{
	CliCache cc;
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(1), sc_str("a"))) == 0);

	Run r = cc.run({ "check" });
	CHECK(r.status == 0);
	CHECK(r.out.rfind("records            1\nblocks             ", 0) == 0);
	CHECK(contains(r.out.c_str(), "\nrepaired           0\nproblems           0\n"));
	CHECK(r.err.empty());
	r = cc.run({ "check", "--no-locks" }, true);
	CHECK(r.status == 0);
	CHECK(r.out.rfind("{\"sound\":true,\"records\":1,\"blocks\":", 0) == 0);
	CHECK(contains(r.out.c_str(), ",\"repaired\":0,\"problems\":0,\"listed\":[]}\n"));

	uint32_t part = sctest_partition_of(cc.c, SC_TUPLE(sc_int(1), sc_str("a")));
	sctest_add_to_record_count(cc.c, part, 1);
	r = cc.run({ "check" });
	CHECK(r.status == 4);
	CHECK(contains(r.out.c_str(), "problems           1\n"));
	CHECK(contains(r.out.c_str(), ("partition " + std::to_string(part) + " at offset").c_str()));
	CHECK(contains(r.out.c_str(), "records: the partition counts"));
	CHECK(contains(r.err.c_str(), "is damaged (1 problems)"));
	r = cc.run({ "check" }, true);
	CHECK(r.status == 4);
	CHECK(contains(r.out.c_str(), "{\"sound\":false,"));
	CHECK(contains(r.out.c_str(),
		       ("\"listed\":[{\"partition\":" + std::to_string(part) + ",\"offset\":").c_str()));
	sctest_add_to_record_count(cc.c, part, -1);
}

TEST_CASE("destroy refuses without --yes and removes the cache with it", "[cli]")
{
	CliCache cc;
	REQUIRE(sc_put(cc.c, SC_TUPLE(sc_int(1))) == 0);

	expect_usage_error(cc.run({ "destroy" }), "add --yes to do it");
	CHECK(sc_started(cc.name.c_str(), &cc.opts) == 1);

	Run r = cc.run({ "destroy", "--yes" });
	CHECK(r.status == 0);
	CHECK(r.out == "destroyed cache \"" + cc.name + "\"\n");
	CHECK(sc_started(cc.name.c_str(), &cc.opts) == 0);
	r = cc.run({ "destroy", "--yes" }, true);
	CHECK(r.status == 3);

	REQUIRE(sc_stop(cc.c) == 0);
	REQUIRE(sc_start(cc.name.c_str(), &cc.opts, &cc.c) == 0);
	r = cc.run({ "destroy", "--yes" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "{\"destroyed\":\"" + cc.name + "\"}\n");
}

namespace
{

// A private message bus, its address read from the daemon itself, killed at the end.
struct PrivateBus {
	pid_t pid = -1;
	std::string address;

	PrivateBus()
	{
		Pipe p;
		REQUIRE(p.rd >= 0);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			std::string fd = "--print-address=" + std::to_string(p.wr);
			close(p.rd);
			// It warns that it cannot raise its fd limit when not run as the system bus: not ours to see.
			int null_fd = open("/dev/null", O_WRONLY);
			dup2(null_fd, 2);
			execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", fd.c_str(),
			       (char *)nullptr);
			_exit(127);
		}
		close(p.wr);
		p.wr = -1;
		for (char c; (c = p.recv()) && c != '\n';)
			address += c;
	}
	~PrivateBus()
	{
		kill(pid, SIGTERM);
		wait_child(pid);
	}
};

} // namespace

TEST_CASE("status and health exit 5 naming the coordinator when nobody serves it", "[cli]")
{
	PrivateBus bus;
	REQUIRE(!bus.address.empty());

	Run r = run_cli({ "--bus-address", bus.address, "status" });
	CHECK(r.status == 5);
	CHECK(r.out.empty());
	CHECK(contains(r.err.c_str(),
		       "cannot reach org.supercache.Coordinator1 (is supercached@default running?)"));
	r = run_cli({ "--name", "orders", "--bus-address", bus.address, "--json", "health" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1.orders ("));
	r = run_cli({ "--name", "9lives", "--bus-address", bus.address, "status" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1._9lives ("));

	r = run_cli({ "--bus-address", "unix:path=/nonexistent/bus", "health" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1: cannot connect to "
				      "unix:path=/nonexistent/bus"));
	expect_usage_error(run_cli({ "--bus-address", bus.address, "status", "extra" }),
			   "too many arguments");
}

namespace
{

// One a{sv} of every type the command prints, nested twice, and one it does not print.
int reply_dict(sd_bus_message *m, void *, sd_bus_error *)
{
	return sd_bus_reply_method_return(m, "a{sv}", 11, "name", "s", "orders", "records", "t", (uint64_t)12,
					  "ok", "b", 1, "ratio", "d", 0.5, "peers", "as", 2, "a", "b",
					  "sizes", "at", 2, (uint64_t)1, (uint64_t)2, "n", "i", -3, "u", "u",
					  7u, "x", "x", (int64_t)-9, "pair", "(ii)", 1, 2, "nested", "a{sv}",
					  2, "depth", "u", 2u, "inner", "a{sv}", 1, "s", "s", "deep");
}

const sd_bus_vtable coordinator_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Stats", "", "a{sv}", reply_dict, 0),
	SD_BUS_METHOD("Config", "", "a{sv}", reply_dict, 0),
	SD_BUS_VTABLE_END,
};

const sd_bus_vtable health_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("ClusterHealth", "", "a{sv}", reply_dict, 0),
	SD_BUS_VTABLE_END,
};

// A stand-in coordinator on the bus: owns name, answers until killed. Returns once it owns the name.
pid_t spawn_fake_coordinator(const std::string &address, const std::string &name)
{
	Pipe ready;
	pid_t pid = spawn([&]() -> int {
		sd_bus *bus = nullptr;
		if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, address.c_str()) < 0 ||
		    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0 ||
		    sd_bus_add_object_vtable(bus, nullptr, "/org/supercache/Coordinator",
					     "org.supercache.Coordinator1", coordinator_vtable,
					     nullptr) < 0 ||
		    sd_bus_add_object_vtable(bus, nullptr, "/org/supercache/Coordinator",
					     "org.supercache.HealthMonitor1", health_vtable, nullptr) < 0 ||
		    sd_bus_request_name(bus, name.c_str(), 0) < 0)
			return 1;
		ready.send();
		for (;;) {
			int r = sd_bus_process(bus, nullptr);
			if (r < 0)
				return 1;
			if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
				return 1;
		}
	});
	return ready.recv() ? pid : -1;
}

} // namespace

TEST_CASE("status and health print the coordinator's dictionaries, nested, aligned or as JSON", "[cli]")
{
	PrivateBus bus;
	REQUIRE(!bus.address.empty());
	ChildGuard fake(spawn_fake_coordinator(bus.address, "org.supercache.Coordinator1._7cache"));
	REQUIRE(fake.pid() > 0);
	const std::string dict = "name    \"orders\"\n"
				 "records 12\n"
				 "ok      true\n"
				 "ratio   0.5\n"
				 "peers   [\"a\", \"b\"]\n"
				 "sizes   [1, 2]\n"
				 "n       -3\n"
				 "u       7\n"
				 "x       -9\n"
				 "pair    <D-Bus type (ii)>\n"
				 "nested:\n"
				 "  depth 2\n"
				 "  inner:\n"
				 "    s \"deep\"\n";
	const std::string json =
		"{\"name\":\"orders\",\"records\":12,\"ok\":true,\"ratio\":0.5,\"peers\":[\"a\",\"b\"],"
		"\"sizes\":[1,2],\"n\":-3,\"u\":7,\"x\":-9,\"pair\":{\"dbus_type\":\"(ii)\"},"
		"\"nested\":{\"depth\":2,\"inner\":{\"s\":\"deep\"}}}";

	Run r = run_cli({ "--name", "7cache", "--bus-address", bus.address, "health" });
	CHECK(r.status == 0);
	CHECK(r.err.empty());
	CHECK(r.out == dict);
	r = run_cli({ "--name", "7cache", "--bus-address", bus.address, "--json", "health" });
	CHECK(r.status == 0);
	CHECK(r.out == json + "\n");

	// status: the same dictionary twice, indented under its section.
	std::string indented;
	for (size_t at = 0, nl; at < dict.size(); at = nl + 1) {
		nl = dict.find('\n', at);
		indented += "  " + dict.substr(at, nl + 1 - at);
	}
	r = run_cli({ "--name", "7cache", "--bus-address", bus.address, "status" });
	CHECK(r.status == 0);
	CHECK(r.out == "stats:\n" + indented + "config:\n" + indented);
	r = run_cli({ "--name", "7cache", "--bus-address", bus.address, "--json", "status" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"stats\":" + json + ",\"config\":" + json + "}\n");
}
