/* replication.c — a node's replication logs over its peer links: the primary's stream, the replica's follow and ack. */
#include "cluster/replication.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Bytes of entries in one frame at most: a frame holds several, and always one of the largest. */
#define FRAME_ENTRIES (256u << 10)
_Static_assert(FRAME_ENTRIES >= SC_REPL_ENTRY_MAX, "a frame takes the largest entry");
_Static_assert(SCD_REPL_ENTRIES_HEADER + FRAME_ENTRIES <= SCD_FRAME_MAX_BODY,
	       "a frame's body fits the limit");

/* On the primary: one other replica of a log. */
struct follower {
	char node[SCD_HELLO_NAME_MAX + 1];
	bool following;	    /* it said where its log ends, under this epoch */
	bool stuck;	    /* this log cannot continue its: said once, nothing sent */
	uint64_t pos;	    /* the ring position of the next entry to send it */
	uint64_t sent_lseq; /* the last entry sent (or held when it followed) */
	uint64_t acked_lseq;
};

enum log_role {
	ROLE_NONE,    /* no map yet, or the partition has no primary: its copy is kept as it is */
	ROLE_PRIMARY, /* the map names this node primary */
	ROLE_REPLICA, /* ... another node primary, and this node among the replicas */
	ROLE_OUTSIDE, /* ... another node primary, and this node not among the replicas */
};

struct log_state {
	enum log_role role;
	uint64_t epoch;
	/* ROLE_REPLICA: */
	char primary[SCD_HELLO_NAME_MAX + 1];
	bool followed;		   /* the primary answered the last follow */
	uint64_t follow_sent_usec; /* CLOCK_MONOTONIC of the last follow sent */
	/* ROLE_PRIMARY: */
	uint32_t follower_count;
	struct follower followers[SC_MAX_REPLICATION_FACTOR];
};

struct scd_replication {
	struct scd_replication_config cfg;
	char node[SCD_HELLO_NAME_MAX + 1];
	uint32_t num_partition, nlogs;
	struct log_state *logs;
	sc_partition_owners *parts;
	sc_cluster_map map;
	sd_event_source *timer;
	uint8_t *frame; /* an entries frame's body being built */
	struct scd_replication_stats stats;
};

static void __attribute__((format(printf, 3, 4)))
logf_(const struct scd_replication *r, int level, const char *fmt, ...)
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

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- the replica's side ------------------------------------------------------ */

static void send_position(struct scd_replication *r, uint32_t i, uint32_t flags)
{
	struct log_state *l = &r->logs[i];
	uint8_t body[SCD_REPL_POSITION_BYTES];
	struct scd_repl_position p = { .log = i, .flags = flags, .epoch = l->epoch };
	sc_repl_state st;

	if (sc_repl_state_read(r->cfg.cache, i, &st)) {
		logf_(r, LOG_ERR, "replication: log %u: %s", i, sc_last_error());
		return;
	}
	p.last_lseq = st.last_lseq;
	p.last_epoch = st.last_epoch;
	scd_repl_position_encode(&p, body);
	if (scd_peers_send(r->cfg.peers, l->primary, SCD_FRAME_REPL_POSITION, body, sizeof(body)) == 0 &&
	    (flags & SCD_REPL_FOLLOW))
		r->stats.follows_sent++;
}

/* Ask the primary for what follows this node's log: again after follow_retry_usec until it answers. */
static void follow(struct scd_replication *r, uint32_t i)
{
	struct log_state *l = &r->logs[i];

	l->followed = false;
	l->follow_sent_usec = now_usec();
	send_position(r, i, SCD_REPL_FOLLOW);
}

