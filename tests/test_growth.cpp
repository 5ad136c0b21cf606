// test_growth.cpp — one partition's index grows online from empty to 10 million entries while another process reads.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

constexpr int64_t kTarget = 10000000;
constexpr int64_t kSentinels = 1000;
constexpr size_t kBatch = 1000;

struct Progress {
	std::atomic<int64_t> inserted; // every key below this has been acknowledged
	std::atomic<int> done;
	std::atomic<uint64_t> capacities_seen; // index sizes the reader read through
};

// Keys -1..-kSentinels are there before growth starts; 0..inserted-1 as the writer reports them.
int read_while_growing(const std::string &name, Progress *pr)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 1;
	std::mt19937_64 rng(99);
	uint64_t passes = 0, last_capacity = 0, capacities = 0;
	while (!pr->done.load()) {
		sc_tuples *t = nullptr;
		for (int64_t k = -1; k >= -kSentinels; k--) {
			if (sc_get(c, SC_TUPLE(sc_int(k)), &t) != 1 || t->tuples[0].fields[1].v.i != -k)
				return 2;
			sc_tuples_free(t);
		}
		int64_t upto = pr->inserted.load();
		for (int i = 0; upto > 0 && i < 1000; i++) {
			int64_t k = static_cast<int64_t>(rng() % static_cast<uint64_t>(upto));
			if (sc_get(c, SC_TUPLE(sc_int(k)), &t) != 1 || t->tuples[0].fields[1].v.i != k * 3)
				return 3;
			sc_tuples_free(t);
		}
		Stats s(c);
		if (s.error())
			return 4;
		if (s->total.index_capacity != last_capacity) {
			last_capacity = s->total.index_capacity;
			capacities++;
		}
		passes++;
	}
	pr->capacities_seen = capacities;
	sc_stop(c);
	return passes > 0 ? 0 : 5;
}

} // namespace

TEST_CASE("a partition's index grows from empty to 10 million entries while readers read", "[growth]")
{
	sc_options o = options(1, 1536ull << 20);
	Cache c(unique_name("growth"), o);
	REQUIRE(c.start_error() == 0);
	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.index_capacity == 0);
	}

	for (int64_t k = -1; k >= -kSentinels; k--)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(-k))) == 0);
	auto *pr = static_cast<Progress *>(shared_anon(sizeof(Progress)));
	REQUIRE(pr != nullptr);
	new (pr) Progress{};
	std::string name = c.name();
	ChildGuard reader(spawn([&] { return read_while_growing(name, pr); }));

	std::vector<sc_field> fields(2 * kBatch);
	std::vector<sc_tuple> batch(kBatch);
	for (int64_t base = 0; base < kTarget; base += kBatch) {
		for (size_t i = 0; i < kBatch; i++) {
			int64_t k = base + static_cast<int64_t>(i);
			fields[2 * i] = sc_int(k);
			fields[2 * i + 1] = sc_int(k * 3);
			batch[i] = sc_tuple{ 2, &fields[2 * i] };
		}
		REQUIRE(sc_put_batch(c, batch.data(), kBatch) == 0);
		pr->inserted = base + static_cast<int64_t>(kBatch);
	}
	pr->done = 1;
	CHECK(reader.wait() == 0);
	INFO("the reader read through " << pr->capacities_seen.load() << " index sizes");
	CHECK(pr->capacities_seen.load() >= 2);

	{
		Stats s(c);
		REQUIRE(s.error() == 0);
		CHECK(s->total.records == static_cast<uint64_t>(kTarget + kSentinels));
		CHECK(s->total.index_capacity >= static_cast<uint64_t>(kTarget));
	}
	sc_tuples *t = nullptr;
	for (int64_t k = 0; k < kTarget; k += 9973) {
		REQUIRE(sc_get(c, SC_TUPLE(sc_int(k)), &t) == 1);
		REQUIRE(t->tuples[0].fields[1].v.i == k * 3);
		sc_tuples_free(t);
	}
}
