/* config.c — supercached's configuration keys: one table drives the file, the overrides and --help. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"

enum key_type { KEY_UINT32, KEY_SIZE, KEY_BOOL, KEY_CHOICE, KEY_TEXT, KEY_NAME, KEY_RATIO };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max;	    /* KEY_UINT32, KEY_SIZE; KEY_CHOICE: min is the first choice's value */
	const char *const *choices; /* KEY_CHOICE: value min + i is choices[i] */
	size_t size;		    /* KEY_TEXT, KEY_NAME: buffer size */
	const char *help;
};

static const char *const table_types[] = { "set", "ordered_set", "bag", "duplicate_bag", NULL };
static const char *const clusters[] = { "local", "distributed", NULL };
static const char *const replication_modes[] = { "async", "sync", "strong", NULL };
static const char *const evictions[] = { "off", "clock", NULL };

#define AT(field)      offsetof(struct scd_config, field)
#define SIZE_OF(field) sizeof(((struct scd_config *)0)->field)

static const struct key keys[] = {
	{ "key_pos", KEY_UINT32, AT(key_pos), 0, 254, NULL, 0, "tuple field holding the key" },
	{ "partition_pos", KEY_UINT32, AT(partition_pos), 0, 254, NULL, 0,
	  "tuple field hashed to pick the partition" },
	{ "num_partition", KEY_UINT32, AT(num_partition), 0, 4096, NULL, 0,
	  "number of partitions (0: one per online CPU)" },
	{ "table_type", KEY_CHOICE, AT(table_type), SC_SET, 0, table_types, 0,
	  "set, ordered_set, bag or duplicate_bag" },
	{ "table_prefix", KEY_NAME, AT(table_prefix), 0, 0, NULL, SIZE_OF(table_prefix),
	  "segment file prefix: <dir>/<table_prefix>.<name>.seg" },
	{ "cluster", KEY_CHOICE, AT(cluster), SC_CLUSTER_LOCAL, 0, clusters, 0,
	  "local (distributed comes with replication)" },
	{ "replication_mode", KEY_CHOICE, AT(replication_mode), SC_REPLICATION_ASYNC, 0, replication_modes, 0,
	  "async, sync or strong (distributed mode)" },
	{ "replication_factor", KEY_UINT32, AT(replication_factor), 1, 16, NULL, 0,
	  "copies of each partition, primary included (distributed mode)" },
	{ "cluster_peers", KEY_TEXT, AT(cluster_peers), 0, 0, NULL, SIZE_OF(cluster_peers),
	  "peer coordinators, host:port separated by commas; empty: whoever registers in etcd" },
	{ "cluster_name", KEY_TEXT, AT(cluster_name), 0, 0, NULL, SIZE_OF(cluster_name),
	  "the cluster's name, its etcd keys' prefix (distributed mode)" },
	{ "node_name", KEY_TEXT, AT(node_name), 0, 0, NULL, SIZE_OF(node_name),
	  "this node's name in the cluster (default: the host name)" },
	{ "listen", KEY_TEXT, AT(listen), 0, 0, NULL, SIZE_OF(listen),
	  "host:port where this node's peer links are accepted (distributed mode)" },
	{ "etcd_endpoints", KEY_TEXT, AT(etcd_endpoints), 0, 0, NULL, SIZE_OF(etcd_endpoints),
	  "etcd members, http://host:port separated by commas (distributed mode)" },
	{ "secret_file", KEY_TEXT, AT(secret_file), 0, 0, NULL, SIZE_OF(secret_file),
	  "file holding the cluster's shared secret, 32 to 4096 bytes, not readable by others" },
	{ "lease_ms", KEY_UINT32, AT(lease_ms), 1000, 600000, NULL, 0,
	  "how long this node's etcd lease outlives its last renewal (distributed mode)" },
	{ "heartbeat_interval_ms", KEY_UINT32, AT(heartbeat_interval_ms), 10, 60000, NULL, 0,
	  "time between two heartbeats on a peer link (distributed mode)" },
	{ "replica_lag_ms", KEY_UINT32, AT(replica_lag_ms), 10, 600000, NULL, 0,
	  "how long a replica may be behind its primary before it leaves the in-sync set (distributed mode)" },
	{ "auto_start", KEY_BOOL, AT(auto_start), 0, 0, NULL, 0,
	  "the seed's start-on-boot flag; here `systemctl enable supercached@NAME` does that" },
	{ "debug_log", KEY_BOOL, AT(debug_log), 0, 0, NULL, 0,
	  "log every maintenance pass (SetDebugLog changes it)" },
	{ "memory_limit", KEY_SIZE, AT(memory_limit), 1ull << 20, 64ull << 30, NULL, 0,
	  "bytes of shared memory the cache may use (suffixes K, M, G)" },
	{ "eviction", KEY_CHOICE, AT(eviction), 0, 0, evictions, 0,
	  "at the memory limit: off (-ENOSPC) or clock" },
	{ "max_readers", KEY_UINT32, AT(max_readers), 1, 65536, NULL, 0,
	  "reader threads over all processes" },
	{ "max_retired", KEY_SIZE, AT(max_retired), 0, 64ull << 30, NULL, 0,
	  "retired bytes readers may hold back (0: memory_limit / 2)" },
	{ "dir", KEY_TEXT, AT(dir), 0, 0, NULL, SIZE_OF(dir), "directory of the segment file" },
	{ "maintenance_interval_ms", KEY_UINT32, AT(maintenance_interval_ms), 10, 3600000, NULL, 0,
	  "how often to reclaim, release dead readers and expire" },
	{ "health_interval_ms", KEY_UINT32, AT(health_interval_ms), 10, 3600000, NULL, 0,
	  "how often to run the health check (HealthCheck signal)" },
	{ "memory_alert_percent", KEY_UINT32, AT(memory_alert_percent), 1, 100, NULL, 0,
	  "alert when memory use reaches this share of memory_limit" },
	{ "reclaim_backlog_alert_percent", KEY_UINT32, AT(reclaim_backlog_alert_percent), 1, 100, NULL, 0,
	  "alert when retired bytes reach this share of max_retired" },
	{ "stalled_reader_ms", KEY_UINT32, AT(stalled_reader_ms), 1, 86400000, NULL, 0,
	  "alert when one read section has been open this long" },
	{ "partition_imbalance_ratio", KEY_RATIO, AT(partition_imbalance_ratio), 0, 0, NULL, 0,
	  "alert when the largest partition holds this many times the mean's bytes" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void scd_config_defaults(struct scd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->table_prefix, sizeof(cfg->table_prefix), "supercache");
	snprintf(cfg->dir, sizeof(cfg->dir), "/dev/shm");
	cfg->table_type = SC_SET;
	cfg->cluster = SC_CLUSTER_LOCAL;
	cfg->replication_mode = SC_REPLICATION_ASYNC;
	cfg->replication_factor = 2;
	cfg->lease_ms = 5000;
	cfg->heartbeat_interval_ms = 500;
	cfg->replica_lag_ms = 1000;
	cfg->memory_limit = 1ull << 30;
	cfg->eviction = SC_EVICTION_OFF;
	cfg->max_readers = 1024;
	cfg->maintenance_interval_ms = 1000;
	cfg->health_interval_ms = 10000;
	cfg->memory_alert_percent = 90;
	cfg->reclaim_backlog_alert_percent = 50;
	cfg->stalled_reader_ms = 5000;
	cfg->partition_imbalance_ratio = 4.0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int parse_uint(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* A decimal number with an optional binary suffix (K, M, G, T; "KiB", "KB" and "K" alike). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift) {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off",
										       "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -EINVAL;
}

static void choice_list(const struct key *k, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; k->choices[i] && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", k->choices[i]);
}

bool scd_config_name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static int set_value(struct scd_config *cfg, const struct key *k, const char *v, char *err, size_t errlen)
{
	char *field = (char *)cfg + k->offset;
	uint64_t n;

	switch (k->type) {
	case KEY_UINT32:
	case KEY_SIZE:
		if ((k->type == KEY_UINT32 ? parse_uint(v, &n) : parse_size(v, &n)) || n < k->min ||
		    n > k->max)
			return fail(err, errlen, "%s = %s: want %s from %" PRIu64 " to %" PRIu64, k->name, v,
				    k->type == KEY_SIZE ? "a size in bytes" : "a whole number", k->min,
				    k->max);
		if (k->type == KEY_SIZE)
			memcpy(field, &n, sizeof(uint64_t));
		else
			memcpy(field, &(uint32_t){ (uint32_t)n }, sizeof(uint32_t));
		return 0;
	case KEY_BOOL:
		if (parse_bool(v, (bool *)field))
			return fail(err, errlen, "%s = %s: want true or false", k->name, v);
		return 0;
	case KEY_CHOICE: {
		const char *want = *v == ':' ? v + 1 : v; /* the seed writes atoms: :set */
		char list[128];

		for (uint32_t i = 0; k->choices[i]; i++)
			if (strcmp(want, k->choices[i]) == 0)
				return memcpy(field, &(uint32_t){ (uint32_t)k->min + i }, sizeof(uint32_t)),
				       0;
		choice_list(k, list, sizeof(list));
		return fail(err, errlen, "%s = %s: want one of %s", k->name, v, list);
	}
	case KEY_NAME:
		if (!scd_config_name_valid(v, k->size - 1))
			return fail(err, errlen, "%s = %s: want 1 to %zu letters, digits, '_' or '-'",
				    k->name, v, k->size - 1);
		snprintf(field, k->size, "%s", v);
		return 0;
	case KEY_TEXT:
		if (strlen(v) >= k->size)
			return fail(err, errlen, "%s: longer than %zu bytes", k->name, k->size - 1);
		snprintf(field, k->size, "%s", v);
		return 0;
	case KEY_RATIO: {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !(d >= 1.0 && d <= 1e6))
			return fail(err, errlen, "%s = %s: want a ratio from 1 to 1000000", k->name, v);
		memcpy(field, &d, sizeof(d));
		return 0;
	}
	}
	return fail(err, errlen, "%s: unknown type", k->name);
}

int scd_config_set(struct scd_config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const struct key *k = find_key(key, strlen(key));

	if (!k) {
		snprintf(err, errlen, "unknown key \"%s\"", key);
		return -ENOENT;
	}
	return set_value(cfg, k, value, err, errlen);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* The key a line sets, for messages about a line too bad to parse: what stands before '=', cut short. */
static void key_of(const char *line, size_t len, char *out, size_t size)
{
	const char *start = line, *end = memchr(line, '=', len);
	size_t n;

	if (!end)
		end = line;
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - start) < size - 1 ? (size_t)(end - start) : size - 1;
	memcpy(out, start, n);
	out[n] = '\0';
}

/* A line holds text, no NUL, and fits: else the message says which line, which key, and what. */
static int check_line(const char *path, unsigned lineno, const char *line, size_t len, char *err,
		      size_t errlen)
{
	char key[65];

	key_of(line, len, key, sizeof(key));
	if (memchr(line, '\0', len))
		return fail(err, errlen, "%s:%u: %s%s%sholds a NUL byte (a configuration is text)", path,
			    lineno, *key ? "key \"" : "", key, *key ? "\" " : "");
	if (len > SCD_LINE_MAX)
		return fail(err, errlen, "%s:%u: %s%s%sis %zu bytes long; a line holds at most %u", path,
			    lineno, *key ? "key \"" : "", key, *key ? "\" " : "", len, SCD_LINE_MAX);
	return 0;
}

int scd_config_load(struct scd_config *cfg, const char *path, char *err, size_t errlen)
{
	unsigned seen_at[NKEYS] = { 0 };
	unsigned lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		char *s, *eq, *key, *value, msg[512];
		const struct key *k;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		r = check_line(path, lineno, line, (size_t)len, err, errlen);
		if (r)
			break;
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			r = fail(err, errlen, "%s:%u: \"%s\": want key = value", path, lineno, s);
			break;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		k = find_key(key, strlen(key));
		if (!k) {
			r = fail(err, errlen, "%s:%u: unknown key \"%s\"", path, lineno, key);
		} else if (seen_at[k - keys]) {
			r = fail(err, errlen, "%s:%u: %s: already set on line %u", path, lineno, key,
				 seen_at[k - keys]);
		} else if (set_value(cfg, k, value, msg, sizeof(msg))) {
			r = fail(err, errlen, "%s:%u: %s", path, lineno, msg);
		}
		if (k)
			seen_at[k - keys] = lineno;
	}
	if (r == 0 && ferror(f))
		r = fail(err, errlen, "%s: read error", path);
	free(line);
	fclose(f);
	return r;
}

