/* layout.h — the shared-memory segment's format: every struct another process reads. */
#ifndef SC_LAYOUT_H
#define SC_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A segment is one file in /dev/shm, mapped whole by every process:
 *
 *   [0, 4 KiB)          struct sc_seg_hdr
 *   parts_off           2 x num_partition struct sc_part: the tuple partitions,
 *                       then as many structure partitions (KeyValue, queues,
 *                       stacks, Struct: record/entry_key.h), so that no tuple
 *                       operation ever sees a structure's entries
 *   map_off             page-aligned: struct sc_map_hdr, then num_partition
 *                       struct sc_map_entry: the distributed mode's partition
 *                       map, written by the coordinator alone (shm/cluster_map.h)
 *   repl_off            page-aligned, distributed caches only: 2 x num_partition
 *                       replication logs, one per partition, each a struct
 *                       sc_repl_log and SC_REPL_LOG_BYTES of ring (shm/repl_log.h)
 *   regs_off            struct sc_registry, page-aligned: the reader registry, the
 *                       one region a read-only handle maps writable
 *   slots_off           max_readers x struct sc_slot      (reader slots)
 *   counters_off        max_readers x num_partition get/hit counters
 *   pagemap_off         page-aligned: one 32-bit word per 64 KiB page of the segment: who owns it
 *   heap_off            64 KiB pages handed out as spans, up to memory_limit
 *
 * Rules: fixed-width integers and offsets only (no pointers, bool, enum);
 * offsets count bytes from the segment start except where a field says
 * "units" (16-byte units, which is what lets an index slot hold a record
 * offset in 32 bits and caps a segment at 64 GiB). Offset 0 is never a
 * valid target. Every offset read from the segment is bounds-checked
 * before use (sc_seg_span_ok()).
 */

#define SC_MAGIC "SCACHE\0\x01"
/*
 * Bump SC_ABI_VERSION whenever the meaning of anything in the segment
 * changes, not only its layout (which the layout signature catches): an
 * old segment must never be read by rules it was not written by.
 */
#define SC_ABI_VERSION 15u
#define SC_READY       0x52454459u /* "REDY": written last when a segment is complete */

#define SC_UNIT_SHIFT  4u
#define SC_UNIT	       (1u << SC_UNIT_SHIFT)
#define SC_PAGE_SHIFT  16u
#define SC_PAGE	       (1u << SC_PAGE_SHIFT) /* span granularity: 64 KiB */
#define SC_SLAB	       (16u * SC_PAGE)	     /* the largest slab: a partition's grow from a page to 1 MiB */
#define SC_MAX_SEGMENT (1ull << 36)	     /* 2^32 units of 16 bytes */
#define SC_MIN_HEAP    (4ull * SC_SLAB)
#define SC_OS_PAGE     4096u /* what mprotect() works in: regions a handle maps apart start on one */

/*
 * Index slots: offset 0 is empty, 1 a tombstone (a deleted entry); else a
 * record offset in units. A slot's tag is 0 until the slot is first used
 * and never 0 after (tags have their top bit set), so a reader can tell a
 * never-used slot from the tags alone.
 */
#define SC_SLOT_EMPTY	  0u
#define SC_SLOT_TOMB	  1u
#define SC_TAG_NEVER_USED 0u
#define SC_BUCKET_SLOTS	  8u

/* The tag of a key hash. The top bit never selects a bucket (indexes have under 2^31 buckets). */
static inline uint32_t sc_tag(uint64_t hash)
{
	return (uint32_t)hash | 0x80000000u;
}

