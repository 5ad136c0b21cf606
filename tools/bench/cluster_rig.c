/* cluster_rig.c — network namespaces with ip(8), processes in them with setns(2). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cluster_rig.h"

static void log_path(const struct cluster_rig *r, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.log", r->dir, name);
}

/* In the child: into node's namespace (-1: stay), stdin from /dev/null, output to the log. 0 or errno. */
static int enter(const struct cluster_rig *r, int node, const char *name)
{
	char path[128];
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		return errno;
	if (node >= 0) {
		snprintf(path, sizeof(path), "/var/run/netns/%s", r->ns[node]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			return errno;
		close(fd);
	}
	if (!name)
		return 0;
	log_path(r, name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return errno;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		return errno;
	return 0;
}

/* fork, enter, exec argv; the exec's failure comes back through a pipe that closes on a good exec. */
static pid_t start(struct cluster_rig *r, int node, const char *name, const char *const argv[])
{
	int report[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) != 0)
		return bench_fail("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		err = enter(r, node, name);
		if (!err) {
			execvp(argv[0], (char *const *)argv);
			err = errno;
		}
		if (write(report[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		return bench_fail("fork: %s", strerror(errno));
	}
	while ((n = read(report[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n > 0) {
		waitpid(pid, NULL, 0);
		return bench_fail("cannot run %s: %s", argv[0], strerror(err));
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

bool rig_command(struct cluster_rig *r, int node, const char *name, const char *const argv[])
{
	pid_t pid = start(r, node, name, argv);
	int st = pid < 0 ? -1 : wait_status(pid);

	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ip(8) and iptables(8) in the root namespace, their output in <dir>/setup.log; -1 naming the command. */
static int must(struct cluster_rig *r, const char *const argv[])
{
	char cmd[256] = "";

	if (rig_command(r, -1, "setup", argv))
		return 0;
	for (size_t i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	return bench_fail("%s failed: %s", cmd, rig_log_tail(r, "setup"));
}

const char *rig_log_tail(const struct cluster_rig *r, const char *name)
{
	static _Thread_local char tail[600];
	char path[128];
	FILE *f;
	long size;
	size_t n = 0;

	log_path(r, name, path, sizeof(path));
	tail[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return "(no log)";
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		fseek(f, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
		n = fread(tail, 1, sizeof(tail) - 1, f);
	}
	fclose(f);
	tail[n] = 0;
	return tail;
}

/* A /24 in 10.240.0.0/12 that no address or route of the root namespace is in: "10.x.y." into prefix. */
static int free_subnet(char *prefix, size_t size)
{
	char line[512], taken[8192] = "";
	FILE *p = popen("ip -4 -o addr show; ip -4 route show", "r");

	if (!p)
		return bench_fail("cannot list the addresses and routes: %s", strerror(errno));
	while (fgets(line, sizeof(line), p))
		if (strlen(taken) + strlen(line) < sizeof(taken))
			strcat(taken, line);
	pclose(p);
	for (unsigned k = 0; k < 16 * 256; k++) {
		unsigned c = ((unsigned)getpid() + k) % (16 * 256);
		char net[24];

		snprintf(prefix, size, "10.%u.%u.", 240 + c / 256, c % 256);
		snprintf(net, sizeof(net), " %s", prefix);
		/* A route to a wider net (10.0.0.0/8) also clashes. */
		if (!strstr(taken, net) && !strstr(taken, " 10.0.0.0/8") && !strstr(taken, "default via 10."))
			return 0;
	}
	return bench_fail("no free /24 in 10.240.0.0/12 for the cluster's bridge");
}

int rig_up(struct cluster_rig *r)
{
	const long pid = getpid();
	char prefix[24], bridge_ip[32], node_ip[32];
	int nf = 0;
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/supercache-bench-cluster-XXXXXX");
	if (!mkdtemp(r->dir))
		return bench_fail("mkdtemp: %s", strerror(errno));
	/* Interface names have 15 characters at most: pids up to 7 digits fit. */
	snprintf(r->bridge, sizeof(r->bridge), "scbbr%u", (unsigned)pid % 10000000u);
	for (unsigned i = 0; i < RIG_NODES; i++) {
		snprintf(r->ns[i], sizeof(r->ns[i]), "scb%un%u", (unsigned)pid % 10000000u, i % 10u);
		snprintf(r->veth[i], sizeof(r->veth[i]), "scb%uv%u", (unsigned)pid % 10000000u, i % 10u);
	}
	if (free_subnet(prefix, sizeof(prefix)))
		goto fail;
	snprintf(bridge_ip, sizeof(bridge_ip), "%s254/24", prefix);
	{
		const char *const add[] = { "ip", "link", "add", "name", r->bridge, "type", "bridge", NULL };
		const char *const addr[] = { "ip", "addr", "add", bridge_ip, "dev", r->bridge, NULL };
		const char *const up[] = { "ip", "link", "set", r->bridge, "up", NULL };

		if (must(r, add) || must(r, addr) || must(r, up))
			goto fail;
	}
	/* Bridged frames through iptables (br_netfilter): a DROP policy on FORWARD must not cut the nodes off. */
	f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "r");
	if (f) {
		if (fscanf(f, "%d", &nf) != 1)
			nf = 0;
		fclose(f);
	}
	if (nf) {
		const char *const accept[] = { "iptables", "-w", "-I",	    "FORWARD", "1",	 "-i",
					       r->bridge,  "-o", r->bridge, "-j",      "ACCEPT", NULL };

		if (must(r, accept))
			goto fail;
		r->forward_rule = true;
	}
	for (int i = 0; i < RIG_NODES; i++) {
		snprintf(r->ip[i], sizeof(r->ip[i]), "%.16s%d", prefix, i + 1);
		snprintf(node_ip, sizeof(node_ip), "%s/24", r->ip[i]);
		const char *const ns[] = { "ip", "netns", "add", r->ns[i], NULL };
		const char *const lo[] = { "ip", "-n", r->ns[i], "link", "set", "lo", "up", NULL };
		const char *const veth[] = { "ip",   "link", "add",  "name",  r->veth[i], "type", "veth",
					     "peer", "name", "eth0", "netns", r->ns[i],	  NULL };
		const char *const port[] = {
			"ip", "link", "set", r->veth[i], "master", r->bridge, "up", NULL
		};
		const char *const addr[] = {
			"ip", "-n", r->ns[i], "addr", "add", node_ip, "dev", "eth0", NULL
		};
		const char *const up[] = { "ip", "-n", r->ns[i], "link", "set", "eth0", "up", NULL };

		if (must(r, ns) || must(r, lo) || must(r, veth) || must(r, port) || must(r, addr) ||
		    must(r, up))
			goto fail;
	}
	return 0;
fail:
	rig_down(r);
	return -1;
}

/* pid (-1: none) among the processes the rig stops, as name. */
static pid_t remember(struct cluster_rig *r, pid_t pid, const char *name)
{
	if (pid < 0)
		return -1;
	r->procs[r->nprocs] = pid;
	snprintf(r->proc_names[r->nprocs], sizeof(r->proc_names[0]), "%s", name);
	r->nprocs++;
	return pid;
}

pid_t rig_spawn(struct cluster_rig *r, int node, const char *name, const char *const argv[])
{
	if (r->nprocs == RIG_PROCS_MAX)
		return bench_fail("more than %d processes in the cluster", RIG_PROCS_MAX);
	return remember(r, start(r, node, name, argv), name);
}

static void stop_at(struct cluster_rig *r, unsigned k)
{
	const pid_t pid = r->procs[k];
	int st;

	kill(pid, SIGTERM);
	for (int n = 0; n < 1000; n++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			goto reaped;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL); /* a bounded wait for its exit */
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
reaped:
	r->nprocs--;
	memmove(&r->procs[k], &r->procs[k + 1], (r->nprocs - k) * sizeof(r->procs[0]));
	memmove(&r->proc_names[k], &r->proc_names[k + 1], (r->nprocs - k) * sizeof(r->proc_names[0]));
}

void rig_stop(struct cluster_rig *r, const char *name)
{
	for (unsigned k = 0; k < r->nprocs; k++)
		if (strcmp(r->proc_names[k], name) == 0) {
			stop_at(r, k);
			return;
		}
}

/* fn(arg) in a child in node's namespace (output to name's log, or the bench's with NULL): its pid. */
static pid_t fork_fn(struct cluster_rig *r, int node, const char *name, int (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		const int err = enter(r, node, name);

		if (err) {
			fprintf(stderr, "supercache-bench: entering namespace %d: %s\n", node, strerror(err));
			_exit(126);
		}
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	return pid < 0 ? bench_fail("fork: %s", strerror(errno)) : pid;
}

pid_t rig_fork_in(struct cluster_rig *r, int node, const char *name, int (*fn)(void *arg), void *arg)
{
	if (r->nprocs == RIG_PROCS_MAX)
		return bench_fail("more than %d processes in the cluster", RIG_PROCS_MAX);
	return remember(r, fork_fn(r, node, name, fn, arg), name);
}

int rig_run_in(struct cluster_rig *r, int node, int (*fn)(void *arg), void *arg)
{
	const pid_t pid = fork_fn(r, node, NULL, fn, arg);
	const int st = pid < 0 ? -1 : wait_status(pid);

	if (pid < 0)
		return -1;
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return bench_fail("a measurement in node %d's namespace failed (status %d)", node, st);
	return 0;
}

void rig_down(struct cluster_rig *r)
{
	char rm[128];

	while (r->nprocs)
		stop_at(r, r->nprocs - 1);
	for (int i = 0; i < RIG_NODES; i++) {
		const char *const del_veth[] = { "ip", "link", "del", r->veth[i], NULL };
		const char *const del_ns[] = { "ip", "netns", "del", r->ns[i], NULL };

		if (r->veth[i][0])
			rig_command(r, -1, "setup", del_veth);
		if (r->ns[i][0])
			rig_command(r, -1, "setup", del_ns);
	}
	if (r->bridge[0]) {
		const char *const del_bridge[] = { "ip", "link", "del", r->bridge, NULL };

		rig_command(r, -1, "setup", del_bridge);
	}
	if (r->forward_rule) {
		const char *const del[] = { "iptables", "-w",	   "-D", "FORWARD", "-i", r->bridge,
					    "-o",	r->bridge, "-j", "ACCEPT",  NULL };

		rig_command(r, -1, "setup", del);
		r->forward_rule = false;
	}
	if (r->dir[0] && strncmp(r->dir, "/tmp/supercache-bench-cluster-", 30) == 0) {
		snprintf(rm, sizeof(rm), "rm -rf '%s'", r->dir);
		if (system(rm) != 0)
			fprintf(stderr, "supercache-bench: could not remove %s\n", r->dir);
	}
	memset(r, 0, sizeof(*r));
}
