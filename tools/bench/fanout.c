/* fanout.c — process and thread fan-out behind a pipe start gate: workers start together, no sleeping. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fanout.h"
#include "workload.h"

/*
 * Each worker writes one byte to `ready` and blocks reading `go`. Closing
 * go's write end opens the gate for every worker at once (they all read
 * EOF); writing a byte per worker instead calls the run off. Forked workers
 * close their copy of ready's write end once they have reported, so if a
 * child dies before reporting the parent reads EOF instead of hanging.
 */
struct fanout_gate {
	int ready[2];
	int go[2];
	bool threads;
};

#define GATE_READY     'r'
#define GATE_NOT_READY 'n'
#define GATE_CALL_OFF  'x'

struct worker {
	pid_t pid;
	pthread_t thread;
	int rc; /* thread workers: fn's result */
	fanout_fn fn;
	void *arg;
	unsigned idx;
	struct fanout_gate *gate;
};

static int write_byte(int fd, char c)
{
	ssize_t n;

	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* 1 with a byte, 0 at EOF, -1 on error. */
static int read_byte(int fd, char *c)
{
	ssize_t n;

	do {
		n = read(fd, c, 1);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : (int)n;
}

/* Returns 0 when the gate opens, 1 when the run is called off, -1 on error (message set). */
int fanout_gate_pass(struct fanout_gate *gate, bool ready)
{
	char c;
	int r;

	if (write_byte(gate->ready[1], ready ? GATE_READY : GATE_NOT_READY))
		return bench_fail("start gate: cannot report: %s", strerror(errno));
	if (!gate->threads)
		close(gate->ready[1]);
	if (!ready)
		return 1;
	r = read_byte(gate->go[0], &c);
	if (r < 0)
		return bench_fail("start gate: cannot wait: %s", strerror(errno));
	return r == 0 ? 0 : 1;
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	w->rc = w->fn(w->arg, w->idx, w->gate);
	return NULL;
}

static int start_worker(struct worker *w)
{
	int err;

	if (w->gate->threads) {
		err = pthread_create(&w->thread, NULL, thread_main, w);
		if (err)
			return bench_fail("cannot start worker thread %u: %s", w->idx, strerror(err));
		return 0;
	}
	w->pid = fork();
	if (w->pid < 0)
		return bench_fail("cannot fork worker %u: %s", w->idx, strerror(errno));
	if (w->pid == 0) {
		close(w->gate->ready[0]);
		close(w->gate->go[1]);
		_exit(w->fn(w->arg, w->idx, w->gate) == 0 ? 0 : 1);
	}
	return 0;
}

/* Returns fn's result for the worker, or -1 with a message if it did not end normally. */
static int wait_worker(struct worker *w)
{
	int status, err;
	pid_t pid;

	if (w->gate->threads) {
		err = pthread_join(w->thread, NULL);
		if (err)
			return bench_fail("cannot join worker thread %u: %s", w->idx, strerror(err));
		return w->rc == 0 ? 0 : bench_fail("worker thread %u failed", w->idx);
	}
	do {
		pid = waitpid(w->pid, &status, 0);
	} while (pid < 0 && errno == EINTR);
	if (pid < 0)
		return bench_fail("cannot wait for worker %u (pid %d): %s", w->idx, (int)w->pid,
				  strerror(errno));
	if (WIFSIGNALED(status))
		return bench_fail("worker %u (pid %d) was killed by signal %d (%s)", w->idx, (int)w->pid,
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return bench_fail("worker %u (pid %d) failed", w->idx, (int)w->pid);
	return 0;
}

/* Waits for the started workers to report; -1 if any was not ready or died first. */
static int all_ready(struct fanout_gate *gate, unsigned started)
{
	int rc = 0;
	char c;

	for (unsigned i = 0; i < started; i++) {
		int r = read_byte(gate->ready[0], &c);

		if (r < 0)
			return bench_fail("start gate: cannot read: %s", strerror(errno));
		if (r == 0)
			return bench_fail("a worker died before it was ready");
		if (c != GATE_READY)
			rc = bench_fail("a worker could not get ready");
	}
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Keeps the first failure's message: later ones are usually its consequences. */
static int note_failure(char *first, size_t len)
{
	if (!first[0])
		snprintf(first, len, "%s", bench_last_error());
	return -1;
}

int fanout_run(unsigned n, bool threads, fanout_fn fn, void *arg, uint64_t *open_ns)
{
	struct fanout_gate gate = { .ready = { -1, -1 }, .go = { -1, -1 }, .threads = threads };
	struct worker *workers = calloc(n, sizeof(*workers));
	char first[512] = "";
	unsigned started = 0;
	int rc = 0;

	if (!workers)
		return bench_fail("out of memory for %u workers", n);
	if (pipe(gate.ready) || pipe(gate.go)) {
		bench_fail("cannot make the start gate: %s", strerror(errno));
		rc = note_failure(first, sizeof(first));
		goto out;
	}
	for (; started < n; started++) {
		workers[started] = (struct worker){ .fn = fn, .arg = arg, .idx = started, .gate = &gate };
		if (start_worker(&workers[started])) {
			rc = note_failure(first, sizeof(first));
			break;
		}
	}
	/* Threads share the parent's descriptor: it must stay open for them to report on. */
	if (!threads)
		close_fd(&gate.ready[1]);
	if (all_ready(&gate, started))
		rc = note_failure(first, sizeof(first));
	if (rc == 0)
		*open_ns = now_ns();
	else
		for (unsigned i = 0; i < started; i++)
			/*
			 * Cannot fail but with EPIPE once every worker is gone. A
			 * worker that missed its byte would only run its pass for
			 * nothing: this run is reported failed either way.
			 */
			(void)write_byte(gate.go[1], GATE_CALL_OFF);
	close_fd(&gate.go[1]);
	for (unsigned i = 0; i < started; i++)
		if (wait_worker(&workers[i]))
			rc = note_failure(first, sizeof(first));
out:
	close_fd(&gate.ready[0]);
	close_fd(&gate.ready[1]);
	close_fd(&gate.go[0]);
	close_fd(&gate.go[1]);
	free(workers);
	return rc ? bench_fail("%s", first) : 0;
}
