// test_fuzz.cpp — 10,000 copies of a segment with random bytes overwritten, read and checked by another process.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

namespace
{

constexpr int TRIALS = 10000;
constexpr int KEYS = 150;
constexpr int TRIALS_PER_CHILD = 500;
constexpr int PATIENCE_MS = 60000; // a trial slower than this is a hang

void workload(sc_cache *c)
{
	const std::string big(90 * 1024, 'L');
	for (int k = 0; k < 2 * KEYS; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k % KEYS), sc_str("value"), sc_dbl(k * 0.5))) == 0);
	for (int k = 0; k < KEYS / 4; k++)
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(k * 4))) >= 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(KEYS), sc_bytes(big.data(), static_cast<uint32_t>(big.size())))) ==
		0);
	for (int k = 0; k < 60; k++)
		REQUIRE(sc_kv_add(c, "kv", sc_int(k), sc_str("kv value")) == 0);
	for (int k = 0; k < 30; k++)
		REQUIRE(sc_queue_add(c, "q", sc_int(k)) == 0);
	for (int k = 0; k < 20; k++)
		REQUIRE(sc_stack_push(c, "s", sc_str("item")) == 0);
}

int count_tuple(const sc_tuple *t, void *acc)
{
	(void)t;
	++*static_cast<int *>(acc);
	return 0;
}

// Everything a reader does, on a segment that may be garbage: errors are fine, crashes are not.
void read_everything(sc_cache *c)
{
	sc_tuples *t = nullptr;
	for (int k = 0; k <= KEYS; k++) {
		if (sc_get(c, SC_TUPLE(sc_int(k)), &t) >= 0)
			sc_tuples_free(t);
	}
	if (sc_get_by_match_object(c, nullptr, SC_TUPLE(sc_any(), sc_str("value"), sc_any()), &t) >= 0)
		sc_tuples_free(t);
	int n = 0;
	(void)sc_scan(c, nullptr, count_tuple, &n);
	for (int k = 0; k < 60; k += 7)
		if (sc_kv_get(c, "kv", sc_int(k), nullptr, &t) >= 0)
			sc_tuples_free(t);
	if (sc_queue_peek(c, "q", nullptr, &t) >= 0)
		sc_tuples_free(t);
	(void)sc_queue_count(c, "q");
	(void)sc_stack_count(c, "s");
	sc_cache_stats *st = nullptr;
	if (sc_stats(c, &st) == 0)
		sc_stats_free(st);
	sc_check_report rep;
	const int rc = sc_check(c, SC_CHECK_NO_LOCKS, &rep);
	if (rc != 0 && rc != -EUCLEAN && rc != -ENOMEM)
		_exit(4);
}

// The reader: attach to the copy, read everything, check, stop; once per byte from the parent.
int reader(const std::string &name, int go, int done)
{
	char b;
	while (read(go, &b, 1) == 1) {
		sc_cache *c = nullptr;
		const bool attached = sc_attach(name.c_str(), nullptr, &c) == 0;
		if (attached) {
			read_everything(c);
			sc_stop(c);
		}
		if (write(done, attached ? "a" : "r", 1) != 1)
			return 3;
	}
	return 0;
}

// Overwrite 1 to 16 places, mostly in the used heap and the partitions, each with random bytes
// or a plausible-looking offset. Returns the ranges touched.
std::vector<std::pair<uint64_t, uint64_t>> scribble(uint8_t *seg, uint64_t heap_off, uint64_t used,
						    std::mt19937_64 &rng)
{
	std::vector<std::pair<uint64_t, uint64_t>> touched;
	const int places = 1 + static_cast<int>(rng() % 16);
	for (int i = 0; i < places; i++) {
		const unsigned where = rng() % 10;
		uint64_t at = where < 6	  ? heap_off + rng() % (used - heap_off)
			      : where < 9 ? 4096 + rng() % (heap_off - 4096)
					  : rng() % used;
		const uint64_t len = 1 + rng() % 8;
		if (at + len > used)
			at = used - len;
		if (rng() % 3 == 0) {
			// An offset that lands inside the segment, in 16-byte units or bytes.
			const uint64_t off = heap_off + rng() % (used - heap_off);
			const uint32_t v =
				rng() % 2 ? static_cast<uint32_t>(off >> 4) : static_cast<uint32_t>(off);
			std::memcpy(seg + at, &v, len < 4 ? len : 4);
		} else {
			for (uint64_t j = 0; j < len; j++)
				seg[at + j] = static_cast<uint8_t>(rng());
		}
		touched.emplace_back(at, len);
	}
	return touched;
}

