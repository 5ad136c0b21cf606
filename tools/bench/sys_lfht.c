/* sys_lfht.c — liburcu's lock-free hash table as an in-process peer: RCU lookups, call_rcu frees. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Inline read-side fast paths, as applications built with liburcu get
 * them (allowed to LGPL-compatible code; this is MIT).
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bench.h"

/* Key and value inline, like a supercache record: one allocation and one miss to reach both. */
struct node {
	struct cds_lfht_node ht;
	struct rcu_head rcu;
	char key[BENCH_KEY_LEN];
	char value[BENCH_VALUE_LEN];
};

struct lfht_store {
	struct cds_lfht *ht;
};

static unsigned long hash_key(const char *key)
{
	return (unsigned long)XXH3_64bits(key, BENCH_KEY_LEN);
}

static int match(struct cds_lfht_node *ht_node, const void *key)
{
	return memcmp(caa_container_of(ht_node, struct node, ht)->key, key, BENCH_KEY_LEN) == 0;
}

static void free_node(struct rcu_head *head)
{
	free(caa_container_of(head, struct node, rcu));
}

/*
 * Sized for every key up front, as an in-process table would be when its
 * size is known: measurements see no resize. It still grows if needed.
 */
static int lfht_create(size_t nkeys, void **out)
{
	struct lfht_store *st = malloc(sizeof(*st));
	unsigned long buckets = 1;

	if (!st)
		return bench_fail("out of memory");
	while (buckets < nkeys)
		buckets <<= 1;
	st->ht = cds_lfht_new_flavor(buckets, buckets, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				     &urcu_memb_flavor, NULL);
	if (!st->ht) {
		free(st);
		return bench_fail("cds_lfht_new_flavor: cannot make a table of %lu buckets", buckets);
	}
	*out = st;
	return 0;
}

/* A worker is a thread; its registration with RCU is all its state, so the store is its handle. */
static int lfht_attach(void *store, void **out)
{
	urcu_memb_register_thread();
	*out = store;
	return 0;
}

static int lfht_detach(void *worker)
{
	(void)worker;
	urcu_memb_unregister_thread();
	return 0;
}

/* The table is emptied before cds_lfht_destroy, which refuses a table that still has nodes. */
static int lfht_destroy(void *store)
{
	struct lfht_store *st = store;
	struct cds_lfht_node *found;
	struct cds_lfht_iter iter;
	int rc;

	urcu_memb_register_thread();
	urcu_memb_read_lock();
	cds_lfht_first(st->ht, &iter);
	while ((found = cds_lfht_iter_get_node(&iter))) {
		cds_lfht_next(st->ht, &iter);
		if (cds_lfht_del(st->ht, found) == 0)
			urcu_memb_call_rcu(&caa_container_of(found, struct node, ht)->rcu, free_node);
	}
	urcu_memb_read_unlock();
	/* Every node freed (and no callback left to touch the table) before it goes. */
	urcu_memb_barrier();
	urcu_memb_unregister_thread();
	rc = cds_lfht_destroy(st->ht, NULL);
	free(st);
	return rc ? bench_fail("cds_lfht_destroy: %s", strerror(-rc)) : 0;
}

static int lfht_put(void *worker, const char *key, const char *value)
{
	struct lfht_store *st = worker;
	struct node *n = malloc(sizeof(*n));
	struct cds_lfht_node *old;

	if (!n)
		return bench_fail("out of memory for a node");
	cds_lfht_node_init(&n->ht);
	memcpy(n->key, key, BENCH_KEY_LEN);
	memcpy(n->value, value, BENCH_VALUE_LEN);
	urcu_memb_read_lock();
	old = cds_lfht_add_replace(st->ht, hash_key(key), match, key, &n->ht);
	urcu_memb_read_unlock();
	if (old)
		urcu_memb_call_rcu(&caa_container_of(old, struct node, ht)->rcu, free_node);
	return 0;
}

static int lfht_get(void *worker, const char *key, char *value)
{
	struct lfht_store *st = worker;
	struct cds_lfht_node *found;
	struct cds_lfht_iter iter;

	urcu_memb_read_lock();
	cds_lfht_lookup(st->ht, hash_key(key), match, key, &iter);
	found = cds_lfht_iter_get_node(&iter);
	if (found)
		memcpy(value, caa_container_of(found, struct node, ht)->value, BENCH_VALUE_LEN);
	urcu_memb_read_unlock();
	return found ? 0 : bench_fail("lfht lookup: key %.16s not found", key);
}

static int lfht_del(void *worker, const char *key)
{
	struct lfht_store *st = worker;
	struct cds_lfht_node *found;
	struct cds_lfht_iter iter;
	int rc = -ENOENT;

	urcu_memb_read_lock();
	cds_lfht_lookup(st->ht, hash_key(key), match, key, &iter);
	found = cds_lfht_iter_get_node(&iter);
	if (found)
		rc = cds_lfht_del(st->ht, found);
	urcu_memb_read_unlock();
	if (rc)
		return bench_fail("lfht delete: key %.16s not found", key);
	urcu_memb_call_rcu(&caa_container_of(found, struct node, ht)->rcu, free_node);
	return 0;
}

/* The table has no batched write: a batch is that many puts. */
static int lfht_put_batch(void *worker, const char (*keys)[BENCH_KEY_LEN],
			  const char (*values)[BENCH_VALUE_LEN], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lfht_put(worker, keys[i], values[i]))
			return -1;
	return 0;
}

const struct bench_system bench_lfht = {
	.name = "lfht",
	.threaded = true,
	.create = lfht_create,
	.destroy = lfht_destroy,
	.attach = lfht_attach,
	.detach = lfht_detach,
	.put = lfht_put,
	.get = lfht_get,
	.get_into = lfht_get,
	.get_view = lfht_get,
	.del = lfht_del,
	.put_batch = lfht_put_batch,
	.kv_add_batch = lfht_put_batch,
};
