// test_etcd.cpp — the etcd client against real etcd members: requests, leases, watches across a
// member's death, timeouts, etcd's errors, compaction, and freeing with work in flight.
#include <catch2/catch.hpp>

#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

extern "C" {
#include "cluster/etcd.h"
}

using namespace sctest;

namespace
{
std::string create_txn(const std::string &key, const std::string &value)
{
	return R"({"compare":[{"key":")" + b64(key) +
	       R"(","target":"CREATE","result":"EQUAL","create_revision":"0"}],"success":[{"request_put":{"key":")" +
	       b64(key) + R"(","value":")" + b64(value) + R"("}}]})";
}

bool boolean(json_object *o, const char *field)
{
	json_object *v;
	return json_object_object_get_ex(o, field, &v) && json_object_get_boolean(v);
}

// A watch's deliveries: "PUT key=value" or "DELETE key" with each event's revision.
struct Recorder {
	struct Event {
		int64_t rev;
		std::string what;
	};
	std::vector<Event> events;
	std::vector<int> errors;
	int messages = 0;
	struct scd_etcd_watch *w = nullptr;
	std::function<void()> after; // runs at the end of each callback
	~Recorder()
	{
		scd_etcd_watch_free(w);
	}
};

void on_watch(int err, json_object *result, void *userdata)
{
	Recorder *rec = static_cast<Recorder *>(userdata);
	rec->messages++;
	if (err) {
		CHECK(result == nullptr);
		rec->errors.push_back(err);
	} else {
		json_object *events = nullptr, *kv = nullptr, *type;
		CHECK(json_object_object_get_ex(result, "events", &events));
		CHECK(json_object_array_length(events) > 0);
		for (size_t i = 0; i < json_object_array_length(events); i++) {
			json_object *ev = json_object_array_get_idx(events, i);
			auto parsed = std::make_unique<scd_etcd_kv>();
			char why[128] = "";
			CHECK(json_object_object_get_ex(ev, "kv", &kv));
			int r = scd_etcd_kv_parse(kv, parsed.get(), why, sizeof(why));
			INFO(why);
			CHECK(r == 0);
			bool del = json_object_object_get_ex(ev, "type", &type) &&
				   std::string(json_object_get_string(type)) == "DELETE";
			rec->events.push_back(
				{ parsed->mod_revision,
				  del ? "DELETE " + std::string(parsed->key)
				      : "PUT " + std::string(parsed->key) + "=" +
						  std::string(reinterpret_cast<char *>(parsed->value),
							      parsed->value_len) });
		}
	}
	if (rec->after)
		rec->after();
}

// A TCP port on 127.0.0.1 bound but not listening: connecting to it is refused. Held while it lives.
struct RefusedPort {
	int fd = -1;
	unsigned port = 0;
	RefusedPort()
	{
		struct sockaddr_in a = {};
		socklen_t len = sizeof(a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0);
		REQUIRE(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
		port = ntohs(a.sin_port);
	}
	~RefusedPort()
	{
		close(fd);
	}
	std::string url() const
	{
		return "http://127.0.0.1:" + std::to_string(port);
	}
};

// A process answering every connection on a port of 127.0.0.1 with one canned HTTP response
// (written whole, with blocking writes, then the connection closed): what etcd never sends.
struct FakeServer {
	pid_t pid = -1;
	unsigned port = 0;
	explicit FakeServer(const std::string &response)
	{
		struct sockaddr_in a = {};
		socklen_t len = sizeof(a);
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0);
		REQUIRE(listen(fd, 16) == 0);
		REQUIRE(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
		port = ntohs(a.sin_port);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			signal(SIGPIPE, SIG_IGN);
			for (;;) {
				int c = accept(fd, nullptr, nullptr);
				if (c < 0)
					continue;
				// The request: its headers, then as many bytes as Content-Length says.
				std::string req;
				char buf[4096];
				size_t body_at = std::string::npos, want = 0;
				while (body_at == std::string::npos || req.size() < body_at + want) {
					ssize_t n = read(c, buf, sizeof(buf));
					if (n <= 0)
						break;
					req.append(buf, static_cast<size_t>(n));
					if (body_at == std::string::npos &&
					    (body_at = req.find("\r\n\r\n")) != std::string::npos) {
						body_at += 4;
						size_t cl = req.find("Content-Length: ");
						want = cl < body_at
							       ? strtoul(req.c_str() + cl + 16, nullptr, 10)
							       : 0;
					}
				}
				for (size_t off = 0; off < response.size();) {
					ssize_t n = write(c, response.data() + off, response.size() - off);
					if (n <= 0)
						break;
					off += static_cast<size_t>(n);
				}
				close(c);
			}
		}
		close(fd);
	}
	~FakeServer()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
		}
	}
	std::string url() const
	{
		return "http://127.0.0.1:" + std::to_string(port);
	}
};

