/* fanout.h — runs a measurement's workers side by side, as processes or threads, behind one start gate. */
#ifndef FANOUT_H
#define FANOUT_H

#include <stdbool.h>
#include <stdint.h>

struct fanout_gate;

/* A worker: returns 0 on success, -1 on failure (its message is the worker's to leave somewhere). */
typedef int (*fanout_fn)(void *arg, unsigned idx, struct fanout_gate *gate);

/*
 * Called by each worker once, after its untimed setup. ready is whether the
 * setup worked. Returns 0 when every worker is ready and the gate opens, or
 * -1 when the run was called off (this worker or another was not ready).
 */
int fanout_gate_pass(struct fanout_gate *gate, bool ready);

/*
 * Run fn(arg, 0..n-1) in n forked processes, or n threads if threads is
 * set, and wait for all of them. *open_ns is when the gate opened: the
 * common start of the timed work. Returns 0 if every worker returned 0.
 * Children end with _exit(), never touching the parent's stdio buffers or
 * atexit handlers.
 */
int fanout_run(unsigned n, bool threads, fanout_fn fn, void *arg, uint64_t *open_ns);

#endif /* FANOUT_H */
