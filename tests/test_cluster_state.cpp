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

TEST_CASE("the controller keeps a live primary, else takes the first live replica, else the top ranked",
	  "[cluster-state]")
{
	const char *three[] = { "n1", "n2", "n3" };
	scd_record cur{}, want{};

	// Nothing yet: the highest ranked member, and replication_factor holders.
	REQUIRE(scd_assign(&cur, three, 3, 5, 2, &want));
	CHECK(want.replica_count == 2);
	CHECK(std::string(want.replicas[0]) == want.primary);

	// A live primary stays, though another member may rank above it now.
	cur = want;
	cur.epoch = 10;
	for (const char *p : three) {
		std::snprintf(cur.primary, sizeof(cur.primary), "%s", p);
		std::snprintf(cur.replicas[0], sizeof(cur.replicas[0]), "%s", p);
		scd_assign(&cur, three, 3, 5, 2, &want);
		CHECK(std::string(want.primary) == p);
		CHECK(std::string(want.replicas[0]) == p);
	}

	// Its primary gone: the first live replica of the record.
	cur = scd_record{};
	cur.epoch = 10;
	std::snprintf(cur.primary, sizeof(cur.primary), "gone");
	cur.replica_count = 3;
	std::snprintf(cur.replicas[0], sizeof(cur.replicas[0]), "gone");
	std::snprintf(cur.replicas[1], sizeof(cur.replicas[1]), "n3");
	std::snprintf(cur.replicas[2], sizeof(cur.replicas[2]), "n1");
	REQUIRE(scd_assign(&cur, three, 3, 5, 3, &want));
	CHECK(std::string(want.primary) == "n3");
	CHECK(want.epoch == 10); // the epoch is etcd's to give: the write's revision

	// Written as wanted: nothing to write again.
	scd_record same = want;
	CHECK_FALSE(scd_assign(&same, three, 3, 5, 3, &want));
}
