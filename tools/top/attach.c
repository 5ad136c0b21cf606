/* attach.c — loading the telemetry programs, attaching them to the library and supercached, pinning and unpinning. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <supercache.h>

#include "supercache.skel.h"
#include "top.h"
#include "trace_id.h"

const char *const top_map_names[TOP_MAP_COUNT] = {
	[TOP_MAP_OP_LATENCY] = "op_latency",	   [TOP_MAP_PARTITION_OPS] = "partition_ops",
	[TOP_MAP_LOCK_WAIT] = "lock_wait",	   [TOP_MAP_LOCK_HOLD] = "lock_hold",
	[TOP_MAP_GRACE_PERIODS] = "grace_periods", [TOP_MAP_REMOVALS] = "removals",
	[TOP_MAP_COORDINATOR] = "coordinator",	   [TOP_MAP_SWEEPS] = "sweeps",
};

/* Which binary each program's probe is in: the library's, or supercached's. */
static const struct {
	const char *probe;
	bool in_daemon;
} probes[] = {
	{ "op_start", false },	       { "op_end", false },	   { "lock_contended", false },
	{ "lock_acquired", false },    { "lock_released", false }, { "grace_period_start", false },
	{ "grace_period_end", false }, { "reclaim", false },	   { "evict", false },
	{ "expire", false },	       { "sweep_start", true },	   { "sweep_end", true },
	{ "health_check", true },      { "health_alert", true },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

struct top_session {
	struct supercache_bpf *skel;
	struct bpf_link *links[NPROBES];
};

/* What top_pin() left attached, held until the process exits. */
static struct top_session *volatile pinned_session; /* volatile: stored, never read */

static int failed(int err, const char *fmt, const char *arg)
{
	fprintf(stderr, "supercache-top: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": %s\n", strerror(-err));
	return err;
}

/* The libsupercache this program runs with: the same file every other user of the installed library maps. */
static int own_library(char *path, size_t len)
{
	Dl_info info;

	if (!dladdr((void *)sc_strerror, &info) || !info.dli_fname)
		return -ENOENT;
	if (!realpath(info.dli_fname, path) || strlen(path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void maps_of(struct supercache_bpf *skel, struct top_maps *m)
{
	for (size_t i = 0; i < TOP_MAP_COUNT; i++)
		m->fd[i] = bpf_map__fd(bpf_object__find_map_by_name(skel->obj, top_map_names[i]));
}

int top_attach(const struct top_options *o, struct top_session **out, struct top_maps *maps)
{
	char library[PATH_MAX];
	const char *daemon = o->daemon ? o->daemon : SCTOP_DAEMON_PATH;
	bool with_daemon = o->daemon != NULL || access(daemon, R_OK) == 0;
	struct top_session *s;
	int err;

	if (o->library)
		snprintf(library, sizeof(library), "%s", o->library);
	else if ((err = own_library(library, sizeof(library))) != 0)
		return failed(err, "cannot tell where %s is; name it with --library", "libsupercache");
	s = calloc(1, sizeof(*s));
	if (!s)
		return failed(-ENOMEM, "%s", "out of memory");
	s->skel = supercache_bpf__open();
	if (!s->skel) {
		err = -errno;
		free(s);
		return failed(err, "%s", "cannot open the BPF programs");
	}
	s->skel->rodata->target_cache = sc_trace_id_of(o->name);
	err = supercache_bpf__load(s->skel);
	if (err) {
		top_detach(s);
		return failed(err, "%s",
			      "cannot load the BPF programs (root, or CAP_BPF and CAP_PERFMON, is needed)");
	}
	for (size_t i = 0; i < NPROBES; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(s->skel->obj, probes[i].probe);

		if (probes[i].in_daemon && !with_daemon)
			continue;
		s->links[i] = bpf_program__attach_usdt(prog, -1, probes[i].in_daemon ? daemon : library,
						       probes[i].in_daemon ? "supercached" : "supercache",
						       probes[i].probe, NULL);
		if (!s->links[i]) {
			err = -errno;
			fprintf(stderr, "supercache-top: cannot attach to probe %s in %s: %s\n",
				probes[i].probe, probes[i].in_daemon ? daemon : library, strerror(-err));
			top_detach(s);
			return err;
		}
	}
	if (!with_daemon)
		fprintf(stderr, "supercache-top: %s is not there: supercached's probes are not watched\n",
			daemon);
	maps_of(s->skel, maps);
	*out = s;
	return 0;
}

void top_detach(struct top_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NPROBES; i++)
		bpf_link__destroy(s->links[i]);
	supercache_bpf__destroy(s->skel);
	free(s);
}

/* bpffs is where pins live; mount it when nobody has (as bpftool does). */
static int bpffs_ready(void)
{
	struct statfs st;

	if (statfs(TOP_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", TOP_BPFFS, "bpf", 0, "mode=0700") != 0)
		return failed(-errno, "cannot mount the BPF file system on %s", TOP_BPFFS);
	return 0;
}

/* Where map i is pinned: the cache's pin directory, then the map's name (which is short). */
#define MAP_PIN_PATH_MAX (sizeof(((struct top_options *)0)->pin_dir) + 32)

static void map_pin_path(char path[MAP_PIN_PATH_MAX], const struct top_options *o, size_t i)
{
	snprintf(path, MAP_PIN_PATH_MAX, "%s/%s", o->pin_dir, top_map_names[i]);
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return failed(-errno, "cannot make %s", path);
	return 0;
}

/* Where id is in ids[0..n), or n. */
static size_t index_of(const __u32 *ids, size_t n, __u32 id)
{
	size_t i = 0;

	while (i < n && ids[i] != id)
		i++;
	return i;
}

/*
 * Pin every kernel link that runs one of our programs. libbpf gives a USDT
 * attachment as one object over several uprobe links (one per probe site),
 * so the links are found the kernel's way: by the program each runs.
 */
static int pin_links(struct top_session *s, const char *dir)
{
	struct bpf_program *progs[NPROBES];
	__u32 prog_ids[NPROBES];
	size_t nprogs = 0;
	struct bpf_program *prog;
	unsigned pinned = 0;
	__u32 id = 0;

	/* The kernel's id of each program, asked once, not once per link. */
	bpf_object__for_each_program(prog, s->skel->obj)
	{
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (nprogs < NPROBES && bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
			progs[nprogs] = prog;
			prog_ids[nprogs++] = info.id;
		}
	}
	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info link = { 0 };
		__u32 len = sizeof(link);
		int fd = bpf_link_get_fd_by_id(id);
		size_t i;
		if (fd < 0)
			continue; /* gone since */
		i = bpf_obj_get_info_by_fd(fd, &link, &len) == 0 ? index_of(prog_ids, nprogs, link.prog_id)
								 : nprogs;
		if (i < nprogs) {
			char path[PATH_MAX];

			/* Named by program and kernel link id, as bpftool link show lists it. */
			snprintf(path, sizeof(path), "%s/%s-%u", dir, bpf_program__name(progs[i]), id);
			if (bpf_obj_pin(fd, path) != 0) {
				close(fd);
				return failed(-errno, "cannot pin %s", path);
			}
			pinned++;
		}
		close(fd);
	}
	return pinned ? 0 : failed(-ENOENT, "%s", "no link of the programs was found to pin");
}

int top_pin(const struct top_options *o, struct top_session *s)
{
	char links[sizeof(o->pin_dir) + 8];
	int err = bpffs_ready();

	if (!err)
		err = make_dir(TOP_PIN_ROOT);
	if (!err && mkdir(o->pin_dir, 0700) != 0)
		err = failed(-errno,
			     errno == EEXIST ? "%s is there: the cache is watched already "
					       "(supercache-top --unpin removes it)"
					     : "cannot make %s",
			     o->pin_dir);
	if (err)
		return err;
	snprintf(links, sizeof(links), "%s/links", o->pin_dir);
	err = make_dir(links);
	for (size_t i = 0; !err && i < TOP_MAP_COUNT; i++) {
		char path[MAP_PIN_PATH_MAX];
		struct bpf_map *map = bpf_object__find_map_by_name(s->skel->obj, top_map_names[i]);

		map_pin_path(path, o, i);
		err = bpf_map__pin(map, path);
		if (err)
			failed(err, "cannot pin %s", path);
	}
	if (!err)
		err = pin_links(s, links);
	if (err) {
		top_unpin(o);
		return err;
	}
	/*
	 * Kept, never destroyed: libbpf would disable each uprobe's perf event
	 * on the way, and cannot free a USDT attachment without doing so. The
	 * process exits holding it; the kernel then drops this process's
	 * references, and the pins keep the links, programs and maps.
	 */
	pinned_session = s;
	return 0;
}

/* Remove every pin in dir, then dir itself. */
static int remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			err = remove_dir(path) ?: err;
		else if (unlink(path) != 0)
			err = -errno;
	}
	closedir(d);
	return rmdir(dir) == 0 ? err : -errno;
}

int top_unpin(const struct top_options *o)
{
	int err = remove_dir(o->pin_dir);

	if (err == -ENOENT)
		return failed(err, "nothing is pinned for this cache at %s", o->pin_dir);
	if (err)
		return failed(err, "cannot remove %s", o->pin_dir);
	/* The shared root goes with its last cache; another cache's pins keep it. */
	rmdir(TOP_PIN_ROOT);
	return 0;
}

int top_open_pinned(const struct top_options *o, struct top_maps *maps)
{
	for (size_t i = 0; i < TOP_MAP_COUNT; i++) {
		char path[MAP_PIN_PATH_MAX];

		map_pin_path(path, o, i);
		maps->fd[i] = bpf_obj_get(path);
		if (maps->fd[i] < 0) {
			int err = -errno;

			while (i-- > 0)
				close(maps->fd[i]);
			return failed(err, "cannot open %s", path);
		}
	}
	return 0;
}

void top_close_maps(struct top_maps *maps)
{
	for (size_t i = 0; i < TOP_MAP_COUNT; i++)
		close(maps->fd[i]);
}
