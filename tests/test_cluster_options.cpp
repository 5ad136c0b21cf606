// test_cluster_options.cpp — the replication options a cache keeps, and the write fence of a distributed cache.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "helpers.hpp"

using namespace sctest;

namespace
{

sc_options cluster_options(uint32_t cluster, uint32_t mode, uint32_t factor)
{
	sc_options o = options(2, 32 << 20);
	o.cluster = cluster;
	o.replication_mode = mode;
	o.replication_factor = factor;
	return o;
}

// The write was refused by the fence, and said why.
void check_fenced(int r)
{
	CHECK(r == -EOPNOTSUPP);
	CHECK(contains(sc_last_error(), "is distributed"));
}

} // namespace

TEST_CASE("a local cache keeps the seed's replication defaults", "[cluster]")
{
	Cache c(unique_name("cluster-defaults"), options(2, 32 << 20));
	REQUIRE(c.start_error() == 0);
	sc_options got{};
	REQUIRE(sc_config(c, &got) == 0);
	CHECK(got.cluster == SC_CLUSTER_LOCAL);
	CHECK(got.replication_mode == SC_REPLICATION_ASYNC);
	CHECK(got.replication_factor == 2);
	CHECK(sc_distributed(c) == 0);
	CHECK(sc_distributed(nullptr) == -EINVAL);

	// A caller built before these fields existed gets its own fields, and nothing past them.
	sc_options old;
	std::memset(&old, 0xab, sizeof(old));
	old.sz = offsetof(sc_options, cluster);
	REQUIRE(sc_config(c, &old) == 0);
	CHECK(old.sz == offsetof(sc_options, cluster));
	CHECK(old.num_partition == 2);
	CHECK(old.cluster == 0xababababu);
	CHECK(old.replication_factor == 0xababababu);
}

TEST_CASE("replication options are checked in local mode too, with the seed's words", "[cluster][errors]")
{
	std::string name = unique_name("cluster-bad");
	sc_cache *c = nullptr;
	sc_options o = cluster_options(2, 0, 0);
	CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	CHECK(contains(sc_last_error(), "unsupported cluster mode 2"));

	o = cluster_options(SC_CLUSTER_LOCAL, 4, 0);
	CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	CHECK(contains(sc_last_error(), "unsupported replication_mode 4"));

	o = cluster_options(SC_CLUSTER_LOCAL, 0, static_cast<uint32_t>(-3));
	CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	CHECK(contains(sc_last_error(), "replication_factor must be a positive integer, not -3"));

	o = cluster_options(SC_CLUSTER_LOCAL, 0, SC_MAX_REPLICATION_FACTOR + 1);
	CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	CHECK(contains(sc_last_error(), "replication_factor 17 is above the maximum of 16"));

	// How long a sync write waits is each handle's, and bounded.
	o = cluster_options(SC_CLUSTER_LOCAL, 0, 0);
	o.majority_timeout_ms = 3600001;
	CHECK(sc_start(name.c_str(), &o, &c) == -EINVAL);
	CHECK(contains(sc_last_error(), "majority_timeout_ms 3600001 is above the maximum of 3600000"));

	CHECK(c == nullptr);
	o = cluster_options(SC_CLUSTER_LOCAL, 0, 0);
	CHECK(sc_started(name.c_str(), &o) == 0); // nothing was created
}

