// test_sequences.cpp — queues and stacks: every call and its errors, and 1M items through 4 producers and 4 consumers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sys/resource.h>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// What a take returned: its int value, or miss when it found nothing (an error is returned as itself).
int64_t took(int r, sc_tuples *t, int64_t miss = -1)
{
	int64_t v = r < 0 ? r : r == 1 && t && t->count == 1 ? t->tuples[0].fields[0].v.i : miss;
	sc_tuples_free(t);
	return v;
}

int64_t queue_out(sc_cache *c, const char *q)
{
	sc_tuples *t = nullptr;
	int r = sc_queue_out(c, q, nullptr, &t);
	return took(r, t);
}

int64_t stack_pop(sc_cache *c, const char *s)
{
	sc_tuples *t = nullptr;
	int r = sc_stack_pop(c, s, nullptr, &t);
	return took(r, t);
}

std::vector<int64_t> ints(sc_tuples *t, int n)
{
	std::vector<int64_t> v;
	for (int i = 0; i < n; i++)
		v.push_back(t->tuples[i].fields[0].v.i);
	sc_tuples_free(t);
	return v;
}

} // namespace

TEST_CASE("queue: FIFO, peek without taking, count, drain oldest first", "[queue]")
{
	Cache c(unique_name("queue"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;

	CHECK(sc_queue_count(c, "jobs") == 0);
	CHECK(sc_queue_peek(c, "jobs", nullptr, &t) == 0);
	CHECK(t == nullptr);
	REQUIRE(sc_queue_add(c, "jobs", sc_str("process_order_1")) == 0);
	REQUIRE(sc_queue_add(c, "jobs", sc_str("process_order_2")) == 0);
	REQUIRE(sc_queue_add(c, "jobs", sc_int(3)) == 0);
	CHECK(sc_queue_count(c, "jobs") == 3);

	REQUIRE(sc_queue_out(c, "jobs", nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "process_order_1");
	sc_tuples_free(t);
	REQUIRE(sc_queue_peak(c, "jobs", nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "process_order_2");
	sc_tuples_free(t);
	REQUIRE(sc_queue_peek(c, "jobs", nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "process_order_2");
	sc_tuples_free(t);
	CHECK(sc_queue_count(c, "jobs") == 2);

	REQUIRE(sc_queue_get_all(c, "jobs", &t) == 2);
	REQUIRE(t->count == 2);
	CHECK(str_field(t->tuples[0], 0) == "process_order_2");
	CHECK(t->tuples[1].fields[0].v.i == 3);
	sc_tuples_free(t);
	CHECK(sc_queue_count(c, "jobs") == 0);
	CHECK(sc_queue_get_all(c, "jobs", &t) == 0);
	CHECK(t == nullptr);

	// Empty: 0, and the default when one is given.
	sc_field dflt = sc_str("none");
	REQUIRE(sc_queue_out(c, "jobs", &dflt, &t) == 0);
	CHECK(str_field(t->tuples[0], 0) == "none");
	sc_tuples_free(t);
	REQUIRE(sc_queue_peek(c, "never-used", &dflt, &t) == 0);
	CHECK(str_field(t->tuples[0], 0) == "none");
	sc_tuples_free(t);
	CHECK(queue_out(c, "jobs") == -1);

	// Reused after draining, in order.
	for (int i = 0; i < 1000; i++)
		REQUIRE(sc_queue_add(c, "jobs", sc_int(i)) == 0);
	for (int i = 0; i < 500; i++)
		REQUIRE(queue_out(c, "jobs") == i);
	int n = sc_queue_get_all(c, "jobs", &t);
	std::vector<int64_t> rest = ints(t, n);
	REQUIRE(rest.size() == 500);
	for (int i = 0; i < 500; i++)
		CHECK(rest[i] == 500 + i);
}

TEST_CASE("stack: LIFO, count, drain top first; a stack and a queue may share a name", "[stack]")
{
	Cache c(unique_name("stack"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;

	REQUIRE(sc_stack_push(c, "history", sc_str("page_a")) == 0);
	REQUIRE(sc_stack_push(c, "history", sc_str("page_b")) == 0);
	REQUIRE(sc_queue_add(c, "history", sc_int(99)) == 0);
	CHECK(sc_stack_count(c, "history") == 2);
	CHECK(sc_queue_count(c, "history") == 1);
	REQUIRE(sc_stack_pop(c, "history", nullptr, &t) == 1);
	CHECK(str_field(t->tuples[0], 0) == "page_b");
	sc_tuples_free(t);
	for (int i = 0; i < 5; i++)
		REQUIRE(sc_stack_push(c, "history", sc_int(i)) == 0);
	CHECK(stack_pop(c, "history") == 4);
	int n = sc_stack_get_all(c, "history", &t);
	REQUIRE(n == 5);
	CHECK(t->tuples[0].fields[0].v.i == 3);
	CHECK(t->tuples[3].fields[0].v.i == 0);
	CHECK(str_field(t->tuples[4], 0) == "page_a");
	sc_tuples_free(t);
	CHECK(sc_stack_count(c, "history") == 0);
	sc_field dflt = sc_int(-5);
	REQUIRE(sc_stack_pop(c, "history", &dflt, &t) == 0);
	CHECK(t->tuples[0].fields[0].v.i == -5);
	sc_tuples_free(t);
	CHECK(queue_out(c, "history") == 99);
}

TEST_CASE("queues and stacks: bad input is refused with a message", "[queue][stack]")
{
	Cache c(unique_name("seqerr"), options(2, 64 << 20));
	REQUIRE(c.start_error() == 0);
	sc_tuples *t = nullptr;
	sc_field bad = sc_any();

	CHECK(sc_queue_add(c, nullptr, sc_int(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "queue name is NULL"));
	CHECK(sc_stack_push(c, "", sc_int(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "stack name"));
	CHECK(sc_queue_add(c, std::string(256, 'q').c_str(), sc_int(1)) == -EINVAL);
	CHECK(sc_queue_add(c, "q", sc_capture(1)) == -EINVAL);
	CHECK(contains(sc_last_error(), "value is a pattern field"));
	CHECK(sc_queue_out(c, "q", nullptr, nullptr) == -EINVAL);
	CHECK(sc_queue_out(c, "q", &bad, &t) == -EINVAL);
	CHECK(contains(sc_last_error(), "default is a pattern field"));
	CHECK(sc_queue_peek(c, "q", &bad, &t) == -EINVAL);
	CHECK(sc_stack_pop(c, "s", nullptr, nullptr) == -EINVAL);
	CHECK(sc_queue_get_all(c, "q", nullptr) == -EINVAL);
	CHECK(sc_stack_get_all(c, nullptr, &t) == -EINVAL);
	CHECK(sc_queue_count(c, nullptr) == -EINVAL);
	CHECK(sc_stack_count(nullptr, "s") == -EINVAL);
	CHECK(sc_queue_count(c, "q") == 0);
	CHECK(sc_stack_count(c, "s") == 0);
}

TEST_CASE("queues and stacks stay out of the tuple API", "[queue][stack]")
{
	sc_options o = options(2, 64 << 20);
	o.table_type = SC_DUPLICATE_BAG;
	o.key_pos = 2;
	Cache c(unique_name("seqiso"), o);
	REQUIRE(c.start_error() == 0);
	for (int i = 0; i < 10; i++) {
		REQUIRE(sc_queue_add(c, "q", sc_int(i)) == 0);
		REQUIRE(sc_stack_push(c, "s", sc_int(i)) == 0);
	}
	CHECK(sc_scan(
		      c, nullptr, [](const sc_tuple *, void *) { return 0; }, nullptr) == 0);
	REQUIRE(sc_delete_all(c) == 0);
	{
		Stats s(c);
		CHECK(s->total.records == 0);
		CHECK(s->structures.records == 22); // 20 items and 2 headers
	}
	CHECK(sc_queue_count(c, "q") == 10);
	CHECK(queue_out(c, "q") == 0);
	CHECK(stack_pop(c, "s") == 9);
}

namespace
{

constexpr int kProducers = 4, kConsumers = 4;
constexpr int64_t kItems = 1000000, kPerProducer = kItems / kProducers;

struct Board {
	std::atomic<int> producers_done;
	std::atomic<int64_t> taken[kConsumers];
	int64_t got[kConsumers][kItems]; // what each consumer took, in the order it took them
};

// 4 producers push kPerProducer items each (producer << 32 | sequence) into one queue or stack while 4 consumers
// take them; then every item must have been taken exactly once, and from a queue each consumer must have seen each
// producer's items in the order they were added.
void move_million(bool queue)
{
	Cache c(unique_name(queue ? "mpmcq" : "mpmcs"), options(4, 1ull << 30));
	REQUIRE(c.start_error() == 0);
	auto *board = static_cast<Board *>(shared_anon(sizeof(Board)));
	new (&board->producers_done) std::atomic<int>(0);
	for (auto &t : board->taken)
		new (&t) std::atomic<int64_t>(0);
	const std::string name = c.name();

	std::vector<std::unique_ptr<ChildGuard>> kids;
	for (int p = 0; p < kProducers; p++)
		kids.emplace_back(new ChildGuard(spawn([&, p] {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			for (int64_t i = 0; i < kPerProducer; i++) {
				sc_field v = sc_int(static_cast<int64_t>(p) << 32 | i);
				if ((queue ? sc_queue_add(h, "mpmc", v) : sc_stack_push(h, "mpmc", v)) != 0)
					return 2;
			}
			board->producers_done.fetch_add(1);
			sc_stop(h);
			return 0;
		})));
	for (int k = 0; k < kConsumers; k++)
		kids.emplace_back(new ChildGuard(spawn([&, k] {
			sc_cache *h = nullptr;
			if (sc_attach(name.c_str(), nullptr, &h))
				return 1;
			for (;;) {
				// Read before taking: if all producers were done and the take found nothing, nothing is
				// left.
				bool done = board->producers_done.load() == kProducers;
				sc_tuples *t = nullptr;
				int r = queue ? sc_queue_out(h, "mpmc", nullptr, &t)
					      : sc_stack_pop(h, "mpmc", nullptr, &t);
				if (r < 0)
					return 2;
				if (r == 0) {
					if (done)
						break;
					continue;
				}
				int64_t n = board->taken[k].load();
				if (n >= kItems)
					return 3;
				board->got[k][n] = t->tuples[0].fields[0].v.i;
				board->taken[k].store(n + 1);
				sc_tuples_free(t);
			}
			sc_stop(h);
			return 0;
		})));
	for (auto &kid : kids)
		CHECK(kid->wait() == 0);

	std::vector<int64_t> all;
	for (int k = 0; k < kConsumers; k++) {
		int64_t n = board->taken[k].load();
		std::vector<int64_t> last(kProducers, -1);
		for (int64_t i = 0; i < n; i++) {
			int64_t v = board->got[k][i];
			all.push_back(v);
			int p = static_cast<int>(v >> 32);
			REQUIRE(p >= 0);
			REQUIRE(p < kProducers);
			if (queue) {
				INFO("consumer " << k << " took producer " << p << "'s item "
						 << (v & 0xffffffff) << " after " << last[p]);
				REQUIRE((v & 0xffffffff) > last[p]);
			}
			last[p] = v & 0xffffffff;
		}
	}
	REQUIRE(all.size() == static_cast<size_t>(kItems));
	std::sort(all.begin(), all.end());
	for (int p = 0; p < kProducers; p++)
		for (int64_t i = 0; i < kPerProducer; i++)
			REQUIRE(all[p * kPerProducer + i] == (static_cast<int64_t>(p) << 32 | i));
	CHECK((queue ? sc_queue_count(c, "mpmc") : sc_stack_count(c, "mpmc")) == 0);
	CHECK(Stats(c)->structures.records == 1); // the header alone
}

} // namespace

TEST_CASE("queue: 1M items through 4 producer and 4 consumer processes, each once, in order",
	  "[queue][multiprocess]")
{
	move_million(true);
}

TEST_CASE("stack: 1M items through 4 producer and 4 consumer processes, each once", "[stack][multiprocess]")
{
	move_million(false);
}

TEST_CASE("queue: a take whose result cannot be allocated takes nothing", "[queue]")
{
#if defined(__SANITIZE_ADDRESS__)
	// ASan's allocator reserves its own address space and aborts when an allocation fails.
	WARN("skipped under AddressSanitizer: an address-space limit cannot make malloc fail cleanly there");
	return;
#endif
	Cache c(unique_name("seqnomem"), options(1, 256 << 20));
	REQUIRE(c.start_error() == 0);
	const std::string big(8 << 20, 'b');
	REQUIRE(sc_queue_add(c, "q", sc_bytes(big.data(), static_cast<uint32_t>(big.size()))) == 0);
	REQUIRE(sc_queue_add(c, "q", sc_int(2)) == 0);
	const std::string name = c.name();
	// In a child, an address-space limit 20 MiB above what it uses lets the take copy the 8 MiB item (into
	// up to 16 MiB, the copy's room doubling) but not allocate the 8 MiB result block as well.
	ChildGuard child(spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(name.c_str(), nullptr, &h))
			return 1;
		long pages = 0;
		FILE *f = std::fopen("/proc/self/statm", "r");
		if (!f || std::fscanf(f, "%ld", &pages) != 1)
			return 2;
		std::fclose(f);
		struct rlimit old, lim;
		getrlimit(RLIMIT_AS, &old);
		lim = old;
		lim.rlim_cur = static_cast<rlim_t>(pages) * 4096 + (20 << 20);
		if (setrlimit(RLIMIT_AS, &lim))
			return 3;
		sc_tuples *t = nullptr;
		int r = sc_queue_out(h, "q", nullptr, &t);
		setrlimit(RLIMIT_AS, &old);
		if (r != -ENOMEM)
			return 10 + (r < 0 ? -r : r);
		if (sc_queue_count(h, "q") != 2)
			return 4;
		sc_stop(h);
		return 0;
	}));
	CHECK(child.wait() == 0);
	sc_tuples *t = nullptr;
	REQUIRE(sc_queue_out(c, "q", nullptr, &t) == 1);
	CHECK(t->tuples[0].fields[0].len == big.size());
	sc_tuples_free(t);
	REQUIRE(sc_queue_out(c, "q", nullptr, &t) == 1);
	CHECK(t->tuples[0].fields[0].v.i == 2);
	sc_tuples_free(t);
}
