/* bus_coordinator.c — the org.supercache.Coordinator1 interface: stats, configuration, check, logging. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/bus_dict.h"

static double uptime_seconds(const struct scd_daemon *d)
{
	uint64_t now = d->started_usec;

	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	return (double)(now - d->started_usec) / 1e6;
}

/* The entries of a Stats reply, into an open a{sv}. */
static int append_stats(sd_bus_message *m, const struct scd_daemon *d, const sc_cache_stats *s)
{
	const sc_partition_stats *t = &s->total;
	const struct scd_maintenance_totals *mt = &d->maintenance;
	int r = scd_dict_s(m, "name", d->name);

	if (r >= 0)
		r = scd_dict_u(m, "num_partition", s->num_partition);
	if (r >= 0)
		r = scd_dict_u(m, "readers", s->readers);
	if (r >= 0)
		r = scd_dict_t(m, "memory_limit", s->memory_limit);
	if (r >= 0)
		r = scd_dict_t(m, "memory_used", s->memory_used);
	if (r >= 0)
		r = scd_dict_t(m, "records", t->records);
	if (r >= 0)
		r = scd_dict_t(m, "bytes", t->bytes);
	if (r >= 0)
		r = scd_dict_t(m, "puts", t->puts);
	if (r >= 0)
		r = scd_dict_t(m, "gets", t->gets);
	if (r >= 0)
		r = scd_dict_t(m, "hits", t->hits);
	if (r >= 0)
		r = scd_dict_t(m, "deletes", t->deletes);
	if (r >= 0)
		r = scd_dict_t(m, "retired_bytes", t->retired_bytes + s->structures.retired_bytes);
	if (r >= 0)
		r = scd_dict_t(m, "locks", t->locks + s->structures.locks);
	if (r >= 0)
		r = scd_dict_t(m, "writer_deaths", t->writer_deaths + s->structures.writer_deaths);
	if (r >= 0)
		r = scd_dict_t(m, "evictions", t->evictions + s->structures.evictions);
	if (r >= 0)
		r = scd_dict_t(m, "expirations", t->expirations + s->structures.expirations);
	if (r >= 0)
		r = scd_dict_t(m, "structure_entries", s->structures.records);
	if (r >= 0)
		r = scd_dict_t(m, "grace_periods", s->grace_periods);
	if (r >= 0)
		r = scd_dict_u(m, "oldest_reader_pid", s->oldest_reader_pid);
	if (r >= 0)
		r = scd_dict_t(m, "oldest_reader_lag", s->oldest_reader_lag);
	if (r >= 0)
		r = scd_dict_t(m, "maintenance_passes", mt->passes);
	if (r >= 0)
		r = scd_dict_t(m, "reclaimed_bytes", mt->reclaimed_bytes);
	if (r >= 0)
		r = scd_dict_t(m, "dead_readers_released", mt->dead_readers);
	if (r >= 0)
		r = scd_dict_t(m, "expired", mt->expired);
	if (r >= 0)
		r = scd_dict_d(m, "uptime_seconds", uptime_seconds(d));
	return r;
}

/* Reply to m with the cache's stats as an a{sv}, or, with per_node, as a{sa{sv}} keyed by node. */
static int reply_stats(sd_bus_message *m, struct scd_daemon *d, sd_bus_error *e, bool per_node)
{
	sd_bus_message *reply = NULL;
	sc_cache_stats *s;
	char host[HOST_NAME_MAX + 1];
	int r = sc_stats(d->cache, &s);

	if (r)
		return scd_bus_cache_error(e, r);
	scd_host_name(host, sizeof(host));
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0 && per_node)
		r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}");
	if (r >= 0 && per_node)
		r = sd_bus_message_open_container(reply, 'e', "sa{sv}");
	if (r >= 0 && per_node)
		r = sd_bus_message_append(reply, "s", host);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = append_stats(reply, d, s);
	for (int depth = 0; r >= 0 && depth < (per_node ? 3 : 1); depth++)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	sc_stats_free(s);
	return r;
}

static int method_stats(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	return reply_stats(m, userdata, e, false);
}

