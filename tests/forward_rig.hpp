// forward_rig.hpp — two caches as two nodes of a distributed cache, with a thread of the test standing in
// for node a's coordinator: what the forwarding tests (test_forward*.cpp) share.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"
extern "C" {
#include "forward/forward_codec.h"
}

namespace sctest
{

inline const uint32_t parts = 4;

inline sc_options forward_options(uint32_t table_type = SC_SET)
{
	sc_options o = distributed_options(parts, 64 << 20, 2);
	o.majority_timeout_ms = 200;
	o.table_type = table_type;
	return o;
}

inline sc_options sync_forward_options()
{
	sc_options o = forward_options();
	o.replication_mode = SC_REPLICATION_SYNC;
	return o;
}

inline bool start_both(Cache &a, Cache &b);

// Nodes a and b in sync mode, each test with a coordinator of its own making for a.
struct SyncNodes {
	explicit SyncNodes(const std::string &name)
	    : a(unique_name((name + "-a").c_str()), sync_forward_options()),
	      b(unique_name((name + "-b").c_str()), sync_forward_options()), started(start_both(a, b))
	{
	}
	Cache a, b;
	bool started;
};

inline uint64_t hour_from_now_ns()
{
	return (clock_ms() + 3600ull * 1000) * 1000000ull;
}

// Two nodes: partition p's primary is "a" when p is even, "b" when odd, under epoch 100; this cache is
// self. Or, with one_primary 0 or 1, that node is every partition's primary, under epoch (a failover).
inline void write_map(sc_cache *c, uint16_t self, int one_primary = -1, uint64_t epoch = 100)
{
	sc_cluster_map m;
	std::memset(&m, 0, sizeof(m));
	m.node_count = 2;
	m.self = self;
	m.lease_deadline_ns = hour_from_now_ns();
	std::strcpy(m.nodes[0], "a");
	std::strcpy(m.nodes[1], "b");
	std::vector<sc_partition_owners> o(parts);
	for (uint32_t p = 0; p < parts; p++) {
		o[p].epoch = epoch;
		o[p].primary = static_cast<uint16_t>(one_primary < 0 ? p % 2 : one_primary);
		o[p].replica_count = 2;
		o[p].replicas[0] = 0;
		o[p].replicas[1] = 1;
	}
	REQUIRE(sc_cluster_map_write(c, &m, o.data()) == 0);
	REQUIRE(sc_cluster_shipping_write(c, 1) == 0);
}

inline std::vector<uint8_t> request(uint16_t op, uint32_t partition, uint64_t arg,
				    const std::vector<sc_tuple> &t)
{
	void *buf = nullptr;
	size_t len = 0;
	REQUIRE(sc_fwd_request_encode(op, partition, arg, t.data(), t.size(), &buf, &len) == 0);
	std::vector<uint8_t> out(static_cast<uint8_t *>(buf), static_cast<uint8_t *>(buf) + len);
	free(buf);
	return out;
}

// The first n bytes of a message, its head's len set to match (when the head is whole) so that only the body is short.
inline std::vector<uint8_t> cut_to(const std::vector<uint8_t> &msg, size_t n)
{
	std::vector<uint8_t> cut(msg.begin(), msg.begin() + static_cast<long>(n));
	if (n >= sizeof(sc_forward_head)) {
		uint32_t len = static_cast<uint32_t>(n);
		std::memcpy(cut.data(), &len, sizeof(len));
	}
	return cut;
}

// A reply of rc, msg and (unless t is NULL) the values t[0, n), as bytes.
inline std::vector<uint8_t> reply_bytes(int rc, const char *msg, const sc_tuple *t, size_t n)
{
	void *buf = nullptr;
	size_t len = 0;
	REQUIRE(sc_fwd_reply_encode(rc, msg, t, n, &buf, &len) == 0);
	std::vector<uint8_t> r(static_cast<uint8_t *>(buf), static_cast<uint8_t *>(buf) + len);
	free(buf);
	return r;
}

// The result and message of running req on c.
inline int serve(sc_cache *c, const std::vector<uint8_t> &req, std::string *msg = nullptr)
{
	void *reply = nullptr;
	size_t len = 0;
	REQUIRE(sc_forward_serve(c, req.data(), req.size(), &reply, &len) == 0);
	sc_fwd_reply r;
	REQUIRE(sc_fwd_reply_decode(reply, len, &r) == 0);
	CHECK(!r.has_values);
	if (msg)
		*msg = std::string(r.msg, r.msg_len);
	free(reply);
	return r.rc;
}

// Stands in for node a's coordinator: listens on the socket next to a's segment, and answers each
// request with answer(request bytes) until stopped; an empty answer closes the connection instead.
struct FakeCoordinator {
	FakeCoordinator(sc_cache *a, std::function<std::vector<uint8_t>(const std::vector<uint8_t> &)> answer)
	    : answer(std::move(answer))
	{
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		REQUIRE(sc_forward_socket_path(a, sa.sun_path, sizeof(sa.sun_path)) == 0);
		path = sa.sun_path;
		unlink(sa.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
		REQUIRE(listen(fd, 8) == 0);
		thread = std::thread([this] { run(); });
	}
	~FakeCoordinator()
	{
		{
			// Wakes accept(), and a recv() on a connection the library keeps for its next request.
			std::lock_guard<std::mutex> g(lock);
			shutdown(fd, SHUT_RDWR);
			for (int c : conns)
				shutdown(c, SHUT_RDWR);
		}
		thread.join();
		for (auto &t : servers)
			t.join();
		for (int c : conns)
			close(c);
		close(fd);
		unlink(path.c_str());
	}

	// Each connection served by a thread of its own, as the coordinator serves them all at once: a
	// handle keeps its connection between calls, and a second handle dials its own.
	void run()
	{
		for (;;) {
			int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0)
				return;
			std::lock_guard<std::mutex> g(lock);
			conns.push_back(c);
			servers.emplace_back([this, c] { serve(c); });
		}
	}

