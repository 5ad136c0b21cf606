// test_seccomp.cpp — reads make no system call: children read under strict seccomp, on every table type (the
// copying gets, views, gets into the caller's buffer, KeyValue reads, matches, scans).
#include <catch2/catch.hpp>

#include <csignal>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checked_value.hpp"
#include "helpers.hpp"

using namespace sctest;

TEST_CASE("reads make no system call: 100k gets under strict seccomp", "[multiprocess][seccomp]")
{
	sc_options o = options(2, 64 << 20);
	Cache c(unique_name("seccomp"), o);
	REQUIRE(c.start_error() == 0);
	const int keys = 1000;
	for (int k = 0; k < keys; k++) {
		Value v = make_value(k, 1, 0);
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(v.bytes, kValueSize))) == 0);
	}
	std::string name = c.name();
	Pipe result;

	pid_t child = spawn([&]() -> int {
		sc_cache *h = nullptr;
		sc_tuples *t = nullptr;
		ViewCheck vc{ 0, 0, 0 };
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		// First use registers this thread's reader slot; that part may make system calls.
		if (sc_get(h, SC_TUPLE(sc_int(0)), &t) != 1 ||
		    sc_get_view(h, SC_TUPLE(sc_int(0)), view_check, &vc) != 1)
			return 2;
		sc_tuples_free(t);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			return 3;
		// From here any system call but read, write, exit and sigreturn kills the process.
		uint32_t found = 0, bad = 0;
		for (int i = 0; i < 100000; i++) {
			int64_t key = i % keys;
			uint64_t seq;
			if (i % 2 == 0) {
				if (sc_get(h, SC_TUPLE(sc_int(key)), &t) == 1) {
					found++;
					bad += check_value(t->tuples[0].fields[1], key, &seq) != 0;
				}
				sc_tuples_free(t);
			} else {
				vc = ViewCheck{ key, 0, 0 };
				if (sc_get_view(h, SC_TUPLE(sc_int(key)), view_check, &vc) == 1) {
					found++;
					bad += vc.bad != 0;
				}
			}
		}
		uint32_t msg[2] = { found, bad };
		if (write(result.wr, msg, sizeof(msg)) != sizeof(msg))
			syscall(SYS_exit, 4);
		syscall(SYS_exit, 0); // exit_group is not allowed in strict mode
		return 0;
	});
	int status = wait_child(child);
	INFO("a status of " << 128 + SIGKILL << " means the child made a forbidden system call");
	REQUIRE(status == 0);
	uint32_t msg[2] = { 0, 0 };
	REQUIRE(read(result.rd, msg, sizeof(msg)) == sizeof(msg));
	CHECK(msg[0] == 100000);
	CHECK(msg[1] == 0);
}

namespace
{

struct ScanCount {
	uint64_t tuples;
};

int count_tuple(const sc_tuple *t, void *acc)
{
	(void)t;
	static_cast<ScanCount *>(acc)->tuples++;
	return 0;
}

int count_view(const sc_tuple *t, void *arg)
{
	(void)t;
	++*static_cast<int *>(arg);
	return 0;
}

// One round of every kind of read on key k; how many of them gave an unexpected answer.
uint32_t read_everything(sc_cache *h, int64_t k, int per_key, bool scan, uint64_t all)
{
	sc_tuples *t = nullptr;
	uint32_t wrong = 0;
	int seen = 0;
	sc_field pdata = sc_int(k);

	wrong += sc_get(h, SC_TUPLE(sc_int(k)), &t) != per_key;
	sc_tuples_free(t);
	wrong += sc_get_view(h, SC_TUPLE(sc_int(k)), count_view, &seen) != per_key || seen != per_key;
	uint64_t room[64];
	const sc_tuples *into = nullptr;
	wrong += sc_get_into(h, SC_TUPLE(sc_int(k)), room, sizeof(room), &into, nullptr) != per_key;
	sc_field newest = sc_int(-1);
	wrong += sc_kv_get_into(h, "kv", sc_int(k), nullptr, 0, &newest, nullptr) != 1 ||
		 newest.v.i != per_key - 1;
	wrong += sc_kv_get_all(h, "kv", sc_int(k), &t) != per_key;
	sc_tuples_free(t);
	wrong += sc_get_by_match(h, &pdata, SC_TUPLE(sc_int(k), sc_capture(1)), &t) != per_key;
	sc_tuples_free(t);
	wrong += sc_get_by_match_object(h, &pdata, SC_TUPLE(sc_int(k), sc_any()), &t) != per_key;
	sc_tuples_free(t);
	if (scan) {
		ScanCount acc{ 0 };
		wrong += sc_scan(h, nullptr, count_tuple, &acc) != static_cast<int64_t>(all) ||
			 acc.tuples != all;
	}
	return wrong;
}

} // namespace

// With eviction on (lookups mark what they find) and every other key put with a time to live
// (reads look at the clock through the vDSO).
TEST_CASE("reads and queries of every table type make no system call", "[multiprocess][seccomp]")
{
	const uint32_t type = GENERATE(SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG);
	const bool bag = type == SC_BAG || type == SC_DUPLICATE_BAG;
	const int per_key = bag ? 2 : 1, keys = 1000;
	sc_options o = options(4, 64 << 20);
	o.table_type = type;
	o.eviction = SC_EVICTION_CLOCK;
	Cache c(unique_name("seccomp-types"), o);
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < keys; k++)
		for (int i = 0; i < per_key; i++) {
			REQUIRE(sc_put_ttl(c, SC_TUPLE(sc_int(k), sc_int(i)),
					   k % 2 ? 3600000 : SC_TTL_FOREVER) == 0);
			REQUIRE(sc_kv_add(c, "kv", sc_int(k), sc_int(i)) == 0);
		}
	std::string name = c.name();
	Pipe result;

	INFO("table type " << type);
	pid_t child = spawn([&]() -> int {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		// Registering the reader slot, and the allocator's first arena, may make system calls.
		if (read_everything(h, 0, per_key, true, keys * per_key) != 0)
			return 2;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
			return 3;
		uint32_t wrong = 0;
		for (int i = 0; i < 20000; i++)
			wrong += read_everything(h, i % keys, per_key, i % 1000 == 0, keys * per_key);
		if (write(result.wr, &wrong, sizeof(wrong)) != sizeof(wrong))
			syscall(SYS_exit, 4);
		syscall(SYS_exit, 0);
		return 0;
	});
	int status = wait_child(child);
	INFO("a status of " << 128 + SIGKILL << " means the child made a forbidden system call");
	REQUIRE(status == 0);
	uint32_t wrong = 1;
	REQUIRE(read(result.rd, &wrong, sizeof(wrong)) == sizeof(wrong));
	CHECK(wrong == 0);
}
