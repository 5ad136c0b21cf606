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

#include "command.hpp"
#include "coordinator_harness.hpp"
#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

using Run = CommandResult;

// Run the supercache executable (SUPERCACHE_CLI) with args: its exit status, stdout and stderr.
Run run_cli(const std::vector<std::string> &args)
{
	const char *exe = std::getenv("SUPERCACHE_CLI");
	REQUIRE(exe != nullptr);
	std::vector<std::string> argv{ exe };
	argv.insert(argv.end(), args.begin(), args.end());
	return run_command(argv);
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
		{ "put" },
		{ "get" },
		{ "delete" },
		{ "match" },
		{ "scan" },
		{ "kv", "get" },
		{ "kv", "set" },
		{ "kv", "del" },
		{ "kv", "keys" },
		{ "kv", "incr" },
		{ "queue", "push" },
		{ "queue", "pop" },
		{ "queue", "count" },
		{ "stack", "push" },
		{ "stack", "pop" },
		{ "stack", "count" },
		{ "stats" },
		{ "check" },
		{ "destroy" },
		{ "status" },
		{ "health" },
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
	expect_usage_error(cc.run({ "kv", "incr", "ns" }), "too few arguments");
	expect_usage_error(cc.run({ "kv", "incr", "ns", "k", "s:two" }), "the step 's:two' is not a number");
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

TEST_CASE("kv incr: a counter shared with the library, by 1 or a step of either number type", "[cli]")
{
	CliCache cc;

	Run r = cc.run({ "kv", "incr", "hits", "page" });
	CHECK(r.status == 0);
	CHECK(r.out == "1\n");
	sc_field out = {};
	REQUIRE(sc_kv_increment(cc.c, "hits", sc_str("page"), sc_int(0), sc_int(10), &out) == 0);
	r = cc.run({ "kv", "incr", "hits", "page", "-5" }, true);
	CHECK(r.status == 0);
	CHECK(r.out == "6\n");
	r = cc.run({ "kv", "incr", "hits", "load", "0.5" });
	CHECK(r.out == "0.5\n");

	// A step of the other type is the library's error, and nothing changes.
	r = cc.run({ "kv", "incr", "hits", "page", "1.5" });
	CHECK(r.status != 0);
	CHECK(contains(r.err.c_str(), "the value is an int64, the step a double"));
	sc_tuples *t = nullptr;
	REQUIRE(sc_kv_get(cc.c, "hits", sc_str("page"), nullptr, &t) == 1);
	CHECK(t->tuples[0].fields[0].v.i == 6);
	sc_tuples_free(t);
}

TEST_CASE("kv replace and kv get-all: one value, shared with the library", "[cli]")
{
	CliCache cc;

	REQUIRE(sc_kv_add_ttl(cc.c, "ns", sc_str("k"), sc_int(1), 600000) == 0);
	Run r = cc.run({ "kv", "replace", "ns", "k", "s:two" });
	CHECK(r.status == 0);
	CHECK(r.out.empty());
	uint64_t ttl = 0;
	CHECK(sc_kv_ttl(cc.c, "ns", sc_str("k"), &ttl) == 1);
	CHECK(ttl == SC_TTL_FOREVER); // the time to live went with the old value
	CHECK(cc.run({ "kv", "replace", "ns", "k", "3" }, true).out == "{\"ok\":true}\n");

	r = cc.run({ "kv", "get-all", "ns", "k" });
	CHECK(r.status == 0);
	CHECK(r.out == "3\n");
	CHECK(cc.run({ "kv", "get-all", "ns", "k" }, true).out == "[3]\n");
	r = cc.run({ "kv", "get-all", "ns", "missing" });
	CHECK(r.status == 1);
	CHECK(r.out.empty());
	r = cc.run({ "kv", "get-all", "ns", "missing" }, true);
	CHECK(r.status == 1);
	CHECK(r.out == "[]\n");

	// replace takes no time to live.
	r = cc.run({ "kv", "replace", "ns", "k", "4", "--ttl", "10" });
	CHECK(r.status == 2);
	CHECK(contains(r.err.c_str(), "--ttl"));
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
	CHECK(contains(
		r.out.c_str(),
		",\"repaired\":0,\"problems\":0,\"damaged_partitions\":0,\"segment_problems\":0,\"listed\":[]}\n"));

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
	CHECK(contains(r.out.c_str(), ",\"damaged_partitions\":1,\"segment_problems\":0,"));
	CHECK(contains(r.out.c_str(),
		       ("\"listed\":[{\"partition\":" + std::to_string(part) + ",\"offset\":").c_str()));
	CHECK(cc.run({ "check", "--no-locks", "--repair" }).status == 2);
	// The remedy the report names: the damaged partition is emptied, and the cache is sound.
	r = cc.run({ "check", "--repair" }, true);
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "{\"sound\":true,"));
	CHECK(contains(r.out.c_str(), ",\"emptied_partitions\":1,"));
	CHECK(cc.run({ "check" }).status == 0);
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