/* Block kinds and states, in struct sc_blk.flags. */
#define SC_BLK_RECORD	  0x01u
#define SC_BLK_INDEX	  0x02u
#define SC_BLK_BTREE	  0x03u
#define SC_BLK_SEQUENCE	  0x04u
#define SC_BLK_INTENT	  0x05u /* a batch's intent (struct sc_batch_intent) */
#define SC_BLK_KIND_MASK  0x07u
#define SC_BLK_LIVE	  0x08u
#define SC_BLK_RETIRED	  0x10u
#define SC_BLK_FREE	  0x18u
#define SC_BLK_STATE_MASK 0x18u
/*
 * Record bits beside the kind and state. SC_BLK_REFERENCED is the one bit
 * a reader ever writes into shared memory: a lookup that finds a record
 * sets it (with an atomic or, only if clear) when the cache evicts, and the
 * eviction hand clears it (index/evict.h). SC_BLK_EXPIRES says the record's last
 * 8 bytes, 8-aligned, hold its deadline (record/record_deadline.h). A writer changes the
 * state of a published block only with atomic stores that keep these bits.
 */
#define SC_BLK_REFERENCED 0x20u
#define SC_BLK_EXPIRES	  0x40u
/* Size classes: 16..512 bytes in 16-byte steps, then four per doubling up to 64 KiB. */
#define SC_NCLASSES  60u
#define SC_CLS_SPAN  0xffu /* the block is a span of whole pages */
#define SC_SMALL_MAX (64u * 1024u)

/*
 * Every block the heap hands out starts with this header: records, index
 * tables, anything retired through RCU. Readers read len, hash, nfields and
 * the fields after it; link and retire_epoch belong to the partition's
 * writer, which threads retired and free blocks through them while readers
 * may still be looking at the rest.
 */
struct sc_blk {
	uint32_t len;	       /* bytes used, header included */
	uint32_t csum;	       /* records: checksum of hash, nfields, version and the fields (for checkers) */
	uint32_t hash;	       /* records: low 32 bits of the key's hash */
	uint16_t nfields;      /* records: number of fields */
	uint8_t cls;	       /* size class, or SC_CLS_SPAN */
	uint8_t flags;	       /* SC_BLK_* kind | state */
	uint64_t version;      /* records: partition sequence number of the write */
	uint32_t link;	       /* writer-only: next block in limbo or free list (units) */
	uint32_t retire_epoch; /* writer-only: low 32 bits of the epoch it was retired in */
};

/*
 * A field inside a record: a 32-bit word (type in the low 2 bits, length
 * above), then the payload, padded to 4 bytes. A bytes payload is always
 * followed by at least one zero byte, so copies can be used as C strings.
 */
#define SC_FIELD_HDR	   4u
#define SC_FIELD_TYPE_BITS 2u

/*
 * The page map says who owns each 64 KiB page: nobody (0), the first page
 * of a span owned by partition i (SC_PG_HEAD | i), or a later page of it
 * (SC_PG_BODY | i). Taking a span writes its head first, then its body
 * pages in ascending order; giving one back clears the body pages from
 * the last, then the head. So at every moment each body page follows the
 * head or a body page of its owner, whenever a holder dies, and a
 * partition can find all of its spans without asking anyone.
 */
#define SC_PG_FREE	 0u
#define SC_PG_HEAD	 0x80000000u
#define SC_PG_BODY	 0x40000000u
#define SC_PG_OWNER_MASK 0x0000ffffu

/*
 * The first bytes of every slab: the partition that carves it, the
 * partition's previous slab, and its own length. Blocks are carved after it.
 * A partition's first slab is one page, and each next one twice its
 * predecessor up to SC_SLAB (or what the block that asked for it needs):
 * memory follows what a partition holds, so thousands of partitions cost a
 * page each until they fill (block_alloc.c).
 */
struct sc_slab {
	uint32_t magic; /* SC_SLAB_MAGIC */
	uint32_t part;
	uint64_t next;	/* byte offset of the partition's previous slab, 0 for its first */
	uint32_t full;	/* 1 once carved to the end: no longer the partition's current slab */
	uint32_t pages; /* its length: 1 to SC_SLAB / SC_PAGE pages */
	uint64_t reserved[5];
};
#define SC_SLAB_MAGIC 0x42414c53u /* "SLAB" */
/* A hash index: this header, 64-byte aligned inside its block, then 2^log2_buckets buckets. */
struct sc_index {
	uint32_t magic; /* SC_INDEX_MAGIC */
	uint32_t log2_buckets;
	uint64_t block_off; /* the block holding this index, for retirement */
	/* Its entries and tombstones are counted in its partition: readers load this line. */
	uint64_t reserved[6];
};
#define SC_INDEX_MAGIC	  0x49445831u /* "IDX1" */
#define SC_INDEX_MIN_LOG2 4u
#define SC_INDEX_MAX_LOG2 25u /* an index block stays under 4 GiB */

