/* checksum.h — the checksum every record carries: CRC32C in three lanes, in hardware where there is one. */
#ifndef SC_CHECKSUM_H
#define SC_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Three CRC32C streams over interleaved 8-byte words, folded into one
 * with the same instruction. A read verifies the record it returns, so
 * this sits on every get: the streams keep the CPU's one CRC unit busy
 * every cycle (one stream waits three cycles per word for its own last
 * result), which makes it about twice as fast as XXH3 over 100 to 1000
 * bytes on the machines we measured (docs/benchmarks.md). Any change of
 * one word changes its stream, so a single scribble never passes.
 *
 * The value is part of the segment's format: the SSE 4.2 instruction and
 * the table used without it give the same result.
 */
uint32_t sc_checksum(const void *data, size_t len, uint64_t seed);

/* The same, from the table alone: what a CPU without the instruction computes. */
uint32_t sc_checksum_portable(const void *data, size_t len, uint64_t seed);

#endif /* SC_CHECKSUM_H */