/* Skip what this log holds already; 0 with *at and *left past it, or -EPROTO for an entry that is not one. */
static int skip_held(const struct scd_repl_entries *e, uint64_t last_lseq, const uint8_t **at, size_t *left)
{
	*at = e->entries;
	*left = e->len;
	while (*left) {
		sc_repl_entry_head h;

		if (*left < sizeof(h))
			return -EPROTO;
		memcpy(&h, *at, sizeof(h));
		if (h.len < sizeof(h) || h.len % 8 || h.len > *left)
			return -EPROTO;
		if (h.lseq > last_lseq)
			break;
		*at += h.len;
		*left -= h.len;
	}
	return 0;
}

static int on_entries(struct scd_replication *r, const char *node, const struct scd_repl_entries *e)
{
	struct log_state *l = &r->logs[e->log];
	const uint8_t *at;
	size_t left;
	sc_repl_applied applied;
	sc_repl_state st;
	int err;

	if (l->role != ROLE_REPLICA || strcmp(node, l->primary) != 0 || e->epoch != l->epoch) {
		r->stats.dropped++;
		return 0;
	}
	err = sc_repl_state_read(r->cfg.cache, e->log, &st);
	if (!err)
		err = skip_held(e, st.last_lseq, &at, &left);
	if (err)
		return err == -EPROTO ? err : 0;
	err = sc_repl_apply(r->cfg.cache, e->log, at, left, &applied);
	r->stats.frames_applied++;
	r->stats.entries_applied += applied.entries;
	if (err == -ESTALE) {
		/* A gap or an older epoch: what was in flight before the last follow; ask again once. */
		r->stats.gaps++;
		if (l->followed)
			follow(r, e->log);
		return 0;
	}
	if (err == -EPROTO) {
		logf_(r, LOG_ERR, "replication: log %u from %s: %s", e->log, node, sc_last_error());
		return err;
	}
	if (err)
		logf_(r, LOG_WARNING, "replication: log %u from %s: cannot apply: %s", e->log, node,
		      sc_last_error());
	if (applied.resync)
		logf_(r, LOG_WARNING,
		      "replication: log %u from %s: its log says the partition must be copied", e->log, node);
	l->followed = true;
	send_position(r, e->log, 0);
	return 0;
}

/* --- the primary's side ------------------------------------------------------ */

static struct follower *follower_named(struct log_state *l, const char *node)
{
	for (uint32_t k = 0; k < l->follower_count; k++)
		if (strcmp(l->followers[k].node, node) == 0)
			return &l->followers[k];
	return NULL;
}

static void stuck(struct scd_replication *r, uint32_t i, struct follower *f, const char *why)
{
	f->stuck = true;
	f->following = false;
	logf_(r, LOG_WARNING, "replication: log %u: cannot continue %s's copy: %s", i, f->node, why);
}

/*
 * Where the entry after last_lseq sits in this log, when this log holds the
 * replica's last entry under the same epoch (so the replica's log is a prefix
 * of this one): 0, or the reason it is not.
 */
static const char *continuation(struct scd_replication *r, uint32_t i, uint64_t last_lseq,
				uint64_t last_epoch, uint64_t *pos)
{
	sc_repl_entry_head h;
	uint64_t at;
	ssize_t n;
	int err;

	err = sc_repl_seek(r->cfg.cache, i, last_lseq, pos);
	if (err == -ERANGE)
		return "its log is ahead of this one (it diverged)";
	if (err == -ESTALE)
		return "this ring no longer holds what follows its last entry (it must copy the partition)";
	if (err)
		return sc_last_error();
	if (last_lseq == 0)
		return NULL;
	err = sc_repl_seek(r->cfg.cache, i, last_lseq - 1, &at);
	if (err)
		return "this ring no longer holds its last entry to compare (it must copy the partition)";
	n = sc_repl_read(r->cfg.cache, i, &at, r->frame, SC_REPL_ENTRY_MAX);
	if (n < (ssize_t)sizeof(h))
		return "its last entry cannot be read back here";
	memcpy(&h, r->frame, sizeof(h));
	if (h.lseq != last_lseq || h.epoch != last_epoch)
		return "its last entry is of another epoch here (it diverged)";
	return NULL;
}