/*
 * A bucket is one cache line: eight hash tags, then eight record offsets.
 * A probe compares tags in one line before it touches any record. A slot's
 * tag is written before its offset, so a used tag with an empty offset is
 * an insert not yet published (or abandoned by a writer that died).
 */
struct sc_bucket {
	uint32_t hash[SC_BUCKET_SLOTS];
	uint32_t off[SC_BUCKET_SLOTS];
};

/*
 * An ordered_set's index: a copy-on-write B+tree (index/btree.h). A node lies
 * right after its block header and never changes once published. Entries
 * are kept in key order; in an internal node each holds the smallest key of
 * its child: the key's order-preserving prefix, and the record with that
 * key for comparisons the prefix cannot settle.
 */
#define SC_BT_FANOUT	 40u
#define SC_BT_MAX_HEIGHT 12u
#define SC_BT_MAGIC	 0x42545231u /* "BTR1" */

struct sc_bt_entry {
	uint8_t prefix[16];
	uint32_t rec;	/* units: the record (leaf), or the smallest record below (internal) */
	uint32_t child; /* units: internal nodes only: the child node's block */
};

struct sc_bt_node {
	uint32_t magic;
	uint16_t count;
	uint8_t height; /* 0 for leaves */
	uint8_t reserved0;
	uint64_t reserved1;
	struct sc_bt_entry e[SC_BT_FANOUT];
};

/*
 * A lock (shm/shm_mutex.h). word is the futex: 0 when free, else the holder's
 * thread id, with SC_MUTEX_SLEEPERS while someone may sleep on it. The
 * holder writes pid, then stamp, right after taking the word: its process,
 * and its thread id with the low 32 bits of its start time, which tell it
 * from a later thread given the same id.
 */
struct sc_shm_mutex {
	uint32_t word;
	uint32_t pid;
	uint64_t stamp;
};
#define SC_MUTEX_SLEEPERS 0x80000000u
#define SC_MUTEX_TID_MASK 0x3fffffffu /* thread ids stay below 2^22 (PID_MAX_LIMIT) */

/*
 * A queue's or a stack's positions (sequence.h): its items are at
 * positions [head, tail). Only holders of its home partition's lock write
 * them; anyone reads them, with single loads.
 */
struct sc_sequence {
	uint64_t head;
	uint64_t tail;
	uint64_t reserved[2];
};

/*
 * A partition's writer lane: retired blocks waiting for a grace period, and
 * free blocks by class. A write uses its CPU's lane (mem/writer_lane.h), so
 * the blocks a CPU retires come back free to that CPU, their lines still in
 * its cache, and the lane's own lines stay there too: writers on two CPUs
 * taking turns at a partition share its lock's line and the index's
 * buckets, not its free lists. Lanes are a place, not an owner: any writer
 * holding the partition lock may use any lane (when its own has nothing
 * free, it takes from the others before carving new memory).
 */
#define SC_LANES 4u
struct sc_lane {
	_Alignas(64) uint64_t limbo_bytes; /* retired, not yet reusable */
	uint64_t limbo_count;
	uint32_t limbo_head;	/* oldest retired block (units), 0 when empty */
	uint32_t limbo_tail;	/* newest retired block (units) */
	uint32_t retired_since; /* blocks retired since the last write's reclaim: what the next frees */
	uint32_t free_head[SC_NCLASSES]; /* free blocks by class (units) */
};

/*
 * One partition. What readers load sits on a line of its own, so that
 * readers never share a line with a writer's stores; what a write changes
 * sits on as few lines as will hold it.
 */
