/* replication.c — a node's replication logs over its peer links: the primary's stream, the replica's follow and ack. */
#include "cluster/replication.h"

#include "cluster/replication_state.h"
#include "cluster/ship_bell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* --- the replica's side ------------------------------------------------------ */

static void send_position(struct scd_replication *r, uint32_t i, uint32_t flags)
{
	struct log_state *l = &r->logs[i];
	uint8_t body[SCD_REPL_POSITION_BYTES];
	struct scd_repl_position p = { .log = i, .flags = flags, .epoch = l->epoch };
	sc_repl_state st;

	if (sc_repl_state_read(r->cfg.cache, i, &st)) {
		scd_repl_logf(r, LOG_ERR, "replication: log %u: %s", i, sc_last_error());
		return;
	}
	p.last_lseq = st.last_lseq;
	p.last_epoch = st.last_epoch;
	scd_repl_position_encode(&p, body);
	if (scd_peers_send(r->cfg.peers, l->primary, SCD_FRAME_REPL_POSITION, body, sizeof(body)) == 0 &&
	    (flags & SCD_REPL_FOLLOW))
		r->stats.follows_sent++;
}

/*
 * Ask the primary for what follows this node's log (with want_copy, for a
 * copy of the partition instead): again after follow_retry_usec until it
 * answers.
 */
static void follow_or_copy(struct scd_replication *r, uint32_t i, bool want_copy)
{
	struct log_state *l = &r->logs[i];

	l->followed = false;
	l->restoring = false;
	l->follow_sent_usec = scd_repl_now_usec();
	send_position(r, i, SCD_REPL_FOLLOW | (want_copy ? SCD_REPL_WANT_COPY : 0));
}

static void follow(struct scd_replication *r, uint32_t i)
{
	follow_or_copy(r, i, false);
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

/*
 * Keep what the primary says its in-sync replicas hold of the log, as far
 * as this log goes (it follows the primary's up to its end), for this
 * node's part of a quorum read (read_modes.c).
 */
static void note_committed(struct scd_replication *r, const struct scd_repl_entries *e)
{
	sc_repl_state st;

	if (!e->committed_lseq || sc_repl_state_read(r->cfg.cache, e->log, &st))
		return;
	if (sc_repl_progress_write(r->cfg.cache, e->log, 0,
				   e->committed_lseq < st.last_lseq ? e->committed_lseq : st.last_lseq))
		scd_repl_logf(r, LOG_ERR, "replication: log %u: %s", e->log, sc_last_error());
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
		scd_repl_logf(r, LOG_ERR, "replication: log %u from %s: %s", e->log, node, sc_last_error());
		return err;
	}
	if (err)
		scd_repl_logf(r, LOG_WARNING, "replication: log %u from %s: cannot apply: %s", e->log, node,
			      sc_last_error());
	if (applied.resync) {
		/* What came before the mark cannot be followed entry by entry. */
		scd_repl_logf(r, LOG_INFO, "replication: log %u from %s: a resync mark; asking for a copy",
			      e->log, node);
		follow_or_copy(r, e->log, true);
		return 0;
	}
	l->followed = true;
	note_committed(r, e);
	send_position(r, e->log, 0);
	return 0;
}

/* A piece of a copy of the partition: the first empties this node's, the last makes its log follow on. */
static int on_copy(struct scd_replication *r, const char *node, const struct scd_repl_copy *c)
{
	struct log_state *l = &r->logs[c->at.log];
	sc_repl_applied applied;
	int err;

	if (l->role != ROLE_REPLICA || strcmp(node, l->primary) != 0 || c->at.epoch != l->epoch) {
		r->stats.dropped++;
		return 0;
	}
	if (c->at.flags & SCD_REPL_COPY_BEGIN) {
		int64_t gone = sc_repl_reset(r->cfg.cache, c->at.log);

		if (gone < 0) {
			scd_repl_logf(r, LOG_ERR, "replication: log %u: cannot empty it for a copy: %s",
				      c->at.log, sc_last_error());
			return 0;
		}
		l->restoring = true;
	}
	if (!l->restoring) {
		r->stats.dropped++; /* the rest of a copy this node gave up on */
		return 0;
	}
	err = sc_repl_restore(r->cfg.cache, c->at.log, c->entries, c->len, &applied);
	r->stats.entries_applied += applied.entries;
	if (!err && (c->at.flags & SCD_REPL_COPY_END))
		err = sc_repl_restore_end(r->cfg.cache, c->at.log, c->at.last_lseq, c->at.last_epoch);
	if (err) {
		scd_repl_logf(r, LOG_ERR, "replication: log %u: a copy from %s: %s", c->at.log, node,
			      sc_last_error());
		l->restoring = false;
		return err == -EPROTO ? err : 0;
	}
	if (c->at.flags & SCD_REPL_COPY_END) {
		l->restoring = false;
		l->followed = true;
		r->stats.copies_restored++;
		scd_repl_logf(r, LOG_INFO,
			      "replication: log %u: copied from %s, following from entry %" PRIu64, c->at.log,
			      node, c->at.last_lseq);
		send_position(r, c->at.log, 0);
	}
	return 0;
}

