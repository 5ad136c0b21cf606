/*
 * bus_cluster.c — org.supercache.Cluster1: the members, their links and
 * leases, and the partition map, as this node knows them. In local mode
 * every method answers with an error saying the cache is local.
 */
#include "bus/bus_cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "bus/bus_dict.h"
#include "cluster/cluster_node.h"

#define SCD_ERROR_LOCAL "org.supercache.Cluster1.Error.Local"
#define MAX_PEERS	(2 * SCD_MAX_MEMBERS)

static int local_error(sd_bus_error *e)
{
	return sd_bus_error_set(e, SCD_ERROR_LOCAL,
				"the cache is local: it has no cluster (cluster = distributed)");
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

/* What this node's lease lets it do: "held" (it may act as primary), "joining", or "lapsed". */
static const char *lease_state(const struct scd_daemon *d, uint64_t *remaining_ms)
{
	struct scd_membership_stats ms;
	uint64_t deadline = scd_membership_deadline_ns(d->cluster->membership), now = now_usec() * 1000;

	scd_membership_stats(d->cluster->membership, &ms);
	*remaining_ms = deadline > now ? (deadline - now) / 1000000 : 0;
	if (deadline > now)
		return "held";
	return ms.lapses ? "lapsed" : "joining";
}

static void count_roles(const struct scd_cluster_state *st, const char *node, uint32_t *primaries,
			uint32_t *replicas)
{
	*primaries = *replicas = 0;
	for (uint32_t p = 0; p < st->num_partition; p++) {
		*primaries += strcmp(st->records[p].primary, node) == 0;
		for (uint32_t r = 0; r < st->records[p].replica_count; r++)
			*replicas += strcmp(st->records[p].replicas[r], node) == 0;
	}
}

static const struct scd_peer_stats *peer_of(const struct scd_peer_stats *ps, size_t n, const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ps[i].node, node) == 0)
			return &ps[i];
	return NULL;
}

/* One member's health, into an open a{sv}. */
static int append_node(sd_bus_message *m, const struct scd_daemon *d, const struct scd_member *mem,
		       const struct scd_peer_stats *ps)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	bool self = strcmp(mem->name, d->cfg.node_name) == 0;
	uint64_t remaining = 0, now = now_usec();
	uint32_t primaries, replicas;
	int r = scd_dict_s(m, "listen", mem->listen);

	count_roles(st, mem->name, &primaries, &replicas);
	if (r >= 0)
		r = scd_dict_b(m, "self", self);
	if (r >= 0)
		r = scd_dict_b(m, "up", self || (ps && ps->up));
	if (r >= 0)
		r = scd_dict_s(m, "lease_state", self ? lease_state(d, &remaining) : "registered");
	if (r >= 0 && self)
		r = scd_dict_t(m, "lease_remaining_ms", remaining);
	if (r >= 0)
		r = scd_dict_b(m, "controller", strcmp(st->controller, mem->name) == 0);
	if (r >= 0)
		r = scd_dict_u(m, "primaries", primaries);
	if (r >= 0)
		r = scd_dict_u(m, "replicas", replicas);
	if (r >= 0 && ps) {
		r = scd_dict_t(m, "rtt_us", ps->rtt_ns / 1000);
		if (r >= 0)
			r = scd_dict_t(m, "srtt_us", ps->srtt_ns / 1000);
		if (r >= 0)
			r = scd_dict_t(m, "last_heartbeat_ms_ago",
				       ps->last_ack_usec && now > ps->last_ack_usec
					       ? (now - ps->last_ack_usec) / 1000
					       : 0);
		if (r >= 0)
			r = scd_dict_b(m, "heartbeat_seen", ps->last_ack_usec != 0);
		if (r >= 0)
			r = scd_dict_t(m, "heartbeats_sent", ps->heartbeats_sent);
		if (r >= 0)
			r = scd_dict_t(m, "heartbeats_acked", ps->heartbeats_acked);
		if (r >= 0)
			r = scd_dict_t(m, "bad_frames", ps->bad_frames);
		if (r >= 0)
			r = scd_dict_t(m, "refused", ps->refused);
		if (r >= 0)
			r = scd_dict_t(m, "connects", ps->connects);
	}
	return r;
}

