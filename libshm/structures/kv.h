/* kv.h — KeyValue namespaces: what the time-to-live calls and a forwarded request share with the rest of KeyValue. */
#ifndef SC_KV_H
#define SC_KV_H

#include "structures/entries.h"

/* A namespace's entry key for key (NULL: the namespace's prefix alone), checked. Release k whatever the result. */
int sc_kv_key(sc_cache *c, const char *kv, const sc_field *key, struct sc_entry_key *k);

/*
 * Check the cache, the namespace kv and key, and route key's entry: *k
 * holds its entry key (release it with sc_entry_key_free() whatever the
 * result), *kf the bytes field route points to.
 */
int sc_kv_route(sc_cache *c, const char *kv, const sc_field *key, struct sc_entry_key *k, sc_field *kf,
		struct sc_route *route);

/* sc_kv_add() with a deadline (record/record_deadline.h; 0 for none). */
int sc_kv_put(sc_cache *c, const char *kv, sc_field key, sc_field value, uint64_t deadline);

/*
 * What a read-modify-write writes in place of current, the key's value
 * (pointing into its record, which the lock keeps; NULL when the key has
 * none): 0 with *next set, or a negative errno to write nothing.
 */
typedef int (*sc_kv_next_fn)(const sc_field *current, void *ctx, sc_field *next);

/*
 * Under the routed partition's lock: read the key's value (its newest), have
 * next_fn say what replaces it, and write that in place of every value the
 * key has, keeping the newest's time to live. The
 * write's result as the unlock gives it (-ETIMEDOUT also when the value was
 * written and not acknowledged in time). A write that did not happen logs
 * nothing, and waits for no acknowledgement.
 */
int sc_kv_rewrite(sc_cache *c, const struct sc_route *route, sc_kv_next_fn next_fn, void *ctx);

/*
 * A compare-and-set, as a primary runs it for sc_kv_update_fn() from
 * another node: under the partition's lock, key's value becomes value if
 * it is still expected (NULL: if key is still missing), keeping its time to
 * live; -ESTALE (nothing written) if it is not.
 */
int sc_kv_replace_if(sc_cache *c, const char *kv, sc_field key, const sc_field *expected, sc_field value);

/* sc_kv_get_all() with a read mode, as sc_kv_get_with() (for sc_forward_serve). */
int sc_kv_get_all_with(sc_cache *c, const char *kv, sc_field key, const sc_read_opts *opts, sc_tuples **out);

/* sc_kv_remove_all()'s share in structure partition idx, as its primary runs it for another node. */
int sc_kv_remove_all_part(sc_cache *c, const char *kv, uint32_t idx);

/*
 * A KeyValue listing's part in structure partition t[0] by opts' mode (for
 * sc_forward_serve too): t is (index, namespace); its pairs into *out.
 */
int sc_kv_list_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out);

#endif /* SC_KV_H */
