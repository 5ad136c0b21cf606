/*
 * distributed.c — supercached as one node of a cluster: joins it on etcd
 * (cluster/membership.h), keeps peer links to the other members
 * (cluster/peer_link.h), and writes what it learns into the segment's
 * partition map, where the library and the CLI read it.
 */
#include "distributed.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "bus/bus.h"
#include "bus/bus_cluster.h"
#include "cluster/link_auth.h"
#include "daemon.h"
#include "probes.h"

/* The structural options every node of a cluster must share (docs/distributed.md). */
static const char *const shared_keys[] = {
	"num_partition", "key_pos", "partition_pos", "table_type", "replication_mode", "replication_factor",
};
#define SHARED_COUNT (sizeof(shared_keys) / sizeof(shared_keys[0]))
#define MAX_PEERS    SCD_MAX_MEMBERS

/* What the shared keys hold for this node: the cache's own configuration, as text. */
struct shared_values {
	char text[SHARED_COUNT][64];
	const char *ptr[SHARED_COUNT];
};

static void shared_values(const struct scd_daemon *d, struct shared_values *out)
{
	struct scd_config cfg = d->cfg;
	struct scd_value v;
	const char *key;

	/* num_partition 0 means the CPU count: the cluster compares what the cache has. */
	cfg.num_partition = d->cache_opts.num_partition;
	for (size_t i = 0; i < SHARED_COUNT; i++) {
		out->text[i][0] = '\0';
		for (unsigned k = 0; (key = scd_config_key(k)); k++)
			if (strcmp(key, shared_keys[i]) == 0 && scd_config_value(&cfg, k, &v) == 0) {
				if (v.kind == SCD_VALUE_TEXT)
					snprintf(out->text[i], sizeof(out->text[i]), "%s", v.text);
				else
					snprintf(out->text[i], sizeof(out->text[i]), "%llu",
						 (unsigned long long)v.u);
			}
		out->ptr[i] = out->text[i];
	}
}

static void cluster_log(void *userdata, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cluster_log(void *userdata, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	scd_log(userdata, level, "%s", line);
}

/* --- the partition map in the segment -------------------------------------- */

/* Index of name in the map's node table, added when missing; SC_NO_NODE when the table is full. */
static uint16_t node_index(sc_cluster_map *map, const char *name)
{
	for (uint32_t i = 0; i < map->node_count; i++)
		if (strcmp(map->nodes[i], name) == 0)
			return (uint16_t)i;
	if (map->node_count == SC_MAX_NODES)
		return SC_NO_NODE;
	snprintf(map->nodes[map->node_count], sizeof(map->nodes[0]), "%s", name);
	return (uint16_t)map->node_count++;
}

static void write_map(struct scd_daemon *d)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	sc_partition_owners *parts = calloc(st->num_partition, sizeof(*parts));
	sc_cluster_map map;
	int r;

	if (!parts) {
		scd_log(d, LOG_ERR, "cluster: no memory for the partition map");
		return;
	}
	/* What the segment holds: an unassigned partition keeps its epoch there, with no owner. */
	r = sc_cluster_map_read(d->cache, &map, parts, st->num_partition);
	if (r) {
		scd_log(d, LOG_ERR, "cluster: cannot read the partition map: %s", sc_last_error());
		memset(parts, 0, st->num_partition * sizeof(*parts));
	}
	memset(&map, 0, sizeof(map));
	for (uint32_t i = 0; i < st->member_count; i++)
		node_index(&map, st->members[i].name);
	map.self = node_index(&map, d->cfg.node_name);
	map.lease_deadline_ns = scd_membership_deadline_ns(d->cluster->membership);
	for (uint32_t p = 0; p < st->num_partition; p++) {
		const struct scd_record *rec = &st->records[p];

		if (rec->epoch) /* an epoch older than the segment's (etcd restored from an old backup) is refused below */
			parts[p].epoch = (uint64_t)rec->epoch;
		parts[p].primary = rec->primary[0] ? node_index(&map, rec->primary) : SC_NO_NODE;
		parts[p].replica_count =
			(uint16_t)rec->replica_count; /* at most SC_MAX_REPLICATION_FACTOR: decoded so */
		for (uint32_t k = 0; k < parts[p].replica_count; k++)
			parts[p].replicas[k] = node_index(&map, rec->replicas[k]);
	}
	r = sc_cluster_map_write(d->cache, &map, parts);
	if (r) {
		/* An older epoch than the segment holds (a node restarted on an etcd restored from an old backup) is refused: fenced. */
		if (r != d->cluster->last_map_error)
			scd_log(d, LOG_ERR, "cluster: cannot write the partition map: %s", sc_last_error());
		sc_cluster_lease_write(d->cache, 0);
	} else {
		d->cluster->map_writes++;
		scd_replication_map_changed(d->cluster->replication);
		for (uint32_t p = 0; p < st->num_partition; p++)
			if (scd_isr_current(&st->isrs[p], &st->records[p]))
				scd_replication_in_sync_known(d->cluster->replication, p,
							      (uint64_t)st->records[p].epoch, &st->isrs[p]);
	}
	d->cluster->last_map_error = r;
	free(parts);
}

