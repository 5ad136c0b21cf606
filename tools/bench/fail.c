/* fail.c — the benchmark's error channel: one message per thread, in the spirit of sc_last_error(). */
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"

/* Per thread, because lfht workers are threads that fail independently. */
static _Thread_local char last_error[512];

int bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *bench_last_error(void)
{
	return last_error;
}
