/* cache.h — the process-local handle of a cache and the accessors every module shares. */
#ifndef SC_CACHE_H
#define SC_CACHE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "shm/atomics.h"
#include "shm/error.h"
#include "shm/layout.h"
#include "shm/segment.h"
#include "supercache.h"

struct sc_cache {
	uint64_t id;	   /* unique within the process, never reused */
	uint64_t fork_gen; /* sc_fork_generation when opened */
	uint64_t trace_id; /* what the USDT probes call this cache: trace_id.h */
	struct sc_seg seg;
	bool read_only;	       /* attached read-only (sc_options.read_only): every write is -EROFS */
	bool marks_references; /* lookups set records' referenced bit: the cache evicts, and we may write */
	bool logs_writes; /* a distributed cache, writable: writes go to the replication logs (mem/repl_log.h) */
	bool waits_acks; /* ... in sync or strong mode: a write returns once its in-sync replicas have it */
	uint32_t majority_timeout_ms; /* how long it waits for them */
	uint64_t coarse_lag_ns; /* the coarse clock's lag, 2 ticks: a lease check stops that much sooner */
	char name[SC_NAME_MAX + 1];
	char prefix[SC_PREFIX_MAX + 1];
	char dir[PATH_MAX];

	/* what one partition's limbo may hold (max_retired's share), worked out once: mem/limbo.h */
	uint64_t retired_bound;

	/* retired memory tagged below this epoch is unreachable: this handle's last grace period (mem/rcu.h) */
	uint64_t gp_safe;

	/* sc_lazy_put settings (0: the default) and the first error of a background flush (atomics) */
	uint32_t lazy_delay_us;
	uint32_t lazy_max_tuples;
	int lazy_error;

	/*
	 * how far this handle's writes went in each replication log
	 * (mem/read_your_writes.h): each log's wide floor, then each log's
	 * keyed floor, then the keys'; NULL unless distributed
	 */
	struct sc_ryw_floor *ryw;

	/* the socket a sync writer wakes the coordinator's event loop through, and where (mem/ship_bell.h) */
	int bell_fd;
	struct sockaddr_un bell_addr;

	/* connections to the coordinator kept between forwarded writes (forward/forward_client.h) */
	pthread_mutex_t fwd_lock;
	int fwd_idle[4];
	uint32_t n_fwd_idle;

	/* reader slots this process's threads hold through this handle */
	pthread_mutex_t owned_lock;
	uint32_t *owned;
	uint32_t n_owned;
	uint32_t cap_owned;
};

/* -EROFS for a handle attached read-only, whose mapping would fault on the write; else 0. */
static inline int sc_cache_writable(const sc_cache *c)
{
	if (sc_unlikely(c->read_only))
		return sc_fail(-EROFS, "cache \"%s\" was attached read-only: it takes no writes", c->name);
	return 0;
}

/* Grows in every child after fork(): a handle whose fork_gen differs belongs to the parent. */
extern uint64_t sc_fork_generation;

/* 0 if the handle may be used by this process, else a negative errno. */
static inline int sc_cache_check(const sc_cache *c)
{
	sc_check_arg(c, -EINVAL, "cache handle is NULL");
	if (sc_unlikely(c->fork_gen != sc_fork_generation))
		return sc_fail(-ECHILD,
			       "handle of cache \"%s\" was opened before fork(); "
			       "open it again in this process",
			       c->name);
	return 0;
}

static inline struct sc_seg_hdr *sc_hdr(const sc_cache *c)
{
	return sc_seg_hdr(&c->seg);
}

static inline struct sc_part *sc_part_at(const sc_cache *c, uint32_t i)
{
	return (struct sc_part *)(c->seg.base + c->seg.geo.parts_off) + i;
}

static inline uint32_t sc_part_index(const sc_cache *c, const struct sc_part *p)
{
	return (uint32_t)(p - sc_part_at(c, 0));
}

/* Structure partition i (0 to num_partition - 1): they follow the tuple partitions. */
static inline struct sc_part *sc_structure_part_at(const sc_cache *c, uint32_t i)
{
	return sc_part_at(c, c->seg.cfg.num_partition + i);
}

/* Whether p holds structures' entries (keyed by field 0, one per key) rather than tuples. */
static inline bool sc_part_is_structure(const sc_cache *c, const struct sc_part *p)
{
	return sc_part_index(c, p) >= c->seg.cfg.num_partition;
}

/* Whether p's index is an ordered_set's tree (index/btree.h) rather than a hash index. */
static inline bool sc_part_is_ordered(const sc_cache *c, const struct sc_part *p)
{
	return c->seg.cfg.table_type == SC_ORDERED_SET && !sc_part_is_structure(c, p);
}

static inline struct sc_registry *sc_registry(const sc_cache *c)
{
	return (struct sc_registry *)(c->seg.base + c->seg.geo.regs_off);
}

static inline struct sc_slot *sc_slot_at(const sc_cache *c, uint32_t i)
{
	return (struct sc_slot *)(c->seg.base + c->seg.geo.slots_off) + i;
}

static inline struct sc_counter *sc_counter_row(const sc_cache *c, uint32_t slot)
{
	return (struct sc_counter *)(c->seg.base + c->seg.geo.counters_off +
				     (uint64_t)slot * c->seg.geo.counters_stride);
}

static inline struct sc_blk *sc_blk_at(const sc_cache *c, uint64_t off)
{
	return (struct sc_blk *)(c->seg.base + off);
}

#endif /* SC_CACHE_H */
