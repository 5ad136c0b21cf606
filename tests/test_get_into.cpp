// test_get_into.cpp — sc_get_into and sc_kv_get_into: a get into the caller's buffer, with the same tuples
// as sc_get on every table type, the size asked for and reported, a short buffer refused with the size it
// needs, a bad buffer refused, and nothing found leaving nothing.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace sctest;

namespace
{

// A tuple's fields as text, to compare results of two calls.
std::string text_of(const sc_tuples *t)
{
	std::string s;
	for (size_t i = 0; t && i < t->count; i++) {
		s += "(";
		for (uint32_t f = 0; f < t->tuples[i].nfields; f++) {
			const sc_field &x = t->tuples[i].fields[f];
			if (x.type == SC_FIELD_BYTES)
				s += std::string(static_cast<const char *>(x.v.p), x.len);
			else
				s += std::to_string(x.v.i);
			s += ",";
		}
		s += ")";
	}
	return s;
}

// An 8-aligned buffer of n bytes.
std::vector<uint64_t> buffer(size_t n)
{
	return std::vector<uint64_t>((n + 7) / 8 + 1);
}

} // namespace

TEST_CASE("sc_get_into lays out what sc_get finds, in the caller's buffer, on every table type", "[get-into]")
{
	for (uint32_t type : every_table_type)
		DYNAMIC_SECTION("table type " << type)
		{
			Cache c(unique_name("get-into"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			const std::string long_value(300, 'v');
			REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_int(1), sc_str("one"))) == 0);
			REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_int(2), sc_str(long_value.c_str()))) == 0);
			REQUIRE(sc_put(c, SC_TUPLE(sc_str("other"), sc_int(3))) == 0);
			const int expect = type == SC_BAG || type == SC_DUPLICATE_BAG ? 2 : 1;

			sc_tuples *copied = nullptr;
			REQUIRE(sc_get(c, SC_TUPLE(sc_str("k")), &copied) == expect);
			const std::string want = text_of(copied);
			sc_tuples_free(copied);

			// The size alone, then exactly that much, then one byte less.
			const sc_tuples *out = reinterpret_cast<const sc_tuples *>(&out);
			size_t need = 0;
			CHECK(sc_get_into(c, SC_TUPLE(sc_str("k")), nullptr, 0, &out, &need) == -ERANGE);
			CHECK(out == nullptr);
			REQUIRE(need > sizeof(sc_tuples) + long_value.size());
			std::vector<uint64_t> buf = buffer(need);
			size_t used = 0;
			REQUIRE(sc_get_into(c, SC_TUPLE(sc_str("k")), buf.data(), need, &out, &used) ==
				expect);
			CHECK(used == need);
			CHECK(static_cast<const void *>(out) == buf.data());
			CHECK(text_of(out) == want);
			// Every byte of the result lies inside the buffer.
			const auto *lo = reinterpret_cast<const uint8_t *>(buf.data()), *hi = lo + need;
			for (size_t i = 0; i < out->count; i++)
				for (uint32_t f = 0; f < out->tuples[i].nfields; f++) {
					const sc_field &x = out->tuples[i].fields[f];
					if (x.type == SC_FIELD_BYTES && x.len) {
						const auto *p = static_cast<const uint8_t *>(x.v.p);
						CHECK((p >= lo && p + x.len <= hi));
					}
				}
			size_t short_need = 0;
			CHECK(sc_get_into(c, SC_TUPLE(sc_str("k")), buf.data(), need - 1, &out,
					  &short_need) == -ERANGE);
			CHECK(short_need == need);
			CHECK(out == nullptr);
			CHECK(contains(sc_last_error(), "short"));

			// A missing key: 0, nothing laid out; need may be NULL.
			CHECK(sc_get_into(c, SC_TUPLE(sc_str("none")), buf.data(), need, &out, nullptr) == 0);
			CHECK(out == nullptr);
		}
}