/* --- peers ------------------------------------------------------------------ */

static void want_peers(struct scd_daemon *d)
{
	const struct scd_cluster_state *st = scd_membership_state(d->cluster->membership);
	struct scd_peer_stats *known = calloc(MAX_PEERS * 2, sizeof(*known));
	size_t n;

	if (!known)
		return;
	for (uint32_t i = 0; i < st->member_count; i++)
		if (strcmp(st->members[i].name, d->cfg.node_name) != 0 &&
		    scd_peers_want(d->cluster->peers, st->members[i].name, st->members[i].listen) < 0)
			scd_log(d, LOG_WARNING, "cluster: member %s listens at \"%s\", which is no address",
				st->members[i].name, st->members[i].listen);
	n = scd_peers_stats(d->cluster->peers, known, MAX_PEERS * 2);
	for (size_t i = 0; i < n; i++)
		if (known[i].wanted && !scd_state_member(st, known[i].node))
			scd_peers_forget(d->cluster->peers, known[i].node);
	free(known);
}

bool scd_distributed_node_up(const struct scd_daemon *d, const char *node)
{
	for (uint32_t i = 0; d->cluster && i < d->cluster->up_count; i++)
		if (strcmp(d->cluster->up[i], node) == 0)
			return true;
	return false;
}

static void peer_changed(const char *node, bool up, void *userdata)
{
	struct scd_daemon *d = userdata;
	struct scd_cluster *c = d->cluster;

	if (up == scd_distributed_node_up(d, node))
		return;
	if (up && c->up_count < SCD_MAX_MEMBERS) {
		snprintf(c->up[c->up_count++], sizeof(c->up[0]), "%s", node);
	} else if (!up) {
		for (uint32_t i = 0; i < c->up_count; i++)
			if (strcmp(c->up[i], node) == 0) {
				memmove(c->up[i], c->up[i + 1], (c->up_count - i - 1) * sizeof(c->up[0]));
				c->up_count--;
				break;
			}
	}
	scd_log(d, up ? LOG_INFO : LOG_WARNING, "cluster: node %s is %s", node, up ? "up" : "down");
	scd_replication_link_changed(c->replication, node, up);
	if (!up && c->forward)
		scd_forward_link_down(c->forward, node);
	if (up)
		SCD_PROBE(node_up, d->trace_id, node);
	else
		SCD_PROBE(node_down, d->trace_id, node);
	scd_bus_node_changed(d, node, up);
}

static int peer_received(const char *node, const struct scd_frame *f, void *userdata)
{
	struct scd_daemon *d = userdata;

	if (f->type == SCD_FRAME_FORWARD || f->type == SCD_FRAME_FORWARD_REPLY)
		return d->cluster->forward ? scd_forward_received(d->cluster->forward, node, f) : -EPROTO;
	return d->cluster->replication ? scd_replication_received(d->cluster->replication, node, f) : -EPROTO;
}

/* --- membership callbacks ---------------------------------------------------- */

