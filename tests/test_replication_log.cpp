// test_replication_log.cpp — a distributed cache's replication logs: every write logged, a replica made equal by applying them.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include <sys/wait.h>

#include "helpers.hpp"
#include "internals.h"
#include "log_rig.hpp"

using namespace sctest;

namespace
{

uint16_t even_on_a(uint32_t p)
{
	return p % 2 ? 1 : 0;
}

// Ship logs [first, end) from one node's cache to another's, as the coordinators would; the entries applied.
uint64_t ship_logs(sc_cache *from, sc_cache *to, uint32_t first, uint32_t end)
{
	uint64_t applied = 0;
	std::vector<uint8_t> buf(SC_REPL_ENTRY_MAX * 4);
	for (uint32_t log = first; log < end; log++) {
		sc_repl_state st;
		REQUIRE(sc_repl_state_read(to, log, &st) == 0);
		uint64_t pos = 0;
		REQUIRE(sc_repl_seek(from, log, st.last_lseq, &pos) == 0);
		for (;;) {
			ssize_t n = sc_repl_read(from, log, &pos, buf.data(), buf.size());
			REQUIRE(n >= 0);
			if (n == 0)
				break;
			sc_repl_applied done;
			int r = sc_repl_apply(to, log, buf.data(), static_cast<size_t>(n), &done);
			INFO(sc_last_error());
			REQUIRE(r == 0);
			CHECK(done.resync == 0);
			CHECK(done.missing == 0);
			applied += done.entries;
		}
	}
	return applied;
}

// A primary on node a (every partition) and its replica on node b, both in this process.
struct Pair {
	Cache a, b;
	explicit Pair(const std::string &name, uint32_t table_type = SC_SET)
	    : Pair(name, log_options(table_type), log_options(table_type))
	{
	}
	Pair(const std::string &name, const sc_options &oa, const sc_options &ob)
	    : a(unique_name((name + "-a").c_str()), oa), b(unique_name((name + "-b").c_str()), ob)
	{
		REQUIRE(a.start_error() == 0);
		REQUIRE(b.start_error() == 0);
		write_map(a, 0, node_a, now_ns() + 3600ull * 1000000000ull);
		write_map(b, 1, node_a, now_ns() + 3600ull * 1000000000ull);
		REQUIRE(sc_cluster_shipping_write(a, 1) == 0);
	}

	// Ship every log from a to b, as the coordinators would; the entries applied.
	uint64_t ship()
	{
		return ship_logs(a, b, 0, 2 * parts);
	}

	// Both copies hold the same records, with the same versions, in every partition.
	void check_equal()
	{
		for (uint32_t p = 0; p < 2 * parts; p++) {
			uint64_t na = 0, nb = 0;
			uint64_t da = sctest_partition_digest(a, p, &na);
			uint64_t db = sctest_partition_digest(b, p, &nb);
			INFO("partition " << p);
			CHECK(na == nb);
			CHECK(da == db);
		}
	}
};

void put_pair(sc_cache *c, const char *key, int64_t v)
{
	REQUIRE(sc_put(c, SC_TUPLE(sc_str(key), sc_int(v))) == 0);
}

} // namespace

