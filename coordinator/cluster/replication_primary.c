/*
 * replication_primary.c — the primary's side of the replication: taking a
 * follow, shipping the log, acks, progress in the segment, and the
 * partition's in-sync set.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cluster/replication_state.h"

struct follower *scd_repl_follower(struct log_state *l, const char *node)
{
	for (uint32_t k = 0; k < l->follower_count; k++)
		if (strcmp(l->followers[k].node, node) == 0)
			return &l->followers[k];
	return NULL;
}

static void drop_copy(struct follower *f)
{
	free(f->copy);
	f->copy = NULL;
	f->copying = false;
	f->copy_len = f->copy_off = 0;
}

void scd_repl_drop_copies(struct log_state *l)
{
	for (uint32_t k = 0; k < l->follower_count; k++)
		drop_copy(&l->followers[k]);
}

static void stuck(struct scd_replication *r, uint32_t i, struct follower *f, const char *why)
{
	drop_copy(f);
	f->stuck = true;
	f->following = false;
	scd_repl_logf(r, LOG_WARNING, "replication: log %u: cannot continue %s's copy: %s", i, f->node, why);
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
	sc_repl_state st;
	uint64_t at;
	ssize_t n;
	int err;

	/* It ends where this log ends, under the same epoch: nothing to compare in the ring. */
	if (last_lseq && sc_repl_state_read(r->cfg.cache, i, &st) == 0 && st.last_lseq == last_lseq &&
	    st.last_epoch == last_epoch && sc_repl_seek(r->cfg.cache, i, last_lseq, pos) == 0)
		return NULL;
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

static void start_copy(struct scd_replication *r, uint32_t i, struct follower *f, const char *why);

/* Whole entries of the copy from copy_off, as many as a frame takes: their bytes. */
static size_t copy_piece(const struct follower *f)
{
	size_t n = 0;

	while (f->copy_off + n < f->copy_len) {
		sc_repl_entry_head h;

		memcpy(&h, f->copy + f->copy_off + n, sizeof(h));
		if (n + h.len > SCD_REPL_FRAME_ENTRIES)
			break;
		n += h.len;
	}
	return n;
}

/* Send f the copy while its link takes it; after its last frame, the log from the copy's point. */
static void send_copy(struct scd_replication *r, uint32_t i, struct follower *f)
{
	struct scd_repl_copy hdr = { .at = { .log = i,
					     .epoch = r->logs[i].epoch,
					     .last_lseq = f->copy_lseq,
					     .last_epoch = f->copy_epoch } };

	while (f->copying && scd_peers_queued(r->cfg.peers, f->node) < SCD_REPL_IN_FLIGHT) {
		size_t n = copy_piece(f);

		hdr.at.flags = (f->copy_off == 0 ? SCD_REPL_COPY_BEGIN : 0) |
			       (f->copy_off + n == f->copy_len ? SCD_REPL_COPY_END : 0);
		scd_repl_copy_header(&hdr, r->frame);
		if (n) /* an empty partition's copy is one frame with no entries, and no buffer */
			memcpy(r->frame + SCD_REPL_COPY_HEADER, f->copy + f->copy_off, n);
		if (scd_peers_send(r->cfg.peers, f->node, SCD_FRAME_REPL_COPY, r->frame,
				   SCD_REPL_COPY_HEADER + (uint32_t)n))
			return;
		f->copy_off += n;
		r->stats.frames_sent++;
		r->stats.bytes_sent += n;
		if (hdr.at.flags & SCD_REPL_COPY_END) {
			uint64_t pos;

			drop_copy(f);
			f->sent_lseq = f->copy_lseq;
			if (sc_repl_seek(r->cfg.cache, i, f->copy_lseq, &pos)) {
				/* The ring moved past the copy's point while it was sent: a newer copy follows it. */
				start_copy(r, i, f,
					   "this ring wrote over what follows the copy while it was sent");
				return;
			}
			f->pos = pos;
		}
	}
}