TEST_CASE("a cache keeps its replication options: another start asking for others names the mismatch",
	  "[cluster]")
{
	std::string name = unique_name("cluster-mismatch");
	Cache c(name, cluster_options(SC_CLUSTER_LOCAL, SC_REPLICATION_SYNC, 3));
	REQUIRE(c.start_error() == 0);
	sc_options got{};
	REQUIRE(sc_config(c, &got) == 0);
	CHECK(got.replication_mode == SC_REPLICATION_SYNC);
	CHECK(got.replication_factor == 3);

	sc_cache *other = nullptr;
	sc_options o = cluster_options(SC_CLUSTER_LOCAL, SC_REPLICATION_SYNC, 2);
	CHECK(sc_start(name.c_str(), &o, &other) == -EINVAL);
	CHECK(contains(sc_last_error(), "replication_factor mismatch"));
	CHECK(contains(sc_last_error(), "has 3, asked for 2"));

	o = cluster_options(SC_CLUSTER_LOCAL, SC_REPLICATION_STRONG, 3);
	CHECK(sc_start(name.c_str(), &o, &other) == -EINVAL);
	CHECK(contains(sc_last_error(), "replication_mode mismatch"));
	CHECK(contains(sc_last_error(), "has sync, asked for strong"));

	o = cluster_options(SC_CLUSTER_DISTRIBUTED, SC_REPLICATION_SYNC, 3);
	CHECK(sc_start(name.c_str(), &o, &other) == -EINVAL);
	CHECK(contains(sc_last_error(), "cluster mismatch"));
	CHECK(contains(sc_last_error(), "is local, asked for distributed"));

	o = cluster_options(SC_CLUSTER_LOCAL, SC_REPLICATION_SYNC, 3);
	REQUIRE(sc_start(name.c_str(), &o, &other) == 0);
	REQUIRE(sc_stop(other) == 0);
}

TEST_CASE("a distributed cache refuses every write, in every process, and still answers reads", "[cluster]")
{
	std::string name = unique_name("cluster-fence");
	Cache c(name, cluster_options(SC_CLUSTER_DISTRIBUTED, SC_REPLICATION_STRONG, 3));
	REQUIRE(c.start_error() == 0);
	CHECK(sc_distributed(c) == 1);

	check_fenced(sc_put(c, SC_TUPLE(sc_str("k"), sc_int(1))));
	check_fenced(sc_put_ttl(c, SC_TUPLE(sc_str("k"), sc_int(1)), 1000));
	check_fenced(sc_put_batch(c, SC_TUPLE(sc_str("k"), sc_int(1)), 1));
	check_fenced(sc_put_partition_by_idx(c, SC_TUPLE(sc_str("k"), sc_int(1)), 1));
	check_fenced(sc_lazy_put(c, SC_TUPLE(sc_str("k"), sc_int(1))));
	check_fenced(sc_delete(c, SC_TUPLE(sc_str("k"))));
	check_fenced(sc_delete_all(c));
	check_fenced(sc_delete_by_match(c, nullptr, SC_TUPLE(sc_any(), sc_any())));
	check_fenced(sc_touch(c, SC_TUPLE(sc_str("k")), 1000));
	check_fenced(sc_expire(c));
	check_fenced(sc_expire_within(c, 1));
	check_fenced(sc_kv_add(c, "kv", sc_str("a"), sc_int(1)));
	check_fenced(sc_kv_add_ttl(c, "kv", sc_str("a"), sc_int(1), 1000));
	const sc_kv_pair pair = { sc_str("a"), sc_int(1) };
	check_fenced(sc_kv_add_batch(c, "kv", &pair, 1));
	check_fenced(sc_kv_remove(c, "kv", sc_str("a")));
	check_fenced(sc_kv_remove_all(c, "kv"));
	check_fenced(sc_queue_add(c, "q", sc_int(1)));
	check_fenced(sc_stack_push(c, "s", sc_int(1)));
	check_fenced(sc_struct_init(c, "point", 16, 0, 8));

	// Reads are answered from this host's copy; maintenance and the checker still run.
	sc_tuples *out = nullptr;
	CHECK(sc_get(c, SC_TUPLE(sc_str("k")), &out) == 0);
	CHECK(sc_kv_count(c, "kv") == 0);
	CHECK(sc_queue_count(c, "q") == 0);
	uint64_t freed = 0;
	CHECK(sc_reclaim(c, &freed) >= 0);
	sc_check_report report{};
	CHECK(sc_check(c, 0, &report) == 0);
	Stats s(c);
	CHECK(s.error() == 0);

	// Another process attaching adopts the configuration, fence included.
	pid_t child = spawn([&name]() {
		sc_cache *a = nullptr;
		if (sc_attach(name.c_str(), nullptr, &a) != 0)
			return 10;
		int r = sc_distributed(a) == 1 ? 0 : 11;
		if (!r && sc_put(a, SC_TUPLE(sc_str("k"), sc_int(2))) != -EOPNOTSUPP)
			r = 12;
		sc_stop(a);
		return r;
	});
	CHECK(wait_child(child) == 0);
}