TEST_CASE("a distributed cache writes only where its coordinator ships and the map names it primary",
	  "[replication]")
{
	Cache c(unique_name("repl-fence"), log_options());
	REQUIRE(c.start_error() == 0);

	int r = sc_put(c, SC_TUPLE(sc_str("k"), sc_int(1)));
	CHECK(r == -EOPNOTSUPP);
	CHECK(contains(sc_last_error(), "no coordinator ships its replication logs"));

	write_map(c, 0, even_on_a, now_ns() + 3600ull * 1000000000ull);
	REQUIRE(sc_cluster_shipping_write(c, 1) == 0);
	CHECK(sc_cluster_shipping_write(c, 2) == -EINVAL);
	int written = 0, elsewhere = 0;
	for (int i = 0; i < 64; i++) {
		std::string key = "k" + std::to_string(i);
		r = sc_put(c, SC_TUPLE(sc_str(key.c_str()), sc_int(i)));
		if (r == 0) {
			written++;
		} else {
			// Forwarded, but no coordinator listens: the socket next to the segment is not there.
			CHECK(r == -ENOENT);
			CHECK(contains(sc_last_error(),
				       "primary is another node, and the write cannot be forwarded"));
			elsewhere++;
		}
	}
	CHECK(written > 0);
	CHECK(elsewhere > 0);
	CHECK(sc_kv_add(c, "ns", sc_str("k"), sc_int(1)) <= 0);

	// A lapsed lease: no node may act as primary here now.
	write_map(c, 0, node_a, 1);
	r = sc_put(c, SC_TUPLE(sc_str("k0"), sc_int(1)));
	CHECK(r == -EAGAIN);
	CHECK(contains(sc_last_error(), "try again"));

	// A record too large for a log entry is refused before anything is written.
	write_map(c, 0, node_a, now_ns() + 3600ull * 1000000000ull);
	std::string big(SC_REPL_ENTRY_MAX, 'x');
	r = sc_put(c, SC_TUPLE(sc_str("big"), sc_str(big.c_str())));
	CHECK(r == -EFBIG);
	INFO(sc_last_error());
	CHECK(contains(sc_last_error(), "replication log entry"));

	// A local cache has no logs.
	Cache local(unique_name("repl-local"), options(2, 32 << 20));
	REQUIRE(local.start_error() == 0);
	sc_repl_state st;
	CHECK(sc_repl_state_read(local, 0, &st) == -EINVAL);
	CHECK(sc_repl_state_read(c, 2 * parts, &st) == -EINVAL);
}

TEST_CASE("every kind of write reaches a replica through the logs, versions included", "[replication]")
{
	auto table_type = GENERATE(SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG);
	INFO("table type " << table_type);
	Pair pair("repl-kinds", table_type);
	sc_cache *a = pair.a;

	for (int i = 0; i < 200; i++)
		put_pair(a, ("k" + std::to_string(i % 50)).c_str(), i);
	CHECK(pair.ship() > 0);
	pair.check_equal();

	// Deletes, by key and by match, a batch, and all.
	REQUIRE(sc_delete(a, SC_TUPLE(sc_str("k1"))) >= 0);
	REQUIRE(sc_delete_by_match(a, nullptr, SC_TUPLE(sc_str("k2"), sc_any())) >= 0);
	sc_field f[3][2] = { { sc_str("b1"), sc_int(1) },
			     { sc_str("b2"), sc_int(2) },
			     { sc_str("b1"), sc_int(3) } };
	sc_tuple batch[3] = { { 2, f[0] }, { 2, f[1] }, { 2, f[2] } };
	REQUIRE(sc_put_batch(a, batch, 3) == 0);
	pair.ship();
	pair.check_equal();

	// Times to live, and touch, which replaces a record by a copy with a deadline.
	REQUIRE(sc_put_ttl(a, SC_TUPLE(sc_str("t1"), sc_int(1)), 60000) == 0);
	REQUIRE(sc_touch(a, SC_TUPLE(sc_str("k3")), 60000) >= 0);
	pair.ship();
	pair.check_equal();
	uint64_t ttl_b = 0;
	CHECK(sc_ttl(pair.b, SC_TUPLE(sc_str("t1")), &ttl_b) == 1);
	CHECK(ttl_b > 50000);
	CHECK(ttl_b <= 60000);

	// KeyValue and Struct entries live in the structure partitions, and are logged there.
	// On a bag a key keeps each value, and an update takes the place of them all, on the replica too.
	const bool bag = table_type == SC_BAG || table_type == SC_DUPLICATE_BAG;
	const int pairs = bag ? 25 : 9;
	for (int i = 0; i < 30; i++)
		REQUIRE(sc_kv_add(a, "ns", sc_int(i % 10), sc_int(i)) == 0);
	REQUIRE(sc_kv_remove(a, "ns", sc_int(3)) >= 0);
	REQUIRE(sc_kv_update(a, "ns", sc_int(4), sc_int(14)) == 0);
	struct user {
		int64_t id;
		int64_t age;
	} u = { 7, 40 };
	REQUIRE(sc_struct_init(a, "user", sizeof(u), offsetof(user, id), sizeof(u.id)) == 0);
	REQUIRE(sc_struct_add(a, "user", &u) == 0);
	pair.ship();
	pair.check_equal();
	CHECK(sc_kv_count(pair.b, "ns") == pairs);

	REQUIRE(sc_delete_all(a) == 0);
	pair.ship();
	pair.check_equal();
	sc_tuples *out = nullptr;
	CHECK(sc_get(pair.b, SC_TUPLE(sc_str("k5")), &out) == 0);
	sc_tuples_free(out);
	CHECK(sc_kv_count(pair.b, "ns") == pairs); // the tuples only

	// sc_clear: the structures too, each partition as one entry.
	REQUIRE(sc_queue_add(a, "q", sc_int(1)) == 0);
	put_pair(a, "after", 1);
	REQUIRE(sc_clear(a) == 0);
	pair.ship();
	pair.check_equal();
	CHECK(sc_kv_count(pair.b, "ns") == 0);
	CHECK(sc_queue_count(pair.b, "q") == 0);
	std::string problems;
	const int whole = check_segment(pair.b, 0, &problems);
	INFO(problems);
	CHECK(whole == 0);
}

