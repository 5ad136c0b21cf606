/* sys_lmdb.c — LMDB as a peer: a MDB_WRITEMAP|MDB_NOSYNC environment on /dev/shm, a transaction per op. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "bench.h"

/*
 * A B-tree leaf holds ~30 of these 124-byte nodes per 4 KiB page and every
 * committed write copies its path, so the map needs several times the live
 * data. With MDB_WRITEMAP the file on tmpfs is sparse: size costs nothing.
 */
#define MAP_BYTES_PER_KEY 2048
#define MIN_MAP_SIZE	  ((size_t)64 << 20)

/* The peer of supercache's configuration: in memory, nothing flushed, no copy of written pages. */
#define ENV_FLAGS (MDB_NOSUBDIR | MDB_NOSYNC | MDB_WRITEMAP)

struct lmdb_store {
	char path[64]; /* the data file; LMDB adds "<path>-lock" */
	char lock_path[80];
	size_t map_size;
};

struct lmdb_worker {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *read_txn; /* opened by the first get, reused by every later one */
};

static unsigned next_store;

static int lmdb_failed(const char *call, int rc)
{
	return bench_fail("%s: %s", call, mdb_strerror(rc));
}

static int remove_file(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return bench_fail("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static int lmdb_destroy(void *store)
{
	struct lmdb_store *st = store;
	int rc = remove_file(st->path);

	if (remove_file(st->lock_path))
		rc = -1;
	free(st);
	return rc;
}

/*
 * Each worker opens its own environment: an MDB_env must not be used
 * across fork(), and LMDB's locks belong to the process that opened it.
 */
static int lmdb_attach(void *store, void **out)
{
	struct lmdb_store *st = store;
	struct lmdb_worker *w = calloc(1, sizeof(*w));
	MDB_txn *txn;
	int rc;

	if (!w)
		return bench_fail("out of memory");
	rc = mdb_env_create(&w->env);
	if (rc) {
		free(w);
		return lmdb_failed("mdb_env_create", rc);
	}
	rc = mdb_env_set_mapsize(w->env, st->map_size);
	if (rc) {
		lmdb_failed("mdb_env_set_mapsize", rc);
		goto fail;
	}
	rc = mdb_env_open(w->env, st->path, ENV_FLAGS, 0600);
	if (rc) {
		bench_fail("mdb_env_open %s: %s", st->path, mdb_strerror(rc));
		goto fail;
	}
	rc = mdb_txn_begin(w->env, NULL, 0, &txn);
	if (rc) {
		lmdb_failed("mdb_txn_begin", rc);
		goto fail;
	}
	rc = mdb_dbi_open(txn, NULL, 0, &w->dbi);
	if (rc) {
		mdb_txn_abort(txn);
		lmdb_failed("mdb_dbi_open", rc);
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	if (rc) {
		lmdb_failed("mdb_txn_commit", rc);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	mdb_env_close(w->env);
	free(w);
	return -1;
}

static int lmdb_detach(void *worker)
{
	struct lmdb_worker *w = worker;

	if (w->read_txn)
		mdb_txn_abort(w->read_txn);
	mdb_env_close(w->env);
	free(w);
	return 0;
}

static int lmdb_create(size_t nkeys, void **out)
{
	struct lmdb_store *st = calloc(1, sizeof(*st));
	void *w;

	if (!st)
		return bench_fail("out of memory");
	snprintf(st->path, sizeof(st->path), "/dev/shm/supercache-bench-%d-lmdb-%u", (int)getpid(),
		 next_store++);
	snprintf(st->lock_path, sizeof(st->lock_path), "%s-lock", st->path);
	st->map_size = nkeys * MAP_BYTES_PER_KEY;
	if (st->map_size < MIN_MAP_SIZE)
		st->map_size = MIN_MAP_SIZE;
	/* Files left under these names by a crashed run with our pid would not be fresh. */
	if (remove_file(st->path) || remove_file(st->lock_path)) {
		free(st);
		return -1;
	}
	/* Creates the files, so a bad path or map size shows here rather than in every worker. */
	if (lmdb_attach(st, &w) || lmdb_detach(w)) {
		(void)lmdb_destroy(st); /* the attach failure is the one to report */
		return -1;
	}
	*out = st;
	return 0;
}

/* A thread may have one transaction at a time: a write ends this worker's read transaction first. */
static void end_reads(struct lmdb_worker *w)
{
	if (w->read_txn) {
		mdb_txn_abort(w->read_txn);
		w->read_txn = NULL;
	}
}

static int commit(MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	return rc ? lmdb_failed("mdb_txn_commit", rc) : 0;
}

static int put_in(struct lmdb_worker *w, MDB_txn *txn, const char *key, const char *value)
{
	MDB_val k = { BENCH_KEY_LEN, (void *)key };
	MDB_val v = { BENCH_VALUE_LEN, (void *)value };
	int rc = mdb_put(txn, w->dbi, &k, &v, 0);

	return rc ? lmdb_failed("mdb_put", rc) : 0;
}

static int begin_write(struct lmdb_worker *w, MDB_txn **txn)
{
	int rc;

	end_reads(w);
	rc = mdb_txn_begin(w->env, NULL, 0, txn);
	return rc ? lmdb_failed("mdb_txn_begin", rc) : 0;
}

static int lmdb_put(void *worker, const char *key, const char *value)
{
	struct lmdb_worker *w = worker;
	MDB_txn *txn;

	if (begin_write(w, &txn))
		return -1;
	if (put_in(w, txn, key, value)) {
		mdb_txn_abort(txn);
		return -1;
	}
	return commit(txn);
}

static int lmdb_put_batch(void *worker, const char (*keys)[BENCH_KEY_LEN],
			  const char (*values)[BENCH_VALUE_LEN], size_t n)
{
	struct lmdb_worker *w = worker;
	MDB_txn *txn;

	if (begin_write(w, &txn))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (put_in(w, txn, keys[i], values[i])) {
			mdb_txn_abort(txn);
			return -1;
		}
	}
	return commit(txn);
}

static int lmdb_del(void *worker, const char *key)
{
	struct lmdb_worker *w = worker;
	MDB_val k = { BENCH_KEY_LEN, (void *)key };
	MDB_txn *txn;
	int rc;

	if (begin_write(w, &txn))
		return -1;
	rc = mdb_del(txn, w->dbi, &k, NULL);
	if (rc) {
		mdb_txn_abort(txn);
		return bench_fail("mdb_del: key %.16s: %s", key, mdb_strerror(rc));
	}
	return commit(txn);
}

/*
 * One read transaction serves every get of the worker, as a reader that
 * holds a snapshot would: per-get transactions would measure
 * mdb_txn_begin, not lookups. The value is copied out, as sc_get copies.
 */
/* Every read goes through one read-only transaction, opened by the first read. */
static int begin_reads(struct lmdb_worker *w)
{
	int rc;

	if (w->read_txn)
		return 0;
	rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &w->read_txn);
	if (rc) {
		w->read_txn = NULL;
		return lmdb_failed("mdb_txn_begin (read-only)", rc);
	}
	return 0;
}

static int lmdb_get(void *worker, const char *key, char *value)
{
	struct lmdb_worker *w = worker;
	MDB_val k = { BENCH_KEY_LEN, (void *)key };
	MDB_val v;
	int rc = begin_reads(w);

	if (rc)
		return rc;
	rc = mdb_get(w->read_txn, w->dbi, &k, &v);
	if (rc)
		return bench_fail("mdb_get: key %.16s: %s", key, mdb_strerror(rc));
	if (v.mv_size != BENCH_VALUE_LEN)
		return bench_fail("mdb_get: key %.16s: %zu-byte value, %d expected", key, v.mv_size,
				  BENCH_VALUE_LEN);
	memcpy(value, v.mv_data, BENCH_VALUE_LEN);
	return 0;
}

/* A cursor in the worker's read transaction. */
static int open_cursor(struct lmdb_worker *w, MDB_cursor **cur)
{
	int rc = begin_reads(w);

	if (rc)
		return rc;
	rc = mdb_cursor_open(w->read_txn, w->dbi, cur);
	return rc ? lmdb_failed("mdb_cursor_open", rc) : 0;
}

/* A cursor, positioned on the key: LMDB's way to a key through its iteration interface. */
static int lmdb_match_key(void *worker, const char *key, char *value)
{
	struct lmdb_worker *w = worker;
	MDB_val k = { BENCH_KEY_LEN, (void *)key }, v;
	MDB_cursor *cur;
	int rc = open_cursor(w, &cur);

	if (rc)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (!rc && v.mv_size == BENCH_VALUE_LEN)
		memcpy(value, v.mv_data, BENCH_VALUE_LEN);
	mdb_cursor_close(cur);
	if (rc)
		return bench_fail("mdb_cursor_get: key %.16s: %s", key, mdb_strerror(rc));
	return v.mv_size == BENCH_VALUE_LEN
		       ? 0
		       : bench_fail("mdb_cursor_get: key %.16s: a %zu-byte value", key, v.mv_size);
}

/* Walk every entry with a cursor, handing each to fn; *visited counts them. */
static int walk(struct lmdb_worker *w, int (*fn)(const MDB_val *k, const MDB_val *v, void *ctx), void *ctx,
		size_t *visited)
{
	MDB_val k, v;
	MDB_cursor *cur;
	int rc = open_cursor(w, &cur);

	if (rc)
		return rc;
	*visited = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		(*visited)++;
		fn(&k, &v, ctx);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : lmdb_failed("mdb_cursor_get", rc);
}

struct value_search {
	const char *value;
	size_t found;
};

static int count_value(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct value_search *s = ctx;

	(void)k;
	s->found += v->mv_size == BENCH_VALUE_LEN && memcmp(v->mv_data, s->value, BENCH_VALUE_LEN) == 0;
	return 0;
}

static int lmdb_match_value(void *worker, const char *value, size_t *found)
{
	struct value_search s = { value, 0 };
	size_t visited;
	int rc = walk(worker, count_value, &s, &visited);

	*found = s.found;
	return rc;
}

static int consume(const MDB_val *k, const MDB_val *v, void *sum)
{
	*(uint64_t *)sum = bench_consume(*(uint64_t *)sum, k->mv_data, v->mv_data);
	return 0;
}

static int lmdb_scan(void *worker, size_t *visited)
{
	uint64_t sum = 0;

	return walk(worker, consume, &sum, visited);
}

const struct bench_system bench_lmdb = {
	.name = "lmdb",
	.threaded = false,
	.create = lmdb_create,
	.destroy = lmdb_destroy,
	.attach = lmdb_attach,
	.detach = lmdb_detach,
	.put = lmdb_put,
	.get = lmdb_get,
	.get_into = lmdb_get,
	.get_view = lmdb_get,
	.match_key = lmdb_match_key,
	.match_value = lmdb_match_value,
	.scan = lmdb_scan,
	.del = lmdb_del,
	.put_batch = lmdb_put_batch,
	.kv_add_batch = lmdb_put_batch, /* a namespace is a database: the same puts in one transaction */
};
