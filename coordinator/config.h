/* config.h — supercached's configuration: the file, command-line overrides, and their checks. */
#ifndef SCD_CONFIG_H
#define SCD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <supercache.h>

#define SCD_NAME_MAX 64
#define SCD_TEXT_MAX 4096
/* The longest line a configuration file may hold: a key, '=', and the longest text value, with room. */
#define SCD_LINE_MAX (SCD_TEXT_MAX + 256u)

/*
 * Every setting, with its default until the file or the command line says
 * otherwise. The seed's Configuration Options come first, then the memory
 * limit and what only a process-shared cache has, then the coordinator's own.
 */
struct scd_config {
	uint32_t key_pos;
	uint32_t partition_pos;
	uint32_t num_partition; /* 0: online CPUs, as the library's default */
	uint32_t table_type;	/* enum sc_table_type */
	char table_prefix[SCD_NAME_MAX + 1];
	uint32_t cluster;	   /* enum sc_cluster */
	uint32_t replication_mode; /* enum sc_replication_mode */
	uint32_t replication_factor;
	char cluster_peers[SCD_TEXT_MAX]; /* comma-separated host:port; empty: whoever registers in etcd */
	/* what a distributed cluster needs beyond the seed's keys (docs/distributed.md) */
	char cluster_name[SCD_NAME_MAX + 1]; /* empty until set; required in distributed mode */
	char node_name[SCD_NAME_MAX + 1];    /* empty: this host's name */
	char listen[SCD_NAME_MAX * 4];	     /* host:port of this node's peer links */
	char etcd_endpoints[SCD_TEXT_MAX];   /* comma-separated http://host:port */
	char secret_file[SCD_TEXT_MAX];	     /* the cluster's shared secret (peer link HMAC) */
	uint32_t lease_ms;		     /* this node's etcd lease: how long it lives unrenewed */
	uint32_t heartbeat_interval_ms;	     /* between two heartbeats on a peer link */
	uint32_t replica_lag_ms;	     /* behind for longer: out of the in-sync set */
	bool auto_start;
	bool debug_log;

	uint64_t memory_limit;
	uint32_t eviction; /* enum sc_eviction */
	uint32_t max_readers;
	uint64_t max_retired;
	char dir[SCD_TEXT_MAX];

	uint32_t maintenance_interval_ms;
	uint32_t health_interval_ms;
	uint32_t memory_alert_percent;
	uint32_t reclaim_backlog_alert_percent;
	uint32_t stalled_reader_ms;
	double partition_imbalance_ratio;
};

/* 1 to max letters, digits, '_' and '-': what the library accepts in a cache or file name. */
bool scd_config_name_valid(const char *s, size_t max);

/* The defaults (see packaging/supercache.conf, which lists each with its meaning). */
void scd_config_defaults(struct scd_config *cfg);

/*
 * Read a configuration file into cfg. Unknown keys, bad values and keys given
 * twice are refused: -EINVAL, with "FILE:LINE: key: what is wrong" in err.
 * A missing file is -ENOENT (the caller decides whether that is an error).
 */
int scd_config_load(struct scd_config *cfg, const char *path, char *err, size_t errlen);

/*
 * Set one key from text (a command-line override). -ENOENT if there is no
 * such key, -EINVAL if the value is wrong; err says which and why.
 */
int scd_config_set(struct scd_config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Checks across keys, after everything is read: 0, or -EINVAL naming the key. */
int scd_config_validate(const struct scd_config *cfg, char *err, size_t errlen);

/* The library's options for this configuration (prefix and dir point into cfg). */
void scd_config_options(const struct scd_config *cfg, sc_options *out);

/* Each key as `key = value`, one per line, as a configuration file would hold it. */
void scd_config_print(const struct scd_config *cfg, FILE *out);

/* Each key with its one-line meaning, for --help. */
void scd_config_print_keys(FILE *out);

/* The name of key i, or NULL past the last. */
const char *scd_config_key(unsigned i);

/* Key i's value, typed; text points into cfg or a static table. -ENOENT past the last key. */
enum scd_value_kind { SCD_VALUE_TEXT, SCD_VALUE_UINT, SCD_VALUE_DOUBLE, SCD_VALUE_BOOL };
struct scd_value {
	enum scd_value_kind kind;
	uint64_t u;
	double d;
	bool b;
	const char *text;
};
int scd_config_value(const struct scd_config *cfg, unsigned i, struct scd_value *out);
#endif /* SCD_CONFIG_H */