std::string http_200(const std::string &body)
{
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
	       std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace

TEST_CASE("put, range, and a txn that creates a key only once", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints());

	int64_t rev_a = put(loop, etcd, "/t/a", "one");
	int64_t rev_b = put(loop, etcd, "/t/b", std::string("tw\0o", 4));
	CHECK(rev_b == rev_a + 1);

	auto r = call(loop, etcd, "/v3/kv/range", R"({"key":")" + b64("/t/a") + "\"}");
	REQUIRE(r->err == 0);
	CHECK(r->why.empty());
	CHECK(revision(r->reply) == rev_b);
	auto got = kvs(r->reply);
	REQUIRE(got.size() == 1);
	CHECK(std::string(got[0].key) == "/t/a");
	CHECK(got[0].value_len == 3);
	CHECK(std::string(reinterpret_cast<char *>(got[0].value)) == "one");
	CHECK(got[0].create_revision == rev_a);
	CHECK(got[0].mod_revision == rev_a);
	CHECK(got[0].version == 1);
	CHECK(got[0].lease == 0);

	char end[SCD_ETCD_KEY_MAX + 1];
	scd_etcd_prefix_end("/t/", end, sizeof(end));
	CHECK(std::string(end) == "/t0");
	r = call(loop, etcd, "/v3/kv/range",
		 R"({"key":")" + b64("/t/") + R"(","range_end":")" + b64(end) + "\"}");
	REQUIRE(r->err == 0);
	int64_t count;
	REQUIRE(scd_etcd_int(r->reply, "count", &count) == 0);
	CHECK(count == 2);
	got = kvs(r->reply);
	REQUIRE(got.size() == 2);
	CHECK(std::string(got[1].key) == "/t/b");
	CHECK(std::string(reinterpret_cast<char *>(got[1].value), got[1].value_len) ==
	      std::string("tw\0o", 4));

	r = call(loop, etcd, "/v3/kv/txn", create_txn("/t/c", "first"));
	INFO(r->why);
	REQUIRE(r->err == 0);
	CHECK(boolean(r->reply, "succeeded"));
	int64_t created = revision(r->reply);
	r = call(loop, etcd, "/v3/kv/txn", create_txn("/t/c", "second"));
	REQUIRE(r->err == 0);
	CHECK_FALSE(boolean(r->reply, "succeeded"));
	CHECK(revision(r->reply) == created);
	r = call(loop, etcd, "/v3/kv/range", R"({"key":")" + b64("/t/c") + "\"}");
	got = kvs(r->reply);
	REQUIRE(got.size() == 1);
	CHECK(std::string(reinterpret_cast<char *>(got[0].value)) == "first");
	CHECK(got[0].create_revision == created);
}

TEST_CASE("a lease is granted and kept alive, and its key goes when it expires", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints());

	auto r = call(loop, etcd, "/v3/lease/grant", R"({"TTL":"2"})");
	INFO(r->why);
	REQUIRE(r->err == 0);
	int64_t id, ttl;
	REQUIRE(scd_etcd_int(r->reply, "ID", &id) == 0);
	REQUIRE(scd_etcd_int(r->reply, "TTL", &ttl) == 0);
	CHECK(id != 0);
	CHECK(ttl == 2);

	// The keepalive endpoint streams: its one message is wrapped in "result".
	r = call(loop, etcd, "/v3/lease/keepalive", R"({"ID":")" + std::to_string(id) + "\"}");
	REQUIRE(r->err == 0);
	json_object *result;
	REQUIRE(json_object_object_get_ex(r->reply, "result", &result));
	REQUIRE(scd_etcd_int(result, "TTL", &ttl) == 0);
	CHECK(ttl == 2);
	CHECK(revision(r->reply) > 0);

	int64_t rev = put(loop, etcd, "/lease/k", "v", std::to_string(id));
	r = call(loop, etcd, "/v3/kv/range", R"({"key":")" + b64("/lease/k") + "\"}");
	auto got = kvs(r->reply);
	REQUIRE(got.size() == 1);
	CHECK(got[0].lease == id);

	// No more keepalives: the lease expires and etcd deletes the key, which the watch sees.
	Recorder rec;
	REQUIRE(scd_etcd_watch(etcd, "/lease/k", nullptr, rev + 1, on_watch, &rec, &rec.w) == 0);
	uint64_t t0 = now_ms();
	REQUIRE(loop.run_until([&] { return !rec.events.empty(); }, 20000));
	CHECK(now_ms() - t0 >= 500);
	REQUIRE(rec.events.size() == 1);
	CHECK(rec.events[0].what == "DELETE /lease/k");
	CHECK(rec.events[0].rev > rev);

	r = call(loop, etcd, "/v3/kv/range", R"({"key":")" + b64("/lease/k") + "\"}");
	REQUIRE(r->err == 0);
	CHECK(kvs(r->reply).empty());
	r = call(loop, etcd, "/v3/lease/keepalive", R"({"ID":")" + std::to_string(id) + "\"}");
	REQUIRE(r->err == 0);
	REQUIRE(json_object_object_get_ex(r->reply, "result", &result));
	REQUIRE(scd_etcd_int(result, "TTL", &ttl) == 0);
	CHECK(ttl == 0);
}

