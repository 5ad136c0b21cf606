// test_forward_reads.cpp — reads with a read mode made on a node that is not the primary: a primary read
// answered by the primary, a quorum read by the most advanced copy of a majority (replicas' replies bundled
// and checked as bytes), and reads over every partition each answered by its partition's primary.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "forward_rig.hpp"

using namespace sctest;

TEST_CASE("a primary read made on a node that is not the primary is answered by the primary", "[forward]")
{
	TwoNodes nodes("fwd-read");
	Cache &a = nodes.a, &b = nodes.b;
	const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
	const std::string on_b = key_on_b(a, 0);
	sc_tuples *out = nullptr;

	REQUIRE(sc_put(a, SC_TUPLE(sc_str(on_b.c_str()), sc_int(5), sc_str("five"))) == 0);
	CHECK(sc_get(nodes.a_copy, SC_TUPLE(sc_str(on_b.c_str())), &out) ==
	      0); // a's copy (nothing replicates)
	const int before = nodes.coordinator.requests;
	REQUIRE(sc_get_with(a, SC_TUPLE(sc_str(on_b.c_str())), &primary, &out) == 1);
	CHECK(nodes.coordinator.requests - before == 1);
	REQUIRE(out->count == 1);
	REQUIRE(out->tuples[0].nfields == 3);
	CHECK(out->tuples[0].fields[1].v.i == 5);
	CHECK(std::string(static_cast<const char *>(out->tuples[0].fields[2].v.p)) == "five");
	sc_tuples_free(out);
	CHECK(sc_get_with(a, SC_TUPLE(sc_str("k-missing-on-b")), &primary, &out) >= 0);
	sc_tuples_free(out);
	// On the primary itself: no hop.
	const int hops = nodes.coordinator.requests;
	CHECK(sc_get_with(b, SC_TUPLE(sc_str(on_b.c_str())), &primary, &out) == 1);
	sc_tuples_free(out);
	CHECK(nodes.coordinator.requests == hops);

	// The partition-addressed gets: the partition the data picks, and one named by index.
	const sc_field key = sc_str(on_b.c_str());
	CHECK(sc_get_by_key_partition_with(a, key, key, &primary, &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get_partition_with(a, key, key, &primary, &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get_same_key_partition_with(a, key, &primary, &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get_same_key_partition_with(nodes.a_copy, key, nullptr, &out) == 0); // a's copy
	CHECK(sc_get_partition_by_idx_with(a, key, partition_of(a, on_b), &primary, &out) == 1);
	sc_tuples_free(out);
	CHECK(sc_get_partition_by_idx_with(a, key, parts, &primary, &out) == -ERANGE);
	CHECK(sc_get_partition_by_idx_with(nodes.a_copy, key, partition_of(a, on_b), nullptr, &out) == 0);

	// KeyValue, queues and stacks whose home's primary is b: read there; a's own copy has none.
	const std::string q = name_on_b(a, b, "rq", true), st = name_on_b(a, b, "rs", false);
	REQUIRE(sc_queue_add(a, q.c_str(), sc_int(41)) == 0);
	REQUIRE(sc_queue_add(a, q.c_str(), sc_int(42)) == 0);
	REQUIRE(sc_stack_push(a, st.c_str(), sc_int(7)) == 0);
	CHECK(sc_queue_count(nodes.a_copy, q.c_str()) == 0);
	CHECK(sc_queue_count_with(a, q.c_str(), &primary) == 2);
	CHECK(sc_stack_count_with(a, st.c_str(), &primary) == 1);
	CHECK(sc_queue_peek_with(a, q.c_str(), nullptr, &primary, &out) == 1);
	REQUIRE(out != nullptr);
	CHECK(out->tuples[0].fields[0].v.i == 41);
	sc_tuples_free(out);
	const sc_field dflt = sc_int(-1);
	CHECK(sc_queue_peek_with(a, "empty queue", &dflt, &primary, &out) == 0);
	REQUIRE(out != nullptr);
	CHECK(out->tuples[0].fields[0].v.i == -1);
	sc_tuples_free(out);
	std::string ns;
	for (int i = 0; ns.empty(); i++) {
		const std::string n = "kvns" + std::to_string(i);
		REQUIRE(sc_kv_add(a, n.c_str(), sc_int(1), sc_int(100)) == 0);
		if (sc_kv_get(nodes.a_copy, n.c_str(), sc_int(1), nullptr, &out) == 0)
			ns = n; // b holds it, a does not
		sc_tuples_free(out);
	}
	CHECK(sc_kv_get_with(a, ns.c_str(), sc_int(1), nullptr, &primary, &out) == 1);
	REQUIRE(out != nullptr);
	CHECK(out->tuples[0].fields[0].v.i == 100);
	sc_tuples_free(out);
	CHECK(sc_kv_get_with(a, ns.c_str(), sc_int(2), &dflt, &primary, &out) == 0);
	REQUIRE(out != nullptr);
	CHECK(out->tuples[0].fields[0].v.i == -1);
	sc_tuples_free(out);
	CHECK(sc_kv_get_with(a, nullptr, sc_int(2), nullptr, &primary, &out) == -EINVAL);
	CHECK(sc_queue_count_with(a, nullptr, &primary) == -EINVAL);

	// Struct: a type registered on b, its structs added from a, which holds no copy of the type's
	// partition here (nothing replicates): a reads the geometry from the type's primary.
	struct pt {
		int64_t id, x;
	};
	std::string type;
	for (int i = 0; type.empty(); i++) {
		const std::string name = "type" + std::to_string(i);
		const int sent = nodes.coordinator.requests;
		REQUIRE(sc_struct_init(a, name.c_str(), sizeof(pt), 0, sizeof(int64_t)) == 0);
		if (nodes.coordinator.requests > sent)
			type = name;
	}
	for (int64_t id = 0; id < 16; id++) {
		const pt p = { id, id * 2 };
		INFO(sc_last_error());
		CHECK(sc_struct_add(a, type.c_str(), &p) == 0);
	}
	CHECK(sc_struct_remove_all(a, type.c_str()) == 16);
	const pt none = { 1, 1 };
	CHECK(sc_struct_add(a, "never registered", &none) == -ENXIO);

	// A forwarded read no read is, or of the wrong shape: refused.
	const sc_field one[] = { sc_int(1) };
	std::string msg;
	CHECK(serve(b, request(SC_FWD_READ, 1, 99, { { 1, one } }), &msg) == -EPROTO);
	CHECK(contains(msg.c_str(), "names read 99"));
	CHECK(serve(b, request(SC_FWD_READ, 1, SC_FWD_READ_KV_GET, { { 1, one } }), &msg) == -EPROTO);
	CHECK(serve(b, request(SC_FWD_READ, 1, SC_FWD_READ_QUEUE_COUNT, { { 1, one } }), &msg) == -EPROTO);
	CHECK(contains(msg.c_str(), "not a string"));
}

TEST_CASE(
	"a bundle of replicas' replies decodes whole; one cut short, miscounted or of a wrong head is refused",
	"[forward]")
{
	const sc_field f0[] = { sc_int(1), sc_int(2), sc_int(3), sc_int(4) }, f1[] = { sc_str("v") };
	const sc_tuple values[] = { { 4, f0 }, { 1, f1 } };
	std::vector<uint8_t> one = reply_bytes(1, nullptr, values, 2),
			     two = reply_bytes(0, nullptr, values, 1);
	auto bundle = [](const std::vector<std::vector<uint8_t>> &replies) {
		std::vector<uint8_t> b(sizeof(sc_forward_head));
		for (const auto &r : replies) {
			b.insert(b.end(), r.begin(), r.end());
			b.resize((b.size() + 7) / 8 * 8);
		}
		sc_forward_head h{};
		h.len = static_cast<uint32_t>(b.size());
		h.version = SC_FORWARD_VERSION;
		h.rc = static_cast<int32_t>(replies.size());
		std::memcpy(b.data(), &h, sizeof(h));
		return b;
	};
	std::vector<uint8_t> b = bundle({ one, two });
	sc_fwd_reply out[SC_MAX_REPLICATION_FACTOR];
	uint32_t n = 0;
	REQUIRE(sc_fwd_bundle_decode(b.data(), b.size(), out, &n) == 0);
	REQUIRE(n == 2);
	CHECK(out[0].rc == 1);
	REQUIRE(out[0].values.n == 2);
	sc_fwd_copy_position pos{};
	REQUIRE(sc_fwd_copy_position_of(&out[0].values.tuples[0], &pos) == 0);
	CHECK((pos.last_epoch == 1 && pos.last_lseq == 2 && pos.committed_lseq == 3 && pos.map_epoch == 4));
	CHECK(sc_fwd_copy_position_of(&out[0].values.tuples[1], &pos) == -EPROTO);
	CHECK(out[1].rc == 0);
	for (uint32_t i = 0; i < n; i++)
		sc_fwd_tuples_free(&out[i].values);

	// The coordinator's own error comes as a plain reply: decoded, with no replies.
	std::vector<uint8_t> err = reply_bytes(-ETIMEDOUT, "no majority", nullptr, 0);
	REQUIRE(sc_fwd_bundle_decode(err.data(), err.size(), out, &n) == 0);
	CHECK((n == 0 && out[0].rc == -ETIMEDOUT));

	// Every shorter length, a count past what it holds or past a replica set, and a head of a request.
	for (size_t len = 0; len < b.size(); len++) {
		std::vector<uint8_t> cut = cut_to(b, len);
		INFO("cut to " << len);
		CHECK(sc_fwd_bundle_decode(cut.data(), cut.size(), out, &n) == -EPROTO);
	}
	for (int32_t count : { 0, 3, static_cast<int32_t>(SC_MAX_REPLICATION_FACTOR) + 1 }) {
		std::vector<uint8_t> bad = b;
		std::memcpy(bad.data() + offsetof(sc_forward_head, rc), &count, sizeof(count));
		INFO("count " << count);
		CHECK(sc_fwd_bundle_decode(bad.data(), bad.size(), out, &n) == -EPROTO);
	}
	std::vector<uint8_t> bad = b;
	bad[offsetof(sc_forward_head, op)] = 1;
	CHECK(sc_fwd_bundle_decode(bad.data(), bad.size(), out, &n) == -EPROTO);
}

TEST_CASE(
	"a quorum read takes the most advanced copy a majority answers with, and asks the primary when that "
	"copy holds writes not known to be acknowledged",
	"[forward]")
{
	SyncNodes nodes("fwd-quorum");
	Cache &a = nodes.a, &b = nodes.b;
	std::atomic<int> bundles{ 0 }, primary_reads{ 0 };
	// a's coordinator: a quorum read's request goes to both copies (a majority of two is both), b's
	// first; a primary read to b, once b's in-sync replicas have every write (as they would).
	FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &req) {
		sc_forward_head h;
		std::memcpy(&h, req.data(), sizeof(h));
		if (h.op == SC_FWD_READ) {
			primary_reads++;
			sc_repl_state st;
			REQUIRE(sc_repl_state_read(b, h.partition, &st) == 0);
			REQUIRE(sc_repl_progress_write(b, h.partition, st.last_lseq, st.last_lseq) == 0);
			return run_on(b, req);
		}
		REQUIRE(h.op == SC_FORWARD_OP_EVERY_REPLICA);
		bundles++;
		std::vector<uint8_t> out(sizeof(sc_forward_head));
		for (sc_cache *c : { b.get(), a.get() }) {
			std::vector<uint8_t> r = run_on(c, req);
			out.insert(out.end(), r.begin(), r.end());
			out.resize((out.size() + 7) / 8 * 8);
		}
		sc_forward_head bh{};
		bh.len = static_cast<uint32_t>(out.size());
		bh.version = SC_FORWARD_VERSION;
		bh.rc = 2;
		std::memcpy(out.data(), &bh, sizeof(bh));
		return out;
	});
	const sc_read_opts quorum = { SC_READ_QUORUM, 0 };
	const std::string key = key_on_b(a, 0);
	const uint32_t part = partition_of(a, key);
	sc_tuples *out = nullptr;

	// b, the primary, holds a write a's copy lacks (nothing replicates here), acknowledged: b's copy wins.
	REQUIRE(sc_put(b, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -ETIMEDOUT); // no replica acked it
	sc_repl_state st;
	REQUIRE(sc_repl_state_read(b, part, &st) == 0);
	REQUIRE(sc_repl_progress_write(b, part, st.last_lseq, st.last_lseq) == 0);
	CHECK(sc_get(a, SC_TUPLE(sc_str(key.c_str())), &out) == 0);
	INFO(sc_last_error());
	REQUIRE(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &quorum, &out) == 1);
	CHECK(out->tuples[0].fields[1].v.i == 1);
	sc_tuples_free(out);
	CHECK((bundles == 1 && primary_reads == 0));

	// A second write b's in-sync replicas have not acknowledged: the most advanced copy holds it, so the
	// primary answers, once it is acknowledged.
	REQUIRE(sc_put(b, SC_TUPLE(sc_str(key.c_str()), sc_int(2))) == -ETIMEDOUT);
	REQUIRE(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &quorum, &out) == 1);
	CHECK(out->tuples[0].fields[1].v.i == 2);
	sc_tuples_free(out);
	CHECK((bundles == 2 && primary_reads == 1));

	// Counts and KeyValue take the same path. A replica's part says where its copy stands; one for a
	// struct type's geometry, which is the primary's to say, is refused.
	CHECK(sc_queue_count_with(a, "no such queue", &quorum) == 0);
	CHECK(sc_kv_get_with(a, "ns", sc_int(1), nullptr, &quorum, &out) == 0);
	sc_tuples_free(out);
	const sc_field k[] = { sc_str(key.c_str()) };
	std::vector<uint8_t> copy_req = request(SC_FWD_READ_COPY, part, SC_FWD_READ_GET, { { 1, k } });
	std::vector<uint8_t> copy = run_on(b, copy_req);
	sc_fwd_reply r;
	REQUIRE(sc_fwd_reply_decode(copy.data(), copy.size(), &r) == 0);
	CHECK(r.rc == 1);
	REQUIRE(r.values.n == 2);
	sc_fwd_copy_position pos{};
	REQUIRE(sc_fwd_copy_position_of(&r.values.tuples[0], &pos) == 0);
	CHECK((pos.map_epoch == 100 && pos.last_lseq >= 2 && pos.committed_lseq == pos.last_lseq));
	sc_fwd_tuples_free(&r.values);
	std::string msg;
	CHECK(serve(b, request(SC_FWD_READ_COPY, 1, SC_FWD_READ_STRUCT_TYPE, { { 1, k } }), &msg) == -EPROTO);
}

