// etcd_calls.hpp — a test's own sd-event loop and etcd client, and calls to etcd's JSON gateway that wait for
// their answer: what tests driving coordinator/cluster/ code against real etcd members share.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <time.h>
#include <vector>

extern "C" {
#include "cluster/etcd.h"
}

namespace sctest
{
inline uint64_t now_ms()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

// The test's own sd-event loop, run until a condition holds or a deadline passes.
struct Loop {
	sd_event *e = nullptr;
	Loop()
	{
		REQUIRE(sd_event_new(&e) >= 0);
	}
	~Loop()
	{
		sd_event_unref(e);
	}
	bool run_until(const std::function<bool()> &done, int timeout_ms)
	{
		uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
		while (!done()) {
			uint64_t now = now_ms();
			if (now >= deadline)
				return false;
			if (sd_event_run(e, std::min<uint64_t>(deadline - now, 100) * 1000u) < 0)
				return false;
		}
		return true;
	}
	// Run the loop for a while, to see that something does not happen.
	void run_for(int ms)
	{
		run_until([] { return false; }, ms);
	}
};

struct Client {
	scd_etcd *etcd = nullptr;
	Client(sd_event *e, const std::string &endpoints, uint64_t timeout_usec = 2000000)
	{
		char err[256] = "";
		int r = scd_etcd_new(e, endpoints.c_str(), timeout_usec, &etcd, err, sizeof(err));
		INFO(err);
		REQUIRE(r == 0);
	}
	~Client()
	{
		scd_etcd_free(etcd);
	}
	operator scd_etcd *() const
	{
		return etcd;
	}
};

struct Reply {
	bool done = false;
	int calls = 0;
	int err = 1;
	json_object *reply = nullptr;
	std::string why;
	Reply() = default;
	Reply(const Reply &) = delete;
	Reply &operator=(const Reply &) = delete;
	~Reply()
	{
		json_object_put(reply);
	}
	void reset()
	{
		json_object_put(reply);
		reply = nullptr;
		done = false;
		calls = 0;
		err = 1;
		why.clear();
	}
};

inline void on_reply(int err, json_object *reply, const char *why, void *userdata)
{
	Reply *r = static_cast<Reply *>(userdata);
	r->calls++;
	r->done = true;
	r->err = err;
	json_object_put(r->reply);
	r->reply = reply ? json_object_get(reply) : nullptr;
	r->why = why ? why : "(null)";
}

// (CHECK, not REQUIRE, in what callbacks use: an exception must not cross the C library's frames.)
inline json_object *json(const std::string &text)
{
	json_object *o = json_tokener_parse(text.c_str());
	CHECK(o != nullptr);
	return o;
}

inline std::string b64(const std::string &s)
{
	json_object *o = scd_etcd_b64(s.data(), s.size());
	CHECK(o != nullptr);
	if (!o)
		return "";
	std::string out = json_object_get_string(o);
	json_object_put(o);
	return out;
}

// POST body to path and wait for its callback (which must not run from inside the call).
inline std::unique_ptr<Reply> call(Loop &loop, scd_etcd *etcd, const char *path, const std::string &body,
				   int timeout_ms = 15000)
{
	auto r = std::make_unique<Reply>();
	REQUIRE(scd_etcd_post(etcd, path, json(body), on_reply, r.get(), nullptr) == 0);
	CHECK_FALSE(r->done);
	REQUIRE(loop.run_until([&] { return r->done; }, timeout_ms));
	CHECK(r->calls == 1);
	return r;
}

inline std::string put_body(const std::string &key, const std::string &value, const std::string &lease = "")
{
	return R"({"key":")" + b64(key) + R"(","value":")" + b64(value) + "\"" +
	       (lease.empty() ? "" : R"(,"lease":")" + lease + "\"") + "}";
}

inline int64_t revision(json_object *reply)
{
	int64_t rev = -1;
	REQUIRE(scd_etcd_revision(reply, &rev) == 0);
	return rev;
}

inline int64_t put(Loop &loop, scd_etcd *etcd, const std::string &key, const std::string &value,
		   const std::string &lease = "")
{
	auto r = call(loop, etcd, "/v3/kv/put", put_body(key, value, lease));
	INFO(r->why);
	REQUIRE(r->err == 0);
	return revision(r->reply);
}

inline std::vector<scd_etcd_kv> kvs(json_object *reply)
{
	std::vector<scd_etcd_kv> out;
	json_object *arr;
	if (!json_object_object_get_ex(reply, "kvs", &arr))
		return out;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		auto kv = std::make_unique<scd_etcd_kv>();
		char why[128] = "";
		int r = scd_etcd_kv_parse(json_object_array_get_idx(arr, i), kv.get(), why, sizeof(why));
		INFO(why);
		REQUIRE(r == 0);
		out.push_back(*kv);
	}
	return out;
}
} // namespace sctest