TEST_CASE("a watch delivers every put once and in order, across the SIGKILL of its member", "[etcd]")
{
	sctest::EtcdCluster cluster(3);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	INFO(cluster.logs());
	Loop loop;
	// The watch starts on member 0, the one killed; the writer never speaks to it.
	Client watcher(loop.e, cluster.endpoints({ 0, 1, 2 }), 1000000);
	Client writer(loop.e, cluster.endpoints({ 1, 2 }), 3000000);
	const int n = 60;

	int64_t start = put(loop, writer, "/w/start", "x");
	Recorder rec;
	REQUIRE(scd_etcd_watch(watcher, "/w/k/", "/w/k0", start + 1, on_watch, &rec, &rec.w) == 0);

	// Writes one after the other; each creates its own key, so that one retried after an
	// uncertain failure (a leader change) applies once whatever happened to the first try.
	int next = 0, failures = 0;
	Reply reply;
	sd_event_source *retry = nullptr;
	std::function<void()> send = [&] {
		char key[32];
		snprintf(key, sizeof(key), "/w/k/%03d", next);
		reply.reset();
		CHECK(scd_etcd_post(writer, "/v3/kv/txn", json(create_txn(key, "v" + std::to_string(next))),
				    on_reply, &reply, nullptr) == 0);
	};
	auto step = [&] {
		if (!reply.done || next >= n)
			return;
		if (reply.err == 0) {
			next++;
			if (next < n)
				send();
			return;
		}
		failures++;
		reply.done = false;
		REQUIRE(sd_event_add_time_relative(
				loop.e, &retry, CLOCK_MONOTONIC, 100000, 1000,
				[](sd_event_source *, uint64_t, void *ud) {
					(*static_cast<std::function<void()> *>(ud))();
					return 0;
				},
				&send) >= 0);
		sd_event_source_set_floating(retry, 1);
		sd_event_source_unref(retry);
	};
	send();
	REQUIRE(loop.run_until(
		[&] {
			step();
			return rec.events.size() >= static_cast<size_t>(n / 3);
		},
		30000));
	const char *why = nullptr;
	CHECK(scd_etcd_watch_reconnects(rec.w, &why) == 0);

	cluster.kill(0, SIGKILL);
	REQUIRE(loop.run_until(
		[&] {
			step();
			return rec.events.size() >= static_cast<size_t>(n) || !rec.errors.empty();
		},
		60000));
	// One more write after the last: whatever came twice would show before it.
	put(loop, writer, "/w/k/zzz", "end");
	REQUIRE(loop.run_until(
		[&] { return !rec.events.empty() && rec.events.back().what == "PUT /w/k/zzz=end"; }, 30000));

	unsigned reconnects = scd_etcd_watch_reconnects(rec.w, &why);
	INFO("reconnects " << reconnects << ", last because: " << (why ? why : "-") << "; failed writes "
			   << failures);
	CHECK(reconnects >= 1);
	CHECK(rec.errors.empty());
	REQUIRE(rec.events.size() == static_cast<size_t>(n + 1));
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "/w/k/%03d", i);
		INFO("event " << i);
		CHECK(rec.events[static_cast<size_t>(i)].what ==
		      std::string("PUT ") + key + "=v" + std::to_string(i));
		if (i > 0)
			CHECK(rec.events[static_cast<size_t>(i)].rev >
			      rec.events[static_cast<size_t>(i) - 1].rev);
	}
	CHECK(rec.events[0].rev > start);
}

