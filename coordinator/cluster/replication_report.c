/* replication_report.c — what a node's replication tells its owner: log lines, events; and the clock it reads. */
#include "cluster/replication_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void scd_repl_logf(const struct scd_replication *r, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!r->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->cfg.log(r->cfg.userdata, level, "%s", line);
}

void scd_repl_event(const struct scd_replication *r, enum scd_repl_event_kind kind, uint32_t log,
		    const char *node, uint64_t a, uint64_t b)
{
	struct scd_repl_event e = { kind, log, node ? node : "", a, b };

	if (r->cfg.on_event)
		r->cfg.on_event(r->cfg.userdata, &e);
}

uint64_t scd_repl_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
