/* controller.c — election on etcd, and the partition records the elected node writes. */
#include "cluster/controller.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cluster/assignment.h"
#include "cluster/etcd_txn.h"

#define RETRY_USEC (250 * 1000ull)

struct scd_controller {
	struct scd_controller_env env;
	struct scd_etcd_call *campaign_call, *write_call;
	sd_event_source *retry_timer;
	int64_t since;		  /* our controller key's create_revision; 0 when we are not the controller */
	int64_t view;		  /* the revision the node's view reaches */
	int64_t wait_for;	  /* do not compute from a view older than this (what we wrote last) */
	bool again;		  /* a change came while a write was in flight */
	uint32_t *todo;		  /* partitions whose records are being written, in order */
	struct scd_record *want;  /* [num_partition]: what they are being written as */
	struct scd_isr *want_isr; /* [num_partition]: and their in-sync sets */
	struct moved_from *moved; /* [num_partition]: the primary a record takes the partition from */
	uint32_t todo_count, todo_done;
	uint64_t records_written, txn_conflicts;
};

/*
 * A record that names a new primary takes the partition from the old one
 * only because the old one's member key was gone from the view. That node
 * may have joined again since, under a new lease, and read the old record:
 * it acts on it until the new one reaches it. So the txn also requires the
 * old primary's member key to be as the view had it (absent: create_revision
 * 0), and fails when it is back.
 */
struct moved_from {
	char node[SCD_HELLO_NAME_MAX + 1]; /* "" when the record keeps its primary */
	int64_t created;		   /* its member key's create_revision in the view; 0: none */
};

static const struct scd_cluster_state *state(const struct scd_controller *c)
{
	return c->env.state;
}

static const struct scd_controller_env *config(const struct scd_controller *c)
{
	return &c->env;
}

#define log_line(c, level, ...) ((c)->env.log((c)->env.userdata, level, __VA_ARGS__))

static bool is_controller(const struct scd_controller *c)
{
	const struct scd_cluster_state *st = state(c);

	return c->since && st->controller_since == c->since && strcmp(st->controller, config(c)->node) == 0;
}

static void reassign(struct scd_controller *c);

/* --- election ------------------------------------------------------------- */

static void campaigned(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_controller *c = userdata;
	int64_t rev = 0;

	c->campaign_call = NULL;
	if (err) {
		log_line(c, LOG_WARNING, "etcd: standing for controller: %s%s%s", strerror(-err),
			 why[0] ? ": " : "", why);
		return;
	}
	if (!scd_txn_succeeded(reply) || scd_etcd_revision(reply, &rev))
		return; /* another node was first: the watch says which */
	c->since = rev;
	log_line(c, LOG_NOTICE, "cluster %s: this node is the controller (since revision %" PRId64 ")",
		 config(c)->cluster, rev);
	/* The watch may have brought the new key before this answer: look now, not at the next change. */
	reassign(c);
}

static void campaign(struct scd_controller *c)
{
	struct json_object *t, *value;
	char key[SCD_ETCD_KEY_MAX];
	int64_t lease = c->env.lease(c->env.userdata);

	if (c->campaign_call || !lease || scd_state_key(state(c), key, sizeof(key), "controller"))
		return;
	value = json_object_new_object();
	json_object_object_add(value, "node", json_object_new_string(config(c)->node));
	t = scd_txn_new();
	scd_txn_add(t, "compare", scd_txn_compare(key, "CREATE", "create_revision", 0));
	scd_txn_add(t, "success", scd_txn_put(key, value, lease));
	if (scd_etcd_post(config(c)->etcd, "/v3/kv/txn", t, campaigned, c, &c->campaign_call))
		log_line(c, LOG_WARNING, "etcd: cannot stand for controller");
}

/* --- writing records ------------------------------------------------------- */

static void write_next(struct scd_controller *c);
static void reassign(struct scd_controller *c);