/* The lseq of the last entry of entries[0, len), which sc_repl_read() copied whole. */
static uint64_t last_lseq_of(const uint8_t *entries, size_t len)
{
	sc_repl_entry_head h = { 0 };

	for (size_t off = 0; off + sizeof(h) <= len; off += h.len) {
		memcpy(&h, entries + off, sizeof(h));
		if (h.len < sizeof(h))
			break;
	}
	return h.lseq;
}

/* Send f what its log lacks, while its link takes it; with answer, one frame even if empty. */
static void ship_to(struct scd_replication *r, uint32_t i, struct follower *f, bool answer)
{
	struct log_state *l = &r->logs[i];
	struct scd_repl_entries hdr = { .log = i, .epoch = l->epoch };

	while (scd_peers_queued(r->cfg.peers, f->node) < SCD_REPL_IN_FLIGHT) {
		uint64_t pos = f->pos;
		ssize_t n = sc_repl_read(r->cfg.cache, i, &pos, r->frame + SCD_REPL_ENTRIES_HEADER,
					 FRAME_ENTRIES);

		if (n == -ESTALE) {
			stuck(r, i, f,
			      "this ring wrote over entries before they were sent (it must copy the partition)");
			return;
		}
		if (n < 0) {
			stuck(r, i, f, sc_last_error());
			return;
		}
		if (n == 0 && !answer)
			return;
		scd_repl_entries_header(&hdr, r->frame);
		if (scd_peers_send(r->cfg.peers, f->node, SCD_FRAME_REPL_ENTRIES, r->frame,
				   SCD_REPL_ENTRIES_HEADER + (uint32_t)n))
			return; /* not queued: sent again from f->pos later */
		f->pos = pos;
		r->stats.frames_sent++;
		r->stats.bytes_sent += (uint64_t)n;
		if (n) {
			uint64_t last = last_lseq_of(r->frame + SCD_REPL_ENTRIES_HEADER, (size_t)n);

			r->stats.entries_sent += last - f->sent_lseq;
			f->sent_lseq = last;
		}
		if (n == 0)
			return;
		answer = false;
	}
}

/* Record in the segment how far every replica of log i was sent and acked. */
static void write_progress(struct scd_replication *r, uint32_t i)
{
	struct log_state *l = &r->logs[i];
	uint64_t shipped = UINT64_MAX, acked = UINT64_MAX;
	sc_repl_state st;

	for (uint32_t k = 0; k < l->follower_count; k++) {
		if (l->followers[k].sent_lseq < shipped)
			shipped = l->followers[k].sent_lseq;
		if (l->followers[k].acked_lseq < acked)
			acked = l->followers[k].acked_lseq;
	}
	if (!l->follower_count) {
		/* No other replica: nothing is waiting to ship. */
		if (sc_repl_state_read(r->cfg.cache, i, &st))
			return;
		shipped = acked = st.last_lseq;
	}
	if (sc_repl_progress_write(r->cfg.cache, i, shipped, acked))
		logf_(r, LOG_ERR, "replication: log %u: %s", i, sc_last_error());
}

static void on_follow(struct scd_replication *r, struct follower *f, const struct scd_repl_position *p)
{
	const char *why;
	uint64_t pos;

	f->following = false;
	why = continuation(r, p->log, p->last_lseq, p->last_epoch, &pos);
	if (why) {
		if (!f->stuck)
			stuck(r, p->log, f, why);
		return;
	}
	if (f->stuck)
		logf_(r, LOG_INFO, "replication: log %u: %s follows again from entry %" PRIu64, p->log,
		      f->node, p->last_lseq);
	f->stuck = false;
	f->following = true;
	f->pos = pos;
	f->sent_lseq = f->acked_lseq = p->last_lseq;
	r->stats.follows_taken++;
	ship_to(r, p->log, f, true);
	write_progress(r, p->log);
}

