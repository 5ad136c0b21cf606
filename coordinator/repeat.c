/* repeat.c — timers that fire every so many milliseconds on the event loop. */
#include "repeat.h"

#include <errno.h>
#include <stdlib.h>

/* What scd_repeat keeps for one timer. */
struct repeat {
	struct scd_daemon *d;
	uint64_t interval_usec;
	void (*fn)(struct scd_daemon *d);
};

static int on_repeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct repeat *rep = userdata;
	int r;

	(void)usec;
	rep->fn(rep->d);
	r = sd_event_source_set_time_relative(s, rep->interval_usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return r;
}

static void free_repeat(void *userdata)
{
	free(userdata);
}

int scd_repeat(struct scd_daemon *d, sd_event_source **out, uint32_t interval_ms,
	       void (*fn)(struct scd_daemon *d))
{
	struct repeat *rep = malloc(sizeof(*rep));
	int r;

	if (!rep)
		return -ENOMEM;
	*rep = (struct repeat){ d, (uint64_t)interval_ms * 1000u, fn };
	/* 1% of the interval's slack lets the kernel coalesce wake-ups. */
	r = sd_event_add_time_relative(d->event, out, CLOCK_MONOTONIC, rep->interval_usec,
				       rep->interval_usec / 100, on_repeat, rep);
	if (r < 0) {
		free(rep);
		return r;
	}
	return sd_event_source_set_destroy_callback(*out, free_repeat);
}