/* The members that may hold partitions: every live one, or (static membership) those listed. */
static uint32_t eligible(const struct scd_controller *c, const char **out)
{
	const struct scd_cluster_state *st = state(c);
	const struct scd_controller_env *cfg = config(c);
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->member_count; i++) {
		bool listed = cfg->static_peer_count == 0;

		for (size_t j = 0; !listed && j < cfg->static_peer_count; j++)
			listed = strcmp(st->members[i].listen, cfg->static_peers[j]) == 0;
		if (listed)
			out[n++] = st->members[i].name;
	}
	return n;
}

static void written(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_controller *c = userdata;
	uint32_t batch = c->todo_count - c->todo_done < SCD_CONTROLLER_BATCH ? c->todo_count - c->todo_done
									     : SCD_CONTROLLER_BATCH;
	int64_t rev = 0;

	c->write_call = NULL;
	if (err) {
		log_line(c, LOG_WARNING, "etcd: writing partition records: %s%s%s; trying again",
			 strerror(-err), why[0] ? ": " : "", why);
		c->todo_count = 0;
		sd_event_source_set_time_relative(c->retry_timer, RETRY_USEC);
		sd_event_source_set_enabled(c->retry_timer, SD_EVENT_ONESHOT);
		return;
	}
	scd_etcd_revision(reply, &rev);
	if (rev > c->wait_for)
		c->wait_for = rev;
	if (!scd_txn_succeeded(reply)) {
		/* Deposed, or a key changed under us: look again once the view has caught up. */
		c->txn_conflicts++;
		c->todo_count = 0;
		if (c->view < rev) {
			c->again = true;
		} else {
			/*
			 * The view has every change etcd has, and still the compare failed: a key it
			 * reads as absent is there (one whose value does not decode). Nothing will
			 * come to explain it: try again after a pause, not in a loop.
			 */
			log_line(c, LOG_WARNING,
				 "cluster %s: etcd refused partition records the view at revision %" PRId64
				 " allows; trying again",
				 config(c)->cluster, c->view);
			sd_event_source_set_time_relative(c->retry_timer, RETRY_USEC);
			sd_event_source_set_enabled(c->retry_timer, SD_EVENT_ONESHOT);
		}
	} else {
		c->records_written += batch;
		c->todo_done += batch;
		write_next(c);
	}
	/* What changed while this was in flight, once the view has what was written. */
	if (!c->todo_count && c->again)
		reassign(c);
}

static void write_next(struct scd_controller *c)
{
	const struct scd_cluster_state *st = state(c);
	char key[SCD_ETCD_KEY_MAX];
	struct json_object *t;
	uint32_t end;

	if (c->todo_done >= c->todo_count) {
		c->todo_count = 0;
		return;
	}
	end = c->todo_done + SCD_CONTROLLER_BATCH < c->todo_count ? c->todo_done + SCD_CONTROLLER_BATCH
								  : c->todo_count;
	t = scd_txn_new();
	scd_state_key(st, key, sizeof(key), "controller");
	scd_txn_add(t, "compare", scd_txn_compare(key, "CREATE", "create_revision", c->since));
	for (uint32_t i = c->todo_done; i < end; i++) {
		uint32_t p = c->todo[i];

		scd_state_key(st, key, sizeof(key), "partitions/%u", p);
		scd_txn_add(t, "compare", scd_txn_compare(key, "MOD", "mod_revision", c->want[p].epoch));
		scd_txn_add(t, "success", scd_txn_put(key, scd_record_json(&c->want[p]), 0));
		if (c->moved[p].node[0]) {
			scd_state_key(st, key, sizeof(key), "members/%s", c->moved[p].node);
			scd_txn_add(t, "compare",
				    scd_txn_compare(key, "CREATE", "create_revision", c->moved[p].created));
		}
		/* The in-sync set with it, unless its primary changed it since this view. */
		scd_state_key(st, key, sizeof(key), "isr/%u", p);
		scd_txn_add(t, "compare", scd_txn_compare(key, "MOD", "mod_revision", st->isrs[p].revision));
		scd_txn_add(t, "success", scd_txn_put(key, scd_isr_json(&c->want_isr[p]), 0));
	}
	if (scd_etcd_post(config(c)->etcd, "/v3/kv/txn", t, written, c, &c->write_call)) {
		c->todo_count = 0;
		log_line(c, LOG_WARNING, "etcd: cannot send partition records");
	}
}