/* A host name (labels of 1 to 63 letters, digits and inner '-', joined by '.') or an IPv4 address. */
static bool host_name_valid(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* An IPv6 address in brackets, as inet_pton() reads it. */
static bool ipv6_valid(const char *s, size_t n)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(text))
		return false;
	memcpy(text, s + 1, n - 2);
	text[n - 2] = '\0';
	return inet_pton(AF_INET6, text, &a) == 1;
}

/* Whether s[0, n) is host:port, the port from 1 to 65535. */
static bool host_port_valid(const char *s, size_t n)
{
	const char *colon = memrchr(s, ':', n);
	size_t host_len = colon ? (size_t)(colon - s) : 0, port_len = colon ? n - host_len - 1 : 0;
	unsigned long port = 0;

	if (!colon || port_len == 0 || port_len > 5)
		return false;
	for (size_t i = 0; i < port_len; i++) {
		if (!isdigit((unsigned char)colon[1 + i]))
			return false;
		port = port * 10 + (unsigned long)(colon[1 + i] - '0');
	}
	if (port == 0 || port > 65535)
		return false;
	return s[0] == '[' ? ipv6_valid(s, host_len) : host_name_valid(s, host_len);
}

/* Each comma-separated entry of list, after scheme (or "" for none), is host:port; the first bad one in bad. */
static bool endpoint_list_valid(const char *list, const char *scheme, char *bad, size_t badlen)
{
	size_t skip = strlen(scheme);

	if (!*list)
		return true;
	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");

		if (n < skip || strncmp(p, scheme, skip) != 0 || !host_port_valid(p + skip, n - skip)) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return false;
		}
		p += n;
		if (!*p)
			return true; /* a comma goes on to the next entry, which must be one: "a:1," is not */
	}
}

