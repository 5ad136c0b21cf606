// test_coordinator.cpp — supercached on a private dbus-daemon: every method, both signals, the bus
// policy, a clean stop and restart, the watchdog, the maintenance timer and bad configurations.
#include "command.hpp"
#include "coordinator_harness.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <climits>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace sctest;

namespace
{
const char *const coordinator_iface = "org.supercache.Coordinator1";
const char *const health_iface = "org.supercache.HealthMonitor1";

std::string host_name()
{
	char host[HOST_NAME_MAX + 1] = {};
	gethostname(host, sizeof(host) - 1);
	return host;
}

// A file of the test's, removed when the test ends.
struct TempFile {
	std::string path;
	explicit TempFile(const std::string &content)
	{
		char tmpl[] = "/tmp/sctest-conf-XXXXXX";
		int fd = mkstemp(tmpl);
		if (fd >= 0)
			close(fd);
		path = tmpl;
		std::ofstream(path) << content;
	}
	~TempFile()
	{
		unlink(path.c_str());
	}
};

// The tests' usual settings (no periodic health checks to interfere), less those extra sets itself.
std::string base_config(const std::string &extra)
{
	std::string out;
	for (const char *line :
	     { "num_partition = 4\n", "memory_limit = 16M\n", "health_interval_ms = 3600000\n" }) {
		std::string key = std::string(line).substr(0, std::string(line).find(' '));
		if (extra.find(key + " =") == std::string::npos)
			out += line;
	}
	return out;
}

// A supercached for a cache of the test's own on a private bus, ready when constructed.
struct Coordinator {
	PrivateBus bus;
	NotifySocket notify;
	std::string name;
	std::string bus_name;
	TempFile config;
	std::unique_ptr<Daemon> daemon;
	std::string ready; // the READY=1 message

	explicit Coordinator(const std::string &extra_config = "", const std::vector<std::string> &env = {})
	    : name(unique_name("coord")), bus_name(std::string(coordinator_iface) + "." + name),
	      config(base_config(extra_config) + extra_config)
	{
		start(env);
	}
	~Coordinator()
	{
		daemon.reset();
		sc_destroy(name.c_str(), nullptr);
	}
	void start(const std::vector<std::string> &env = {})
	{
		std::vector<std::string> e = { "NOTIFY_SOCKET=" + notify.path() };
		e.insert(e.end(), env.begin(), env.end());
		daemon.reset(new Daemon(
			{ "--name", name, "--config", config.path, "--bus-address", bus.address() }, e));
		ready = notify.wait_for("READY=1");
	}
	// busctl against the coordinator, as root or (with as_nobody) as an unprivileged user.
	CommandResult busctl(const std::string &iface, const std::string &method,
			     const std::vector<std::string> &args = {}, bool as_nobody = false) const
	{
		std::vector<std::string> argv;
		if (as_nobody)
			argv = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups" };
		std::vector<std::string> call = { "busctl", "--address=" + bus.address(),  "call",
						  bus_name, "/org/supercache/Coordinator", iface,
						  method };
		argv.insert(argv.end(), call.begin(), call.end());
		argv.insert(argv.end(), args.begin(), args.end());
		return run_command(argv);
	}
};

#define REQUIRE_READY(co)                                         \
	do {                                                      \
		INFO("supercached log:\n" << (co).daemon->log()); \
		REQUIRE((co).bus.ok());                           \
		REQUIRE_FALSE((co).ready.empty());                \
	} while (0)

} // namespace