/* --- the primary's side ------------------------------------------------------ */

int scd_replication_received(struct scd_replication *r, const char *node, const struct scd_frame *f)
{
	struct scd_repl_entries e;
	struct scd_repl_position p;
	struct scd_repl_copy c;

	if (f->type == SCD_FRAME_REPL_ENTRIES) {
		if (scd_repl_entries_decode(f, &e) || e.log >= r->nlogs)
			return -EPROTO;
		return on_entries(r, node, &e);
	}
	if (f->type == SCD_FRAME_REPL_COPY) {
		if (scd_repl_copy_decode(f, &c) || c.at.log >= r->nlogs)
			return -EPROTO;
		return on_copy(r, node, &c);
	}
	if (f->type == SCD_FRAME_REPL_POSITION) {
		if (scd_repl_position_decode(f, &p) || p.log >= r->nlogs)
			return -EPROTO;
		return scd_repl_on_position(r, node, &p);
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
		scd_repl_logf(r, LOG_ERR, "replication: log %u: cannot drop this node's copy: %s", i,
			      sc_last_error());
	else if (gone > 0)
		scd_repl_logf(r, LOG_INFO,
			      "replication: log %u: not a replica any more; %" PRId64 " records dropped", i,
			      gone);
}

void scd_replication_map_changed(struct scd_replication *r)
{
	uint64_t now = scd_repl_now_usec();
	struct log_state next;

	if (sc_cluster_map_read(r->cfg.cache, &r->map, r->parts, r->num_partition)) {
		scd_repl_logf(r, LOG_WARNING, "replication: cannot read the partition map: %s",
			      sc_last_error());
		return;
	}
	for (uint32_t i = 0; i < r->nlogs; i++) {
		struct log_state *l = &r->logs[i];

		role_of(r, i % r->num_partition, &next);
		if (next.role == l->role && next.epoch == l->epoch && strcmp(next.primary, l->primary) == 0)
			continue;
		if (next.role == ROLE_OUTSIDE && l->role != ROLE_OUTSIDE)
			drop_copy(r, i);
		scd_repl_drop_copies(l);
		*l = next;
		/* A new term: each replica has lag_usec from now to be found caught up. */
		for (uint32_t k = 0; k < l->follower_count; k++)
			l->followers[k].caught_up_usec = now;
		if (i < r->num_partition) {
			memset(&r->in_sync[i], 0, sizeof(r->in_sync[i]));
			r->in_sync[i].replica_count = r->parts[i].replica_count;
			if (l->role == ROLE_PRIMARY)
				scd_repl_event(r, SCD_REPL_PRIMARY_NOW, i, NULL, l->epoch, 0);
		}
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
		} else if (l->role == ROLE_PRIMARY && !up && (f = scd_repl_follower(l, node))) {
			/* What was queued on the link is gone: it follows anew. */
			f->following = false;
		}
	}
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_replication *r = userdata;
	uint64_t now = scd_repl_now_usec();

	for (uint32_t i = 0; i < r->nlogs; i++) {
		struct log_state *l = &r->logs[i];

		if (l->role == ROLE_REPLICA && !l->followed &&
		    now - l->follow_sent_usec >= r->cfg.follow_retry_usec)
			follow(r, i);
		if (l->role == ROLE_PRIMARY)
			scd_repl_ship(r, i, now);
	}
	for (uint32_t p = 0; p < r->num_partition; p++)
		if (r->logs[p].role == ROLE_PRIMARY) {
			scd_repl_review_in_sync(r, p, now);
			scd_repl_start_waiting_copies(r, p);
		}
	(void)usec;
	sd_event_source_set_time_relative(s, r->cfg.poll_usec);
	return 0;
}