uint16_t node_b(uint32_t)
{
	return 1;
}

// Everything a queue (front first) or a stack (top first) holds, taken from c, which must be its primary.
std::vector<int64_t> take_all(sc_cache *c, const std::string &name, bool queue)
{
	sc_tuples *out = nullptr;
	int n = queue ? sc_queue_get_all(c, name.c_str(), &out) : sc_stack_get_all(c, name.c_str(), &out);
	INFO(sc_last_error());
	REQUIRE(n >= 0);
	std::vector<int64_t> v;
	for (size_t i = 0; out && i < out->count; i++)
		v.push_back(out->tuples[i].fields[0].v.i);
	sc_tuples_free(out);
	return v;
}

TEST_CASE("queues and stacks reach a replica as operations, and a copy of the partition rebuilds them",
	  "[replication]")
{
	Pair pair("repl-seq");
	sc_cache *a = pair.a, *b = pair.b;
	std::map<std::string, std::deque<int64_t>> model; // back is a queue's newest, a stack's top
	uint64_t ops = 0, next = 0;

	// Operations on 8 queues and 8 stacks spread over the structure partitions; what the model says each holds.
	auto run = [&](int count) {
		for (int i = 0; i < count; i++) {
			const bool queue = i % 2 == 0;
			const std::string name = (queue ? "q" : "s") + std::to_string((i / 2) % 8);
			std::deque<int64_t> &m = model[name];
			sc_tuples *out = nullptr;
			if (i % 7 == 5 || i % 7 == 6) {
				int r = queue ? sc_queue_out(a, name.c_str(), nullptr, &out)
					      : sc_stack_pop(a, name.c_str(), nullptr, &out);
				REQUIRE(r == (m.empty() ? 0 : 1));
				if (r == 1) {
					CHECK(out->tuples[0].fields[0].v.i == (queue ? m.front() : m.back()));
					queue ? m.pop_front() : m.pop_back();
					ops++;
				}
				sc_tuples_free(out);
			} else if (i % 211 == 17) {
				const std::vector<int64_t> got = take_all(a, name, queue);
				CHECK(got.size() == m.size());
				ops += !m.empty();
				m.clear();
			} else {
				const int64_t v = static_cast<int64_t>(next++);
				REQUIRE((queue ? sc_queue_add(a, name.c_str(), sc_int(v))
					       : sc_stack_push(a, name.c_str(), sc_int(v))) == 0);
				m.push_back(v);
				ops++;
			}
		}
	};
	run(1500);
	// A KeyValue entry beside them is logged as a record, as before.
	REQUIRE(sc_kv_add(a, "ns", sc_int(1), sc_int(1)) == 0);
	ops++;
	// One entry per operation that changed something: none for the records they changed.
	CHECK(pair.ship() == ops);
	pair.check_equal();
	for (auto &[name, m] : model) {
		INFO(name);
		const bool queue = name[0] == 'q';
		CHECK((queue ? sc_queue_count(b, name.c_str()) : sc_stack_count(b, name.c_str())) ==
		      static_cast<int>(m.size()));
		if (queue && !m.empty()) {
			sc_tuples *out = nullptr;
			REQUIRE(sc_queue_peek(b, name.c_str(), nullptr, &out) == 1);
			CHECK(out->tuples[0].fields[0].v.i == m.front());
			sc_tuples_free(out);
		}
	}

	// A third node copies the structure partitions whole; operations after the copy's point reach it by the log.
	Cache c(unique_name("repl-seq-c"), log_options());
	REQUIRE(c.start_error() == 0);
	write_map(c, 1, node_a, now_ns() + 3600ull * 1000000000ull);
	for (uint32_t log = parts; log < 2 * parts; log++) {
		void *copy = nullptr;
		sc_repl_state at;
		ssize_t n = sc_repl_snapshot(a, log, &copy, &at);
		INFO(sc_last_error());
		REQUIRE(n >= 0);
		sc_repl_applied done{};
		REQUIRE(sc_repl_restore(c, log, copy, static_cast<size_t>(n), &done) == 0);
		free(copy);
		REQUIRE(sc_repl_restore_end(c, log, at.last_lseq, at.last_epoch) == 0);
	}
	run(700);
	ship_logs(a, c, parts, 2 * parts);
	pair.ship();

	// b and c, each made primary in turn, hand back what the model holds, in its order.
	for (sc_cache *node : { b, c.get() }) {
		write_map(node, 1, node_b, now_ns() + 3600ull * 1000000000ull);
		REQUIRE(sc_cluster_shipping_write(node, 1) == 0);
		for (auto &[name, m] : model) {
			INFO(name);
			const bool queue = name[0] == 'q';
			std::vector<int64_t> want(m.begin(), m.end());
			if (!queue)
				std::reverse(want.begin(), want.end());
			CHECK(take_all(node, name, queue) == want);
		}
	}
}

