// test_forward_kv.cpp — KeyValue's read-modify-writes forwarded: an increment made on a node that is not its
// partition's primary runs on the primary, which sends the new value back; an update_fn runs its function
// here, and the primary stores the result by compare-and-set. update and replace go to the primary as writes;
// get_all reads this node's copy, or the primary's while this handle's own write has not come back.
#include "forward_rig.hpp"

using namespace sctest;

namespace
{

// A key of namespace "n" whose partition's primary is node b: found by incrementing it from a and seeing
// which copy has it (each found this way is left at 1 on b).
std::string counter_on_b(TwoNodes &nodes)
{
	for (int i = 0;; i++) {
		const std::string key = "c" + std::to_string(i);
		sc_field out = {};
		REQUIRE(sc_kv_increment(nodes.a, "n", sc_str(key.c_str()), sc_int(0), sc_int(1), &out) == 0);
		sc_tuples *t = nullptr;
		const int on_b = sc_kv_get(nodes.b, "n", sc_str(key.c_str()), nullptr, &t);
		sc_tuples_free(t);
		if (on_b == 1)
			return key;
	}
}

int64_t value_in(sc_cache *c, const std::string &key)
{
	sc_tuples *t = nullptr;
	const int n = sc_kv_get(c, "n", sc_str(key.c_str()), nullptr, &t);
	const int64_t v = n == 1 ? t->tuples[0].fields[0].v.i : -1;
	sc_tuples_free(t);
	return v;
}

} // namespace

TEST_CASE("an increment made on a node that is not its partition's primary runs there and brings the new "
	  "value back",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-incr");
	Cache &a = nodes.a, &b = nodes.b;
	const std::string key = counter_on_b(nodes);
	const int before = nodes.coordinator.requests;
	sc_field out = {};

	for (int64_t want = 2; want <= 4; want++) {
		REQUIRE(sc_kv_increment(a, "n", sc_str(key.c_str()), sc_int(0), sc_int(1), &out) == 0);
		CHECK(out.type == SC_FIELD_INT);
		CHECK(out.v.i == want);
	}
	CHECK(nodes.coordinator.requests - before == 3);
	CHECK(value_in(b, key) == 4);
	CHECK(value_in(nodes.a_copy, key) == -1); // nothing applied here first

	// The primary's refusal comes back with its message, and nothing changes there.
	out = {};
	CHECK(sc_kv_increment(a, "n", sc_str(key.c_str()), sc_dbl(0), sc_dbl(1), &out) == -EINVAL);
	CHECK(contains(sc_last_error(), "the value is an int64, the step a double"));
	CHECK(out.type == 0);
	CHECK(value_in(b, key) == 4);

	// A request of the wrong shape is refused on the primary.
	const sc_field three[] = { sc_str("n"), sc_str(key.c_str()), sc_int(0) };
	std::string msg;
	CHECK(serve(b, request(SC_FWD_KV_INCREMENT, 0, 0, { { 3, three } }), &msg) == -EPROTO);
	CHECK(value_in(b, key) == 4);
}

TEST_CASE("an increment whose primary answers anything but one value of the step's type fails with -EPROTO",
	  "[forward][kv]")
{
	Cache a(unique_name("fwd-incr-bad-a"), forward_options()),
		b(unique_name("fwd-incr-bad-b"), forward_options());
	start_both(a, b);
	const sc_field dbl = sc_dbl(1.5), i = sc_int(1);
	const sc_tuple one_double = { 1, &dbl }, one_int = { 1, &i }, pair[] = { one_int, one_int };
	std::vector<std::vector<uint8_t>> answers = {
		reply_bytes(0, nullptr, nullptr, 0),	 // no values at all
		reply_bytes(0, nullptr, pair, 2),	 // two
		reply_bytes(0, nullptr, &one_double, 1), // a double for an int64 step
	};
	size_t next = 0;
	FakeCoordinator coordinator(a, [&](const std::vector<uint8_t> &) { return answers[next++]; });
	std::string key;
	for (int k = 0; key.empty(); k++) {
		// A key routed to an odd structure partition (b's): a's own increment is refused as remote.
		const std::string candidate = "bad" + std::to_string(k);
		sc_field out = {};
		const int before = coordinator.requests;
		const int rc = sc_kv_increment(a, "n", sc_str(candidate.c_str()), sc_int(0), sc_int(1), &out);
		if (coordinator.requests != before) {
			CHECK(rc == -EPROTO);
			key = candidate;
		} else {
			REQUIRE(rc == 0);
		}
	}
	for (; next < answers.size();) {
		sc_field out = {};
		CHECK(sc_kv_increment(a, "n", sc_str(key.c_str()), sc_int(0), sc_int(1), &out) == -EPROTO);
		CHECK(out.type == 0);
	}
}

