/* crash_point.h — places between a writer's stores where a test build can kill it, to prove the repair. */
#ifndef SC_CRASH_POINT_H
#define SC_CRASH_POINT_H

#ifdef SC_TEST_HOOKS
#include <signal.h>
#include <stdint.h>

/*
 * 0: off. Else the process kills itself with SIGKILL at the crash point
 * that brings this to 0, so a test can walk k = 1, 2, ... through every
 * point of a write, in a child process, and check what each death leaves.
 */
extern uint64_t sc_crash_countdown;

#define SC_CRASH_POINT()                                                                       \
	do {                                                                                   \
		if (__builtin_expect(sc_crash_countdown != 0, 0) && --sc_crash_countdown == 0) \
			raise(SIGKILL);                                                        \
	} while (0)
#else
#define SC_CRASH_POINT() ((void)0)
#endif

#endif /* SC_CRASH_POINT_H */
