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
