/* maintenance.c — the maintenance timer: reclamation, dead readers, expiry, and the status line. */
#include "local/maintenance.h"
#include "probes.h"
#include "repeat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-daemon.h>

static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* The one-line summary systemd shows as the unit's status. */
static void status_line(struct scd_daemon *d, char *buf, size_t len)
{
	sc_cache_stats *s;
	char used[32], limit[32];

	if (sc_stats(d->cache, &s)) {
		snprintf(buf, len, "cache %s: stats unavailable: %s", d->name, sc_last_error());
		return;
	}
	snprintf(buf, len, "cache %s: %llu tuples, %llu other entries, %s of %s, %u readers", d->name,
		 (unsigned long long)s->total.records, (unsigned long long)s->structures.records,
		 human_bytes(s->memory_used, used, sizeof(used)),
		 human_bytes(s->memory_limit, limit, sizeof(limit)), s->readers);
	sc_stats_free(s);
}

static void maintenance_pass(struct scd_daemon *d)
{
	struct scd_maintenance_totals *t = &d->maintenance;
	uint64_t freed = 0;
	int released, expired, err;
	char status[256];

	SCD_PROBE(sweep_start, d->trace_id);
	err = sc_reclaim(d->cache, &freed);
	t->reclaimed_bytes += freed;
	/* A lasting error (a damaged partition) is said once, not on every pass. */
	if (err && err != t->last_error)
		scd_log(d, LOG_WARNING, "reclaim: %s", sc_last_error());
	released = sc_release_dead_readers(d->cache);
	if (released > 0) {
		t->dead_readers += (uint64_t)released;
		scd_log(d, LOG_INFO, "released the reader slots of %d processes gone without sc_stop()",
			released);
	}
	/*
	 * A writer stopped holding a lock must not stop the loop: its partition waits for the next pass.
	 * Expiry is a write: a distributed cache's comes with replication, which ships it to every copy.
	 */
	expired = d->cfg.cluster == SC_CLUSTER_DISTRIBUTED ? 0 : sc_expire_within(d->cache, 1);
	if (expired > 0)
		t->expired += (uint64_t)expired;
	if (expired < 0 && expired != t->last_error)
		scd_log(d, LOG_WARNING, "expire: %s", sc_last_error());
	t->last_error = err ? err : released < 0 ? released : expired < 0 ? expired : 0;
	t->passes++;
	SCD_PROBE(sweep_end, d->trace_id, freed, released > 0 ? released : 0, expired > 0 ? expired : 0,
		  t->last_error);
	scd_log(d, LOG_DEBUG, "maintenance pass %llu: %llu bytes reclaimed, %d dead readers, %d expired",
		(unsigned long long)t->passes, (unsigned long long)freed, released > 0 ? released : 0,
		expired > 0 ? expired : 0);
	/* Only a change is worth a message: systemd keeps the last one. */
	status_line(d, status, sizeof(status));
	if (strcmp(status, d->status) != 0) {
		snprintf(d->status, sizeof(d->status), "%s", status);
		sd_notifyf(0, "STATUS=%s", status);
	}
}

int scd_maintenance_start(struct scd_daemon *d)
{
	maintenance_pass(d);
	return scd_repeat(d, &d->maintenance_timer, d->cfg.maintenance_interval_ms, maintenance_pass);
}
