// test_scribble.cpp — random stray writes into a live cache: nobody hangs, nobody reads a wrong value, the remedy mends.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

constexpr int ROUNDS = 40, SCRIBBLES = 60, WORKERS = 2, KEYS = 400;
constexpr uint64_t HANG_MS = 5000;

uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ static_cast<uint8_t>(p[i])) * 16777619u;
	return h;
}

// A value that carries a checksum of itself: 8 hex digits, then what they sum.
std::string value_for(int key, uint64_t nonce)
{
	std::string body = std::to_string(key) + ":" + std::to_string(nonce) + ":";
	body.append(20 + (nonce % 90), static_cast<char>('a' + nonce % 26));
	char sum[9];
	snprintf(sum, sizeof(sum), "%08x", fnv(body.data(), body.size()));
	return sum + body;
}

// Whether a value read back is one some writer wrote: its checksum holds.
bool intact(const void *p, uint32_t len)
{
	const char *s = static_cast<const char *>(p);
	char sum[9];
	if (len < 8)
		return false;
	snprintf(sum, sizeof(sum), "%08x", fnv(s + 8, len - 8));
	return memcmp(sum, s, 8) == 0;
}

struct Shared {
	std::atomic<int> stop;
	std::atomic<uint64_t> ops[WORKERS];
	std::atomic<uint64_t> corrupt; // reads that returned a value whose checksum fails
};

// One worker: every kind of call, on a small key set, counting calls that return.
int worker(const std::string &name, int id, Shared *sh)
{
	sc_cache *c = nullptr;
	if (sc_attach(name.c_str(), nullptr, &c))
		return 2;
	std::mt19937_64 rng(static_cast<uint64_t>(getpid()) * 7919u + static_cast<uint64_t>(id));
	uint64_t nonce = static_cast<uint64_t>(id) << 40;
	while (!sh->stop.load()) {
		const int key = static_cast<int>(rng() % KEYS);
		sc_tuples *t = nullptr;
		switch (rng() % 9) {
		case 0:
		case 1: {
			const std::string v = value_for(key, nonce++);
			sc_put(c, SC_TUPLE(sc_int(key), sc_bytes(v.data(), static_cast<uint32_t>(v.size()))));
			break;
		}
		case 2:
		case 3:
			if (sc_get(c, SC_TUPLE(sc_int(key)), &t) == 1) {
				const sc_field &f = t->tuples[0].fields[t->tuples[0].nfields - 1];
				if (t->tuples[0].nfields != 2 || f.type != SC_FIELD_BYTES ||
				    !intact(f.v.p, f.len))
					sh->corrupt++;
			}
			sc_tuples_free(t);
			break;
		case 4: {
			// What a view saw counts only when the call stands by it: -EUCLEAN says a stray write
			// changed the record while the callback read it.
			int bad = 0;
			if (sc_get_view(
				    c, SC_TUPLE(sc_int(key)),
				    [](const sc_tuple *tup, void *arg) -> int {
					    const sc_field &f = tup->fields[tup->nfields - 1];
					    if (tup->nfields != 2 || f.type != SC_FIELD_BYTES ||
						!intact(f.v.p, f.len))
						    ++*static_cast<int *>(arg);
					    return 0;
				    },
				    &bad) >= 0)
				sh->corrupt += static_cast<uint64_t>(bad);
			break;
		}
		case 5:
			sc_delete(c, SC_TUPLE(sc_int(key)));
			break;
		case 6: {
			const std::string v = value_for(key, nonce++);
			sc_kv_add(c, "kv", sc_int(key), sc_bytes(v.data(), static_cast<uint32_t>(v.size())));
			break;
		}
		case 7:
			if (sc_kv_get(c, "kv", sc_int(key), nullptr, &t) == 1) {
				const sc_field &f = t->tuples[0].fields[0];
				if (f.type != SC_FIELD_BYTES || !intact(f.v.p, f.len))
					sh->corrupt++;
			}
			sc_tuples_free(t);
			break;
		case 8:
			if (rng() % 2) {
				const std::string v = value_for(key, nonce++);
				sc_queue_add(c, "q", sc_bytes(v.data(), static_cast<uint32_t>(v.size())));
			} else if (sc_queue_out(c, "q", nullptr, &t) == 1) {
				const sc_field &f = t->tuples[0].fields[0];
				if (f.type != SC_FIELD_BYTES || !intact(f.v.p, f.len))
					sh->corrupt++;
			}
			sc_tuples_free(t);
			break;
		}
		sh->ops[id]++;
	}
	sc_stop(c);
	return 0;
}

