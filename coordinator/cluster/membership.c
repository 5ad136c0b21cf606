/* membership.c — config check, lease, member key, sync and watch, election: a node's steps in its cluster. */
#include "cluster/membership.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "cluster/controller.h"
#include "cluster/etcd_txn.h"

/* Pause before a step is tried again when etcd could not be reached, or a name is held. */
#define RETRY_USEC (250 * 1000ull)

enum phase { PHASE_CONFIG, PHASE_LEASE, PHASE_REGISTER, PHASE_SYNC, PHASE_RUNNING };
static const char *const phase_names[] = { "config", "lease", "register", "sync", "running" };

struct scd_membership {
	struct scd_membership_config cfg;
	char *cluster, *node, *listen;
	struct json_object *shared; /* the structural options, as /config holds them */
	char **static_peers;
	sd_event *event;
	struct scd_cluster_state state;
	enum phase phase;
	struct scd_controller *controller;

	struct scd_etcd_call *step_call, *renew_call, *leave_call;
	struct scd_etcd_watch *watch;
	sd_event_source *step_timer, *renew_timer;

	int64_t lease_id;      /* 0 when none */
	int64_t lost_lease_id; /* the one before, whose member key is ours to take */
	uint64_t lease_ttl_usec;
	uint64_t renew_sent_ns; /* CLOCK_MONOTONIC when the renewal (or grant) in flight was sent */
	uint64_t confirmed_ns;	/* ... and when the last one etcd confirmed was */
	uint64_t deadline_ns;	/* published once synced; 0: fenced */
	uint64_t held_logged;	/* the lease holding our name, logged once */
	int64_t revision;	/* last applied */
	uint64_t lapses;
	void (*leave_done)(void *);
	void *leave_userdata;
};

