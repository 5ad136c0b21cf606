// test_forwarding.cpp — writes and primary reads made on a node that is not their partition's primary,
// forwarded by the coordinators over the peer links: on three nodes in network namespaces, each with its
// own etcd member.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "cluster_rig.hpp"

using namespace sctest;

namespace
{

// A node that is not the primary of key's partition.
unsigned not_primary(Writers &w, const std::string &key, unsigned pick)
{
	return (w.primary_of_key(key) + 1 + pick % 2) % 3;
}

bool found(sc_cache *c, const std::string &key)
{
	sc_tuples *got = nullptr;
	int n = sc_get(c, SC_TUPLE(sc_str(key.c_str())), &got);
	sc_tuples_free(got);
	return n == 1;
}

// A connection to node i's forwarding socket, next to its segment.
int dial(const Writers &w, unsigned i)
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	REQUIRE(sc_forward_socket_path(w.h[i], sa.sun_path, sizeof(sa.sun_path)) == 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	timeval tv{ 10, 0 };
	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	REQUIRE(connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
	return fd;
}

} // namespace

TEST_CASE(
	"sync: puts, deletes, batches, buffered puts, KeyValue, Struct and calls over every partition made on a node "
	"that is not their primary run there, and every replica has them",
	"[cluster][forwarding]")
{
	REQUIRE_NETNS();
	Rig rig("fwd");
	rig.every_node = { "--replication-mode", "sync" };
	rig.start_settled();
	REQUIRE_LOGGED(rig, wait_links(rig, 20000) >= 0);
	Writers w(rig);
	// Every partition on two nodes first: until then a sync write may be acknowledged by its primary
	// alone (a partition with one copy).
	for (uint32_t p = 0; p < partitions; p++)
		REQUIRE_LOGGED(rig, w.wait_replicas(p, 2, 20000) >= 0);

	// Each write made where it is not primary: on its primary and its in-sync replica when the call
	// returns (replication_factor 2: the in-sync set is both), never applied on the node it was made
	// on first; also when the placement moved the partition meanwhile, since a replica leaves only once
	// its successor is in sync (docs/distributed.md, "Moving a partition").
	int on_primary = 0, on_two = 0, moved = 0;
	for (int k = 0; k < 600; k++) {
		const std::string key = "f" + std::to_string(k);
		const uint32_t part = sctest_partition_of(w.h[0], SC_TUPLE(sc_str(key.c_str())));
		const std::vector<uint64_t> before = w.epochs_of(part);
		const unsigned from = not_primary(w, key, static_cast<unsigned>(k));
		REQUIRE(w.put_from(from, key, k) == 0);
		int holders = 0;
		for (auto *c : w.copy)
			holders += found(c, key);
		moved += w.epochs_of(part) != before;
		if (holders < 2)
			w.describe_partition(part);
		on_two += holders >= 2;
		on_primary += found(w.copy[w.primary_of_key(key)], key);
	}
	CHECK(on_primary == 600);
	CHECK(on_two == 600);
	std::cout << "forwarded sync writes on two nodes at once: " << on_two << " (" << moved
		  << " while their partition moved)" << std::endl;
	// Primary reads from every node: answered by the primary, here or through the coordinators.
	// Each timed, to print what a read on the primary and one forwarded there take.
	const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
	std::vector<uint64_t> here_ns, forwarded_ns;
	for (int k = 0; k < 600; k += 3) {
		const std::string key = "f" + std::to_string(k);
		const unsigned owner = w.primary_of_key(key);
		for (unsigned i = 0; i < 3; i++) {
			sc_tuples *out = nullptr;
			const uint64_t t0 = now_ns();
			const int r = sc_get_with(w.h[i], SC_TUPLE(sc_str(key.c_str())), &primary, &out);
			(i == owner ? here_ns : forwarded_ns).push_back(now_ns() - t0);
			INFO(key << ": " << (r < 0 ? sc_last_error() : ""));
			REQUIRE(r == 1);
			CHECK(out->tuples[0].fields[1].v.i == k);
			sc_tuples_free(out);
		}
	}
	std::sort(here_ns.begin(), here_ns.end());
	std::sort(forwarded_ns.begin(), forwarded_ns.end());
	std::cout << "sync primary reads: median " << here_ns[here_ns.size() / 2] / 1000.0
		  << " us on the primary (" << here_ns.size() << "), "
		  << forwarded_ns[forwarded_ns.size() / 2] / 1000.0 << " us from another node ("
		  << forwarded_ns.size() << ")" << std::endl;
	// Quorum reads from every node: both replicas answer (a majority of two), the newest copy wins.
	const sc_read_opts quorum = { SC_READ_QUORUM, 0 };
	std::vector<uint64_t> quorum_ns;
	for (int k = 0; k < 600; k += 3) {
		const std::string key = "f" + std::to_string(k);
		for (unsigned i = 0; i < 3; i++) {
			sc_tuples *out = nullptr;
			const uint64_t t0 = now_ns();
			const int r = sc_get_with(w.h[i], SC_TUPLE(sc_str(key.c_str())), &quorum, &out);
			quorum_ns.push_back(now_ns() - t0);
			INFO(key << " from n" << i << ": " << (r < 0 ? sc_last_error() : ""));
			REQUIRE(r == 1);
			CHECK(out->tuples[0].fields[1].v.i == k);
			sc_tuples_free(out);
		}
	}
	std::sort(quorum_ns.begin(), quorum_ns.end());
	std::cout << "sync quorum reads: median " << quorum_ns[quorum_ns.size() / 2] / 1000.0 << " us ("
		  << quorum_ns.size() << ")" << std::endl;
	for (int k = 0; k < 600; k += 6) {
		const std::string key = "f" + std::to_string(k);
		INFO(key);
		CHECK(sc_delete(w.h[not_primary(w, key, 0)], SC_TUPLE(sc_str(key.c_str()))) == 1);
		CHECK(!found(w.copy[w.primary_of_key(key)], key));
	}
	for (int k = 0; k < 300; k++)
		CHECK(sc_kv_add(w.h[k % 3], "ns", sc_int(k), sc_int(-k)) == 0);
	for (int k = 0; k < 300; k += 11)
		for (auto *c : w.h) {
			sc_tuples *out = nullptr;
			REQUIRE(sc_kv_get_with(c, "ns", sc_int(k), nullptr, &primary, &out) == 1);
			CHECK(out->tuples[0].fields[0].v.i == -k);
			sc_tuples_free(out);
		}
	std::vector<sc_kv_pair> pairs;
	std::vector<sc_field> kv_keys;
	for (int k = 0; k < 100; k++) {
		pairs.push_back({ sc_int(k), sc_int(k) });
		kv_keys.push_back(sc_int(k));
	}
	CHECK(sc_kv_add_batch(w.h[2], "nb", pairs.data(), pairs.size()) == 0);
	CHECK(sc_kv_remove_batch(w.h[1], "nb", kv_keys.data(), 50) == 50);

	// A batch over every partition, from one node: each primary takes its share.
	std::vector<std::string> keys;
	std::vector<sc_field> fields;
	std::vector<sc_tuple> batch;
	for (int k = 0; k < 64; k++)
		keys.push_back("b" + std::to_string(k));
	fields.reserve(2 * keys.size());
	for (const auto &key : keys) {
		fields.push_back(sc_str(key.c_str()));
		fields.push_back(sc_int(1));
		batch.push_back({ 2, &fields[fields.size() - 2] });
	}
	INFO(sc_last_error());
	REQUIRE(sc_put_batch(w.h[1], batch.data(), batch.size()) == 0);
	for (const auto &key : keys)
		CHECK(found(w.copy[w.primary_of_key(key)], key));

	// Buffered puts, and calls over every partition: each partition's share runs on its primary.
	for (int k = 0; k < 64; k++)
		REQUIRE(sc_lazy_put(w.h[0], SC_TUPLE(sc_str(("lz" + std::to_string(k)).c_str()),
						     sc_str("lazy"), sc_int(k))) == 0);
	REQUIRE(sc_flush(w.h[0]) == 0);
	for (int k = 0; k < 64; k++)
		CHECK(found(w.copy[w.primary_of_key("lz" + std::to_string(k))], "lz" + std::to_string(k)));
	CHECK(sc_delete_by_match(w.h[2], nullptr, SC_TUPLE(sc_any(), sc_str("lazy"), sc_any())) == 64);
	CHECK(sc_kv_remove_all(w.h[1], "ns") == 300);
	for (auto *c : w.copy)
		CHECK(sc_kv_count(c, "ns") == 0);
	// Struct: registered on the type's primary; added, removed and removed all from every node, also
	// one with no copy of the type's partition (it reads the type's geometry from the type's primary).
	struct point {
		int64_t id, x;
	};
	REQUIRE(sc_struct_init(w.h[2], "point", sizeof(point), 0, sizeof(int64_t)) == 0);
	for (int64_t id = 0; id < 40; id++) {
		const point pt = { id, -id };
		INFO("from n" << id % 3 << ": " << sc_last_error());
		CHECK(sc_struct_add(w.h[id % 3], "point", &pt) == 0);
	}
	const point first = { 0, 0 };
	CHECK(sc_struct_remove(w.h[1], "point", &first) == 1);
	CHECK(sc_struct_remove_all(w.h[0], "point") == 39);

	// Queues and stacks: each call runs on the home's primary, whichever node it is made on; every value
	// comes out once, in order, and the replicas hold what the primary holds.
	for (int k = 0; k < 90; k++) {
		const std::string q = "queue" + std::to_string(k % 3);
		CHECK(sc_queue_add(w.h[k % 3], q.c_str(), sc_int(k)) == 0);
		CHECK(sc_stack_push(w.h[(k + 1) % 3], "stack", sc_int(k)) == 0);
	}
	for (int k = 0; k < 45; k++) {
		sc_tuples *out = nullptr;
		const std::string q = "queue" + std::to_string(k % 3);
		REQUIRE(sc_queue_out(w.h[(k + 2) % 3], q.c_str(), nullptr, &out) == 1);
		CHECK(out->tuples[0].fields[0].v.i == k % 3 + 3 * (k / 3));
		sc_tuples_free(out);
		REQUIRE(sc_stack_pop(w.h[k % 3], "stack", nullptr, &out) == 1);
		CHECK(out->tuples[0].fields[0].v.i == 89 - k);
		sc_tuples_free(out);
	}
	// Counted by their primary from every node: what the calls left.
	for (auto *c : w.h) {
		for (const char *q : { "queue0", "queue1", "queue2" })
			CHECK(sc_queue_count_with(c, q, &primary) == 15);
		CHECK(sc_stack_count_with(c, "stack", &primary) == 45);
	}

	int64_t ms = w.wait_equal(10000);
	CHECK_LOGGED(rig, ms >= 0);
	std::cout << "every replica equal to its primary " << ms << " ms after the last forwarded write"
		  << std::endl;
	// Everything, from one node: every partition empty on every node.
	CHECK(sc_delete_all(w.h[1]) == 0);
	CHECK_LOGGED(rig, w.wait_equal(10000) >= 0);
	for (auto *c : w.copy)
		for (const auto &key : keys)
			CHECK(!found(c, key));

	// What the coordinators counted (ClusterHealth): every request sent on or run where it came in,
	// each one sent on served by another node, none timed out or lost on the way; a quorum read
	// sent to both replicas of its partition, and served by each (a majority of two is both).
	uint64_t requests = 0, sent = 0, served = 0, quorum_reads = 0, late = 0;
	for (unsigned i = 0; i < 3; i++) {
		BusDict health = cluster_health(rig, i);
		requests += health["forwarded_writes"].u;
		sent += health["forwarded_sent"].u;
		served += health["forwarded_served"].u;
		quorum_reads += health["quorum_reads"].u;
		late += health["forwarded_late_replies"].u;
		CHECK(health["forwarded_timeouts"].u == 0);
		CHECK(health["forwarded_broken"].u == 0);
		CHECK(health["forwarded_unreachable"].u == 0);
	}
	CHECK(requests >= 600 + quorum_reads);
	CHECK(quorum_reads == 600);
	CHECK(served == requests + quorum_reads);
	CHECK(sent <= requests + quorum_reads);
	CHECK(late == 0);
	rig.check();
}

// The value of key read on node i with opts: the value, or -1 when absent; the error as it is.
int64_t read_value(Writers &w, unsigned i, const std::string &key, const sc_read_opts *opts, int *rc)
{
	sc_tuples *out = nullptr;
	*rc = sc_get_with(w.h[i], SC_TUPLE(sc_str(key.c_str())), opts, &out);
	const int64_t v = *rc == 1 ? out->tuples[0].fields[1].v.i : -1;
	sc_tuples_free(out);
	return v;
}

TEST_CASE("sync, three copies: a quorum read returns the newest acknowledged write, also on a replica the "
	  "primary cut off whose own copy is stale; a stopped replica does not hold it up",
	  "[cluster][forwarding][quorum]")
{
	REQUIRE_NETNS();
	Rig rig("quorum");
	rig.every_node = { "--replication-mode", "sync", "--replication-factor", "3",
			   "--replica-lag-ms",	 "300" };
	rig.start_settled();
	REQUIRE_LOGGED(rig, wait_links(rig, 20000) >= 0);
	Writers w(rig, 5000);
	const uint32_t part = 0;
	REQUIRE_LOGGED(rig, w.wait_replicas(part, 3, 20000) >= 0);
	const unsigned primary = w.primary_of(part), stale = (primary + 1) % 3, other = (primary + 2) % 3;
	const sc_read_opts local = { SC_READ_LOCAL, 0 }, quorum = { SC_READ_QUORUM, 0 };
	std::vector<std::string> keys;
	for (int k = 0; keys.size() < 20; k++) {
		const std::string key = "q" + std::to_string(k);
		if (sctest_partition_of(w.h[0], SC_TUPLE(sc_str(key.c_str()))) == part)
			keys.push_back(key);
	}
	int rc = 0;
	for (const auto &key : keys)
		REQUIRE(w.put_from(primary, key, 1) == 0);
	// The stale node to be holds the 1s first (acknowledged by a majority, it may get them a moment later).
	CHECK(ms_until(5000, 2, [&] {
		      for (const auto &key : keys)
			      if (read_value(w, stale, key, &local, &rc) != 1)
				      return false;
		      return true;
	      }) >= 0);

	// The primary and the stale node stop reaching each other (their coordinators' links only: etcd
	// still sees both). Writes go on once the stale node left the in-sync set; its copy keeps the 1s.
	rig.net.cut_port(primary, stale, 7100);
	for (const auto &key : keys) {
		INFO(key << ": " << sc_last_error());
		REQUIRE(w.put_from(primary, key, 2) == 0);
	}
	for (const auto &key : keys)
		CHECK(read_value(w, stale, key, &local, &rc) == 1);
	// A quorum read made on each node returns 2, never the stale 1: on the stale node the primary
	// cannot answer, and its own copy and the third node's make the majority. Until the third node
	// hears that the last writes are acknowledged the primary is asked instead, which the stale node
	// cannot reach (-EHOSTUNREACH): it asks again.
	int stale_answers = 0, retries = 0;
	for (unsigned i : { primary, other, stale })
		for (const auto &key : keys) {
			int64_t v = -1;
			const int64_t ms = ms_until(3000, 5, [&] {
				v = read_value(w, i, key, &quorum, &rc);
				INFO("n" << i << " " << key << ": " << (rc < 0 ? sc_last_error() : ""));
				CHECK((rc == 1 || rc == -EHOSTUNREACH || rc == -EAGAIN));
				retries += rc < 0;
				stale_answers += v == 1;
				return rc == 1;
			});
			INFO("n" << i << " " << key << ": " << sc_last_error());
			CHECK(ms >= 0);
			CHECK(v == 2);
		}
	CHECK(stale_answers == 0);
	// A match over every partition, by quorum, from the stale node: each partition by a majority of its
	// replicas, so partition 0's keys come back with 2, none with 1.
	{
		sc_tuples *out = nullptr;
		int twos = 0, ones = 0;
		const int64_t ms = ms_until(3000, 5, [&] {
			sc_tuples_free(out);
			out = nullptr;
			const int n = sc_get_by_match_object_with(
				w.h[stale], nullptr, SC_TUPLE(sc_any(), sc_any()), &quorum, &out);
			INFO(sc_last_error());
			CHECK((n >= 0 || n == -EHOSTUNREACH || n == -EAGAIN));
			twos = ones = 0;
			for (size_t i = 0; n > 0 && i < out->count; i++) {
				twos += out->tuples[i].fields[1].v.i == 2;
				ones += out->tuples[i].fields[1].v.i == 1;
			}
			return n >= 0;
		});
		sc_tuples_free(out);
		CHECK(ms >= 0);
		CHECK(twos == static_cast<int>(keys.size()));
		CHECK(ones == 0);
	}
	std::cout << "quorum reads beside a stale replica: " << 3 * keys.size() << " answered 2, "
		  << stale_answers << " the stale 1, " << retries << " asked again" << std::endl;
	rig.net.heal_port(primary, stale, 7100);
	const uint64_t healed_ns = now_ns();

	// One replica stopped: the other two are a majority, and answer without waiting for it (once the
	// healed link carries heartbeats again: until then the stopped one and the cut one would be two of
	// three, and a read sent on a link that dies of the cut later fails with it).
	REQUIRE_LOGGED(rig, w.wait_replicas(part, 3, 20000) >= 0);
	REQUIRE_LOGGED(rig, wait_links(rig, 20000, healed_ns) >= 0);
	kill(rig.nodes[other].pid, SIGSTOP);
	std::vector<uint64_t> ns;
	int logged = 0; // the nodes' logs go with the first failed read only
	for (unsigned i : { primary, stale })
		for (const auto &key : keys) {
			const uint64_t t0 = now_ns();
			const int64_t v = read_value(w, i, key, &quorum, &rc);
			ns.push_back(now_ns() - t0);
			INFO("n" << i << " " << key << ": " << (rc < 0 ? sc_last_error() : ""));
			if (rc != 1 && !logged++)
				UNSCOPED_INFO(rig.logs());
			CHECK(rc == 1);
			CHECK(v == 2);
		}
	kill(rig.nodes[other].pid, SIGCONT);
	std::sort(ns.begin(), ns.end());
	std::cout << "quorum reads with one replica stopped: median " << ns[ns.size() / 2] / 1000.0
		  << " us, slowest " << ns.back() / 1000.0 << " us" << std::endl;
	CHECK(ns.back() < 1000000000ull);
	rig.check();
}

TEST_CASE("a write forwarded to a primary whose coordinator is stopped fails with -ETIMEDOUT or "
	  "-ECONNRESET within the coordinator's wait, never as a success",
	  "[cluster][forwarding]")
{
	REQUIRE_NETNS();
	Rig rig("fwdstop");
	rig.start_settled();
	REQUIRE_LOGGED(rig, wait_links(rig, 20000) >= 0);
	Writers w(rig);
	const std::string key = "stopped";
	const unsigned primary = w.primary_of_key(key), from = not_primary(w, key, 0);

	kill(rig.nodes[primary].pid, SIGSTOP);
	const uint64_t t0 = clock_ms();
	const int r = w.put_from(from, key, 1);
	const uint64_t took = clock_ms() - t0;
	kill(rig.nodes[primary].pid, SIGCONT);
	INFO(sc_last_error() << " after " << took << " ms");
	CHECK((r == -ETIMEDOUT || r == -ECONNRESET));
	CHECK(std::string(sc_last_error()).find("may or may not have happened") != std::string::npos);
	// The coordinator's wait: the primary's majority_timeout_ms (2 s) and 1 s more.
	CHECK(took < 3000 + 1500);
	REQUIRE_LOGGED(rig, rig.wait_settled(all, all_names, 20000) >= 0);
	// Once the link is back (it redials within 2 s), the write goes through from the same node; until
	// then it is refused as not sent, or with no primary.
	int last = 0;
	const int64_t ms = ms_until(5000, 20, [&] {
		last = sc_put(w.h[from], SC_TUPLE(sc_str(key.c_str()), sc_int(2)));
		INFO(sc_last_error());
		CHECK((last == 0 || last == -EHOSTUNREACH || last == -EAGAIN));
		return last == 0;
	});
	INFO(sc_last_error());
	CHECK(ms >= 0);
	std::cout << "the link back and a forwarded write through " << ms << " ms after the map settled"
		  << std::endl;
	rig.check();
}

TEST_CASE("the forwarding socket closes a connection whose request is not one, answers a call no node knows "
	  "with the primary's -EPROTO, and goes on serving",
	  "[cluster][forwarding]")
{
	REQUIRE_NETNS();
	Rig rig("fwdbad");
	rig.start_settled();
	REQUIRE_LOGGED(rig, wait_links(rig, 20000) >= 0);
	Writers w(rig);

	// A head whose length is below a head's: the connection is closed, nothing answered.
	int fd = dial(w, 0);
	sc_forward_head h{};
	h.len = 5;
	h.version = SC_FORWARD_VERSION;
	REQUIRE(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(h)));
	char byte;
	CHECK(recv(fd, &byte, 1, 0) == 0);
	close(fd);

	// A request for call 99, made on a node that is not partition 0's primary: it sends it on, and the
	// primary's library refuses it.
	const uint32_t p = 0;
	const unsigned from = (w.primary_of(p) + 1) % 3;
	fd = dial(w, from);
	std::vector<uint8_t> req(sizeof(h) + 8, 0);
	h.len = static_cast<uint32_t>(req.size());
	h.op = 99;
	h.partition = p;
	std::memcpy(req.data(), &h, sizeof(h));
	REQUIRE(send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
	sc_forward_head reply{};
	REQUIRE(recv(fd, &reply, sizeof(reply), MSG_WAITALL) == static_cast<ssize_t>(sizeof(reply)));
	CHECK(reply.rc == -EPROTO);
	std::string msg(reply.len - sizeof(reply), '\0');
	REQUIRE(recv(fd, &msg[0], msg.size(), MSG_WAITALL) == static_cast<ssize_t>(msg.size()));
	CHECK(msg.find("call 99") != std::string::npos);
	close(fd);

	// The socket and the links are as they were: writes from both nodes to every partition.
	for (int k = 0; k < 64; k++)
		CHECK(w.put_from(k % 2 ? from : 0, "after" + std::to_string(k), k) == 0);
	rig.check();
}
