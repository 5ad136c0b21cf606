// test_sync_acks.cpp — a sync write, and a primary read, wait for the in-sync replicas' acknowledgement of
// their own log's entry: each waiter woken by the ack that reaches it, and one whose log started over fails.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "internals.h"
#include "log_rig.hpp"

using namespace sctest;

TEST_CASE("sync: a primary read returns a write only once the in-sync replicas acknowledged it",
	  "[replication]")
{
	Cache a(unique_name("repl-primary-read"), mode_options(SC_REPLICATION_SYNC));
	start_as_shipping_primary(a);
	const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
	const sc_field key_field = sc_str("k");
	const sc_tuple key_tuple = { 1, &key_field }, *key = &key_tuple;
	const uint32_t log = sctest_partition_of(a, key);
	sc_tuples *out = nullptr;

	// A write no replica acknowledged: its call fails; a local read sees it, a primary read waits and fails.
	CHECK(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(1))) == -ETIMEDOUT);
	CHECK(sc_get(a, key, &out) == 1);
	sc_tuples_free(out);
	const uint64_t t0 = clock_ms();
	CHECK(sc_get_with(a, key, &primary, &out) == -ETIMEDOUT);
	CHECK(clock_ms() - t0 >= 100);
	CHECK(out == nullptr);
	CHECK(contains(sc_last_error(), "not acknowledged"));

	// Acknowledged (as the coordinator records it): the primary read returns it without waiting.
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(a, log, &st) == 0);
	REQUIRE(sc_repl_progress_write(a, log, st.last_lseq, st.last_lseq) == 0);
	REQUIRE(sc_get_with(a, key, &primary, &out) == 1);
	CHECK(out->tuples[0].fields[1].v.i == 1);
	sc_tuples_free(out);
	CHECK(sc_get_with(a, SC_TUPLE(sc_str("none such")), &primary, &out) == 0);
	CHECK(out == nullptr);

	// A read mode it does not know, or options not zeroed: refused.
	const sc_read_opts unknown = { 7, 0 }, reserved = { SC_READ_PRIMARY, 1 };
	CHECK(sc_get_with(a, key, &unknown, &out) == -EINVAL);
	CHECK(sc_get_with(a, key, &reserved, &out) == -EINVAL);
	// A lease that lapsed: the node cannot confirm it is the primary, and says so; a local read answers.
	write_map(a, 0, node_a, now_ns() - 1);
	CHECK(sc_get_with(a, key, &primary, &out) == -EAGAIN);
	CHECK(sc_get_with(a, key, nullptr, &out) == 1);
	sc_tuples_free(out);
	// A local cache answers every mode from its copy.
	Cache local(unique_name("repl-primary-read-local"), options(2, 16 << 20));
	REQUIRE(local.start_error() == 0);
	REQUIRE(sc_put(local, SC_TUPLE(sc_str("k"), sc_int(2))) == 0);
	CHECK(sc_get_with(local, key, &primary, &out) == 1);
	sc_tuples_free(out);
}

TEST_CASE("sync: a write whose log starts over before its acknowledgement fails, even when the new "
	  "numbering's acknowledgements pass its entry",
	  "[replication]")
{
	Cache a(unique_name("repl-restart"), mode_options(SC_REPLICATION_SYNC, 5000));
	start_as_shipping_primary(a);
	const uint32_t log = sctest_partition_of(a, SC_TUPLE(sc_str("k")));
	int put = 1;
	std::string why;
	uint64_t took_ms = 0;
	std::thread writer([&] {
		const uint64_t t0 = clock_ms();
		put = sc_put(a, SC_TUPLE(sc_str("k"), sc_int(1)));
		took_ms = clock_ms() - t0;
		why = sc_last_error();
	});
	// Its entry is published; then the coordinator drops the partition (this node is no replica any
	// more) and later fills it from another primary's copy, whose acknowledgements pass the entry's lseq.
	sc_repl_state st = {};
	while (sc_repl_state_read(a, log, &st) == 0 && st.last_lseq == 0)
		std::this_thread::yield();
	REQUIRE(sc_repl_reset(a, log) >= 0);
	REQUIRE(sc_repl_restore_end(a, log, 1000, 7) == 0);
	REQUIRE(sc_repl_progress_write(a, log, 1000, 1000) == 0);
	writer.join();
	CHECK(put == -ETIMEDOUT);
	CHECK(contains(why.c_str(), "its log started over before entry 1 was acknowledged"));
	CHECK(took_ms < 4000);
}

