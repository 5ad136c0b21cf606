/* internals.h — test-only access to a segment's internals, to corrupt and inspect it on purpose. */
#ifndef SCTEST_INTERNALS_H
#define SCTEST_INTERNALS_H

#include <stddef.h>
#include <stdint.h>

#include <supercache.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fields of the segment header a test may overwrite in the file. */
enum sctest_hdr_field {
	SCTEST_HDR_MAGIC,
	SCTEST_HDR_ABI,
	SCTEST_HDR_LAYOUT_SIG,
	SCTEST_HDR_READY,
	SCTEST_HDR_NUM_PARTITION,
};

/* Overwrite a header field of the segment file at path with garbage. 0 or -errno. */
int sctest_tamper_header(const char *path, enum sctest_hdr_field field);

/* The segment file's path of an open cache. */
const char *sctest_path(sc_cache *c);

/* A partition's index offset: read, and overwrite. */
uint64_t sctest_index_off(sc_cache *c, uint32_t part);
void sctest_set_index_off(sc_cache *c, uint32_t part, uint64_t off);

/* Point the first live index entry of a partition somewhere else; its old value. */
uint32_t sctest_redirect_first_entry(sc_cache *c, uint32_t part, uint32_t units);

/* Overwrite the length field of the record the first live entry of a partition names. */
void sctest_set_first_record_len(sc_cache *c, uint32_t part, uint32_t len);

/* Places in a segment a test scribbles on, as a client with a stray pointer would. */
enum sctest_place {
	SCTEST_PART_LOCK,      /* a partition's lock word */
	SCTEST_ALLOC_LOCK,     /* the allocator's lock word */
	SCTEST_GP_EPOCH,       /* the grace-period epoch */
	SCTEST_RECLAIM_LINE,   /* the header's reclaimers' line (the first version kept gp_safe there) */
	SCTEST_LIMBO_HEAD_TAG, /* the retire tag of a partition's oldest retired block (0 if none) */
	SCTEST_FIRST_RECORD,   /* the record of a hash-indexed partition's first index entry (0 if none) */
	SCTEST_SLAB_PAGE_WORD, /* the page map's word for a partition's newest slab (0 if none) */
	SCTEST_SLAB_PAGES,     /* the length in pages a partition's newest slab's header gives (0 if none) */
	SCTEST_PAGE_MAP,       /* the page map's first word */
};

/* Where a place is in the segment (byte offset); part says which partition where it matters. */
uint64_t sctest_offset(sc_cache *c, enum sctest_place place, uint32_t part);

/* Write len bytes at off through the segment's file (pwrite), as another process could. 0 or -errno. */
int sctest_scribble(sc_cache *c, uint64_t off, const void *bytes, size_t len);

/* The segment's heap start and size, for aiming corruption in and out of bounds. */
uint64_t sctest_heap_off(sc_cache *c);
uint64_t sctest_map_len(sc_cache *c);

/* Bytes of the segment backed with shared memory (the rest has never been used). */
uint64_t sctest_backed(sc_cache *c);

/* The partition a tuple goes to. */
uint32_t sctest_partition_of(sc_cache *c, const sc_tuple *t);
/* The partition KeyValue kv's key lives in (a structure partition: num_partition and up). */
uint32_t sctest_kv_partition_of(sc_cache *c, const char *kv, sc_field key);
/* The partition the structure entry of kind (record/entry_key.h), owner and own part own[0, len) lives in. */
uint32_t sctest_entry_partition_of(sc_cache *c, uint8_t kind, const char *owner, const void *own, size_t len);
/* Whether the coordinator's side sleeps on the replication logs' bell (sc_repl_bell_wait()). */
int sctest_ship_sleeping(sc_cache *c);

/*
 * Take a free reader slot as if process pid (started at start_time) were
 * reading inside a section entered in the current epoch. Returns the slot.
 */
uint32_t sctest_plant_reader(sc_cache *c, uint32_t pid, uint64_t start_time);

/* Whether a slot is still owned (by anyone). */
int sctest_slot_owned(sc_cache *c, uint32_t slot);

/* A partition's limbo list ends (in 16-byte units), of its first lane with one: read, and overwrite. */
void sctest_limbo_ends(sc_cache *c, uint32_t part, uint32_t *head, uint32_t *tail);
void sctest_set_limbo_ends(sc_cache *c, uint32_t part, uint32_t head, uint32_t tail);

/* Blocks on the free lists, and on the limbo list, of partition part's writer lane for cpu. */
uint64_t sctest_lane_free_blocks(sc_cache *c, uint32_t part, uint32_t cpu);
uint64_t sctest_lane_retired_blocks(sc_cache *c, uint32_t part, uint32_t cpu);

/* Overwrite every free page's word in the page map; how many there were. */
uint64_t sctest_scribble_free_pages(sc_cache *c, uint32_t word);

/* Leave the partition map as a coordinator that died in the middle of a change leaves it (its word odd). */
void sctest_tear_cluster_map(sc_cache *c);

/* Write raw node indexes into partition part's map entry, as a damaged segment would hold them. */
void sctest_scribble_map_entry(sc_cache *c, uint32_t part, uint16_t primary, uint16_t replica_count);

/* Move the grace-period epoch on by delta. */
void sctest_add_epoch(sc_cache *c, uint64_t delta);

/* Damage the record of partition part whose key field is the int key (its length runs off the heap). */
int sctest_damage_record_of(sc_cache *c, uint32_t part, int64_t key);

/*
 * Overwrite the key offset a registered struct type's entry holds, keeping its checksum right. 0, or
 * -ENOENT if there is no such type.
 */
int sctest_scribble_struct_key_offset(sc_cache *c, const char *type, uint64_t key_offset);

/* Allocate a block in a partition and publish it nowhere, as a writer dying at the wrong moment would. */
int sctest_leak_block(sc_cache *c, uint32_t part, uint32_t len);

/* Move a partition's record counter. */
void sctest_add_to_record_count(sc_cache *c, uint32_t part, int64_t delta);

/* Flip a byte of the last field of the record the first live entry of a partition names. */
void sctest_flip_record_byte(sc_cache *c, uint32_t part);

/* The thread id holding a partition's write lock, 0 if none (glibc's mutex owner field). */
int sctest_lock_holder(sc_cache *c, uint32_t part);

/* Take a partition's write lock as a writer would, and let it go (the holder must be this thread). */
int sctest_take_lock(sc_cache *c, uint32_t part);
void sctest_release_lock(sc_cache *c, uint32_t part);

/* Whether the library was built with its test hooks (-Dtest_hooks=true): crash points, poisoning. */
int sctest_hooks_built(void);

/* Kill this process with SIGKILL at its k-th crash point from now (0: never). Hooked builds only. */
void sctest_crash_at(uint64_t k);

/* Times this process's batches built an ordered_set's staged tree again after making room (hooked builds). */
uint64_t sctest_batch_tree_rebuilds(void);

/* A record checksum of len bytes as this CPU computes it (hw) and as the portable table does (!hw). */
uint32_t sctest_checksum(const void *data, size_t len, uint64_t seed, int hw);

/* Records' bytes and header size, to reason about memory in tests. */
uint32_t sctest_record_header_size(void);

/*
 * What partition part holds, as a number that two copies agree on exactly
 * when they hold the same records (versions included), in any order; the
 * record count in *count. A queue or stack counts as its items' values in
 * order (its records name this host's blocks). Reads in a read section: no
 * lock.
 */
uint64_t sctest_partition_digest(sc_cache *c, uint32_t part, uint64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SCTEST_INTERNALS_H */
