/* segment.c — creating, validating, mapping and backing a cache's shared-memory segment. */
#include "shm/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm/clock.h"
#include "shm/error.h"
#include "shm/shm_mutex.h"
#include "supercache.h"

#define SEGMENT_MODE 0660

static int check_component(const char *what, const char *s, size_t max)
{
	size_t n = 0;

	sc_check_arg(s, -EINVAL, "%s is NULL", what);
	for (; s[n]; n++) {
		char ch = s[n];
		if (n >= max)
			return sc_fail(-ENAMETOOLONG, "%s is longer than %zu bytes", what, max);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return sc_fail(-EINVAL, "%s \"%s\" may hold only letters, digits, '_' and '-'", what,
				       s);
	}
	if (n == 0)
		return sc_fail(-EINVAL, "%s is empty", what);
	return 0;
}

int sc_seg_path(char *buf, size_t size, const char *dir, const char *prefix, const char *name)
{
	int err, n;

	err = check_component("cache name", name, SC_NAME_MAX);
	if (err)
		return err;
	err = check_component("prefix", prefix, SC_PREFIX_MAX);
	if (err)
		return err;
	if (!dir || dir[0] != '/')
		return sc_fail(-EINVAL, "segment directory must be an absolute path");
	n = snprintf(buf, size, "%s/%s.%s.seg", dir, prefix, name);
	if (n < 0 || (size_t)n >= size)
		return sc_fail(-ENAMETOOLONG, "segment path under %s is too long", dir);
	return 0;
}

