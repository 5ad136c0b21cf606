/* supercache.h — public API of libsupercache, a shared-memory tuple cache for co-located processes. */
#ifndef SUPERCACHE_H
#define SUPERCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SC_BUILDING_LIBRARY)
#define SC_EXPORT __attribute__((visibility("default")))
#else
#define SC_EXPORT
#endif

/*
 * Conventions
 *
 * Every function returns 0 or a non-negative count on success and a negative
 * errno on failure. sc_strerror() names an error code; sc_last_error() gives
 * the detailed message of the calling thread's last failure ("tuple size is
 * lower than key_pos (tuple has 2 fields, key_pos is 3)").
 *
 * Ownership: a handle (sc_cache *) belongs to the caller from sc_start() or
 * sc_attach() until sc_stop(). Results copied out of shared memory
 * (sc_tuples, sc_cache_stats) belong to the caller and are released with
 * their _free function. Tuples passed in are only read during the call.
 *
 * A handle remembers the process that opened it: used in a child after
 * fork() every call returns -ECHILD (sc_stop() then only releases the
 * child's copy). A handle may be used by any number of threads at once.
 */

typedef struct sc_cache sc_cache;

/* ETS table types. */
enum sc_table_type {
	SC_SET = 1,	      /* one tuple per key, put replaces */
	SC_ORDERED_SET = 2,   /* one tuple per key, kept in key order (ETS term order) */
	SC_BAG = 3,	      /* distinct tuples per key: putting an identical one does nothing */
	SC_DUPLICATE_BAG = 4, /* any tuples per key, duplicates kept; reads return them in put order */
};

enum sc_field_type {
	SC_FIELD_INT = 1,     /* int64_t in v.i */
	SC_FIELD_DOUBLE = 2,  /* double in v.d */
	SC_FIELD_BYTES = 3,   /* len bytes at v.p (may contain NULs) */
	SC_FIELD_ANY = 4,     /* patterns only: matches any value (ETS '_') */
	SC_FIELD_CAPTURE = 5, /* patterns only: capture number v.i, 1 to 255 (ETS '$1', '$2', ...) */
};

/* One field of a tuple. Build them with sc_int(), sc_dbl(), sc_str(), sc_bytes(). */
typedef struct sc_field {
	uint32_t type; /* enum sc_field_type */
	uint32_t len;  /* SC_FIELD_BYTES: length in bytes; INT, DOUBLE: 8; ANY, CAPTURE: 0 */
	union {
		int64_t i;
		double d;
		const void *p;
	} v;
} sc_field;

/* A tuple: an ordered list of fields. */
typedef struct sc_tuple {
	uint32_t nfields;
	const sc_field *fields;
} sc_tuple;

/* Largest field and tuple the cache stores. */
#define SC_MAX_FIELDS	   65535u
#define SC_MAX_FIELD_BYTES (1u << 30)

static inline sc_field sc_int(int64_t i)
{
	sc_field f;
	f.type = SC_FIELD_INT;
	f.len = 8;
	f.v.i = i;
	return f;
}

static inline sc_field sc_dbl(double d)
{
	sc_field f;
	f.type = SC_FIELD_DOUBLE;
	f.len = 8;
	f.v.d = d;
	return f;
}

static inline sc_field sc_bytes(const void *p, uint32_t len)
{
	sc_field f;
	f.type = SC_FIELD_BYTES;
	f.len = len;
	f.v.p = p;
	return f;
}

/* In a pattern: any value. */
static inline sc_field sc_any(void)
{
	sc_field f;
	f.type = SC_FIELD_ANY;
	f.len = 0;
	f.v.i = 0;
	return f;
}

/* In a pattern: capture number n (1 to 255); the same number twice must bind equal values. */
static inline sc_field sc_capture(int64_t n)
{
	sc_field f;
	f.type = SC_FIELD_CAPTURE;
	f.len = 0;
	f.v.i = n;
	return f;
}

/* A NUL-terminated string, stored without its NUL. */
static inline sc_field sc_str(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return sc_bytes(s, (uint32_t)n);
}

/*
 * SC_TUPLE(f...): a tuple built on the stack in one expression, valid until
 * the end of the enclosing block (C) or full expression (C++):
 *
 *     sc_put(cache, SC_TUPLE(sc_str("user"), sc_int(1), sc_str("Alice")));
 */
#ifndef __cplusplus
#define SC_TUPLE(...)                                                                           \
	(&(const sc_tuple){ (uint32_t)(sizeof((sc_field[]){ __VA_ARGS__ }) / sizeof(sc_field)), \
			    (const sc_field[]){ __VA_ARGS__ } })
#endif

/*
 * What a cache does when a write needs memory and memory_limit is reached.
 * SC_EVICTION_OFF: the write fails with -ENOSPC and nothing is lost.
 * SC_EVICTION_CLOCK: the written partition's least recently looked-up
 * tuples, KeyValue pairs and structs are evicted to make room (CLOCK:
 * docs/internals.md says why); queue and stack items and Struct types are
 * never evicted.
 */
enum sc_eviction {
	SC_EVICTION_OFF = 0,
	SC_EVICTION_CLOCK = 1,
};

/* Where a cache lives: on this host alone, or replicated to peer hosts by their coordinators. */
enum sc_cluster {
	SC_CLUSTER_LOCAL = 0,
	SC_CLUSTER_DISTRIBUTED = 1,
};

/* When a replicated write is acknowledged (docs/api.md, "Distributed mode"). */
enum sc_replication_mode {
	SC_REPLICATION_ASYNC = 1,  /* after the local write; the log ships in the background */
	SC_REPLICATION_SYNC = 2,   /* once every in-sync replica has it */
	SC_REPLICATION_STRONG = 3, /* as sync, and in each in-sync replica's write-ahead log */
};

#define SC_MAX_REPLICATION_FACTOR 16u

/*
 * Options of sc_start(). Zeroed fields take their defaults. Set sz to
 * sizeof(sc_options) (SC_OPTIONS() does) so that later versions can grow
 * the struct without breaking callers built against this one.
 */
typedef struct sc_options {
	size_t sz;
	uint32_t num_partition;	      /* default: online CPUs; at most 4096 */
	uint32_t key_pos;	      /* field holding the key; default 0 */
	uint32_t partition_pos;	      /* field hashed to pick the partition; default 0 */
	uint32_t table_type;	      /* enum sc_table_type; default SC_SET */
	uint64_t memory_limit;	      /* bytes of shared memory, metadata included;
				   default 1 GiB, at most 64 GiB */
	uint32_t max_readers;	      /* reader threads over all processes; default 1024 */
	uint32_t eviction;	      /* enum sc_eviction; default SC_EVICTION_OFF */
	const char *prefix;	      /* segment file prefix; default "supercache" */
	const char *dir;	      /* where segments live; default "/dev/shm" */
	uint64_t max_retired;	      /* bytes replaced or deleted records may hold while readers
				 could still see them, over the whole cache; past it, writes
				 fail with -EAGAIN naming the reader holding them back.
				 Default memory_limit / 2; fixed when the cache is created */
	uint32_t read_only;	      /* sc_attach() only: 1 maps the segment read-only but for this
				   process's reader slots, as LMDB's readers do, so that a stray
				   write through a pointer into it faults in this process instead
				   of damaging the cache. Every call that writes is -EROFS;
				   sc_check() looks without locks; lookups do not mark tuples
				   recently used for eviction */
	uint32_t cluster;	      /* enum sc_cluster; default SC_CLUSTER_LOCAL */
	uint32_t replication_mode;    /* enum sc_replication_mode; default SC_REPLICATION_ASYNC */
	uint32_t replication_factor;  /* copies of each partition, the primary's included: 1 to
					SC_MAX_REPLICATION_FACTOR; default 2. These three are
					checked in local mode too, and kept with the cache */
	uint64_t majority_timeout_ms; /* sync and strong modes: how long a write waits for its
					 in-sync replicas before it fails with -ETIMEDOUT;
					 this handle's, not the cache's. Default 2000 (the
					 seed's), at most 3600000 */
} sc_options;

#ifndef __cplusplus
#define SC_OPTIONS(...) ((sc_options){ .sz = sizeof(sc_options), __VA_ARGS__ })
#endif

