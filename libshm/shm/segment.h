/* segment.h — creating, validating, mapping and backing a cache's shared-memory segment. */
#ifndef SC_SEGMENT_H
#define SC_SEGMENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "shm/atomics.h"
#include "shm/layout.h"

#define SC_NAME_MAX		       64u
#define SC_PREFIX_MAX		       64u
#define SC_DEFAULT_PREFIX	       "supercache"
#define SC_DEFAULT_DIR		       "/dev/shm"
#define SC_DEFAULT_MEMORY_LIMIT	       (1ull << 30)
#define SC_DEFAULT_MAX_READERS	       1024u
#define SC_MAX_PARTITIONS	       4096u
#define SC_MAX_READERS		       65536u
#define SC_DEFAULT_MAJORITY_TIMEOUT_MS 2000u
#define SC_MAX_MAJORITY_TIMEOUT_MS     3600000u

/* What a segment is configured with; the process-local copy is the one trusted. */
struct sc_config {
	uint32_t num_partition;
	uint32_t key_pos;
	uint32_t partition_pos;
	uint32_t table_type;
	uint32_t max_readers;
	uint64_t memory_limit;
	uint32_t eviction;    /* enum sc_eviction */
	uint64_t max_retired; /* over all partitions: what readers may hold back */
	uint32_t cluster;     /* enum sc_cluster */
	uint32_t replication_mode;
	uint32_t replication_factor;
};

/* Where each region of the segment starts; derived from the configuration. */
struct sc_geometry {
	uint64_t parts_off;
	uint64_t map_off;  /* the partition map: [map_off, repl_off) */
	uint64_t repl_off; /* the replication logs: [repl_off, regs_off), empty for a local cache */
	uint64_t regs_off; /* the registry region: [regs_off, pagemap_off), page-aligned */
	uint64_t slots_off;
	uint64_t counters_off;
	uint64_t counters_stride;
	uint64_t pagemap_off;
	uint64_t heap_off;
};

/* A process's mapping of one segment. */
struct sc_seg {
	uint8_t *base;
	uint64_t map_len;
	int fd;
	struct sc_config cfg;
	struct sc_geometry geo;
	uint64_t backed_seen; /* highest backed size this process has seen, for bounds checks */
	uint64_t found_cut; /* opening found the file truncated to this length (its size is back); 0 if not */
	bool read_only;	    /* set before sc_seg_open(): map all but the reader registry read-only */
	uint64_t dev, ino;  /* the file's, which every process holding one of its locks maps */
	char path[PATH_MAX];
};

/* How sc_seg_open() treats an existing or missing segment. */
enum sc_seg_mode {
	SC_SEG_OPEN_OR_CREATE, /* create with cfg if missing; else cfg must match */
	SC_SEG_ATTACH,	       /* must exist; its configuration is adopted */
};

/* Build <dir>/<prefix>.<name>.seg after checking name and prefix. */
int sc_seg_path(char *buf, size_t size, const char *dir, const char *prefix, const char *name);

/* Open (and maybe create) the segment at seg->path. On success the segment is mapped whole. */
int sc_seg_open(struct sc_seg *seg, const struct sc_config *cfg, enum sc_seg_mode mode);

/*
 * The header's identity, configuration and region table are written once,
 * and every process keeps its own copy from attach: sc_seg_header_damage()
 * names the first field the header no longer agrees on (NULL if none, the
 * ready word included), sc_seg_header_write() writes them all again.
 */
const char *sc_seg_header_damage(const struct sc_seg *seg);
void sc_seg_header_write(struct sc_seg *seg);

/*
 * Give a segment file another process truncated its size back: what was
 * cut off reads as zeros from then on (the repair that follows finds what
 * it held gone), and nothing faults there any more. The header and the
 * metadata are backed again. 0, or a negative errno with a message.
 */
int sc_seg_restore_size(struct sc_seg *seg);

/* Unmap and close. */
void sc_seg_close(struct sc_seg *seg);

/*
 * Back [start, end) with shared memory, so that a full /dev/shm is a clean
 * -ENOSPC now, never a SIGBUS later. Every span is backed when it is taken,
 * whatever the header's backed mark says (a stray write can raise it); the
 * mark only grows, for bounds checks. Caller holds the allocator lock.
 */
int sc_seg_back(struct sc_seg *seg, uint64_t start, uint64_t end);

/* Reload the backed size after a bounds check failed against the cached one. */
bool sc_seg_span_ok_slow(struct sc_seg *seg, uint64_t off, uint64_t len);

/*
 * Whether [off, off+len) lies inside the backed heap. Every offset read
 * from shared memory passes through here before it is dereferenced: a
 * corrupt segment yields -EUCLEAN, never a fault.
 */
static inline bool sc_seg_span_ok(struct sc_seg *seg, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	if (sc_unlikely(off < seg->geo.heap_off || end < off))
		return false;
	if (sc_likely(end <= sc_read(&seg->backed_seen)))
		return true;
	return sc_seg_span_ok_slow(seg, off, len);
}

static inline struct sc_seg_hdr *sc_seg_hdr(const struct sc_seg *seg)
{
	return (struct sc_seg_hdr *)seg->base;
}

static inline void *sc_seg_at(const struct sc_seg *seg, uint64_t off)
{
	return seg->base + off;
}

#endif /* SC_SEGMENT_H */