static void reassign(struct scd_controller *c)
{
	const struct scd_cluster_state *st = state(c);
	const char *live[SCD_MAX_MEMBERS];
	uint32_t n;

	if (!is_controller(c))
		return;
	if (c->todo_count || c->view < c->wait_for) {
		c->again = true;
		return;
	}
	c->again = false;
	n = eligible(c, live);
	for (uint32_t p = 0; p < st->num_partition; p++) {
		struct scd_assign_from from = {
			.cur = &st->records[p],
			.isr = scd_isr_current(&st->isrs[p], &st->records[p]) ? &st->isrs[p] : NULL,
			.in_sync_only = config(c)->in_sync_only,
			.partition = p,
			.replication_factor = config(c)->replication_factor,
		};

		if (!scd_assign(&from, live, n, &c->want[p], &c->want_isr[p]))
			continue;
		c->todo[c->todo_count++] = p;
		c->moved[p] = (struct moved_from){ .created = 0 };
		if (from.cur->primary[0] && strcmp(from.cur->primary, c->want[p].primary) != 0) {
			const struct scd_member *was = scd_state_member(st, from.cur->primary);

			snprintf(c->moved[p].node, sizeof(c->moved[p].node), "%s", from.cur->primary);
			c->moved[p].created = was ? was->created : 0;
		}
	}
	if (c->todo_count) {
		log_line(c, LOG_INFO, "cluster %s: %u partition records to write over %u members",
			 config(c)->cluster, c->todo_count, n);
		c->todo_done = 0;
		write_next(c);
	}
}

static int retry_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	reassign(userdata);
	return 0;
}

void scd_controller_changed(struct scd_controller *c, unsigned what, int64_t revision)
{
	const struct scd_cluster_state *st = state(c);

	c->view = revision;
	if (!st->controller[0])
		campaign(c);
	if (c->since && !is_controller(c) && st->controller_since != 0) {
		log_line(c, LOG_NOTICE, "cluster %s: this node is no longer the controller (%s is)",
			 config(c)->cluster, st->controller);
		c->since = 0;
	}
	if (what || c->again)
		reassign(c);
}

void scd_controller_stand_down(struct scd_controller *c)
{
	scd_etcd_cancel(c->campaign_call);
	scd_etcd_cancel(c->write_call);
	c->campaign_call = c->write_call = NULL;
	c->since = 0;
	c->todo_count = 0;
	c->again = false;
	sd_event_source_set_enabled(c->retry_timer, SD_EVENT_OFF);
}

int scd_controller_new(const struct scd_controller_env *env, struct scd_controller **out)
{
	struct scd_controller *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->env = *env;
	c->todo = calloc(env->state->num_partition, sizeof(*c->todo));
	c->want = calloc(env->state->num_partition, sizeof(*c->want));
	c->want_isr = calloc(env->state->num_partition, sizeof(*c->want_isr));
	c->moved = calloc(env->state->num_partition, sizeof(*c->moved));
	r = c->todo && c->want && c->want_isr && c->moved ? 0 : -ENOMEM;
	if (!r)
		r = sd_event_add_time_relative(env->event, &c->retry_timer, CLOCK_MONOTONIC, RETRY_USEC, 1000,
					       retry_tick, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->retry_timer, SD_EVENT_OFF);
	if (r < 0) {
		scd_controller_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void scd_controller_free(struct scd_controller *c)
{
	if (!c)
		return;
	scd_etcd_cancel(c->campaign_call);
	scd_etcd_cancel(c->write_call);
	sd_event_source_disable_unref(c->retry_timer);
	free(c->todo);
	free(c->moved);
	free(c->want_isr);
	free(c->want);
	free(c);
}

void scd_controller_stats(const struct scd_controller *c, struct scd_controller_stats *out)
{
	*out = (struct scd_controller_stats){
		.controller = is_controller(c),
		.records_written = c->records_written,
		.txn_conflicts = c->txn_conflicts,
	};
}