static void say(const struct scd_membership *m, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct scd_membership *m, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!m->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->cfg.log(m->cfg.userdata, level, "%s", line);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void notify(struct scd_membership *m, unsigned what)
{
	if (what && m->cfg.changed)
		m->cfg.changed(m->cfg.userdata, what);
}

/* --- requests ------------------------------------------------------------ */

static struct json_object *b64_str(const char *s)
{
	return scd_etcd_b64(s, strlen(s));
}

/* {"compare": [c], "success": [ok], "failure": [otherwise]}; any of them may be NULL. */
static struct json_object *txn(struct json_object *c, struct json_object *ok, struct json_object *otherwise)
{
	struct json_object *t = scd_txn_new();

	if (c)
		scd_txn_add(t, "compare", c);
	if (ok)
		scd_txn_add(t, "success", ok);
	if (otherwise)
		scd_txn_add(t, "failure", otherwise);
	return t;
}

static void step_after(struct scd_membership *m, uint64_t usec);

/* A step's request failed to get an answer: say so, try the step again after a pause. */
static void step_failed(struct scd_membership *m, const char *what, int err, const char *why)
{
	say(m, LOG_WARNING, "etcd: %s: %s%s%s; trying again", what, strerror(-err), why[0] ? ": " : "", why);
	step_after(m, RETRY_USEC);
}

static void post_step(struct scd_membership *m, const char *path, struct json_object *body,
		      scd_etcd_reply_fn fn)
{
	int r = scd_etcd_post(m->cfg.etcd, path, body, fn, m, &m->step_call);

	if (r)
		step_failed(m, path, r, "");
}

/* --- 1. the shared configuration --------------------------------------- */

static void run_step(struct scd_membership *m);

static struct json_object *shared_config(const struct scd_membership *m)
{
	return json_object_get(m->shared);
}

/* The first key whose value etcd's configuration does not share with ours, in why; 0 when all agree. */
static int compare_config(const struct scd_membership *m, const struct scd_etcd_kv *kv, char *why,
			  size_t whylen)
{
	struct json_object *theirs = json_tokener_parse((const char *)kv->value), *v;
	int r = 0;

	if (!theirs || !json_object_is_type(theirs, json_type_object)) {
		snprintf(why, whylen, "the cluster's configuration in etcd (%s) is not a JSON object",
			 kv->key);
		r = -EINVAL;
	}
	json_object_object_foreach(m->shared, key, value)
	{
		const char *ours = json_object_get_string(value);
		const char *have =
			json_object_object_get_ex(theirs, key, &v) && json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: "(none)";

		if (r || strcmp(have, ours) == 0)
			continue;
		snprintf(why, whylen, "%s mismatch: cluster %s has %s = %s in etcd, this node has %s = %s",
			 strcmp(key, "num_partition") == 0 ? "Partition count" : key, m->cluster, key, have,
			 key, ours);
		r = -EINVAL;
	}
	json_object_put(theirs);
	return r;
}

static void config_done(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;
	struct scd_etcd_kv *kv;
	char msg[1024] = "";
	int r;

	m->step_call = NULL;
	if (err)
		return step_failed(m, "writing the cluster's configuration", err, why);
	if (scd_txn_succeeded(reply)) {
		say(m, LOG_NOTICE, "cluster %s: this node is the first; its configuration is the cluster's",
		    m->cluster);
	} else {
		kv = malloc(sizeof(*kv));
		r = kv ? scd_txn_first_kv(reply, kv, msg, sizeof(msg)) : -ENOMEM;
		if (r <= 0) {
			free(kv);
			return step_failed(m, "reading the cluster's configuration", r ? r : -EPROTO, msg);
		}
		r = compare_config(m, kv, msg, sizeof(msg));
		free(kv);
		if (r) {
			m->cfg.config_checked(m->cfg.userdata, r, msg);
			return;
		}
	}
	m->cfg.config_checked(m->cfg.userdata, 0, "");
	m->phase = PHASE_LEASE;
	run_step(m);
}

static void check_config(struct scd_membership *m)
{
	char key[SCD_ETCD_KEY_MAX];

	scd_state_key(&m->state, key, sizeof(key), "config");
	post_step(m, "/v3/kv/txn",
		  txn(scd_txn_compare(key, "CREATE", "create_revision", 0),
		      scd_txn_put(key, shared_config(m), 0), scd_txn_range(key)),
		  config_done);
}

/* --- 2. the lease; renewals and the deadline ----------------------------- */

static void lapse(struct scd_membership *m, const char *why);

static void set_deadline(struct scd_membership *m, uint64_t sent_ns, int64_t ttl_s)
{
	/* Nine tenths of the TTL from when the renewal was sent: etcd counts the whole TTL from when it got it. */
	uint64_t deadline = sent_ns + (uint64_t)ttl_s * 900000000ull;

	m->lease_ttl_usec = (uint64_t)ttl_s * 1000000ull;
	if (m->phase == PHASE_RUNNING && deadline > m->deadline_ns) {
		m->deadline_ns = deadline;
		notify(m, SCD_CHANGED_LEASE);
	}
}

static void renew_done(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;
	struct json_object *result = NULL;
	int64_t ttl = 0, id = 0;

	m->renew_call = NULL;
	if (err) {
		say(m, LOG_WARNING, "etcd: renewing lease %" PRIx64 ": %s%s%s", m->lease_id, strerror(-err),
		    why[0] ? ": " : "", why);
		return;
	}
	if (!json_object_object_get_ex(reply, "result", &result) || scd_etcd_int(result, "TTL", &ttl) ||
	    scd_etcd_int(result, "ID", &id) || id != m->lease_id) {
		say(m, LOG_WARNING, "etcd: renewing lease %" PRIx64 ": an answer that is no renewal",
		    m->lease_id);
		return;
	}
	if (ttl <= 0)
		return lapse(m, "etcd says the lease is gone");
	m->confirmed_ns = m->renew_sent_ns;
	set_deadline(m, m->confirmed_ns, ttl);
}

/* Every third of the lease's life (a tenth while renewals fail): renew, after checking the deadline. */
static int renew_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct scd_membership *m = userdata;
	uint64_t third = m->lease_ttl_usec / 3, next = m->renew_call ? m->lease_ttl_usec / 10 : third;
	struct json_object *body;

	(void)s;
	(void)usec;
	if (m->lease_id && m->phase == PHASE_RUNNING && m->deadline_ns && now_ns() >= m->deadline_ns) {
		lapse(m, "its deadline passed with no renewal confirmed");
		return 0;
	}
	if (m->lease_id && !m->renew_call) {
		body = json_object_new_object();
		json_object_object_add(body, "ID", json_object_new_int64(m->lease_id));
		m->renew_sent_ns = now_ns();
		if (scd_etcd_post(m->cfg.etcd, "/v3/lease/keepalive", body, renew_done, m, &m->renew_call))
			say(m, LOG_WARNING, "etcd: cannot send a lease renewal");
	}
	sd_event_source_set_time_relative(m->renew_timer, next ? next : 100000);
	sd_event_source_set_enabled(m->renew_timer, SD_EVENT_ONESHOT);
	return 0;
}

