// test_forward_ryw.cpp — read-your-writes: a handle reads back what it wrote through another node's primary,
// from the primary until its own copy has it; per key (its reads of the partition's other keys stay on its
// copy, while a write of many keys holds back the whole partition); and on a node that became the primary
// without the write.
#include "forward_rig.hpp"

#include <cstddef>

using namespace sctest;

namespace
{

// Keys share a floor by hash, one slot in 1024 (mem/read_your_writes.h): of three other keys, one at most
// may share the written key's. So the test asks that two of three be read with no hop.
constexpr int others = 3;

// n keys other than key, in its partition.
std::vector<std::string> keys_beside(sc_cache *c, const std::string &key, int n)
{
	std::vector<std::string> out;
	for (int i = 0; static_cast<int>(out.size()) < n; i++) {
		const std::string k = "o" + std::to_string(i);
		if (partition_of(c, k) == partition_of(c, key))
			out.push_back(k);
	}
	return out;
}

// How many reads (read(k) for each of keys) a's coordinator was not asked for.
template <typename Read>
int read_without_hop(TwoNodes &nodes, const std::vector<std::string> &keys, Read read)
{
	int local = 0;
	for (const std::string &k : keys) {
		const int before = nodes.coordinator.requests;
		read(k);
		local += nodes.coordinator.requests == before;
	}
	return local;
}

// Runs req on b, whose in-sync replicas then have whatever it ran: its acknowledgement is at its last entry.
std::vector<uint8_t> run_acked_on(sc_cache *b, const std::vector<uint8_t> &req)
{
	std::vector<uint8_t> reply = run_on(b, req);
	for (uint32_t log = 0; log < 2 * parts; log++) {
		sc_repl_state st;
		REQUIRE(sc_repl_state_read(b, log, &st) == 0);
		REQUIRE(sc_repl_progress_write(b, log, st.last_lseq, st.last_lseq) == 0);
	}
	return reply;
}

} // namespace