TEST_CASE("a request to a stopped member times out, and the next one goes to another member", "[etcd]")
{
	sctest::EtcdCluster cluster(3);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints(), 500000);
	const std::string range = R"({"key":")" + b64("/x") + R"(","serializable":true})";

	auto r = call(loop, etcd, "/v3/kv/range", range);
	REQUIRE(r->err == 0);
	json_object *header, *member;
	REQUIRE(json_object_object_get_ex(r->reply, "header", &header));
	REQUIRE(json_object_object_get_ex(header, "member_id", &member));
	std::string first_member = json_object_get_string(member);

	cluster.kill(0, SIGSTOP);
	uint64_t t0 = now_ms();
	r = call(loop, etcd, "/v3/kv/range", range);
	uint64_t took = now_ms() - t0;
	INFO(r->why << " after " << took << " ms");
	CHECK(r->err == -ETIMEDOUT);
	CHECK(r->reply == nullptr);
	CHECK(r->why.find(cluster.endpoint(0)) != std::string::npos);
	CHECK(took >= 450);
	CHECK(took <= 2500); // the timeout, and a margin for a loaded machine

	r = call(loop, etcd, "/v3/kv/range", range);
	INFO(r->why);
	CHECK(r->err == 0);
	REQUIRE(r->reply != nullptr);
	REQUIRE(json_object_object_get_ex(r->reply, "header", &header));
	REQUIRE(json_object_object_get_ex(header, "member_id", &member));
	CHECK(std::string(json_object_get_string(member)) != first_member);
	cluster.kill(0, SIGCONT);
}

TEST_CASE("endpoints that are not http://host:port are refused with a reason", "[etcd]")
{
	Loop loop;
	const char *bad[] = { "",
			      "127.0.0.1:2379",
			      "http://",
			      "http://host",
			      "http://host:",
			      "http://host:0",
			      "http://host:65536",
			      "http://host:12a",
			      "https://host:2379",
			      "http://host:2379/v3",
			      "http://ho st:2379",
			      "http://[::1:2379",
			      "http://a:1,,http://b:2",
			      "http://a:1," };
	for (const char *e : bad) {
		scd_etcd *etcd = reinterpret_cast<scd_etcd *>(1);
		char err[256] = "";
		INFO("endpoints \"" << e << "\"");
		CHECK(scd_etcd_new(loop.e, e, 1000000, &etcd, err, sizeof(err)) == -EINVAL);
		CHECK(etcd == nullptr);
		CHECK(strlen(err) > 0);
		CHECK((strstr(err, "http://host:port") != nullptr ||
		       strstr(err, "no etcd endpoint") != nullptr));
	}
	std::string many;
	for (int i = 0; i < 17; i++)
		many += (i ? "," : "") + std::string("http://h") + std::to_string(i) + ":2379";
	scd_etcd *etcd = nullptr;
	char err[256] = "";
	CHECK(scd_etcd_new(loop.e, many.c_str(), 1000000, &etcd, err, sizeof(err)) == -EINVAL);
	CHECK(std::string(err) == "more than 16 etcd endpoints");
	CHECK(scd_etcd_new(loop.e, "http://127.0.0.1:2379", 0, &etcd, err, sizeof(err)) == -EINVAL);

	const char *good[] = { "http://127.0.0.1:2379", "http://[::1]:2379",
			       " http://etcd-1.example:2379 , http://b:1" };
	for (const char *e : good) {
		INFO(e);
		CHECK(scd_etcd_new(loop.e, e, 1000000, &etcd, err, sizeof(err)) == 0);
		scd_etcd_free(etcd);
	}
}

TEST_CASE("a refused connection fails at once, and the next request tries the next endpoint", "[etcd]")
{
	Loop loop;
	RefusedPort a, b;
	Client etcd(loop.e, a.url() + "," + b.url(), 1000000);

	auto r = call(loop, etcd, "/v3/kv/range", "{}", 5000);
	INFO(r->why);
	CHECK(r->err == -ECONNREFUSED);
	CHECK(r->why.find(a.url()) != std::string::npos);
	r = call(loop, etcd, "/v3/kv/range", "{}", 5000);
	INFO(r->why);
	CHECK(r->err == -ECONNREFUSED);
	CHECK(r->why.find(b.url()) != std::string::npos);
	r = call(loop, etcd, "/v3/kv/range", "{}", 5000);
	CHECK(r->why.find(a.url()) != std::string::npos);
}

