/*
 * cluster_map.c — the partition map in the segment (layout.h, struct
 * sc_map_hdr), under a sequence word: one writer, the coordinator that
 * claimed it; readers copy and check the word did not move, as the
 * kernel's seqlocks do. A reader never waits on the writer and never
 * writes: a read-only handle reads the map too. Its times are on
 * CLOCK_MONOTONIC. The lease check on every write and primary read reads
 * the library's coarse clock (a quarter of the precise one's cost) and
 * takes the two ticks by which it may lag off the deadline first
 * (sc_cache.coarse_lag_ns, shm/clock.h), so it stops no later than a
 * precise check would. A timekeeping CPU stalled longer (a host that
 * holds a virtual CPU back) lags it further; that is the same as this thread
 * being held back between its check and its write, which the lease's
 * margin of a tenth of its TTL covers for either clock
 * (docs/distributed.md, "Fencing").
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "shm/cluster_map.h"

#include "shm/cache.h"
#include "shm/clock.h"
#include "shm/error.h"
#include "shm/proc.h"

_Static_assert(SC_MAP_NODES == SC_MAX_NODES, "the segment holds every node");
_Static_assert(SC_MAP_NAME_SLOT > SC_NODE_NAME_MAX, "a name and its NUL fit a slot");
_Static_assert(SC_MAP_NO_NODE == SC_NO_NODE, "one value for no node");
_Static_assert(sizeof(((struct sc_map_entry *)0)->replicas) == sizeof(((sc_partition_owners *)0)->replicas),
	       "the segment holds every replica");

/*
 * A reader that finds a change in progress spins READ_SPINS times, then
 * yields to the writer (descheduled in the middle of its change, on a busy
 * host); it gives up when the writer is gone (it died writing) or after
 * READ_PATIENCE_NS (it was stopped writing).
 */
#define READ_SPINS	 1000u
#define READ_PATIENCE_NS (100ull * 1000 * 1000)

static struct sc_map_hdr *map_hdr(const struct sc_seg *seg)
{
	return sc_seg_at(seg, seg->geo.map_off);
}

static struct sc_map_entry *map_entries(const struct sc_seg *seg)
{
	return (struct sc_map_entry *)(map_hdr(seg) + 1);
}

/* Whether pid, with the start time the map recorded, is a live process (a zombie has exited). */
static bool writer_alive(uint32_t pid, uint64_t start)
{
	struct sc_proc_stat st;

	return pid && sc_proc_stat(pid, &st) == 0 && st.start_time == start && st.state != 'Z' &&
	       st.state != 'X';
}

/* After a failed try: whether to try again (see READ_SPINS). */
static bool again_after(const sc_cache *c, uint32_t tries, uint64_t *since_ns)
{
	const struct sc_map_hdr *h = map_hdr(&c->seg);

	if (tries < READ_SPINS) {
		sc_cpu_relax();
		return true;
	}
	if (tries == READ_SPINS)
		*since_ns = sc_clock_ns();
	if (!writer_alive(sc_read(&h->writer_pid), sc_read(&h->writer_start)) ||
	    sc_clock_ns() - *since_ns > READ_PATIENCE_NS)
		return false;
	sched_yield();
	return true;
}

static int distributed(const sc_cache *c)
{
	int err = sc_cache_check(c);

	if (err)
		return err;
	if (c->seg.cfg.cluster != SC_CLUSTER_DISTRIBUTED)
		return sc_fail(-EINVAL, "cache \"%s\" is local: it has no partition map", c->name);
	return 0;
}

