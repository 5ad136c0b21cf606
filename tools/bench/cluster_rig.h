/* cluster_rig.h — three network namespaces on a bridge, and the processes --cluster runs in them. */
#ifndef CLUSTER_RIG_H
#define CLUSTER_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RIG_NODES     3
#define RIG_PROCS_MAX 32

/*
 * Node i is namespace "scb<pid>n<i>" with lo and an eth0 at 10.<x>.<y>.(i+1),
 * the other end of its veth pair a port of bridge "scbbr<pid>" in the root
 * namespace (10.<x>.<y>.254). Traffic between nodes crosses two veth pairs
 * and the bridge: what a host's packets cross on their way to another host,
 * less the wire. A work directory holds the logs and etcd's data.
 */
struct cluster_rig {
	char ns[RIG_NODES][32];
	char veth[RIG_NODES][16];
	char bridge[16];
	char ip[RIG_NODES][24];
	char dir[64];
	bool forward_rule; /* an ACCEPT for the bridge heads the root namespace's FORWARD chain */
	pid_t procs[RIG_PROCS_MAX];
	char proc_names[RIG_PROCS_MAX][32];
	unsigned nprocs;
};

/* Build the namespaces and the bridge: 0, or -1 with the reason in bench_last_error() (nothing left). */
int rig_up(struct cluster_rig *r);

/*
 * Start argv (argv[0] looked up in PATH) in node's namespace (-1: the root
 * namespace), output appended to <dir>/<name>.log; it dies with the bench.
 * The rig stops it (rig_stop, rig_down). Its pid, or -1 with the reason.
 */
pid_t rig_spawn(struct cluster_rig *r, int node, const char *name, const char *const argv[]);

/* SIGTERM to the process named name, then wait for it (SIGKILL after 10 s). */
void rig_stop(struct cluster_rig *r, const char *name);

/*
 * Run fn(arg) in a child process in node's namespace and wait for it: fn's
 * return value, or -1 (and the reason) when it could not run or died. The
 * child shares nothing but what the caller mapped MAP_SHARED before.
 */
int rig_run_in(struct cluster_rig *r, int node, int (*fn)(void *arg), void *arg);

/* fn(arg) in a background child in node's namespace, output to <dir>/<name>.log; stopped as rig_spawn's. */
pid_t rig_fork_in(struct cluster_rig *r, int node, const char *name, int (*fn)(void *arg), void *arg);

/* Whether a command (argv[0] in PATH) exits 0; its output goes to <dir>/<name>.log. */
bool rig_command(struct cluster_rig *r, int node, const char *name, const char *const argv[]);

/* The last lines of <dir>/<name>.log, for an error message. */
const char *rig_log_tail(const struct cluster_rig *r, const char *name);

/* Stop every process, remove the namespaces, the bridge and the work directory. */
void rig_down(struct cluster_rig *r);

#endif /* CLUSTER_RIG_H */
