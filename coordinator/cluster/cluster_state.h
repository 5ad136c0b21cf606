/* cluster_state.h — what a node knows of its cluster from etcd: members, controller, each partition's record. */
#ifndef SCD_CLUSTER_STATE_H
#define SCD_CLUSTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <supercache.h>

#include "cluster/etcd.h"
#include "cluster/frame.h"

/*
 * The keys, under /supercache/<cluster>/ (docs/distributed.md, "etcd keys"):
 *
 *   config          the structural options every node must share (JSON object of strings)
 *   members/<node>  {"listen": "host:port"}, under the node's lease: it is alive
 *   controller      {"node": "<node>"}, under the controller's lease
 *   partitions/<p>  {"primary": "<node>", "replicas": ["<node>", ...]}; the epoch
 *                   is the key's mod_revision
 *   isr/<p>         {"in_sync": ["<node>", ...]}: the replicas that hold every
 *                   write acknowledged in sync mode. It belongs to the record's
 *                   epoch when its mod_revision is not below it: the controller
 *                   writes both in one txn, and the primary writes it alone in
 *                   a txn that requires the record unchanged
 *
 * Anything else under the prefix is ignored; a value that does not decode
 * is refused (logged by the caller) and the key read as absent.
 */
#define SCD_MAX_MEMBERS SC_MAX_NODES
#define SCD_LISTEN_MAX	256u
#define SCD_KEY_ROOT	"/supercache/"
#define SCD_PREFIX_MAX	(sizeof(SCD_KEY_ROOT) + SCD_HELLO_NAME_MAX + 1)

struct scd_member {
	char name[SCD_HELLO_NAME_MAX + 1];
	char listen[SCD_LISTEN_MAX];
	int64_t lease;
	int64_t created; /* the member key's create_revision */
};

/* A partition's record as etcd holds it; epoch 0: no record yet. */
struct scd_record {
	int64_t epoch;
	char primary[SCD_HELLO_NAME_MAX + 1]; /* "" when none */
	uint32_t replica_count;
	char replicas[SC_MAX_REPLICATION_FACTOR][SCD_HELLO_NAME_MAX + 1];
};

/* A partition's in-sync set as etcd holds it; revision 0: no key. */
struct scd_isr {
	int64_t revision; /* the key's mod_revision */
	uint32_t count;
	char nodes[SC_MAX_REPLICATION_FACTOR][SCD_HELLO_NAME_MAX + 1];
};

struct scd_cluster_state {
	char prefix[SCD_PREFIX_MAX]; /* /supercache/<cluster>/ */
	uint32_t num_partition;
	uint32_t member_count;
	struct scd_member members[SCD_MAX_MEMBERS];
	char controller[SCD_HELLO_NAME_MAX + 1]; /* "" when none */
	int64_t controller_since;		 /* the controller key's create_revision */
	struct scd_record *records;		 /* [num_partition] */
	struct scd_isr *isrs;			 /* [num_partition] */
};

/* What a put or delete changed. */
enum {
	SCD_CHANGED_MEMBERS = 1u,
	SCD_CHANGED_CONTROLLER = 2u,
	SCD_CHANGED_RECORDS = 4u,
};

int scd_state_init(struct scd_cluster_state *st, const char *cluster, uint32_t num_partition);
void scd_state_free(struct scd_cluster_state *st);
/* Forget every member, the controller and every record: before a full read of the prefix. */
void scd_state_clear(struct scd_cluster_state *st);

/*
 * Apply a key's new value (a range's kv, a watch's put) or its deletion:
 * SCD_CHANGED_* bits, 0 for a key that is not ours; -EPROTO with why
 * when the value does not decode (the key then reads as absent), -ENOSPC
 * when a member would be the 65th.
 */
int scd_state_put(struct scd_cluster_state *st, const struct scd_etcd_kv *kv, char *why, size_t whylen);
int scd_state_delete(struct scd_cluster_state *st, const char *key);

/* The member called name, or NULL. */
const struct scd_member *scd_state_member(const struct scd_cluster_state *st, const char *name);

/* A key under the prefix: "members/n1" -> "/supercache/<cluster>/members/n1". 0, or -ENAMETOOLONG. */
int scd_state_key(const struct scd_cluster_state *st, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Whether isr is the in-sync set of record r's epoch (written with r or after it). */
bool scd_isr_current(const struct scd_isr *isr, const struct scd_record *r);
/* Whether node is in isr. */
bool scd_isr_has(const struct scd_isr *isr, const char *node);

/* A copy's position for acknowledgements: the node, and how far its log is known to be on it. */
struct scd_isr_position {
	const char *node;
	uint64_t lseq;
};

/*
 * How far a log is acknowledged by the in-sync set isr: the least position
 * among the copies that count (at[0, n), the primary's own among them),
 * or 0 when those of isr's members are fewer than majority (nothing is
 * acknowledged then). While a change to the set is being written, the
 * members it adds count too (proposed; NULL when none is): etcd may hold it
 * already, and a new primary may be picked from it, so no write may be
 * acknowledged without them (Kafka's maximal ISR, KIP-497). Members it
 * removes count until it is written, as isr still holds them.
 */
uint64_t scd_isr_acked(const struct scd_isr *isr, const struct scd_isr *proposed,
		       const struct scd_isr_position *at, uint32_t n, uint32_t majority);

/* The JSON values this node writes. */
struct json_object *scd_record_json(const struct scd_record *r);
struct json_object *scd_isr_json(const struct scd_isr *isr);
struct json_object *scd_member_json(const char *listen);

#endif /* SCD_CLUSTER_STATE_H */