static int validate_cluster_keys(const struct scd_config *cfg, char *err, size_t errlen)
{
	char bad[SCD_NAME_MAX * 4];

	if (cfg->cluster_name[0] && !scd_hello_name_valid(cfg->cluster_name, strlen(cfg->cluster_name)))
		return fail(err, errlen, "cluster_name = %s: want 1 to %d letters, digits, '_', '-' or '.'",
			    cfg->cluster_name, SCD_NAME_MAX);
	if (cfg->node_name[0] && !scd_hello_name_valid(cfg->node_name, strlen(cfg->node_name)))
		return fail(err, errlen, "node_name = %s: want 1 to %d letters, digits, '_', '-' or '.'",
			    cfg->node_name, SCD_NAME_MAX);
	if (cfg->listen[0] && !host_port_valid(cfg->listen, strlen(cfg->listen)))
		return fail(err, errlen, "listen = %s: want host:port, the port from 1 to 65535",
			    cfg->listen);
	if (!endpoint_list_valid(cfg->cluster_peers, "", bad, sizeof(bad)))
		return fail(err, errlen, "cluster_peers: \"%s\": want host:port, the port from 1 to 65535",
			    bad);
	if (!endpoint_list_valid(cfg->etcd_endpoints, "http://", bad, sizeof(bad)))
		return fail(err, errlen, "etcd_endpoints: \"%s\": want http://host:port", bad);
	if (cfg->secret_file[0] && cfg->secret_file[0] != '/')
		return fail(err, errlen, "secret_file = %s: want an absolute path", cfg->secret_file);
	if ((uint64_t)cfg->heartbeat_interval_ms * 2 >= cfg->lease_ms)
		return fail(
			err, errlen,
			"heartbeat_interval_ms = %u with lease_ms = %u: a lease must outlive two heartbeats",
			cfg->heartbeat_interval_ms, cfg->lease_ms);
	return 0;
}