TEST_CASE("etcd's errors come back as -EPROTO with its message", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints());

	// A body the gateway cannot read: HTTP 400 and a JSON error.
	auto r = call(loop, etcd, "/v3/kv/txn", R"({"compare":"not a list"})");
	CHECK(r->err == -EPROTO);
	CHECK(r->reply == nullptr);
	CHECK(r->why.find("cannot unmarshal") != std::string::npos);

	// An error of etcd's own: HTTP 404, "etcdserver: requested lease not found".
	r = call(loop, etcd, "/v3/lease/revoke", R"({"ID":"12345"})");
	CHECK(r->err == -EPROTO);
	CHECK(r->why == "etcdserver: requested lease not found");

	// A keepalive for a lease that does not exist is no error: its TTL is 0 (left out).
	r = call(loop, etcd, "/v3/lease/keepalive", R"({"ID":"12345"})");
	REQUIRE(r->err == 0);
	json_object *result;
	REQUIRE(json_object_object_get_ex(r->reply, "result", &result));
	int64_t ttl = -1;
	REQUIRE(scd_etcd_int(result, "TTL", &ttl) == 0);
	CHECK(ttl == 0);

	// A path the gateway does not serve: a 404 with a body that is not JSON.
	r = call(loop, etcd, "/v3/no/such/thing", "{}");
	CHECK(r->err == -EPROTO);
	CHECK(r->why == "HTTP 404 without an error message");
}

TEST_CASE("a watch from a compacted revision ends with -ESTALE", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints());

	int64_t first = put(loop, etcd, "/c/k", "1");
	put(loop, etcd, "/c/k", "2");
	int64_t last = put(loop, etcd, "/c/k", "3");
	auto r = call(loop, etcd, "/v3/kv/compaction",
		      R"({"revision":")" + std::to_string(last) + R"(","physical":true})");
	INFO(r->why);
	REQUIRE(r->err == 0);

	r = call(loop, etcd, "/v3/kv/range",
		 R"({"key":")" + b64("/c/k") + R"(","revision":")" + std::to_string(first) + "\"}");
	CHECK(r->err == -EPROTO);
	CHECK(r->why.find("compacted") != std::string::npos);

	Recorder rec;
	REQUIRE(scd_etcd_watch(etcd, "/c/k", nullptr, first, on_watch, &rec, &rec.w) == 0);
	REQUIRE(loop.run_until([&] { return !rec.errors.empty(); }, 15000));
	CHECK(rec.errors == std::vector<int>{ -ESTALE });
	CHECK(rec.events.empty());
	CHECK(scd_etcd_watch_reconnects(rec.w, nullptr) == 0);

	// The watch stopped: what comes next is not delivered.
	put(loop, etcd, "/c/k", "4");
	loop.run_for(300);
	CHECK(rec.messages == 1);

	// From the compacted revision on, it works.
	Recorder fresh;
	REQUIRE(scd_etcd_watch(etcd, "/c/k", nullptr, last, on_watch, &fresh, &fresh.w) == 0);
	REQUIRE(loop.run_until([&] { return fresh.events.size() >= 2; }, 15000));
	CHECK(fresh.events[0].what == "PUT /c/k=3");
	CHECK(fresh.events[1].what == "PUT /c/k=4");
}

