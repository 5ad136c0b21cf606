// test_scan_race.cpp — scans and matches in some processes while others write, forcing index resizes under them.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

constexpr int64_t kStable = 10000;     // keys 0..kStable-1: present throughout, their values rewritten
constexpr int64_t kVolatile = 1000000; // keys from here on come and go, growing and shrinking the index
constexpr int kWriterOps = 150000;

struct Shared {
	std::atomic<int> writers_done;
	std::atomic<int> scans;
	std::atomic<int> resizes_seen;
};

int write_while_scanned(const std::string &name, uint32_t writer)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 1;
	std::mt19937_64 rng(writer + 1);
	std::vector<int64_t> live;
	for (int i = 0; i < kWriterOps; i++) {
		uint64_t dice = rng() % 10;
		if (dice < 3) {
			int64_t k = static_cast<int64_t>(rng() % kStable);
			if (sc_put(c, SC_TUPLE(sc_int(k), sc_int(i))))
				return 2;
		} else if (dice < 8 || live.empty()) {
			int64_t k = kVolatile * (writer + 1) + i;
			if (sc_put(c, SC_TUPLE(sc_int(k), sc_int(i))))
				return 3;
			live.push_back(k);
		} else {
			size_t at = rng() % live.size();
			if (sc_delete(c, SC_TUPLE(sc_int(live[at]))) != 1)
				return 4;
			live[at] = live.back();
			live.pop_back();
		}
	}
	// Take most of them away again: the index shrinks while scans go on.
	for (size_t i = 0; i < live.size() * 9 / 10; i++)
		if (sc_delete(c, SC_TUPLE(sc_int(live[i]))) != 1)
			return 5;
	sc_stop(c);
	return 0;
}

// Every stable key exactly once, no key twice: 0, else what went wrong.
int check_seen(const std::unordered_map<int64_t, int> &seen)
{
	for (const auto &k : seen)
		if (k.second != 1)
			return 10;
	for (int64_t k = 0; k < kStable; k++)
		if (!seen.count(k))
			return 11;
	return 0;
}

// What a scan saw: how often each key, and whether keys came in ascending order.
struct Seen {
	std::unordered_map<int64_t, int> count;
	int64_t last = INT64_MIN;
	bool ascending = true;
};

int count_key(const sc_tuple *t, void *acc)
{
	auto *s = static_cast<Seen *>(acc);
	int64_t k = t->fields[0].v.i;
	++s->count[k];
	s->ascending = s->ascending && k > s->last;
	s->last = k;
	return 0;
}

int scan_while_written(const std::string &name, Shared *sh, bool use_match, bool ordered)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 1;
	uint64_t last_capacity = 0;
	for (bool last = false; !last;) {
		last = sh->writers_done.load() == 2; // one more full round after the writers stop
		Seen seen;
		if (use_match) {
			sc_tuples *t = nullptr;
			if (sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_any()), &t) < 0)
				return 2;
			for (size_t i = 0; t && i < t->count; i++)
				count_key(&t->tuples[i], &seen);
			sc_tuples_free(t);
		} else if (sc_scan(c, nullptr, count_key, &seen) < 0) {
			return 3;
		}
		int bad = check_seen(seen.count);
		if (bad)
			return bad;
		if (ordered && !seen.ascending)
			return 12;
		sh->scans++;
		Stats s(c);
		if (s->total.index_capacity != last_capacity) {
			last_capacity = s->total.index_capacity;
			sh->resizes_seen++;
		}
	}
	sc_stop(c);
	return 0;
}

} // namespace

static void race(uint32_t type)
{
	sc_options o = options(2, 512 << 20);
	o.table_type = type;
	// A scan holds its read section as long as it takes (seconds under sanitizers): what the
	// writers retire meanwhile may take the whole cache rather than be refused.
	o.max_retired = 512 << 20;
	const bool ordered = type == SC_ORDERED_SET;
	Cache c(unique_name("scanrace"), o);
	REQUIRE(c.start_error() == 0);
	for (int64_t k = 0; k < kStable; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_int(-1))) == 0);
	auto *sh = static_cast<Shared *>(shared_anon(sizeof(Shared)));
	REQUIRE(sh != nullptr);
	new (sh) Shared{};
	std::string name = c.name();

	ChildGuard scanner(spawn([&] { return scan_while_written(name, sh, false, ordered); }));
	ChildGuard matcher(spawn([&] { return scan_while_written(name, sh, true, ordered); }));
	ChildGuard w0(spawn([&] { return write_while_scanned(name, 0); }));
	ChildGuard w1(spawn([&] { return write_while_scanned(name, 1); }));
	CHECK(w0.wait() == 0);
	CHECK(w1.wait() == 0);
	sh->writers_done = 2;
	CHECK(scanner.wait() == 0);
	CHECK(matcher.wait() == 0);
	INFO(sh->scans.load() << " scans, " << sh->resizes_seen.load() << " index sizes seen between them");
	CHECK(sh->scans.load() >= 4);
	CHECK(sh->resizes_seen.load() >= 3);
}

TEST_CASE("set: scans and matches racing writers see every stable tuple exactly once, through resizes",
	  "[multiprocess][scan]")
{
	race(SC_SET);
}

TEST_CASE("ordered_set: scans and matches racing writers see every stable tuple once, in key order",
	  "[multiprocess][scan][ordered]")
{
	race(SC_ORDERED_SET);
}