/* --- Lifecycle ---------------------------------------------------------- */

/*
 * Open the cache called name (letters, digits, '_' and '-'; at most 64
 * bytes), creating it if it does not exist. The segment file is
 * <dir>/<prefix>.<name>.seg, mode 0660, so every process of the creator's
 * group can attach. An existing cache must have the configuration asked for:
 * a different num_partition, key_pos, partition_pos, table_type, eviction,
 * cluster, replication_mode or replication_factor fails with -EINVAL and a
 * message naming the mismatch. A segment of another owner
 * group, with other permissions, or of an incompatible build is refused
 * (-EPERM, -EPROTO). opts may be NULL for all defaults.
 */
SC_EXPORT int sc_start(const char *name, const sc_options *opts, sc_cache **out);

/*
 * Attach to an existing cache, adopting its configuration. Only opts->prefix,
 * opts->dir and opts->read_only are read (opts may be NULL). -ENOENT if there
 * is none. A segment another process truncated gets its size back and is
 * repaired (sc_repair()) before the call returns; sc_stats() counts it.
 */
SC_EXPORT int sc_attach(const char *name, const sc_options *opts, sc_cache **out);

/* 1 if a cache called name exists and can be attached, 0 if none exists. */
SC_EXPORT int sc_started(const char *name, const sc_options *opts);

/*
 * Release the handle. The data stays in shared memory for other and later
 * processes. What this process's threads buffered with sc_lazy_put() is
 * stored first; if that fails (or an earlier background store failed and
 * no sc_flush() has reported it), the error is returned, and the handle is
 * released all the same. sc_stop(NULL) does nothing and returns 0, like
 * free(NULL). The handle is freed: using it again, sc_stop() included, is
 * a use after free, as with free(); set the pointer to NULL after it.
 */
SC_EXPORT int sc_stop(sc_cache *cache);

/*
 * Remove the cache's segment. Processes still attached keep working on
 * their mapping until they stop; a later sc_start() creates a new cache.
 */
SC_EXPORT int sc_destroy(const char *name, const sc_options *opts);

/*
 * The configuration the cache was created with (prefix and dir point into
 * the handle). With out->sz set (SC_OPTIONS() sets it), nothing past it is
 * written, so a caller built against an older, smaller sc_options gets its
 * own fields; with out->sz 0, the whole of this header's sc_options.
 */
SC_EXPORT int sc_config(sc_cache *cache, sc_options *out);

/*
 * 1 if the cache was created with cluster = SC_CLUSTER_DISTRIBUTED, 0 if it
 * is local, or a negative errno for a bad handle. A write to a distributed
 * cache runs on its partition's primary, forwarded there when that is
 * another node (sc_forward(3)), once the coordinator ships the logs
 * (-EOPNOTSUPP before: sc_cluster_map(3)); reads are answered from this
 * host's copy.
 */
SC_EXPORT int sc_distributed(sc_cache *cache);

/* --- Distributed mode: the partition map --------------------------------- */

/*
 * A distributed cache's segment holds the partition map its node's
 * coordinator (supercached) keeps from etcd: for each partition, the epoch
 * of its assignment (the etcd revision of the partition's record: it only
 * grows), its primary and its replicas, as indexes into the node names; and
 * the deadline of the node's etcd lease, before which alone this node may
 * act as a primary (docs/distributed.md, "Fencing").
 */
#define SC_NODE_NAME_MAX 64u
#define SC_MAX_NODES	 64u
#define SC_NO_NODE	 0xffffu

typedef struct sc_partition_owners {
	uint64_t epoch;		/* 0 until the partition is first assigned */
	uint16_t primary;	/* index into sc_cluster_map.nodes, or SC_NO_NODE */
	uint16_t replica_count; /* replicas[0, replica_count), the primary among them */
	uint16_t replicas[SC_MAX_REPLICATION_FACTOR];
	uint32_t reserved;
} sc_partition_owners;

typedef struct sc_cluster_map {
	uint64_t changes;    /* changes the coordinator has written; grows by one per change */
	uint64_t changed_ns; /* CLOCK_MONOTONIC when it wrote the last one */
	uint64_t
		lease_deadline_ns; /* CLOCK_MONOTONIC; this node acts as a primary only before it; 0: never */
	uint32_t self;		   /* this node's index, SC_NO_NODE until its coordinator joined */
	uint32_t node_count;
	uint32_t num_partition;
	uint32_t writer_pid; /* the coordinator writing the map, 0 when none has yet */
	char nodes[SC_MAX_NODES][SC_NODE_NAME_MAX + 1];
} sc_cluster_map;

/*
 * A consistent copy of the map: the header into *map, and when parts is
 * not NULL, each partition's owners into parts[0, num_partition) (nparts
 * must be at least num_partition). 0; -EINVAL for a local cache or too
 * small an array; -EAGAIN when a coordinator died in the middle of a change
 * (the next one rewrites it whole), or was stopped in one for over 100 ms.
 */
SC_EXPORT int sc_cluster_map_read(sc_cache *cache, sc_cluster_map *map, sc_partition_owners *parts,
				  uint32_t nparts);

/*
 * 1 when this node may act now as partition's primary: the map names it,
 * under an epoch, and its lease deadline has not passed. 0 when not; a
 * negative errno for a bad handle, a local cache or a partition out of range.
 */
SC_EXPORT int sc_cluster_acting_primary(sc_cache *cache, uint32_t partition);

/*
 * For supercached only. Replace the map with map's nodes and self and
 * parts[0, num_partition), and set the lease deadline; changes, changed_ns
 * and writer_pid are the library's. The first call claims the map for the
 * calling process: another live process's call is -EBUSY naming it. No
 * partition's epoch may go back (-ESTALE names it: a node never acts on an
 * epoch older than one it has seen); names must be valid and indexes in
 * range (-EINVAL). Readers see the old map or the new one, never a mix.
 */
SC_EXPORT int sc_cluster_map_write(sc_cache *cache, const sc_cluster_map *map,
				   const sc_partition_owners *parts);

/* For supercached only: move the lease deadline alone, as sc_cluster_map_write() would (0 fences every primary). */
SC_EXPORT int sc_cluster_lease_write(sc_cache *cache, uint64_t lease_deadline_ns);

/*
 * For supercached only: whether it ships this cache's replication logs.
 * Until it says so, a distributed cache refuses every write (-EOPNOTSUPP):
 * it would reach no replica. Claims the map, as sc_cluster_map_write() does.
 */
SC_EXPORT int sc_cluster_shipping_write(sc_cache *cache, int shipping);

/* --- Replication logs (for supercached) ---------------------------------- */

/*
 * A distributed cache keeps a replication log per partition in its
 * segment: every change a write makes there, in order (docs/internals.md,
 * "Replication logs"). Log i belongs to tuple partition i for i below
 * num_partition, and to the structure partition (KeyValue, queues, stacks,
 * Struct) of partition i - num_partition above it; both follow partition
 * i % num_partition's owners in the map. An entry is numbered by its lseq,
 * one more than the entry before, and carries the epoch its primary wrote
 * it under. The coordinator copies entries out with sc_repl_read(), ships
 * them, and a replica's coordinator applies them with sc_repl_apply().
 */
#define SC_REPL_ENTRY_MAX (64u * 1024u + 32u) /* bytes: the largest entry; a read buffer takes one at least */

typedef struct sc_repl_state {
	uint64_t first_lseq; /* the oldest entry the ring still holds (last_lseq + 1 when it holds none) */
	uint64_t last_lseq;  /* the newest published entry; 0 before any */
	uint64_t last_epoch; /* ... and its epoch */
	uint64_t head, tail; /* positions (bytes ever appended): entries in [head, tail) */
	uint64_t shipped_lseq,
		acked_lseq;	 /* as sc_repl_progress_write() left them; acked <= shipped <= last */
	uint64_t entries;	 /* appended since the segment was made */
	uint64_t resyncs;	 /* resync marks among them: replicas had to copy the partition */
	uint64_t unshipped_lost; /* entries the ring wrote over before they were shipped */
} sc_repl_state;