TEST_CASE("freeing the client with requests and a watch in flight runs no callback", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	int calls = 0;
	auto count = [](int, json_object *, const char *, void *ud) { ++*static_cast<int *>(ud); };
	auto count_watch = [](int, json_object *, void *ud) { ++*static_cast<int *>(ud); };

	SECTION("before the loop ran")
	{
		scd_etcd *etcd;
		char err[128];
		REQUIRE(scd_etcd_new(loop.e, cluster.endpoints().c_str(), 2000000, &etcd, err, sizeof(err)) ==
			0);
		struct scd_etcd_watch *w;
		REQUIRE(scd_etcd_watch(etcd, "/f/", "/f0", 1, count_watch, &calls, &w) == 0);
		for (int i = 0; i < 5; i++)
			REQUIRE(scd_etcd_post(etcd, "/v3/kv/put",
					      json(put_body("/f/" + std::to_string(i), "v")), count, &calls,
					      nullptr) == 0);
		scd_etcd_free(etcd);
	}
	SECTION("with transfers under way")
	{
		scd_etcd *etcd;
		char err[128];
		REQUIRE(scd_etcd_new(loop.e, cluster.endpoints().c_str(), 2000000, &etcd, err, sizeof(err)) ==
			0);
		Client writer(loop.e, cluster.endpoints());
		put(loop, writer, "/f/0", "before");
		struct scd_etcd_watch *w;
		REQUIRE(scd_etcd_watch(etcd, "/f/", "/f0", 1, count_watch, &calls, &w) == 0);
		for (int i = 0; i < 5; i++)
			REQUIRE(scd_etcd_post(etcd, "/v3/kv/range", json("{\"key\":\"" + b64("/f/0") + "\"}"),
					      count, &calls, nullptr) == 0);
		// A few turns of the loop: connections open, requests go out, no answer read yet.
		for (int i = 0; i < 3; i++)
			sd_event_run(loop.e, 0);
		scd_etcd_free(etcd);
	}
	SECTION("from a callback")
	{
		scd_etcd *etcd;
		char err[128];
		REQUIRE(scd_etcd_new(loop.e, cluster.endpoints().c_str(), 2000000, &etcd, err, sizeof(err)) ==
			0);
		struct Ctx {
			scd_etcd *etcd;
			int calls;
		} ctx = { etcd, 0 };
		auto free_it = [](int, json_object *, const char *, void *ud) {
			Ctx *c = static_cast<Ctx *>(ud);
			c->calls++;
			scd_etcd_free(c->etcd);
		};
		struct scd_etcd_watch *w;
		REQUIRE(scd_etcd_watch(etcd, "/f/", "/f0", 1, count_watch, &calls, &w) == 0);
		for (int i = 0; i < 5; i++)
			REQUIRE(scd_etcd_post(etcd, "/v3/kv/range", json("{}"), free_it, &ctx, nullptr) == 0);
		REQUIRE(loop.run_until([&] { return ctx.calls > 0; }, 10000));
		loop.run_for(500);
		CHECK(ctx.calls == 1);
	}
	loop.run_for(500);
	CHECK(calls == 0);
}

TEST_CASE("callbacks may post, cancel, and free watches, their own included", "[etcd]")
{
	sctest::EtcdCluster cluster(1);
	INFO(cluster.error());
	REQUIRE(cluster.ok());
	Loop loop;
	Client etcd(loop.e, cluster.endpoints());

	// Two watches on one key; whichever is called first frees both.
	Recorder a, b;
	int64_t rev = put(loop, etcd, "/cb/k", "0");
	REQUIRE(scd_etcd_watch(etcd, "/cb/k", nullptr, rev + 1, on_watch, &a, &a.w) == 0);
	REQUIRE(scd_etcd_watch(etcd, "/cb/k", nullptr, rev + 1, on_watch, &b, &b.w) == 0);
	auto free_both = [&] {
		scd_etcd_watch_free(a.w);
		scd_etcd_watch_free(b.w);
		a.w = b.w = nullptr;
	};
	a.after = free_both;
	b.after = free_both;
	put(loop, etcd, "/cb/k", "1");
	REQUIRE(loop.run_until([&] { return a.messages + b.messages > 0; }, 10000));
	put(loop, etcd, "/cb/k", "2");
	loop.run_for(300);
	CHECK(a.messages + b.messages == 1);

	// A reply's callback posts another request and posts and cancels a third.
	struct Ctx {
		scd_etcd *etcd;
		Reply second, third;
	} ctx{ etcd, {}, {} };
	auto chain = [](int err, json_object *, const char *, void *ud) {
		Ctx *c = static_cast<Ctx *>(ud);
		struct scd_etcd_call *third;
		CHECK(err == 0);
		CHECK(scd_etcd_post(c->etcd, "/v3/kv/range", json("{\"key\":\"" + b64("/cb/k") + "\"}"),
				    on_reply, &c->second, nullptr) == 0);
		CHECK(scd_etcd_post(c->etcd, "/v3/kv/put", json(put_body("/cb/never", "x")), on_reply,
				    &c->third, &third) == 0);
		scd_etcd_cancel(third);
	};
	REQUIRE(scd_etcd_post(etcd, "/v3/kv/range", json("{\"key\":\"" + b64("/cb/k") + "\"}"), chain, &ctx,
			      nullptr) == 0);
	REQUIRE(loop.run_until([&] { return ctx.second.done; }, 10000));
	CHECK(ctx.second.err == 0);
	auto got = kvs(ctx.second.reply);
	REQUIRE(got.size() == 1);
	CHECK(std::string(reinterpret_cast<char *>(got[0].value)) == "2");
	loop.run_for(300);
	CHECK_FALSE(ctx.third.done);

	// A watch on its own: freed from its own first callback, called once.
	Recorder self;
	rev = put(loop, etcd, "/cb/self", "0");
	REQUIRE(scd_etcd_watch(etcd, "/cb/self", nullptr, rev, on_watch, &self, &self.w) == 0);
	self.after = [&] {
		scd_etcd_watch_free(self.w);
		self.w = nullptr;
	};
	put(loop, etcd, "/cb/self", "1");
	REQUIRE(loop.run_until([&] { return self.messages > 0; }, 10000));
	loop.run_for(300);
	CHECK(self.messages == 1);
}

