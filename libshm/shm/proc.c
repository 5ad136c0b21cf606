/* proc.c — what /proc says of another thread or process: whether it lives, since when, in what state. */
#include "shm/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ENOENT : -EIO;
	buf[n] = '\0';
	return 0;
}

/* Fields 3 (state) and 22 (start time) of a stat line. */
static int parse_stat(const char *buf, struct sc_proc_stat *out)
{
	unsigned long long start;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	const char *p = strrchr(buf, ')');

	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	out->state = p[2];
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	if (sscanf(p, " %llu", &start) != 1)
		return -EIO;
	out->start_time = start;
	return 0;
}

int sc_proc_maps_file(uint32_t id, uint64_t dev, uint64_t ino)
{
	char path[64], line[4096];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", id);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? 0 : -errno;
	/* address perms offset major:minor inode path */
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int major, minor;
		unsigned long long inode;

		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &major, &minor, &inode) == 3)
			found = inode == ino && makedev(major, minor) == dev;
		/* A line longer than the buffer: skip the rest of it. */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	if (ferror(f) && !found)
		found = -EIO;
	fclose(f);
	return found;
}

int sc_proc_stat(uint32_t id, struct sc_proc_stat *out)
{
	char path[64], buf[1024];
	int err;

	snprintf(path, sizeof(path), "/proc/%u/stat", id);
	err = read_file(path, buf, sizeof(buf));
	return err ? err : parse_stat(buf, out);
}

int sc_proc_start_time(uint32_t id, uint64_t *out)
{
	struct sc_proc_stat st;
	int err = sc_proc_stat(id, &st);

	if (!err)
		*out = st.start_time;
	return err;
}

uint32_t sc_proc_tgid(uint32_t id)
{
	char path[64], buf[2048];
	const char *tgid;

	snprintf(path, sizeof(path), "/proc/%u/status", id);
	if (read_file(path, buf, sizeof(buf)) == 0 && (tgid = strstr(buf, "\nTgid:")) != NULL)
		return (uint32_t)strtoul(tgid + 6, NULL, 10);
	return 0;
}