void fuzz(uint32_t table_type, int trials, uint64_t seed)
{
	sc_options o = options(2, 8 << 20);
	o.table_type = table_type;
	o.max_readers = 8;
	Cache src(unique_name("fuzzsrc"), o);
	REQUIRE(src.start_error() == 0);
	workload(src);
	REQUIRE(sc_check(src, 0, nullptr) == 0);

	// The copy: a segment of its own name, the source's bytes.
	const std::string copy_name = unique_name("fuzzcopy");
	std::string copy_path = sctest_path(src);
	copy_path.replace(copy_path.find(src.name()), src.name().size(), copy_name);
	const uint64_t map_len = sctest_map_len(src), heap_off = sctest_heap_off(src);
	const uint64_t used = sctest_backed(src);
	std::vector<uint8_t> pristine(used);
	{
		int sfd = open(sctest_path(src), O_RDONLY);
		REQUIRE(sfd >= 0);
		REQUIRE(pread(sfd, pristine.data(), used, 0) == static_cast<ssize_t>(used));
		close(sfd);
	}
	int fd = open(copy_path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0660);
	REQUIRE(fd >= 0);
	REQUIRE(fchmod(fd, 0660) == 0); // as the library makes them, whatever the umask
	REQUIRE(ftruncate(fd, static_cast<off_t>(map_len)) == 0);
	REQUIRE(pwrite(fd, pristine.data(), used, 0) == static_cast<ssize_t>(used));
	auto *seg = static_cast<uint8_t *>(mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	REQUIRE(seg != MAP_FAILED);
	close(fd);

	std::mt19937_64 rng(seed);
	int attached = 0;
	for (int first = 0; first < trials; first += TRIALS_PER_CHILD) {
		Pipe go, done;
		ChildGuard child(spawn([&] {
			close(go.wr); // so that the parent closing its end is the reader's end of input
			close(done.rd);
			return reader(copy_name, go.rd, done.wr);
		}));
		for (int t = first; t < first + TRIALS_PER_CHILD && t < trials; t++) {
			// Metadata the last reader wrote (its slot, counters) and the last trial's scribbles go back.
			std::memcpy(seg, pristine.data(), heap_off);
			const auto touched = scribble(seg, heap_off, used, rng);
			go.send();
			pollfd p{ done.rd, POLLIN, 0 };
			const int ready = poll(&p, 1, PATIENCE_MS);
			INFO("table type " << table_type << ", seed " << seed << ", trial " << t);
			REQUIRE(ready == 1); // else the reader hung
			const char outcome = done.recv();
			REQUIRE((outcome == 'a' ||
				 outcome == 'r')); // else it crashed (or a sanitizer stopped it)
			attached += outcome == 'a';
			for (const auto &r : touched)
				std::memcpy(seg + r.first, pristine.data() + r.first, r.second);
		}
		close(go.wr);
		go.wr = -1;
		REQUIRE(child.wait() == 0);
	}
	munmap(seg, map_len);
	unlink(copy_path.c_str());
	// Most scribbles miss the header: the copies must mostly be attached and read, not refused.
	CHECK(attached > trials * 8 / 10);
}

} // namespace

TEST_CASE("10,000 scribbled copies of a segment are read and checked without a crash or a hang", "[fuzz]")
{
	fuzz(SC_SET, TRIALS / 2, 1);
	fuzz(SC_ORDERED_SET, TRIALS / 2, 2);
}