/*
 * How each entry sc_repl_read() copies begins: enough for a coordinator to
 * walk a batch (entry after entry, len bytes apart) and name its last. The
 * rest is the record as it sits in the heap: the nodes of a cluster share a
 * byte order and an ABI version.
 */
typedef struct sc_repl_entry_head {
	uint32_t len; /* the whole entry, this head included: a multiple of 8 */
	uint8_t op;   /* the library's, not for the coordinator to read */
	uint8_t why;
	uint16_t flags;
	uint64_t epoch; /* the partition's epoch its primary wrote it under */
	uint64_t lseq;
} sc_repl_entry_head;

/* Log's state. 0, or -EINVAL (a local cache, log out of range). */
SC_EXPORT int sc_repl_state_read(sc_cache *cache, uint32_t log, sc_repl_state *state);

/*
 * Copy whole entries from position *pos (a tail or head sc_repl_state_read()
 * gave, or what this call or sc_repl_seek() left) into buf, as many as fit
 * in cap bytes, up to the last published one, and move *pos past them.
 * Returns the bytes copied (0 when there is nothing new, or the next entry
 * is larger than cap); -ESTALE when the ring wrote over *pos (a replica that
 * needs those entries must copy the partition); -EUCLEAN when the log is
 * damaged; -EINVAL for bad arguments.
 */
SC_EXPORT ssize_t sc_repl_read(sc_cache *cache, uint32_t log, uint64_t *pos, void *buf, size_t cap);

/*
 * The position just after the entry numbered lseq (the log's head for
 * lseq first_lseq - 1), for a replica that holds every entry up to lseq.
 * -ESTALE when the ring no longer holds what follows it, -ERANGE when lseq
 * is past the log's last entry.
 */
SC_EXPORT int sc_repl_seek(sc_cache *cache, uint32_t log, uint64_t lseq, uint64_t *pos);

/* What sc_repl_apply() did. */
typedef struct sc_repl_applied {
	uint64_t entries;   /* applied, and appended to this node's log */
	uint64_t last_lseq; /* this node's log now ends at it */
	uint32_t resync;    /* 1: it stopped at a resync mark: the partition must be copied */
	uint32_t missing;   /* removals whose record was not here (already gone), takes of items not here */
} sc_repl_applied;

/*
 * On a replica: apply entries (len bytes of what sc_repl_read() copied on
 * the primary) to the log's partition, under its lock, in order, each
 * appended to this node's log as it came. The first must follow this log's
 * last: lseq one more (-ESTALE otherwise, naming both), epoch not older.
 * Stops after a resync mark. Entries are checked before they are applied:
 * a malformed one is -EPROTO with nothing after it applied. The partition
 * never holds half an entry. 0, or a negative errno; *applied says what
 * was done in either case.
 */
SC_EXPORT int sc_repl_apply(sc_cache *cache, uint32_t log, const void *entries, size_t len,
			    sc_repl_applied *applied);

/*
 * On a node the map no longer names among the replicas of log's partition:
 * empty the partition and start its log over (no entry, lseq 0), so that
 * the node serves nothing stale and, named a replica again, is filled from
 * the primary's first entry. Under the partition's lock; nothing is logged.
 * How many records went, or a negative errno.
 */
SC_EXPORT int64_t sc_repl_reset(sc_cache *cache, uint32_t log);

/*
 * Copying a partition whole, for a replica whose log cannot be continued
 * (the ring wrote over what it lacks, its log diverged, or a resync mark).
 * On the primary, sc_repl_snapshot() reads the log's state into *at first,
 * then copies every record of the partition, in one read section, as put
 * entries (no lseq; a deadline as time left) into a buffer it allocates
 * (*out, for free()): their bytes, or a negative errno. What a write after
 * at->last_lseq changed may or may not be in it; the log from there on
 * brings it again, and applying it again changes nothing. A structure
 * partition is copied under its lock (for at most a second: -ETIMEDOUT),
 * each queue and stack as the pushes that rebuild it: an operation applied
 * twice would change it twice, so that copy is exactly the partition as of
 * at->last_lseq.
 * On the replica: sc_repl_reset(), then sc_repl_restore() with the copy's
 * entries (as sc_repl_apply(), but only put and push entries without an
 * lseq, and nothing is appended to the log), then sc_repl_restore_end()
 * with the primary's at->last_lseq and at->last_epoch: the log then
 * follows from there. -EPROTO for an entry that is not one of a copy.
 */
SC_EXPORT ssize_t sc_repl_snapshot(sc_cache *cache, uint32_t log, void **out, sc_repl_state *at);
SC_EXPORT int sc_repl_restore(sc_cache *cache, uint32_t log, const void *entries, size_t len,
			      sc_repl_applied *applied);
SC_EXPORT int sc_repl_restore_end(sc_cache *cache, uint32_t log, uint64_t lseq, uint64_t epoch);

/* Record how far log's entries have been shipped, and acknowledged by every in-sync replica (neither goes back). */
SC_EXPORT int sc_repl_progress_write(sc_cache *cache, uint32_t log, uint64_t shipped_lseq,
				     uint64_t acked_lseq);

/*
 * Sleep until a writer publishes entries in any of the cache's logs, or
 * timeout_ns passes: 1 when the logs moved since *seen (which is then
 * updated: start from 0), 0 when not. In sync and strong modes writers wake
 * a sleeper at once, with one futex wake for all the writes until it looks
 * again: the coordinator ships a write that waits for its replicas as soon
 * as it is published. Async writers wake nobody (their writes wait for no
 * one, and cost no system call): their entries are found by the poll.
 * -EINVAL for a local cache.
 */
SC_EXPORT int sc_repl_bell_wait(sc_cache *cache, uint64_t *seen, uint64_t timeout_ns);

/*
 * The same bell for an event loop, without a thread: the loop binds a
 * SOCK_DGRAM unix socket at the path sc_repl_bell_socket_path() names,
 * watches it, and calls sc_repl_bell_arm() each time before it sleeps
 * (sd-event's prepare callback). That says it sleeps, then looks at the
 * logs: 1 when they moved since *seen (updated; start from 0), and the
 * caller ships before it sleeps; 0 when not. While armed, the first sync
 * or strong writer to publish sends one datagram to the socket, and the
 * loop wakes: read and drop the datagrams, and ship. A writer whose
 * datagram cannot go (nothing bound there, its queue full) leaves its
 * entries to the poll. -EINVAL for a local cache; -ENAMETOOLONG when the
 * path does not fit a unix socket's.
 */
SC_EXPORT int sc_repl_bell_arm(sc_cache *cache, uint64_t *seen);
SC_EXPORT int sc_repl_bell_socket_path(sc_cache *cache, char *buf, size_t size);

/*
 * Forwarded writes (docs/distributed.md, "Forwarding"). A write for a
 * partition whose primary is another node is not applied here: the library
 * sends it, as a request, to the local coordinator over the unix socket
 * sc_forward_socket_path() names (next to the segment, mode 0660 like it);
 * the coordinator sends it on to the primary's coordinator, which runs it
 * with sc_forward_serve() and sends the reply back the same way. The
 * caller gets the primary's result and message; or an error that says the
 * write may or may not have happened (-ETIMEDOUT, -ECONNRESET), or that it
 * was not applied (-EHOSTUNREACH, -EAGAIN, -ENOENT): never a success that
 * was not one (sc_forward(3)).
 *
 * Requests and replies begin with this head, little-endian; the
 * coordinators move them as opaque bytes and read only len and partition.
 */
typedef struct sc_forward_head {
	uint32_t len;	    /* bytes of the message, this head included; at most SC_FORWARD_MAX */
	uint16_t version;   /* SC_FORWARD_VERSION */
	uint16_t op;	    /* a request's call (1 and up); 0 in a reply */
	uint32_t partition; /* a request's partition: its primary serves it */
	int32_t rc;	    /* a reply's result: 0 or more, or a negative errno */
	uint64_t arg; /* a request's number argument (ttl_ms, a partition index); a reply's message length */
} sc_forward_head;
#define SC_FORWARD_VERSION 3u
/*
 * A request with this op (a quorum read's) goes to every replica of its
 * partition, not to its primary alone. Its reply is a bundle: a head whose
 * rc is how many replies follow (1 to SC_MAX_REPLICATION_FACTOR; a reply
 * of the coordinator's own, rc < 0, means none), op, partition and arg 0,
 * then the first strict majority of the replicas' replies to succeed
 * (rc >= 0), each whole, head and all, padded to 8 bytes.
 */