/* A writer published: ship its entries now rather than at the next poll. */
static void on_bell(void *userdata)
{
	struct scd_replication *r = userdata;
	uint64_t now = scd_repl_now_usec();

	for (uint32_t i = 0; i < r->nlogs; i++)
		if (r->logs[i].role == ROLE_PRIMARY)
			scd_repl_ship(r, i, now);
}

int scd_replication_new(const struct scd_replication_config *cfg, struct scd_replication **out)
{
	struct scd_replication *r;
	int err;

	*out = NULL;
	if (!cfg->cache || !cfg->peers || !cfg->node || !cfg->poll_usec || !cfg->follow_retry_usec ||
	    !cfg->lag_usec || !cfg->propose_in_sync)
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
		r->in_sync = calloc(r->num_partition, sizeof(*r->in_sync));
		r->frame = malloc(SCD_REPL_ENTRIES_HEADER + SCD_REPL_FRAME_ENTRIES);
		err = r->logs && r->parts && r->in_sync && r->frame ? 0 : -ENOMEM;
	}
	if (!err)
		err = sd_event_add_time_relative(cfg->event, &r->timer, CLOCK_MONOTONIC, cfg->poll_usec, 1,
						 on_tick, r);
	if (!err)
		err = sd_event_source_set_enabled(r->timer, SD_EVENT_ON);
	if (!err)
		err = scd_ship_bell_new(cfg->event, cfg->cache, on_bell, r, &r->bell);
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
	scd_ship_bell_free(r->bell);
	sd_event_source_disable_unref(r->timer);
	for (uint32_t i = 0; r->logs && i < r->nlogs; i++)
		scd_repl_drop_copies(&r->logs[i]);
	free(r->logs);
	free(r->parts);
	free(r->in_sync);
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

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_PRIMARY] = "primary",
	[ROLE_REPLICA] = "replica",
	[ROLE_OUTSIDE] = "outside",
};

int scd_replication_lag(const struct scd_replication *r, uint32_t p, struct scd_partition_replication *out,
			struct scd_replica_lag *lags, size_t cap)
{
	const struct log_state *l;
	uint64_t now = scd_repl_now_usec(), last[2] = { 0, 0 };

	if (p >= r->num_partition)
		return -EINVAL;
	l = &r->logs[p];
	memset(out, 0, sizeof(*out));
	out->role = role_names[l->role];
	out->epoch = l->epoch;
	snprintf(out->primary, sizeof(out->primary), "%s", l->primary);
	for (uint32_t h = 0; h < 2; h++) {
		sc_repl_state st;

		if (sc_repl_state_read(r->cfg.cache, p + h * r->num_partition, &st) == 0)
			last[h] = st.last_lseq;
		out->last_lseq += last[h];
		out->restoring |= r->logs[p + h * r->num_partition].restoring;
	}
	if (l->role != ROLE_PRIMARY)
		return 0;
	for (uint32_t k = 0; k < l->follower_count && k < cap; k++) {
		struct scd_replica_lag *g = &lags[k];

		memset(g, 0, sizeof(*g));
		snprintf(g->node, sizeof(g->node), "%s", l->followers[k].node);
		g->in_sync = r->in_sync[p].epoch == l->epoch && scd_isr_has(&r->in_sync[p].isr, g->node);
		g->following = true;
		for (uint32_t h = 0; h < 2; h++) {
			const struct follower *f = &r->logs[p + h * r->num_partition].followers[k];

			g->following &= f->following;
			g->copying |= f->copying;
			g->acked_lseq += f->acked_lseq;
			g->behind += last[h] > f->acked_lseq ? last[h] - f->acked_lseq : 0;
			if (f->acked_lseq < last[h] && now - f->caught_up_usec > g->behind_usec)
				g->behind_usec = now - f->caught_up_usec;
		}
	}
	return (int)l->follower_count;
}