struct sc_part {
	/*
	 * line 0: the write lock, and the fields every write changes. Writers
	 * on other CPUs take turns at a partition, and each line a write
	 * changes moves to the writer's CPU: the lock and what every write
	 * changes share one line.
	 */
	_Alignas(64) struct sc_shm_mutex lock;
	uint64_t seq;	  /* version of the last write */
	uint64_t records; /* live tuples */
	uint64_t bytes;	  /* bytes of live records */
	uint64_t puts;
	uint64_t locks;			 /* times the lock was taken */
	uint32_t needs_repair;		 /* a repair was started and has not finished (recovery/repair.h) */
					 /* line 1: loaded by readers */
	_Alignas(64) uint64_t index_off; /* byte offset of the current struct sc_index */

	/* line 2: read by every write, changed by some */
	_Alignas(64) uint64_t deletes;
	uint64_t slab_off; /* next free byte of the current slab */
	uint64_t slab_end;
	uint64_t ttl_records; /* live records carrying a deadline */
	uint64_t index_live;  /* hash index: entries of the published index (set with it, then counted) */
	uint64_t index_tombs; /* ... and its tombstones */

	/* lines 3..: the writer lanes */
	struct sc_lane lanes[SC_LANES];

	/* lines the common write never touches: a new slab, eviction, expiry, stalled readers, lock history */
	_Alignas(64) uint64_t slabs; /* the partition's newest slab (byte offset), 0 before the first */
	uint64_t bt_nodes;	     /* ordered_set: nodes of the index */
	uint64_t evictions;	     /* records the eviction hand took */
	uint64_t expirations;	     /* expired records taken out of the index */
	uint64_t hand_ioff;	     /* the eviction hand: the index it walks ... */
	uint64_t hand_bucket;	     /* ... and its next bucket there */
	uint8_t hand_prefix[16];     /* ordered_set: the key prefix the hand stopped at */
	uint64_t sweep_ioff;	     /* the expiry sweep's place, as the hand's */
	uint64_t sweep_bucket;
	uint64_t sweep_tick;	  /* writes since the sweep last stepped */
	uint64_t stalled_epoch;	  /* a reader in a section from this epoch was waited for in vain */
	uint32_t owner_died;	  /* times the lock was taken from a holder that was gone */
	uint32_t lock_taken_from; /* the thread it was last taken from */
	/* readers' counters, folded in as their slots are released (atomic), away from the writer's lines */
	_Alignas(64) uint64_t gets_folded;
	uint64_t hits_folded;

	/* a batch in progress (write/batch_intent.h): set and cleared under the lock */
	_Alignas(64) uint64_t batch_intent; /* its intent block here, 0 when none */
	uint64_t batch_id;		    /* the batch, numbered by ... */
	uint32_t batch_commit_part; /* ... its commit partition, whose batch_state says if it committed */
	uint32_t superseding; /* a bag's KeyValue update in progress: its new record (units), 0 when none */
	uint64_t batch_state; /* as a batch's commit partition: number << 2 | SC_BATCH_* */
};

/* The state of the last batch a partition numbered (low two bits of batch_state). */
#define SC_BATCH_IDLE		  0u /* finished, or given up cleanly */
#define SC_BATCH_STAGING	  1u /* not committed: a repair undoes it */
#define SC_BATCH_COMMITTED	  2u /* committed: a repair completes it */
#define SC_BATCH_STATE(id, state) ((uint64_t)(id) << 2 | (state))

/*
 * What a batch staged in one partition, in the batch's order: records
 * written but not yet in the index, or (removes) records found in it that
 * are to leave. A hash-indexed partition handles them one by one (done
 * counts them); an ordered_set's were put into a tree of the batch's own,
 * published with one exchange of its root.
 */
struct sc_batch_intent {
	uint64_t new_root; /* ordered_set: the staged tree's root block */
	uint32_t count;	   /* records */
	uint32_t done;	   /* hash index: records handled so far */
	uint32_t removes;  /* 1: the records are to be removed, not published */
	uint32_t reserved;
	uint32_t rec[]; /* units */
};

