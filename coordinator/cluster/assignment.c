/* assignment.c — the controller's rule for a partition's record: rendezvous placement, primaries kept while alive, in-sync first. */
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

/* Whether name is in the in-sync set (every replica of cur when isr is NULL). */
static bool in_sync(const struct scd_assign_from *f, const char *name)
{
	if (f->isr)
		return scd_isr_has(f->isr, name);
	for (uint32_t i = 0; i < f->cur->replica_count; i++)
		if (strcmp(f->cur->replicas[i], name) == 0)
			return true;
	return false;
}

/* The primary by the rules of assignment.h into out->primary; false when none may be named. */
static bool pick_primary(const struct scd_assign_from *f, const char *const *live, uint32_t n,
			 const struct scd_placement *pl, struct scd_record *out)
{
	const struct scd_record *cur = f->cur;
	const char *pick = NULL;

	if (cur->primary[0] && is_live(cur->primary, live, n))
		pick = cur->primary;
	for (uint32_t i = 0; !pick && f->isr && i < f->isr->count; i++)
		if (is_live(f->isr->nodes[i], live, n))
			pick = f->isr->nodes[i];
	for (uint32_t i = 0; !pick && (!f->in_sync_only || !f->isr) && i < cur->replica_count; i++)
		if (is_live(cur->replicas[i], live, n))
			pick = cur->replicas[i];
	if (!pick && (cur->epoch == 0 || !f->in_sync_only))
		pick = live[pl->holder[0]];
	if (pick)
		snprintf(out->primary, sizeof(out->primary), "%s", pick);
	return pick != NULL;
}

/*
 * Make before break: while some of out's replicas are not in sync yet (new
 * ones, copying), a live in-sync replica of cur that out leaves stays on, in
 * the record and in the in-sync set, one for each that is not: the writes
 * acknowledged so far keep a copy besides the primary's until the new
 * replicas have them. It goes once they joined the in-sync set (the record
 * is written again then: an in-sync set's change is a change to assign on).
 */
static void keep_leaving(const struct scd_assign_from *f, const char *const *live, uint32_t n,
			 struct scd_record *out, struct scd_isr *isr_out)
{
	const struct scd_record *cur = f->cur;
	uint32_t missing = out->replica_count - isr_out->count;

	for (uint32_t i = 0;
	     missing && i < cur->replica_count && out->replica_count < SC_MAX_REPLICATION_FACTOR; i++) {
		const char *name = cur->replicas[i];
		bool held = false;

		for (uint32_t k = 0; k < out->replica_count; k++)
			held |= strcmp(out->replicas[k], name) == 0;
		if (held || !is_live(name, live, n) || !in_sync(f, name))
			continue;
		snprintf(out->replicas[out->replica_count++], sizeof(out->replicas[0]), "%s", name);
		snprintf(isr_out->nodes[isr_out->count++], sizeof(isr_out->nodes[0]), "%s", name);
		missing--;
	}
}

bool scd_assign(const struct scd_assign_from *f, const char *const *live, uint32_t n, struct scd_record *out,
		struct scd_isr *isr_out)
{
	const struct scd_record *cur = f->cur;
	struct scd_placement pl = { .count = 0 };

	memset(out, 0, sizeof(*out));
	memset(isr_out, 0, sizeof(*isr_out));
	out->epoch = cur->epoch;
	if (n && scd_place(live, n, f->partition, f->replication_factor, &pl) == 0) {
		if (!pick_primary(f, live, n, &pl, out)) {
			*out = *cur;
			return false;
		}
		add_replica(out, out->primary, f->replication_factor);
		for (uint32_t i = 0; i < pl.count; i++)
			add_replica(out, live[pl.holder[i]], f->replication_factor);
	}
	for (uint32_t i = 0; i < out->replica_count; i++)
		if (i == 0 || cur->epoch == 0 || in_sync(f, out->replicas[i]))
			snprintf(isr_out->nodes[isr_out->count++], sizeof(isr_out->nodes[0]), "%s",
				 out->replicas[i]);
	if (f->in_sync_only && cur->epoch != 0)
		keep_leaving(f, live, n, out, isr_out);
	return (cur->epoch == 0 && out->primary[0]) || !same_record(cur, out) || !f->isr;
}