/* The peers' stats, allocated; *n of them. */
static struct scd_peer_stats *peer_stats(const struct scd_daemon *d, size_t *n)
{
	struct scd_peer_stats *ps = calloc(MAX_PEERS, sizeof(*ps));

	*n = ps ? scd_peers_stats(d->cluster->peers, ps, MAX_PEERS) : 0;
	return ps;
}

/* a{sa{sv}}: every member, or the one called only. */
static int append_nodes(sd_bus_message *m, const struct scd_daemon *d, const char *only)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	size_t n;
	struct scd_peer_stats *ps = peer_stats(d, &n);
	int r = ps ? sd_bus_message_open_container(m, 'a', "{sa{sv}}") : -ENOMEM;

	for (uint32_t i = 0; r >= 0 && i < st->member_count; i++) {
		const struct scd_member *mem = &st->members[i];

		if (only && strcmp(only, mem->name))
			continue;
		r = sd_bus_message_open_container(m, 'e', "sa{sv}");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", mem->name);
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'a', "{sv}");
		if (r >= 0)
			r = append_node(m, d, mem, peer_of(ps, n, mem->name));
		for (int depth = 0; r >= 0 && depth < 2; depth++)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	free(ps);
	return r;
}

/* "unreachable_nodes": the other members whose link is down; how many into *count unless NULL. */
static int append_unreachable(sd_bus_message *m, const struct scd_daemon *d, const struct scd_peer_stats *ps,
			      size_t n, uint32_t *count)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	int r = scd_dict_open_array(m, "unreachable_nodes", "s");
	uint32_t down = 0;

	for (uint32_t i = 0; r >= 0 && i < st->member_count; i++) {
		const struct scd_peer_stats *p = peer_of(ps, n, st->members[i].name);

		if (strcmp(st->members[i].name, d->cfg.node_name) == 0 || (p && p->up))
			continue;
		down++;
		r = sd_bus_message_append(m, "s", st->members[i].name);
	}
	if (count)
		*count = down;
	return r >= 0 ? scd_dict_close(m) : r;
}

static int method_cluster_stats(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	const struct scd_cluster_state *st;
	struct scd_membership_stats ms;
	sd_bus_message *reply = NULL;
	sc_cache_stats *s = NULL;
	size_t n;
	struct scd_peer_stats *ps;
	int r;

	if (!d->cluster)
		return local_error(e);
	st = scd_membership_state(d->cluster->membership);
	r = sc_stats(d->cache, &s);
	if (r)
		return scd_bus_cache_error(e, r);
	scd_membership_stats(d->cluster->membership, &ms);
	ps = peer_stats(d, &n);
	r = ps ? sd_bus_message_new_method_return(msg, &reply) : -ENOMEM;
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_s(reply, "cluster", d->cfg.cluster_name);
	if (r >= 0)
		r = scd_dict_s(reply, "node", d->cfg.node_name);
	if (r >= 0)
		r = scd_dict_s(reply, "controller", st->controller);
	if (r >= 0)
		r = scd_dict_s(reply, "phase", ms.phase);
	if (r >= 0)
		r = scd_dict_u(reply, "replication_factor", d->cache_opts.replication_factor);
	if (r >= 0)
		r = scd_dict_u(reply, "num_partitions", d->cache_opts.num_partition);
	/* This node's copy: the others' counts come with the data plane's heartbeats. */
	if (r >= 0)
		r = scd_dict_t(reply, "total_records", s->total.records);
	if (r >= 0)
		r = scd_dict_t(reply, "revision", (uint64_t)ms.revision);
	if (r >= 0)
		r = scd_dict_t(reply, "lease_lapses", ms.lapses);
	if (r >= 0)
		r = scd_dict_t(reply, "records_written", ms.records_written);
	if (r >= 0)
		r = scd_dict_open_array(reply, "nodes", "s");
	for (uint32_t i = 0; r >= 0 && i < st->member_count; i++)
		r = sd_bus_message_append(reply, "s", st->members[i].name);
	if (r >= 0)
		r = scd_dict_close(reply);
	if (r >= 0)
		r = append_unreachable(reply, d, ps, n, NULL);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(reply, "s", "node_stats");
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'v', "a{sa{sv}}");
	if (r >= 0)
		r = append_nodes(reply, d, NULL);
	for (int depth = 0; r >= 0 && depth < 2; depth++)
		r = sd_bus_message_close_container(reply);
	free(ps);
	sc_stats_free(s);
	return scd_dict_send(reply, r);
}

