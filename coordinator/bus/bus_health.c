/* bus_health.c — the org.supercache.HealthMonitor1 interface, its signals and its timer. */
#include "bus/bus_health.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/bus_cluster.h"
#include "bus/bus_dict.h"
#include "cluster/cluster_node.h"
#include "probes.h"
#include "repeat.h"

static int take_reading(struct scd_daemon *d, struct scd_health *h)
{
	sc_cache_stats *s;
	uint64_t now = 0;
	int r = sc_stats(d->cache, &s);

	if (r)
		return r;
	/* The loop's time of this dispatch: what a reading is taken at, to the timer's precision. */
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	scd_health_measure(&d->cfg, &d->cache_opts, s, &d->health, now, h);
	sc_stats_free(s);
	return 0;
}

static int emit_check(struct scd_daemon *d, const struct scd_health *h)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(d->bus, &m, SCD_OBJECT_PATH, SCD_HEALTH_INTERFACE, "HealthCheck");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_health(m, h);
	return scd_dict_send(m, r);
}

/*
 * Run a health check now: signal HealthCheck with its readings, and
 * HealthAlert once for each check that has just crossed its threshold.
 * 0, or the library's error when no reading could be taken.
 */
static int health_check_now(struct scd_daemon *d, struct scd_health *h)
{
	unsigned raised;
	int r = take_reading(d, h);

	if (r) {
		scd_log(d, LOG_WARNING, "health check: %s", sc_last_error());
		return r;
	}
	raised = scd_health_newly_alerting(&d->health, h);
	SCD_PROBE(health_check, d->trace_id, h->healthy ? 1 : 0, h->memory_used, h->memory_limit,
		  h->retired_bytes, h->readers);
	r = emit_check(d, h);
	for (int i = 0; i < SCD_CHECKS; i++) {
		const struct scd_check_result *c = &h->checks[i];

		if (!(raised & (1u << i)))
			continue;
		scd_log(d, LOG_WARNING, "health alert %s: %s", scd_check_name((enum scd_check)i), c->message);
		SCD_PROBE(health_alert, d->trace_id, scd_check_name((enum scd_check)i),
			  (int64_t)(c->value * 1000.0), (int64_t)(c->threshold * 1000.0));
		if (r >= 0)
			r = sd_bus_emit_signal(d->bus, SCD_OBJECT_PATH, SCD_HEALTH_INTERFACE, "HealthAlert",
					       "sdds", scd_check_name((enum scd_check)i), c->value,
					       c->threshold, c->message);
	}
	/* A signal that could not be sent is the bus's trouble, not the check's: logged, not returned. */
	if (r < 0)
		scd_log(d, LOG_WARNING, "health check: cannot send its signals: %s", strerror(-r));
	scd_log(d, LOG_DEBUG, "health check %llu: %s", (unsigned long long)d->health.checks_run,
		h->healthy ? "healthy" : "degraded");
	return 0;
}

static void health_tick(struct scd_daemon *d)
{
	struct scd_health h;

	health_check_now(d, &h);
}

int scd_health_start(struct scd_daemon *d)
{
	return scd_repeat(d, &d->health_timer, d->cfg.health_interval_ms, health_tick);
}

/* This node's name: the cluster's name for it in distributed mode, else this host's. */
static const char *node_name(const struct scd_daemon *d, char *host, size_t len)
{
	if (d->cluster)
		return d->cfg.node_name;
	scd_host_name(host, len);
	return host;
}

static int reply_health(sd_bus_message *m, const struct scd_daemon *d, const struct scd_health *h,
			bool cluster)
{
	char host[HOST_NAME_MAX + 1];
	const char *node = node_name(d, host, sizeof(host));
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(m, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0 && cluster && d->cluster) {
		r = scd_bus_cluster_health(reply, d, h->healthy);
	} else if (r >= 0 && cluster) {
		r = scd_dict_s(reply, "cluster", "local");
		if (r >= 0)
			r = scd_dict_u(reply, "nodes", 1);
		if (r >= 0)
			r = scd_dict_u(reply, "healthy_nodes", h->healthy ? 1 : 0);
	}
	if (r >= 0)
		r = scd_dict_s(reply, "node", node);
	if (r >= 0)
		r = scd_dict_health(reply, h);
	return scd_dict_send(reply, r);
}

/* A reading for a method's reply; alerts are raised only by ForceCheck and the timer. */
static int reading_for_reply(struct scd_daemon *d, struct scd_health *h, sd_bus_error *e)
{
	int r = take_reading(d, h);

	return r ? scd_bus_cache_error(e, r) : 0;
}
static int method_cluster_health(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_health h;
	int r = reading_for_reply(userdata, &h, e);

	return r < 0 ? r : reply_health(m, userdata, &h, true);
}

