/* lifecycle.c — the lifecycle API (start, attach, stop, destroy), option checking, and fork(). */
#include "shm/cache.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward/forward_client.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "mem/read_your_writes.h"
#include "mem/ship_bell.h"
#include "shm/clock.h"
#include "shm/handles.h"
#include "tables/lazy_put.h"
#include "trace_id.h"

static void before_fork(void)
{
	sc_handles_lock();
	sc_lazy_before_fork();
}

static void after_fork_parent(void)
{
	sc_lazy_after_fork_parent();
	sc_handles_unlock();
}

/* The child inherits the parent's handles, but none of them is its own. */
static void after_fork_child(void)
{
	sc_handles_forget_inherited();
	sc_lazy_after_fork_child();
	sc_handles_unlock();
	sc_rcu_after_fork_child();
}

__attribute__((constructor)) static void install_fork_handlers(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/*
 * sc_options has no padding anywhere, so that a later, larger one can be
 * told from this one by sz alone and a caller's stray padding bytes are
 * never read as a field; a field added later goes at the end.
 */
_Static_assert(sizeof(sc_options) == offsetof(sc_options, majority_timeout_ms) + sizeof(uint64_t),
	       "sc_options has tail padding");
_Static_assert(offsetof(sc_options, cluster) == offsetof(sc_options, read_only) + sizeof(uint32_t),
	       "sc_options has padding before cluster");

/* Copy caller options of any size: a newer caller's unknown tail must be zero (as libbpf does). */
static int copy_options(const sc_options *opts, sc_options *o)
{
	memset(o, 0, sizeof(*o));
	if (!opts)
		return 0;
	if (opts->sz == 0)
		return sc_fail(-EINVAL, "sc_options.sz is 0: build options with SC_OPTIONS() "
					"or set sz to sizeof(sc_options)");
	for (size_t i = sizeof(*o); i < opts->sz; i++)
		if (((const uint8_t *)opts)[i])
			return sc_fail(-E2BIG, "sc_options has fields this library does not know");
	memcpy(o, opts, opts->sz < sizeof(*o) ? opts->sz : sizeof(*o));
	return 0;
}

static int resolve_config(const sc_options *o, struct sc_config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* One partition per online CPU, as the seed has one per scheduler; within the maximum. */
	if (cpus < 1)
		cpus = 1;
	if (cpus > SC_MAX_PARTITIONS)
		cpus = SC_MAX_PARTITIONS;
	cfg->num_partition = o->num_partition ? o->num_partition : (uint32_t)cpus;
	cfg->key_pos = o->key_pos;
	cfg->partition_pos = o->partition_pos;
	cfg->table_type = o->table_type ? o->table_type : SC_SET;
	cfg->max_readers = o->max_readers ? o->max_readers : SC_DEFAULT_MAX_READERS;
	cfg->memory_limit = sc_align_up(o->memory_limit ? o->memory_limit : SC_DEFAULT_MEMORY_LIMIT, SC_PAGE);
	cfg->eviction = o->eviction;
	cfg->max_retired = o->max_retired ? o->max_retired : cfg->memory_limit / 2;
	cfg->cluster = o->cluster;
	cfg->replication_mode = o->replication_mode ? o->replication_mode : SC_REPLICATION_ASYNC;
	cfg->replication_factor = o->replication_factor ? o->replication_factor : 2;
	if (cfg->num_partition > SC_MAX_PARTITIONS)
		return sc_fail(-EINVAL, "num_partition %u is above the maximum of %u", cfg->num_partition,
			       SC_MAX_PARTITIONS);
	if (cfg->key_pos >= SC_MAX_FIELDS || cfg->partition_pos >= SC_MAX_FIELDS)
		return sc_fail(-EINVAL, "key_pos and partition_pos must be below %u", SC_MAX_FIELDS);
	if (cfg->table_type < SC_SET || cfg->table_type > SC_DUPLICATE_BAG)
		return sc_fail(-EINVAL,
			       "table_type %u is not one of SC_SET, SC_ORDERED_SET, SC_BAG, "
			       "SC_DUPLICATE_BAG",
			       cfg->table_type);
	if (cfg->eviction != SC_EVICTION_OFF && cfg->eviction != SC_EVICTION_CLOCK)
		return sc_fail(-EINVAL, "eviction %u is not one of SC_EVICTION_OFF, SC_EVICTION_CLOCK",
			       cfg->eviction);
	if (cfg->max_readers > SC_MAX_READERS)
		return sc_fail(-EINVAL, "max_readers %u is above the maximum of %u", cfg->max_readers,
			       SC_MAX_READERS);
	/* The seed's words, checked in local mode too: a cache keeps them for when it is replicated. */
	if (cfg->cluster != SC_CLUSTER_LOCAL && cfg->cluster != SC_CLUSTER_DISTRIBUTED)
		return sc_fail(-EINVAL,
			       "unsupported cluster mode %u: SC_CLUSTER_LOCAL or SC_CLUSTER_DISTRIBUTED",
			       cfg->cluster);
	if (cfg->replication_mode < SC_REPLICATION_ASYNC || cfg->replication_mode > SC_REPLICATION_STRONG)
		return sc_fail(
			-EINVAL,
			"unsupported replication_mode %u: SC_REPLICATION_ASYNC, SC_REPLICATION_SYNC or "
			"SC_REPLICATION_STRONG",
			cfg->replication_mode);
	if ((int32_t)cfg->replication_factor < 0)
		return sc_fail(-EINVAL, "replication_factor must be a positive integer, not %d",
			       (int32_t)cfg->replication_factor);
	if (cfg->replication_factor > SC_MAX_REPLICATION_FACTOR)
		return sc_fail(-EINVAL, "replication_factor %u is above the maximum of %u",
			       cfg->replication_factor, SC_MAX_REPLICATION_FACTOR);
	if (o->memory_limit > SC_MAX_SEGMENT)
		return sc_fail(-EINVAL, "memory_limit %llu is above the maximum of %llu bytes",
			       (unsigned long long)o->memory_limit, (unsigned long long)SC_MAX_SEGMENT);
	return 0;
}

static int open_handle(const char *name, const sc_options *opts, enum sc_seg_mode mode, sc_cache **out)
{
	struct sc_config cfg = { 0 };
	sc_options o;
	sc_cache *c;
	int err;

	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	err = copy_options(opts, &o);
	if (!err && o.read_only > 1)
		err = sc_fail(-EINVAL, "read_only is %u: want 0 or 1", o.read_only);
	if (!err && o.read_only && mode == SC_SEG_OPEN_OR_CREATE)
		err = sc_fail(-EINVAL, "read_only: sc_start() may create the cache, which is a write; "
				       "attach read-only with sc_attach()");
	if (!err && o.majority_timeout_ms > SC_MAX_MAJORITY_TIMEOUT_MS)
		err = sc_fail(-EINVAL, "majority_timeout_ms %llu is above the maximum of %u",
			      (unsigned long long)o.majority_timeout_ms, SC_MAX_MAJORITY_TIMEOUT_MS);
	if (!err && mode == SC_SEG_OPEN_OR_CREATE)
		err = resolve_config(&o, &cfg);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return sc_fail(-ENOMEM, "out of memory for a cache handle");
	c->seg.fd = -1;
	c->seg.read_only = o.read_only;
	err = sc_seg_path(c->seg.path, sizeof(c->seg.path), o.dir ? o.dir : SC_DEFAULT_DIR,
			  o.prefix ? o.prefix : SC_DEFAULT_PREFIX, name);
	if (!err)
		err = sc_rcu_process_init();
	if (!err)
		err = sc_seg_open(&c->seg, &cfg, mode);
	if (err) {
		free(c);
		return err;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->read_only = o.read_only;
	c->marks_references = c->seg.cfg.eviction != SC_EVICTION_OFF && !o.read_only;
	c->logs_writes = c->seg.cfg.cluster == SC_CLUSTER_DISTRIBUTED && !o.read_only;
	c->waits_acks = c->logs_writes && c->seg.cfg.replication_mode >= SC_REPLICATION_SYNC;
	c->majority_timeout_ms =
		o.majority_timeout_ms ? (uint32_t)o.majority_timeout_ms : SC_DEFAULT_MAJORITY_TIMEOUT_MS;
	c->coarse_lag_ns = sc_clock_coarse_lag_ns();
	c->trace_id = sc_trace_id_of(name);
	snprintf(c->prefix, sizeof(c->prefix), "%s", o.prefix ? o.prefix : SC_DEFAULT_PREFIX);
	snprintf(c->dir, sizeof(c->dir), "%s", o.dir ? o.dir : SC_DEFAULT_DIR);
	pthread_mutex_init(&c->owned_lock, NULL);
	pthread_mutex_init(&c->fwd_lock, NULL);
	c->retired_bound = sc_limbo_bound(c);
	err = sc_ryw_init(c);
	if (!err)
		err = sc_ship_bell_open(c);
	if (!err)
		err = sc_handle_add(c);
	if (err) {
		sc_ship_bell_close(c);
		sc_ryw_free(c);
		sc_seg_close(&c->seg);
		free(c);
		return err;
	}
	if (c->seg.found_cut && (err = sc_repair(c)) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", sc_last_error());
		sc_stop(c);
		return sc_fail(err,
			       "%s had been truncated to %llu bytes; its size is back, but repairing it "
			       "failed: %s",
			       c->seg.path, (unsigned long long)c->seg.found_cut, why);
	}
	*out = c;
	return 0;
}

SC_EXPORT int sc_start(const char *name, const sc_options *opts, sc_cache **out)
{
	return open_handle(name, opts, SC_SEG_OPEN_OR_CREATE, out);
}

SC_EXPORT int sc_attach(const char *name, const sc_options *opts, sc_cache **out)
{
	return open_handle(name, opts, SC_SEG_ATTACH, out);
}

SC_EXPORT int sc_started(const char *name, const sc_options *opts)
{
	sc_cache *c;
	int err = sc_attach(name, opts, &c);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	sc_stop(c);
	return 1;
}

SC_EXPORT int sc_stop(sc_cache *c)
{
	int err = 0;

	/* Like free(NULL): a handle that was never opened has nothing to release. */
	if (!c)
		return 0;
	/* In a forked child only the child's copy goes: the slots are the parent's. */
	if (c->fork_gen == sc_fork_generation) {
		err = sc_lazy_close(c);
		if (!err)
			err = c->lazy_error;
		sc_handle_remove(c);
		sc_rcu_release_owned(c);
	}
	sc_forward_close(c);
	sc_ship_bell_close(c);
	sc_seg_close(&c->seg);
	pthread_mutex_destroy(&c->owned_lock);
	pthread_mutex_destroy(&c->fwd_lock);
	free(c->owned);
	sc_ryw_free(c);
	free(c);
	return err;
}

SC_EXPORT int sc_destroy(const char *name, const sc_options *opts)
{
	char path[PATH_MAX];
	sc_options o;
	int err = copy_options(opts, &o);

	if (!err)
		err = sc_seg_path(path, sizeof(path), o.dir ? o.dir : SC_DEFAULT_DIR,
				  o.prefix ? o.prefix : SC_DEFAULT_PREFIX, name);
	if (err)
		return err;
	if (unlink(path))
		return sc_fail(-errno, "cannot remove %s: %s", path, sc_strerror(errno));
	return 0;
}

SC_EXPORT int sc_config(sc_cache *c, sc_options *out)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	sc_check_arg(out, -EINVAL, "sc_config: out is NULL");
	/* A caller built against a smaller sc_options says so in sz: nothing past it is written. */
	size_t room = out->sz && out->sz < sizeof(*out) ? out->sz : sizeof(*out);
	sc_options o = {
		.sz = room,
		.num_partition = c->seg.cfg.num_partition,
		.key_pos = c->seg.cfg.key_pos,
		.partition_pos = c->seg.cfg.partition_pos,
		.table_type = c->seg.cfg.table_type,
		.memory_limit = c->seg.cfg.memory_limit,
		.max_readers = c->seg.cfg.max_readers,
		.eviction = c->seg.cfg.eviction,
		.prefix = c->prefix,
		.dir = c->dir,
		.max_retired = c->seg.cfg.max_retired,
		.cluster = c->seg.cfg.cluster,
		.replication_mode = c->seg.cfg.replication_mode,
		.replication_factor = c->seg.cfg.replication_factor,
	};

	memcpy(out, &o, room);
	return 0;
}

SC_EXPORT int sc_distributed(sc_cache *c)
{
	int err = sc_cache_check(c);

	return err ? err : c->seg.cfg.cluster == SC_CLUSTER_DISTRIBUTED;
}