static void config_checked(void *userdata, int err, const char *why)
{
	struct scd_daemon *d = userdata;

	if (err) {
		scd_log(d, LOG_ERR, "bad configuration: %s", why);
		sd_event_exit(d->event, EX_CONFIG);
		return;
	}
	if (!d->cluster->ready_sent) {
		d->cluster->ready_sent = true;
		scd_log(d, LOG_INFO, "cluster %s: configuration agreed; joining as %s", d->cfg.cluster_name,
			d->cfg.node_name);
		sd_notifyf(0, "READY=1\nSTATUS=%s", d->status);
	}
}

/*
 * One change of the segment's map per turn of the loop, whatever the etcd
 * answers of that turn changed: a reader counting changes (changes in
 * sc_cluster_map) sees each state the node was in, not half-steps.
 */
static int write_pending(sd_event_source *s, void *userdata)
{
	struct scd_daemon *d = userdata;
	unsigned what = d->cluster->pending;

	(void)s;
	d->cluster->pending = 0;
	if (d->cluster->leaving)
		return 0;
	if (!scd_membership_deadline_ns(d->cluster->membership)) {
		/* Joining, or fenced: the map stays as it was, and nothing here acts on it. */
		if (sc_cluster_lease_write(d->cache, 0))
			scd_log(d, LOG_ERR, "cluster: cannot fence the partition map: %s", sc_last_error());
		return 0;
	}
	/* A renewal moves the deadline alone: the map written last still holds, unless that write failed. */
	if (what == SCD_CHANGED_LEASE && d->cluster->map_writes && !d->cluster->last_map_error) {
		if (sc_cluster_lease_write(d->cache, scd_membership_deadline_ns(d->cluster->membership)))
			scd_log(d, LOG_ERR, "cluster: cannot move the lease deadline: %s", sc_last_error());
		return 0;
	}
	if (what & SCD_CHANGED_MEMBERS)
		want_peers(d);
	write_map(d);
	return 0;
}

static void membership_changed(void *userdata, unsigned what)
{
	struct scd_daemon *d = userdata;

	d->cluster->pending |= what;
	sd_event_source_set_enabled(d->cluster->write_source, SD_EVENT_ONESHOT);
}

/* --- start and stop ---------------------------------------------------------- */

static int split_list(char *text, const char **out, size_t cap)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(text, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save))
		out[n++] = t;
	return (int)n;
}

static int start_peers(struct scd_daemon *d)
{
	struct scd_secret *secret = calloc(1, sizeof(*secret));
	char err[512];
	int r;

	if (!secret)
		return -ENOMEM;
	r = scd_link_auth_init();
	if (!r)
		r = scd_secret_load(d->cfg.secret_file, secret, err, sizeof(err));
	if (!r) {
		struct scd_peers_config pc = {
			.cluster = d->cfg.cluster_name,
			.node = d->cfg.node_name,
			.secret = secret,
			.listen = d->cfg.listen,
			.heartbeat_usec = d->cfg.heartbeat_interval_ms * 1000ull,
			/* three heartbeats missed: down */
			.dead_usec = d->cfg.heartbeat_interval_ms * 3000ull,
			.changed = peer_changed,
			.received = peer_received,
			.log = cluster_log,
			.userdata = d,
		};
		r = scd_peers_new(d->event, &pc, &d->cluster->peers, err, sizeof(err));
	}
	if (r)
		scd_log(d, LOG_ERR, "cluster: peer links: %s", err);
	scd_secret_forget(secret);
	free(secret);
	return r;
}

/*
 * The logs are polled every millisecond for entries to ship: a writer makes
 * no system call to wake this daemon, and an async write reaches the link
 * within about a millisecond. A follow goes again after a heartbeat interval
 * without an answer.
 */
#define SHIP_POLL_USEC 1000u

static int propose_in_sync(void *userdata, uint32_t partition, uint64_t epoch, int64_t isr_revision,
			   const struct scd_isr *want)
{
	struct scd_daemon *d = userdata;

	if (!d->cluster->isr_writer)
		return -EAGAIN;
	return scd_isr_write(d->cluster->isr_writer, partition, (int64_t)epoch, isr_revision, want);
}