#define SC_FORWARD_OP_EVERY_REPLICA 30u
#define SC_FORWARD_MAX		    (1024u * 1024u - 64u) /* bytes: a request or reply, head included */

/* The path of the socket the coordinator of cache serves forwarded writes on, into buf: 0, or -ENAMETOOLONG. */
SC_EXPORT int sc_forward_socket_path(sc_cache *cache, char *buf, size_t size);

/*
 * Run the request req[0, len) (from another node's library) on this node,
 * as the primary of its partition: 0 with *reply (for free()) holding the
 * reply, *reply_len its bytes; the call's own result is in the reply. A
 * request that does not decode gets a reply of -EPROTO. A write that finds
 * this node is not the partition's primary (any more) is not forwarded
 * again: its reply is -EAGAIN. -ENOMEM when no reply could be made.
 */
SC_EXPORT int sc_forward_serve(sc_cache *cache, const void *req, size_t len, void **reply, size_t *reply_len);

/* A reply of rc (< 0) and msg, for a request the coordinator could not get answered: 0, or -ENOMEM. */
SC_EXPORT int sc_forward_reply(int rc, const char *msg, void **reply, size_t *reply_len);

/* --- Tuples -------------------------------------------------------------- */

/* Store a tuple; in a set, it replaces the tuple with the same key. */
SC_EXPORT int sc_put(sc_cache *cache, const sc_tuple *tuple);

/*
 * Store n tuples, taking each partition's lock once, all or nothing: bad
 * input, -ENOSPC or any other error writes none of them, and a writer
 * killed inside leaves all of them or none (docs/api.md, "Writes"). The
 * one exception is -EUCLEAN from a partition found damaged (scribbled on)
 * after the batch committed: every other partition has its share, and the
 * damaged one gets its share from its repair or loses it to
 * sc_partition_reset().
 */
SC_EXPORT int sc_put_batch(sc_cache *cache, const sc_tuple *tuples, size_t n);

/*
 * Tuples copied out of shared memory. One allocation, owned by the caller,
 * released with sc_tuples_free(). Byte fields are followed by a NUL that
 * len does not count, so strings can be printed directly.
 */
typedef struct sc_tuples {
	size_t count;
	const sc_tuple *tuples;
} sc_tuples;

SC_EXPORT void sc_tuples_free(sc_tuples *tuples);

/*
 * The tuples whose key equals data's key field (the partition is picked from
 * data's partition field); in a bag or duplicate_bag, in the order they were
 * put. Returns how many were found; *out is NULL when none were, else holds
 * them until sc_tuples_free().
 */
SC_EXPORT int sc_get(sc_cache *cache, const sc_tuple *data, sc_tuples **out);

/* Who answers a read of a distributed cache (docs/distributed.md, "Reads"). */
enum sc_read_mode {
	SC_READ_LOCAL = 0,   /* this host's copy: no hop, may be behind the primary */
	SC_READ_PRIMARY = 1, /* the partition's primary, its lease confirmed: only acknowledged writes */
	SC_READ_QUORUM =
		2, /* the newest of a majority of the partition's replicas: only acknowledged writes */
};

/* How a read is made; zeroed (or NULL) is a local read. */
typedef struct sc_read_opts {
	uint32_t read_mode; /* enum sc_read_mode */
	uint32_t reserved;  /* 0 */
} sc_read_opts;

/*
 * sc_get() with a read mode. A local cache answers every mode from its own
 * copy. In a distributed cache SC_READ_PRIMARY is answered by the
 * partition's primary: here when this node is, else through the local
 * coordinator (sc_forward(3)); in sync and strong modes it returns only
 * what the in-sync replicas acknowledged, waiting for them as a write
 * does (-ETIMEDOUT after majority_timeout_ms). SC_READ_QUORUM asks every
 * replica through the local coordinator and takes the answer of the most
 * advanced copy among the first majority to answer; in sync and strong
 * modes, when that copy holds writes not known to be acknowledged, the
 * primary answers instead (docs/distributed.md, "Reads").
 */
SC_EXPORT int sc_get_with(sc_cache *cache, const sc_tuple *data, const sc_read_opts *opts, sc_tuples **out);

/* Delete the tuples whose key equals data's key field. Returns how many went. */
SC_EXPORT int sc_delete(sc_cache *cache, const sc_tuple *data);

/* Delete every tuple of every partition. KeyValue pairs, queues, stacks and structs stay. */
SC_EXPORT int sc_delete_all(sc_cache *cache);

/*
 * Empty the cache, as the seed's delete_all does: every tuple, and every
 * KeyValue pair, queue, stack, Struct and Struct type (sc_struct_init()
 * again before adding structs of a type). Each partition is emptied under
 * its lock, all or nothing, in one step its readers see at once; a reader
 * of several partitions may see some emptied and others not yet. Returns 0,
 * or the first error after trying every partition. In a distributed cache
 * each partition is emptied by its primary, and replicates as one entry.
 */
SC_EXPORT int sc_clear(sc_cache *cache);

/*
 * Buffered puts, the seed's lazy_put. The tuple is checked now and copied
 * into a buffer of the calling thread for this handle; the buffer is
 * stored, in the order the thread gave its tuples, when it holds
 * max_tuples (default 256), once the oldest tuple in it has waited
 * max_delay (default 5 ms), on sc_flush(), on sc_stop(), when the thread
 * exits and at exit(). A store holds the locks of every partition it
 * writes for its whole run, so a reader who sees one of a thread's
 * buffered tuples sees every one it gave before.
 *
 * Loss window: a process that dies (crash, kill -9, _exit) loses what its
 * buffers hold: up to max_tuples per thread and handle, from the last
 * max_delay. Puts the thread made without the buffer (sc_put) are not
 * ordered against buffered ones until sc_flush() returns.
 *
 * A buffered store that fails in the background (memory full) drops that
 * tuple and those after it in the buffer; the handle keeps the first such
 * error and the next sc_flush() returns it.
 */
SC_EXPORT int sc_lazy_put(sc_cache *cache, const sc_tuple *tuple);

/* Store every tuple any thread of this process has buffered for the handle; 0 or the first error. */
SC_EXPORT int sc_flush(sc_cache *cache);

/*
 * This handle's buffering: flush once the oldest buffered tuple has waited
 * max_delay_us (at most 10 s), or once max_tuples (at most 65536) are
 * buffered. 0 keeps the default (5000 us, 256). Applies from the next tuple.
 */
SC_EXPORT int sc_lazy_configure(sc_cache *cache, uint32_t max_delay_us, uint32_t max_tuples);

/* --- Time to live ---------------------------------------------------------- */

/*
 * A tuple or a KeyValue pair may be put with a time to live, in
 * milliseconds (1 to 2^42, about 139 years). From its deadline on it is
 * invisible to every read, in every process, at once: gets, views,
 * matches, scans, counts and KeyValue reads pass over it as if it were
 * gone. Its memory is reclaimed later: when its key is written, by a sweep
 * that every few writes of its partition take one step of, by sc_expire(),
 * or by eviction. Deadlines run on the host's CLOCK_MONOTONIC_COARSE,
 * shared by its processes and read without a system call: a tuple vanishes
 * at the clock's first tick (1 to 4 ms) at or after its deadline, and times
 * to live stop while the host is suspended.
 *
 * In a bag, putting a tuple that is there already changes nothing, its
 * time to live included (use sc_touch()); the calls below apply to every
 * tuple of the key.
 */
#define SC_TTL_FOREVER UINT64_MAX

/* sc_put() with a time to live; SC_TTL_FOREVER is sc_put(). */
SC_EXPORT int sc_put_ttl(sc_cache *cache, const sc_tuple *tuple, uint64_t ttl_ms);

/*
 * What is left of the time to live of the tuples with data's key: returns
 * 1 and sets *ttl_ms (rounded up; SC_TTL_FOREVER when they have none; in
 * a bag, the longest of its tuples'), or 0 when there are none.
 */
SC_EXPORT int sc_ttl(sc_cache *cache, const sc_tuple *data, uint64_t *ttl_ms);

