// test_cluster_state.cpp — what a node makes of the cluster's etcd keys, bad values included, and the controller's rule.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <json-c/json.h>
#include <supercache.h>
#include <systemd/sd-event.h>

extern "C" {
#include "cluster/assignment.h"
#include "cluster/cluster_state.h"
}

namespace
{

scd_etcd_kv kv_of(const std::string &key, const std::string &value, int64_t rev = 7, int64_t lease = 0)
{
	scd_etcd_kv kv{};
	std::snprintf(kv.key, sizeof(kv.key), "%s", key.c_str());
	std::memcpy(kv.value, value.data(), value.size());
	kv.value_len = value.size();
	kv.create_revision = kv.mod_revision = rev;
	kv.lease = lease;
	return kv;
}

struct State {
	scd_cluster_state st{};
	State(uint32_t partitions = 4)
	{
		REQUIRE(scd_state_init(&st, "prod", partitions) == 0);
	}
	~State()
	{
		scd_state_free(&st);
	}
	int put(const std::string &key, const std::string &value, int64_t rev = 7, std::string *why = nullptr)
	{
		scd_etcd_kv kv = kv_of("/supercache/prod/" + key, value, rev);
		char w[512] = "";
		int r = scd_state_put(&st, &kv, w, sizeof(w));
		if (why)
			*why = w;
		return r;
	}
};

} // namespace

TEST_CASE("the cluster's keys decode into members, a controller and records", "[cluster-state]")
{
	State s;
	CHECK(s.put("members/n2", R"({"listen":"10.0.0.2:7100"})") == SCD_CHANGED_MEMBERS);
	CHECK(s.put("members/n1", R"({"listen":"10.0.0.1:7100"})") == SCD_CHANGED_MEMBERS);
	REQUIRE(s.st.member_count == 2);
	CHECK(std::string(s.st.members[0].name) == "n1"); // kept in name order
	CHECK(std::string(scd_state_member(&s.st, "n2")->listen) == "10.0.0.2:7100");
	CHECK(s.put("controller", R"({"node":"n1"})", 9) == SCD_CHANGED_CONTROLLER);
	CHECK(s.st.controller_since == 9);
	CHECK(s.put("partitions/3", R"({"primary":"n1","replicas":["n1","n2"]})", 12) == SCD_CHANGED_RECORDS);
	CHECK(s.st.records[3].epoch == 12);
	CHECK(std::string(s.st.records[3].replicas[1]) == "n2");
	CHECK(s.put("isr/3", R"({"in_sync":["n1"]})", 13) == SCD_CHANGED_RECORDS);
	CHECK(s.st.isrs[3].revision == 13);
	CHECK(s.st.isrs[3].count == 1);
	CHECK(scd_isr_current(&s.st.isrs[3], &s.st.records[3]));
	std::string why;
	for (const char *bad : { R"({"in_sync":"n1"})", R"({"in_sync":["n 1"]})", R"({})", "[]" }) {
		INFO(bad);
		CHECK(s.put("isr/3", bad, 14, &why) == -EPROTO);
		CHECK(s.st.isrs[3].revision == 0);
	}
	CHECK(why.find("isr/3: not {\"in_sync\"") != std::string::npos);
	CHECK(s.put("isr/4", R"({"in_sync":[]})") == -EPROTO);
	REQUIRE(s.put("isr/3", R"({"in_sync":["n1","n2"]})", 15) == SCD_CHANGED_RECORDS);
	CHECK(scd_state_delete(&s.st, "/supercache/prod/isr/3") == SCD_CHANGED_RECORDS);
	CHECK(s.st.isrs[3].count == 0);
	CHECK(s.put("config", R"({"num_partition":"4"})") == 0); // not a key the state keeps
	CHECK(s.put("elsewhere/x", "{}") == 0);

	scd_etcd_kv del = kv_of("/supercache/prod/members/n1", "");
	CHECK(scd_state_delete(&s.st, del.key) == SCD_CHANGED_MEMBERS);
	CHECK(scd_state_member(&s.st, "n1") == nullptr);
	CHECK(scd_state_delete(&s.st, "/supercache/prod/partitions/3") == SCD_CHANGED_RECORDS);
	CHECK(s.st.records[3].epoch == 0);
	CHECK(scd_state_delete(&s.st, "/supercache/other/members/n2") == 0);
}