TEST_CASE("the gateway's JSON: base64, numbers in strings, kv objects, prefixes", "[etcd]")
{
	char why[128];
	auto kv = std::make_unique<scd_etcd_kv>();

	for (const std::string &s :
	     std::vector<std::string>{ "", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3) }) {
		std::string enc = b64(s);
		CHECK(enc.size() == (s.size() + 2) / 3 * 4);
		json_object *o = json("{\"key\":\"" + b64("k") + "\",\"value\":\"" + enc + "\"}");
		CHECK(scd_etcd_kv_parse(o, kv.get(), why, sizeof(why)) == 0);
		CHECK(std::string(reinterpret_cast<char *>(kv->value), kv->value_len) == s);
		CHECK(kv->value[kv->value_len] == 0);
		json_object_put(o);
	}
	CHECK(b64("abc") == "YWJj");
	CHECK(b64("ab") == "YWI=");

	struct Bad {
		const char *json, *field;
	} bad[] = {
		{ "[]", "not a JSON object" },
		{ "{}", "\"key\"" },
		{ "{\"key\":5}", "\"key\"" },
		{ "{\"key\":\"!!!!\"}", "\"key\"" },
		{ "{\"key\":\"\"}", "\"key\"" },
		{ "{\"key\":\"AA==\"}", "\"key\"" }, // a NUL byte
		{ "{\"key\":\"YQ==\",\"value\":7}", "\"value\"" },
		{ "{\"key\":\"YQ==\",\"value\":\"Y\"}", "\"value\"" },
		{ "{\"key\":\"YQ==\",\"mod_revision\":\"12x\"}", "mod_revision" },
		{ "{\"key\":\"YQ==\",\"mod_revision\":\"-3\"}", "mod_revision" },
		{ "{\"key\":\"YQ==\",\"version\":1.5}", "version" },
		{ "{\"key\":\"YQ==\",\"lease\":\"99999999999999999999\"}", "lease" },
		{ "{\"key\":\"YQ==\",\"create_revision\":{}}", "create_revision" },
	};
	for (const Bad &b : bad) {
		json_object *o = json(b.json);
		INFO(b.json);
		why[0] = '\0';
		CHECK(scd_etcd_kv_parse(o, kv.get(), why, sizeof(why)) == -EPROTO);
		CHECK(strstr(why, b.field) != nullptr);
		json_object_put(o);
	}
	std::string long_key(SCD_ETCD_KEY_MAX + 1, 'k'), long_value(SCD_ETCD_VALUE_MAX + 1, 'v');
	json_object *o = json("{\"key\":\"" + b64(long_key) + "\"}");
	CHECK(scd_etcd_kv_parse(o, kv.get(), why, sizeof(why)) == -EPROTO);
	json_object_put(o);
	o = json("{\"key\":\"" + b64(long_key.substr(1)) + "\",\"value\":\"" + b64(long_value.substr(1)) +
		 "\"}");
	CHECK(scd_etcd_kv_parse(o, kv.get(), why, sizeof(why)) == 0);
	CHECK(kv->value_len == SCD_ETCD_VALUE_MAX);
	json_object_put(o);
	o = json("{\"key\":\"" + b64("k") + "\",\"value\":\"" + b64(long_value) + "\"}");
	CHECK(scd_etcd_kv_parse(o, kv.get(), why, sizeof(why)) == -EPROTO);
	json_object_put(o);

	int64_t v;
	o = json(R"({"s":"12","n":-4,"big":"9223372036854775807","over":"9223372036854775808","x":"1 ","e":"",
		 "f":2.5,"b":true,"u":18446744073709551615})");
	CHECK((scd_etcd_int(o, "s", &v) == 0 && v == 12));
	CHECK((scd_etcd_int(o, "n", &v) == 0 && v == -4));
	CHECK((scd_etcd_int(o, "absent", &v) == 0 && v == 0));
	CHECK((scd_etcd_int(o, "big", &v) == 0 && v == INT64_MAX));
	for (const char *f : { "over", "x", "e", "f", "b", "u" }) {
		INFO(f);
		CHECK(scd_etcd_int(o, f, &v) == -EPROTO);
	}
	json_object_put(o);

	o = json(R"({"header":{"revision":"7"}})");
	CHECK((scd_etcd_revision(o, &v) == 0 && v == 7));
	json_object_put(o);
	o = json(R"({"result":{"header":{"revision":"8"}}})");
	CHECK((scd_etcd_revision(o, &v) == 0 && v == 8));
	json_object_put(o);
	for (const char *text :
	     { "{}", R"({"header":{}})", R"({"header":5})", R"({"header":{"revision":"r"}})" }) {
		o = json(text);
		INFO(text);
		CHECK(scd_etcd_revision(o, &v) == -EPROTO);
		json_object_put(o);
	}

	char end[16];
	scd_etcd_prefix_end("/a/", end, sizeof(end));
	CHECK(std::string(end) == "/a0");
	scd_etcd_prefix_end("a\xff\xff", end, sizeof(end));
	CHECK(std::string(end) == "b");
	scd_etcd_prefix_end("\xff", end, sizeof(end));
	CHECK(std::string(end).empty());
	scd_etcd_prefix_end("0123456789abcdef", end, sizeof(end));
	CHECK(std::string(end).empty());
}