TEST_CASE("sc_get_into refuses a bad buffer and a NULL out", "[get-into]")
{
	Cache c(unique_name("get-into-bad"), typed_options(SC_SET, 2, 16 << 20));
	REQUIRE(c.start_error() == 0);
	REQUIRE(sc_put(c, SC_TUPLE(sc_str("k"), sc_int(1))) == 0);
	std::vector<uint64_t> buf = buffer(256);
	const sc_tuples *out = nullptr;
	size_t need = 0;
	auto *odd = reinterpret_cast<uint8_t *>(buf.data()) + 4;
	CHECK(sc_get_into(c, SC_TUPLE(sc_str("k")), odd, 200, &out, &need) == -EINVAL);
	CHECK(contains(sc_last_error(), "aligned"));
	CHECK(sc_get_into(c, SC_TUPLE(sc_str("k")), nullptr, 200, &out, &need) == -EINVAL);
	CHECK(sc_get_into(c, SC_TUPLE(sc_str("k")), buf.data(), 256, nullptr, &need) == -EINVAL);
	CHECK(sc_get_into(nullptr, SC_TUPLE(sc_str("k")), buf.data(), 256, &out, &need) == -EINVAL);
	CHECK(sc_get_into(c, nullptr, buf.data(), 256, &out, &need) == -EINVAL);
	REQUIRE(sc_get_into(c, SC_TUPLE(sc_str("k")), buf.data(), 256, &out, &need) == 1);
	CHECK(out->tuples[0].fields[1].v.i == 1);
}

TEST_CASE("sc_kv_get_into hands out the newest value, bytes in the caller's buffer, on every table type",
	  "[get-into]")
{
	for (uint32_t type : every_table_type)
		DYNAMIC_SECTION("table type " << type)
		{
			Cache c(unique_name("kv-get-into"), typed_options(type, 4, 16 << 20));
			REQUIRE(c.start_error() == 0);
			REQUIRE(sc_kv_add(c, "ns", sc_str("n"), sc_int(41)) == 0);
			REQUIRE(sc_kv_add(c, "ns", sc_str("n"), sc_int(42)) == 0);
			REQUIRE(sc_kv_add(c, "ns", sc_str("s"), sc_str("first")) == 0);
			REQUIRE(sc_kv_add(c, "ns", sc_str("s"), sc_str("second value")) == 0);

			char buf[64];
			sc_field v = {};
			size_t need = 99;
			REQUIRE(sc_kv_get_into(c, "ns", sc_str("n"), buf, sizeof(buf), &v, &need) == 1);
			CHECK(v.type == SC_FIELD_INT);
			CHECK(v.v.i == 42);
			CHECK(need == 0);

			REQUIRE(sc_kv_get_into(c, "ns", sc_str("s"), buf, sizeof(buf), &v, &need) == 1);
			CHECK(v.type == SC_FIELD_BYTES);
			CHECK(v.v.p == buf);
			CHECK(std::string(buf, v.len) == "second value");
			CHECK(need == 12);

			// Short: -ERANGE and the length; the size alone with no buffer.
			CHECK(sc_kv_get_into(c, "ns", sc_str("s"), buf, 11, &v, &need) == -ERANGE);
			CHECK(need == 12);
			need = 0;
			CHECK(sc_kv_get_into(c, "ns", sc_str("s"), nullptr, 0, &v, &need) == -ERANGE);
			CHECK(need == 12);

			// Missing: 0. Bad arguments: -EINVAL.
			CHECK(sc_kv_get_into(c, "ns", sc_str("none"), buf, sizeof(buf), &v, nullptr) == 0);
			CHECK(sc_kv_get_into(c, "ns", sc_str("s"), buf, sizeof(buf), nullptr, &need) ==
			      -EINVAL);
			CHECK(sc_kv_get_into(c, "ns", sc_str("s"), nullptr, 8, &v, &need) == -EINVAL);
			CHECK(sc_kv_get_into(c, nullptr, sc_str("s"), buf, sizeof(buf), &v, &need) ==
			      -EINVAL);
		}
}