TEST_CASE("read-your-writes per key: a write of one key holds back its reads only; a batch holds back its "
	  "partitions",
	  "[forward]")
{
	TwoNodes nodes("fwd-ryw-key");
	REQUIRE(nodes.started);
	Cache &a = nodes.a;
	const std::string key = key_on_b(a, 0);
	const std::vector<std::string> beside = keys_beside(a, key, others);
	sc_tuples *out = nullptr;
	auto get = [&](const std::string &k) {
		const int rc = sc_get(a, SC_TUPLE(sc_str(k.c_str())), &out);
		sc_tuples_free(out);
		return rc;
	};

	// The put runs on b; a's copy lacks it. Reading it back asks b; the other keys are a's copy's.
	REQUIRE(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == 0);
	CHECK(read_without_hop(nodes, beside, [&](const std::string &k) { CHECK(get(k) == 0); }) >=
	      others - 1);
	int before = nodes.coordinator.requests;
	CHECK(get(key) == 1);
	CHECK(nodes.coordinator.requests == before + 1);
	// A read of many keys of the partition owes the write too.
	before = nodes.coordinator.requests;
	CHECK(sc_get_by_match_object(a, nullptr, SC_TUPLE(sc_any(), sc_int(1)), &out) == 1);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests > before);

	// A delete is a write of its key the same way (of a key b holds: deleting nothing writes nothing).
	const std::string gone = beside[0];
	REQUIRE(sc_put(nodes.b, SC_TUPLE(sc_str(gone.c_str()), sc_int(3))) == 0);
	REQUIRE(sc_delete(a, SC_TUPLE(sc_str(gone.c_str()))) == 1);
	before = nodes.coordinator.requests;
	CHECK(get(gone) == 0);
	CHECK(nodes.coordinator.requests == before + 1);

	// A batch marks no key but its partitions: every read of the partition asks b.
	const std::string other = key_on_b(a, 1000);
	const std::vector<std::string> near = keys_beside(a, other, others);
	const sc_field f[2] = { sc_str(other.c_str()), sc_int(2) };
	const sc_tuple batch[1] = { { 2, f } };
	REQUIRE(sc_put_batch(a, batch, 1) == 0);
	CHECK(read_without_hop(nodes, near, [&](const std::string &k) { CHECK(get(k) == 0); }) == 0);

	// KeyValue: a key written through b holds back its own reads, not those of its partition's others.
	std::string ns;
	for (int i = 0; ns.empty(); i++) {
		const std::string name = "rywkey" + std::to_string(i);
		if (sctest_kv_partition_of(a, name.c_str(), sc_int(1)) % parts % 2 == 1)
			ns = name;
	}
	const uint32_t kv_part = sctest_kv_partition_of(a, ns.c_str(), sc_int(1));
	std::vector<std::string> kv_beside;
	for (int64_t k = 2; static_cast<int>(kv_beside.size()) < others; k++)
		if (sctest_kv_partition_of(a, ns.c_str(), sc_int(k)) == kv_part)
			kv_beside.push_back(std::to_string(k));
	REQUIRE(sc_kv_add(a, ns.c_str(), sc_int(1), sc_int(7)) == 0);
	CHECK(read_without_hop(nodes, kv_beside, [&](const std::string &k) {
		      CHECK(sc_kv_get(a, ns.c_str(), sc_int(std::stoll(k)), nullptr, &out) == 0);
	      }) >= others - 1);
	before = nodes.coordinator.requests;
	REQUIRE(sc_kv_get(a, ns.c_str(), sc_int(1), nullptr, &out) == 1);
	CHECK(out->tuples[0].fields[0].v.i == 7);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests == before + 1);
	// An increment is a write of its key too.
	sc_field now = {};
	REQUIRE(sc_kv_increment(a, ns.c_str(), sc_int(1), sc_int(0), sc_int(1), &now) == 0);
	CHECK(now.v.i == 8);
	before = nodes.coordinator.requests;
	REQUIRE(sc_kv_get(a, ns.c_str(), sc_int(1), nullptr, &out) == 1);
	CHECK(out->tuples[0].fields[0].v.i == 8);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests == before + 1);

	// Struct: an add holds back the reads of its own key only. The type is registered on a (its entry in an
	// even partition), so that a reads its geometry from its own copy.
	struct point {
		int64_t id, x;
	};
	std::string type;
	for (int i = 0; type.empty(); i++) {
		const std::string name = "rywpt" + std::to_string(i);
		if (sctest_entry_partition_of(a, 'T', name.c_str(), nullptr, 0) % parts % 2 == 0)
			type = name;
	}
	auto pt_partition = [&](int64_t id) {
		return sctest_entry_partition_of(a, 'R', type.c_str(), &id, sizeof(id));
	};
	REQUIRE(sc_struct_init(a, type.c_str(), sizeof(point), offsetof(point, id), sizeof(int64_t)) == 0);
	point added = { 0, 5 };
	while (pt_partition(added.id) % parts % 2 == 0)
		added.id++;
	std::vector<std::string> pt_beside;
	for (int64_t id = added.id + 1; static_cast<int>(pt_beside.size()) < others; id++)
		if (pt_partition(id) == pt_partition(added.id))
			pt_beside.push_back(std::to_string(id));
	REQUIRE(sc_struct_add(a, type.c_str(), &added) == 0);
	CHECK(read_without_hop(nodes, pt_beside, [&](const std::string &k) {
		      point got = { std::stoll(k), 0 };
		      CHECK(sc_struct_get(a, type.c_str(), &got, &got) == -ENOENT);
	      }) >= others - 1);
	before = nodes.coordinator.requests;
	point got = { added.id, 0 };
	REQUIRE(sc_struct_get(a, type.c_str(), &got, &got) == 0);
	CHECK(got.x == 5);
	CHECK(nodes.coordinator.requests == before + 1);
}

