/* clock.h — the library's one clock: nanoseconds of a kernel clock, for deadlines, patience and birth dates. */
#ifndef SC_CLOCK_H
#define SC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t sc_clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * CLOCK_MONOTONIC_COARSE: a vDSO read of the last tick (1-4 ms old), no
 * system call. Every deadline in the library is far coarser than a tick,
 * and a write that checks one must not pay for a precise clock.
 */
static inline uint64_t sc_clock_ns(void)
{
	return sc_clock_read(CLOCK_MONOTONIC_COARSE);
}

/*
 * How far CLOCK_MONOTONIC_COARSE may lag CLOCK_MONOTONIC: two ticks (two
 * of its resolution). It reads the time the kernel accounted at its last
 * tick, and a tick accounts only whole tick intervals: up to one interval
 * not yet accounted at the tick, and one more until the next (5.8 ms
 * measured behind a precise reading on a 4 ms tick). A deadline that must
 * not be overrun is checked as sc_clock_ns() + this < deadline.
 */
static inline uint64_t sc_clock_coarse_lag_ns(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res))
		return 20ull * 1000 * 1000; /* two of HZ=100's ticks, the longest a kernel has */
	return 2 * ((uint64_t)res.tv_sec * 1000000000ull + (uint64_t)res.tv_nsec);
}

/* CLOCK_MONOTONIC: for the lazy_put flusher, whose timed waits run on it (pthread_condattr_setclock). */
static inline uint64_t sc_clock_precise_ns(void)
{
	return sc_clock_read(CLOCK_MONOTONIC);
}

/* CLOCK_REALTIME: only to say when a segment was created, for people to read. */
static inline uint64_t sc_clock_realtime_ns(void)
{
	return sc_clock_read(CLOCK_REALTIME);
}

#endif /* SC_CLOCK_H */