/*
 * The reader registry's own header, at the start of its region: how far
 * the slots have ever been used, kept twice on two lines, since a stray
 * write that lowered the one reclaimers scan up to would hide readers from
 * them; they scan up to the larger.
 */
struct sc_registry {
	uint32_t slots_hwm;    /* slots at or above this index have never been used */
	uint32_t sweep_cursor; /* the next slot checked for a dead owner outside a section */
	uint64_t reserved0[7];
	uint32_t slots_hwm_copy; /* slots_hwm again, on its own line */
	uint32_t reserved1;
	uint64_t reserved2[7];
};

/*
 * A reader slot: one per reader thread of any process, one cache line.
 * Entering a read section stores the global epoch, with SC_SLOT_IN_SECTION
 * set, into epoch; leaving stores 0; only the owner thread writes epoch. Reclaimers read it, and
 * release the slot once its owner is dead. owner changes only by
 * compare-and-swap, and its generation grows with every change, so a
 * release based on a stale look can never free a slot claimed since.
 */
#define SC_SLOT_IN_SECTION (1ull << 63) /* so that no epoch value, 0 included, reads as "outside" */

/* The epoch a slot's section began in, from its epoch word (0 outside a section). */
static inline uint64_t sc_slot_section_epoch(uint64_t slot_epoch)
{
	return slot_epoch & ~SC_SLOT_IN_SECTION;
}
#define SC_EPOCH_MAX (1ull << 62) /* epochs stay below: at a grace period a microsecond, 146,000 years */
struct sc_slot {
	uint64_t epoch;	     /* 0 outside read sections, else the epoch seen on entry | SC_SLOT_IN_SECTION */
	uint64_t owner;	     /* generation << 32 | pid (| SC_OWNER_RELEASING); 0 pid: free */
	uint64_t start_time; /* owner's start time (clock ticks after boot), against pid reuse */
	uint32_t tid;	     /* owner thread, for people reading stats */
	uint32_t reserved0;
	uint64_t reserved[4];
};

/* Owner word: generation in the high half; the low half is a pid, flagged while being released. */
#define SC_OWNER_RELEASING 0x80000000u

static inline uint32_t sc_owner_pid(uint64_t owner)
{
	return (uint32_t)owner & ~SC_OWNER_RELEASING;
}

static inline int sc_owner_releasing(uint64_t owner)
{
	return ((uint32_t)owner & SC_OWNER_RELEASING) != 0;
}

/* The next owner word after owner: generation + 1, low half as given. */
static inline uint64_t sc_owner_next(uint64_t owner, uint32_t low)
{
	return ((owner >> 32) + 1) << 32 | low;
}

/* Per reader slot and partition: written only by the slot's owner. */
struct sc_counter {
	uint64_t gets;
	uint64_t hits;
};

/*
 * The partition map of a distributed cache (shm/cluster_map.h): which node
 * is each partition's primary and which hold its replicas, under which
 * epoch, and until when this node's etcd lease lets it act as a primary.
 * One writer, the node's coordinator, claims it (writer_pid and its start
 * time); readers copy it under the sequence word: even when stable, odd
 * while a change is being written. Node names are NUL-terminated in their
 * slot.
 */
#define SC_MAP_NODES	 64u
#define SC_MAP_NAME_SLOT 72u /* a node name of up to 64 bytes, its NUL, padding */
#define SC_MAP_NO_NODE	 0xffffu
struct sc_map_hdr {
	uint64_t seq;		    /* even: stable; odd: a change is being written */
	uint64_t changes;	    /* changes written since the segment was made */
	uint64_t changed_ns;	    /* CLOCK_MONOTONIC at the last change */
	uint64_t lease_deadline_ns; /* acting as primary only before this CLOCK_MONOTONIC instant; 0: never */
	uint32_t writer_pid;	    /* the coordinator that claimed the map, 0 before one did */
	uint32_t self;		    /* this node in nodes[], SC_NO_NODE before the coordinator joined */
	uint64_t writer_start;	    /* its start time (clock ticks after boot), against pid reuse */
	uint32_t node_count;
	uint32_t shipping; /* 1 while the coordinator ships the replication logs: writes may be taken */
	uint64_t reserved1;
	char nodes[SC_MAP_NODES][SC_MAP_NAME_SLOT];
};

