// test_check.cpp — sc_check: whole segments pass, damaged ones are named, nothing crashes it.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "internals.h"

using namespace sctest;

// A bit of everything: overwrites, deletes, large records, structures.
static void varied_workload(sc_cache *c)
{
	const std::string big(100 * 1024, 'L');
	for (int k = 0; k < 3000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k % 1000), sc_str("value"), sc_int(k))) == 0);
	for (int k = 0; k < 300; k++)
		REQUIRE(sc_delete(c, SC_TUPLE(sc_int(k * 3))) >= 0);
	for (int k = 0; k < 4; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(5000 + k % 2),
					   sc_bytes(big.data(), (uint32_t)big.size()))) == 0);
	for (int k = 0; k < 200; k++)
		REQUIRE(sc_kv_add(c, "kv", sc_int(k), sc_str("v")) == 0);
	for (int k = 0; k < 100; k++)
		REQUIRE(sc_queue_add(c, "q", sc_int(k)) == 0);
	for (int k = 0; k < 40; k++) {
		sc_tuples *t = nullptr;
		REQUIRE(sc_queue_out(c, "q", nullptr, &t) == 1);
		sc_tuples_free(t);
	}
	for (int k = 0; k < 50; k++)
		REQUIRE(sc_stack_push(c, "s", sc_int(k)) == 0);
}

TEST_CASE("every kind of table passes the check after a varied workload", "[check]")
{
	const uint32_t types[] = { SC_SET, SC_ORDERED_SET, SC_BAG, SC_DUPLICATE_BAG };
	for (uint32_t type : types) {
		INFO("table type " << type);
		sc_options o = options(4, 64 << 20);
		o.table_type = type;
		Cache c(unique_name("check"), o);
		REQUIRE(c.start_error() == 0);
		varied_workload(c);
		std::string problems;
		sc_check_report rep;
		CHECK(check_segment(c, 0, &problems) == 0);
		CHECK(problems == "");
		REQUIRE(sc_check(c, SC_CHECK_NO_LOCKS, &rep) == 0);
		CHECK(rep.records > 1000);
		CHECK(rep.blocks > rep.records);
		CHECK(rep.problems == 0);
	}
}

// The problem the check must name, and in which partition.
static void expect_problem(sc_cache *c, uint32_t part, const char *what)
{
	sc_check_report rep;
	REQUIRE(sc_check(c, SC_CHECK_NO_LOCKS, &rep) == -EUCLEAN);
	bool named = false;
	std::string all;
	for (uint32_t i = 0; i < rep.listed; i++) {
		all += rep.list[i].what + std::string("\n");
		named |= rep.list[i].partition == (int32_t)part && contains(rep.list[i].what, what);
	}
	INFO(all);
	CHECK(named);
}

TEST_CASE("the check names the partition and what is wrong in it", "[check]")
{
	sc_options o = options(4, 64 << 20);
	Cache c(unique_name("checkbad"), o);
	REQUIRE(c.start_error() == 0);
	varied_workload(c);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(1)));
	REQUIRE(sc_check(c, 0, nullptr) == 0);

	SECTION("a block nobody can reach")
	{
		REQUIRE(sctest_leak_block(c, part, 100) == 0);
		expect_problem(c, part, "reachable from nowhere");
	}
	SECTION("a counter off by one")
	{
		sctest_add_to_record_count(c, part, 1);
		expect_problem(c, part, "records: the partition counts");
	}
	SECTION("a record's bytes changed under its checksum")
	{
		sctest_flip_record_byte(c, part);
		expect_problem(c, part, "checksum");
	}
	SECTION("a record whose length runs off the heap")
	{
		sctest_set_first_record_len(c, part, 0xfffff000u);
		expect_problem(c, part, "not a block inside the heap");
	}
	SECTION("a limbo list cut short")
	{
		uint32_t head, tail;
		sctest_limbo_ends(c, part, &head, &tail);
		REQUIRE(head != 0);
		sctest_set_limbo_ends(c, part, head, 0);
		expect_problem(c, part, "retired block is not in the limbo list");
	}
}

TEST_CASE("a partition a scribbler damaged reads -EUCLEAN, is named, and is reset to empty", "[check][reset]")
{
	sc_options o = options(4, 64 << 20);
	Cache c(unique_name("reset"), o);
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 2000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("value"))) == 0);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(77)));
	REQUIRE(sctest_damage_record_of(c, part, 77) == 0);

	// Readers in another process: the damaged record is -EUCLEAN, nobody crashes.
	pid_t pid = spawn([&] {
		sc_cache *h = nullptr;
		if (sc_attach(c.name().c_str(), nullptr, &h))
			return 2;
		sc_tuples *t = nullptr;
		int damaged = 0;
		for (int k = 0; k < 2000; k++) {
			int r = sc_get(h, SC_TUPLE(sc_int(k)), &t);
			if (r == 1)
				sc_tuples_free(t);
			else if (r == -EUCLEAN)
				damaged++;
			else
				return 3;
		}
		sc_stop(h);
		return damaged >= 1 ? 0 : 4;
	});
	REQUIRE(wait_child(pid) == 0);
	expect_problem(c, part, "not a block inside the heap");
	// Writes to it are refused rather than built on damage; other partitions work on.
	CHECK(sc_put(c, SC_TUPLE(sc_int(77), sc_str("again"))) == -EUCLEAN);

	REQUIRE(sc_partition_reset(c, part) == 0);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	Stats s(c);
	CHECK(s->partitions[part].records == 0);
	int left = 0;
	sc_tuples *t = nullptr;
	for (int k = 0; k < 2000; k++) {
		int r = sc_get(c, SC_TUPLE(sc_int(k)), &t);
		REQUIRE(r >= 0);
		if (r == 1) {
			CHECK(sctest_partition_of(c, SC_TUPLE(sc_int(k))) != part);
			sc_tuples_free(t);
			left++;
		}
	}
	CHECK(left == 2000 - static_cast<int>(s->partitions[part].records) - [&] {
		int n = 0;
		for (int k = 0; k < 2000; k++)
			n += sctest_partition_of(c, SC_TUPLE(sc_int(k))) == part;
		return n;
	}());
	REQUIRE(sc_put(c, SC_TUPLE(sc_int(77), sc_str("again"))) == 0);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(sc_partition_reset(c, 8) == -ERANGE);
}