static int on_position(struct scd_replication *r, const char *node, const struct scd_repl_position *p)
{
	struct log_state *l = &r->logs[p->log];
	struct follower *f = l->role == ROLE_PRIMARY && p->epoch == l->epoch ? follower_named(l, node) : NULL;

	if (!f) {
		/* Not under this epoch, or not a replica of it: its map or this one is behind, and will move. */
		if (p->flags & SCD_REPL_FOLLOW)
			r->stats.follows_refused++;
		return 0;
	}
	if (p->flags & SCD_REPL_FOLLOW) {
		on_follow(r, f, p);
		return 0;
	}
	if (!f->following || p->last_lseq <= f->acked_lseq || p->last_lseq > f->sent_lseq)
		return 0; /* an ack of an older stream, or of nothing new */
	f->acked_lseq = p->last_lseq;
	r->stats.acks_taken++;
	write_progress(r, p->log);
	return 0;
}

int scd_replication_received(struct scd_replication *r, const char *node, const struct scd_frame *f)
{
	struct scd_repl_entries e;
	struct scd_repl_position p;

	if (f->type == SCD_FRAME_REPL_ENTRIES) {
		if (scd_repl_entries_decode(f, &e) || e.log >= r->nlogs)
			return -EPROTO;
		return on_entries(r, node, &e);
	}
	if (f->type == SCD_FRAME_REPL_POSITION) {
		if (scd_repl_position_decode(f, &p) || p.log >= r->nlogs)
			return -EPROTO;
		return on_position(r, node, &p);
	}
	return -EPROTO;
}

/* --- roles, links and the poll ---------------------------------------------- */

static const char *node_name(const struct scd_replication *r, uint16_t index)
{
	return index < r->map.node_count ? r->map.nodes[index] : NULL;
}

/* What the map makes this node for partition p's logs, into next. */
static void role_of(const struct scd_replication *r, uint32_t p, struct log_state *next)
{
	const sc_partition_owners *o = &r->parts[p];
	const char *primary = node_name(r, o->primary);
	bool named = false;

	memset(next, 0, sizeof(*next));
	if (r->map.self == SC_NO_NODE || !primary || !o->epoch)
		return;
	for (uint32_t k = 0; k < o->replica_count && k < SC_MAX_REPLICATION_FACTOR; k++)
		named |= o->replicas[k] == r->map.self;
	next->epoch = o->epoch;
	if (o->primary == r->map.self) {
		next->role = ROLE_PRIMARY;
		for (uint32_t k = 0; k < o->replica_count && k < SC_MAX_REPLICATION_FACTOR; k++) {
			const char *name = node_name(r, o->replicas[k]);

			if (o->replicas[k] != r->map.self && name)
				snprintf(next->followers[next->follower_count++].node,
					 sizeof(next->followers[0].node), "%s", name);
		}
	} else if (named) {
		next->role = ROLE_REPLICA;
		snprintf(next->primary, sizeof(next->primary), "%s", primary);
	} else {
		next->role = ROLE_OUTSIDE;
	}
}

/* This node holds no copy of log i any more: what it has would only be served stale. */
static void drop_copy(struct scd_replication *r, uint32_t i)
{
	int64_t gone = sc_repl_reset(r->cfg.cache, i);

	if (gone < 0)
		logf_(r, LOG_ERR, "replication: log %u: cannot drop this node's copy: %s", i,
		      sc_last_error());
	else if (gone > 0)
		logf_(r, LOG_INFO, "replication: log %u: not a replica any more; %" PRId64 " records dropped",
		      i, gone);
}

void scd_replication_map_changed(struct scd_replication *r)
{
	struct log_state next;

	if (sc_cluster_map_read(r->cfg.cache, &r->map, r->parts, r->num_partition)) {
		logf_(r, LOG_WARNING, "replication: cannot read the partition map: %s", sc_last_error());
		return;
	}
	for (uint32_t i = 0; i < r->nlogs; i++) {
		struct log_state *l = &r->logs[i];

		role_of(r, i % r->num_partition, &next);
		if (next.role == l->role && next.epoch == l->epoch && strcmp(next.primary, l->primary) == 0)
			continue;
		if (next.role == ROLE_OUTSIDE && l->role != ROLE_OUTSIDE)
			drop_copy(r, i);
		*l = next;
		if (l->role == ROLE_REPLICA)
			follow(r, i);
	}
}

