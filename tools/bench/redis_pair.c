/* redis_pair.c — redis-server and its replica in two namespaces, SET and WAIT 1 0 from the first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "fanout.h"
#include "redis_pair.h"
#include "tcp_util.h"
#include "workload.h"

#define REDIS_PORT 6379

/* Shared with the child in node 0's namespace and its workers. */
struct redis_run {
	char ip[24];
	unsigned procs;
	uint64_t min_ns;
	struct latency_log *log;
	struct latency result;
	char error[256];
};

bool redis_pair_available(void)
{
	return access("/usr/bin/redis-server", X_OK) == 0;
}

/* SET key value then WAIT 1 timeout_ms, pipelined; one reply each. */
static int set_and_wait(int fd, const char *key, const char *value, unsigned timeout_ms, char *wait_reply)
{
	char req[512], reply[9], timeout[16];
	const int timeout_len = snprintf(timeout, sizeof(timeout), "%u", timeout_ms);
	const int n = snprintf(req, sizeof(req),
			       "*3\r\n$3\r\nSET\r\n$%d\r\n%.*s\r\n$%d\r\n%.*s\r\n"
			       "*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$%d\r\n%s\r\n",
			       BENCH_KEY_LEN, BENCH_KEY_LEN, key, BENCH_VALUE_LEN, BENCH_VALUE_LEN, value,
			       timeout_len, timeout);

	if (tcp_write_all(fd, req, (size_t)n) || tcp_read_all(fd, reply, sizeof(reply)))
		return -1;
	if (memcmp(reply, "+OK\r\n:", 6) != 0 || memcmp(reply + 7, "\r\n", 2) != 0)
		return bench_fail("redis answered \"%.9s\" to SET and WAIT", reply);
	*wait_reply = reply[6];
	return 0;
}

static void name_key(char *key, char *value, unsigned worker, uint64_t n)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "w%u-%013llu", worker % 100u, (unsigned long long)n);
	memcpy(key, buf, BENCH_KEY_LEN);
	memcpy(value, key, BENCH_KEY_LEN);
	memset(value + BENCH_KEY_LEN, 'v', BENCH_VALUE_LEN - BENCH_KEY_LEN);
}

static int connect_with_timeout(const struct redis_run *run)
{
	struct timeval tv = { 10, 0 };
	int fd = tcp_connect(run->ip, REDIS_PORT, 10000);

	/* A reply never comes only if something is wrong: say so within 10 s rather than hang. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int worker(void *arg, unsigned idx, struct fanout_gate *gate)
{
	struct redis_run *run = arg;
	char key[BENCH_KEY_LEN], value[BENCH_VALUE_LEN], acked;
	int fd = connect_with_timeout(run);
	uint64_t n = 0, start, t0;

	if (fanout_gate_pass(gate, fd >= 0) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	start = now_ns();
	do {
		name_key(key, value, idx, n++ % 10000);
		t0 = now_ns();
		if (set_and_wait(fd, key, value, 0, &acked)) {
			snprintf(run->error, sizeof(run->error), "%s", bench_last_error());
			close(fd);
			return -1;
		}
		latency_log_add(run->log, now_ns() - t0);
	} while (now_ns() - start < run->min_ns);
	close(fd);
	return 0;
}

/* Until the replica acknowledges a write (it has connected and synced): 0, or -1 after 20 s. */
static int wait_for_replica(struct redis_run *run)
{
	char key[BENCH_KEY_LEN], value[BENCH_VALUE_LEN], acked = '0';
	const uint64_t end = now_ns() + 20000000000ull;
	int fd = connect_with_timeout(run);

	if (fd < 0)
		return -1;
	name_key(key, value, 99, 0);
	while (acked != '1' && now_ns() < end)
		if (set_and_wait(fd, key, value, 100, &acked)) {
			close(fd);
			return -1;
		}
	close(fd);
	return acked == '1' ? 0 : bench_fail("the redis replica did not acknowledge a write within 20 s");
}

static int clients(void *arg)
{
	struct redis_run *run = arg;
	uint64_t open_ns;

	if (wait_for_replica(run) || fanout_run(run->procs, false, worker, run, &open_ns) ||
	    latency_log_summary(run->log, now_ns() - open_ns, &run->result)) {
		if (!run->error[0])
			snprintf(run->error, sizeof(run->error), "%s", bench_last_error());
		return -1;
	}
	return 0;
}

int redis_pair_measure(struct cluster_rig *r, unsigned procs, uint64_t min_ns, struct latency *out)
{
	char primary_at[32];
	/* No persistence, as a cache runs it; the replica's copy of the primary's snapshot goes in dir. */
	const char *const primary[] = {
		"redis-server", "--bind", r->ip[0],	      "--port", "6379",	 "--save", "",
		"--appendonly", "no",	  "--protected-mode", "no",	"--dir", r->dir,   NULL
	};
	const char *const replica[] = {
		"redis-server", "--bind", r->ip[1],	  "--port",	 "6379",
		"--save",	"",	  "--appendonly", "no",		 "--protected-mode",
		"no",		"--dir",  r->dir,	  "--replicaof", r->ip[0],
		"6379",		NULL
	};
	struct redis_run *run =
		mmap(NULL, sizeof(*run), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rc = -1;

	if (run == MAP_FAILED)
		return bench_fail("mmap: %s", strerror(errno));
	memset(run, 0, sizeof(*run));
	snprintf(run->ip, sizeof(run->ip), "%s", r->ip[0]);
	snprintf(primary_at, sizeof(primary_at), "%s:%d", r->ip[0], REDIS_PORT);
	run->min_ns = min_ns;
	run->procs = procs;
	run->log = latency_log_new(4u << 20);
	if (run->log && rig_spawn(r, 0, "redis-primary", primary) > 0 &&
	    rig_spawn(r, 1, "redis-replica", replica) > 0) {
		rc = rig_run_in(r, 0, clients, run);
		if (rc)
			bench_fail("redis (%s, %u procs): %s; its log: %s", primary_at, procs,
				   run->error[0] ? run->error : "the clients failed",
				   rig_log_tail(r, "redis-primary"));
		else
			*out = run->result;
	}
	rig_stop(r, "redis-replica");
	rig_stop(r, "redis-primary");
	latency_log_free(run->log);
	munmap(run, sizeof(*run));
	return rc;
}