// Entries and resync marks in the structure logs of c so far.
std::pair<uint64_t, uint64_t> structure_log_marks(sc_cache *c)
{
	uint64_t entries = 0, resyncs = 0;
	for (uint32_t log = parts; log < 2 * parts; log++) {
		sc_repl_state st;
		REQUIRE(sc_repl_state_read(c, log, &st) == 0);
		entries += st.last_lseq;
		resyncs += st.resyncs;
	}
	return { entries, resyncs };
}

TEST_CASE("a queue push that evicts KeyValue pairs to make room logs the evictions; a push whose operation "
	  "the log cannot hold is refused",
	  "[replication]")
{
	sc_options o = log_options();
	o.memory_limit = 12 << 20;
	o.eviction = SC_EVICTION_CLOCK;
	Cache a(unique_name("repl-seq-evict"), o);
	start_as_shipping_primary(a);
	const std::string value(1000, 'v');
	int k = 0;
	// Until pairs are evicted (the namespace holds fewer than were added).
	for (; k < 100000 && (k % 500 || sc_kv_count(a, "ns") == k); k++)
		REQUIRE(sc_kv_add(a, "ns", sc_int(k), sc_str(value.c_str())) == 0);
	REQUIRE(k < 100000);
	// Pushes until one makes its room by evicting pairs: that write logs more than its one operation
	// (the removals, or a resync mark when they pass what the ring holds), never the operation alone.
	bool evicted = false;
	for (int i = 0; i < 5000 && !evicted; i++) {
		const int held = sc_kv_count(a, "ns");
		const auto before = structure_log_marks(a);
		REQUIRE(sc_queue_add(a, ("q" + std::to_string(i % 8)).c_str(), sc_str(value.c_str())) == 0);
		const auto after = structure_log_marks(a);
		evicted = sc_kv_count(a, "ns") < held;
		if (evicted) {
			INFO((held - sc_kv_count(a, "ns")) << " pairs evicted by push " << i);
			CHECK((after.first - before.first > 1 || after.second > before.second));
		} else {
			CHECK(after.first - before.first == 1);
		}
	}
	CHECK(evicted);

	// A value whose push entry (the header's key is the queue's name) would pass what the log holds.
	const std::string name(250, 'n');
	const std::string big(64 * 1024 - 100, 'b'); // SC_REPL_MAX_RECORD, less the item's own overhead
	CHECK(sc_queue_add(a, name.c_str(), sc_str(big.c_str())) == -EFBIG);
	INFO(sc_last_error());
	CHECK(contains(sc_last_error(), "replication log entry"));
	CHECK(sc_queue_count(a, name.c_str()) == 0);
}