TEST_CASE("supercached says READY with a status line and answers every method over sd-bus", "[coordinator]")
{
	Coordinator co("table_type = ordered_set\nreplication_mode = sync\nreplication_factor = 3\n"
		       "cluster_name = prod\nnode_name = n1.example\nlisten = [::1]:7100\n"
		       "etcd_endpoints = http://127.0.0.1:2379,http://e2.example:2379\n"
		       "cluster_peers = n2.example:7100,10.0.0.3:7100\nlease_ms = 3000\n");
	REQUIRE_READY(co);
	CHECK(co.ready.find("STATUS=cache " + co.name + ": 0 tuples") != std::string::npos);

	sc_cache *c = nullptr;
	REQUIRE(sc_attach(co.name.c_str(), nullptr, &c) == 0);
	for (int i = 0; i < 100; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_str("value"))) == 0);
	REQUIRE(sc_kv_add(c, "ns", sc_int(1), sc_int(2)) == 0);

	BusClient client(co.bus.address());
	REQUIRE(client.ok());
	BusDict d;
	std::string err;

	SECTION("Stats")
	{
		REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Stats", d, &err) >= 0);
		CHECK(d["name"].s == co.name);
		CHECK(d["num_partition"].u == 4);
		CHECK(d["records"].u == 100);
		CHECK(d["structure_entries"].u == 1);
		CHECK(d["puts"].u == 100);
		CHECK(d["memory_limit"].u == 16u << 20);
		CHECK(d["memory_used"].u > 0);
		CHECK(d["maintenance_passes"].u >= 1);
	}
	SECTION("ClusterStats: the local node alone")
	{
		sd_bus_error e = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = nullptr;
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   coordinator_iface, "ClusterStats", &e, &reply, "") >= 0);
		REQUIRE(sd_bus_message_enter_container(reply, 'a', "{sa{sv}}") > 0);
		REQUIRE(sd_bus_message_enter_container(reply, 'e', "sa{sv}") > 0);
		const char *node;
		REQUIRE(sd_bus_message_read(reply, "s", &node) > 0);
		CHECK(std::string(node) == host_name());
		REQUIRE(read_dict(reply, d) >= 0);
		CHECK(d["records"].u == 100);
		REQUIRE(sd_bus_message_exit_container(reply) >= 0);
		CHECK(sd_bus_message_enter_container(reply, 'e', "sa{sv}") == 0); // one node only
		sd_bus_message_unref(reply);
	}
	SECTION("Distributed: local mode")
	{
		sd_bus_message *reply = nullptr;
		int distributed = -1;
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   coordinator_iface, "Distributed", nullptr, &reply, "") >= 0);
		REQUIRE(sd_bus_message_read(reply, "b", &distributed) > 0);
		CHECK(distributed == 0);
		sd_bus_message_unref(reply);
	}
	SECTION("Cluster1 in local mode: every method says the cache is local")
	{
		for (const char *method : { "ClusterStats", "NodeHealths", "PartitionMap" }) {
			sd_bus_error e = SD_BUS_ERROR_NULL;
			sd_bus_message *reply = nullptr;
			CHECK(sd_bus_call_method(client.get(), co.bus_name.c_str(),
						 "/org/supercache/Coordinator", "org.supercache.Cluster1",
						 method, &e, &reply, "") < 0);
			CHECK(std::string(e.name ? e.name : "") == "org.supercache.Cluster1.Error.Local");
			sd_bus_error_free(&e);
			sd_bus_message_unref(reply);
		}
	}
	SECTION("Config: every key, typed, and what the cache was created with")
	{
		REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Config", d, &err) >= 0);
		CHECK(d["table_type"].s == "ordered_set");
		CHECK(d["memory_limit"].type == 't');
		CHECK(d["memory_limit"].u == 16u << 20);
		CHECK(d["num_partition_effective"].u == 4);
		CHECK(d["max_retired_effective"].u == 8u << 20);
		CHECK(d["cluster"].s == "local");
		CHECK(d["debug_log"].type == 'b');
		CHECK(d["partition_imbalance_ratio"].type == 'd');
		sc_options o{};
		REQUIRE(sc_config(c, &o) == 0);
		CHECK(o.table_type == SC_ORDERED_SET);
		CHECK(o.cluster == SC_CLUSTER_LOCAL);
		CHECK(o.replication_mode == SC_REPLICATION_SYNC);
		CHECK(o.replication_factor == 3);
		CHECK(d["replication_mode"].s == "sync");
		CHECK(d["replication_factor"].u == 3);
		CHECK(d["cluster_name"].s == "prod");
		CHECK(d["node_name"].s == "n1.example");
		CHECK(d["listen"].s == "[::1]:7100");
		CHECK(d["etcd_endpoints"].s == "http://127.0.0.1:2379,http://e2.example:2379");
		CHECK(d["lease_ms"].u == 3000);
		CHECK(d["heartbeat_interval_ms"].u == 500);
	}
	SECTION("Check: a whole segment")
	{
		REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Check", d, &err) >= 0);
		CHECK(d["whole"].b);
		CHECK(d["problems"].u == 0);
		CHECK(d["records"].u >= 101);
		CHECK(d["listed"].rows.empty());
	}
	SECTION("SetDebugLog turns the debug lines on and off")
	{
		BusDict h;
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   coordinator_iface, "SetDebugLog", nullptr, nullptr, "b", 1) >= 0);
		REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", h) >= 0);
		CHECK(co.daemon->log().find("health check 1: healthy") != std::string::npos);
		REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Config", d) >= 0);
		CHECK(d["debug_log"].b);
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   coordinator_iface, "SetDebugLog", nullptr, nullptr, "b", 0) >= 0);
		REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", h) >= 0);
		CHECK(co.daemon->log().find("health check 2") == std::string::npos);
	}
	SECTION("ClusterHealth and NodeHealth")
	{
		REQUIRE(client.call_dict(co.bus_name, health_iface, "ClusterHealth", d, &err) >= 0);
		CHECK(d["cluster"].s == "local");
		CHECK(d["nodes"].u == 1);
		CHECK(d["healthy_nodes"].u == 1);
		CHECK(d["status"].s == "healthy");
		CHECK(d["memory"].dict["alert"].type == 'b');
		CHECK(d["memory"].dict["threshold"].d == 90.0);
		CHECK(d["records"].u == 100);

		sd_bus_message *reply = nullptr;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   health_iface, "NodeHealth", &e, &reply, "s",
					   host_name().c_str()) >= 0);
		BusDict node;
		REQUIRE(read_dict(reply, node) >= 0);
		CHECK(node["node"].s == host_name());
		CHECK(node["status"].s == "healthy");
		sd_bus_message_unref(reply);
		reply = nullptr;
		CHECK(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					 health_iface, "NodeHealth", &e, &reply, "s", "no-such-node") < 0);
		CHECK(std::string(e.name) == "org.supercache.HealthMonitor1.Error.NoSuchNode");
		CHECK(std::string(e.message).find("no-such-node") != std::string::npos);
		sd_bus_error_free(&e);
	}
	SECTION("ReplicationLag: zero in local mode; a partition out of range is refused")
	{
		sd_bus_message *reply = nullptr;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		REQUIRE(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					   health_iface, "ReplicationLag", &e, &reply, "u", 3u) >= 0);
		REQUIRE(read_dict(reply, d) >= 0);
		CHECK(d["partition"].u == 3);
		CHECK(d["replicas"].u == 0);
		CHECK(d["lag_writes"].u == 0);
		sd_bus_message_unref(reply);
		reply = nullptr;
		CHECK(sd_bus_call_method(client.get(), co.bus_name.c_str(), "/org/supercache/Coordinator",
					 health_iface, "ReplicationLag", &e, &reply, "u", 4u) < 0);
		CHECK(std::string(e.name) == SD_BUS_ERROR_INVALID_ARGS);
		sd_bus_error_free(&e);
	}
	SECTION("PartitionBalance: per partition records and bytes")
	{
		REQUIRE(client.call_dict(co.bus_name, health_iface, "PartitionBalance", d, &err) >= 0);
		REQUIRE(d["records"].at.size() == 4);
		uint64_t sum = 0;
		for (uint64_t r : d["records"].at)
			sum += r;
		CHECK(sum == 100);
		CHECK(d["max_bytes"].d >= d["mean_bytes"].d);
		CHECK(d["imbalance"].d >= 1.0);
	}
	SECTION("ForceCheck: a reading, and a HealthCheck signal")
	{
		REQUIRE(client.watch_health_signals() >= 0);
		REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d, &err) >= 0);
		CHECK(d["status"].s == "healthy");
		REQUIRE(client.wait_signals("HealthCheck", 1));
		CHECK(client.signals().back().health.at("records").u == 100);
	}
	INFO(err);
	sc_stop(c);
}

