/* proc.h — what /proc says of another thread or process: whether it lives, since when, in what state. */
#ifndef SC_PROC_H
#define SC_PROC_H

#include <stdint.h>

/* A thread or process as /proc/<id>/stat shows it. */
struct sc_proc_stat {
	char state;	     /* 'R', 'S', 'T' (stopped), 'Z' (zombie), ... */
	uint64_t start_time; /* clock ticks after boot */
};

/*
 * Read /proc/<id>/stat for a process or thread id (a thread's id resolves
 * too, though /proc does not list it). 0, -ENOENT when there is no such
 * id, or another negative errno when /proc cannot be read.
 */
int sc_proc_stat(uint32_t id, struct sc_proc_stat *out);

/*
 * Whether thread or process id maps the file (dev, ino): 1 yes, 0 no (a
 * lock word naming it names a thread that cannot be holding the lock), a
 * negative errno when /proc cannot say (another user's process: callers
 * assume yes).
 */
int sc_proc_maps_file(uint32_t id, uint64_t dev, uint64_t ino);

/* The process a thread id belongs to (/proc/<id>/status), for messages: 0 when unknown. */
uint32_t sc_proc_tgid(uint32_t id);

/* Only the start time: 0 or a negative errno, as sc_proc_stat(). */
int sc_proc_start_time(uint32_t id, uint64_t *out);

#endif /* SC_PROC_H */
