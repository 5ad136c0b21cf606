/*
 * link_delay.c — sctest-link-delay: holds every packet an iptables NFQUEUE
 * rule hands it for a while, then lets it go, in the order it came. The
 * kernel here has no netem; the cluster tests slow a node's links with this.
 *
 *   sctest-link-delay QUEUE DELAY_MS [JITTER_MS]
 *
 * Run it in the namespace whose rule names QUEUE (netns.hpp: delay()). Each
 * packet is released DELAY_MS plus up to JITTER_MS after it arrived, never
 * before the one queued ahead of it (TCP would take reordering in its stride,
 * but the delay is what is under test, not reordering). It prints "ready"
 * once bound to the queue, and on SIGTERM or SIGINT releases everything it
 * holds, prints how many packets it held and exits 0.
 *
 * Nothing is dropped on its account: the queue is fail-open (a full queue
 * lets packets through), the rule is meant to carry --queue-bypass (no
 * listener lets them through), and a packet it has no room to hold is let
 * go at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#define HELD_MAX     65536u /* packets held at once (a power of two: the ring's index wraps) */
#define RECV_BUFFER  (8 << 20)
#define MAX_DELAY_MS 60000u

struct held {
	uint32_t id;
	uint64_t due_ns;
};

struct delayer {
	struct nfq_q_handle *queue;
	struct held ring[HELD_MAX];
	uint32_t head, count;
	uint64_t delay_ns, jitter_ns, last_due_ns;
	uint64_t held_total, let_through; /* held and released later; let go at once for want of room */
	int err;			  /* the first verdict that failed */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void accept_packet(struct delayer *d, uint32_t id)
{
	if (nfq_set_verdict(d->queue, id, NF_ACCEPT, 0, NULL) < 0 && !d->err)
		d->err = errno ? errno : EIO;
}

static int queued(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *userdata)
{
	struct delayer *d = userdata;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint64_t due;

	(void)qh;
	(void)msg;
	if (!ph)
		return 0;
	if (d->count == HELD_MAX) {
		d->let_through++;
		accept_packet(d, ntohl(ph->packet_id));
		return 0;
	}
	due = now_ns() + d->delay_ns + (d->jitter_ns ? (uint64_t)random() % d->jitter_ns : 0);
	if (due < d->last_due_ns)
		due = d->last_due_ns;
	d->last_due_ns = due;
	d->ring[(d->head + d->count++) % HELD_MAX] = (struct held){ ntohl(ph->packet_id), due };
	d->held_total++;
	return 0;
}

/* Release what is due (everything, with all): how long until the next is, in ms for poll(), or -1. */
static int release_due(struct delayer *d, int all)
{
	uint64_t now = now_ns();

	while (d->count) {
		const struct held *h = &d->ring[d->head];

		if (!all && h->due_ns > now)
			return (int)((h->due_ns - now + 999999u) / 1000000u);
		accept_packet(d, h->id);
		d->head = (d->head + 1) % HELD_MAX;
		d->count--;
	}
	return -1;
}

static int parse_ms(const char *s, const char *what, uint64_t *ns)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > MAX_DELAY_MS) {
		fprintf(stderr, "sctest-link-delay: %s \"%s\" is not a number of ms up to %u\n", what, s,
			MAX_DELAY_MS);
		return -1;
	}
	*ns = (uint64_t)v * 1000000ull;
	return 0;
}

int main(int argc, char **argv)
{
	static struct delayer d;
	static char buf[65536] __attribute__((aligned));
	struct sigaction sa = { .sa_handler = on_signal };
	struct nfq_handle *h;
	unsigned long queue_num;
	char *end;
	int fd, one = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: sctest-link-delay QUEUE DELAY_MS [JITTER_MS]\n");
		return 2;
	}
	queue_num = strtoul(argv[1], &end, 10);
	if (end == argv[1] || *end || queue_num > UINT16_MAX) {
		fprintf(stderr, "sctest-link-delay: queue \"%s\" is not a number up to 65535\n", argv[1]);
		return 2;
	}
	if (parse_ms(argv[2], "delay", &d.delay_ns) ||
	    (argc == 4 && parse_ms(argv[3], "jitter", &d.jitter_ns)))
		return 2;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	srandom((unsigned)getpid());

	h = nfq_open();
	if (!h) {
		fprintf(stderr, "sctest-link-delay: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	d.queue = nfq_create_queue(h, (uint16_t)queue_num, queued, &d);
	if (!d.queue) {
		fprintf(stderr, "sctest-link-delay: cannot bind queue %lu: %s\n", queue_num, strerror(errno));
		nfq_close(h);
		return 1;
	}
	fd = nfq_fd(h);
	/* Only the metadata: the id is all a verdict needs. Fail-open: a full queue lets packets pass. */
	if (nfq_set_mode(d.queue, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(d.queue, HELD_MAX) < 0 ||
	    nfq_set_queue_flags(d.queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ RECV_BUFFER }, sizeof(int)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0) {
		fprintf(stderr, "sctest-link-delay: setting queue %lu up: %s\n", queue_num, strerror(errno));
		nfq_destroy_queue(d.queue);
		nfq_close(h);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (!stopping && !d.err) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait = release_due(&d, 0), n;

		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			break;
		while ((n = (int)recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			nfq_handle_packet(h, buf, n);
	}
	release_due(&d, 1);
	nfq_destroy_queue(d.queue);
	nfq_close(h);
	printf("held %llu packets %llu ms each (+ up to %llu ms), let %llu through at once\n",
	       (unsigned long long)d.held_total, (unsigned long long)(d.delay_ns / 1000000u),
	       (unsigned long long)(d.jitter_ns / 1000000u), (unsigned long long)d.let_through);
	if (d.err) {
		fprintf(stderr, "sctest-link-delay: a verdict failed: %s\n", strerror(d.err));
		return 1;
	}
	return 0;
}