/* One partition's owners: its epoch (0 until assigned), primary and replicas as node indexes. */
struct sc_map_entry {
	uint64_t epoch;
	uint16_t primary;
	uint16_t replica_count;
	uint16_t replicas[16]; /* SC_MAX_REPLICATION_FACTOR */
	uint32_t reserved;
};

/*
 * A partition's replication log (shm/repl_log.h): what every write did to
 * the partition, in order, for the coordinator to ship to the partition's
 * replicas. A ring of SC_REPL_LOG_BYTES after this header; positions count
 * bytes ever appended (a position's place in the ring is pos % the ring's
 * size). Entries are 8-aligned and never wrap: one that would is preceded
 * by a pad to the ring's end. The writer of the partition, under its lock,
 * appends after tail, moves head forward over the oldest entries (before
 * it writes over them) when the ring is full, and publishes tail as it
 * releases the lock; a reader copies entries between its position and
 * tail, then checks that head did not pass its position meanwhile.
 */
#define SC_REPL_LOG_BYTES  (256u * 1024u)
#define SC_REPL_MAX_RECORD (SC_REPL_LOG_BYTES / 4u) /* the largest record a distributed cache takes */
#define SC_REPL_LOG_SPAN   (sizeof(struct sc_repl_log) + SC_REPL_LOG_BYTES) /* one log, header and ring */
struct sc_repl_log {
	/* line 0: the partition's writers, under its lock; readers load tail, last_* and head */
	_Alignas(64) uint64_t tail; /* end of the entries published */
	uint64_t last_lseq;	    /* the last published entry's lseq (0: none yet) */
	uint64_t last_epoch;	    /* ... and its epoch */
	uint64_t head;		    /* the oldest entry still in the ring */
	uint64_t head_lseq;	    /* lseqs above this are still in the ring */
	uint64_t staged;	    /* writer-only: end of the entries of the write in progress */
	uint64_t staged_lseq;	    /* ... and its last lseq */
	uint64_t epoch;		    /* writer-only: the epoch the write in progress writes under */
	uint32_t applying;	    /* writer-only: 1 while a replica applies its primary's entries */
	uint32_t ops_only;	    /* writer-only: 1 while a write logs operations, not its records' notes */
	/* line 1: counters, under the lock */
	_Alignas(64) uint64_t entries; /* appended since the segment was made */
	uint64_t resyncs;	       /* resync marks written: the log could not say what a write did */
	uint64_t unshipped_lost;       /* entries the ring overwrote before the coordinator shipped them */
	uint64_t restarts;	       /* times the log started over, numbered anew (ABI 11): an ack of a
					  later numbering says nothing of an entry of an earlier one */
	uint64_t reserved0[4];
	/* line 2: the coordinator's */
	_Alignas(64) uint64_t shipped_lseq; /* every entry up to it has left for the replicas */
	uint64_t acked_lseq;		    /* every entry up to it is on every in-sync replica */
	uint32_t acked_wake;		    /* futex: one more each time acked_lseq moves */
	uint32_t ack_waiters;		    /* writers asleep on acked_wake (sync and strong modes) */
	uint64_t reserved1[5];
};

/* An entry: this header, then for a put or a removal the record as it was in the heap; an operation's record. */
#define SC_REPL_PUT    1u /* the record was published (it replaced its key's record, by the table's rules) */
#define SC_REPL_REMOVE 2u /* the record with this key and version left the index */
#define SC_REPL_RESYNC 3u /* what came before cannot be followed entry by entry: copy the partition */
#define SC_REPL_PAD    4u /* not an entry: skip to the ring's end */
#define SC_REPL_CLEAR  5u /* every record of the partition left (sc_delete_all()) */
/*
 * A queue's or stack's operation, logged whole: its items are named by the
 * place of its positions block in this host's segment, so the records it
 * changes mean nothing on a replica, which runs the operation on its own
 * copy instead. A record of fields (the header's entry key, then:)
 */