/*
 * Set the time to live of the tuples with data's key to ttl_ms from now
 * (SC_TTL_FOREVER: they stay until deleted). An expired tuple cannot be
 * touched back to life. Returns how many tuples were touched, 0 if none.
 */
SC_EXPORT int sc_touch(sc_cache *cache, const sc_tuple *data, uint64_t ttl_ms);

/* The same for KeyValue pairs. */
SC_EXPORT int sc_kv_add_ttl(sc_cache *cache, const char *kv, sc_field key, sc_field value, uint64_t ttl_ms);
SC_EXPORT int sc_kv_ttl(sc_cache *cache, const char *kv, sc_field key, uint64_t *ttl_ms);
SC_EXPORT int sc_kv_touch(sc_cache *cache, const char *kv, sc_field key, uint64_t ttl_ms);

/*
 * Reclaim every expired tuple and pair now, partition by partition, each
 * partition's lock held for a run of index buckets at a time (an
 * ordered_set's for its whole tree). Returns how many went.
 */
SC_EXPORT int sc_expire(sc_cache *cache);

/* --- Maintenance ------------------------------------------------------------ */

/*
 * Writers reclaim as they go; these do the same work for a cache nobody is
 * writing to, and are what supercached runs on its timers. Any process
 * attached to the cache may call them, at any time.
 */

/*
 * Free the replaced and deleted records no reader can see any more: start
 * one grace period, then free, partition by partition under its lock, what
 * every reader has left behind. Never waits for a reader; a partition whose
 * lock stays taken for a second is passed over until the next call.
 * *freed_bytes (may be NULL) is set to the bytes this call freed. 0, or the first
 * error of a partition (-EUCLEAN for a damaged one) after doing the others.
 */
SC_EXPORT int sc_reclaim(sc_cache *cache, uint64_t *freed_bytes);

/*
 * Release the reader slots of processes that are gone: killed, or exited
 * without sc_stop(). Their slots stop holding back reclamation and count
 * no more in the stats' readers. Returns how many were released.
 */
SC_EXPORT int sc_release_dead_readers(sc_cache *cache);

/*
 * sc_expire() that never waits long on one busy writer: a partition whose
 * lock stays taken for lock_seconds (at least 1) is passed over, the rest
 * of its expired entries left to the next call. Returns how many went.
 */
SC_EXPORT int sc_expire_within(sc_cache *cache, unsigned lock_seconds);
/* --- Zero-copy reads ------------------------------------------------------ */

/*
 * A read section. Inside it, tuples handed to a visitor point straight into
 * shared memory and stay valid until the outermost sc_read_end(). Sections
 * nest. They take no lock and make no system call; keep them short, since
 * memory retired while a section is open cannot be reused until it ends.
 */
SC_EXPORT int sc_read_begin(sc_cache *cache);
SC_EXPORT void sc_read_end(sc_cache *cache);

/*
 * Called for each tuple found. Return 0 to go on, anything else to stop;
 * a negative value is handed back to the caller as the result.
 */
typedef int (*sc_visit_fn)(const sc_tuple *tuple, void *arg);

/*
 * Zero-copy sc_get: calls fn for each tuple whose key equals data's key, in
 * the order sc_get() returns them, inside a read section (the caller's, if
 * one is open; else one around the call). Returns the number of tuples
 * found (all of them, even when fn stopped early), or fn's negative result.
 * A record is checked against its checksum before fn sees it and again
 * after: -EUCLEAN when a stray write changed it meanwhile, and what fn saw
 * of it is not to be used.
 */
SC_EXPORT int sc_get_view(sc_cache *cache, const sc_tuple *data, sc_visit_fn fn, void *arg);

/*
 * sc_get() into memory the caller owns: no allocation, nothing to free.
 * The tuples found are laid out in buf (cap bytes, aligned for an
 * sc_tuples: any malloc'd or 8-aligned buffer) as an sc_tuples at buf,
 * then its tuples, their fields and their bytes; *out points at it, or is
 * NULL when none is found. Returns the number of tuples, with *need (when
 * need is not NULL) the bytes used. When cap is short, -ERANGE and *need
 * the bytes the result takes: call again with that much (a bag's key may
 * have grown meanwhile: -ERANGE again, with the new size). buf NULL with
 * cap 0 asks for the size alone. Valid until buf is reused; never pass
 * *out to sc_tuples_free().
 */
SC_EXPORT int sc_get_into(sc_cache *cache, const sc_tuple *data, void *buf, size_t cap, const sc_tuples **out,
			  size_t *need);

/* --- Pattern queries and scans ------------------------------------------ */

/*
 * A pattern is a tuple of values, sc_any() (ETS '_') and sc_capture(n)
 * (ETS '$n'). It matches a stored tuple of the same size whose fields equal
 * its values (exactly, as ETS's =:=: 1 and 1.0 differ) and whose fields
 * under one capture number are all equal.
 *
 * partition_data picks the one partition to search, as it does for
 * sc_get_by_key_partition(); NULL searches every partition (the seed's
 * forms without partition data). When the pattern's key field is a value,
 * only that key's records are looked at, not the whole partition.
 *
 * The search runs inside a read section per partition: it never blocks a
 * writer, a resize of the index does not disturb it, and every tuple stored
 * for the whole search is found exactly once (tuples put or deleted during
 * it may or may not be). Tuples of one key in a bag come in put order.
 */

/*
 * The captures of every matching tuple: one result tuple per match, holding
 * its captured values by capture number ($1 first), as :ets.match returns
 * them (no fields when the pattern has no captures). Returns the number of
 * matches; *out as sc_get() sets it.
 */
SC_EXPORT int sc_get_by_match(sc_cache *cache, const sc_field *partition_data, const sc_tuple *pattern,
			      sc_tuples **out);

/* The matching tuples themselves, as :ets.match_object returns them. */
SC_EXPORT int sc_get_by_match_object(sc_cache *cache, const sc_field *partition_data, const sc_tuple *pattern,
				     sc_tuples **out);

/*
 * sc_get_by_match() and sc_get_by_match_object() with a read mode
 * (sc_get_with()). In a distributed cache, with SC_READ_PRIMARY or
 * SC_READ_QUORUM, each partition searched is read by its mode on its own:
 * each partition's part has that mode's guarantee, the whole is not one
 * snapshot. An ordered_set's matches over several partitions still come
 * in key order. A partition whose answer passes about 1 MiB fails the
 * call with -E2BIG.
 */
