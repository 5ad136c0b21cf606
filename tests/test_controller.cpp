// test_controller.cpp — the controller's record writes against a real etcd member, with the node's view
// of the cluster set by the test: what each txn guards, whatever order etcd's changes reach the view in.
#include <catch2/catch.hpp>

#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include <supercache.h>

extern "C" {
#include "cluster/controller.h"
}

using namespace sctest;

namespace
{
const char *const CLUSTER = "c";

// The node's view of the cluster, as its membership keeps one: the test applies etcd's changes to it,
// in revision order, and may hold one back.
struct View {
	scd_cluster_state st{};
	int64_t revision = 0;
	View()
	{
		REQUIRE(scd_state_init(&st, CLUSTER, 1) == 0);
	}
	~View()
	{
		scd_state_free(&st);
	}
	View(const View &) = delete;
	View &operator=(const View &) = delete;

	std::string key(const std::string &tail) const
	{
		return std::string(st.prefix) + tail;
	}
	// Apply a range's (or a txn's) answer: every kv in it.
	void apply(json_object *reply)
	{
		for (const scd_etcd_kv &kv : kvs(reply)) {
			char why[256] = "";
			scd_state_put(&st, &kv, why,
				      sizeof(why)); // a value that does not decode reads as absent
			revision = std::max(revision, kv.mod_revision);
		}
	}
	void deleted(const std::string &tail, int64_t rev)
	{
		scd_state_delete(&st, key(tail).c_str());
		revision = rev;
	}
};

struct Env {
	Loop loop;
	EtcdCluster etcd{ 1 };
	std::unique_ptr<Client> client;
	View view;
	int64_t lease = 0; // the controller node's
	std::vector<std::string> log;
	scd_controller *c = nullptr;

	Env()
	{
		REQUIRE(etcd.ok());
		client = std::make_unique<Client>(loop.e, etcd.endpoints());
	}
	~Env()
	{
		scd_controller_free(c);
	}
	int64_t grant()
	{
		auto r = call(loop, *client, "/v3/lease/grant", R"({"TTL":"60"})");
		int64_t id = 0;
		REQUIRE(r->err == 0);
		REQUIRE(scd_etcd_int(r->reply, "ID", &id) == 0);
		return id;
	}
	int64_t revoke(int64_t id)
	{
		auto r = call(loop, *client, "/v3/lease/revoke", R"({"ID":")" + std::to_string(id) + "\"}");
		REQUIRE(r->err == 0);
		return revision(r->reply);
	}
	int64_t put(const std::string &tail, const std::string &value, int64_t with_lease = 0)
	{
		return sctest::put(loop, *client, view.key(tail), value,
				   with_lease ? std::to_string(with_lease) : std::string());
	}
	std::unique_ptr<Reply> range(const std::string &from, const std::string &to = "")
	{
		std::string body = R"({"key":")" + b64(view.key(from)) + "\"";
		if (!to.empty())
			body += R"(,"range_end":")" + b64(view.key(to)) + "\"";
		auto r = call(loop, *client, "/v3/kv/range", body + "}");
		REQUIRE(r->err == 0);
		return r;
	}
	// The partition's record as etcd holds it.
	scd_record record()
	{
		View now;
		now.apply(range("partitions/0")->reply);
		return now.st.records[0];
	}
	struct scd_controller_stats stats() const
	{
		struct scd_controller_stats s;
		scd_controller_stats(c, &s);
		return s;
	}

	static void on_log(void *userdata, int, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
	{
		char line[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		static_cast<Env *>(userdata)->log.push_back(line);
	}
	static int64_t on_lease(void *userdata)
	{
		return static_cast<Env *>(userdata)->lease;
	}

	// Members n1 (this node) and x; partition 0's record names x primary, both in sync; n1 is
	// elected controller, and its view has all of it.
	void start()
	{
		lease = grant();
		put("members/n1", R"({"listen":"127.0.0.1:7001"})", lease);
		scd_record rec{};
		snprintf(rec.primary, sizeof(rec.primary), "x");
		rec.replica_count = 2;
		snprintf(rec.replicas[0], sizeof(rec.replicas[0]), "x");
		snprintf(rec.replicas[1], sizeof(rec.replicas[1]), "n1");
		json_object *j = scd_record_json(&rec);
		put("partitions/0", json_object_to_json_string(j));
		json_object_put(j);
		put("isr/0", R"({"in_sync":["x","n1"]})");
		view.apply(range("", "~")->reply);

		scd_controller_env env{};
		env.event = loop.e;
		env.etcd = *client;
		env.state = &view.st;
		env.cluster = CLUSTER;
		env.node = "n1";
		env.replication_factor = 2;
		env.in_sync_only = true;
		env.lease = on_lease;
		env.log = on_log;
		env.userdata = this;
		REQUIRE(scd_controller_new(&env, &c) == 0);
		scd_controller_changed(c, SCD_CHANGED_MEMBERS | SCD_CHANGED_RECORDS | SCD_CHANGED_CONTROLLER,
				       view.revision);
		REQUIRE(loop.run_until([&] { return !kvs(range("controller")->reply).empty(); }, 10000));
		view.apply(range("controller")->reply);
		REQUIRE(loop.run_until([&] { return stats().controller; }, 10000));
	}
	// Tell the controller its view reaches view.revision, and wait for the txn that follows.
	void changed()
	{
		struct scd_controller_stats before = stats();
		scd_controller_changed(c, SCD_CHANGED_MEMBERS, view.revision);
		INFO(logs());
		REQUIRE(loop.run_until(
			[&] {
				struct scd_controller_stats now = stats();
				return now.records_written + now.txn_conflicts >
				       before.records_written + before.txn_conflicts;
			},
			10000));
	}
	std::string logs() const
	{
		std::string s;
		for (const std::string &l : log)
			s += l + "\n";
		return s;
	}
};
} // namespace