TEST_CASE("every method answers busctl, and the object introspects as docs/ says", "[coordinator]")
{
	Coordinator co;
	REQUIRE_READY(co);
	const std::vector<std::vector<std::string>> calls = {
		{ coordinator_iface, "Stats" },
		{ coordinator_iface, "ClusterStats" },
		{ coordinator_iface, "Distributed" },
		{ coordinator_iface, "Config" },
		{ coordinator_iface, "Check" },
		{ coordinator_iface, "SetDebugLog", "b", "true" },
		{ health_iface, "ClusterHealth" },
		{ health_iface, "NodeHealth", "s", "" },
		{ health_iface, "ReplicationLag", "u", "0" },
		{ health_iface, "PartitionBalance" },
		{ health_iface, "ForceCheck" },
	};
	for (const auto &call : calls) {
		CommandResult r =
			co.busctl(call[0], call[1], std::vector<std::string>(call.begin() + 2, call.end()));
		INFO(call[1] << ": " << r.err);
		CHECK(r.status == 0);
		if (call[1] == "Distributed")
			CHECK(r.out == "b false\n");
		else if (call[1] == "SetDebugLog")
			CHECK(r.out.empty());
		else
			CHECK(r.out.rfind(call[1] == "ClusterStats" ? "a{sa{sv}} 1 " : "a{sv} ", 0) == 0);
	}

	CommandResult xml = run_command({ "busctl", "--address=" + co.bus.address(), "introspect",
					  "--xml-interface", co.bus_name, "/org/supercache/Coordinator" });
	REQUIRE(xml.status == 0);
	std::string doc = file_text(SCTEST_SOURCE_ROOT "/docs/org.supercache.Coordinator1.xml");
	for (const char *iface : { coordinator_iface, health_iface }) {
		std::string open = std::string(" <interface name=\"") + iface + "\">";
		size_t at = doc.find(open), end = doc.find(" </interface>", at);
		REQUIRE(at != std::string::npos);
		std::string block = doc.substr(at, end - at);
		INFO("live introspection:\n" << xml.out);
		CHECK(xml.out.find(block) != std::string::npos);
	}
}

