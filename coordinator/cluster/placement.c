/* placement.c — which live members hold each partition: rendezvous hashing, the same answer on every node. */
#include "cluster/placement.h"

#include <errno.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* A member's score for a partition: its name, then the partition number, hashed (little-endian bytes). */
static uint64_t score(const char *member, uint32_t partition)
{
	uint8_t p[4] = { (uint8_t)partition, (uint8_t)(partition >> 8), (uint8_t)(partition >> 16),
			 (uint8_t)(partition >> 24) };
	XXH3_state_t st;

	XXH3_64bits_reset_withSeed(&st, 0x5343504c41434531ull); /* "SCPLACE1" */
	XXH3_64bits_update(&st, member, strlen(member) + 1);
	XXH3_64bits_update(&st, p, sizeof(p));
	return XXH3_64bits_digest(&st);
}

/* Whether member a outranks b: the higher score, and on a tie (never seen, but possible) the smaller name. */
static int outranks(uint64_t sa, const char *a, uint64_t sb, const char *b)
{
	return sa != sb ? sa > sb : strcmp(a, b) < 0;
}

int scd_place(const char *const *members, uint32_t n, uint32_t partition, uint32_t replication_factor,
	      struct scd_placement *out)
{
	uint64_t best[SC_MAX_REPLICATION_FACTOR];

	out->count = 0;
	if (replication_factor == 0 || replication_factor > SC_MAX_REPLICATION_FACTOR)
		return -EINVAL;
	/* Insertion into the top replication_factor, kept in rank order. */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = score(members[i], partition);
		uint32_t at = out->count;

		while (at > 0 && outranks(s, members[i], best[at - 1], members[out->holder[at - 1]]))
			at--;
		if (at >= replication_factor)
			continue;
		if (out->count < replication_factor)
			out->count++;
		for (uint32_t j = out->count - 1; j > at; j--) {
			best[j] = best[j - 1];
			out->holder[j] = out->holder[j - 1];
		}
		best[at] = s;
		out->holder[at] = i;
	}
	return 0;
}