/*
 * Renewals from a grant on. The library checks the deadline itself on
 * every question (sc_cluster_acting_primary()), so the fence holds to the
 * nanosecond; the tick only notices a lapse, to start joining again.
 */
static void arm_renewals(struct scd_membership *m)
{
	sd_event_source_set_time_relative(m->renew_timer, m->lease_ttl_usec / 3);
	sd_event_source_set_enabled(m->renew_timer, SD_EVENT_ONESHOT);
}

static void grant_done(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;
	int64_t ttl = 0, id = 0;

	m->step_call = NULL;
	if (err)
		return step_failed(m, "granting a lease", err, why);
	if (scd_etcd_int(reply, "ID", &id) || scd_etcd_int(reply, "TTL", &ttl) || id == 0 || ttl <= 0)
		return step_failed(m, "granting a lease", -EPROTO, "an answer with no lease in it");
	m->lease_id = id;
	m->confirmed_ns = m->renew_sent_ns;
	m->lease_ttl_usec = (uint64_t)ttl * 1000000ull;
	say(m, LOG_INFO, "etcd: lease %" PRIx64 " of %" PRId64 " s", id, ttl);
	arm_renewals(m);
	m->phase = PHASE_REGISTER;
	run_step(m);
}

static void grant(struct scd_membership *m)
{
	struct json_object *body = json_object_new_object();
	int64_t ttl = (int64_t)((m->cfg.lease_usec + 999999) / 1000000);

	json_object_object_add(body, "TTL", json_object_new_int64(ttl));
	post_step(m, "/v3/lease/grant", body, grant_done);
}

/* Fenced: act as primary nowhere, then join again with a new lease. */
static void lapse(struct scd_membership *m, const char *why)
{
	say(m, LOG_WARNING,
	    "etcd: lease %" PRIx64 " lost (%s): this node acts as primary nowhere until it has joined again",
	    m->lease_id, why);
	m->lapses++;
	m->deadline_ns = 0;
	m->lost_lease_id = m->lease_id;
	m->lease_id = 0;
	scd_etcd_cancel(m->renew_call);
	m->renew_call = NULL;
	scd_etcd_cancel(m->step_call);
	m->step_call = NULL;
	scd_etcd_watch_free(m->watch);
	m->watch = NULL;
	scd_controller_stand_down(m->controller);
	m->phase = PHASE_LEASE;
	notify(m, SCD_CHANGED_LEASE);
	step_after(m, 0);
}

/* --- 3. the member key ---------------------------------------------------- */

static void register_done(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;
	struct scd_etcd_kv *kv;
	char msg[256] = "", key[SCD_ETCD_KEY_MAX];
	int r;

	m->step_call = NULL;
	if (err)
		return step_failed(m, "registering as a member", err, why);
	if (!scd_txn_succeeded(reply)) {
		kv = malloc(sizeof(*kv));
		r = kv ? scd_txn_first_kv(reply, kv, msg, sizeof(msg)) : -ENOMEM;
		if (r == 1 && kv->lease && kv->lease != m->lost_lease_id && kv->lease != m->lease_id) {
			if ((uint64_t)kv->lease != m->held_logged)
				say(m, LOG_WARNING,
				    "etcd: member name %s is held by lease %" PRIx64
				    " (another supercached, or this node's previous run): waiting for it to end",
				    m->node, kv->lease);
			m->held_logged = (uint64_t)kv->lease;
			free(kv);
			return step_after(m, RETRY_USEC);
		}
		free(kv);
		if (r < 0)
			return step_failed(m, "reading the member key", r, msg);
		/* Ours from before the lapse, or with no lease: ours to take. */
		scd_state_key(&m->state, key, sizeof(key), "members/%s", m->node);
		post_step(m, "/v3/kv/txn",
			  txn(NULL, scd_txn_put(key, scd_member_json(m->listen), m->lease_id), NULL),
			  register_done);
		return;
	}
	say(m, LOG_INFO, "etcd: registered as member %s of cluster %s, listening at %s", m->node, m->cluster,
	    m->listen);
	m->phase = PHASE_SYNC;
	run_step(m);
}