TEST_CASE("HealthCheck signals come on the health timer", "[coordinator]")
{
	Coordinator co("health_interval_ms = 20\n");
	REQUIRE_READY(co);
	BusClient client(co.bus.address());
	REQUIRE(client.watch_health_signals() >= 0);
	REQUIRE(client.wait_signals("HealthCheck", 3));
	CHECK(client.signals().back().health.at("status").s == "healthy");
	CHECK(client.count("HealthAlert") == 0);
}

TEST_CASE("a threshold crossed raises HealthAlert once, until it is crossed again", "[coordinator]")
{
	Coordinator co("memory_alert_percent = 30\npartition_imbalance_ratio = 2\n");
	REQUIRE_READY(co);
	BusClient client(co.bus.address());
	REQUIRE(client.watch_health_signals() >= 0);
	BusDict d;

	REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d) >= 0);
	CHECK(d["status"].s == "healthy");

	sc_cache *c = nullptr;
	REQUIRE(sc_attach(co.name.c_str(), nullptr, &c) == 0);
	// 300 tuples of 20 KB, all in partition 0: over 30% of 16 MiB, and 4 times the mean.
	std::string value(20000, 'x');
	for (int i = 0; i < 300; i++)
		REQUIRE(sc_put_partition_by_idx(c, SC_TUPLE(sc_int(i), sc_str(value.c_str())), 0) == 0);

	// Signals are sent before the reply, so once it is here they are too.
	REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d) >= 0);
	client.dispatch();
	CHECK(d["status"].s == "degraded");
	CHECK(d["memory"].dict["alert"].b);
	CHECK(d["partition_balance"].dict["alert"].b);
	CHECK_FALSE(d["stalled_reader"].dict["alert"].b);
	REQUIRE(client.count("HealthAlert") == 2);
	std::map<std::string, BusClient::Signal> alerts;
	for (const auto &s : client.signals())
		if (s.member == "HealthAlert")
			alerts[s.check] = s;
	CHECK(alerts["memory"].value >= 30.0);
	CHECK(alerts["memory"].threshold == 30.0);
	CHECK(alerts["memory"].message.find("memory use at") != std::string::npos);
	CHECK(alerts["partition_balance"].value == Approx(4.0).epsilon(0.01));

	// Still over: no new alert.
	REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d) >= 0);
	client.dispatch();
	CHECK(client.count("HealthAlert") == 2);

	// Back under, then over again: one more.
	REQUIRE(sc_delete_all(c) >= 0);
	uint64_t freed = 0;
	REQUIRE(sc_reclaim(c, &freed) == 0);
	REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d) >= 0);
	CHECK_FALSE(d["partition_balance"].dict["alert"].b);
	for (int i = 0; i < 300; i++)
		REQUIRE(sc_put_partition_by_idx(c, SC_TUPLE(sc_int(i), sc_str("small")), 1) == 0);
	REQUIRE(client.call_dict(co.bus_name, health_iface, "ForceCheck", d) >= 0);
	client.dispatch();
	CHECK(client.count("HealthAlert") >= 3);
	CHECK(client.signals().back().check == "partition_balance");
	CHECK(client.count("HealthCheck") == 5);
	sc_stop(c);
}