namespace
{

// Adds 100 to the value; on its first call, a write on the primary gets in first (to 10).
struct Racer {
	sc_cache *primary;
	std::string key;
	int calls = 0;
};

int add_100_racing(const sc_field *current, void *arg, sc_field *next)
{
	auto *r = static_cast<Racer *>(arg);
	if (++r->calls == 1)
		REQUIRE(sc_kv_add(r->primary, "n", sc_str(r->key.c_str()), sc_int(10)) == 0);
	*next = sc_int(current->v.i + 100);
	return 0;
}

} // namespace

TEST_CASE("an update_fn made on a node that is not its partition's primary runs on the primary's value, "
	  "which the primary stores only if no write came between, else again",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-update");
	Cache &a = nodes.a, &b = nodes.b;
	const std::string key = counter_on_b(nodes); // 1 on b
	Racer racer{ b, key };
	sc_tuples *out = nullptr;

	REQUIRE(sc_kv_update_fn(a, "n", sc_str(key.c_str()), sc_int(0), add_100_racing, &racer, &out) == 0);
	CHECK(racer.calls == 2); // 1 + 100 refused on b, which had 10 by then: 10 + 100
	REQUIRE(out != nullptr);
	CHECK(out->tuples[0].fields[0].v.i == 110);
	sc_tuples_free(out);
	CHECK(value_in(b, key) == 110);
	CHECK(value_in(nodes.a_copy, key) == -1); // nothing applied here

	// A missing key: the function gets the default, and the primary stores only while it is still missing.
	REQUIRE(sc_kv_remove(a, "n", sc_str(key.c_str())) == 1);
	racer.calls = 0;
	REQUIRE(sc_kv_update_fn(a, "n", sc_str(key.c_str()), sc_int(5), add_100_racing, &racer, nullptr) ==
		0);
	CHECK(racer.calls == 2);
	CHECK(value_in(b, key) == 110);

	// The compare-and-set itself, on the primary: a stale expectation writes nothing; a malformed one is refused.
	const sc_field stale[] = { sc_str("n"), sc_str(key.c_str()), sc_int(1), sc_int(7) };
	std::string msg;
	CHECK(serve(b, request(SC_FWD_KV_REPLACE_IF, 1, 1, { { 4, stale } }), &msg) == -ESTALE);
	CHECK(serve(b, request(SC_FWD_KV_REPLACE_IF, 1, 0, { { 4, stale } }), &msg) ==
	      -ESTALE); // not missing
	CHECK(serve(b, request(SC_FWD_KV_REPLACE_IF, 1, 2, { { 4, stale } }), &msg) == -EPROTO);
	CHECK(serve(b, request(SC_FWD_KV_REPLACE_IF, 1, 1, { { 3, stale } }), &msg) == -EPROTO);
	CHECK(value_in(b, key) == 110);
	const sc_field fresh[] = { sc_str("n"), sc_str(key.c_str()), sc_int(110), sc_int(7) };
	CHECK(serve(b, request(SC_FWD_KV_REPLACE_IF, 1, 1, { { 4, fresh } }), &msg) == 0);
	CHECK(value_in(b, key) == 7);
}

TEST_CASE("an update or replace made on a node that is not its partition's primary is written there; get_all "
	  "from that handle reads it back",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-replace");
	Cache &a = nodes.a, &b = nodes.b;
	const std::string key = counter_on_b(nodes); // 1 on b
	const int before = nodes.coordinator.requests;

	REQUIRE(sc_kv_update(a, "n", sc_str(key.c_str()), sc_int(20)) == 0);
	CHECK(value_in(b, key) == 20);
	REQUIRE(sc_kv_replace(a, "n", sc_str(key.c_str()), sc_int(30)) == 0);
	CHECK(value_in(b, key) == 30);
	CHECK(nodes.coordinator.requests - before == 2);
	CHECK(value_in(nodes.a_copy, key) == -1); // nothing applied here

	// a's copy lacks the write: a's handle reads it from the primary, another handle reads the copy.
	sc_tuples *all = nullptr;
	REQUIRE(sc_kv_get_all(a, "n", sc_str(key.c_str()), &all) == 1);
	CHECK(all->tuples[0].fields[0].v.i == 30);
	sc_tuples_free(all);
	CHECK(sc_kv_get_all(nodes.a_copy, "n", sc_str(key.c_str()), &all) == 0);
	CHECK(all == nullptr);

	// A bad value is refused here, before anything is sent.
	const int sent = nodes.coordinator.requests;
	const sc_field bad = { static_cast<sc_field_type>(99), 0, { 0 } };
	CHECK(sc_kv_replace(a, "n", sc_str(key.c_str()), bad) == -EINVAL);
	CHECK(nodes.coordinator.requests == sent);
	CHECK(value_in(b, key) == 30);
}