int scd_config_validate(const struct scd_config *cfg, char *err, size_t errlen)
{
	int r = validate_cluster_keys(cfg, err, errlen);

	if (r)
		return r;
	if (cfg->cluster == SC_CLUSTER_DISTRIBUTED) {
		static const struct {
			size_t off;
			const char *key;
		} needed[] = {
			{ offsetof(struct scd_config, cluster_name), "cluster_name" },
			{ offsetof(struct scd_config, listen), "listen" },
			{ offsetof(struct scd_config, etcd_endpoints), "etcd_endpoints" },
			{ offsetof(struct scd_config, secret_file), "secret_file" },
		};

		for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
			if (!((const char *)cfg + needed[i].off)[0])
				return fail(err, errlen, "cluster = distributed needs %s", needed[i].key);
	}
	if (cfg->max_retired > cfg->memory_limit)
		return fail(err, errlen, "max_retired = %" PRIu64 ": more than memory_limit (%" PRIu64 ")",
			    cfg->max_retired, cfg->memory_limit);
	if (cfg->dir[0] != '/')
		return fail(err, errlen, "dir = %s: want an absolute path", cfg->dir);
	return 0;
}

void scd_config_options(const struct scd_config *cfg, sc_options *out)
{
	memset(out, 0, sizeof(*out));
	out->sz = sizeof(*out);
	out->num_partition = cfg->num_partition;
	out->key_pos = cfg->key_pos;
	out->partition_pos = cfg->partition_pos;
	out->table_type = cfg->table_type;
	out->memory_limit = cfg->memory_limit;
	out->max_readers = cfg->max_readers;
	out->eviction = cfg->eviction;
	out->prefix = cfg->table_prefix;
	out->dir = cfg->dir;
	out->max_retired = cfg->max_retired;
	out->cluster = cfg->cluster;
	out->replication_mode = cfg->replication_mode;
	out->replication_factor = cfg->replication_factor;
}

