/* round_trip.c — an echo server in one namespace, a timed client in another. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "round_trip.h"
#include "tcp_util.h"
#include "workload.h"

#define ECHO_PORT 7300
#define MESSAGE	  (BENCH_KEY_LEN + BENCH_VALUE_LEN)

struct round_trip {
	const char *server_ip;
	int listen_fd; /* the server's, made in its namespace before the client starts */
	uint64_t min_ns;
	struct latency_log *log;
};

/* Echo one connection's messages until it closes. */
static int echo(void *arg)
{
	struct round_trip *t = arg;
	char buf[MESSAGE];
	int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -1;
	while (tcp_read_all(fd, buf, sizeof(buf)) == 0 && tcp_write_all(fd, buf, sizeof(buf)) == 0)
		;
	close(fd);
	return 0;
}

static int client(void *arg)
{
	struct round_trip *t = arg;
	char out[MESSAGE], in[MESSAGE];
	int fd = tcp_connect(t->server_ip, ECHO_PORT, 5000);
	uint64_t start, t0;

	if (fd < 0) {
		fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
		return -1;
	}
	memset(out, 'r', sizeof(out));
	start = now_ns();
	do {
		t0 = now_ns();
		if (tcp_write_all(fd, out, sizeof(out)) || tcp_read_all(fd, in, sizeof(in))) {
			fprintf(stderr, "supercache-bench: the echo: %s\n", bench_last_error());
			close(fd);
			return -1;
		}
		latency_log_add(t->log, now_ns() - t0);
	} while (now_ns() - start < t->min_ns);
	close(fd);
	return 0;
}

/* The listening socket is made in the server's namespace: a child there makes it and serves. */
static int serve(void *arg)
{
	struct round_trip *t = arg;

	t->listen_fd = tcp_listen(t->server_ip, ECHO_PORT);
	if (t->listen_fd < 0) {
		fprintf(stderr, "supercache-bench: %s\n", bench_last_error());
		return -1;
	}
	return echo(t);
}

int round_trip_measure(struct cluster_rig *r, int from, int to, uint64_t min_ns, struct latency *out)
{
	struct round_trip t = { .server_ip = r->ip[to], .min_ns = min_ns };
	uint64_t start;
	int rc;

	t.log = latency_log_new(4u << 20);
	if (!t.log)
		return -1;
	if (rig_fork_in(r, to, "echo", serve, &t) < 0) {
		latency_log_free(t.log);
		return -1;
	}
	start = now_ns();
	rc = rig_run_in(r, from, client, &t);
	rig_stop(r, "echo");
	if (rc)
		bench_fail("the round trip from node %d to node %d: %s", from, to, rig_log_tail(r, "echo"));
	else
		rc = latency_log_summary(t.log, now_ns() - start, out);
	latency_log_free(t.log);
	return rc;
}