/* Local mode: the cluster is this node alone. */
static int method_cluster_stats(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	return reply_stats(m, userdata, e, true);
}

static int method_distributed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;

	(void)e;
	return sd_bus_reply_method_return(m, "b", (int)(d->cfg.cluster == SC_CLUSTER_DISTRIBUTED));
}

static int method_config(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	struct scd_value v;
	const char *key;
	int r = sd_bus_message_new_method_return(m, &reply);

	(void)e;
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_s(reply, "name", d->name);
	for (unsigned i = 0; r >= 0 && (key = scd_config_key(i)); i++) {
		scd_config_value(&d->cfg, i, &v);
		switch (v.kind) {
		case SCD_VALUE_UINT:
			r = scd_dict_t(reply, key, v.u);
			break;
		case SCD_VALUE_DOUBLE:
			r = scd_dict_d(reply, key, v.d);
			break;
		case SCD_VALUE_BOOL:
			r = scd_dict_b(reply, key, v.b);
			break;
		case SCD_VALUE_TEXT:
			r = scd_dict_s(reply, key, v.text);
			break;
		}
	}
	/* What the cache was created with, which a configuration asking for 0 leaves to the library. */
	if (r >= 0)
		r = scd_dict_u(reply, "num_partition_effective", d->cache_opts.num_partition);
	if (r >= 0)
		r = scd_dict_t(reply, "max_retired_effective", d->cache_opts.max_retired);
	return scd_dict_send(reply, r);
}

static int append_problems(sd_bus_message *m, const sc_check_report *rep)
{
	int r = scd_dict_open_array(m, "listed", "(its)");

	for (uint32_t i = 0; r >= 0 && i < rep->listed; i++)
		r = sd_bus_message_append(m, "(its)", rep->list[i].partition, rep->list[i].offset,
					  rep->list[i].what);
	return r >= 0 ? scd_dict_close(m) : r;
}

/* sc_check with locks: repairs what dead writers left, then reports. Damage is a result, not an error. */
static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	sc_check_report rep;
	int r = sc_check(d->cache, 0, &rep);

	if (r && r != -EUCLEAN)
		return scd_bus_cache_error(e, r);
	scd_log(d, r ? LOG_ERR : LOG_INFO, "check: %llu problems in %llu records, %llu partitions repaired",
		(unsigned long long)rep.problems, (unsigned long long)rep.records,
		(unsigned long long)rep.repaired);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_b(reply, "whole", rep.problems == 0);
	if (r >= 0)
		r = scd_dict_t(reply, "problems", rep.problems);
	if (r >= 0)
		r = scd_dict_t(reply, "records", rep.records);
	if (r >= 0)
		r = scd_dict_t(reply, "blocks", rep.blocks);
	if (r >= 0)
		r = scd_dict_t(reply, "repaired", rep.repaired);
	if (r >= 0)
		r = append_problems(reply, &rep);
	return scd_dict_send(reply, r);
}

static int method_set_debug_log(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	int enable;
	int r = sd_bus_message_read(m, "b", &enable);

	(void)e;
	if (r < 0)
		return r;
	d->cfg.debug_log = enable;
	scd_log(d, LOG_INFO, "debug logging %s by %s", enable ? "enabled" : "disabled",
		sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "a direct peer");
	return sd_bus_reply_method_return(m, "");
}

/*
 * Who may call what is the bus policy's to decide (packaging/, installed in
 * the bus's system.d): every method is marked unprivileged here so that
 * sd-bus adds no capability check of its own, which would refuse the
 * supercache group the policy lets in.
 */
const sd_bus_vtable scd_coordinator_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("Stats", "", , "a{sv}", SD_BUS_PARAM(stats), method_stats,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ClusterStats", "", , "a{sa{sv}}", SD_BUS_PARAM(nodes), method_cluster_stats,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Distributed", "", , "b", SD_BUS_PARAM(distributed), method_distributed,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Config", "", , "a{sv}", SD_BUS_PARAM(config), method_config,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Check", "", , "a{sv}", SD_BUS_PARAM(report), method_check,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetDebugLog", "b", SD_BUS_PARAM(enable), "", , method_set_debug_log,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
