// test_seccomp.cpp — reads make no system call: a child reads 100k times under strict seccomp.
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