TEST_CASE("on a duplicate_bag, a forwarded add keeps every value and a forwarded update leaves one; get_all "
	  "from the writing handle reads them all from the primary",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-bag", SC_DUPLICATE_BAG);
	Cache &a = nodes.a, &b = nodes.b;
	const std::string key = key_on_b(a, 0);
	auto all_of = [&](sc_cache *c) {
		sc_tuples *t = nullptr;
		std::vector<int64_t> v;
		const int n = sc_kv_get_all(c, "n", sc_str(key.c_str()), &t);
		REQUIRE(n >= 0);
		for (int i = 0; i < n; i++)
			v.push_back(t->tuples[i].fields[0].v.i);
		sc_tuples_free(t);
		return v;
	};

	for (int64_t v : { 1, 2, 1 })
		REQUIRE(sc_kv_add(a, "n", sc_str(key.c_str()), sc_int(v)) == 0);
	CHECK(all_of(b) == std::vector<int64_t>{ 1, 2, 1 });
	CHECK(all_of(a) == std::vector<int64_t>{ 1, 2, 1 }); // from the primary: a's copy lacks them
	CHECK(all_of(nodes.a_copy).empty());
	CHECK(value_in(a, key) == 1);

	const int before = nodes.coordinator.requests;
	REQUIRE(sc_kv_update(a, "n", sc_str(key.c_str()), sc_int(5)) == 0);
	CHECK(nodes.coordinator.requests - before == 1);
	CHECK(all_of(b) == std::vector<int64_t>{ 5 });
	REQUIRE(sc_kv_add(a, "n", sc_str(key.c_str()), sc_int(6)) == 0);
	REQUIRE(sc_kv_replace(a, "n", sc_str(key.c_str()), sc_int(7)) == 0);
	CHECK(all_of(b) == std::vector<int64_t>{ 7 });
	CHECK(sc_kv_remove(a, "n", sc_str(key.c_str())) == 1);
	CHECK(all_of(b).empty());
}

TEST_CASE("a forwarded replace of a bad shape is refused; a good one leaves the key one value",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-replace-shape", SC_BAG);
	sc_cache *b = nodes.b;
	const std::string key = key_on_b(nodes.a, 0);
	REQUIRE(sc_kv_add(b, "n", sc_str(key.c_str()), sc_int(1)) == 0);
	REQUIRE(sc_kv_add(b, "n", sc_str(key.c_str()), sc_int(2)) == 0);
	const sc_field two[2] = { sc_str("n"), sc_str(key.c_str()) };
	const sc_field three[3] = { sc_str("n"), sc_str(key.c_str()), sc_int(3) };
	std::string msg;
	CHECK(serve(b, request(SC_FWD_KV_REPLACE, 1, 0, { { 2, two } }), &msg) == -EPROTO);
	CHECK(sc_kv_count(b, "n") == 2);
	CHECK(serve(b, request(SC_FWD_KV_REPLACE, 1, 0, { { 3, three } }), &msg) == 0);
	CHECK(sc_kv_count(b, "n") == 1);
	CHECK(value_in(b, key) == 3);
}

TEST_CASE("a get into the caller's buffer reads back this handle's write from the primary while its copy "
	  "lacks it",
	  "[forward][kv]")
{
	TwoNodes nodes("fwd-get-into");
	Cache &a = nodes.a;
	const std::string counter = counter_on_b(nodes), key = key_on_b(a, 0);

	REQUIRE(sc_kv_replace(a, "n", sc_str(counter.c_str()), sc_str("twelve bytes")) == 0);
	char buf[16];
	sc_field v = {};
	size_t need = 0;
	int before = nodes.coordinator.requests;
	REQUIRE(sc_kv_get_into(a, "n", sc_str(counter.c_str()), buf, sizeof(buf), &v, &need) == 1);
	CHECK(nodes.coordinator.requests - before == 1);
	CHECK(v.v.p == buf);
	CHECK(std::string(buf, v.len) == "twelve bytes");
	CHECK(sc_kv_get_into(a, "n", sc_str(counter.c_str()), buf, 4, &v, &need) == -ERANGE);
	CHECK(need == 12);
	CHECK(sc_kv_get_into(nodes.a_copy, "n", sc_str(counter.c_str()), buf, sizeof(buf), &v, &need) == 0);

	REQUIRE(sc_put(a, SC_TUPLE(sc_str(key.c_str()), sc_int(7))) == 0);
	std::vector<uint64_t> room(32);
	const sc_tuples *out = nullptr;
	before = nodes.coordinator.requests;
	REQUIRE(sc_get_into(a, SC_TUPLE(sc_str(key.c_str())), room.data(), 8 * room.size(), &out, &need) ==
		1);
	CHECK(nodes.coordinator.requests - before == 1);
	CHECK(static_cast<const void *>(out) == room.data());
	CHECK(out->tuples[0].fields[1].v.i == 7);
	CHECK(sc_get_into(a, SC_TUPLE(sc_str(key.c_str())), room.data(), 16, &out, &need) == -ERANGE);
	CHECK(need > 16);
	CHECK(out == nullptr);
}
