/* assignment.c — the controller's rule for a partition's record: rendezvous placement, primaries kept while alive. */
#include "cluster/assignment.h"

#include <stdio.h>
#include <string.h>

#include "cluster/placement.h"

static bool is_live(const char *name, const char *const *live, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(name, live[i]) == 0)
			return true;
	return false;
}

static void add_replica(struct scd_record *r, const char *name, uint32_t rf)
{
	for (uint32_t i = 0; i < r->replica_count; i++)
		if (strcmp(r->replicas[i], name) == 0)
			return;
	if (r->replica_count < rf)
		snprintf(r->replicas[r->replica_count++], sizeof(r->replicas[0]), "%s", name);
}

static bool same_record(const struct scd_record *a, const struct scd_record *b)
{
	if (strcmp(a->primary, b->primary) || a->replica_count != b->replica_count)
		return false;
	for (uint32_t i = 0; i < a->replica_count; i++)
		if (strcmp(a->replicas[i], b->replicas[i]))
			return false;
	return true;
}

bool scd_assign(const struct scd_record *cur, const char *const *live, uint32_t n, uint32_t partition,
		uint32_t replication_factor, struct scd_record *out)
{
	struct scd_placement pl = { .count = 0 };

	memset(out, 0, sizeof(*out));
	out->epoch = cur->epoch;
	if (n && scd_place(live, n, partition, replication_factor, &pl) == 0) {
		if (cur->primary[0] && is_live(cur->primary, live, n))
			snprintf(out->primary, sizeof(out->primary), "%s", cur->primary);
		for (uint32_t i = 0; !out->primary[0] && i < cur->replica_count; i++)
			if (is_live(cur->replicas[i], live, n))
				snprintf(out->primary, sizeof(out->primary), "%s", cur->replicas[i]);
		if (!out->primary[0])
			snprintf(out->primary, sizeof(out->primary), "%s", live[pl.holder[0]]);
		add_replica(out, out->primary, replication_factor);
		for (uint32_t i = 0; i < pl.count; i++)
			add_replica(out, live[pl.holder[i]], replication_factor);
	}
	return (cur->epoch == 0 && out->primary[0]) || !same_record(cur, out);
}