/* The replication's events, as USDT probes (docs/telemetry.md). */
static void replication_event(void *userdata, const struct scd_repl_event *e)
{
	struct scd_daemon *d = userdata;

	switch (e->kind) {
	case SCD_REPL_SHIPPED:
		SCD_PROBE(repl_ship, d->trace_id, e->log, e->node, e->a, e->b);
		break;
	case SCD_REPL_ACKED:
		SCD_PROBE(repl_ack, d->trace_id, e->log, e->node, e->a);
		break;
	case SCD_REPL_IN_SYNC:
		SCD_PROBE(in_sync_change, d->trace_id, e->log, e->a, e->b);
		break;
	case SCD_REPL_COPYING:
		SCD_PROBE(repl_copy, d->trace_id, e->log, e->node, e->a, e->b);
		break;
	case SCD_REPL_PRIMARY_NOW:
		SCD_PROBE(failover, d->trace_id, e->log, e->a);
		break;
	}
}

static void in_sync_written(void *userdata, uint32_t partition, int64_t epoch, const struct scd_isr *isr,
			    int result, int64_t revision)
{
	struct scd_daemon *d = userdata;

	scd_replication_in_sync_written(d->cluster->replication, partition, (uint64_t)epoch, isr, result,
					revision);
}

static int start_replication(struct scd_daemon *d)
{
	struct scd_replication_config rc = {
		.event = d->event,
		.cache = d->cache,
		.peers = d->cluster->peers,
		.node = d->cfg.node_name,
		.poll_usec = SHIP_POLL_USEC,
		.follow_retry_usec = d->cfg.heartbeat_interval_ms * 1000ull,
		.lag_usec = d->cfg.replica_lag_ms * 1000ull,
		.propose_in_sync = propose_in_sync,
		.on_event = replication_event,
		.log = cluster_log,
		.userdata = d,
	};
	int r = scd_replication_new(&rc, &d->cluster->replication);

	if (r) {
		scd_log(d, LOG_ERR, "cluster: cannot start replication: %s", strerror(-r));
		return r;
	}
	/* From here on the library takes writes where the map makes this node primary. */
	r = sc_cluster_shipping_write(d->cache, 1);
	if (r)
		scd_log(d, LOG_ERR, "cluster: cannot start shipping: %s", sc_last_error());
	return r;
}

/*
 * A forwarded write runs on supercached's handle of the cache, opened with
 * the library's default majority_timeout_ms: its primary answers within it.
 */
#define PRIMARY_MAJORITY_TIMEOUT_MS 2000u

static const char *primary_of(void *userdata, uint32_t partition)
{
	struct scd_daemon *d = userdata;
	const struct scd_cluster_state *st =
		d->cluster->membership ? scd_membership_state(d->cluster->membership) : NULL;

	if (partition >= d->cache_opts.num_partition)
		return NULL;
	return st ? st->records[partition].primary : "";
}

static uint32_t replicas_of(void *userdata, uint32_t partition,
			    char names[SC_MAX_REPLICATION_FACTOR][SCD_HELLO_NAME_MAX + 1])
{
	struct scd_daemon *d = userdata;
	const struct scd_cluster_state *st =
		d->cluster->membership ? scd_membership_state(d->cluster->membership) : NULL;
	const struct scd_record *rec;

	if (!st || partition >= d->cache_opts.num_partition)
		return 0;
	rec = &st->records[partition];
	for (uint32_t i = 0; i < rec->replica_count; i++)
		snprintf(names[i], SCD_HELLO_NAME_MAX + 1, "%s", rec->replicas[i]);
	return rec->replica_count;
}

/* The library's socket for writes whose partition's primary is another node (cluster/forward.h). */
static int start_forwarding(struct scd_daemon *d)
{
	struct scd_forward_config fc = {
		.event = d->event,
		.cache = d->cache,
		.peers = d->cluster->peers,
		.primary_of = primary_of,
		.replicas_of = replicas_of,
		.node = d->cfg.node_name,
		/* The primary answers within its handle's majority_timeout_ms; a second more for the way. */
		.timeout_usec = (PRIMARY_MAJORITY_TIMEOUT_MS + 1000) * 1000,
		.log = cluster_log,
		.userdata = d,
	};
	char err[256];
	int r = scd_forward_start(&fc, &d->cluster->forward, err, sizeof(err));

	if (r)
		scd_log(d, LOG_ERR, "cluster: %s", err);
	return r;
}