/* A node name as the peer links' hellos carry them: 1 to 64 letters, digits, '_', '-' or '.'. */
static bool node_name_valid(const char *s)
{
	size_t n = strnlen(s, SC_NODE_NAME_MAX + 1);

	if (n == 0 || n > SC_NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/*
 * Copy the header (and the entries, when parts) out of the segment; the
 * copy is good when the sequence word was even before and unchanged after.
 * The names are copied whole, then bounded, so a torn or damaged name is
 * still a C string in the caller's memory.
 */
static bool read_once(const sc_cache *c, sc_cluster_map *map, sc_partition_owners *parts)
{
	const struct sc_map_hdr *h = map_hdr(&c->seg);
	const struct sc_map_entry *e = map_entries(&c->seg);
	uint64_t seq = sc_acquire(&h->seq);

	if (seq & 1)
		return false;
	map->changes = sc_read(&h->changes);
	map->changed_ns = sc_read(&h->changed_ns);
	map->lease_deadline_ns = sc_read(&h->lease_deadline_ns);
	map->self = sc_read(&h->self);
	map->node_count = sc_read(&h->node_count);
	map->writer_pid = sc_read(&h->writer_pid);
	map->num_partition = c->seg.cfg.num_partition;
	for (uint32_t i = 0; i < SC_MAX_NODES; i++) {
		memcpy(map->nodes[i], h->nodes[i], SC_NODE_NAME_MAX);
		map->nodes[i][SC_NODE_NAME_MAX] = '\0';
	}
	for (uint32_t p = 0; parts && p < map->num_partition; p++) {
		parts[p].epoch = sc_read(&e[p].epoch);
		parts[p].primary = sc_read(&e[p].primary);
		parts[p].replica_count = sc_read(&e[p].replica_count);
		for (uint32_t r = 0; r < SC_MAX_REPLICATION_FACTOR; r++)
			parts[p].replicas[r] = sc_read(&e[p].replicas[r]);
		parts[p].reserved = 0;
	}
	cmm_smp_rmb();
	return sc_read(&h->seq) == seq;
}

/* What a copy may hold when the segment was damaged: indexes out of range read as no node. */
static void bound_copy(sc_cluster_map *map, sc_partition_owners *parts)
{
	if (map->node_count > SC_MAX_NODES)
		map->node_count = SC_MAX_NODES;
	if (map->self >= map->node_count)
		map->self = SC_NO_NODE;
	for (uint32_t p = 0; parts && p < map->num_partition; p++) {
		if (parts[p].primary >= map->node_count)
			parts[p].primary = SC_NO_NODE;
		if (parts[p].replica_count > SC_MAX_REPLICATION_FACTOR)
			parts[p].replica_count = SC_MAX_REPLICATION_FACTOR;
		for (uint32_t r = 0; r < parts[p].replica_count; r++)
			if (parts[p].replicas[r] >= map->node_count)
				parts[p].replicas[r] = SC_NO_NODE;
	}
}

SC_EXPORT int sc_cluster_map_read(sc_cache *c, sc_cluster_map *map, sc_partition_owners *parts,
				  uint32_t nparts)
{
	uint64_t since = 0;
	int err = distributed(c);

	if (err)
		return err;
	sc_check_arg(map, -EINVAL, "map is NULL");
	sc_check_arg(!parts || nparts >= c->seg.cfg.num_partition, -EINVAL,
		     "room for %u partitions; cache \"%s\" has %u", nparts, c->name,
		     c->seg.cfg.num_partition);
	for (uint32_t i = 0;; i++) {
		if (read_once(c, map, parts)) {
			bound_copy(map, parts);
			return 0;
		}
		if (!again_after(c, i, &since))
			break;
	}
	return sc_fail(-EAGAIN,
		       "the partition map of cache \"%s\" is in the middle of a change that does not end: "
		       "its coordinator (pid %u) died or stopped writing it; the next one rewrites it",
		       c->name, sc_read(&map_hdr(&c->seg)->writer_pid));
}

/* What one consistent look at a partition's entry, and the header beside it, saw. */
struct entry_seen {
	uint32_t self, primary, replica_count;
	uint64_t epoch, lease_deadline_ns;
	bool self_replica; /* self among the replicas (looked for only when asked) */
};

/* Look at partition's entry (its replicas too when with_replicas): false when a change never ends. */
static bool look_at(const sc_cache *c, uint32_t partition, bool with_replicas, struct entry_seen *out)
{
	const struct sc_map_hdr *h = map_hdr(&c->seg);
	const struct sc_map_entry *e = map_entries(&c->seg) + partition;
	uint64_t since = 0;

	for (uint32_t i = 0;; i++) {
		uint64_t seq = sc_acquire(&h->seq);

		out->self = sc_read(&h->self);
		out->primary = sc_read(&e->primary);
		out->epoch = sc_read(&e->epoch);
		out->lease_deadline_ns = sc_read(&h->lease_deadline_ns);
		out->replica_count = with_replicas ? sc_read(&e->replica_count) : 0;
		if (out->replica_count > SC_MAX_REPLICATION_FACTOR)
			out->replica_count = 0;
		out->self_replica = false;
		for (uint32_t r = 0; r < out->replica_count; r++)
			out->self_replica |=
				out->self != SC_MAP_NO_NODE && sc_read(&e->replicas[r]) == out->self;
		cmm_smp_rmb();
		if (!(seq & 1) && sc_read(&h->seq) == seq)
			return true;
		if (!again_after(c, i, &since))
			return false;
	}
}

/*
 * Whether the map names this node partition's primary now, as one
 * consistent look: 1 (with *epoch and *primary), 0 when it does not (with
 * *primary, SC_MAP_NO_NODE if none). A change that never ends reads as not.
 */
static int acting_look(const sc_cache *c, uint32_t partition, uint64_t *epoch, uint32_t *primary)
{
	struct entry_seen s;

	if (!look_at(c, partition, false, &s)) {
		*primary = SC_MAP_NO_NODE;
		return 0; /* a change that never ends: acting on it would be a guess */
	}
	*epoch = s.epoch;
	*primary = s.primary;
	return s.self != SC_MAP_NO_NODE && s.primary == s.self && s.epoch != 0 &&
	       sc_clock_ns() + c->coarse_lag_ns < s.lease_deadline_ns;
}

int sc_cluster_copy_look(const sc_cache *c, uint32_t partition, uint64_t *epoch, uint32_t *replica_count)
{
	struct entry_seen s;

	if (!look_at(c, partition, true, &s))
		return 0;
	*epoch = s.epoch;
	*replica_count = s.replica_count;
	return s.self_replica && s.epoch != 0;
}

SC_EXPORT int sc_cluster_acting_primary(sc_cache *c, uint32_t partition)
{
	uint64_t epoch;
	uint32_t primary;
	int err = distributed(c);

	if (err)
		return err;
	sc_check_arg(partition < c->seg.cfg.num_partition, -EINVAL,
		     "partition %u out of range (cache \"%s\" has %u)", partition, c->name,
		     c->seg.cfg.num_partition);
	return acting_look(c, partition, &epoch, &primary);
}

static __thread uint32_t refused_partition;

int sc_cluster_write_epoch(sc_cache *c, uint32_t partition, uint64_t *epoch)
{
	const struct sc_map_hdr *h = map_hdr(&c->seg);
	uint32_t primary;

	*epoch = 0;
	if (!sc_read(&h->shipping))
		return sc_fail(-EOPNOTSUPP,
			       "cache \"%s\" is distributed, and no coordinator ships its replication logs "
			       "(is supercached running for it?): a write here would reach no replica",
			       c->name);
	if (partition == SC_ANY_PARTITION || acting_look(c, partition, epoch, &primary))
		return 0;
	if (primary == SC_MAP_NO_NODE || primary == sc_read(&h->self))
		return sc_fail(-EAGAIN,
			       "cache \"%s\": no node may act as partition %u's primary now "
			       "(being assigned, or this node's lease lapsed): try again",
			       c->name, partition);
	refused_partition = partition;
	return sc_fail(-EREMOTE, "cache \"%s\": partition %u's primary is another node (%u)", c->name,
		       partition, primary);
}

uint32_t sc_cluster_primary_node(const sc_cache *c, uint32_t partition, bool *here)
{
	uint64_t epoch;
	uint32_t primary;

	*here = acting_look(c, partition, &epoch, &primary) == 1;
	return primary;
}

uint32_t sc_cluster_refused_partition(void)
{
	return refused_partition;
}

/*
 * Claim the map for this process: free, ours already, or left by a
 * process that is gone (its pid is dead, or now someone else's). The
 * coordinator is one process per cache; the claim makes a second one that
 * started by mistake fail here instead of both writing.
 */
static int claim(const sc_cache *c, struct sc_map_hdr *h)
{
	uint32_t self = (uint32_t)getpid(), pid = sc_read(&h->writer_pid);
	uint64_t start = 0;
	int err = sc_proc_start_time(self, &start);

	if (err)
		return sc_fail(err, "cannot read this process's start time: %s", sc_strerror(-err));
	if (pid == self && sc_read(&h->writer_start) == start)
		return 0;
	if (pid != self && writer_alive(pid, sc_read(&h->writer_start)))
		return sc_fail(-EBUSY, "the partition map of cache \"%s\" is written by process %u", c->name,
			       pid);
	if (sc_cmpxchg(&h->writer_pid, pid, self) != pid)
		return sc_fail(-EBUSY, "another process claimed the partition map of cache \"%s\" first",
			       c->name);
	sc_write(&h->writer_start, start);
	return 0;
}

static int check_map(const sc_cache *c, const sc_cluster_map *map, const sc_partition_owners *parts)
{
	const struct sc_map_entry *e = map_entries(&c->seg);

	sc_check_arg(map->node_count <= SC_MAX_NODES, -EINVAL, "%u nodes; at most %u", map->node_count,
		     SC_MAX_NODES);
	sc_check_arg(map->self == SC_NO_NODE || map->self < map->node_count, -EINVAL, "self is node %u of %u",
		     map->self, map->node_count);
	for (uint32_t i = 0; i < map->node_count; i++)
		sc_check_arg(node_name_valid(map->nodes[i]), -EINVAL,
			     "node %u: a name is 1 to %u letters, digits, '_', '-' or '.'", i,
			     SC_NODE_NAME_MAX);
	for (uint32_t p = 0; p < c->seg.cfg.num_partition; p++) {
		const sc_partition_owners *o = parts + p;

		sc_check_arg(o->primary == SC_NO_NODE || o->primary < map->node_count, -EINVAL,
			     "partition %u: primary is node %u of %u", p, o->primary, map->node_count);
		/* More than replication_factor while a partition moves: the leaving replica stays until the new one caught up. */
		sc_check_arg(o->replica_count <= SC_MAX_REPLICATION_FACTOR, -EINVAL,
			     "partition %u: %u replicas; a partition has at most %u", p, o->replica_count,
			     SC_MAX_REPLICATION_FACTOR);
		for (uint32_t r = 0; r < o->replica_count; r++)
			sc_check_arg(o->replicas[r] < map->node_count, -EINVAL,
				     "partition %u: replica %u is node %u of %u", p, r, o->replicas[r],
				     map->node_count);
		if (o->epoch < sc_read(&e[p].epoch))
			return sc_fail(
				-ESTALE,
				"partition %u: epoch %llu is older than epoch %llu, already in the map", p,
				(unsigned long long)o->epoch, (unsigned long long)sc_read(&e[p].epoch));
	}
	return 0;
}

/* The writer's side of the sequence word: odd while fn's stores land. A change a dead writer left odd stays odd. */
static void change_begin(struct sc_map_hdr *h)
{
	uint64_t seq = sc_read(&h->seq);

	if (!(seq & 1))
		sc_write(&h->seq, seq + 1);
	cmm_smp_wmb();
}

static void change_end(struct sc_map_hdr *h)
{
	sc_write(&h->changes, sc_read(&h->changes) + 1);
	sc_write(&h->changed_ns, sc_clock_precise_ns());
	cmm_smp_wmb();
	sc_write(&h->seq, sc_read(&h->seq) + 1);
}

static int writer_start(const sc_cache *c, struct sc_map_hdr **h)
{
	int err = distributed(c);

	if (err)
		return err;
	err = sc_cache_writable(c);
	if (err)
		return err;
	*h = map_hdr(&c->seg);
	return claim(c, *h);
}

SC_EXPORT int sc_cluster_map_write(sc_cache *c, const sc_cluster_map *map, const sc_partition_owners *parts)
{
	struct sc_map_entry *e;
	struct sc_map_hdr *h;
	int err = writer_start(c, &h);

	if (err)
		return err;
	sc_check_arg(map && parts, -EINVAL, "map or parts is NULL");
	err = check_map(c, map, parts);
	if (err)
		return err;
	e = map_entries(&c->seg);
	change_begin(h);
	sc_write(&h->lease_deadline_ns, map->lease_deadline_ns);
	sc_write(&h->self, map->self);
	sc_write(&h->node_count, map->node_count);
	for (uint32_t i = 0; i < SC_MAX_NODES; i++) {
		memset(h->nodes[i], 0, SC_MAP_NAME_SLOT);
		if (i < map->node_count)
			memcpy(h->nodes[i], map->nodes[i], strlen(map->nodes[i]));
	}
	for (uint32_t p = 0; p < c->seg.cfg.num_partition; p++) {
		sc_write(&e[p].epoch, parts[p].epoch);
		sc_write(&e[p].primary, parts[p].primary);
		sc_write(&e[p].replica_count, parts[p].replica_count);
		for (uint32_t r = 0; r < SC_MAX_REPLICATION_FACTOR; r++)
			sc_write(&e[p].replicas[r],
				 r < parts[p].replica_count ? parts[p].replicas[r] : SC_MAP_NO_NODE);
	}
	change_end(h);
	return 0;
}

SC_EXPORT int sc_cluster_shipping_write(sc_cache *c, int shipping)
{
	struct sc_map_hdr *h;
	int err = writer_start(c, &h);

	if (err)
		return err;
	sc_check_arg(shipping == 0 || shipping == 1, -EINVAL, "shipping is %d; 0 or 1", shipping);
	sc_write(&h->shipping, (uint32_t)shipping);
	return 0;
}

SC_EXPORT int sc_cluster_lease_write(sc_cache *c, uint64_t lease_deadline_ns)
{
	struct sc_map_hdr *h;
	int err = writer_start(c, &h);

	if (err)
		return err;
	change_begin(h);
	sc_write(&h->lease_deadline_ns, lease_deadline_ns);
	change_end(h);
	return 0;
}