void scd_replication_link_changed(struct scd_replication *r, const char *node, bool up)
{
	for (uint32_t i = 0; i < r->nlogs; i++) {
		struct log_state *l = &r->logs[i];
		struct follower *f;

		if (l->role == ROLE_REPLICA && strcmp(l->primary, node) == 0) {
			if (up)
				follow(r, i);
			else
				l->followed = false;
		} else if (l->role == ROLE_PRIMARY && !up && (f = follower_named(l, node))) {
			/* What was queued on the link is gone: it follows anew. */
			f->following = false;
		}
	}
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_replication *r = userdata;
	uint64_t now = now_usec();

	for (uint32_t i = 0; i < r->nlogs; i++) {
		struct log_state *l = &r->logs[i];

		if (l->role == ROLE_REPLICA && !l->followed &&
		    now - l->follow_sent_usec >= r->cfg.follow_retry_usec)
			follow(r, i);
		if (l->role != ROLE_PRIMARY)
			continue;
		for (uint32_t k = 0; k < l->follower_count; k++) {
			struct follower *f = &l->followers[k];
			uint64_t sent = f->sent_lseq;

			if (f->following) {
				ship_to(r, i, f, false);
				if (f->sent_lseq != sent)
					write_progress(r, i);
			}
		}
		if (!l->follower_count)
			write_progress(r, i);
	}
	(void)usec;
	sd_event_source_set_time_relative(s, r->cfg.poll_usec);
	return 0;
}

int scd_replication_new(const struct scd_replication_config *cfg, struct scd_replication **out)
{
	struct scd_replication *r;
	int err;

	*out = NULL;
	if (!cfg->cache || !cfg->peers || !cfg->node || !cfg->poll_usec || !cfg->follow_retry_usec)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	snprintf(r->node, sizeof(r->node), "%s", cfg->node);
	r->cfg.node = r->node;
	err = sc_cluster_map_read(cfg->cache, &r->map, NULL, 0);
	if (!err && !r->map.num_partition)
		err = -EINVAL;
	if (!err) {
		r->num_partition = r->map.num_partition;
		r->nlogs = 2 * r->num_partition;
		r->logs = calloc(r->nlogs, sizeof(*r->logs));
		r->parts = calloc(r->num_partition, sizeof(*r->parts));
		r->frame = malloc(SCD_REPL_ENTRIES_HEADER + FRAME_ENTRIES);
		err = r->logs && r->parts && r->frame ? 0 : -ENOMEM;
	}
	if (!err)
		err = sd_event_add_time_relative(cfg->event, &r->timer, CLOCK_MONOTONIC, cfg->poll_usec, 1,
						 on_tick, r);
	if (!err)
		err = sd_event_source_set_enabled(r->timer, SD_EVENT_ON);
	if (err < 0) {
		scd_replication_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void scd_replication_free(struct scd_replication *r)
{
	if (!r)
		return;
	sd_event_source_disable_unref(r->timer);
	free(r->logs);
	free(r->parts);
	free(r->frame);
	free(r);
}

void scd_replication_get_stats(const struct scd_replication *r, struct scd_replication_stats *out)
{
	*out = r->stats;
	out->stuck = out->primary_logs = out->replica_logs = 0;
	for (uint32_t i = 0; i < r->nlogs; i++) {
		const struct log_state *l = &r->logs[i];

		out->primary_logs += l->role == ROLE_PRIMARY;
		out->replica_logs += l->role == ROLE_REPLICA;
		for (uint32_t k = 0; l->role == ROLE_PRIMARY && k < l->follower_count; k++)
			out->stuck += l->followers[k].stuck;
	}
}