TEST_CASE("a partition that starts over drops its queues' and stacks' sequence blocks with their headers, "
	  "every block stays accounted for",
	  "[replication]")
{
	// A replica named out of a partition, or taking a copy, empties it; a header's sequence block, which no
	// index holds, leaked then, and sc_check() called the cache damaged.
	Cache a(unique_name("repl-reset-seq"), log_options());
	start_as_shipping_primary(a);
	for (int i = 0; i < 20; i++) {
		REQUIRE(sc_queue_add(a, ("q" + std::to_string(i)).c_str(), sc_int(i)) == 0);
		REQUIRE(sc_stack_push(a, ("s" + std::to_string(i)).c_str(), sc_int(i)) == 0);
	}
	sc_check_report rep;
	REQUIRE(sc_check(a, 0, &rep) == 0);
	sc_options cfg{}; // sz 0: the whole struct is written
	REQUIRE(sc_config(a, &cfg) == 0);
	for (uint32_t log = cfg.num_partition; log < 2 * cfg.num_partition; log++)
		REQUIRE(sc_repl_reset(a, log) >= 0);
	const int rc = sc_check(a, 0, &rep);
	INFO(rep.problems << " problems; the first: " << (rep.listed ? rep.list[0].what : ""));
	CHECK(rc == 0);
	CHECK(sc_queue_count(a, "q0") == 0);
	// The queues start again from nothing.
	REQUIRE(sc_queue_add(a, "q0", sc_int(7)) == 0);
	CHECK(sc_queue_count(a, "q0") == 1);
	CHECK(sc_check(a, 0, &rep) == 0);
}

TEST_CASE("writers in other processes and a shipper running beside them end with equal copies",
	  "[replication]")
{
	Pair pair("repl-procs");
	std::string name = pair.a.name();
	std::vector<pid_t> writers;
	for (int w = 0; w < 2; w++)
		writers.push_back(spawn([name, w]() {
			sc_cache *c = nullptr;
			if (sc_attach(name.c_str(), nullptr, &c) != 0)
				return 10;
			for (int i = 0; i < 3000; i++) {
				std::string key = "w" + std::to_string(w) + "-" + std::to_string(i % 500);
				int r = i % 7 == 6 ? sc_delete(c, SC_TUPLE(sc_str(key.c_str())))
						   : sc_put(c, SC_TUPLE(sc_str(key.c_str()), sc_int(i)));
				if (r < 0)
					return 11;
				if (i % 3 == 0 && sc_kv_add(c, "ns", sc_int(i % 100), sc_int(i)) != 0)
					return 12;
			}
			sc_stop(c);
			return 0;
		}));
	uint64_t shipped = 0;
	std::vector<int> statuses;
	while (statuses.size() < writers.size()) {
		shipped += pair.ship();
		int status;
		pid_t done = waitpid(-1, &status, WNOHANG);
		if (done > 0)
			statuses.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	for (int status : statuses)
		CHECK(status == 0);
	shipped += pair.ship();
	CHECK(shipped > 6000);
	pair.check_equal();
}

TEST_CASE("a replica too far behind is told so; a damaged or out-of-order entry is refused", "[replication]")
{
	Pair pair("repl-behind");
	sc_cache *a = pair.a;
	std::string value(1000, 'v');
	for (int i = 0; i < 2000; i++)
		REQUIRE(sc_put_partition_by_idx(a, SC_TUPLE(sc_int(i), sc_str(value.c_str())), 0) == 0);
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(a, 0, &st) == 0);
	CHECK(st.last_lseq == 2000);
	CHECK(st.first_lseq > 1);
	CHECK(st.unshipped_lost == st.first_lseq - 1);
	uint64_t pos = 0;
	CHECK(sc_repl_seek(a, 0, 0, &pos) == -ESTALE);
	CHECK(contains(sc_last_error(), "written over"));
	CHECK(sc_repl_seek(a, 0, st.last_lseq + 1, &pos) == -ERANGE);
	pos = 0;
	std::vector<uint8_t> buf(SC_REPL_ENTRY_MAX);
	CHECK(sc_repl_read(a, 0, &pos, buf.data(), buf.size()) == -ESTALE);

	// From where the ring still reaches, entries come; but the replica has none before them.
	REQUIRE(sc_repl_seek(a, 0, st.first_lseq, &pos) == 0);
	ssize_t n = sc_repl_read(a, 0, &pos, buf.data(), buf.size());
	REQUIRE(n > 0);
	sc_repl_applied done;
	CHECK(sc_repl_apply(pair.b, 0, buf.data(), static_cast<size_t>(n), &done) == -ESTALE);
	CHECK(contains(sc_last_error(), "does not follow"));
	CHECK(done.entries == 0);

	// A fresh log on partition 1: a damaged record, a short buffer, then the good entries.
	for (int i = 0; i < 3; i++)
		REQUIRE(sc_put_partition_by_idx(a, SC_TUPLE(sc_int(i), sc_int(i)), 1) == 0);
	pos = 0;
	n = sc_repl_read(a, 1, &pos, buf.data(), buf.size());
	REQUIRE(n > 0);
	std::vector<uint8_t> bad(buf.begin(), buf.begin() + n);
	bad[40] ^= 0x55; // inside the first entry's record
	CHECK(sc_repl_apply(pair.b, 1, bad.data(), bad.size(), &done) == -EPROTO);
	CHECK(done.entries == 0);
	CHECK(sc_repl_apply(pair.b, 1, buf.data(), static_cast<size_t>(n) - 4, &done) == -EPROTO);
	CHECK(done.entries == 2);
	uint64_t count = 0;
	sctest_partition_digest(pair.b, 1, &count);
	CHECK(count == 2);
	CHECK(sc_repl_apply(pair.b, 1, buf.data(), static_cast<size_t>(n), &done) == -ESTALE);
}

