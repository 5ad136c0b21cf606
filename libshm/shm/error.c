/* error.c — sc_strerror() and the per-thread message behind sc_last_error(). */
#include "shm/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "supercache.h"

static __thread char last_error[256];

int sc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

int sc_fail_item(int err, const char *what, size_t i)
{
	char why[sizeof(last_error)];

	snprintf(why, sizeof(why), "%s", last_error);
	return sc_fail(err, "%s %zu: %s", what, i, why);
}

void sc_clear_error(void)
{
	last_error[0] = '\0';
}

SC_EXPORT const char *sc_last_error(void)
{
	return last_error;
}

/* Meanings specific to this library; anything else is the C library's (thread-safe) text. */
SC_EXPORT const char *sc_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ECHILD:
		return "handle used in a child process after fork()";
	case EUCLEAN:
		return "shared memory segment is corrupt";
	case EPROTO:
		return "segment has an incompatible layout";
	case EUSERS:
		return "all reader slots are in use";
	case ENOSPC:
		return "cache memory limit reached";
	case E2BIG:
		return "tuple too large";
	default: {
		const char *desc = strerrordesc_np(err);
		return desc ? desc : "unknown error";
	}
	}
}
