/* repeat.h — timers that fire every so many milliseconds on the event loop. */
#ifndef SCD_REPEAT_H
#define SCD_REPEAT_H

#include <stdint.h>

#include "daemon.h"

/* A relative timer on CLOCK_MONOTONIC that fires every interval_ms, calling fn(d). */
int scd_repeat(struct scd_daemon *d, sd_event_source **out, uint32_t interval_ms,
	       void (*fn)(struct scd_daemon *d));

#endif /* SCD_REPEAT_H */
