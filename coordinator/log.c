/* log.c — supercached's log lines, on stderr with the level prefix journald reads. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "daemon.h"

void scd_log(const struct scd_daemon *d, int level, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_DEBUG && !(d && d->cfg.debug_log))
		return;
	fprintf(stderr, "<%d>", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
