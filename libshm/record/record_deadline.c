/* record_deadline.c — the deadline a time to live gives. */
#include "record/record_deadline.h"

#include <errno.h>

#include "shm/error.h"
#include "supercache.h"

int sc_deadline_after(uint64_t ttl_ms, uint64_t *deadline)
{
	if (ttl_ms == SC_TTL_FOREVER) {
		*deadline = 0;
		return 0;
	}
	if (ttl_ms == 0 || ttl_ms > SC_TTL_MAX_MS)
		return sc_fail(-EINVAL, "time to live of %llu ms: give 1 to %llu ms, or SC_TTL_FOREVER",
			       (unsigned long long)ttl_ms, (unsigned long long)SC_TTL_MAX_MS);
	*deadline = sc_clock_ns() + ttl_ms * 1000000ull;
	return 0;
}