static void register_member(struct scd_membership *m)
{
	char key[SCD_ETCD_KEY_MAX];

	scd_state_key(&m->state, key, sizeof(key), "members/%s", m->node);
	post_step(m, "/v3/kv/txn",
		  txn(scd_txn_compare(key, "CREATE", "create_revision", 0),
		      scd_txn_put(key, scd_member_json(m->listen), m->lease_id), scd_txn_range(key)),
		  register_done);
}

/* --- 4. sync and watch ---------------------------------------------------- */

static unsigned apply_kv(struct scd_membership *m, struct json_object *kvobj, bool deleted)
{
	struct scd_etcd_kv *kv = malloc(sizeof(*kv));
	char why[512] = "";
	int r = kv ? scd_etcd_kv_parse(kvobj, kv, why, sizeof(why)) : -ENOMEM;

	if (r == 0) {
		say(m, LOG_DEBUG, "etcd: %s %s at revision %" PRId64 " (lease %" PRIx64 ")",
		    deleted ? "delete" : "put", kv->key, kv->mod_revision, kv->lease);
		r = deleted ? scd_state_delete(&m->state, kv->key)
			    : scd_state_put(&m->state, kv, why, sizeof(why));
	}
	if (r < 0) {
		say(m, LOG_WARNING, "etcd: ignoring a key: %s", why[0] ? why : strerror(-r));
		r = deleted ? 0 : (int)(SCD_CHANGED_MEMBERS | SCD_CHANGED_RECORDS | SCD_CHANGED_CONTROLLER);
	}
	free(kv);
	return (unsigned)r;
}

static void after_changes(struct scd_membership *m, unsigned what)
{
	if (m->leave_done)
		return; /* leaving: its own member key goes with the lease it gave back */
	if (!scd_state_member(&m->state, m->node) && m->phase == PHASE_RUNNING)
		return lapse(m, "its member key is gone");
	scd_controller_changed(m->controller, what, m->revision);
	notify(m, what);
}

static void resync(struct scd_membership *m);