static int method_node_healths(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	int r;

	if (!d->cluster)
		return local_error(e);
	r = sd_bus_message_new_method_return(msg, &reply);
	if (r >= 0)
		r = append_nodes(reply, d, NULL);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_node_health(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	const struct scd_member *mem;
	const char *node;
	size_t n;
	struct scd_peer_stats *ps;
	int r = sd_bus_message_read(msg, "s", &node);

	if (r < 0)
		return r;
	if (!d->cluster)
		return local_error(e);
	mem = scd_state_member(scd_membership_state(d->cluster->membership), node);
	if (!mem)
		return sd_bus_error_setf(e, SCD_ERROR_NO_SUCH_NODE, "no member \"%s\" in cluster %s", node,
					 d->cfg.cluster_name);
	ps = peer_stats(d, &n);
	r = ps ? sd_bus_message_new_method_return(msg, &reply) : -ENOMEM;
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{sv}");
	if (r >= 0)
		r = append_node(reply, d, mem, peer_of(ps, n, node));
	free(ps);
	return scd_dict_send(reply, r);
}

/* a(ttsasb): partition, epoch, primary, replicas, and whether this node acts as its primary now. */
static int method_partition_map(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct scd_daemon *d = userdata;
	sd_bus_message *reply = NULL;
	sc_partition_owners *parts;
	sc_cluster_map map;
	int r;

	if (!d->cluster)
		return local_error(e);
	parts = calloc(d->cache_opts.num_partition, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	r = sc_cluster_map_read(d->cache, &map, parts, d->cache_opts.num_partition);
	if (r) {
		free(parts);
		return scd_bus_cache_error(e, r);
	}
	r = sd_bus_message_new_method_return(msg, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(utsasb)");
	for (uint32_t p = 0; r >= 0 && p < map.num_partition; p++) {
		r = sd_bus_message_open_container(reply, 'r', "utsasb");
		if (r >= 0)
			r = sd_bus_message_append(
				reply, "uts", p, parts[p].epoch,
				parts[p].primary == SC_NO_NODE ? "" : map.nodes[parts[p].primary]);
		if (r >= 0)
			r = sd_bus_message_open_container(reply, 'a', "s");
		for (uint32_t k = 0; r >= 0 && k < parts[p].replica_count; k++)
			r = sd_bus_message_append(
				reply, "s",
				parts[p].replicas[k] == SC_NO_NODE ? "" : map.nodes[parts[p].replicas[k]]);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
		if (r >= 0)
			r = sd_bus_message_append(reply, "b", sc_cluster_acting_primary(d->cache, p) == 1);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free(parts);
	return r;
}

void scd_bus_node_changed(struct scd_daemon *d, const char *node, bool up)
{
	if (d->bus)
		sd_bus_emit_signal(d->bus, SCD_OBJECT_PATH, SCD_CLUSTER_INTERFACE, up ? "NodeUp" : "NodeDown",
				   "s", node);
}

const sd_bus_vtable scd_cluster_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_NAMES("ClusterStats", "", , "a{sv}", SD_BUS_PARAM(stats), method_cluster_stats,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("NodeHealths", "", , "a{sa{sv}}", SD_BUS_PARAM(nodes), method_node_healths,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("NodeHealth", "s", SD_BUS_PARAM(node), "a{sv}", SD_BUS_PARAM(health),
				 method_node_health, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("PartitionMap", "", , "a(utsasb)", SD_BUS_PARAM(partitions),
				 method_partition_map, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("NodeUp", "s", SD_BUS_PARAM(node), 0),
	SD_BUS_SIGNAL_WITH_NAMES("NodeDown", "s", SD_BUS_PARAM(node), 0),
	SD_BUS_VTABLE_END,
};

static const char *const mode_names[] = {
	[SC_REPLICATION_ASYNC] = "async",
	[SC_REPLICATION_SYNC] = "sync",
	[SC_REPLICATION_STRONG] = "strong",
};

/* One replica's lag: an {sv} entry named by the node, holding an a{sv}. */
static int append_replica_lag(sd_bus_message *m, const struct scd_replica_lag *g)
{
	int r = sd_bus_message_open_container(m, 'e', "sa{sv}");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", g->node);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = scd_dict_b(m, "in_sync", g->in_sync);
	if (r >= 0)
		r = scd_dict_b(m, "following", g->following);
	if (r >= 0)
		r = scd_dict_b(m, "copying", g->copying);
	if (r >= 0)
		r = scd_dict_t(m, "acked_seq", g->acked_lseq);
	if (r >= 0)
		r = scd_dict_t(m, "lag_writes", g->behind);
	if (r >= 0)
		r = scd_dict_d(m, "lag_seconds", (double)g->behind_usec / 1e6);
	for (int depth = 0; r >= 0 && depth < 2; depth++)
		r = sd_bus_message_close_container(m);
	return r;
}

int scd_bus_replication_lag(sd_bus_message *m, const struct scd_daemon *d, uint32_t partition)
{
	struct scd_replica_lag lags[SC_MAX_REPLICATION_FACTOR];
	struct scd_partition_replication part;
	uint64_t most = 0, oldest_usec = 0;
	int n = scd_replication_lag(d->cluster->replication, partition, &part, lags,
				    SC_MAX_REPLICATION_FACTOR);
	int r = n;

	for (int k = 0; k < n; k++) {
		most = lags[k].behind > most ? lags[k].behind : most;
		oldest_usec = lags[k].behind_usec > oldest_usec ? lags[k].behind_usec : oldest_usec;
	}
	if (r >= 0)
		r = scd_dict_s(m, "mode", mode_names[d->cache_opts.replication_mode]);
	if (r >= 0)
		r = scd_dict_s(m, "role", part.role);
	if (r >= 0)
		r = scd_dict_t(m, "epoch", part.epoch);
	if (r >= 0)
		r = scd_dict_t(m, "seq", part.last_lseq);
	if (r >= 0)
		r = scd_dict_s(m, "primary", part.primary);
	if (r >= 0)
		r = scd_dict_b(m, "copy_coming", part.restoring);
	if (r >= 0)
		r = scd_dict_u(m, "replicas", (uint32_t)(n > 0 ? n : 0));
	if (r >= 0)
		r = scd_dict_t(m, "lag_writes", most);
	if (r >= 0)
		r = scd_dict_d(m, "lag_seconds", (double)oldest_usec / 1e6);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "replica_lags");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a{sa{sv}}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
	for (int k = 0; r >= 0 && k < n; k++)
		r = append_replica_lag(m, &lags[k]);
	for (int depth = 0; r >= 0 && depth < 3; depth++)
		r = sd_bus_message_close_container(m);
	return r;
}

/* The partitions as etcd's records and this node's logs show them, for ClusterHealth. */
struct partitions_health {
	uint32_t without_primary;  /* no primary, or one that is no member */
	uint32_t under_replicated; /* fewer replicas than replication_factor, or fewer of them in sync */
	uint32_t primaries_here;
	uint64_t lag_writes, lag_usec; /* the most behind replica of the partitions this node is primary of */
};

static void partitions_health(const struct scd_daemon *d, struct partitions_health *out)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	struct scd_replica_lag lags[SC_MAX_REPLICATION_FACTOR];
	struct scd_partition_replication part;

	*out = (struct partitions_health){ .without_primary = 0 };
	for (uint32_t p = 0; p < st->num_partition; p++) {
		const struct scd_record *rec = &st->records[p];
		uint32_t in_sync =
			scd_isr_current(&st->isrs[p], rec) ? st->isrs[p].count : rec->replica_count;
		int n;

		out->without_primary += !rec->primary[0] || !scd_state_member(st, rec->primary);
		out->under_replicated +=
			rec->replica_count < d->cache_opts.replication_factor || in_sync < rec->replica_count;
		n = d->cluster->replication ? scd_replication_lag(d->cluster->replication, p, &part, lags,
								  SC_MAX_REPLICATION_FACTOR)
					    : 0;
		out->primaries_here += n > 0;
		for (int k = 0; k < n; k++) {
			out->lag_writes = lags[k].behind > out->lag_writes ? lags[k].behind : out->lag_writes;
			out->lag_usec =
				lags[k].behind_usec > out->lag_usec ? lags[k].behind_usec : out->lag_usec;
		}
	}
}

/* What this node's coordinator forwarded and served (cluster/forward.h): counters since it started. */
static int append_forwarding(sd_bus_message *m, const struct scd_daemon *d)
{
	struct scd_forward_stats fs = { 0 };
	int r;

	if (d->cluster->forward)
		scd_forward_get_stats(d->cluster->forward, &fs);
	r = scd_dict_t(m, "forwarded_writes", fs.requests);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_sent", fs.sent);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_served", fs.served);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_timeouts", fs.timeouts);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_unreachable", fs.unreachable);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_broken", fs.broken);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_late_replies", fs.late);
	if (r >= 0)
		r = scd_dict_t(m, "forwarded_refused_connections", fs.refused);
	if (r >= 0)
		r = scd_dict_t(m, "quorum_reads", fs.quorum_reads);
	return r;
}

int scd_bus_cluster_health(sd_bus_message *m, const struct scd_daemon *d, bool node_healthy)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	struct partitions_health ph;
	uint32_t unreachable = 0;
	size_t n;
	struct scd_peer_stats *ps = peer_stats(d, &n);
	int r = ps ? scd_dict_s(m, "cluster", d->cfg.cluster_name) : -ENOMEM;

	partitions_health(d, &ph);
	if (r >= 0)
		r = scd_dict_u(m, "nodes", st->member_count);
	if (r >= 0)
		r = append_unreachable(m, d, ps, n, &unreachable);
	/* This node counts when its own reading is healthy; the others when their links are up. */
	if (r >= 0)
		r = scd_dict_u(m, "healthy_nodes",
			       (node_healthy ? 1u : 0u) + (st->member_count > unreachable + 1
								   ? st->member_count - unreachable - 1
								   : 0));
	if (r >= 0)
		r = scd_dict_u(m, "partitions_without_primary", ph.without_primary);
	if (r >= 0)
		r = scd_dict_u(m, "partitions_under_replicated", ph.under_replicated);
	if (r >= 0)
		r = scd_dict_u(m, "primaries_here", ph.primaries_here);
	if (r >= 0)
		r = scd_dict_t(m, "max_lag_writes", ph.lag_writes);
	if (r >= 0)
		r = scd_dict_d(m, "max_lag_seconds", (double)ph.lag_usec / 1e6);
	if (r >= 0)
		r = append_forwarding(m, d);
	if (r >= 0)
		r = scd_dict_b(m, "cluster_healthy",
			       node_healthy && unreachable == 0 && ph.without_primary == 0 &&
				       ph.under_replicated == 0);
	free(ps);
	return r;
}
