/* bench.h — the interface each system under test implements, and the fixed shape of the workload. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_KEY_LEN	   16
#define BENCH_VALUE_LEN	   100
#define BENCH_BATCH_LEN	   1000
#define BENCH_KV_BATCH_LEN 10000

/*
 * A system under test. The main process creates a fresh store for every
 * measurement and destroys it afterwards; each worker (a forked process, or
 * a thread when the system is in-process only) attaches its own view, so no
 * handle ever crosses a fork. The primitives are all a system supplies: the
 * passes, timing and fan-out are shared.
 *
 * Every function returns 0 on success, or -1 after bench_fail() has said
 * what went wrong.
 */
struct bench_system {
	const char *name;
	bool threaded; /* the store lives in one process: workers are threads */
	int (*create)(size_t nkeys, void **store);
	int (*destroy)(void *store); /* also removes the store's files */
	int (*attach)(void *store, void **worker);
	int (*detach)(void *worker);
	int (*put)(void *worker, const char *key, const char *value);
	/* Copies the BENCH_VALUE_LEN-byte value out; a missing key is an error. */
	int (*get)(void *worker, const char *key, char *value);
	/*
	 * The same, with nothing allocated and nothing to free (get_into: the
	 * result laid out in the worker's own buffer), or with nothing copied
	 * but the value (get_view: read in place). A system whose get is that
	 * already (an in-process table's lookup and copy, LMDB's get) gives its
	 * get for both, so that each row compares like with like.
	 */
	int (*get_into)(void *worker, const char *key, char *value);
	int (*get_view)(void *worker, const char *key, char *value);
	/* A missing key is an error: every delete pass deletes keys that exist. */
	int (*del)(void *worker, const char *key);
	/* n <= BENCH_BATCH_LEN tuples, keys[i] with values[i], written as one batch. */
	int (*put_batch)(void *worker, const char (*keys)[BENCH_KEY_LEN],
			 const char (*values)[BENCH_VALUE_LEN], size_t n);
	/*
	 * Queries; NULL when the system has none (that system is then left out
	 * of those measurements). match_key finds a key through the query
	 * interface (a pattern with the key bound; a cursor positioned on the
	 * key) and copies its value out. match_value and scan go over every
	 * tuple once: match_value counts those holding value (*found), scan
	 * hands each to a consumer that reads its key and value (*visited).
	 */
	int (*match_key)(void *worker, const char *key, char *value);
	int (*match_value)(void *worker, const char *value, size_t *found);
	int (*scan)(void *worker, size_t *visited);
	/*
	 * The seed's other structures; NULL when the system has none.
	 * kv_add_batch writes n <= BENCH_KV_BATCH_LEN pairs into one namespace
	 * as one batch. seq_add puts value at the back of one shared queue (on
	 * top of one shared stack); seq_take takes from its front (top) and
	 * copies the value out: taking from an empty one is an error.
	 * lazy_put buffers a put; flush stores what the worker buffered.
	 * kv_increment adds 1 to key's counter in one namespace (a missing
	 * key starting from 0).
	 */
	int (*kv_add_batch)(void *worker, const char (*keys)[BENCH_KEY_LEN],
			    const char (*values)[BENCH_VALUE_LEN], size_t n);
	int (*seq_add)(void *worker, bool stack, const char *value);
	int (*seq_take)(void *worker, bool stack, char *value);
	int (*lazy_put)(void *worker, const char *key, const char *value);
	int (*flush)(void *worker);
	int (*kv_increment)(void *worker, const char *key);
};

/*
 * What a scan does with each tuple, the same for every system: a checksum
 * of the first bytes of key and value, so that both are read.
 */
static inline uint64_t bench_consume(uint64_t sum, const void *key, const void *value)
{
	return sum * 31 + *(const unsigned char *)key + *(const unsigned char *)value;
}

extern const struct bench_system bench_supercache;
/*
 * Private copies of libsupercache built with probes compiled in
 * (-DSC_PROBES=1) and compiled out (-DSC_PROBES=0), flags otherwise the
 * same: see tools/bench/twin_link.sh.
 */
extern const struct bench_system bench_supercache_probes_on;
extern const struct bench_system bench_supercache_probes_off;
extern const struct bench_system bench_lmdb;
extern const struct bench_system bench_lfht;

/* The num_partition of every cache the bench creates (--partitions), 0 for the library's default. */
extern uint32_t bench_partitions;

/* Record the calling thread's error message; returns -1 so callers can `return bench_fail(...)`. */
int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calling thread's last message from bench_fail(), or "". */
const char *bench_last_error(void);

#endif /* BENCH_H */