TEST_CASE("an unprivileged caller may read but not change anything", "[coordinator]")
{
	Coordinator co;
	REQUIRE_READY(co);
	for (const char *method : { "Stats", "Config", "Distributed", "ClusterStats" }) {
		CommandResult r = co.busctl(coordinator_iface, method, {}, true);
		INFO(method << ": " << r.err);
		CHECK(r.status == 0);
	}
	for (const char *method : { "ClusterHealth", "PartitionBalance" }) {
		CommandResult r = co.busctl(health_iface, method, {}, true);
		INFO(method << ": " << r.err);
		CHECK(r.status == 0);
	}
	const std::vector<std::vector<std::string>> refused = {
		{ coordinator_iface, "SetDebugLog", "b", "true" },
		{ coordinator_iface, "Check" },
		{ health_iface, "ForceCheck" },
	};
	for (const auto &call : refused) {
		CommandResult r = co.busctl(call[0], call[1],
					    std::vector<std::string>(call.begin() + 2, call.end()), true);
		INFO(call[1] << ": " << r.err);
		CHECK(r.status != 0);
		CHECK(r.err.find("Access denied") != std::string::npos);
	}
	// And root still may.
	CHECK(co.busctl(coordinator_iface, "SetDebugLog", { "b", "false" }).status == 0);
}

TEST_CASE("SIGTERM stops supercached cleanly; a restart finds the data", "[coordinator]")
{
	Coordinator co;
	REQUIRE_READY(co);
	sc_cache *c = nullptr;
	REQUIRE(sc_attach(co.name.c_str(), nullptr, &c) == 0);
	for (int i = 0; i < 500; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_int(i * 2))) == 0);
	REQUIRE(sc_stop(c) == 0);

	REQUIRE(co.daemon->terminate() == 0);
	CHECK_FALSE(co.notify.wait_for("STOPPING=1", 5000).empty());
	CHECK(co.daemon->log().find("stays in shared memory") != std::string::npos);
	CHECK(sc_started(co.name.c_str(), nullptr) == 1);

	co.start();
	REQUIRE_READY(co);
	CHECK(co.ready.find("500 tuples") != std::string::npos);
	BusClient client(co.bus.address());
	BusDict d;
	REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Stats", d) >= 0);
	CHECK(d["records"].u == 500);
}

TEST_CASE("the watchdog is pinged on NOTIFY_SOCKET while the loop runs", "[coordinator]")
{
	Coordinator co("", { "WATCHDOG_USEC=100000" });
	REQUIRE_READY(co);
	// Pings come every half period (50 ms); three of them within the 20 s guard.
	for (int i = 0; i < 3; i++)
		CHECK_FALSE(co.notify.wait_for("WATCHDOG=1").empty());
}