/*
 * This node's reading; "" names it too. The other members' come from their
 * own coordinators: Cluster1.NodeHealth has what this node knows of them.
 */
static int method_node_health(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	struct scd_health h;
	char host[HOST_NAME_MAX + 1];
	const char *node, *self = node_name(d, host, sizeof(host));
	int r = sd_bus_message_read(m, "s", &node);

	if (r < 0)
		return r;
	if (node[0] && strcmp(node, self) != 0)
		return sd_bus_error_setf(
			e, SCD_ERROR_NO_SUCH_NODE,
			d->cluster ? "node \"%s\": this coordinator reads node \"%s\" only "
				     "(Cluster1.NodeHealth has the others' links)"
				   : "no node \"%s\": this cluster is local, its one node is \"%s\"",
			node, self);
	r = reading_for_reply(d, &h, e);
	return r < 0 ? r : reply_health(m, d, &h, false);
}

/* Local mode replicates nothing: every partition's lag is zero and it has no replicas. */
static int method_replication_lag(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	uint32_t partition;
	int r = sd_bus_message_read(m, "u", &partition);

	if (r < 0)
		return r;
	if (partition >= d->cache_opts.num_partition)
		return sd_bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS,
					 "partition %u: the cache has %u (0 to %u)", partition,
					 d->cache_opts.num_partition, d->cache_opts.num_partition - 1);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_u(reply, "partition", partition);
	if (r >= 0 && d->cluster && d->cluster->replication)
		return scd_dict_send(reply, scd_bus_replication_lag(reply, d, partition));
	if (r >= 0)
		r = scd_dict_s(reply, "mode", "local");
	if (r >= 0)
		r = scd_dict_u(reply, "replicas", 0);
	if (r >= 0)
		r = scd_dict_d(reply, "lag_seconds", 0.0);
	if (r >= 0)
		r = scd_dict_t(reply, "lag_writes", 0);
	return scd_dict_send(reply, r);
}

static uint64_t partition_records(uint32_t i, const void *arg)
{
	return ((const sc_cache_stats *)arg)->partitions[i].records;
}

static uint64_t partition_bytes(uint32_t i, const void *arg)
{
	return ((const sc_cache_stats *)arg)->partitions[i].bytes;
}

static int method_partition_balance(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	struct scd_balance b;
	sc_cache_stats *s;
	int r = sc_stats(d->cache, &s);

	if (r)
		return scd_bus_cache_error(e, r);
	scd_health_balance(s, &b);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_at(reply, "records", s->num_partition, partition_records, s);
	if (r >= 0)
		r = scd_dict_at(reply, "bytes", s->num_partition, partition_bytes, s);
	if (r >= 0)
		r = scd_dict_d(reply, "min_bytes", b.min);
	if (r >= 0)
		r = scd_dict_d(reply, "max_bytes", b.max);
	if (r >= 0)
		r = scd_dict_d(reply, "mean_bytes", b.mean);
	if (r >= 0)
		r = scd_dict_d(reply, "stddev_bytes", b.stddev);
	if (r >= 0)
		r = scd_dict_d(reply, "imbalance", b.imbalance);
	r = scd_dict_send(reply, r);
	sc_stats_free(s);
	return r;
}

/* A health check now, as the timer runs one: the HealthCheck signal, and HealthAlert for what crossed. */
static int method_force_check(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct scd_health h;
	int r = health_check_now(userdata, &h);

	return r ? scd_bus_cache_error(e, r) : reply_health(m, userdata, &h, false);
}

/* As for Coordinator1, the bus policy decides who may call what (bus_coordinator.c says why). */
const sd_bus_vtable scd_health_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("ClusterHealth", "", , "a{sv}", SD_BUS_PARAM(health), method_cluster_health,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("NodeHealth", "s", SD_BUS_PARAM(node), "a{sv}", SD_BUS_PARAM(health),
				 method_node_health, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ReplicationLag", "u", SD_BUS_PARAM(partition), "a{sv}", SD_BUS_PARAM(lag),
				 method_replication_lag, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("PartitionBalance", "", , "a{sv}", SD_BUS_PARAM(balance),
				 method_partition_balance, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ForceCheck", "", , "a{sv}", SD_BUS_PARAM(health), method_force_check,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("HealthCheck", "a{sv}", SD_BUS_PARAM(health), 0),
	SD_BUS_SIGNAL_WITH_NAMES(
		"HealthAlert", "sdds",
		SD_BUS_PARAM(check) SD_BUS_PARAM(value) SD_BUS_PARAM(threshold) SD_BUS_PARAM(message), 0),
	SD_BUS_VTABLE_END,
};