TEST_CASE(
	"reads over every partition with a read mode: matches, scans, KeyValue listings and Struct reads are "
	"answered by each partition's primary",
	"[forward]")
{
	for (uint32_t type : { SC_SET, SC_ORDERED_SET }) {
		INFO("table type " << type);
		sc_options o = forward_options();
		o.table_type = type;
		Cache a(unique_name("fwd-every-a"), o), b(unique_name("fwd-every-b"), o);
		start_both(a, b);
		FakeCoordinator coordinator(a,
					    [&](const std::vector<uint8_t> &req) { return run_on(b, req); });
		const Copy a_copy(a); // a's copy, read by a handle that wrote nothing
		const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
		// Keys in every partition, written from a: b's (odd partitions) forwarded there and kept
		// only there, a's own only in a (nothing replicates here).
		int on_b = 0;
		for (int k = 0; k < 64; k++) {
			const std::string key = "e" + std::to_string(1000 + k);
			REQUIRE(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(k), sc_str("x"))) == 0);
			on_b += partition_of(a, key) % 2;
			REQUIRE(sc_kv_add(a, "every", sc_int(k), sc_int(-k)) == 0);
		}
		REQUIRE(on_b > 0);
		sc_tuples *out = nullptr;
		CHECK(sc_get_by_match_object(a_copy, nullptr, SC_TUPLE(sc_any(), sc_any(), sc_str("x")),
					     &out) == 64 - on_b);
		sc_tuples_free(out);
		INFO(sc_last_error());
		REQUIRE(sc_get_by_match_object_with(a, nullptr, SC_TUPLE(sc_any(), sc_any(), sc_str("x")),
						    &primary, &out) == 64);
		if (type == SC_ORDERED_SET)
			for (size_t i = 1; i < out->count; i++)
				CHECK(out->tuples[i - 1].fields[1].v.i < out->tuples[i].fields[1].v.i);
		sc_tuples_free(out);
		REQUIRE(sc_get_by_match_with(a, nullptr, SC_TUPLE(sc_any(), sc_capture(1), sc_any()),
					     &primary, &out) == 64);
		REQUIRE(out->tuples[0].nfields == 1);
		if (type == SC_ORDERED_SET)
			for (size_t i = 1; i < out->count; i++)
				CHECK(out->tuples[i - 1].fields[0].v.i < out->tuples[i].fields[0].v.i);
		sc_tuples_free(out);
		// One partition, picked by data: its primary alone.
		const sc_field pick = sc_str("e1001");
		const int one = sc_get_by_match_object_with(a, &pick, SC_TUPLE(sc_any(), sc_any(), sc_any()),
							    &primary, &out);
		CHECK(one >= 1);
		sc_tuples_free(out);
		int visited = 0;
		CHECK(sc_scan_with(a, nullptr, count_tuple, &visited, &primary) == 64);
		CHECK(visited == 64);
		CHECK(sc_scan_with(a, nullptr, nullptr, &visited, &primary) == -EINVAL);

		CHECK(sc_kv_count(a_copy, "every") < 64);
		CHECK(sc_kv_count(a, "every") == 64); // the writer's own handle: read where it wrote
		CHECK(sc_kv_count_with(a, "every", &primary) == 64);
		REQUIRE(sc_kv_keys_with(a, "every", &primary, &out) == 64);
		CHECK(out->tuples[0].nfields == 1);
		sc_tuples_free(out);
		REQUIRE(sc_kv_values_with(a, "every", &primary, &out) == 64);
		int64_t sum = 0;
		for (size_t i = 0; i < out->count; i++)
			sum += out->tuples[i].fields[0].v.i;
		CHECK(sum == -(63 * 64 / 2));
		sc_tuples_free(out);
		REQUIRE(sc_kv_to_list_with(a, "every", &primary, &out) == 64);
		CHECK(out->tuples[0].nfields == 2);
		sc_tuples_free(out);
		CHECK(sc_kv_keys_with(a, "every", &primary, nullptr) == -EINVAL);

		struct pt {
			int64_t id, x;
		};
		REQUIRE(sc_struct_init(a, "everypt", sizeof(pt), 0, sizeof(int64_t)) == 0);
		for (int64_t id = 0; id < 32; id++) {
			const pt p = { id, 10 * id };
			REQUIRE(sc_struct_add(a, "everypt", &p) == 0);
		}
		void *all = nullptr;
		REQUIRE(sc_struct_get_all_with(a, "everypt", &primary, &all) == 32);
		int64_t xs = 0;
		for (int i = 0; i < 32; i++)
			xs += static_cast<pt *>(all)[i].x;
		CHECK(xs == 10 * (31 * 32 / 2));
		sc_struct_free(all);
		for (int64_t id = 0; id < 32; id++) {
			const pt key = { id, 0 };
			pt got{};
			INFO(id << ": " << sc_last_error());
			REQUIRE(sc_struct_get_with(a, "everypt", &key, &primary, &got) == 0);
			CHECK(got.x == 10 * id);
		}
		const pt missing = { 99, 0 };
		pt got{};
		CHECK(sc_struct_get_with(a, "everypt", &missing, &primary, &got) == -ENOENT);
		CHECK(sc_struct_get_with(a, "no such type", &missing, &primary, &got) == -ENXIO);
	}
}