const char *scd_config_key(unsigned i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

int scd_config_value(const struct scd_config *cfg, unsigned i, struct scd_value *out)
{
	const char *field;
	uint32_t u32;

	if (i >= NKEYS)
		return -ENOENT;
	field = (const char *)cfg + keys[i].offset;
	memset(out, 0, sizeof(*out));
	switch (keys[i].type) {
	case KEY_UINT32:
		memcpy(&u32, field, sizeof(u32));
		out->kind = SCD_VALUE_UINT;
		out->u = u32;
		break;
	case KEY_SIZE:
		out->kind = SCD_VALUE_UINT;
		memcpy(&out->u, field, sizeof(out->u));
		break;
	case KEY_BOOL:
		out->kind = SCD_VALUE_BOOL;
		out->b = *(const bool *)field;
		break;
	case KEY_RATIO:
		out->kind = SCD_VALUE_DOUBLE;
		memcpy(&out->d, field, sizeof(out->d));
		break;
	case KEY_CHOICE:
		memcpy(&u32, field, sizeof(u32));
		out->kind = SCD_VALUE_TEXT;
		out->text = keys[i].choices[u32 - keys[i].min];
		break;
	case KEY_TEXT:
	case KEY_NAME:
		out->kind = SCD_VALUE_TEXT;
		out->text = field;
		break;
	}
	return 0;
}

/* A size in the largest unit that divides it, as a person would write it. */
static void size_text(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "TGMK";
	unsigned shift = 40;

	for (const char *s = suffix; *s; s++, shift -= 10)
		if (v && v % (1ull << shift) == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", v >> shift, *s);
			return;
		}
	snprintf(buf, len, "%" PRIu64, v);
}

void scd_config_print(const struct scd_config *cfg, FILE *out)
{
	struct scd_value v;
	char text[64];

	for (unsigned i = 0; scd_config_value(cfg, i, &v) == 0; i++) {
		switch (v.kind) {
		case SCD_VALUE_UINT:
			if (keys[i].type == KEY_SIZE)
				size_text(v.u, text, sizeof(text));
			else
				snprintf(text, sizeof(text), "%" PRIu64, v.u);
			break;
		case SCD_VALUE_DOUBLE:
			snprintf(text, sizeof(text), "%g", v.d);
			break;
		case SCD_VALUE_BOOL:
			snprintf(text, sizeof(text), "%s", v.b ? "true" : "false");
			break;
		case SCD_VALUE_TEXT:
			break;
		}
		if (v.kind == SCD_VALUE_TEXT)
			fprintf(out, "%s =%s%s\n", keys[i].name, v.text[0] ? " " : "", v.text);
		else
			fprintf(out, "%s = %s\n", keys[i].name, text);
	}
}

void scd_config_print_keys(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-30s %s\n", keys[i].name, keys[i].help);
}