TEST_CASE(
	"a copy reset is empty with its log started over, and is filled again from the primary's first entry",
	"[replication]")
{
	Pair pair("repl-reset");
	for (int i = 0; i < 100; i++)
		put_pair(pair.a, ("k" + std::to_string(i)).c_str(), i);
	REQUIRE(pair.ship() > 0);
	pair.check_equal();

	uint64_t held = 0, total = 0;
	for (uint32_t log = 0; log < 2 * parts; log++) {
		sctest_partition_digest(pair.b, log, &held);
		total += held;
		int64_t gone = sc_repl_reset(pair.b, log);
		INFO(sc_last_error());
		REQUIRE(gone == static_cast<int64_t>(held));
		sc_repl_state st;
		REQUIRE(sc_repl_state_read(pair.b, log, &st) == 0);
		CHECK(st.last_lseq == 0);
		CHECK(st.last_epoch == 0);
		CHECK(st.first_lseq == 1);
		CHECK(st.head == st.tail);
		sctest_partition_digest(pair.b, log, &held);
		CHECK(held == 0);
	}
	CHECK(total == 100);
	// Nothing of the reset went into b's log, and b follows a from its first entry again.
	REQUIRE(pair.ship() > 0);
	pair.check_equal();
	// Not on a read-only handle, a local cache or a log out of range.
	CHECK(sc_repl_reset(pair.b, 2 * parts) == -EINVAL);
	Cache local(unique_name("repl-reset-local"));
	CHECK(sc_repl_reset(local, 0) == -EINVAL);
}