TEST_CASE("the maintenance timer reclaims, expires and releases dead readers", "[coordinator]")
{
	Coordinator co("maintenance_interval_ms = 20\n");
	REQUIRE_READY(co);
	std::string name = co.name;
	sc_cache *c = nullptr;
	REQUIRE(sc_attach(name.c_str(), nullptr, &c) == 0);
	BusClient client(co.bus.address());
	BusDict d;
	// Each Stats call waits on the daemon's loop; the passes run between them.
	auto stats_until = [&](const std::function<bool()> &done) {
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
		do {
			d.clear();
			REQUIRE(client.call_dict(co.bus_name, coordinator_iface, "Stats", d) >= 0);
		} while (!done() && std::chrono::steady_clock::now() < deadline);
	};

	std::string value(1000, 'v');
	for (int i = 0; i < 50; i++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(i), sc_str(value.c_str()))) == 0);
	for (int i = 0; i < 50; i++)
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(i))) == 1);
	REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(1000), sc_str("brief")), 1) == 0);
	stats_until([&] { return d["retired_bytes"].u == 0 && d["expired"].u >= 1; });
	CHECK(d["retired_bytes"].u == 0);
	CHECK(d["reclaimed_bytes"].u >= 50 * 1000);
	CHECK(d["expired"].u == 1);
	CHECK(d["records"].u == 0);

	// Nothing is retired any more, so no grace period (which also releases slots) starts:
	// the slots of processes gone without sc_stop() are the timer's to release.
	const uint64_t readers = d["readers"].u;
	for (int i = 0; i < 2; i++) {
		REQUIRE(leave_dead_reader(name) == 0);
	}
	stats_until([&] { return d["dead_readers_released"].u >= 2; });
	CHECK(d["dead_readers_released"].u == 2);
	CHECK(d["readers"].u == readers);
	sc_stop(c);
}