#define SC_REPL_SEQ_PUSH 6u   /* (..., the value): pushed at the tail */
#define SC_REPL_SEQ_TAKE 7u   /* (..., 0 front / 1 back, n): n items taken from that end */
#define SC_REPL_TTL_LEFT 0x1u /* flags: the record's deadline word holds the nanoseconds it had left */
/* A put's why: the record took the place of every record of its key (a bag's KeyValue update). */
#define SC_REPL_SUPERSEDES 1u
struct sc_repl_entry {
	uint32_t len; /* header included, a multiple of 8 */
	uint8_t op;   /* SC_REPL_* */
	uint8_t why;  /* SC_REPL_REMOVE: why it left (deleted, expired, evicted) */
	uint16_t flags;
	uint64_t epoch; /* the partition's epoch when its primary wrote it */
	uint64_t lseq;	/* the log's sequence: one more than the entry before, whatever its epoch */
};

struct sc_seg_hdr {
	/* line 0-1: identity and configuration, written once at creation */
	char magic[8];
	uint32_t abi_version;
	uint32_t ready; /* SC_READY once initialised */
	uint64_t layout_sig;
	uint32_t num_partition;
	uint32_t key_pos;
	uint32_t partition_pos;
	uint32_t table_type;
	uint32_t max_readers;
	uint64_t memory_limit; /* size of the file and of every mapping */
	uint64_t parts_off;
	uint64_t slots_off;
	uint64_t counters_off;
	uint64_t counters_stride; /* bytes between two slots' counter rows */
	uint64_t heap_off;
	uint64_t created_realtime_ns;
	uint32_t creator_pid;

	/* line 2: read by every reader entering a read section */
	_Alignas(64) uint64_t gp_epoch; /* current grace-period epoch, starts at 1 */
	uint64_t backed;		/* bytes of the file backed by fallocate (grows only) */

	/*
	 * line 3: reclaimers only. The epoch again, raised by every grace
	 * period: writers tag retired memory with the larger of the two, so a
	 * stray write that moves the readers' copy back never makes a tag look
	 * older than a reader's section (mem/rcu.h). Until ABI 5 this line held
	 * the point below which retired memory was safe to reuse, shared by
	 * every reclaimer; each now keeps its own, out of a scribbler's reach.
	 */
	_Alignas(64) uint64_t gp_epoch_copy;

	/* lines 4..: global span allocator, under alloc_lock */
	_Alignas(64) struct sc_shm_mutex alloc_lock;
	uint32_t alloc_owner_died;
	uint64_t pagemap_off; /* the page map: map_len / SC_PAGE words */
	uint64_t taken_pages; /* pages of the heap owned by a partition */
	uint64_t search_from; /* no free page lies below this one (a hint, checked) */

	/* configuration added with ABI 4, written once at creation */
	_Alignas(64) uint32_t eviction; /* enum sc_eviction */
	uint32_t reserved1;
	uint64_t max_retired; /* bytes a partition's limbo may hold, times the partitions */
	/* added with ABI 7: whether the cache is replicated, and how (sc_options) */
	uint32_t cluster; /* enum sc_cluster */
	uint32_t replication_mode;
	uint32_t replication_factor;
	uint64_t map_off;  /* added with ABI 8: the partition map (struct sc_map_hdr) */
	uint64_t repl_off; /* added with ABI 9: the replication logs (struct sc_repl_log), distributed only */

	/* what attaches found: the file truncated by another process (sc_stats reports it) */
	_Alignas(64) uint64_t truncations; /* times an attach gave the file its size back */
	uint64_t truncated_to;		   /* the length the last one found it at */
	uint32_t truncation_seen_by;	   /* the pid of that attach */

