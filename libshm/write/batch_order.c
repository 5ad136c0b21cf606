/* batch_order.c — a batch's items grouped by partition, so that each partition's lock is taken once. */
#include "write/batch_order.h"

#include <errno.h>
#include <stdlib.h>
#include "shm/error.h"

int sc_batch_order_make(const uint32_t *part, size_t n, uint32_t nparts, struct sc_batch_order *o)
{
	size_t *start = calloc((size_t)nparts + 1, sizeof(*start));

	o->order = malloc(n * sizeof(*o->order));
	o->end = start;
	if (!o->order || !start) {
		sc_batch_order_free(o);
		return sc_fail(-ENOMEM, "out of memory sorting a batch of %zu items", n);
	}
	for (size_t i = 0; i < n; i++)
		start[part[i] + 1]++;
	for (uint32_t p = 0; p < nparts; p++)
		start[p + 1] += start[p];
	for (size_t i = 0; i < n; i++)
		o->order[start[part[i]]++] = i;
	/* Each start[p] has moved to the end of partition p's run. */
	return 0;
}

void sc_batch_order_free(struct sc_batch_order *o)
{
	free(o->order);
	free(o->end);
	o->order = o->end = NULL;
}