TEST_CASE("a bad configuration is refused at start, naming the key", "[coordinator]")
{
	struct Case {
		std::string config, args, expect;
	};
	const std::vector<Case> cases = {
		{ "num_partition = 8x\n", "", "num_partition = 8x: want a whole number from 0 to 4096" },
		{ "num_partition = 5000\n", "", "num_partition = 5000" },
		{ "memory_limit = 12Q\n", "", "memory_limit = 12Q: want a size" },
		{ "table_type = heap\n", "",
		  "table_type = heap: want one of set, ordered_set, bag, duplicate_bag" },
		{ "no_such_key = 1\n", "", ":1: unknown key \"no_such_key\"" },
		{ "key_pos = 1\n\nkey_pos = 2\n", "", ":3: key_pos: already set on line 1" },
		{ "just words\n", "", ":1: \"just words\": want key = value" },
		{ "debug_log = maybe\n", "", "debug_log = maybe: want true or false" },
		{ "cluster = distributed\n", "", "cluster = distributed" },
		{ "", "--eviction=sometimes", "eviction = sometimes: want one of off, clock" },
		{ "max_retired = 2G\nmemory_limit = 1G\n", "", "max_retired" },
		{ "max_readers = 70000\n", "", "max_readers = 70000: want a whole number from 1 to 65536" },
		{ std::string("memory_limit = 1G\nnum_partition = 4\0 8\n", 39), "",
		  ":2: key \"num_partition\" holds a NUL byte" },
		{ "cluster_peers = " + std::string(5000, 'a') + "\n", "",
		  ":1: key \"cluster_peers\" is 5016 bytes long; a line holds at most 4352" },
		{ "cluster_peers = " + std::string(4200, 'a') + "\n", "",
		  ":1: cluster_peers: longer than 4095 bytes" },
		{ "cluster_peers = a.example:7100,b.example\n", "",
		  "cluster_peers: \"b.example\": want host:port" },
		{ "cluster_peers = a:7100,,b:7100\n", "", "cluster_peers: \"\": want host:port" },
		{ "cluster_peers = a:7100,\n", "", "cluster_peers: \"\": want host:port" },
		{ "listen = [:]:80\n", "", "listen = [:]:80: want host:port" },
		{ "listen = -a.example:80\n", "", "listen = -a.example:80: want host:port" },
		{ "listen = a..example:80\n", "", "listen = a..example:80: want host:port" },
		{ "lease_ms = 2000\nheartbeat_interval_ms = 1000\n", "",
		  "a lease must outlive two heartbeats" },
		{ "listen = [::1]:99999\n", "",
		  "listen = [::1]:99999: want host:port, the port from 1 to 65535" },
		{ "listen = host name:7100\n", "", "listen = host name:7100: want host:port" },
		{ "etcd_endpoints = http://e1:2379,https://e2:2379\n", "",
		  "etcd_endpoints: \"https://e2:2379\": want http://host:port" },
		{ "node_name = n/1\n", "", "node_name = n/1: want 1 to 64 letters, digits, '_', '-' or '.'" },
		{ "cluster_name = " + std::string(65, 'c') + "\n", "", "cluster_name: longer than 64 bytes" },
		{ "secret_file = secret\n", "", "secret_file = secret: want an absolute path" },
		{ "lease_ms = 2000\nheartbeat_interval_ms = 1500\n", "",
		  "heartbeat_interval_ms = 1500 with lease_ms = 2000: a lease must outlive two heartbeats" },
		{ "lease_ms = 500\n", "", "lease_ms = 500: want a whole number from 1000 to 600000" },
	};
	for (const Case &k : cases) {
		TempFile config(k.config);
		std::vector<std::string> argv = { supercached_path(), "--name", unique_name("badconf"),
						  "--config", config.path };
		if (!k.args.empty())
			argv.push_back(k.args);
		CommandResult r = run_command(argv);
		INFO(k.config << k.args << " -> " << r.err);
		CHECK(r.status == 78);
		CHECK(r.err.find(k.expect) != std::string::npos);
	}
	CommandResult missing = run_command(
		{ supercached_path(), "--config", "/nonexistent/supercache.conf", "--print-config" });
	CHECK(missing.status == 78);
	CHECK(missing.err.find("/nonexistent/supercache.conf: No such file") != std::string::npos);
	CommandResult usage = run_command({ supercached_path(), "--frobnicate=1" });
	CHECK(usage.status == 64);
	CHECK(usage.err.find("unknown option --frobnicate") != std::string::npos);
	CHECK(run_command({ supercached_path(), "--name", "no/slash" }).status == 64);
	CommandResult help = run_command({ supercached_path(), "--help" });
	CHECK(help.status == 0);
	CHECK(help.out.find("partition_imbalance_ratio") != std::string::npos);
}

TEST_CASE("a secret file others may read, or too short to be one, stops the coordinator at start",
	  "[coordinator]")
{
	TempFile secret(std::string(64, 'k'));
	TempFile config("secret_file = " + secret.path + "\n");
	REQUIRE(chmod(secret.path.c_str(), 0644) == 0);
	CommandResult r = run_command({ supercached_path(), "--config", config.path, "--print-config" });
	CHECK(r.status == 78);
	CHECK(r.err.find("secret_file " + secret.path + " has mode 0644") != std::string::npos);

	REQUIRE(chmod(secret.path.c_str(), 0640) == 0);
	r = run_command({ supercached_path(), "--config", config.path, "--print-config" });
	CHECK(r.status == 0);
	CHECK(r.out.find("secret_file = " + secret.path) != std::string::npos);

	TempFile short_secret("too short");
	TempFile short_config("secret_file = " + short_secret.path + "\n");
	r = run_command({ supercached_path(), "--config", short_config.path, "--print-config" });
	CHECK(r.status == 78);
	CHECK(r.err.find("holds 9 bytes; a secret has at least 32") != std::string::npos);
}

TEST_CASE("a coordinator asked for another shape than the cache has refuses to start", "[coordinator]")
{
	Cache existing(unique_name("shape"), options(2));
	REQUIRE(existing.start_error() == 0);
	TempFile config("num_partition = 8\n");
	PrivateBus bus;
	CommandResult r = run_command({ supercached_path(), "--name", existing.name(), "--config",
					config.path, "--bus-address", bus.address() });
	// A configuration error (78): systemd does not restart the unit for it.
	CHECK(r.status == 78);
	CHECK(r.err.find("num_partition") != std::string::npos);
}