// Where a stray write lands: the header, the metadata between it and the heap, or the heap in use.
uint64_t scribble_at(sc_cache *c, std::mt19937_64 &rng, int *region)
{
	const uint64_t heap = sctest_heap_off(c), end = sctest_map_len(c);
	/* The heap in use: what the header says is backed, which a stray write may have changed. */
	const uint64_t backed = sctest_backed(c) > heap && sctest_backed(c) <= end ? sctest_backed(c) : end;
	*region = static_cast<int>(rng() % 3);
	if (*region == 0)
		return rng() % 4096;
	if (*region == 1)
		return 4096 + rng() % (heap - 4096);
	return heap + rng() % (backed - heap);
}

} // namespace

TEST_CASE("random stray writes into a live cache: no hang, no wrong value read, and the remedy mends it",
	  "[damage][scribble]")
{
	auto *sh = static_cast<Shared *>(shared_anon(sizeof(Shared)));
	std::mt19937_64 rng(20261206);
	uint64_t scribbles[3] = { 0, 0, 0 }, hangs = 0, crashes = 0, resets = 0, repairs = 0, unmended = 0;
	for (int round = 0; round < ROUNDS; round++) {
		sc_options o = options(4, 16 << 20);
		o.eviction = round % 2 ? SC_EVICTION_CLOCK : SC_EVICTION_OFF;
		Cache c(unique_name("scribble"), o);
		REQUIRE(c.start_error() == 0);
		for (int k = 0; k < KEYS; k++) {
			const std::string v = value_for(k, 0);
			REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_bytes(v.data(), static_cast<uint32_t>(
											 v.size())))) == 0);
			if (k % 4 == 0)
				REQUIRE(sc_kv_add(c, "kv", sc_int(k),
						  sc_bytes(v.data(), static_cast<uint32_t>(v.size()))) == 0);
		}
		sh->stop = 0;
		std::vector<pid_t> workers;
		// Whatever ends the round (a failed REQUIRE too), the workers stop.
		struct Stopper {
			Shared *sh;
			std::vector<pid_t> &workers;
			~Stopper()
			{
				sh->stop = 1;
				for (pid_t w : workers)
					if (kill(w, 0) == 0) {
						kill(w, SIGKILL);
						waitpid(w, nullptr, 0);
					}
			}
		} stopper{ sh, workers };
		for (int w = 0; w < WORKERS; w++) {
			sh->ops[w] = 0;
			workers.push_back(spawn([&, w] { return worker(c.name(), w, sh); }));
		}
		// Scribbling starts once every worker is attached and working: a header it finds scribbled
		// would refuse its attach, which is right but tests nothing.
		for (int w = 0; w < WORKERS; w++)
			while (sh->ops[w].load() == 0 && waitpid(workers[w], nullptr, WNOHANG) == 0)
				sched_yield();
		std::vector<uint64_t> seen(WORKERS, 0), since(WORKERS, clock_ms());
		auto watch = [&] {
			for (int w = 0; w < WORKERS; w++) {
				const uint64_t n = sh->ops[w].load();
				if (n != seen[w]) {
					seen[w] = n;
					since[w] = clock_ms();
				}
			}
		};
		for (int s = 0; s < SCRIBBLES; s++) {
			int region;
			const uint64_t at = scribble_at(c, rng, &region);
			uint8_t bytes[16];
			const size_t len = 1 + rng() % sizeof(bytes);
			for (auto &b : bytes)
				b = static_cast<uint8_t>(rng());
			REQUIRE(sctest_scribble(c, at, bytes, len) == 0);
			scribbles[region]++;
			// The workload runs between stray writes: pacing, not synchronisation.
			timespec pause = { 0, static_cast<long>(rng() % 2000000) };
			nanosleep(&pause, nullptr);
			watch();
		}
		// Asked to stop, each worker returns from its call and exits; one that cannot is hung.
		sh->stop = 1;
		for (int w = 0; w < WORKERS; w++) {
			int status = 0;
			pid_t r;
			while ((r = waitpid(workers[w], &status, WNOHANG)) == 0 &&
			       clock_ms() - since[w] < HANG_MS) {
				watch();
				sched_yield();
			}
			if (r == 0) {
				hangs++;
				kill(workers[w], SIGKILL);
				waitpid(workers[w], &status, 0);
			} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				crashes++;
				WARN("round "
				     << round << ": worker " << w << " ended with "
				     << (WIFSIGNALED(status) ? "signal " : "status ")
				     << (WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status)));
			}
		}

		// The remedy the check names, once.
		sc_check_report rep;
		std::string before;
		const int found = sc_check(c, 0, &rep);
		for (uint32_t i = 0; i < rep.listed; i++)
			before += std::string("  ") + rep.list[i].what + "\n";
		if (found == -EUCLEAN && rep.segment_problems) {
			CHECK(sc_repair(c) >= 0);
			repairs++;
		} else if (found == -EUCLEAN) {
			for (uint32_t p = 0; p < 8; p++)
				if (sc_check_damaged(&rep, p)) {
					CHECK(sc_partition_reset(c, p) == 0);
					resets++;
				}
		} else {
			CHECK(found == 0);
		}
		std::string after;
		if (check_segment(c, 0, &after) != 0) {
			unmended++;
			WARN("round " << round << ": found\n" << before << "after the remedy:\n" << after);
		}
		// Every partition takes writes: a key in each tuple partition, and pairs and a queue item.
		int wrote = 0;
		bool written[4] = { false, false, false, false };
		for (int k = 0; k < 100000 && wrote < 4; k++) {
			const uint32_t p = sctest_partition_of(c, SC_TUPLE(sc_int(k)));
			if (written[p])
				continue;
			const std::string v = value_for(k, 1);
			CHECK(sc_put(c, SC_TUPLE(sc_int(k),
						 sc_bytes(v.data(), static_cast<uint32_t>(v.size())))) == 0);
			written[p] = true;
			wrote++;
		}
		for (int k = 0; k < 64; k++)
			CHECK(sc_kv_add(c, "after", sc_int(k), sc_str("value")) == 0);
		CHECK(sc_queue_add(c, "after", sc_int(1)) == 0);
		INFO("round " << round << ": found\n" << before);
		CHECK(check_segment(c, 0, &after) == 0);
		CHECK(after == "");
	}
	INFO("stray writes: " << scribbles[0] << " in the header, " << scribbles[1] << " in the metadata, "
			      << scribbles[2] << " in the heap; remedies: " << repairs << " sc_repair, "
			      << resets << " partition resets");
	CHECK(scribbles[0] + scribbles[1] + scribbles[2] >= 2000);
	CHECK(hangs == 0);
	CHECK(crashes == 0);
	CHECK(sh->corrupt.load() == 0);
	CHECK(unmended == 0);
	WARN("stray writes: " << scribbles[0] << " header, " << scribbles[1] << " metadata, " << scribbles[2]
			      << " heap; hangs " << hangs << ", wrong values read " << sh->corrupt.load()
			      << "; remedies: " << repairs << " sc_repair, " << resets
			      << " partition resets");
}