/* Send f what its log lacks, while its link takes it; with answer, one frame even if empty. */
static void ship_to(struct scd_replication *r, uint32_t i, struct follower *f, bool answer)
{
	struct log_state *l = &r->logs[i];
	struct scd_repl_entries hdr = { .log = i, .epoch = l->epoch };
	sc_repl_state st;

	/* What the replicas hold of the log, for their part of a quorum read (read_modes.c). */
	if (!sc_repl_state_read(r->cfg.cache, i, &st))
		hdr.committed_lseq = st.acked_lseq;
	if (f->copying) {
		send_copy(r, i, f);
		if (f->copying || !f->following)
			return;
		answer = false;
	}
	while (scd_peers_queued(r->cfg.peers, f->node) < SCD_REPL_IN_FLIGHT) {
		uint64_t pos = f->pos;
		ssize_t n = sc_repl_read(r->cfg.cache, i, &pos, r->frame + SCD_REPL_ENTRIES_HEADER,
					 SCD_REPL_FRAME_ENTRIES);

		if (n == -ESTALE) {
			start_copy(r, i, f, "this ring wrote over entries before they were sent");
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
		f->told_committed = hdr.committed_lseq;
		r->stats.frames_sent++;
		r->stats.bytes_sent += (uint64_t)n;
		if (n) {
			uint64_t last = last_lseq_of(r->frame + SCD_REPL_ENTRIES_HEADER, (size_t)n);

			scd_repl_event(r, SCD_REPL_SHIPPED, i, f->node, last, last - f->sent_lseq);
			r->stats.entries_sent += last - f->sent_lseq;
			f->sent_lseq = last;
		}
		if (n == 0)
			return;
		answer = false;
	}
}

/* A strict majority of n copies. */
static uint32_t majority(uint32_t n)
{
	return n / 2 + 1;
}

/*
 * How far log i is on every in-sync replica: this node's last entry, or
 * less as an in-sync follower acked (a member a change being written adds
 * counts already: scd_isr_acked()); 0 (nothing new) while the in-sync set
 * is not known, or holds no majority of the replicas.
 */
static uint64_t acked_in_sync(struct scd_replication *r, uint32_t i, uint64_t last_lseq)
{
	struct log_state *l = &r->logs[i];
	const struct in_sync_state *s = &r->in_sync[i % r->num_partition];
	struct scd_isr_position at[SC_MAX_REPLICATION_FACTOR + 1] = { { r->node, last_lseq } };
	uint32_t n = 1;

	if (!s->epoch || s->epoch != l->epoch)
		return 0;
	for (uint32_t k = 0; k < l->follower_count && n < SC_MAX_REPLICATION_FACTOR + 1; k++)
		at[n++] = (struct scd_isr_position){ l->followers[k].node, l->followers[k].acked_lseq };
	return scd_isr_acked(&s->isr, s->proposing ? &s->proposed : NULL, at, n, majority(s->replica_count));
}

/* Record in the segment how far log i was sent to every replica, and acked by every in-sync one. */
static void write_progress(struct scd_replication *r, uint32_t i)
{
	struct log_state *l = &r->logs[i];
	uint64_t shipped;
	sc_repl_state st;

	if (sc_repl_state_read(r->cfg.cache, i, &st))
		return;
	shipped = st.last_lseq;
	for (uint32_t k = 0; k < l->follower_count; k++)
		if (l->followers[k].sent_lseq < shipped)
			shipped = l->followers[k].sent_lseq;
	if (sc_repl_progress_write(r->cfg.cache, i, shipped, acked_in_sync(r, i, st.last_lseq)))
		scd_repl_logf(r, LOG_ERR, "replication: log %u: %s", i, sc_last_error());
}

/* Whether node is in partition p's in-sync set as etcd holds it for this primary's epoch (sync modes). */
static bool in_sync_member(const struct scd_replication *r, uint32_t p, const char *node)
{
	const struct in_sync_state *s = &r->in_sync[p];

	return r->cfg.propose_in_sync && s->epoch && s->epoch == r->logs[p].epoch &&
	       scd_isr_has(&s->isr, node);
}

/*
 * f's log cannot go on from this one (why): send it a copy of the partition,
 * then the log from there. A replica resets its copy of the partition when
 * one begins, and holds part of it until the end: were it still in the
 * in-sync set, the controller could name it primary then, without writes
 * that were acknowledged. So a member of the set is taken out first (the
 * review sees it as lagging, and etcd's txn goes before anything else), and
 * its copy starts once the set without it is known.
 */
static void start_copy(struct scd_replication *r, uint32_t i, struct follower *f, const char *why)
{
	sc_repl_state at;
	void *copy = NULL;
	ssize_t n;

	if (in_sync_member(r, i % r->num_partition, f->node)) {
		if (!f->copy_wanted)
			scd_repl_logf(
				r, LOG_INFO,
				"replication: log %u: %s needs a copy of the partition (%s): first out of "
				"the in-sync set",
				i, f->node, why);
		f->copy_wanted = why;
		f->following = false;
		return;
	}
	f->copy_wanted = NULL;
	n = sc_repl_snapshot(r->cfg.cache, i, &copy, &at);

	if (n < 0) {
		stuck(r, i, f, sc_last_error());
		return;
	}
	scd_repl_logf(r, LOG_INFO,
		      "replication: log %u: copying the partition to %s (%zd bytes, up to entry %" PRIu64
		      "): %s",
		      i, f->node, n, at.last_lseq, why);
	scd_repl_event(r, SCD_REPL_COPYING, i, f->node, (uint64_t)n, at.last_lseq);
	f->copy = copy;
	f->copy_len = (size_t)n;
	f->copy_off = 0;
	f->copy_lseq = at.last_lseq;
	f->copy_epoch = at.last_epoch;
	f->copying = true;
	f->following = true;
	f->stuck = false;
	f->sent_lseq = f->acked_lseq = 0; /* it holds nothing acknowledged until the copy is in */
	r->stats.copies_sent++;
	ship_to(r, i, f, false);
}

static void on_follow(struct scd_replication *r, struct follower *f, const struct scd_repl_position *p)
{
	const char *why;
	uint64_t pos = 0;

	f->following = false;
	f->copy_wanted = NULL;
	drop_copy(f);
	why = p->flags & SCD_REPL_WANT_COPY ? "it asked for one"
					    : continuation(r, p->log, p->last_lseq, p->last_epoch, &pos);
	if (why) {
		start_copy(r, p->log, f, why);
		return;
	}
	if (f->stuck)
		scd_repl_logf(r, LOG_INFO, "replication: log %u: %s follows again from entry %" PRIu64,
			      p->log, f->node, p->last_lseq);
	f->stuck = false;
	f->following = true;
	f->pos = pos;
	f->sent_lseq = f->acked_lseq = p->last_lseq;
	r->stats.follows_taken++;
	ship_to(r, p->log, f, true);
	write_progress(r, p->log);
}

int scd_repl_on_position(struct scd_replication *r, const char *node, const struct scd_repl_position *p)
{
	struct log_state *l = &r->logs[p->log];
	struct follower *f =
		l->role == ROLE_PRIMARY && p->epoch == l->epoch ? scd_repl_follower(l, node) : NULL;

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
	scd_repl_event(r, SCD_REPL_ACKED, p->log, node, p->last_lseq, 0);
	write_progress(r, p->log);
	return 0;
}

void scd_repl_ship(struct scd_replication *r, uint32_t i, uint64_t now)
{
	struct log_state *l = &r->logs[i];
	sc_repl_state st;
	bool moved = false;

	for (uint32_t k = 0; k < l->follower_count; k++) {
		struct follower *f = &l->followers[k];
		uint64_t sent = f->sent_lseq;

		if (f->following) {
			ship_to(r, i, f, false);
			moved |= f->sent_lseq != sent;
		}
	}
	if (sc_repl_state_read(r->cfg.cache, i, &st))
		return;
	for (uint32_t k = 0; k < l->follower_count; k++)
		if (l->followers[k].following && l->followers[k].acked_lseq >= st.last_lseq)
			l->followers[k].caught_up_usec = now;
	if (moved || !l->follower_count)
		write_progress(r, i);
	/* A follower that holds entries the in-sync set acknowledged since it was last told hears of it. */
	for (uint32_t k = 0; k < l->follower_count; k++) {
		struct follower *f = &l->followers[k];

		if (f->following && !f->copying && f->told_committed < st.acked_lseq &&
		    f->told_committed < f->sent_lseq)
			ship_to(r, i, f, true);
	}
}

/* --- the in-sync set ---------------------------------------------------------- */

static bool same_set(const struct scd_isr *a, const struct scd_isr *b)
{
	if (a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++)
		if (!scd_isr_has(b, a->nodes[i]))
			return false;
	return true;
}

static void add_node(struct scd_isr *s, const char *node)
{
	if (!scd_isr_has(s, node) && s->count < SC_MAX_REPLICATION_FACTOR)
		snprintf(s->nodes[s->count++], sizeof(s->nodes[0]), "%s", node);
}

/* Whether node waits for a copy of either of partition p's logs. */
static bool copy_wanted(struct scd_replication *r, uint32_t p, const char *node)
{
	for (uint32_t i = p; i < r->nlogs; i += r->num_partition) {
		struct follower *f = scd_repl_follower(&r->logs[i], node);

		if (f && f->copy_wanted)
			return true;
	}
	return false;
}

/* Whether node is behind in either of partition p's logs for longer than lag_usec. */
static bool lagging(struct scd_replication *r, uint32_t p, const char *node, uint64_t now)
{
	for (uint32_t i = p; i < r->nlogs; i += r->num_partition) {
		struct follower *f = scd_repl_follower(&r->logs[i], node);

		if (f && (f->copy_wanted || now - f->caught_up_usec > r->cfg.lag_usec))
			return true;
	}
	return false;
}

/* Whether node holds every entry of both of partition p's logs now. */
static bool caught_up(struct scd_replication *r, uint32_t p, const char *node)
{
	for (uint32_t i = p; i < r->nlogs; i += r->num_partition) {
		struct follower *f = scd_repl_follower(&r->logs[i], node);
		sc_repl_state st;

		if (!f || !f->following || sc_repl_state_read(r->cfg.cache, i, &st) ||
		    f->acked_lseq < st.last_lseq)
			return false;
	}
	return true;
}

void scd_repl_start_waiting_copies(struct scd_replication *r, uint32_t p)
{
	for (uint32_t i = p; i < r->nlogs; i += r->num_partition)
		for (uint32_t k = 0; k < r->logs[i].follower_count; k++) {
			struct follower *f = &r->logs[i].followers[k];

			if (f->copy_wanted && !in_sync_member(r, p, f->node))
				start_copy(r, i, f, f->copy_wanted);
		}
}

void scd_repl_review_in_sync(struct scd_replication *r, uint32_t p, uint64_t now)
{
	struct in_sync_state *s = &r->in_sync[p];
	struct log_state *l = &r->logs[p];
	struct scd_isr want = { .revision = s->isr.revision };
	int err;

	if (!s->epoch || s->epoch != l->epoch || s->proposing)
		return;
	add_node(&want, r->node);
	for (uint32_t k = 0; k < l->follower_count; k++) {
		const char *node = l->followers[k].node;

		if (scd_isr_has(&s->isr, node) ? !lagging(r, p, node, now) : caught_up(r, p, node))
			add_node(&want, node);
	}
	/*
	 * Never below a majority by removals: acks stop there anyway, and a
	 * member kept then still holds every acknowledged write, so it may
	 * still take over. Kept first: those that need no copy (a copy begins
	 * only once its replica is out); then those that do, one copy at a time.
	 */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t k = 0; k < s->isr.count && want.count < majority(s->replica_count); k++)
			if (pass == 1 || !copy_wanted(r, p, s->isr.nodes[k]))
				add_node(&want, s->isr.nodes[k]);
	if (same_set(&want, &s->isr))
		return;
	err = r->cfg.propose_in_sync(r->cfg.userdata, p, s->epoch, s->isr.revision, &want);
	if (err) {
		scd_repl_logf(r, LOG_WARNING, "replication: partition %u: cannot write its in-sync set: %s",
			      p, strerror(-err));
		return;
	}
	s->proposing = true;
	/* From now on the members it adds count for acks (scd_isr_acked()): they hold every entry so far. */
	s->proposed = want;
	s->proposed_usec = now;
}