TEST_CASE("status and health exit 5 naming the coordinator when nobody serves it", "[cli]")
{
	PrivateBus bus;
	REQUIRE(bus.ok());

	Run r = run_cli({ "--bus-address", bus.address(), "status" });
	CHECK(r.status == 5);
	CHECK(r.out.empty());
	CHECK(contains(r.err.c_str(),
		       "cannot reach org.supercache.Coordinator1 (is supercached@default running?)"));
	r = run_cli({ "--name", "orders", "--bus-address", bus.address(), "--json", "health" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1.orders ("));
	r = run_cli({ "--name", "9lives", "--bus-address", bus.address(), "status" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1._9lives ("));

	r = run_cli({ "--bus-address", "unix:path=/nonexistent/bus", "health" });
	CHECK(r.status == 5);
	CHECK(contains(r.err.c_str(), "cannot reach org.supercache.Coordinator1: cannot connect to "
				      "unix:path=/nonexistent/bus"));
	expect_usage_error(run_cli({ "--bus-address", bus.address(), "status", "extra" }),
			   "too many arguments");
}

TEST_CASE("status and health print what the real coordinator says, aligned or as JSON", "[cli]")
{
	PrivateBus bus;
	REQUIRE(bus.ok());
	NotifySocket notify;
	std::string name = unique_name("cli-status");
	Daemon daemon({ "--name", name, "--bus-address", bus.address(), "--num-partition", "2",
			"--memory-limit", "64M" },
		      { "NOTIFY_SOCKET=" + notify.path() });
	REQUIRE_FALSE(notify.wait_for("READY=1").empty());
	sc_cache *c = nullptr;
	REQUIRE(sc_attach(name.c_str(), nullptr, &c) == 0);
	for (int i = 0; i < 7; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i))) == 0);

	Run r = run_cli({ "--name", name, "--bus-address", bus.address(), "status" });
	CHECK(r.status == 0);
	CHECK(r.err.empty());
	CHECK(r.out.rfind("stats:\n  name ", 0) == 0);
	CHECK(contains(r.out.c_str(), "\n  records "));
	CHECK(contains(r.out.c_str(), " 7\n"));
	CHECK(contains(r.out.c_str(), "config:\n"));
	CHECK(contains(r.out.c_str(), "  memory_limit "));
	r = run_cli({ "--name", name, "--bus-address", bus.address(), "--json", "status" });
	CHECK(r.status == 0);
	CHECK(r.out.rfind("{\"stats\":{\"name\":\"" + name + "\",\"num_partition\":2,", 0) == 0);
	CHECK(contains(r.out.c_str(), "\"records\":7,"));
	CHECK(contains(r.out.c_str(), "\"config\":{"));
	CHECK(contains(r.out.c_str(), "\"memory_limit\":67108864,"));

	r = run_cli({ "--name", name, "--bus-address", bus.address(), "health" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "status "));
	INFO(r.out);
	CHECK(contains(r.out.c_str(), "\"healthy\"\n"));
	CHECK(contains(r.out.c_str(), "memory:\n  alert "));
	r = run_cli({ "--name", name, "--bus-address", bus.address(), "--json", "health" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "\"cluster\":\"local\",\"nodes\":1,"));
	CHECK(contains(r.out.c_str(), "\"memory\":{\"alert\":false,"));
	sc_stop(c);
	CHECK(daemon.terminate() == 0);
	sc_destroy(name.c_str(), nullptr);
}

TEST_CASE("cluster map: a local cache has none; a distributed one shows what its segment holds", "[cli]")
{
	CliCache local;
	Run r = local.run({ "cluster", "map" });
	CHECK(r.status == 6);
	CHECK(contains(r.err.c_str(), "is local: it has no partition map"));

	// A distributed cache no coordinator has joined yet: every partition unassigned, no lease.
	std::string name = unique_name("cli-dist");
	sc_options o = options(3, 32 << 20);
	o.cluster = SC_CLUSTER_DISTRIBUTED;
	sc_cache *c = nullptr;
	REQUIRE(sc_start(name.c_str(), &o, &c) == 0);
	r = run_cli({ "--name", name, "--json", "cluster", "map" });
	CHECK(r.status == 0);
	CHECK(r.out == "{\"self\":\"\",\"changes\":0,\"lease_left_ms\":0,\"partitions\":["
		       "{\"partition\":0,\"epoch\":0,\"primary\":null,\"replicas\":[],\"acting\":false},"
		       "{\"partition\":1,\"epoch\":0,\"primary\":null,\"replicas\":[],\"acting\":false},"
		       "{\"partition\":2,\"epoch\":0,\"primary\":null,\"replicas\":[],\"acting\":false}]}\n");
	r = run_cli({ "--name", name, "cluster", "map" });
	CHECK(r.status == 0);
	CHECK(contains(r.out.c_str(), "node (not joined), 0 changes, lease not held"));
	sc_stop(c);
	sc_destroy(name.c_str(), nullptr);
}
