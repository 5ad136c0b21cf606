// checked_value.hpp — test values that carry their own checksum, so a reader can tell a torn or freed record.
#pragma once

#include <supercache.h>

#include <cstdint>
#include <cstring>

namespace sctest
{

// A 100-byte value that carries its own checksum: a reader can tell a torn or freed record.
constexpr size_t kValueSize = 100;

struct Value {
	unsigned char bytes[kValueSize];
};

inline uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

inline Value make_value(int64_t key, uint64_t seq, uint32_t writer)
{
	Value v;
	std::memcpy(v.bytes, &key, 8);
	std::memcpy(v.bytes + 8, &seq, 8);
	std::memcpy(v.bytes + 16, &writer, 4);
	uint64_t x = static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ull ^ seq;
	for (size_t i = 20; i < kValueSize - 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		v.bytes[i] = static_cast<unsigned char>(x >> 56);
	}
	uint64_t sum = fnv1a(v.bytes, kValueSize - 8);
	std::memcpy(v.bytes + kValueSize - 8, &sum, 8);
	return v;
}

// 0 if the value is intact and belongs to key; its sequence number in *seq.
inline int check_value(const sc_field &f, int64_t key, uint64_t *seq)
{
	if (f.type != SC_FIELD_BYTES || f.len != kValueSize)
		return 1;
	const auto *b = static_cast<const unsigned char *>(f.v.p);
	uint64_t sum;
	int64_t k;
	std::memcpy(&sum, b + kValueSize - 8, 8);
	std::memcpy(&k, b, 8);
	std::memcpy(seq, b + 8, 8);
	if (sum != fnv1a(b, kValueSize - 8) || k != key)
		return 2;
	return 0;
}

// For sc_get_view(): checks the viewed tuple's value against key.
struct ViewCheck {
	int64_t key;
	uint64_t seq;
	int bad;
};

inline int view_check(const sc_tuple *t, void *arg)
{
	auto *vc = static_cast<ViewCheck *>(arg);
	vc->bad = t->nfields != 2 ? 3 : check_value(t->fields[1], vc->key, &vc->seq);
	return 0;
}

} // namespace sctest
