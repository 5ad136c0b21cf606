/* in_sync.c — a primary's change of its partition's in-sync set, written to etcd only if nothing moved under it. */
#include "cluster/in_sync.h"

#include <errno.h>
#include <stdlib.h>

#include "cluster/etcd_txn.h"

/* One partition's write in flight. */
struct isr_call {
	struct scd_isr_writer *w;
	struct scd_etcd_call *call; /* NULL when none */
	uint32_t partition;
	int64_t epoch;
	struct scd_isr want;
};

struct scd_isr_writer {
	struct scd_etcd *etcd;
	const struct scd_cluster_state *state;
	scd_isr_written_fn done;
	void *userdata;
	struct isr_call *calls; /* [num_partition] */
};

int scd_isr_writer_new(struct scd_etcd *etcd, const struct scd_cluster_state *state, scd_isr_written_fn done,
		       void *userdata, struct scd_isr_writer **out)
{
	struct scd_isr_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->calls = calloc(state->num_partition, sizeof(*w->calls));
	if (!w->calls) {
		free(w);
		return -ENOMEM;
	}
	w->etcd = etcd;
	w->state = state;
	w->done = done;
	w->userdata = userdata;
	for (uint32_t p = 0; p < state->num_partition; p++) {
		w->calls[p].w = w;
		w->calls[p].partition = p;
	}
	*out = w;
	return 0;
}

void scd_isr_writer_free(struct scd_isr_writer *w)
{
	if (!w)
		return;
	for (uint32_t p = 0; p < w->state->num_partition; p++)
		scd_etcd_cancel(w->calls[p].call);
	free(w->calls);
	free(w);
}

static void written(int err, struct json_object *reply, const char *why, void *userdata)
{
	struct isr_call *c = userdata;
	int64_t revision = 0;
	int result = err;

	(void)why;
	c->call = NULL;
	if (!err) {
		result = scd_txn_succeeded(reply) ? 1 : 0;
		if (scd_etcd_revision(reply, &revision))
			result = -EPROTO;
	}
	c->w->done(c->w->userdata, c->partition, c->epoch, &c->want, result, revision);
}

int scd_isr_write(struct scd_isr_writer *w, uint32_t partition, int64_t epoch, int64_t isr_revision,
		  const struct scd_isr *want)
{
	char record[SCD_ETCD_KEY_MAX], key[SCD_ETCD_KEY_MAX];
	struct isr_call *c;
	struct json_object *t, *value;

	if (partition >= w->state->num_partition || epoch <= 0 || isr_revision < 0 ||
	    scd_state_key(w->state, record, sizeof(record), "partitions/%u", partition) ||
	    scd_state_key(w->state, key, sizeof(key), "isr/%u", partition))
		return -EINVAL;
	c = &w->calls[partition];
	if (c->call)
		return -EBUSY;
	value = scd_isr_json(want);
	t = scd_txn_new();
	if (!value || !t) {
		json_object_put(value);
		json_object_put(t);
		return -ENOMEM;
	}
	scd_txn_add(t, "compare", scd_txn_compare(record, "MOD", "mod_revision", epoch));
	scd_txn_add(t, "compare", scd_txn_compare(key, "MOD", "mod_revision", isr_revision));
	scd_txn_add(t, "success", scd_txn_put(key, value, 0));
	c->epoch = epoch;
	c->want = *want;
	return scd_etcd_post(w->etcd, "/v3/kv/txn", t, written, c, &c->call);
}