TEST_CASE("a primary is moved only while its member key is still gone in etcd", "[controller]")
{
	Env env;
	int64_t x_lease = env.grant();
	env.put("members/x", R"({"listen":"127.0.0.1:7002"})", x_lease);
	env.start();
	REQUIRE(scd_state_member(&env.view.st, "x") != nullptr);
	int64_t epoch = env.record().epoch;

	// x's lease ends and its key goes; x, alive, joins again under a new lease and reads the record that
	// still names it primary, before its deletion has reached the controller's view.
	env.view.deleted("members/x", env.revoke(x_lease));
	env.put("members/x", R"({"listen":"127.0.0.1:7002"})", env.grant());
	env.changed();
	INFO(env.logs());
	CHECK(env.stats().txn_conflicts == 1);
	CHECK(env.stats().records_written == 0);
	CHECK(std::string(env.record().primary) == "x");
	CHECK(env.record().epoch == epoch);

	// Once the view has x back, nothing is to be written: x keeps its partition.
	env.view.apply(env.range("members/x")->reply);
	scd_controller_changed(env.c, SCD_CHANGED_MEMBERS, env.view.revision);
	env.loop.run_for(300);
	CHECK(env.stats().txn_conflicts == 1);
	CHECK(env.stats().records_written == 0);

	// x's key goes again, and stays gone: now the partition moves, under a new epoch.
	auto held = kvs(env.range("members/x")->reply);
	REQUIRE(held.size() == 1);
	env.view.deleted("members/x", env.revoke(held[0].lease));
	env.changed();
	CHECK(env.stats().records_written == 1);
	scd_record now = env.record();
	CHECK(std::string(now.primary) == "n1");
	CHECK(now.epoch > env.view.revision);
}

TEST_CASE("a txn that fails with the view already current is tried again after a pause, not at once",
	  "[controller]")
{
	Env env;
	env.put("members/x", R"({"listen":"127.0.0.1:7002"})", env.grant());
	env.start();

	// x's key now holds what no node writes: the view reads it as absent, yet the name is held in
	// etcd, so the move away from x fails every time, and nothing the view will learn explains it.
	env.put("members/x", "not json");
	env.view.apply(env.range("members/x")->reply);
	REQUIRE(scd_state_member(&env.view.st, "x") == nullptr);
	env.changed();
	env.loop.run_for(1000);
	INFO(env.logs());
	CHECK(env.stats().records_written == 0);
	CHECK(std::string(env.record().primary) == "x");
	// One try, then one every 250 ms.
	CHECK(env.stats().txn_conflicts >= 2);
	CHECK(env.stats().txn_conflicts <= 7);
}