TEST_CASE(
	"a replica the ring left behind copies the partition whole, then follows the log from the copy's point",
	"[replication]")
{
	auto table_type = GENERATE(SC_SET, SC_ORDERED_SET, SC_DUPLICATE_BAG);
	INFO("table type " << table_type);
	Pair pair("repl-copy", table_type);
	sc_cache *a = pair.a;
	// Far more than a ring holds: b cannot follow from its empty log.
	std::string big(900, 'x');
	for (int i = 0; i < 3000; i++)
		REQUIRE(sc_put(a, SC_TUPLE(sc_str(("k" + std::to_string(i % 700)).c_str()), sc_int(i),
					   sc_str(big.c_str()))) == 0);
	REQUIRE(sc_put_ttl(a, SC_TUPLE(sc_str("ttl"), sc_int(1)), 60000) == 0);
	for (int i = 0; i < 20; i++)
		REQUIRE(sc_kv_add(a, "ns", sc_int(i), sc_int(i)) == 0);

	for (uint32_t log = 0; log < 2 * parts; log++) {
		sc_repl_state st;
		uint64_t pos = 0;
		REQUIRE(sc_repl_state_read(a, log, &st) == 0);
		if (log < parts) // the tuple logs wrapped
			CHECK(sc_repl_seek(a, log, 0, &pos) == -ESTALE);
		void *copy = nullptr;
		sc_repl_state at;
		ssize_t n = sc_repl_snapshot(a, log, &copy, &at);
		INFO(sc_last_error());
		REQUIRE(n >= 0);
		CHECK(at.last_lseq == st.last_lseq);
		// Writes after the copy's point: the log brings them.
		if (log == 0) {
			REQUIRE(sc_delete(a, SC_TUPLE(sc_str("k1"))) >= 0);
			REQUIRE(sc_put(a, SC_TUPLE(sc_str("after"), sc_int(1), sc_str("y"))) == 0);
		}
		REQUIRE(sc_repl_reset(pair.b, log) >= 0);
		sc_repl_applied done{};
		REQUIRE(sc_repl_restore(pair.b, log, copy, static_cast<size_t>(n), &done) == 0);
		free(copy);
		REQUIRE(sc_repl_restore_end(pair.b, log, at.last_lseq, at.last_epoch) == 0);
		REQUIRE(sc_repl_state_read(pair.b, log, &st) == 0);
		CHECK(st.last_lseq == at.last_lseq);
		CHECK(st.first_lseq == at.last_lseq + 1);
	}
	pair.ship();
	pair.check_equal();
	uint64_t ttl_b = 0;
	CHECK(sc_ttl(pair.b, SC_TUPLE(sc_str("ttl")), &ttl_b) == 1);
	CHECK(ttl_b > 50000);

	// Only a copy's records are restored: a numbered entry, or a removal, is refused with nothing applied.
	std::vector<uint8_t> buf(SC_REPL_ENTRY_MAX * 4);
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(a, 0, &st) == 0);
	uint64_t pos = 0;
	REQUIRE(sc_repl_seek(a, 0, st.last_lseq - 1, &pos) == 0);
	ssize_t n = sc_repl_read(a, 0, &pos, buf.data(), buf.size());
	REQUIRE(n > 0);
	sc_repl_applied done{};
	CHECK(sc_repl_restore(pair.b, 0, buf.data(), static_cast<size_t>(n), &done) == -EPROTO);
	CHECK(done.entries == 0);
	void *copy = nullptr;
	sc_repl_state at;
	CHECK(sc_repl_snapshot(a, 2 * parts, &copy, &at) == -EINVAL);
	CHECK(sc_repl_snapshot(a, 0, nullptr, &at) == -EINVAL);
}

TEST_CASE(
	"an entry that would leave 8 or 16 bytes before the ring's end: those bytes are skipped by every reader",
	"[replication]")
{
	Pair pair("repl-short-tail");
	sc_cache *a = pair.a;
	const uint64_t ring =
		256u * 1024u; // SC_REPL_LOG_BYTES: too small there for an entry's 24-byte header
	const uint32_t log = sctest_partition_of(a, SC_TUPLE(sc_str("k")));
	std::map<uint64_t, size_t> value_for; // an entry's length -> the value length that made it
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(a, log, &st) == 0);
	uint64_t tail = st.tail;
	int short_tails = 0;
	for (int i = 0; i < 40000 && short_tails < 4; i++) {
		const uint64_t to_end = ring - (tail & (ring - 1));
		size_t size = static_cast<size_t>(i % 97);
		// Near the end: the value whose entry leaves 16 (then 8) bytes there, once its length was seen.
		for (uint64_t left : { 16u, 8u })
			if (to_end > left && value_for.count(to_end - left)) {
				size = value_for[to_end - left];
				break;
			}
		std::string v(size, 'v');
		REQUIRE(sc_put(a, SC_TUPLE(sc_str("k"), sc_int(i), sc_str(v.c_str()))) == 0);
		REQUIRE(sc_repl_state_read(a, log, &st) == 0);
		const uint64_t grew = st.tail - tail;
		if (grew < to_end)
			value_for.emplace(grew, size);
		tail = st.tail;
		const uint64_t now_to_end = ring - (tail & (ring - 1));
		short_tails += now_to_end == 8 || now_to_end == 16;
		if (i % 64 == 0)
			pair.ship(); // the replica follows, reading across each wrap
	}
	CHECK(short_tails == 4);
	pair.ship();
	pair.check_equal();
	// The log after it in the segment is whole: nothing was written past this ring.
	sc_repl_state next;
	CHECK(sc_repl_state_read(a, log + 1, &next) == 0);
	CHECK(next.head <= next.tail);
}