TEST_CASE("one check names every damaged partition, and one pass of resets mends them all", "[check][reset]")
{
	sc_options o = options(48, 256 << 20);
	Cache c(unique_name("manydamaged"), o);
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 4000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("value"))) == 0);
	// One damaged record in each of 40 partitions: more than a report lists.
	std::vector<bool> hit(48, false);
	int damaged = 0;
	for (int k = 0; k < 4000 && damaged < 40; k++) {
		const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(k)));
		if (hit[part])
			continue;
		REQUIRE(sctest_damage_record_of(c, part, k) == 0);
		hit[part] = true;
		damaged++;
	}
	sc_check_report rep;
	REQUIRE(sc_check(c, 0, &rep) == -EUCLEAN);
	CHECK(rep.listed == SC_CHECK_LISTED);
	CHECK(rep.problems >= 40);
	CHECK(rep.damaged_partitions == 40);
	CHECK(rep.segment_problems == 0);
	for (uint32_t p = 0; p < 96; p++)
		CHECK(sc_check_damaged(&rep, p) == (p < 48 && hit[p]));
	// The remedy, once: a reset of every partition the report marks.
	for (uint32_t p = 0; p < 96; p++)
		if (sc_check_damaged(&rep, p))
			REQUIRE(sc_partition_reset(c, p) == 0);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	for (int k = 0; k < 4000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("again"))) == 0);
	CHECK(Stats(c)->total.records == 4000);
}

TEST_CASE("a page map a stray write changed is rebuilt by sc_repair, and no partition loses a tuple",
	  "[check][repair]")
{
	sc_options o = options(4, 64 << 20);
	Cache c(unique_name("pagemapfix"), o);
	REQUIRE(c.start_error() == 0);
	varied_workload(c);
	// Slabs carved to their end and sealed, with free blocks of every size in them.
	const std::string filler(300, 'f');
	for (int k = 0; k < 60000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(10000 + k % 3000),
					   sc_bytes(filler.data(), 20 + k % 280))) == 0);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(1)));
	const uint64_t at = sctest_offset(c, SCTEST_SLAB_PAGE_WORD, part);
	REQUIRE(at != 0);
	// The partition's slab now reads as free (or as another partition's): a page to hand out twice.
	const uint32_t words[] = { 0u, 0x80000000u | ((part + 1) % 8) };
	const uint32_t word = GENERATE_REF(from_range(words, words + 2));
	INFO("page word := " << word);
	REQUIRE(sctest_scribble(c, at, &word, sizeof(word)) == 0);
	sc_check_report rep;
	REQUIRE(sc_check(c, SC_CHECK_NO_LOCKS, &rep) == -EUCLEAN);
	CHECK(rep.problems > 0);

	REQUIRE(sc_repair(c) == 0); // nothing emptied: the partitions themselves are whole
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	sc_tuples *t = nullptr;
	for (int k = 0; k < 1000; k++) {
		const int r = sc_get(c, SC_TUPLE(sc_int(k)), &t);
		CHECK(r == (k % 3 == 0 && k < 900 ? 0 : 1));
		sc_tuples_free(t);
	}
	// Writes reuse memory again without handing the slab to anyone else.
	for (int k = 0; k < 20000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k % 1000), sc_str("value"), sc_int(k))) == 0);
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
}

TEST_CASE("a slab whose header gives a length of no slab is damage the checker names, and a reset clears",
	  "[check][repair]")
{
	Cache c(unique_name("slablen"), options(4, 64 << 20));
	REQUIRE(c.start_error() == 0);
	for (int k = 0; k < 3000; k++) // past the first slab of a page: a second and a third
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("a value of some length"))) == 0);
	const uint32_t part = sctest_partition_of(c, SC_TUPLE(sc_int(1)));
	const uint64_t at = sctest_offset(c, SCTEST_SLAB_PAGES, part);
	REQUIRE(at != 0);
	// None, more than a slab may be, and one that would reach past the heap.
	const uint32_t lengths[] = { 0u, 17u, 0x7fffffffu };
	const uint32_t pages = GENERATE_REF(from_range(lengths, lengths + 3));
	INFO("pages := " << pages);
	REQUIRE(sctest_scribble(c, at, &pages, sizeof(pages)) == 0);
	sc_check_report rep;
	REQUIRE(sc_check(c, SC_CHECK_NO_LOCKS, &rep) == -EUCLEAN);
	bool named = false;
	for (uint32_t i = 0; i < rep.listed; i++)
		named |= rep.list[i].partition == static_cast<int32_t>(part) &&
			 contains(rep.list[i].what, "a length of no slab");
	CHECK(named);
	CHECK(sc_check_damaged(&rep, part));

	REQUIRE(sc_partition_reset(c, part) == 0);
	std::string problems;
	CHECK(check_segment(c, 0, &problems) == 0);
	CHECK(problems == "");
	for (int k = 0; k < 3000; k++)
		REQUIRE(sc_put(c, SC_TUPLE(sc_int(k), sc_str("again"))) == 0);
	CHECK(check_segment(c, 0, &problems) == 0);
}
