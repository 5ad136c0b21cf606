/* clock.h — the library's one clock: monotonic nanoseconds, for deadlines and patience. */
#ifndef SC_CLOCK_H
#define SC_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * CLOCK_MONOTONIC_COARSE: a vDSO read of the last tick (1-4 ms old), no
 * system call. Every deadline in the library is far coarser than a tick,
 * and a write that checks one must not pay for a precise clock.
 */
static inline uint64_t sc_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* SC_CLOCK_H */
