/* replication.c — a distributed cache's replication logs as its segment shows them: rates and lag. */
#include <stdlib.h>
#include <string.h>

#include <supercache.h>

#include "top.h"

sc_cache *top_replication_open(const struct top_options *o)
{
	sc_options ro = { .sz = sizeof(ro), .read_only = 1 };
	sc_cache *c = NULL;
	sc_options cfg = SC_OPTIONS();

	/* No segment, or a local one: nothing to show, and nothing to say about it but "local". */
	if (sc_attach(o->name, &ro, &c) != 0)
		return NULL;
	if (sc_config(c, &cfg) != 0 || cfg.cluster != SC_CLUSTER_DISTRIBUTED) {
		sc_stop(c);
		return NULL;
	}
	return c;
}

void top_replication_close(sc_cache *c)
{
	if (c)
		sc_stop(c);
}

void top_replication_take(sc_cache *c, struct top_replication *out)
{
	sc_options cfg = SC_OPTIONS();

	memset(out, 0, sizeof(*out));
	if (!c || sc_config(c, &cfg) != 0)
		return;
	out->distributed = true;
	for (uint32_t log = 0; log < 2 * cfg.num_partition; log++) {
		sc_repl_state st;

		if (sc_repl_state_read(c, log, &st) != 0)
			continue;
		out->appended += st.entries;
		out->unshipped_lost += st.unshipped_lost;
		out->resyncs += st.resyncs;
		/* Shipping and acknowledgements happen on the partition's primary only. */
		if (sc_cluster_acting_primary(c, log % cfg.num_partition) != 1)
			continue;
		out->logs_primary++;
		out->shipped += st.shipped_lseq;
		out->acked += st.acked_lseq;
		if (st.last_lseq > st.acked_lseq) {
			uint64_t behind = st.last_lseq - st.acked_lseq;

			out->lag_total += behind;
			if (behind > out->lag_max) {
				out->lag_max = behind;
				out->lag_max_log = log;
			}
		}
	}
}

static uint64_t since(uint64_t now, uint64_t before)
{
	/* A sum over the logs this node is primary of drops when one stops being: no negative rate. */
	return now > before ? now - before : 0;
}

void top_replication_since(struct top_replication *r, const struct top_replication *before)
{
	r->appended = since(r->appended, before->appended);
	r->shipped = since(r->shipped, before->shipped);
	r->acked = since(r->acked, before->acked);
	r->unshipped_lost = since(r->unshipped_lost, before->unshipped_lost);
	r->resyncs = since(r->resyncs, before->resyncs);
}