	/*
	 * added with ABI 10: the replication logs' doorbell. A writer that
	 * published entries rings it when the coordinator sleeps, so the
	 * coordinator ships at once instead of at its next poll
	 * (mem/ship_bell.c). ship_sleeping says how it sleeps; the first
	 * ringer clears it. A ringer that knows only the futex (an ABI 10
	 * library from before the socket) wakes the futex for either value:
	 * nobody hears it, and the poll ships its entries.
	 */
	_Alignas(64) uint32_t ship_bell; /* futex: one more per ring */
	uint32_t ship_sleeping;		 /* SC_SHIP_AWAKE, SC_SHIP_ON_FUTEX or SC_SHIP_ON_SOCKET */
};

#define SC_SHIP_AWAKE	  0u /* the coordinator is not asleep: nobody rings */
#define SC_SHIP_ON_FUTEX  1u /* it sleeps in sc_repl_bell_wait(), on ship_bell */
#define SC_SHIP_ON_SOCKET 2u /* its event loop sleeps watching the bell socket (sc_repl_bell_arm()) */

#define SC_HDR_SIZE 4096u

_Static_assert(sizeof(struct sc_blk) == 32, "block header is 32 bytes");
_Static_assert(sizeof(struct sc_bucket) == 64, "a bucket is one cache line");
_Static_assert(sizeof(struct sc_index) == 64, "index header is one cache line");
_Static_assert(sizeof(struct sc_slot) == 64, "a reader slot is one cache line");
_Static_assert(offsetof(struct sc_part, index_off) == 64, "readers' line of a partition");
_Static_assert(offsetof(struct sc_part, needs_repair) + sizeof(uint32_t) <= 64,
	       "a write's fields share the lock's line");
_Static_assert(offsetof(struct sc_part, deletes) == 128 && offsetof(struct sc_part, lanes) == 192,
	       "a partition's lines");
_Static_assert(sizeof(struct sc_lane) % 64 == 0, "lanes are whole cache lines");
_Static_assert(offsetof(struct sc_seg_hdr, gp_epoch) == 128, "epoch line");
_Static_assert(sizeof(struct sc_registry) == 128, "the registry's header is two lines");
_Static_assert(offsetof(struct sc_seg_hdr, alloc_lock) == 256, "allocator lines");
_Static_assert(sizeof(struct sc_seg_hdr) <= SC_HDR_SIZE, "header fits its page");
_Static_assert(sizeof(struct sc_part) % 64 == 0, "partitions are whole cache lines");
_Static_assert(sizeof(struct sc_sequence) == 32, "a sequence is 32 bytes");
_Static_assert(sizeof(struct sc_repl_log) == 256, "a replication log's header is four lines");
_Static_assert(sizeof(struct sc_repl_entry) == 24, "an entry's header is 24 bytes");
_Static_assert((SC_REPL_LOG_BYTES & (SC_REPL_LOG_BYTES - 1)) == 0, "a ring's size is a power of two");
_Static_assert(sizeof(struct sc_shm_mutex) == 16, "a lock is 16 bytes");
_Static_assert(sizeof(struct sc_slab) == 64, "a slab header is one cache line");
_Static_assert(2u * 4096u <= SC_PG_OWNER_MASK + 1, "every partition fits a page map owner");
_Static_assert(sizeof(struct sc_bt_entry) == 24, "ordered index entries are 24 bytes");
_Static_assert(sizeof(struct sc_blk) + sizeof(struct sc_bt_node) <= 1024, "a node fits a 1 KiB block");
_Static_assert(SC_SLAB % SC_PAGE == 0, "slabs are whole pages");
_Static_assert(sizeof(struct sc_map_entry) == 48, "a map entry is 48 bytes");
_Static_assert(sizeof(struct sc_map_hdr) % 64 == 0, "the map's entries start on a cache line");

/* Signature of this build's layout: sizes and offsets of every shared struct. */
uint64_t sc_layout_signature(void);

/* Round x up to a multiple of the power of two a. */
static inline uint64_t sc_align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static inline uint32_t sc_to_units(uint64_t off)
{
	return (uint32_t)(off >> SC_UNIT_SHIFT);
}

static inline uint64_t sc_from_units(uint32_t units)
{
	return (uint64_t)units << SC_UNIT_SHIFT;
}

#endif /* SC_LAYOUT_H */