static void log_set(struct scd_replication *r, uint32_t p, const struct scd_isr *isr)
{
	char text[SC_MAX_REPLICATION_FACTOR * (SCD_HELLO_NAME_MAX + 1) + 1] = "";
	size_t n = 0;

	for (uint32_t k = 0; k < isr->count; k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", k ? "," : "", isr->nodes[k]);
	scd_repl_logf(r, LOG_INFO, "replication: partition %u: in-sync set now [%s]", p, text);
}

void scd_replication_in_sync_known(struct scd_replication *r, uint32_t p, uint64_t epoch,
				   const struct scd_isr *isr)
{
	struct in_sync_state *s;

	if (p >= r->num_partition || epoch != r->logs[p].epoch || r->logs[p].role != ROLE_PRIMARY)
		return;
	s = &r->in_sync[p];
	if (s->epoch == epoch && isr->revision < s->isr.revision)
		return; /* older than what this node wrote itself */
	/* Logged when this node learns it, from its own txn's answer or from the watch, whichever is first. */
	if (s->epoch != epoch || !same_set(isr, &s->isr))
		log_set(r, p, isr);
	s->epoch = epoch;
	s->isr = *isr;
	for (uint32_t i = p; i < r->nlogs; i += r->num_partition)
		write_progress(r, i);
}

void scd_replication_in_sync_written(struct scd_replication *r, uint32_t p, uint64_t epoch,
				     const struct scd_isr *isr, int result, int64_t revision)
{
	struct scd_isr now = *isr;
	struct in_sync_state *s;

	if (p >= r->num_partition || epoch != r->in_sync[p].epoch)
		return;
	s = &r->in_sync[p];
	s->proposing = false;
	if (result != 1) {
		if (result < 0)
			scd_repl_logf(r, LOG_WARNING,
				      "replication: partition %u: writing its in-sync set: %s", p,
				      strerror(-result));
		return; /* refused: the watch brings what etcd holds, and the next review starts from it */
	}
	now.revision = revision;
	scd_replication_in_sync_known(r, p, epoch, &now);
	r->stats.in_sync_changes++;
	scd_repl_event(r, SCD_REPL_IN_SYNC, p, NULL, now.count, epoch);
}