TEST_CASE("read-your-writes: a handle reads back what it wrote through another node's primary, from its own "
	  "copy once the copy has it, from the primary until then; another handle reads the copy as it is",
	  "[forward]")
{
	TwoNodes nodes("fwd-ryw");
	Cache &a = nodes.a, &b = nodes.b;
	const std::string key = key_on_b(a, 0);
	const uint32_t part = partition_of(a, key);
	sc_tuples *out = nullptr;

	// Before a writes there, its reads of b's partition are its own copy's: no hop.
	int before = nodes.coordinator.requests;
	CHECK(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 0);
	CHECK(nodes.coordinator.requests == before);

	REQUIRE(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == 0);
	CHECK(sc_get(nodes.a_copy, SC_TUPLE(sc_str(key.c_str())), &out) == 0); // a's copy lacks it
	before = nodes.coordinator.requests;
	REQUIRE(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 1); // the writer's handle: b answers
	CHECK(out->tuples[0].fields[1].v.i == 1);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests == before + 1);
	// Every read of the partition, the one-partition calls and those over every partition alike.
	const sc_field k = sc_str(key.c_str());
	CHECK(sc_get_same_key_partition(a, k, &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get_by_match_object(a, nullptr, SC_TUPLE(sc_any(), sc_int(1)), &out) == 1);
	sc_tuples_free(out);
	int n = 0;
	CHECK(sc_scan(a, &k, count_tuple, &n) == 1);

	// b's log shipped to a's copy, as a coordinator would: now a's own copy answers, with no hop.
	std::vector<uint8_t> buf(1 << 20);
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(b, part, &st) == 0);
	uint64_t pos = st.head;
	const ssize_t len = sc_repl_read(b, part, &pos, buf.data(), buf.size());
	REQUIRE(len > 0);
	sc_repl_applied applied;
	INFO(sc_last_error());
	REQUIRE(sc_repl_apply(a, part, buf.data(), static_cast<size_t>(len), &applied) == 0);
	before = nodes.coordinator.requests;
	REQUIRE(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get(nodes.a_copy, SC_TUPLE(sc_str(key.c_str())), &out) == 1);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests == before);

	// KeyValue, Struct and queues the same way: the writer reads back what the primary holds.
	std::string ns;
	for (int i = 0; ns.empty(); i++) {
		const std::string name = "rywns" + std::to_string(i);
		REQUIRE(sc_kv_add(a, name.c_str(), sc_int(1), sc_int(7)) == 0);
		if (sc_kv_get(nodes.a_copy, name.c_str(), sc_int(1), nullptr, &out) == 0)
			ns = name; // on b
		sc_tuples_free(out);
	}
	REQUIRE(sc_kv_get(a, ns.c_str(), sc_int(1), nullptr, &out) == 1);
	CHECK(out->tuples[0].fields[0].v.i == 7);
	sc_tuples_free(out);
	const std::string q = name_on_b(a, b, "rywq", true);
	REQUIRE(sc_queue_add(a, q.c_str(), sc_int(3)) == 0);
	CHECK(sc_queue_count(nodes.a_copy, q.c_str()) == 0);
	CHECK(sc_queue_count(a, q.c_str()) == 1);
}

TEST_CASE(
	"read-your-writes on a node that became the primary without the write: a read there answers from its "
	"copy and never asks itself again (a fault the nemesis found)",
	"[forward]")
{
	SyncNodes nodes("fwd-ryw-moved");
	Cache &a = nodes.a, &b = nodes.b;
	FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &req) { return run_acked_on(b, req); });
	const std::string key = key_on_b(a, 0);
	sc_tuples *out = nullptr;
	// The put runs on b; before its acknowledgement b's reply waits, so the fake acknowledges first.
	REQUIRE(sc_repl_progress_write(b, partition_of(a, key), 1, 1) == 0);
	const int put = sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1)));
	REQUIRE((put == 0 || put == -ETIMEDOUT));

	// Then the map names a the primary of every partition, under a newer epoch, and a's copy never
	// got the write (a failover that lost it). a's handle owes that partition its write, which a's
	// copy cannot give: reads there are a's copy's all the same, the primary's, and answer at once.
	write_map(a, 0, 0, 101);
	const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
	INFO(sc_last_error());
	CHECK(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &primary, &out) == 0);
	CHECK(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 0);
}

TEST_CASE("read-your-writes of a write made here: once this node's copy lost it in a failover, the handle "
	  "asks the new primary",
	  "[forward]")
{
	SyncNodes nodes("fwd-ryw-local");
	Cache &a = nodes.a, &b = nodes.b;
	FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &req) { return run_acked_on(b, req); });
	std::string key;
	for (int k = 0; key.empty(); k++)
		if (partition_of(a, "k" + std::to_string(k)) % 2 == 0)
			key = "k" + std::to_string(k);
	const uint32_t log = partition_of(a, key);

	// A write on a, its primary: acknowledged ahead, as a's in-sync replicas would.
	REQUIRE(sc_repl_progress_write(a, log, 1, 1) == 0);
	REQUIRE(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == 0);
	sc_tuples *out = nullptr;
	const int before = coordinator.requests;
	CHECK(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 1); // a's copy has it: no hop
	sc_tuples_free(out);
	CHECK(coordinator.requests == before);

	// The failover: b is named primary of every partition under epoch 101, with the write (made again
	// there, as if shipped), and a's copy of the partition starts over without it.
	write_map(a, 0, 1, 101);
	write_map(b, 1, 1, 101);
	REQUIRE(sc_repl_progress_write(b, log, 1, 1) == 0);
	REQUIRE(sc_put(b, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == 0);
	REQUIRE(sc_repl_reset(a, log) >= 0);

	// a's handle reads it back, from b; another handle on a reads a's copy as it is.
	CHECK(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 1);
	if (out && out->count == 1)
		CHECK(out->tuples[0].fields[1].v.i == 1);
	sc_tuples_free(out);
	CHECK(coordinator.requests > before);
	Copy copy(a);
	CHECK(sc_get(copy, SC_TUPLE(sc_str(key.c_str())), &out) == 0);
}
