/* futex.c — sleeping on a word of the segment until another process changes it, and waking its sleepers. */
#include "shm/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int sc_futex_wait(uint32_t *word, uint32_t seen, uint64_t timeout_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
			       .tv_nsec = (long)(timeout_ns % 1000000000u) };

	if (syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, NULL, 0) == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

void sc_futex_wake(uint32_t *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

int sc_futex_wait_bits(uint32_t *word, uint32_t seen, uint64_t timeout_ns, uint32_t bits)
{
	struct timespec at;

	/* FUTEX_WAIT_BITSET's timeout is a point on CLOCK_MONOTONIC, not a span. */
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += (time_t)(timeout_ns / 1000000000u);
	at.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (at.tv_nsec >= 1000000000) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000;
	}
	if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, seen, &at, NULL, bits) == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

void sc_futex_wake_bits(uint32_t *word, uint32_t bits)
{
	syscall(SYS_futex, word, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, bits);
}