TEST_CASE("sync: a batch over two partitions whose logs started over a different number of times waits for "
	  "each in its own log's numbering",
	  "[replication]")
{
	Cache a(unique_name("repl-restarts-two"), mode_options(SC_REPLICATION_SYNC, 5000));
	start_as_shipping_primary(a);
	// Two keys in different partitions; the first one's log started over once, the second's never.
	const uint32_t first = sctest_partition_of(a, SC_TUPLE(sc_str("k0")));
	std::string other;
	for (int i = 1; other.empty() && i < 1000; i++)
		if (sctest_partition_of(a, SC_TUPLE(sc_str(("k" + std::to_string(i)).c_str()))) != first)
			other = "k" + std::to_string(i);
	REQUIRE_FALSE(other.empty());
	const uint32_t second = sctest_partition_of(a, SC_TUPLE(sc_str(other.c_str())));
	REQUIRE(sc_repl_reset(a, first) >= 0);

	int put = 1;
	std::string why;
	std::thread writer([&] {
		const sc_field f[4] = { sc_str("k0"), sc_int(1), sc_str(other.c_str()), sc_int(2) };
		const sc_tuple batch[2] = { { 2, &f[0] }, { 2, &f[2] } };
		put = sc_put_batch(a, batch, 2);
		why = sc_last_error();
	});
	// Both entries published (or the batch already failed): acknowledge both logs.
	sc_repl_state one = {}, two = {};
	const uint64_t give_up = clock_ms() + 4000;
	while (clock_ms() < give_up && sc_repl_state_read(a, first, &one) == 0 &&
	       sc_repl_state_read(a, second, &two) == 0 && (one.last_lseq == 0 || two.last_lseq == 0))
		std::this_thread::yield();
	CHECK(one.last_lseq == 1);
	CHECK(two.last_lseq == 1);
	REQUIRE(sc_repl_progress_write(a, first, 1, 1) == 0);
	REQUIRE(sc_repl_progress_write(a, second, 1, 1) == 0);
	writer.join();
	INFO(why);
	CHECK(put == 0);

	// A primary read by a thread that wrote nothing waits in the key's log's numbering too.
	int got = -1;
	std::thread reader([&] {
		const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
		sc_tuples *out = nullptr;
		got = sc_get_with(a, SC_TUPLE(sc_str("k0")), &primary, &out);
		why = sc_last_error();
		sc_tuples_free(out);
	});
	reader.join();
	INFO(why);
	CHECK(got == 1);
}

TEST_CASE("sync: each waiting writer is woken by the ack that reaches its entry, one entry or many at a "
	  "time, and by its log starting over",
	  "[replication]")
{
	// A writer the right wake missed would sleep all of its 5 s.
	Cache a(unique_name("repl-wake"), mode_options(SC_REPLICATION_SYNC, 5000));
	start_as_shipping_primary(a);
	const uint32_t log = sctest_partition_of(a, SC_TUPLE(sc_str("k0")));
	std::vector<std::string> keys; // 40 keys of log's partition
	for (int i = 0; keys.size() < 40 && i < 100000; i++) {
		std::string k = "k" + std::to_string(i);
		if (sctest_partition_of(a, SC_TUPLE(sc_str(k.c_str()))) == log)
			keys.push_back(k);
	}
	REQUIRE(keys.size() == 40);

	struct Writer {
		std::thread thread;
		int rc = 1;
		uint64_t took_ms = 0;
	};
	// A put of keys[from, to) in one call, in a thread: its entries are lseq from + 1 .. to.
	auto start = [&](Writer &w, size_t from, size_t to) {
		w.thread = std::thread([&a, &keys, &w, from, to] {
			std::vector<sc_field> f;
			std::vector<sc_tuple> t;
			for (size_t i = from; i < to; i++) {
				f.push_back(sc_str(keys[i].c_str()));
				f.push_back(sc_int((int64_t)i));
			}
			for (size_t i = 0; i < to - from; i++)
				t.push_back({ 2, &f[2 * i] });
			const uint64_t t0 = clock_ms();
			w.rc = sc_put_batch(a, t.data(), t.size());
			w.took_ms = clock_ms() - t0;
		});
		sc_repl_state st = {};
		while (sc_repl_state_read(a, log, &st) == 0 && st.last_lseq < to)
			std::this_thread::yield();
	};

	// Entry 1, acknowledged alone.
	Writer one;
	start(one, 0, 1);
	REQUIRE(sc_repl_progress_write(a, log, 1, 1) == 0);
	one.thread.join();
	CHECK(one.rc == 0);
	CHECK(one.took_ms < 2500);
	// Entries 2 .. 34 in one call, acknowledged in one step of 33 (every waiter's bit).
	Writer many;
	start(many, 1, 34);
	REQUIRE(sc_repl_progress_write(a, log, 34, 34) == 0);
	many.thread.join();
	CHECK(many.rc == 0);
	CHECK(many.took_ms < 2500);
	// Entries 35 and 36 by two writers; 35 acknowledged first, then 36.
	Writer first, second;
	start(first, 34, 35);
	start(second, 35, 36);
	REQUIRE(sc_repl_progress_write(a, log, 36, 35) == 0);
	first.thread.join();
	CHECK(first.rc == 0);
	CHECK(first.took_ms < 2500);
	REQUIRE(sc_repl_progress_write(a, log, 36, 36) == 0);
	second.thread.join();
	CHECK(second.rc == 0);
	CHECK(second.took_ms < 2500);
	// Entry 37, and the log starts over: its writer learns it at once, not at the timeout.
	Writer dropped;
	start(dropped, 36, 37);
	REQUIRE(sc_repl_reset(a, log) >= 0);
	dropped.thread.join();
	CHECK(dropped.rc == -ETIMEDOUT);
	CHECK(dropped.took_ms < 2500);
}