TEST_CASE("a value that does not decode is refused, named, and the key reads as absent",
	  "[cluster-state][errors]")
{
	State s;
	std::string why;
	REQUIRE(s.put("members/n1", R"({"listen":"a:1"})") > 0);
	CHECK(s.put("members/n1", "not json", 7, &why) == -EPROTO);
	CHECK(why.find("members/n1") != std::string::npos);
	CHECK(scd_state_member(&s.st, "n1") == nullptr);
	CHECK(s.put("members/bad name", R"({"listen":"a:1"})") == -EPROTO);
	CHECK(s.put("members/n1", R"({"listen":7})") == -EPROTO);
	CHECK(s.put("members/n1", R"(["listen"])") == -EPROTO);
	CHECK(s.put("members/n1", "{\"listen\":\"" + std::string(300, 'a') + "\"}") == -EPROTO);

	REQUIRE(s.put("partitions/1", R"({"primary":"n1","replicas":["n1"]})") > 0);
	for (const char *bad :
	     { R"({"primary":"n1"})", R"({"primary":"n 1","replicas":[]})",
	       R"({"primary":"n1","replicas":[1]})", R"({"primary":"n1","replicas":"n1"})",
	       R"({"primary":"n1","replicas":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]})" }) {
		INFO(bad);
		CHECK(s.put("partitions/1", bad, 7, &why) == -EPROTO);
		CHECK(s.st.records[1].epoch == 0); // what was there is not kept either
	}
	CHECK(s.put("partitions/4", R"({"primary":"","replicas":[]})", 7, &why) ==
	      -EPROTO); // 4 partitions: 0..3
	CHECK(why.find("no partition 4 in 4") != std::string::npos);
	CHECK(s.put("partitions/01", R"({"primary":"","replicas":[]})") == -EPROTO);
	CHECK(s.put("partitions/-1", R"({"primary":"","replicas":[]})") == -EPROTO);
	CHECK(s.put("controller", R"({"node":""})") == -EPROTO);
	CHECK(s.st.controller[0] == '\0');

	for (unsigned i = 0; i < SCD_MAX_MEMBERS; i++)
		REQUIRE(s.put("members/m" + std::to_string(i), R"({"listen":"a:1"})") > 0);
	CHECK(s.put("members/one-too-many", R"({"listen":"a:1"})", 7, &why) == -ENOSPC);
	CHECK(why.find("at most 64 members") != std::string::npos);
}

namespace
{

// The controller's decision for partition 5 from cur (and its in-sync set, when given).
bool assign(const scd_record &cur, const scd_isr *isr, bool in_sync_only, uint32_t rf, scd_record *want,
	    scd_isr *want_isr, const std::vector<const char *> &live = { "n1", "n2", "n3" })
{
	scd_assign_from from = { &cur, isr, in_sync_only, 5, rf };
	return scd_assign(&from, live.data(), static_cast<uint32_t>(live.size()), want, want_isr);
}

scd_record record(int64_t epoch, const std::vector<std::string> &replicas)
{
	scd_record r{};
	r.epoch = epoch;
	std::snprintf(r.primary, sizeof(r.primary), "%s", replicas[0].c_str());
	for (auto &n : replicas)
		std::snprintf(r.replicas[r.replica_count++], sizeof(r.replicas[0]), "%s", n.c_str());
	return r;
}

scd_isr isr_of(int64_t revision, const std::vector<std::string> &nodes)
{
	scd_isr s{};
	s.revision = revision;
	for (auto &n : nodes)
		std::snprintf(s.nodes[s.count++], sizeof(s.nodes[0]), "%s", n.c_str());
	return s;
}

std::vector<std::string> names(const scd_isr &s)
{
	return std::vector<std::string>(s.nodes, s.nodes + s.count);
}

} // namespace