SC_EXPORT int sc_get_by_match_with(sc_cache *cache, const sc_field *partition_data, const sc_tuple *pattern,
				   const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_get_by_match_object_with(sc_cache *cache, const sc_field *partition_data,
					  const sc_tuple *pattern, const sc_read_opts *opts, sc_tuples **out);

/*
 * Delete every matching tuple; returns how many went. It takes a
 * partition's lock for one index bucket's worth of work at a time, so
 * writers of the partition wait for one bucket, never the whole walk.
 */
SC_EXPORT int sc_delete_by_match(sc_cache *cache, const sc_field *partition_data, const sc_tuple *pattern);

/*
 * Fold fn over the tuples (of the partition partition_data picks, or of all),
 * with acc as the accumulator, as the seed's scan!(fun, acc) folds: fn sees
 * each tuple in place, valid during the call, and updates *acc itself.
 * fn returns 0 to go on, anything else to stop; a negative value is handed
 * back. Returns the number of tuples visited.
 */
typedef int (*sc_scan_fn)(const sc_tuple *tuple, void *acc);
SC_EXPORT int sc_scan(sc_cache *cache, const sc_field *partition_data, sc_scan_fn fn, void *acc);

/*
 * sc_scan() with a read mode. Not SC_READ_LOCAL, in a distributed cache:
 * each partition's tuples are read by the mode (as sc_get_by_match_with()
 * reads them), copied, and fn folds over the copies.
 */
SC_EXPORT int sc_scan_with(sc_cache *cache, const sc_field *partition_data, sc_scan_fn fn, void *acc,
			   const sc_read_opts *opts);

/* --- Partition-addressed operations ------------------------------------- */

/*
 * The seed's partition-specific operations. A key is one field (the value
 * at key_pos); partition_data is hashed to pick the partition, as the
 * partition_pos field of a tuple is; idx names a partition directly
 * (0 to num_partition - 1, else -ERANGE). A tuple stored in a partition
 * other than its own is found only by asking that partition.
 */

/* The tuples with this key in the partition partition_data picks. */
SC_EXPORT int sc_get_by_key_partition(sc_cache *cache, sc_field key, sc_field partition_data,
				      sc_tuples **out);

/* The tuples with this key in the partition the key itself picks. */
SC_EXPORT int sc_get_same_key_partition(sc_cache *cache, sc_field key, sc_tuples **out);

/* Delete the tuples with this key in the partition partition_data picks; returns how many went. */
SC_EXPORT int sc_delete_by_key_partition(sc_cache *cache, sc_field key, sc_field partition_data);

/* Delete the tuples with this key in the partition the key picks; returns how many went. */
SC_EXPORT int sc_delete_same_key_partition(sc_cache *cache, sc_field key);

/* Store tuple in the partition partition_data picks (its own partition_pos field is not used). */
SC_EXPORT int sc_put_partition(sc_cache *cache, const sc_tuple *tuple, sc_field partition_data);

/* The same as sc_get_by_key_partition() and sc_delete_by_key_partition(), under the seed's other names. */
SC_EXPORT int sc_get_partition(sc_cache *cache, sc_field key, sc_field partition_data, sc_tuples **out);
SC_EXPORT int sc_delete_partition(sc_cache *cache, sc_field key, sc_field partition_data);

/* The same, in partition idx. */
SC_EXPORT int sc_put_partition_by_idx(sc_cache *cache, const sc_tuple *tuple, uint32_t idx);
SC_EXPORT int sc_get_partition_by_idx(sc_cache *cache, sc_field key, uint32_t idx, sc_tuples **out);
SC_EXPORT int sc_delete_partition_by_idx(sc_cache *cache, sc_field key, uint32_t idx);

/*
 * sc_get_by_key_partition(), sc_get_partition(), sc_get_same_key_partition()
 * and sc_get_partition_by_idx() with a read mode, as sc_get_with().
 */
SC_EXPORT int sc_get_by_key_partition_with(sc_cache *cache, sc_field key, sc_field partition_data,
					   const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_get_partition_with(sc_cache *cache, sc_field key, sc_field partition_data,
				    const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_get_same_key_partition_with(sc_cache *cache, sc_field key, const sc_read_opts *opts,
					     sc_tuples **out);
SC_EXPORT int sc_get_partition_by_idx_with(sc_cache *cache, sc_field key, uint32_t idx,
					   const sc_read_opts *opts, sc_tuples **out);

/* --- KeyValue namespaces -------------------------------------------------- */

/*
 * The seed's KeyValue: any number of independent namespaces, each a map
 * from keys to values. A namespace is named by a C string of 1 to 255
 * bytes; keys and values are single fields (int64, double or bytes), keys
 * compared exactly as tuple keys are in a set (1 and 1.0 differ). A
 * namespace's pairs are spread over the partitions by key.
 *
 * A namespace follows the cache's table_type, as the seed's does. On a set
 * or an ordered_set a key has one value, which an add replaces (an
 * ordered_set lists its keys in order). On a bag a key keeps each distinct
 * value added (adding one it holds does nothing); on a duplicate_bag, every
 * value added, repeats too. Where a key has several values, sc_kv_get()
 * reads the one added last, sc_kv_get_all() all of them oldest first, and
 * sc_kv_remove() removes them all; sc_kv_update(), sc_kv_replace() and
 * sc_kv_update_fn() leave the key with their one value.
 *
 * Pairs live apart from the tuples: sc_get, sc_scan, the matches,
 * sc_delete_all and the per-partition stats never see them, whatever the
 * cache's key_pos, partition_pos and table_type (sc_stats counts them in
 * its structures line). Reads take no lock and make no system call.
 */
typedef struct sc_kv_pair {
	sc_field key;
	sc_field value;
} sc_kv_pair;

/* Add value to key in namespace kv: on a set or ordered_set, in place of the value it had; on a bag, beside. */
SC_EXPORT int sc_kv_add(sc_cache *cache, const char *kv, sc_field key, sc_field value);

/*
 * The seed's update (an upsert) and replace (insert, or replace every value
 * of the key): either way key ends with value as its one value, without a
 * time to live, on every table type. On a set they do what sc_kv_add()
 * does. On a bag, value goes in beside the key's values before they go, so
 * that sc_kv_get() finds the old value or the new one, never none (a reader
 * of every value may see both during the call); a writer killed between
 * leaves the rest to the lock's next holder, which finishes it.
 */
SC_EXPORT int sc_kv_update(sc_cache *cache, const char *kv, sc_field key, sc_field value);
SC_EXPORT int sc_kv_replace(sc_cache *cache, const char *kv, sc_field key, sc_field value);

/*
 * The value of key (on a bag, the one added last): returns 1 and *out holds it (one tuple of one field).
 * If key has none, returns 0 and *out holds a copy of *dflt, or is NULL if
 * dflt is NULL. Release *out with sc_tuples_free().
 */
SC_EXPORT int sc_kv_get(sc_cache *cache, const char *kv, sc_field key, const sc_field *dflt, sc_tuples **out);

/*
 * Every value of key, one one-field tuple each, oldest first: returns how
 * many (0 or 1 on a set), and *out as sc_get() sets it: NULL when there is
 * none. Read as sc_kv_get() reads.
 */
SC_EXPORT int sc_kv_get_all(sc_cache *cache, const char *kv, sc_field key, sc_tuples **out);

/*
 * sc_kv_get() into memory the caller owns: no allocation, nothing to free.
 * Returns 1 with *value the key's value (on a bag, the one added last): a
 * number held in *value itself, bytes copied to buf and *value pointing
 * there; 0 when the key has none. When the value's bytes are more than
 * cap, -ERANGE; *need (when need is not NULL) is the value's length in
 * bytes either way (0 for a number).
 */
SC_EXPORT int sc_kv_get_into(sc_cache *cache, const char *kv, sc_field key, void *buf, size_t cap,
			     sc_field *value, size_t *need);

/* sc_kv_get() with a read mode, as sc_get_with(). */
SC_EXPORT int sc_kv_get_with(sc_cache *cache, const char *kv, sc_field key, const sc_field *dflt,
			     const sc_read_opts *opts, sc_tuples **out);

/* Remove key's value (on a bag, every one); returns how many went, 0 if there was none. */
SC_EXPORT int sc_kv_remove(sc_cache *cache, const char *kv, sc_field key);

/*
 * An atomic counter: the value of key becomes its value plus step, under
 * the partition's lock, and *out gets the new value. A missing key starts
 * from dflt. step and dflt are both SC_FIELD_INT (int64) or both
 * SC_FIELD_DOUBLE, and so must the stored value be: -EINVAL naming the
 * types otherwise, -ERANGE when an int64 sum overflows (nothing written).
 * The entry keeps its time to live. -EINVAL on a bag or duplicate_bag cache
 * (not supported for bag/duplicate_bag). In a distributed cache it runs on
 * the partition's primary, like every write. *out is written only when the
 * new value was: on 0, and on -ETIMEDOUT from a write that waited too long
 * for its replicas' acknowledgement (a -ETIMEDOUT for a partition lock
 * held too long writes nothing); a caller that must tell them apart sets
 * out->type to 0 first.
 */
SC_EXPORT int sc_kv_increment(sc_cache *cache, const char *kv, sc_field key, sc_field dflt, sc_field step,
			      sc_field *out);

/*
 * What sc_kv_update_fn() calls: current is the key's value (pointing into
 * the cache: read it, do not keep it) or, for a missing key, the default;
 * set *next to the value to store (its bytes need only last until the call
 * returns) and return 0, or return a negative errno to store nothing (the
 * call then returns it).
 */
typedef int (*sc_kv_updater)(const sc_field *current, void *arg, sc_field *next);

/*
 * Read-modify-write of key's value: fn(current or dflt, arg, &next), and
 * next is stored, replacing the value (keeping its time to live; on a bag,
 * fn gets the value added last, and next replaces every value), all under
 * the partition's lock, so no other write to the partition comes between.
 * *out (when out is not NULL) gets a copy of the value stored, one tuple of
 * one field; on -ETIMEDOUT too (a sync write written and not acknowledged
 * in time). fn runs with the partition's lock held: it must not call the
 * cache (a write to the same partition fails with -EDEADLK; one to another
 * could deadlock with a process holding that one), and it should be quick.
 * A process killed inside fn leaves the old value: nothing is written
 * before fn returns, and the lock's next holder repairs the rest.
 *
 * In a distributed cache whose partition's primary is another node, fn
 * runs here on the primary's value (a primary read), and the primary
 * stores next only if the value is still the one fn was given, else fn is
 * called again on the new one: fn may then run more than once per call,
 * and must depend on current and arg alone. After 64 tries that each
 * found the value changed, -EBUSY.
 */
SC_EXPORT int sc_kv_update_fn(sc_cache *cache, const char *kv, sc_field key, sc_field dflt, sc_kv_updater fn,
			      void *arg, sc_tuples **out);

/* Remove every pair of the namespace; returns how many went. Other namespaces are untouched. */
SC_EXPORT int sc_kv_remove_all(sc_cache *cache, const char *kv);

/*
 * The namespace's keys (one-field tuples), values (one-field tuples) or
 * pairs ({key, value} tuples): in no particular order on a set, in key
 * order on an ordered_set; on a bag, by key, each key's values oldest
 * first. Each key is listed once by sc_kv_keys(), with each of its values
 * by the others. They go over every partition's pairs, as the seed's do: a
 * pair present for the whole call is in the result once. Return the number
 * of tuples; *out as sc_get() sets it.
 */
SC_EXPORT int sc_kv_keys(sc_cache *cache, const char *kv, sc_tuples **out);
SC_EXPORT int sc_kv_values(sc_cache *cache, const char *kv, sc_tuples **out);
SC_EXPORT int sc_kv_to_list(sc_cache *cache, const char *kv, sc_tuples **out);

/* The number of pairs in the namespace, every value of a bag's key counted (a walk over the partitions, like sc_kv_keys()). */
SC_EXPORT int sc_kv_count(sc_cache *cache, const char *kv);

/*
 * The four above with a read mode (sc_get_with()): each partition read by
 * it on its own, as sc_get_by_match_with() reads them.
 */
SC_EXPORT int sc_kv_keys_with(sc_cache *cache, const char *kv, const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_kv_values_with(sc_cache *cache, const char *kv, const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_kv_to_list_with(sc_cache *cache, const char *kv, const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_kv_count_with(sc_cache *cache, const char *kv, const sc_read_opts *opts);

/*
 * Add n pairs, taking each partition's lock once; pairs of one key apply
 * in the batch's order (on a set the last wins; a duplicate_bag keeps
 * each). All or nothing, as sc_put_batch().
 */
SC_EXPORT int sc_kv_add_batch(sc_cache *cache, const char *kv, const sc_kv_pair *pairs, size_t n);

/*
 * Remove n keys (every value of each), taking each partition's lock once,
 * all or nothing; returns how many pairs went. In a cache so full that even the batch's
 * small intent finds no memory, the keys are removed one by one instead
 * (each all-or-nothing): removing must never fail for want of memory.
 */
SC_EXPORT int sc_kv_remove_batch(sc_cache *cache, const char *kv, const sc_field *keys, size_t n);

/* --- Queues and stacks ----------------------------------------------------- */

/*
 * The seed's Queue (FIFO) and Stack (LIFO): any number of named sequences
 * of values (single fields), shared by every process of the cache. Names
 * are C strings of 1 to 255 bytes; a queue and a stack may share a name.
 * A sequence that was never added to is empty.
 *
 * Each add, out, push, pop and drain takes the lock of the one partition
 * that serves the sequence, once: every item goes to exactly one taker,
 * whatever the number of producer and consumer processes, and a queue
 * hands items out in the order they were added. count and peek take no
 * lock. A process killed inside an operation leaves the sequence whole;
 * at worst the item it was taking is leaked.
 *
 * Calls that hand a value back return 1 and set *out to one tuple holding
 * it, or, when the sequence is empty, return 0 and set *out to a copy of
 * *dflt (NULL if dflt is NULL). Release *out with sc_tuples_free().
 */

/* Add value at the back of the queue. */
SC_EXPORT int sc_queue_add(sc_cache *cache, const char *queue, sc_field value);

/* Take the value at the front. */
SC_EXPORT int sc_queue_out(sc_cache *cache, const char *queue, const sc_field *dflt, sc_tuples **out);

/* The value at the front, left there. sc_queue_peak is the seed's spelling. */
SC_EXPORT int sc_queue_peek(sc_cache *cache, const char *queue, const sc_field *dflt, sc_tuples **out);
SC_EXPORT int sc_queue_peak(sc_cache *cache, const char *queue, const sc_field *dflt, sc_tuples **out);

/* The number of values in the queue. */
SC_EXPORT int sc_queue_count(sc_cache *cache, const char *queue);

/* sc_queue_peek() and sc_queue_count() with a read mode, as sc_get_with(). */
SC_EXPORT int sc_queue_peek_with(sc_cache *cache, const char *queue, const sc_field *dflt,
				 const sc_read_opts *opts, sc_tuples **out);
SC_EXPORT int sc_queue_count_with(sc_cache *cache, const char *queue, const sc_read_opts *opts);

/* Take every value, oldest first (one tuple each); returns how many. */
SC_EXPORT int sc_queue_get_all(sc_cache *cache, const char *queue, sc_tuples **out);

/* Push value on top of the stack. */
SC_EXPORT int sc_stack_push(sc_cache *cache, const char *stack, sc_field value);

/* Take the value on top. */
SC_EXPORT int sc_stack_pop(sc_cache *cache, const char *stack, const sc_field *dflt, sc_tuples **out);

/* The number of values on the stack. */
SC_EXPORT int sc_stack_count(sc_cache *cache, const char *stack);

/* sc_stack_count() with a read mode, as sc_get_with(). */
SC_EXPORT int sc_stack_count_with(sc_cache *cache, const char *stack, const sc_read_opts *opts);

/* Take every value, top first; returns how many. */
SC_EXPORT int sc_stack_get_all(sc_cache *cache, const char *stack, sc_tuples **out);

/* --- Struct storage -------------------------------------------------------- */

/*
 * The seed's Struct: fixed-size C structs stored whole (plain data: no
 * pointers, since other processes read them), keyed by one member. Register
 * the type once with its size and its key member's place, in any process:
 *
 *     sc_struct_init(cache, "user", sizeof(struct user),
 *                    offsetof(struct user, id), sizeof(int64_t));
 *
 * Registering a type again with the same geometry does nothing; with
 * another it is -EEXIST. Calls on a type never registered are -ENXIO; a
 * missing key is -ENOENT. A key is the key member's bytes, compared
 * exactly (padding inside the member counts: zero it). Structs live apart
 * from the tuples, as KeyValue pairs do.
 */
SC_EXPORT int sc_struct_init(sc_cache *cache, const char *type, size_t size, size_t key_offset,
			     size_t key_size);

/* Store the struct at s, replacing the one with the same key. */
SC_EXPORT int sc_struct_add(sc_cache *cache, const char *type, const void *s);

/* Copy the struct whose key member equals key's (a struct of the type with its key set) into out. */
SC_EXPORT int sc_struct_get(sc_cache *cache, const char *type, const void *key, void *out);
/* sc_struct_get() with a read mode (sc_get_with()): by the struct's partition's primary, or a majority of its replicas. */
SC_EXPORT int sc_struct_get_with(sc_cache *cache, const char *type, const void *key, const sc_read_opts *opts,
				 void *out);

/*
 * Every struct of the type, in no particular order: returns how many and
 * sets *out to an array of them (NULL when there are none), released with
 * sc_struct_free().
 */
SC_EXPORT int sc_struct_get_all(sc_cache *cache, const char *type, void **out);
/* sc_struct_get_all() with a read mode: each partition read by it on its own, as sc_get_by_match_with() does. */
SC_EXPORT int sc_struct_get_all_with(sc_cache *cache, const char *type, const sc_read_opts *opts, void **out);
SC_EXPORT void sc_struct_free(void *structs);

/* Remove the struct with key's key; returns 1, or 0 if there was none. */
SC_EXPORT int sc_struct_remove(sc_cache *cache, const char *type, const void *key);

/* Remove every struct of the type (it stays registered); returns how many went. */
SC_EXPORT int sc_struct_remove_all(sc_cache *cache, const char *type);

/* --- Statistics ----------------------------------------------------------- */

typedef struct sc_partition_stats {
	uint64_t records;	 /* tuples stored */
	uint64_t bytes;		 /* bytes of records stored, headers included */
	uint64_t index_capacity; /* slots of the partition's index */
	uint64_t puts;		 /* tuples written */
	uint64_t gets;		 /* lookups */
	uint64_t hits;		 /* lookups that found at least one tuple */
	uint64_t deletes;	 /* tuples deleted */
	uint64_t retired_bytes;	 /* replaced or deleted, waiting for readers to leave */
	uint64_t locks;		 /* times a writer took the partition's lock (a batch takes it
				    once for all its entries there) */
	uint64_t writer_deaths;	 /* writers that died holding the lock; the next writer
				    repaired the partition each time */
	uint64_t evictions;	 /* records evicted to make room (SC_EVICTION_CLOCK) */
	uint64_t expirations;	 /* expired records reclaimed (records counts them until then) */
} sc_partition_stats;

typedef struct sc_cache_stats {
	uint32_t num_partition;
	uint32_t readers;		/* reader slots in use (a process gone without sc_stop()
					   keeps its slots until a grace period checks them) */
	uint64_t memory_limit;		/* bytes the segment may use */
	uint64_t memory_used;		/* bytes of shared memory backing the segment */
	sc_partition_stats total;	/* sum over partitions */
	sc_partition_stats *partitions; /* num_partition entries */
	sc_partition_stats structures;	/* KeyValue, queue, stack and Struct entries (and queue
					   and stack headers), none of which the above count */
	uint32_t oldest_reader_pid;	/* the process in the oldest open read section, which
					   holds back the reuse of what was retired since; 0 when
					   no section is open */
	uint32_t oldest_reader_tid;	/* its thread */
	uint64_t oldest_reader_lag;	/* grace periods started since that section began */
	uint64_t oldest_reader_epoch;	/* the grace period it began in: with pid and tid, names
					   the section, so that a later snapshot can tell it
					   is still the same one */
	uint64_t grace_periods;		/* grace periods started since the cache was created */
	uint64_t truncations;		/* times an attach found the segment file truncated by another
					   process, gave it its size back and repaired the cache */
	uint64_t truncated_to;		/* the length the last of them found it at */
} sc_cache_stats;

/* A snapshot of the cache's counters, owned by the caller until sc_stats_free(). */
SC_EXPORT int sc_stats(sc_cache *cache, sc_cache_stats **out);
SC_EXPORT void sc_stats_free(sc_cache_stats *stats);

/* --- Checking a segment ---------------------------------------------------- */

#define SC_CHECK_LISTED	    32u	  /* problems a report lists; it counts them all */
#define SC_CHECK_PARTITIONS 8192u /* partitions a report can mark damaged: 2 x num_partition at most */

typedef struct sc_check_problem {
	int32_t partition; /* tuple partitions 0..n-1, then structure partitions n..2n-1;
			      -1 for the segment as a whole */
	uint64_t offset;   /* where in the segment, 0 when nowhere in particular */
	char what[200];	   /* what is wrong, in a sentence */
} sc_check_problem;

typedef struct sc_check_report {
	uint64_t problems; /* found (the first SC_CHECK_LISTED are listed) */
	uint64_t records;  /* live records walked, checksums verified */
	uint64_t blocks;   /* blocks accounted for: reachable, retired or free */
	uint64_t repaired; /* partitions a dead writer had left (or whose lock named a thread that
			      was gone), repaired before the check */
	uint32_t listed;
	uint32_t damaged_partitions; /* partitions with at least one problem, every one of them
					marked in damaged[] (sc_check_damaged()) */
	uint32_t segment_problems;   /* problems outside any partition: sc_repair() mends them */
	uint32_t reserved;
	uint8_t damaged[SC_CHECK_PARTITIONS / 8];
	sc_check_problem list[SC_CHECK_LISTED];
} sc_check_report;

/* Whether the report found partition damaged (numbered as sc_check_problem numbers them). */
static inline int sc_check_damaged(const sc_check_report *report, uint32_t partition)
{
	return partition < SC_CHECK_PARTITIONS && (report->damaged[partition / 8] >> (partition % 8)) & 1;
}

/*
 * Check that the segment is whole: every offset,
 * index, tree, record checksum, chain, free list, limbo list, counter and
 * page owner; every block accounted for exactly once; the header against
 * what this handle attached to; the reader registry and the epochs. Never
 * crashes or hangs, whatever the segment holds. Takes each partition's
 * write lock in turn (writers of that partition wait; readers never do)
 * and repairs a partition whose writer died first, as any writer would;
 * with SC_CHECK_NO_LOCKS it takes no lock and repairs nothing, for a
 * segment nobody writes (a copy, or a cache whose processes are all
 * stopped). report may be NULL. 0 when the segment is whole, -EUCLEAN when
 * a problem was found (the report says what and where), or another
 * negative errno when the check could not be done.
 *
 * The remedy: when segment_problems is 0, sc_partition_reset() of every
 * partition sc_check_damaged() names (one pass); in any case sc_repair().
 */
#define SC_CHECK_NO_LOCKS 1u
SC_EXPORT int sc_check(sc_cache *cache, unsigned flags, sc_check_report *report);

/*
 * Empty a partition and make it whole again, whatever its memory holds: for
 * a partition a scribbler damaged (its reads return -EUCLEAN, sc_check()
 * names it, its writes are refused). Partitions are numbered as
 * sc_check_problem numbers them. Its tuples (or structure entries) are
 * gone; every other partition is untouched. It trusts the page map to say
 * which memory is the partition's: when sc_check() reports segment
 * problems, use sc_repair(). Waits up to 5 s for readers to leave the
 * partition's memory: -EBUSY if one stays (the partition is empty by
 * then; call again), -EDEADLK if called inside a read section.
 */
SC_EXPORT int sc_partition_reset(sc_cache *cache, uint32_t partition);

/*
 * Bring a damaged cache back to one that passes sc_check() and takes writes
 * in every partition, whatever a stray write did to it: every partition
 * whose memory holds damage is emptied (the others keep every tuple and
 * entry, and what a dead writer left in them is repaired), the page map
 * and the allocator's counts are rebuilt from what those partitions use,
 * the header is written again from what this handle attached to, and a
 * segment file another process truncated gets its size back (what was cut
 * off is lost). Takes every lock, the allocator's last; writers wait
 * meanwhile. Returns the number of partitions emptied, or -EBUSY when a
 * live thread holds a lock for more than 2 s or a reader stays in a read
 * section for 5 s (call again), -EDEADLK inside a read section, -EROFS on
 * a read-only handle.
 */
SC_EXPORT int sc_repair(sc_cache *cache);

/* --- Errors ---------------------------------------------------------------- */

/* A short description of a (negative or positive) error code. Never NULL. */
SC_EXPORT const char *sc_strerror(int err);

/* The detailed message of the calling thread's last failed call, or "". */
SC_EXPORT const char *sc_last_error(void);

#ifdef __cplusplus
} /* extern "C" */

/*
 * C++ has no compound literals; SC_TUPLE makes a temporary that converts to
 * const sc_tuple * and lives until the end of the full expression.
 */
template <unsigned N> struct sc_tuple_literal {
	sc_field fields[N];
	sc_tuple tuple;
	operator const sc_tuple *()
	{
		tuple.nfields = N;
		tuple.fields = fields;
		return &tuple;
	}
};

template <typename... F> static inline sc_tuple_literal<sizeof...(F)> sc_make_tuple(F... f)
{
	return sc_tuple_literal<sizeof...(F)>{ { f... }, { 0, nullptr } };
}

#define SC_TUPLE(...) ((const sc_tuple *)sc_make_tuple(__VA_ARGS__))
#endif

#endif /* SUPERCACHE_H */
