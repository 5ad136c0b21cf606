/* etcd_internal.h — what etcd.c (transport, unary requests) and etcd_watch.c (watch streams) share. */
#ifndef SCD_ETCD_INTERNAL_H
#define SCD_ETCD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "cluster/etcd.h"

#define ETCD_ENDPOINTS_MAX 16u

/* What an easy handle's CURLINFO_PRIVATE points at: the first member of a call and of a watch. */
enum etcd_kind { ETCD_CALL = 1, ETCD_WATCH = 2 };
struct etcd_xfer {
	enum etcd_kind kind;
	CURL *easy; /* NULL when no transfer is open */
	struct curl_slist *headers;
	unsigned endpoint; /* index into the client's endpoints */
	char errbuf[CURL_ERROR_SIZE];
};

struct etcd_socket;

struct scd_etcd {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer; /* libcurl's one timeout */
	char *endpoints[ETCD_ENDPOINTS_MAX];
	unsigned n_endpoints;
	unsigned current; /* where the next unary request goes */
	uint64_t timeout_usec;
	struct scd_etcd_call *calls;
	struct scd_etcd_watch *watches;
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
 * handing data to owner, on x (kind, endpoint set by the caller). Not yet
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

/* etcd_watch.c, for etcd.c's loop. */
void etcd_watch_deliver_all(struct scd_etcd *etcd);
void etcd_watch_done(struct scd_etcd_watch *w, CURLcode rc);
void etcd_watch_endpoint_failed(struct scd_etcd *etcd, unsigned index);
void etcd_watch_free_all(struct scd_etcd *etcd);

#endif /* SCD_ETCD_INTERNAL_H */