TEST_CASE("what etcd would never answer is -EPROTO with a reason, and breaks a watch's stream", "[etcd]")
{
	Loop loop;
	struct Case {
		std::string response, why;
	} cases[] = {
		{ http_200("hello"), "a reply that is not JSON" },
		{ http_200("[1,2]"), "a reply that is not a JSON object" },
		{ http_200("{\"a\":1} {\"b\":2}"), "a reply with more than one JSON value" },
		{ http_200(""), "a reply that is not JSON" },
		{ http_200("{\"error\":{\"message\":\"it broke\"}}"), "it broke" },
		{ "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
		  "HTTP 503 without an error message" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":", "" }, // cut short: a reset
	};
	for (const Case &c : cases) {
		FakeServer server(c.response);
		Client etcd(loop.e, server.url(), 2000000);
		auto r = call(loop, etcd, "/v3/kv/range", "{}", 5000);
		INFO(c.response.substr(0, 80) << " -> " << r->why);
		CHECK(r->reply == nullptr);
		if (c.why.empty()) {
			CHECK(r->err == -ECONNRESET);
		} else {
			CHECK(r->err == -EPROTO);
			CHECK(r->why == c.why);
		}
	}

	const std::string stream = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
	struct WatchCase {
		std::string response, why;
	} watch_cases[] = {
		{ stream + "not json\n", "a message that is not a JSON object" },
		{ stream + "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ==\"}}]}}\n", "mod_revision" },
		{ stream + "{\"result\":{\"events\":{}}}\n", "not an array" },
		{ stream + "{\"error\":{\"grpc_code\":14,\"message\":\"unavailable\"}}\n",
		  "etcd: unavailable" },
		{ stream + "{\"result\":{\"canceled\":true,\"cancel_reason\":\"because\"}}\n", "because" },
		{ stream + std::string(5u << 20, 'x'), "a message over" },
		{ stream + "{\"result\":{\"created\":true,\"header\":{\"revision\":\"3\"}}}\n",
		  "the stream ended" },
	};
	for (const WatchCase &c : watch_cases) {
		FakeServer server(c.response);
		Client etcd(loop.e, server.url(), 2000000);
		Recorder rec;
		const char *why = nullptr;
		REQUIRE(scd_etcd_watch(etcd, "a", nullptr, 1, on_watch, &rec, &rec.w) == 0);
		REQUIRE(loop.run_until([&] { return scd_etcd_watch_reconnects(rec.w, &why) >= 2; }, 10000));
		INFO(c.response.substr(0, 80) << " -> " << why);
		CHECK(std::string(why).find(c.why) != std::string::npos);
		CHECK(rec.messages == 0);
	}
}