static void watched(int err, struct json_object *result, void *userdata)
{
	struct scd_membership *m = userdata;
	struct json_object *events, *ev, *kv, *type;
	unsigned what = 0;
	int64_t rev = 0;

	if (err == -ESTALE) {
		say(m, LOG_WARNING, "etcd: the watch fell behind a compaction; reading the cluster again");
		return resync(m);
	}
	if (err || !json_object_object_get_ex(result, "events", &events) ||
	    !json_object_is_type(events, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		ev = json_object_array_get_idx(events, i);
		if (!json_object_object_get_ex(ev, "kv", &kv))
			continue;
		what |= apply_kv(m, kv,
				 json_object_object_get_ex(ev, "type", &type) &&
					 strcmp(json_object_get_string(type), "DELETE") == 0);
	}
	if (scd_etcd_revision(result, &rev) == 0 && rev > m->revision)
		m->revision = rev;
	after_changes(m, what);
}

static void sync_done(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;
	struct json_object *kvs;
	char end[SCD_ETCD_KEY_MAX];
	int64_t rev = 0;
	int r;

	m->step_call = NULL;
	if (err)
		return step_failed(m, "reading the cluster", err, why);
	if (scd_etcd_revision(reply, &rev) || rev <= 0)
		return step_failed(m, "reading the cluster", -EPROTO, "an answer with no revision");
	scd_state_clear(&m->state);
	if (json_object_object_get_ex(reply, "kvs", &kvs) && json_object_is_type(kvs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(kvs); i++)
			apply_kv(m, json_object_array_get_idx(kvs, i), false);
	m->revision = rev;
	scd_etcd_prefix_end(m->state.prefix, end, sizeof(end));
	scd_etcd_watch_free(m->watch);
	m->watch = NULL;
	r = scd_etcd_watch(m->cfg.etcd, m->state.prefix, end, rev + 1, watched, m, &m->watch);
	if (r)
		return step_failed(m, "watching the cluster", r, "");
	m->phase = PHASE_RUNNING;
	/* The deadline counts from the renewal etcd confirmed last, or from the grant. */
	m->deadline_ns = 0;
	set_deadline(m, m->confirmed_ns, (int64_t)(m->lease_ttl_usec / 1000000));
	say(m, LOG_NOTICE, "cluster %s: joined at revision %" PRId64 ": %u members, controller %s",
	    m->cluster, rev, m->state.member_count, m->state.controller[0] ? m->state.controller : "(none)");
	after_changes(m,
		      SCD_CHANGED_MEMBERS | SCD_CHANGED_RECORDS | SCD_CHANGED_CONTROLLER | SCD_CHANGED_LEASE);
}

static void sync_state(struct scd_membership *m)
{
	struct json_object *body = json_object_new_object();
	char end[SCD_ETCD_KEY_MAX];

	scd_etcd_prefix_end(m->state.prefix, end, sizeof(end));
	json_object_object_add(body, "key", b64_str(m->state.prefix));
	json_object_object_add(body, "range_end", b64_str(end));
	post_step(m, "/v3/kv/range", body, sync_done);
}

/* A compacted watch: fenced while the cluster is read again (the map may have moved on without us). */
static void resync(struct scd_membership *m)
{
	scd_etcd_watch_free(m->watch);
	m->watch = NULL;
	m->deadline_ns = 0;
	notify(m, SCD_CHANGED_LEASE);
	m->phase = PHASE_SYNC;
	step_after(m, 0);
}

/* --- the steps ------------------------------------------------------------ */

static void run_step(struct scd_membership *m)
{
	switch (m->phase) {
	case PHASE_CONFIG:
		return check_config(m);
	case PHASE_LEASE:
		m->renew_sent_ns = now_ns();
		return grant(m);
	case PHASE_REGISTER:
		return register_member(m);
	case PHASE_SYNC:
		return sync_state(m);
	case PHASE_RUNNING:
		return;
	}
}

static int step_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	run_step(userdata);
	return 0;
}

static void step_after(struct scd_membership *m, uint64_t usec)
{
	sd_event_source_set_time_relative(m->step_timer, usec);
	sd_event_source_set_enabled(m->step_timer, SD_EVENT_ONESHOT);
}

/* For the controller: the lease it stands for controller under, and its log. */
static int64_t running_lease(void *userdata)
{
	const struct scd_membership *m = userdata;

	return m->phase == PHASE_RUNNING ? m->lease_id : 0;
}

static void controller_log(void *userdata, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void controller_log(void *userdata, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(userdata, level, "%s", line);
}

int scd_membership_start(sd_event *event, const struct scd_membership_config *cfg,
			 struct scd_membership **out)
{
	struct scd_membership *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->event = sd_event_ref(event);
	m->cluster = strdup(cfg->cluster);
	m->node = strdup(cfg->node);
	m->listen = strdup(cfg->listen);
	m->cfg.cluster = m->cluster;
	m->cfg.node = m->node;
	m->cfg.listen = m->listen;
	m->shared = json_object_new_object();
	for (size_t i = 0; m->shared && i < cfg->shared_count; i++)
		json_object_object_add(m->shared, cfg->shared_keys[i],
				       json_object_new_string(cfg->shared_values[i]));
	m->static_peers = calloc(cfg->static_peer_count + 1, sizeof(char *));
	for (size_t i = 0; m->static_peers && i < cfg->static_peer_count; i++)
		m->static_peers[i] = strdup(cfg->static_peers[i]);
	m->cfg.shared_keys = m->cfg.shared_values = NULL;
	m->cfg.static_peers = (const char *const *)m->static_peers;
	r = m->cluster && m->node && m->listen && m->shared && m->static_peers ? 0 : -ENOMEM;
	for (size_t i = 0; !r && i < cfg->static_peer_count; i++)
		if (!m->static_peers[i])
			r = -ENOMEM;
	if (!r)
		r = scd_state_init(&m->state, cfg->cluster, cfg->num_partition);
	if (!r)
		r = sd_event_add_time_relative(event, &m->step_timer, CLOCK_MONOTONIC, 0, 1000, step_tick, m);
	if (r >= 0)
		r = sd_event_add_time_relative(event, &m->renew_timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 1000,
					       renew_tick, m);
	if (r >= 0) {
		struct scd_controller_env env = {
			.event = event,
			.etcd = cfg->etcd,
			.state = &m->state,
			.cluster = m->cluster,
			.node = m->node,
			.replication_factor = cfg->replication_factor,
			.in_sync_only = cfg->in_sync_only,
			.static_peers = m->cfg.static_peers,
			.static_peer_count = cfg->static_peer_count,
			.lease = running_lease,
			.log = controller_log,
			.userdata = m,
		};

		sd_event_source_set_enabled(m->renew_timer, SD_EVENT_OFF);
		r = scd_controller_new(&env, &m->controller);
	}
	if (r < 0) {
		scd_membership_free(m);
		return r;
	}
	m->phase = PHASE_CONFIG;
	step_after(m, 0);
	*out = m;
	return 0;
}

void scd_membership_free(struct scd_membership *m)
{
	if (!m)
		return;
	scd_controller_free(m->controller);
	scd_etcd_cancel(m->step_call);
	scd_etcd_cancel(m->renew_call);
	scd_etcd_cancel(m->leave_call);
	scd_etcd_watch_free(m->watch);
	sd_event_source_disable_unref(m->step_timer);
	sd_event_source_disable_unref(m->renew_timer);
	sd_event_unref(m->event);
	scd_state_free(&m->state);
	json_object_put(m->shared);
	for (size_t i = 0; m->static_peers && i < m->cfg.static_peer_count; i++)
		free(m->static_peers[i]);
	free(m->static_peers);
	free(m->cluster);
	free(m->node);
	free(m->listen);
	free(m);
}

static void left(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct scd_membership *m = userdata;

	(void)reply;
	m->leave_call = NULL;
	if (err)
		say(m, LOG_WARNING, "etcd: giving lease %" PRIx64 " back: %s%s%s; it ends on its own",
		    m->lost_lease_id, strerror(-err), why[0] ? ": " : "", why);
	m->leave_done(m->leave_userdata);
}

void scd_membership_leave(struct scd_membership *m, void (*done)(void *userdata), void *userdata)
{
	struct json_object *body;
	int64_t id = m->lease_id;

	m->deadline_ns = 0;
	notify(m, SCD_CHANGED_LEASE);
	scd_controller_stand_down(m->controller);
	scd_etcd_cancel(m->step_call);
	m->step_call = NULL;
	sd_event_source_set_enabled(m->step_timer, SD_EVENT_OFF);
	sd_event_source_set_enabled(m->renew_timer, SD_EVENT_OFF);
	m->lost_lease_id = id;
	m->lease_id = 0;
	m->leave_done = done;
	m->leave_userdata = userdata;
	if (!id)
		return done(userdata);
	body = json_object_new_object();
	json_object_object_add(body, "ID", json_object_new_int64(id));
	if (scd_etcd_post(m->cfg.etcd, "/v3/lease/revoke", body, left, m, &m->leave_call))
		done(userdata);
}

const struct scd_cluster_state *scd_membership_state(const struct scd_membership *m)
{
	return &m->state;
}

uint64_t scd_membership_deadline_ns(const struct scd_membership *m)
{
	return m->phase == PHASE_RUNNING ? m->deadline_ns : 0;
}

void scd_membership_stats(const struct scd_membership *m, struct scd_membership_stats *out)
{
	struct scd_controller_stats cs;

	scd_controller_stats(m->controller, &cs);
	*out = (struct scd_membership_stats){
		.phase = phase_names[m->phase],
		.controller = cs.controller,
		.lease_id = m->lease_id,
		.lease_ttl_usec = m->lease_ttl_usec,
		.lapses = m->lapses,
		.records_written = cs.records_written,
		.txn_conflicts = cs.txn_conflicts,
		.revision = m->revision,
	};
}
