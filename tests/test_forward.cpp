// test_forward.cpp — forwarded writes in the library: requests and replies as bytes, a request run on the
// primary (sc_forward_serve), and the client over a real unix socket next to the segment, served by a thread
// of this test standing in for the coordinator (the cluster tests run the real one).
#include <catch2/catch.hpp>

#include <algorithm>
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

#include "forward_rig.hpp"

using namespace sctest;

TEST_CASE("a forwarded request keeps every kind of field, and one cut short or changed anywhere is refused",
	  "[forward]")
{
	const char bytes[] = { 'a', 0, 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	const sc_field any = sc_any(), capture = sc_capture(3);
	const sc_field f0[] = { sc_int(-7), sc_dbl(2.5), sc_bytes(bytes, sizeof(bytes)), sc_bytes("", 0) };
	const sc_field f1[] = { any, capture };
	std::vector<sc_tuple> in = { { 4, f0 }, { 2, f1 }, { 0, nullptr } };
	std::vector<uint8_t> req = request(SC_FWD_PUT_BATCH, 3, 42, in);

	struct sc_fwd_request r;
	REQUIRE(sc_fwd_request_decode(req.data(), req.size(), &r) == 0);
	CHECK(r.op == SC_FWD_PUT_BATCH);
	CHECK(r.partition == 3);
	CHECK(r.arg == 42);
	REQUIRE(r.ntuples == 3);
	for (uint32_t i = 0; i < 3; i++) {
		REQUIRE(r.tuples[i].nfields == in[i].nfields);
		for (uint32_t j = 0; j < in[i].nfields; j++) {
			const sc_field &a = in[i].fields[j], &b = r.tuples[i].fields[j];
			CHECK(a.type == b.type);
			CHECK(a.len == b.len);
			if (a.type == SC_FIELD_BYTES)
				CHECK(std::memcmp(a.v.p, b.v.p, a.len) == 0);
			else
				CHECK(a.v.i == b.v.i);
		}
	}
	sc_fwd_request_free(&r);

	// Every shorter length.
	for (size_t n = 0; n < req.size(); n++) {
		std::vector<uint8_t> cut = cut_to(req, n);
		INFO("cut to " << n << " bytes");
		CHECK(sc_fwd_request_decode(cut.data(), cut.size(), &r) == -EPROTO);
	}
	// Each byte changed: refused, or decoded within the buffer (the sanitizers watch the reads).
	int refused = 0;
	for (size_t i = 0; i < req.size(); i++) {
		std::vector<uint8_t> bad = req;
		bad[i] ^= 0x81;
		int e = sc_fwd_request_decode(bad.data(), bad.size(), &r);
		if (e == 0)
			sc_fwd_request_free(&r);
		else
			CHECK(e == -EPROTO);
		refused += e != 0;
	}
	CHECK(refused > static_cast<int>(req.size()) / 2);
	CHECK(contains(sc_last_error(), "forwarded request"));
}

TEST_CASE("a reply carries its message and a take's values; one cut short or changed anywhere is refused",
	  "[forward]")
{
	const char bytes[] = { 'x', 0, 'y' };
	const sc_field f0[] = { sc_bytes(bytes, sizeof(bytes)) }, f1[] = { sc_dbl(-1.5) },
		       f2[] = { sc_int(9) };
	const sc_tuple values[] = { { 1, f0 }, { 1, f1 }, { 1, f2 } };
	void *buf = nullptr;
	size_t len = 0;
	REQUIRE(sc_fwd_reply_encode(-ETIMEDOUT, "not acknowledged", values, 3, &buf, &len) == 0);
	std::vector<uint8_t> reply(static_cast<uint8_t *>(buf), static_cast<uint8_t *>(buf) + len);
	free(buf);

	sc_fwd_reply r;
	REQUIRE(sc_fwd_reply_decode(reply.data(), reply.size(), &r) == 0);
	CHECK(r.rc == -ETIMEDOUT);
	CHECK(std::string(r.msg, r.msg_len) == "not acknowledged");
	REQUIRE(r.has_values);
	REQUIRE(r.values.n == 3);
	CHECK(r.values.tuples[0].fields[0].len == 3);
	CHECK(std::memcmp(r.values.tuples[0].fields[0].v.p, bytes, 3) == 0);
	CHECK(r.values.tuples[1].fields[0].v.d == -1.5);
	CHECK(r.values.tuples[2].fields[0].v.i == 9);
	sc_fwd_tuples_free(&r.values);

	// Where the call wrote travels with the reply.
	const sc_log_position at[] = { { 3, 17, 1000 }, { 9, 18, 5 } };
	REQUIRE(sc_fwd_reply_encode_written(0, nullptr, at, 2, values, 1, &buf, &len) == 0);
	REQUIRE(sc_fwd_reply_decode(buf, len, &r) == 0);
	REQUIRE(r.nwritten == 2);
	CHECK((sc_fwd_reply_written(&r, 1).log == 9 && sc_fwd_reply_written(&r, 1).epoch == 18 &&
	       sc_fwd_reply_written(&r, 1).lseq == 5));
	CHECK(sc_fwd_reply_written(&r, 0).lseq == 1000);
	CHECK((r.has_values && r.values.n == 1));
	sc_fwd_tuples_free(&r.values);
	free(buf);

	// No values at all, and an empty list of them, are told apart.
	REQUIRE(sc_fwd_reply_encode(0, nullptr, values, 0, &buf, &len) == 0);
	REQUIRE(sc_fwd_reply_decode(buf, len, &r) == 0);
	CHECK((r.has_values && r.values.n == 0 && r.msg_len == 0));
	sc_fwd_tuples_free(&r.values);
	free(buf);
	REQUIRE(sc_fwd_reply_encode(1, nullptr, nullptr, 0, &buf, &len) == 0);
	REQUIRE(sc_fwd_reply_decode(buf, len, &r) == 0);
	CHECK((r.rc == 1 && !r.has_values));
	free(buf);

	// Every shorter length, as above.
	for (size_t n = 0; n < reply.size(); n++) {
		std::vector<uint8_t> cut = cut_to(reply, n);
		INFO("cut to " << n << " bytes");
		int e = sc_fwd_reply_decode(cut.data(), cut.size(), &r);
		// Cut after where its writes went (none: 8 bytes after the message's padded end), it is a reply
		// without values: anywhere else, none.
		if (e == 0) {
			CHECK(!r.has_values);
			CHECK(n == sizeof(sc_forward_head) + 16 + 8);
		} else {
			CHECK(e == -EPROTO);
		}
	}
	int refused = 0;
	for (size_t i = 0; i < reply.size(); i++) {
		std::vector<uint8_t> bad = reply;
		bad[i] ^= 0x81;
		int e = sc_fwd_reply_decode(bad.data(), bad.size(), &r);
		if (e == 0)
			sc_fwd_tuples_free(&r.values);
		else
			CHECK(e == -EPROTO);
		refused += e != 0;
	}
	CHECK(refused > static_cast<int>(reply.size()) / 3);
}

TEST_CASE("sc_forward_serve runs a request as its partition's primary and answers with the call's result and "
	  "message",
	  "[forward]")
{
	Cache b(unique_name("fwd-serve"), forward_options());
	REQUIRE(b.start_error() == 0);
	write_map(b, 1);
	const std::string key = key_on_b(b, 0);
	const sc_field kf[] = { sc_str(key.c_str()), sc_int(7) };

	CHECK(serve(b, request(SC_FWD_PUT, 1, 0, { { 2, kf } })) == 0);
	sc_tuples *got = nullptr;
	REQUIRE(sc_get(b, SC_TUPLE(sc_str(key.c_str())), &got) == 1);
	sc_tuples_free(got);
	CHECK(serve(b, request(SC_FWD_DELETE, 1, 0, { { 1, kf } })) == 1);

	// KeyValue pairs go by their own partitions: b takes those it is primary of, and refuses the others.
	int taken = 0;
	for (int i = 0; i < 16; i++) {
		const sc_field kv[] = { sc_str("ns"), sc_int(i), sc_int(9) };
		const int rc = serve(b, request(SC_FWD_KV_ADD, 1, 0, { { 3, kv } }));
		CHECK((rc == 0 || rc == -EAGAIN));
		taken += rc == 0;
	}
	CHECK(taken > 0);
	CHECK(sc_kv_count(b, "ns") == taken);

	// The call's own refusal travels back with its message.
	std::string msg;
	const sc_field none[] = { sc_int(1) };
	CHECK(serve(b, request(SC_FWD_KV_ADD, 1, 0, { { 1, none } }), &msg) == -EPROTO);
	CHECK(msg.find("shape") != std::string::npos);
	std::vector<uint8_t> unknown = request(SC_FWD_PUT, 1, 0, { { 2, kf } });
	uint16_t op = 99;
	std::memcpy(unknown.data() + offsetof(sc_forward_head, op), &op, sizeof(op));
	CHECK(serve(b, unknown, &msg) == -EPROTO);
	CHECK(msg.find("call 99") != std::string::npos);

	// A key of node a's partition: b does not forward it again; the write is not applied.
	std::string on_a;
	for (int k = 0; on_a.empty(); k++)
		if (partition_of(b, "a" + std::to_string(k)) % 2 == 0)
			on_a = "a" + std::to_string(k);
	const sc_field af[] = { sc_str(on_a.c_str()), sc_int(1) };
	CHECK(serve(b, request(SC_FWD_PUT, 0, 0, { { 2, af } }), &msg) == -EAGAIN);
	CHECK(msg.find("not applied") != std::string::npos);
	CHECK(sc_get(b, SC_TUPLE(sc_str(on_a.c_str())), &got) == 0);
	// Nor is a batch split here: one with a key of a's is refused whole, b's key not written either.
	const std::string mine = key_on_b(b, 5000);
	const sc_field bf[] = { sc_str(mine.c_str()), sc_int(2) };
	CHECK(serve(b, request(SC_FWD_PUT_BATCH, 1, 0, { { 2, bf }, { 2, af } }), &msg) == -EAGAIN);
	CHECK(sc_get(b, SC_TUPLE(sc_str(mine.c_str())), &got) == 0);
	CHECK(sc_get(b, SC_TUPLE(sc_str(on_a.c_str())), &got) == 0);
}

TEST_CASE(
	"the library forwards a write whose primary is another node through the socket next to the segment, "
	"and returns the primary's answer",
	"[forward]")
{
	TwoNodes nodes("fwd");
	Cache &a = nodes.a, &b = nodes.b;
	FakeCoordinator &coordinator = nodes.coordinator;

	// Puts, a delete, KeyValue calls and a batch over both nodes' partitions, from a.
	std::vector<std::string> keys;
	for (int i = 0; i < 20; i++) {
		keys.push_back(key_on_b(a, i * 1000));
		REQUIRE(sc_put(a, SC_TUPLE(sc_str(keys.back().c_str()), sc_int(i))) == 0);
	}
	for (const auto &k : keys) {
		sc_tuples *got = nullptr;
		CHECK(sc_get(b, SC_TUPLE(sc_str(k.c_str())), &got) == 1); // on the primary
		sc_tuples_free(got);
		CHECK(sc_get(nodes.a_copy, SC_TUPLE(sc_str(k.c_str())), &got) ==
		      0); // never applied here first
		// The writer's own handle reads it back: its copy lacks it, so b, the primary, answers.
		const int before = coordinator.requests;
		CHECK(sc_get(a, SC_TUPLE(sc_str(k.c_str())), &got) == 1);
		sc_tuples_free(got);
		CHECK(coordinator.requests == before + 1);
	}
	CHECK(sc_delete(a, SC_TUPLE(sc_str(keys[0].c_str()))) == 1);
	CHECK(sc_put_ttl(a, SC_TUPLE(sc_str(keys[1].c_str()), sc_int(1)), 60000) == 0);
	uint64_t ttl = 0;
	CHECK(sc_ttl(b, SC_TUPLE(sc_str(keys[1].c_str())), &ttl) == 1);
	CHECK((ttl > 0 && ttl <= 60000));
	int kv_on_b = 0;
	for (int i = 0; i < 40; i++)
		CHECK(sc_kv_add(a, "ns", sc_int(i), sc_int(i)) == 0);
	kv_on_b = sc_kv_count(b, "ns");
	CHECK(kv_on_b > 0);
	CHECK(kv_on_b + sc_kv_count(nodes.a_copy, "ns") == 40);
	CHECK(sc_kv_count(a, "ns") == 40); // the writer's own count: by each partition's primary

	// KeyValue batches: each node's share goes to it; a removal counts over both.
	std::vector<sc_kv_pair> pairs;
	std::vector<sc_field> kv_keys;
	for (int i = 0; i < 40; i++) {
		pairs.push_back({ sc_int(1000 + i), sc_int(i) });
		kv_keys.push_back(sc_int(1000 + i));
	}
	REQUIRE(sc_kv_add_batch(a, "nb", pairs.data(), pairs.size()) == 0);
	CHECK(sc_kv_count(nodes.a_copy, "nb") > 0);
	CHECK(sc_kv_count(b, "nb") > 0);
	CHECK(sc_kv_count(nodes.a_copy, "nb") + sc_kv_count(b, "nb") == 40);
	CHECK(sc_kv_remove_batch(a, "nb", kv_keys.data(), kv_keys.size()) == 40);
	CHECK(sc_kv_count(nodes.a_copy, "nb") + sc_kv_count(b, "nb") == 0);

	// A batch: a's share stays here, b's is forwarded; every tuple lands once.
	std::vector<std::string> bk;
	std::vector<sc_field> bf;
	std::vector<sc_tuple> batch;
	for (int i = 0; i < 32; i++)
		bk.push_back("batch" + std::to_string(i));
	bf.reserve(64);
	for (const auto &k : bk) {
		bf.push_back(sc_str(k.c_str()));
		bf.push_back(sc_int(1));
		batch.push_back({ 2, &bf[bf.size() - 2] });
	}
	REQUIRE(sc_put_batch(a, batch.data(), batch.size()) == 0);
	for (const auto &k : bk) {
		sc_tuples *got = nullptr;
		const bool on_b = partition_of(a, k) % 2 == 1;
		CHECK(sc_get(on_b ? b.get() : a.get(), SC_TUPLE(sc_str(k.c_str())), &got) == 1);
		sc_tuples_free(got);
	}
	// The primary's refusal, and its message, come back as they were.
	std::string big(SC_REPL_ENTRY_MAX, 'x');
	CHECK(sc_put(a, SC_TUPLE(sc_str(keys[2].c_str()), sc_str(big.c_str()))) == -EFBIG);
	CHECK(contains(sc_last_error(), "log entry"));
	CHECK(coordinator.requests > 20);
}

namespace
{
struct point {
	int64_t id;
	int64_t x;
};

bool found(sc_cache *c, const std::string &key)
{
	sc_tuples *got = nullptr;
	const int n = sc_get(c, SC_TUPLE(sc_str(key.c_str())), &got);
	sc_tuples_free(got);
	return n == 1;
}

// How many of keys are found on their primary (a for even partitions, b for odd), and none elsewhere.
int on_their_primary(sc_cache *a, sc_cache *b, const std::vector<std::string> &keys)
{
	int n = 0;
	for (const auto &k : keys) {
		const bool on_b = partition_of(a, k) % 2 == 1;
		n += found(on_b ? b : a, k);
		CHECK(!found(on_b ? a : b, k));
	}
	return n;
}
} // namespace

TEST_CASE(
	"calls over every partition, Struct calls and buffered puts made on a node that is primary of half the "
	"partitions: each partition's share runs on its primary, and the counts add up",
	"[forward]")
{
	TwoNodes nodes("fwd-all");
	Cache &a = nodes.a, &b = nodes.b;
	FakeCoordinator &coordinator = nodes.coordinator;

	// Buffered puts, flushed from a: each partition's tuples land on its primary.
	std::vector<std::string> keys;
	for (int i = 0; i < 64; i++) {
		keys.push_back("lazy" + std::to_string(i));
		REQUIRE(sc_lazy_put(a, SC_TUPLE(sc_str(keys.back().c_str()), sc_int(i % 4))) == 0);
	}
	REQUIRE(sc_flush(a) == 0);
	CHECK(on_their_primary(nodes.a_copy, b, keys) == 64);

	// By pattern, over every partition and in one of b's: the matches on both nodes, counted together.
	int zeros_on_b = 0;
	for (int i = 0; i < 64; i += 4)
		zeros_on_b += partition_of(a, keys[i]) % 2 == 1;
	REQUIRE(zeros_on_b > 0);
	const sc_field in_b = sc_str(keys[1].c_str()); // partition_data picks the key's partition
	const int ones_there = [&] {
		int n = 0;
		for (int i = 1; i < 64; i += 4)
			n += partition_of(a, keys[i]) == partition_of(a, keys[1]);
		return n;
	}();
	CHECK(sc_delete_by_match(a, nullptr, SC_TUPLE(sc_any(), sc_int(0))) == 16);
	CHECK(sc_delete_by_match(a, &in_b, SC_TUPLE(sc_any(), sc_int(1))) == ones_there);
	CHECK(on_their_primary(nodes.a_copy, b, keys) == 48 - ones_there);
	// Everything: b's partitions emptied by b.
	CHECK(sc_delete_all(a) == 0);
	CHECK(on_their_primary(nodes.a_copy, b, keys) == 0);

	// KeyValue's remove_all over both nodes' structure partitions.
	for (int i = 0; i < 40; i++)
		REQUIRE(sc_kv_add(a, "ns", sc_int(i), sc_int(i)) == 0);
	CHECK(sc_kv_count(b, "ns") > 0);
	CHECK(sc_kv_remove_all(a, "ns") == 40);
	CHECK(sc_kv_count(a, "ns") + sc_kv_count(b, "ns") == 0);

	// Struct: the type is registered on its primary (forwarded when that is b); the node without a copy
	// of the type's partition reads its geometry from there.
	REQUIRE(sc_struct_init(a, "point", sizeof(point), offsetof(point, id), sizeof(int64_t)) == 0);
	CHECK(sc_struct_init(a, "point", sizeof(point), 0, 4) == -EEXIST);
	void *all = nullptr;

	for (int64_t id = 0; id < 32; id++) {
		const point pt = { id, id * 10 };
		REQUIRE(sc_struct_add(a, "point", &pt) == 0);
	}
	const int structs_on_a = sc_struct_get_all(nodes.a_copy, "point", &all);
	sc_struct_free(all);
	const int structs_on_b = sc_struct_get_all(b, "point", &all);
	sc_struct_free(all);
	CHECK(structs_on_a > 0);
	CHECK(structs_on_b > 0);
	CHECK(structs_on_a + structs_on_b == 32);
	for (int64_t id = 0; id < 8; id++) {
		const point key = { id, 0 };
		CHECK(sc_struct_remove(a, "point", &key) == 1);
	}
	CHECK(sc_struct_remove_all(a, "point") == 24);

	// A struct whose geometry is none, or not its type's, from a peer: refused, nothing written.
	const char bytes[24] = { 1 };
	const sc_field none_such[] = { sc_str("point"), sc_bytes(bytes, 3), sc_int(0), sc_int(8) };
	const sc_field other[] = { sc_str("point"), sc_bytes(bytes, 24), sc_int(0), sc_int(8) };
	std::string msg;
	for (uint32_t p = 0; p < parts; p++) {
		CHECK(serve(b, request(SC_FWD_STRUCT_ADD, p, 0, { { 4, none_such } }), &msg) == -EPROTO);
		CHECK(contains(msg.c_str(), "3 bytes, a key of 8 bytes"));
		CHECK(serve(b, request(SC_FWD_STRUCT_ADD, p, 0, { { 4, other } }), &msg) == -EPROTO);
		CHECK(contains(msg.c_str(), "registered geometry"));
	}
	CHECK(sc_struct_get_all(b, "point", &all) == 0);
	sc_struct_free(all);
	// A partition index past the cache's, and one whose primary is a: refused, nothing run.
	CHECK(serve(b, request(SC_FWD_CLEAR_PART, 1, parts, {})) == -ERANGE);
	CHECK(serve(b, request(SC_FWD_CLEAR_PART, 0, 0, {}), &msg) == -EAGAIN);
	const sc_field ns[] = { sc_str("ns") };
	CHECK(serve(b, request(SC_FWD_KV_REMOVE_ALL_PART, 0, 1ull << 40, { { 1, ns } })) == -ERANGE);
	CHECK(coordinator.requests > 0);
}

// The values of a take's result, as ints.
std::vector<int64_t> ints(sc_tuples *t)
{
	std::vector<int64_t> v;
	for (size_t i = 0; t && i < t->count; i++)
		v.push_back(t->tuples[i].fields[0].v.i);
	sc_tuples_free(t);
	return v;
}

TEST_CASE(
	"queue and stack calls made on a node that is not their primary run there, and takes bring the values "
	"back",
	"[forward]")
{
	TwoNodes nodes("fwd-seq");
	Cache &a = nodes.a, &b = nodes.b;
	const std::string q = name_on_b(a, b, "q", true), s = name_on_b(a, b, "s", false);
	const int before = nodes.coordinator.requests;

	for (int64_t i = 1; i <= 5; i++) {
		REQUIRE(sc_queue_add(a, q.c_str(), sc_int(i)) == 0);
		REQUIRE(sc_stack_push(a, s.c_str(), sc_int(i)) == 0);
	}
	CHECK(sc_queue_count(nodes.a_copy, q.c_str()) == 0); // nothing applied here first
	CHECK(sc_queue_count(b, q.c_str()) == 5);
	CHECK(sc_stack_count(b, s.c_str()) == 5);

	sc_tuples *out = nullptr;
	CHECK(sc_queue_out(a, q.c_str(), nullptr, &out) == 1);
	CHECK(ints(out) == std::vector<int64_t>{ 1 });
	CHECK(sc_stack_pop(a, s.c_str(), nullptr, &out) == 1);
	CHECK(ints(out) == std::vector<int64_t>{ 5 });
	CHECK(sc_queue_get_all(a, q.c_str(), &out) == 4);
	CHECK(ints(out) == std::vector<int64_t>{ 2, 3, 4, 5 });
	CHECK(sc_stack_get_all(a, s.c_str(), &out) == 4);
	CHECK(ints(out) == std::vector<int64_t>{ 4, 3, 2, 1 });

	// Empty: the default comes back as the primary gave it, bytes and all; with none, NULL.
	const char dflt_bytes[] = { 'e', 0, 'm', 'p', 't', 'y' };
	const sc_field dflt = sc_bytes(dflt_bytes, sizeof(dflt_bytes));
	CHECK(sc_queue_out(a, q.c_str(), &dflt, &out) == 0);
	REQUIRE(out != nullptr);
	REQUIRE(out->count == 1);
	CHECK(out->tuples[0].fields[0].len == sizeof(dflt_bytes));
	CHECK(std::memcmp(out->tuples[0].fields[0].v.p, dflt_bytes, sizeof(dflt_bytes)) == 0);
	sc_tuples_free(out);
	CHECK(sc_stack_pop(a, s.c_str(), nullptr, &out) == 0);
	CHECK(out == nullptr);
	CHECK(sc_queue_get_all(a, q.c_str(), &out) == 0);
	CHECK(out == nullptr);
	CHECK(nodes.coordinator.requests - before == 17);

	// A whole queue more than a reply holds: refused on the primary before anything is taken.
	const std::string big(60000, 'x');
	for (int i = 0; i < 20; i++)
		REQUIRE(sc_queue_add(a, q.c_str(), sc_str(big.c_str())) == 0);
	CHECK(sc_queue_get_all(a, q.c_str(), &out) == -E2BIG);
	CHECK(contains(sc_last_error(), "nothing was taken"));
	CHECK(out == nullptr);
	CHECK(sc_queue_count(b, q.c_str()) == 20);
	for (int i = 0; i < 20; i++) {
		REQUIRE(sc_queue_out(a, q.c_str(), nullptr, &out) == 1);
		CHECK(out->tuples[0].fields[0].len == big.size());
		sc_tuples_free(out);
	}

	// A take's request of the wrong shape, and a name that is not a string: refused, nothing taken.
	REQUIRE(sc_queue_add(a, q.c_str(), sc_int(7)) == 0);
	const sc_field three[] = { sc_str(q.c_str()), sc_int(1), sc_int(2) }, not_name[] = { sc_int(1) };
	std::string msg;
	CHECK(serve(b, request(SC_FWD_QUEUE_OUT, 0, 0, { { 3, three } }), &msg) == -EPROTO);
	CHECK(serve(b, request(SC_FWD_QUEUE_GET_ALL, 0, 0, { { 1, not_name } }), &msg) == -EPROTO);
	CHECK(contains(msg.c_str(), "not a string"));
	CHECK(sc_queue_count(b, q.c_str()) == 1);
}

TEST_CASE(
	"a forwarded write the coordinator does not answer fails with an error that says it may have happened",
	"[forward]")
{
	Cache a(unique_name("fwd-lost"), forward_options());
	REQUIRE(a.start_error() == 0);
	write_map(a, 0);
	const std::string key = key_on_b(a, 0);

	SECTION("the coordinator closes the connection")
	{
		FakeCoordinator coordinator(
			a, [](const std::vector<uint8_t> &) { return std::vector<uint8_t>(); });
		CHECK(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -ECONNRESET);
		CHECK(contains(sc_last_error(), "may or may not have happened"));
	}
	SECTION("the coordinator answers with bytes that are not a reply")
	{
		FakeCoordinator coordinator(a, [](const std::vector<uint8_t> &req) {
			std::vector<uint8_t> r = req; // a request is no reply
			return r;
		});
		CHECK(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -EPROTO);
	}
	SECTION("a read or a take answered with the coordinator's error, which carries no values; or with a "
		"success without them")
	{
		int rc = -EAGAIN;
		FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &) {
			return reply_bytes(rc, "no primary now", nullptr, 0);
		});
		const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
		sc_tuples *out = nullptr;
		CHECK(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &primary, &out) == -EAGAIN);
		CHECK(contains(sc_last_error(), "no primary now"));
		CHECK(out == nullptr);
		rc = 1;
		CHECK(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &primary, &out) == -EPROTO);
		CHECK(contains(sc_last_error(), "carries no values"));
		CHECK(out == nullptr);
	}
	SECTION("a read answered with a count its values do not match")
	{
		static const sc_tuple none[1] = {};
		FakeCoordinator coordinator(
			a, [&](const std::vector<uint8_t> &) { return reply_bytes(1, nullptr, none, 0); });
		const sc_read_opts primary = { SC_READ_PRIMARY, 0 };
		sc_tuples *out = nullptr;
		CHECK(sc_get_with(a, SC_TUPLE(sc_str(key.c_str())), &primary, &out) == -EPROTO);
		CHECK(out == nullptr);
	}
	SECTION("a reply cut short: the coordinator stops inside it")
	{
		FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &) {
			std::vector<uint8_t> r =
				reply_bytes(0, "a message the reply does not finish", nullptr, 0);
			r.resize(r.size() / 2);
			return r;
		});
		CHECK(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -ETIMEDOUT);
		CHECK(contains(sc_last_error(), "broke off"));
	}
	SECTION("the coordinator never answers: majority_timeout_ms and 3 s later")
	{
		std::atomic<bool> release{ false };
		FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &) {
			while (!release)
				std::this_thread::yield();
			return std::vector<uint8_t>();
		});
		const uint64_t t0 = clock_ms();
		CHECK(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -ETIMEDOUT);
		const uint64_t took = clock_ms() - t0;
		CHECK(took >= 3200);
		CHECK(took < 6000);
		CHECK(contains(sc_last_error(), "may or may not have happened"));
		release = true;
	}
	SECTION("no coordinator")
	{
		CHECK(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(1))) == -ENOENT);
		CHECK(contains(sc_last_error(), "no coordinator answers"));
	}
}
