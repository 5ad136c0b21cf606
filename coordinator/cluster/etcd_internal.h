/*
 * etcd_internal.h — what etcd.c (transport, unary requests) offers etcd_watch.c (watch streams).
 *
 * The dependency goes one way: etcd_watch.c calls into etcd.c, never the
 * other way round. What etcd.c has to tell the watches (a transfer
 * finished, a round of libcurl's work is to be read, an endpoint failed,
 * the client is being freed) goes through function pointers the watch
 * module installs: a transfer's done callback and the client's streams.
 */
#ifndef SCD_ETCD_INTERNAL_H
#define SCD_ETCD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "cluster/etcd.h"

#define ETCD_ENDPOINTS_MAX 16u

struct etcd_xfer;

/*
 * A transfer finished with rc (CURLE_OK when it ran to its end): called from
 * etcd_dispatch() only, busy above 0, with x's handle off the multi handle
 * already but not yet freed.
 */
typedef void (*etcd_xfer_done_fn)(struct etcd_xfer *x, CURLcode rc);

/* What an easy handle's CURLINFO_PRIVATE points at: the first member of a call and of a watch. */
struct etcd_xfer {
	etcd_xfer_done_fn done; /* set by the owner before the transfer is opened */
	CURL *easy;		/* NULL when no transfer is open */
	struct curl_slist *headers;
	unsigned endpoint; /* index into the client's endpoints */
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd_socket;

/*
 * The hooks of the module whose transfers outlive a round of the loop (the
 * watch streams), installed on the client when its first one is created;
 * NULL until then, when there is nothing for them to do.
 */
struct etcd_streams {
	/* First thing in every etcd_dispatch(), busy above 0: read what the streams hold. */
	void (*deliver)(struct scd_etcd *etcd);
	/* From etcd_endpoint_failed(), after the client moved on: break the streams on that endpoint. */
	void (*endpoint_failed)(struct scd_etcd *etcd, unsigned index);
	/* From scd_etcd_free(): free every stream; no callback runs after it. */
	void (*free_all)(struct scd_etcd *etcd);
};

struct scd_etcd {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer; /* libcurl's one timeout */
	char *endpoints[ETCD_ENDPOINTS_MAX];
	unsigned n_endpoints;
	unsigned current; /* where the next unary request goes */
	uint64_t timeout_usec;
	struct scd_etcd_call *calls;
	const struct etcd_streams *streams;
	struct scd_etcd_watch *watches; /* etcd_watch.c's: etcd.c never reads it */
	struct etcd_socket *sockets;
	/*
	 * Callbacks run only from etcd_dispatch(), with busy above 0; what they
	 * free in the meantime is marked dead and released when it is no longer
	 * in use, and a client freed from a callback goes when busy is 0 again.
	 */
	unsigned busy;
	bool freeing;
};

/*
 * An easy handle for POST endpoint + path with body, its write callback
 * handing data to owner, on x (done, endpoint set by the caller). Not yet
 * added to the multi handle. 0, or -ENOMEM.
 */
int etcd_xfer_open(struct scd_etcd *etcd, struct etcd_xfer *x, const char *path, const char *body,
		   curl_write_callback write_fn, void *owner);
/* Take x's transfer off the multi handle (when added) and free it. */
void etcd_xfer_close(struct scd_etcd *etcd, struct etcd_xfer *x, bool added);

/* The errno for a transfer that ended with rc (0 for CURLE_OK), and whether it says the endpoint failed. */
int etcd_curl_errno(struct etcd_xfer *x, CURLcode rc, bool *endpoint_failed);

/* The endpoint at index failed: later requests go to the next one, and watches on it reconnect. */
void etcd_endpoint_failed(struct scd_etcd *etcd, unsigned index);

#endif /* SCD_ETCD_INTERNAL_H */