/* FNV-1a over the sizes and offsets that another build must agree on. */
uint64_t sc_layout_signature(void)
{
	static const uint64_t items[] = {
		sizeof(struct sc_seg_hdr),
		offsetof(struct sc_seg_hdr, gp_epoch),
		offsetof(struct sc_seg_hdr, gp_epoch_copy),
		sizeof(struct sc_registry),
		SC_SLOT_IN_SECTION >> 32,
		offsetof(struct sc_seg_hdr, alloc_lock),
		offsetof(struct sc_seg_hdr, search_from),
		offsetof(struct sc_seg_hdr, max_retired),
		offsetof(struct sc_seg_hdr, replication_factor),
		offsetof(struct sc_seg_hdr, map_off),
		offsetof(struct sc_seg_hdr, repl_off),
		offsetof(struct sc_seg_hdr, truncations),
		offsetof(struct sc_seg_hdr, ship_bell),
		sizeof(struct sc_repl_log),
		sizeof(struct sc_repl_entry),
		SC_REPL_LOG_BYTES,
		sizeof(struct sc_map_hdr),
		sizeof(struct sc_map_entry),
		sizeof(struct sc_part),
		offsetof(struct sc_part, index_off),
		offsetof(struct sc_part, seq),
		offsetof(struct sc_part, lanes),
		sizeof(struct sc_lane),
		offsetof(struct sc_part, hand_prefix),
		offsetof(struct sc_part, batch_intent),
		sizeof(struct sc_batch_intent),
		sizeof(struct sc_slot),
		sizeof(struct sc_counter),
		sizeof(struct sc_blk),
		offsetof(struct sc_blk, version),
		sizeof(struct sc_index),
		sizeof(struct sc_bucket),
		sizeof(struct sc_slab),
		SC_PG_HEAD,
		SC_PG_BODY,
		sizeof(struct sc_bt_node),
		sizeof(struct sc_sequence),
		SC_BT_FANOUT,
		sizeof(struct sc_shm_mutex),
		sizeof(void *),
		SC_UNIT,
		SC_PAGE,
		SC_SLAB,
		SC_NCLASSES,
		SC_BUCKET_SLOTS,
		SC_FIELD_HDR,
		__BYTE_ORDER__,
	};
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		h ^= items[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int geometry(const struct sc_config *cfg, struct sc_geometry *g)
{
	g->parts_off = SC_HDR_SIZE;
	g->map_off =
		sc_align_up(g->parts_off + 2ull * cfg->num_partition * sizeof(struct sc_part), SC_OS_PAGE);
	g->repl_off = sc_align_up(g->map_off + sizeof(struct sc_map_hdr) +
					  (uint64_t)cfg->num_partition * sizeof(struct sc_map_entry),
				  SC_OS_PAGE);
	/* The registry on pages of its own: a read-only handle maps just these writable. */
	g->regs_off = sc_align_up(g->repl_off + (cfg->cluster == SC_CLUSTER_DISTRIBUTED
							 ? 2ull * cfg->num_partition * SC_REPL_LOG_SPAN
							 : 0),
				  SC_OS_PAGE);
	g->slots_off = g->regs_off + sizeof(struct sc_registry);
	g->counters_stride = sc_align_up((uint64_t)cfg->num_partition * sizeof(struct sc_counter), 64);
	g->counters_off = g->slots_off + (uint64_t)cfg->max_readers * sizeof(struct sc_slot);
	g->pagemap_off =
		sc_align_up(g->counters_off + (uint64_t)cfg->max_readers * g->counters_stride, SC_OS_PAGE);
	g->heap_off = sc_align_up(g->pagemap_off + (cfg->memory_limit >> SC_PAGE_SHIFT) * sizeof(uint32_t),
				  SC_PAGE);
	if (g->heap_off + SC_MIN_HEAP > cfg->memory_limit)
		return sc_fail(-EINVAL,
			       "memory_limit of %llu bytes is too small: %u partitions and %u readers "
			       "take %llu bytes of metadata, and the heap needs %llu more",
			       (unsigned long long)cfg->memory_limit, cfg->num_partition, cfg->max_readers,
			       (unsigned long long)g->heap_off, (unsigned long long)SC_MIN_HEAP);
	return 0;
}

static bool in_our_groups(gid_t gid)
{
	gid_t groups[256];
	int n;

	if (gid == getegid())
		return true;
	n = getgroups(sizeof(groups) / sizeof(groups[0]), groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * /dev/shm is world-writable: refuse a file someone else planted under our
 * name, or one whose permissions let anyone outside the group in.
 */
static int check_file(const struct sc_seg *seg, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return sc_fail(-EPERM, "%s is not a regular file", seg->path);
	if (st->st_nlink != 1)
		return sc_fail(-EPERM, "%s has %lu hard links; a segment has one", seg->path,
			       (unsigned long)st->st_nlink);
	if ((st->st_mode & 07777) != SEGMENT_MODE)
		return sc_fail(-EPERM, "%s has mode %04o; a segment must have mode %04o", seg->path,
			       (unsigned)(st->st_mode & 07777), SEGMENT_MODE);
	if (st->st_uid != geteuid() && st->st_uid != 0 && !in_our_groups(st->st_gid))
		return sc_fail(-EPERM,
			       "%s belongs to uid %u, group %u: neither us, root, nor a group of ours",
			       seg->path, (unsigned)st->st_uid, (unsigned)st->st_gid);
	return 0;
}

/*
 * Map the whole segment. A read-only handle maps it without write access
 * but for the reader registry, where its threads' slots and counters are:
 * what it writes by mistake through a pointer into the cache faults in its
 * own process.
 */
static int map_segment(struct sc_seg *seg)
{
	void *p = mmap(NULL, seg->map_len, seg->read_only ? PROT_READ : PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, seg->fd, 0);

	if (p == MAP_FAILED)
		return sc_fail(-errno, "cannot map %s (%llu bytes): %s", seg->path,
			       (unsigned long long)seg->map_len, sc_strerror(errno));
	seg->base = p;
	if (seg->read_only && mprotect(seg->base + seg->geo.regs_off,
				       seg->geo.pagemap_off - seg->geo.regs_off, PROT_READ | PROT_WRITE))
		return sc_fail(-errno, "cannot map the reader registry of %s writable: %s", seg->path,
			       sc_strerror(errno));
	return 0;
}

static int back_range(struct sc_seg *seg, uint64_t from, uint64_t to)
{
	int err;

	if (to <= from)
		return 0;
	do
		err = fallocate(seg->fd, 0, (off_t)from, (off_t)(to - from)) ? errno : 0;
	while (err == EINTR);
	if (err == ENOSPC)
		return sc_fail(-ENOSPC, "no room in %s for %llu more bytes of the segment", seg->path,
			       (unsigned long long)(to - from));
	if (err)
		return sc_fail(-err, "cannot back %s with memory: %s", seg->path, sc_strerror(err));
	return 0;
}

int sc_seg_back(struct sc_seg *seg, uint64_t start, uint64_t end)
{
	int err;

	if (end > seg->map_len || start > end)
		return sc_fail(-ENOSPC, "memory_limit of %llu bytes reached",
			       (unsigned long long)seg->map_len);
	err = back_range(seg, start, end);
	if (err)
		return err;
	sc_store_max(&sc_seg_hdr(seg)->backed, end);
	return 0;
}

int sc_seg_restore_size(struct sc_seg *seg)
{
	struct stat st;

	if (fstat(seg->fd, &st))
		return sc_fail(-errno, "cannot stat %s: %s", seg->path, sc_strerror(errno));
	if ((uint64_t)st.st_size >= seg->map_len)
		return 0;
	if (ftruncate(seg->fd, (off_t)seg->map_len))
		return sc_fail(-errno, "cannot give %s its size back: %s", seg->path, sc_strerror(errno));
	return back_range(seg, 0, seg->geo.heap_off);
}

bool sc_seg_span_ok_slow(struct sc_seg *seg, uint64_t off, uint64_t len)
{
	uint64_t backed = sc_read(&sc_seg_hdr(seg)->backed);

	if (backed > seg->map_len)
		backed = seg->map_len;
	if (backed > sc_read(&seg->backed_seen))
		sc_write(&seg->backed_seen, backed);
	return off >= seg->geo.heap_off && off + len >= off && off + len <= backed;
}

/* The configuration's enums, named for messages: each value is its name's index in the table. */
static const char *const cluster_names[] = {
	[SC_CLUSTER_LOCAL] = "local", [SC_CLUSTER_DISTRIBUTED] = "distributed"
};
static const char *const replication_mode_names[] = {
	[SC_REPLICATION_ASYNC] = "async", [SC_REPLICATION_SYNC] = "sync", [SC_REPLICATION_STRONG] = "strong"
};
static const char *const table_type_names[] = { [SC_SET] = "set",
						[SC_ORDERED_SET] = "ordered_set",
						[SC_BAG] = "bag",
						[SC_DUPLICATE_BAG] = "duplicate_bag" };

static const char *name_in(const char *const *names, size_t n, uint32_t v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

#define NAME_OF(names, v) name_in(names, sizeof(names) / sizeof(names[0]), v)

/* An empty partition map (shm/cluster_map.c): no node, nothing assigned, no lease. */
static void init_map(struct sc_seg *seg)
{
	struct sc_map_hdr *h = sc_seg_at(seg, seg->geo.map_off);
	struct sc_map_entry *e = (struct sc_map_entry *)(h + 1);

	h->self = SC_MAP_NO_NODE;
	for (uint32_t p = 0; p < seg->cfg.num_partition; p++)
		e[p].primary = SC_MAP_NO_NODE;
}

/* Lay out a new segment in a new, empty, still unnamed file. */
static int init_segment(struct sc_seg *seg, const struct sc_config *cfg)
{
	struct sc_seg_hdr *h;
	int err;

	err = geometry(cfg, &seg->geo);
	if (err)
		return err;
	seg->cfg = *cfg;
	seg->map_len = cfg->memory_limit;
	if (ftruncate(seg->fd, (off_t)seg->map_len))
		return sc_fail(-errno, "cannot size %s: %s", seg->path, sc_strerror(errno));
	err = back_range(seg, 0, seg->geo.heap_off);
	if (err)
		return err;
	err = map_segment(seg);
	if (err)
		return err;

	h = sc_seg_hdr(seg);
	sc_seg_header_write(seg);
	h->created_realtime_ns = sc_clock_realtime_ns();
	h->creator_pid = (uint32_t)getpid();
	h->gp_epoch = 1;
	h->gp_epoch_copy = 1;
	h->backed = seg->geo.heap_off;
	h->search_from = seg->geo.heap_off >> SC_PAGE_SHIFT;
	sc_shm_mutex_init(&h->alloc_lock);
	for (uint32_t i = 0; i < 2 * cfg->num_partition; i++)
		sc_shm_mutex_init(&((struct sc_part *)(seg->base + seg->geo.parts_off) + i)->lock);
	init_map(seg);
	seg->backed_seen = seg->geo.heap_off;
	sc_publish(&h->ready, SC_READY);
	return 0;
}

/* The header's identity, configuration and region table, as this mapping knows them. */
static struct sc_seg_hdr identity_of(const struct sc_seg *seg)
{
	struct sc_seg_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SC_MAGIC, sizeof(h.magic));
	h.abi_version = SC_ABI_VERSION;
	h.layout_sig = sc_layout_signature();
	h.num_partition = seg->cfg.num_partition;
	h.key_pos = seg->cfg.key_pos;
	h.partition_pos = seg->cfg.partition_pos;
	h.table_type = seg->cfg.table_type;
	h.max_readers = seg->cfg.max_readers;
	h.memory_limit = seg->cfg.memory_limit;
	h.eviction = seg->cfg.eviction;
	h.max_retired = seg->cfg.max_retired;
	h.cluster = seg->cfg.cluster;
	h.replication_mode = seg->cfg.replication_mode;
	h.replication_factor = seg->cfg.replication_factor;
	h.parts_off = seg->geo.parts_off;
	h.slots_off = seg->geo.slots_off;
	h.counters_off = seg->geo.counters_off;
	h.counters_stride = seg->geo.counters_stride;
	h.heap_off = seg->geo.heap_off;
	h.pagemap_off = seg->geo.pagemap_off;
	h.map_off = seg->geo.map_off;
	h.repl_off = seg->geo.repl_off;
	return h;
}

/* The fields identity_of() fills: where each is, how long, and its name for messages. */
static const struct {
	size_t off, len;
	const char *name;
} identity_fields[] = {
#define FIELD(f)                                                                        \
	{                                                                               \
		offsetof(struct sc_seg_hdr, f), sizeof(((struct sc_seg_hdr *)0)->f), #f \
	}
	FIELD(magic),	     FIELD(abi_version),   FIELD(layout_sig),	    FIELD(num_partition),
	FIELD(key_pos),	     FIELD(partition_pos), FIELD(table_type),	    FIELD(max_readers),
	FIELD(memory_limit), FIELD(eviction),	   FIELD(max_retired),	    FIELD(parts_off),
	FIELD(slots_off),    FIELD(counters_off),  FIELD(counters_stride),  FIELD(heap_off),
	FIELD(pagemap_off),  FIELD(cluster),	   FIELD(replication_mode), FIELD(replication_factor),
	FIELD(map_off),	     FIELD(repl_off),
#undef FIELD
};

void sc_seg_header_write(struct sc_seg *seg)
{
	struct sc_seg_hdr want = identity_of(seg);
	uint8_t *h = (uint8_t *)sc_seg_hdr(seg);

	for (size_t i = 0; i < sizeof(identity_fields) / sizeof(identity_fields[0]); i++)
		memcpy(h + identity_fields[i].off, (const uint8_t *)&want + identity_fields[i].off,
		       identity_fields[i].len);
}

const char *sc_seg_header_damage(const struct sc_seg *seg)
{
	struct sc_seg_hdr want = identity_of(seg);
	const uint8_t *h = (const uint8_t *)sc_seg_hdr(seg);

	for (size_t i = 0; i < sizeof(identity_fields) / sizeof(identity_fields[0]); i++)
		if (memcmp(h + identity_fields[i].off, (const uint8_t *)&want + identity_fields[i].off,
			   identity_fields[i].len))
			return identity_fields[i].name;
	if (sc_read(&sc_seg_hdr(seg)->ready) != SC_READY)
		return "ready";
	return NULL;
}

static int compare_config(const struct sc_seg *seg, const struct sc_config *want)
{
	const struct sc_config *have = &seg->cfg;

	if (want->num_partition != have->num_partition)
		return sc_fail(-EINVAL, "Partition count mismatch: %s has num_partition %u, asked for %u",
			       seg->path, have->num_partition, want->num_partition);
	if (want->key_pos != have->key_pos)
		return sc_fail(-EINVAL, "key_pos mismatch: %s has key_pos %u, asked for %u", seg->path,
			       have->key_pos, want->key_pos);
	if (want->partition_pos != have->partition_pos)
		return sc_fail(-EINVAL, "partition_pos mismatch: %s has partition_pos %u, asked for %u",
			       seg->path, have->partition_pos, want->partition_pos);
	if (want->table_type != have->table_type)
		return sc_fail(-EINVAL, "table_type mismatch: %s is a %s table, asked for %s", seg->path,
			       NAME_OF(table_type_names, have->table_type),
			       NAME_OF(table_type_names, want->table_type));
	if (want->eviction != have->eviction)
		return sc_fail(-EINVAL, "eviction mismatch: %s has eviction %u, asked for %u", seg->path,
			       have->eviction, want->eviction);
	if (want->cluster != have->cluster)
		return sc_fail(-EINVAL, "cluster mismatch: %s is %s, asked for %s", seg->path,
			       NAME_OF(cluster_names, have->cluster), NAME_OF(cluster_names, want->cluster));
	if (want->replication_mode != have->replication_mode)
		return sc_fail(-EINVAL, "replication_mode mismatch: %s has %s, asked for %s", seg->path,
			       NAME_OF(replication_mode_names, have->replication_mode),
			       NAME_OF(replication_mode_names, want->replication_mode));
	if (want->replication_factor != have->replication_factor)
		return sc_fail(-EINVAL, "replication_factor mismatch: %s has %u, asked for %u", seg->path,
			       have->replication_factor, want->replication_factor);
	return 0;
}

/*
 * Read the header of an initialised segment through the file (not yet
 * mapped: its size comes from the header) and check everything a mapping
 * will rely on.
 */
static int read_header(struct sc_seg *seg, const struct stat *st)
{
	struct sc_seg_hdr h;
	struct sc_config cfg;
	struct sc_geometry geo;
	ssize_t n;
	int err;

	n = pread(seg->fd, &h, sizeof(h), 0);
	if (n < 0)
		return sc_fail(-errno, "cannot read %s: %s", seg->path, sc_strerror(errno));
	if ((size_t)n < sizeof(h))
		return sc_fail(-EPROTO,
			       "%s is %lld bytes, shorter than a segment's header: not a segment, or "
			       "one truncated past repair (sc_destroy() removes it)",
			       seg->path, (long long)st->st_size);
	if (memcmp(h.magic, SC_MAGIC, sizeof(h.magic)) != 0)
		return sc_fail(-EPROTO, "%s is not a supercache segment", seg->path);
	if (h.abi_version != SC_ABI_VERSION)
		return sc_fail(-EPROTO, "%s has ABI version %u; this library speaks %u", seg->path,
			       h.abi_version, SC_ABI_VERSION);
	if (h.layout_sig != sc_layout_signature())
		return sc_fail(-EPROTO, "%s was made by a build with another memory layout", seg->path);
	/* Segments get their name only once complete, so an incomplete one was not made by us. */
	if (h.ready != SC_READY)
		return sc_fail(-EUCLEAN, "%s is not a complete segment", seg->path);

	cfg = (struct sc_config){ h.num_partition, h.key_pos,	       h.partition_pos,	    h.table_type,
				  h.max_readers,   h.memory_limit,     h.eviction,	    h.max_retired,
				  h.cluster,	   h.replication_mode, h.replication_factor };
	if (cfg.num_partition == 0 || cfg.num_partition > SC_MAX_PARTITIONS || cfg.max_readers == 0 ||
	    cfg.max_readers > SC_MAX_READERS || cfg.memory_limit > SC_MAX_SEGMENT ||
	    cfg.memory_limit % SC_PAGE != 0 || cfg.table_type < SC_SET || cfg.table_type > SC_DUPLICATE_BAG ||
	    cfg.eviction > SC_EVICTION_CLOCK || cfg.cluster > SC_CLUSTER_DISTRIBUTED ||
	    cfg.replication_mode < SC_REPLICATION_ASYNC || cfg.replication_mode > SC_REPLICATION_STRONG ||
	    cfg.replication_factor == 0 || cfg.replication_factor > SC_MAX_REPLICATION_FACTOR)
		return sc_fail(-EUCLEAN, "%s has a corrupt configuration", seg->path);
	err = geometry(&cfg, &geo);
	if (err)
		return sc_fail(-EUCLEAN, "%s has a corrupt configuration", seg->path);
	if (h.parts_off != geo.parts_off || h.slots_off != geo.slots_off ||
	    h.counters_off != geo.counters_off || h.counters_stride != geo.counters_stride ||
	    h.pagemap_off != geo.pagemap_off || h.heap_off != geo.heap_off || h.map_off != geo.map_off ||
	    h.repl_off != geo.repl_off)
		return sc_fail(-EUCLEAN, "%s has a corrupt region table", seg->path);
	seg->cfg = cfg;
	seg->geo = geo;
	seg->map_len = cfg.memory_limit;
	seg->backed_seen = geo.heap_off;
	/* Truncated by another process: the caller gives it its size back and repairs (sc_repair()). */
	seg->found_cut = (uint64_t)st->st_size < cfg.memory_limit ? (uint64_t)st->st_size : 0;
	return 0;
}

static void unmap(struct sc_seg *seg)
{
	if (seg->base)
		munmap(seg->base, seg->map_len);
	seg->base = NULL;
}

void sc_seg_close(struct sc_seg *seg)
{
	unmap(seg);
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
}

/*
 * A new segment is built in an unnamed file (O_TMPFILE) in the segment's
 * directory, header and all, and only then given its name with linkat(),
 * which fails if the name exists. Nobody can find half a segment under the
 * name, and of two processes creating one cache at once, the one that links
 * second finds the first's segment and attaches to it. A creator that dies
 * half-way leaves nothing behind: the file had no name yet.
 * -EEXIST: someone else's segment got the name first.
 */
static int create_segment(struct sc_seg *seg, const struct sc_config *cfg)
{
	char dir[PATH_MAX], proc_path[64];
	char *slash;
	int err;

	snprintf(dir, sizeof(dir), "%s", seg->path);
	slash = strrchr(dir, '/');
	*(slash == dir ? slash + 1 : slash) = '\0';
	seg->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, SEGMENT_MODE);
	if (seg->fd < 0)
		return sc_fail(-errno, "cannot create a file in %s: %s%s", dir, sc_strerror(errno),
			       errno == EOPNOTSUPP ? " (its file system has no O_TMPFILE)" : "");
	/* The umask has no say: every process of the group must be able to attach. */
	if (fchmod(seg->fd, SEGMENT_MODE))
		return sc_fail(-errno, "cannot set the mode of a new segment in %s: %s", dir,
			       sc_strerror(errno));
	err = init_segment(seg, cfg);
	if (err)
		return err;
	/* Linking an O_TMPFILE through /proc needs no privilege, unlike AT_EMPTY_PATH. */
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", seg->fd);
	if (linkat(AT_FDCWD, proc_path, AT_FDCWD, seg->path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	return sc_fail(-errno, "cannot name the new segment %s: %s", seg->path, sc_strerror(errno));
}

/* Someone else's segment: check the file, then its header, then map it. */
static int open_existing(struct sc_seg *seg, const struct sc_config *cfg, enum sc_seg_mode mode)
{
	struct stat st;
	int err;

	if (fstat(seg->fd, &st))
		return sc_fail(-errno, "cannot stat %s: %s", seg->path, sc_strerror(errno));
	err = check_file(seg, &st);
	if (!err)
		err = read_header(seg, &st);
	if (!err && mode == SC_SEG_OPEN_OR_CREATE)
		err = compare_config(seg, cfg);
	if (!err && seg->found_cut && seg->read_only)
		err = sc_fail(-EROFS,
			      "%s was truncated to %llu bytes by another process: attach it read-write once, "
			      "which gives it its size back and repairs it",
			      seg->path, (unsigned long long)seg->found_cut);
	if (!err && seg->found_cut)
		err = sc_seg_restore_size(seg);
	if (!err)
		err = map_segment(seg);
	if (!err && seg->found_cut) {
		struct sc_seg_hdr *h = sc_seg_hdr(seg);

		sc_add(&h->truncations, 1);
		sc_write(&h->truncated_to, seg->found_cut);
		sc_write(&h->truncation_seen_by, (uint32_t)getpid());
	}
	return err;
}

int sc_seg_open(struct sc_seg *seg, const struct sc_config *cfg, enum sc_seg_mode mode)
{
	int err;

	seg->base = NULL;
	seg->fd = -1;
	if (mode == SC_SEG_OPEN_OR_CREATE) {
		err = geometry(cfg, &seg->geo);
		if (err)
			return err;
	}
	/* Bounded: each turn loses a race with a concurrent creator and destroyer. */
	for (int attempt = 0; attempt < 64; attempt++) {
		seg->fd = open(seg->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (seg->fd >= 0) {
			err = open_existing(seg, cfg, mode);
			goto out;
		}
		if (errno != ENOENT || mode != SC_SEG_OPEN_OR_CREATE)
			return sc_fail(-errno, "cannot open %s: %s", seg->path, sc_strerror(errno));
		err = create_segment(seg, cfg);
		if (err != -EEXIST)
			goto out;
		sc_seg_close(seg);
	}
	return sc_fail(-EAGAIN, "%s keeps appearing and disappearing", seg->path);
out:
	if (!err) {
		struct stat st;

		if (fstat(seg->fd, &st) == 0) {
			seg->dev = st.st_dev;
			seg->ino = st.st_ino;
		}
	}
	if (err)
		sc_seg_close(seg);
	return err;
}
