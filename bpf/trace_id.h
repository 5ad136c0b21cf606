/* trace_id.h — the id the USDT probes give a cache, defined once for the library, supercached and supercache-top. */
#ifndef SC_TRACE_ID_H
#define SC_TRACE_ID_H

#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/*
 * The XXH3 64-bit hash of the cache's name (its bytes, no terminator, seed
 * 0): probes carry it as their first argument, so a BPF program keeps to
 * one cache by comparing one integer instead of reading a string.
 */
static inline uint64_t sc_trace_id_of(const char *name)
{
	return XXH3_64bits(name, strlen(name));
}

#endif