int scd_distributed_start(struct scd_daemon *d)
{
	char peers_text[SCD_TEXT_MAX];
	const char *peers[MAX_PEERS];
	struct shared_values values;
	char err[512];
	int r;

	if (d->cfg.cluster != SC_CLUSTER_DISTRIBUTED)
		return 0;
	/* Nothing acts as primary before this run has its own lease and view. */
	r = sc_cluster_lease_write(d->cache, 0);
	if (r) {
		scd_log(d, LOG_ERR, "cluster: cannot take the partition map: %s", sc_last_error());
		return r == -EBUSY ? EX_CONFIG : r;
	}
	d->cluster = calloc(1, sizeof(*d->cluster));
	if (!d->cluster)
		return -ENOMEM;
	r = sd_event_add_defer(d->event, &d->cluster->write_source, write_pending, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(d->cluster->write_source, SD_EVENT_OFF);
	/* Every etcd request is bounded by a third of the lease: a renewal that takes longer is as good as lost. */
	r = scd_etcd_new(d->event, d->cfg.etcd_endpoints, d->cfg.lease_ms * 1000ull / 3, &d->cluster->etcd,
			 err, sizeof(err));
	if (r) {
		scd_log(d, LOG_ERR, "cluster: etcd_endpoints: %s", err);
		return r == -EINVAL ? EX_CONFIG : r;
	}
	r = start_peers(d);
	if (r)
		return r == -EINVAL || r == -EADDRINUSE || r == -EACCES ? EX_CONFIG : r;
	r = start_replication(d);
	if (!r)
		r = start_forwarding(d);
	if (r)
		return r;
	snprintf(peers_text, sizeof(peers_text), "%s", d->cfg.cluster_peers);
	shared_values(d, &values);
	struct scd_membership_config mc = {
		.etcd = d->cluster->etcd,
		.cluster = d->cfg.cluster_name,
		.node = d->cfg.node_name,
		.listen = d->cfg.listen,
		.num_partition = d->cache_opts.num_partition,
		.replication_factor = d->cache_opts.replication_factor,
		.in_sync_only = d->cache_opts.replication_mode != SC_REPLICATION_ASYNC,
		.lease_usec = d->cfg.lease_ms * 1000ull,
		.shared_keys = shared_keys,
		.shared_values = values.ptr,
		.shared_count = SHARED_COUNT,
		.static_peers = peers,
		.static_peer_count = (size_t)split_list(peers_text, peers, MAX_PEERS),
		.log = cluster_log,
		.config_checked = config_checked,
		.changed = membership_changed,
		.userdata = d,
	};
	r = scd_membership_start(d->event, &mc, &d->cluster->membership);
	if (!r)
		r = scd_isr_writer_new(d->cluster->etcd, scd_membership_state(d->cluster->membership),
				       in_sync_written, d, &d->cluster->isr_writer);
	if (r)
		scd_log(d, LOG_ERR, "cluster: cannot start: %s", strerror(-r));
	return r;
}

static void left(void *userdata)
{
	struct scd_daemon *d = userdata;

	sd_event_exit(d->event, d->cluster->exit_code);
}

void scd_distributed_leave(struct scd_daemon *d, int code)
{
	struct scd_cluster *c = d->cluster;

	if (!c || c->leaving) {
		sd_event_exit(d->event, code);
		return;
	}
	c->leaving = true;
	c->exit_code = code;
	/* Fenced first, in the segment: nothing here acts as primary once etcd may have moved on. */
	sc_cluster_lease_write(d->cache, 0);
	scd_log(d, LOG_INFO, "cluster %s: leaving; giving the lease back", d->cfg.cluster_name);
	scd_membership_leave(c->membership, left, d);
}

void scd_distributed_free(struct scd_daemon *d)
{
	struct scd_cluster *c = d->cluster;

	if (!c)
		return;
	sd_event_source_disable_unref(c->write_source);
	scd_forward_free(c->forward);
	scd_isr_writer_free(c->isr_writer);
	scd_membership_free(c->membership);
	scd_replication_free(c->replication);
	scd_peers_free(c->peers);
	scd_etcd_free(c->etcd);
	free(c);
	d->cluster = NULL;
}