TEST_CASE("the controller keeps a live primary, else takes the first live in-sync replica", "[cluster-state]")
{
	scd_record cur{}, want{};
	scd_isr isr{};

	// Nothing yet: the highest ranked member, replication_factor holders, every one in sync.
	REQUIRE(assign(cur, nullptr, true, 2, &want, &isr));
	CHECK(want.replica_count == 2);
	CHECK(std::string(want.replicas[0]) == want.primary);
	CHECK(names(isr) == std::vector<std::string>({ want.replicas[0], want.replicas[1] }));

	// A live primary stays, though another member may rank above it now.
	for (const char *p : { "n1", "n2", "n3" }) {
		cur = record(10, { p });
		scd_isr in = isr_of(10, { p });
		assign(cur, &in, true, 2, &want, &isr);
		CHECK(std::string(want.primary) == p);
		CHECK(std::string(want.replicas[0]) == p);
		CHECK(names(isr) == std::vector<std::string>({ p })); // the new replica is not in sync yet
	}

	// Its primary gone: the first live member of the in-sync set, not the first live replica.
	cur = record(10, { "gone", "n3", "n1" });
	scd_isr in = isr_of(11, { "gone", "n1" });
	REQUIRE(assign(cur, &in, true, 3, &want, &isr));
	CHECK(std::string(want.primary) == "n1");
	CHECK(want.epoch == 10); // the epoch is etcd's to give: the write's revision
	CHECK(names(isr) == std::vector<std::string>({ "n1" }));

	// Written as wanted, in-sync set current: nothing to write again.
	scd_record same = want;
	scd_isr same_isr = isr;
	same_isr.revision = 12;
	CHECK_FALSE(assign(same, &same_isr, true, 3, &want, &isr));
	// An in-sync set that is not current is written, with the record.
	CHECK(assign(same, nullptr, true, 3, &want, &isr));
}

TEST_CASE(
	"in sync mode a partition whose in-sync replicas are all down keeps its record; async takes a replica",
	"[cluster-state]")
{
	scd_record cur = record(10, { "gone", "n3" }), want{};
	scd_isr in = isr_of(12, { "gone" }), isr{};
	// n3 fell behind and left the in-sync set: it lacks acknowledged writes, so it is not named.
	CHECK_FALSE(assign(cur, &in, true, 2, &want, &isr));
	CHECK(std::string(want.primary) == "gone");
	// In async mode it is: what it lacks is lost, and the coordinator counted it unshipped.
	REQUIRE(assign(cur, &in, false, 2, &want, &isr));
	CHECK(std::string(want.primary) == "n3");
	CHECK(names(isr)[0] == "n3");
	// With no in-sync set known, every replica of the record counts.
	REQUIRE(assign(cur, nullptr, true, 2, &want, &isr));
	CHECK(std::string(want.primary) == "n3");
}

