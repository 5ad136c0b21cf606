/* forward_worker.c — threads that run forwarded writes on this node's cache, off the event loop. */
#include "cluster/forward_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job_queue {
	struct scd_forward_job *head, *tail;
	size_t count;
};

struct scd_forward_workers {
	sc_cache *cache;
	scd_forward_done_fn done;
	void *userdata;
	int efd;
	sd_event_source *source;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct job_queue todo, finished;
	pthread_t threads[SCD_FORWARD_WORKERS];
	unsigned started;
};

static void queue_push(struct job_queue *q, struct scd_forward_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->count++;
}

static struct scd_forward_job *queue_take_all(struct job_queue *q)
{
	struct scd_forward_job *all = q->head;

	q->head = q->tail = NULL;
	q->count = 0;
	return all;
}

static struct scd_forward_job *queue_pop(struct job_queue *q)
{
	struct scd_forward_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
	}
	return j;
}

void scd_forward_job_free(struct scd_forward_job *job)
{
	if (job) {
		free(job->msg);
		free(job);
	}
}

static void *work(void *arg)
{
	struct scd_forward_workers *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct scd_forward_job *j;
		void *reply = NULL;
		size_t reply_len = 0;
		uint64_t one = 1;

		while (!w->stopping && !w->todo.head)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping)
			break;
		j = queue_pop(&w->todo);
		pthread_mutex_unlock(&w->lock);
		if (sc_forward_serve(w->cache, j->msg, j->len, &reply, &reply_len) != 0)
			sc_forward_reply(-ENOMEM, "the primary's coordinator ran out of memory for the reply",
					 &reply, &reply_len);
		free(j->msg);
		j->msg = reply; /* NULL only when even that failed: the origin times out */
		j->len = reply ? reply_len : 0;
		pthread_mutex_lock(&w->lock);
		queue_push(&w->finished, j);
		/* An eventfd write fails only past a count of 2^64 - 2: one per job never gets there. */
		ssize_t wrote = write(w->efd, &one, sizeof(one));
		(void)wrote;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int finished_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct scd_forward_workers *w = userdata;
	struct scd_forward_job *all;
	uint64_t n;

	(void)s;
	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&w->lock);
	all = queue_take_all(&w->finished);
	pthread_mutex_unlock(&w->lock);
	while (all) {
		struct scd_forward_job *next = all->next;

		w->done(all, w->userdata);
		all = next;
	}
	return 0;
}

int scd_forward_workers_start(sd_event *event, sc_cache *cache, scd_forward_done_fn done, void *userdata,
			      struct scd_forward_workers **out)
{
	struct scd_forward_workers *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->cache = cache;
	w->done = done;
	w->userdata = userdata;
	w->efd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		err = -errno;
		goto fail;
	}
	err = sd_event_add_io(event, &w->source, w->efd, EPOLLIN, finished_ready, w);
	if (err < 0)
		goto fail;
	for (; w->started < SCD_FORWARD_WORKERS; w->started++) {
		err = -pthread_create(&w->threads[w->started], NULL, work, w);
		if (err)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	scd_forward_workers_free(w);
	return err;
}

static void free_all(struct scd_forward_job *j)
{
	while (j) {
		struct scd_forward_job *next = j->next;

		scd_forward_job_free(j);
		j = next;
	}
}

void scd_forward_workers_free(struct scd_forward_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->started; i++)
		pthread_join(w->threads[i], NULL);
	free_all(queue_take_all(&w->todo));
	free_all(queue_take_all(&w->finished));
	sd_event_source_disable_unref(w->source);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int scd_forward_workers_push(struct scd_forward_workers *w, const char *origin, uint64_t id, const void *msg,
			     size_t len)
{
	struct scd_forward_job *j = calloc(1, sizeof(*j));
	int err = 0;

	if (!j || !(j->msg = malloc(len))) {
		free(j);
		return -ENOMEM;
	}
	snprintf(j->origin, sizeof(j->origin), "%s", origin);
	j->id = id;
	memcpy(j->msg, msg, len);
	j->len = len;
	pthread_mutex_lock(&w->lock);
	if (w->todo.count >= SCD_FORWARD_QUEUE_MAX) {
		err = -EBUSY;
	} else {
		queue_push(&w->todo, j);
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	if (err)
		scd_forward_job_free(j);
	return err;
}
