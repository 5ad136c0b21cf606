/* forward_worker.h — threads that run forwarded writes on this node's cache, off the event loop. */
#ifndef SCD_FORWARD_WORKER_H
#define SCD_FORWARD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <supercache.h>
#include <systemd/sd-event.h>

#include "cluster/frame.h"

/*
 * A sync write waits until its in-sync replicas acknowledge it, and the
 * acknowledgements come in on the event loop: a forwarded write must never
 * run there. The workers run each with sc_forward_serve() on the cache's
 * handle, and hand the reply back to the loop through an eventfd, where
 * done() gets it. Jobs wait in a queue of at most SCD_FORWARD_QUEUE_MAX;
 * past it, scd_forward_workers_push() refuses.
 */
#define SCD_FORWARD_WORKERS   4u
#define SCD_FORWARD_QUEUE_MAX 4096u

struct scd_forward_workers;

/* A job: where its reply goes (origin "" for this node's own socket), and the request's bytes. */
struct scd_forward_job {
	struct scd_forward_job *next;
	char origin[SCD_HELLO_NAME_MAX + 1];
	uint64_t id;
	void *msg; /* the request, then the reply */
	size_t len;
};

/* done() runs on the loop with each finished job, which it frees (scd_forward_job_free). */
typedef void (*scd_forward_done_fn)(struct scd_forward_job *job, void *userdata);

int scd_forward_workers_start(sd_event *event, sc_cache *cache, scd_forward_done_fn done, void *userdata,
			      struct scd_forward_workers **out);
/* Stop taking jobs, wait for the running ones (a sync write waits majority_timeout_ms at most), free the rest. */
void scd_forward_workers_free(struct scd_forward_workers *w);

/* Queue the request msg[0, len) (copied): 0, -EBUSY when the queue is full, -ENOMEM. */
int scd_forward_workers_push(struct scd_forward_workers *w, const char *origin, uint64_t id, const void *msg,
			     size_t len);

void scd_forward_job_free(struct scd_forward_job *job);

#endif /* SCD_FORWARD_WORKER_H */