TEST_CASE(
	"in sync mode a move is made before it breaks: the leaving in-sync replica stays until the new one is in "
	"sync; async mode moves at once",
	"[cluster-state]")
{
	// Where the placement puts partition 5 with n1 its primary: n1 and a target; the third node leaves.
	scd_record want{};
	scd_isr isr{};
	scd_isr only_n1 = isr_of(10, { "n1" });
	assign(record(10, { "n1" }), &only_n1, true, 2, &want, &isr);
	REQUIRE(want.replica_count == 2);
	const std::string target = want.replicas[1];
	const std::string leaving = target == "n2" ? "n3" : "n2";

	// {n1, leaving}, both in sync, moves to {n1, target}: leaving stays, last, in the record and the set.
	scd_record cur = record(10, { "n1", leaving });
	scd_isr in = isr_of(10, { "n1", leaving });
	REQUIRE(assign(cur, &in, true, 2, &want, &isr));
	REQUIRE(want.replica_count == 3);
	CHECK(std::vector<std::string>(want.replicas, want.replicas + 3) ==
	      std::vector<std::string>({ "n1", target, leaving }));
	CHECK(names(isr) == std::vector<std::string>({ "n1", leaving }));
	// Written so, nothing to write again until the set changes.
	scd_record moving = want;
	moving.epoch = 11;
	scd_isr moving_isr = isr;
	moving_isr.revision = 11;
	CHECK_FALSE(assign(moving, &moving_isr, true, 2, &want, &isr));
	// The target caught up and joined the set: leaving goes.
	scd_isr caught_up = isr_of(12, { "n1", leaving, target });
	REQUIRE(assign(moving, &caught_up, true, 2, &want, &isr));
	CHECK(want.replica_count == 2);
	CHECK(std::vector<std::string>(want.replicas, want.replicas + 2) ==
	      std::vector<std::string>({ "n1", target }));
	CHECK(names(isr) == std::vector<std::string>({ "n1", target }));

	// A leaving replica that is out of the set, or not live, is not kept: it holds nothing the set needs.
	scd_isr without = isr_of(10, { "n1" });
	REQUIRE(assign(cur, &without, true, 2, &want, &isr));
	CHECK(want.replica_count == 2);
	REQUIRE(assign(cur, &in, true, 2, &want, &isr, { "n1", target.c_str() }));
	CHECK(want.replica_count == 2);
	// Async mode keeps no in-sync set to say when the target has caught up: it moves at once.
	REQUIRE(assign(cur, &in, false, 2, &want, &isr));
	CHECK(want.replica_count == 2);
	CHECK(std::string(want.replicas[1]) == target);
}

TEST_CASE("in-sync sets decode, belong to an epoch, and go back to JSON", "[cluster-state]")
{
	scd_isr s = isr_of(7, { "a", "b" });
	scd_record r = record(7, { "a", "b" });
	CHECK(scd_isr_current(&s, &r));
	r.epoch = 8;
	CHECK_FALSE(scd_isr_current(&s, &r));
	CHECK(scd_isr_has(&s, "b"));
	CHECK_FALSE(scd_isr_has(&s, "c"));
	json_object *j = scd_isr_json(&s);
	CHECK(std::string(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN)) ==
	      R"({"in_sync":["a","b"]})");
	json_object_put(j);
}

TEST_CASE("acknowledged: the least position of the in-sync copies, and of those a change being written adds",
	  "[cluster-state]")
{
	// n1 the primary at 10; n2 in sync at 8; n3 caught up at 9, joining.
	const scd_isr isr = isr_of(5, { "n1", "n2" }), joining = isr_of(5, { "n1", "n2", "n3" });
	const scd_isr_position at[] = { { "n1", 10 }, { "n2", 8 }, { "n3", 9 } };
	CHECK(scd_isr_acked(&isr, nullptr, at, 3, 2) == 8);
	// n2 at 12 now: without the change n3 would not count, and 10 would be acknowledged; while the change
	// is written (etcd may hold it already, and pick n3 as the next primary) n3's 9 holds it back.
	const scd_isr_position later[] = { { "n1", 10 }, { "n2", 12 }, { "n3", 9 } };
	CHECK(scd_isr_acked(&isr, nullptr, later, 3, 2) == 10);
	CHECK(scd_isr_acked(&isr, &joining, later, 3, 2) == 9);
	// A change that removes n2 keeps it counting until it is written.
	const scd_isr leaving = isr_of(5, { "n1" });
	CHECK(scd_isr_acked(&isr, &leaving, at, 3, 2) == 8);
	// Fewer members of the set than a majority: nothing acknowledged, whatever the change adds.
	const scd_isr alone = isr_of(5, { "n1" });
	CHECK(scd_isr_acked(&alone, &joining, later, 3, 2) == 0);
	CHECK(scd_isr_acked(&isr, nullptr, at, 1, 2) == 0);
}