	void serve(int c)
	{
		for (;;) {
			sc_forward_head h;
			if (recv(c, &h, sizeof(h), MSG_WAITALL) != static_cast<ssize_t>(sizeof(h)))
				break;
			std::vector<uint8_t> req(h.len);
			std::memcpy(req.data(), &h, sizeof(h));
			if (recv(c, req.data() + sizeof(h), h.len - sizeof(h), MSG_WAITALL) !=
			    static_cast<ssize_t>(h.len - sizeof(h)))
				break;
			requests++;
			std::vector<uint8_t> reply = answer(req);
			if (reply.empty() || send(c, reply.data(), reply.size(), MSG_NOSIGNAL) < 0)
				break;
		}
		shutdown(c, SHUT_RDWR);
	}

	std::function<std::vector<uint8_t>(const std::vector<uint8_t> &)> answer;
	std::string path;
	int fd = -1;
	std::atomic<int> requests{ 0 };
	std::mutex lock;
	std::vector<int> conns; // closed once every server is joined
	std::vector<std::thread> servers;
	std::thread thread;
};

inline std::vector<uint8_t> run_on(sc_cache *b, const std::vector<uint8_t> &req)
{
	void *reply = nullptr;
	size_t len = 0;
	REQUIRE(sc_forward_serve(b, req.data(), req.size(), &reply, &len) == 0);
	std::vector<uint8_t> out(static_cast<uint8_t *>(reply), static_cast<uint8_t *>(reply) + len);
	free(reply);
	return out;
}

inline uint32_t partition_of(sc_cache *c, const std::string &key)
{
	return sctest_partition_of(c, SC_TUPLE(sc_str(key.c_str())));
}

// Both caches started, a's map naming it node a (primary of the even partitions), b's naming it b (of the odd).
inline bool start_both(Cache &a, Cache &b)
{
	REQUIRE(a.start_error() == 0);
	REQUIRE(b.start_error() == 0);
	write_map(a, 0);
	write_map(b, 1);
	return true;
}

// Another handle on a cache: it wrote nothing, so it reads the copy as it is (the writer's own handle
// reads back what it wrote: read-your-writes).
struct Copy {
	explicit Copy(const Cache &c)
	{
		sc_options o = c.opts();
		REQUIRE(sc_attach(c.name().c_str(), &o, &h) == 0);
	}
	~Copy()
	{
		sc_stop(h);
	}
	operator sc_cache *() const
	{
		return h;
	}
	sc_cache *h = nullptr;
};

// Nodes a and b; a's coordinator runs on b what a forwards.
struct TwoNodes {
	explicit TwoNodes(const std::string &name, uint32_t table_type = SC_SET)
	    : a(unique_name((name + "-a").c_str()), forward_options(table_type)),
	      b(unique_name((name + "-b").c_str()), forward_options(table_type)), started(start_both(a, b)),
	      a_copy(a), coordinator(a, [this](const std::vector<uint8_t> &req) { return run_on(b, req); })
	{
	}
	Cache a, b;
	bool started;
	Copy a_copy; // a's copy, read by a handle that wrote nothing
	FakeCoordinator coordinator;
};

// A key whose partition's primary is node b (odd partitions).
inline std::string key_on_b(sc_cache *c, int i)
{
	for (int k = i;; k++) {
		std::string key = "k" + std::to_string(k);
		if (partition_of(c, key) % 2 == 1)
			return key;
	}
}

// A queue or stack name whose home partition's primary is node b.
inline std::string name_on_b(Cache &a, Cache &b, const char *stem, bool queue)
{
	for (int i = 0;; i++) {
		std::string name = stem + std::to_string(i);
		const int added = queue ? sc_queue_add(a, name.c_str(), sc_int(0))
					: sc_stack_push(a, name.c_str(), sc_int(0));
		REQUIRE(added == 0);
		const bool on_b =
			(queue ? sc_queue_count(b, name.c_str()) : sc_stack_count(b, name.c_str())) == 1;
		sc_tuples *out = nullptr;
		const int taken = queue ? sc_queue_out(a, name.c_str(), nullptr, &out)
					: sc_stack_pop(a, name.c_str(), nullptr, &out);
		REQUIRE(taken == 1);
		sc_tuples_free(out);
		if (on_b)
			return name;
	}
}

// A visitor that counts the tuples it is shown into *acc (an int).
inline int count_tuple(const sc_tuple *, void *acc)
{
	++*static_cast<int *>(acc);
	return 0;
}

} // namespace sctest
