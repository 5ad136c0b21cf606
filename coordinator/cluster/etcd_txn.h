/* etcd_txn.h — building etcd's transactions (/v3/kv/txn) and reading their answers, as the gateway spells them. */
#ifndef SCD_ETCD_TXN_H
#define SCD_ETCD_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cluster/etcd.h"

/* A comparison: key's target ("CREATE", "MOD", ...) field ("create_revision", "mod_revision") equals value. */
struct json_object *scd_txn_compare(const char *key, const char *target, const char *field, int64_t value);
/* A put of value's JSON text (value taken) at key, under lease unless 0. */
struct json_object *scd_txn_put(const char *key, struct json_object *value, int64_t lease);
struct json_object *scd_txn_range(const char *key);

/* An empty txn; then add to its "compare", "success" or "failure" list (op taken). */
struct json_object *scd_txn_new(void);
void scd_txn_add(struct json_object *txn, const char *list, struct json_object *op);

bool scd_txn_succeeded(struct json_object *reply);

/* The first kv of a txn's first range response, or of a range's reply: 1 found, 0 none, -EPROTO. */
int scd_txn_first_kv(struct json_object *reply, struct scd_etcd_kv *kv, char *why, size_t whylen);

#endif /* SCD_ETCD_TXN_H */
