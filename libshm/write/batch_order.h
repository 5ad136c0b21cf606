/* batch_order.h — a batch's items grouped by partition, so that each partition's lock is taken once. */
#ifndef SC_BATCH_ORDER_H
#define SC_BATCH_ORDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Items 0..n-1 in partition order, stable (a counting sort): partition p's
 * items are order[start(p) .. end[p]), where start(p) is end[p - 1], or 0
 * for the first, and within a run they keep the batch's order.
 */
struct sc_batch_order {
	size_t *order;
	size_t *end; /* nparts entries */
};

/* part[i] is item i's partition, below nparts. 0 or -ENOMEM (with a message). */
int sc_batch_order_make(const uint32_t *part, size_t n, uint32_t nparts, struct sc_batch_order *o);

void sc_batch_order_free(struct sc_batch_order *o);

#endif /* SC_BATCH_ORDER_H */
