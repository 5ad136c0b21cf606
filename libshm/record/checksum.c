/* checksum.c — the checksum every record carries: CRC32C in three lanes, in hardware where there is one. */
#include "record/checksum.h"

#include <stdbool.h>
#include <string.h>

/* CRC32C (Castagnoli, reflected 0x82f63b78) without pre- or post-inversion, as the instruction computes it. */
static uint32_t table[8][256];
static bool table_made;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	__atomic_store_n(&table_made, true, __ATOMIC_RELEASE);
}

static inline uint64_t soft_u64(uint64_t crc, uint64_t w)
{
	uint64_t x = crc ^ w;

	return table[7][x & 0xff] ^ table[6][(x >> 8) & 0xff] ^ table[5][(x >> 16) & 0xff] ^
	       table[4][(x >> 24) & 0xff] ^ table[3][(x >> 32) & 0xff] ^ table[2][(x >> 40) & 0xff] ^
	       table[1][(x >> 48) & 0xff] ^ table[0][x >> 56];
}

static inline uint32_t soft_u32(uint32_t crc, uint32_t w)
{
	uint32_t x = crc ^ w;

	return table[3][x & 0xff] ^ table[2][(x >> 8) & 0xff] ^ table[1][(x >> 16) & 0xff] ^
	       table[0][x >> 24];
}

static inline uint32_t soft_u8(uint32_t crc, uint8_t b)
{
	return table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The lanes, written once for both ways of computing a step. Records are padded to 4 bytes: one 4-byte step ends most. */
#define LANES(U64, U32, U8)                                                         \
	do {                                                                        \
		const uint8_t *p = data;                                            \
		uint64_t a = (uint32_t)seed, b = seed >> 32, c = 0x9e3779b9u ^ len; \
		size_t i = 0;                                                       \
		for (; i + 24 <= len; i += 24) {                                    \
			a = U64(a, load64(p + i));                                  \
			b = U64(b, load64(p + i + 8));                              \
			c = U64(c, load64(p + i + 16));                             \
		}                                                                   \
		for (; i + 8 <= len; i += 8)                                        \
			a = U64(a, load64(p + i));                                  \
		if (i + 4 <= len) {                                                 \
			b = U32((uint32_t)b, load32(p + i));                        \
			i += 4;                                                     \
		}                                                                   \
		for (; i < len; i++)                                                \
			c = U8((uint32_t)c, p[i]);                                  \
		return (uint32_t)U64(U64(a, b), c);                                 \
	} while (0)

uint32_t sc_checksum_portable(const void *data, size_t len, uint64_t seed)
{
	if (!__atomic_load_n(&table_made, __ATOMIC_ACQUIRE))
		make_table(); /* idempotent: racing threads write the same values */
	LANES(soft_u64, soft_u32, soft_u8);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t checksum_sse42(const void *data, size_t len, uint64_t seed)
{
	LANES(_mm_crc32_u64, _mm_crc32_u32, _mm_crc32_u8);
}

uint32_t sc_checksum(const void *data, size_t len, uint64_t seed)
{
	static int have; /* 0: not looked yet, 1: yes, -1: no */

	if (__builtin_expect(have == 0, 0)) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("sse4.2") ? 1 : -1;
	}
	return have > 0 ? checksum_sse42(data, len, seed) : sc_checksum_portable(data, len, seed);
}
#else
uint32_t sc_checksum(const void *data, size_t len, uint64_t seed)
{
	return sc_checksum_portable(data, len, seed);
}
#endif
