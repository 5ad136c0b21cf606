/* in_sync.h — a primary's change of its partition's in-sync set, written to etcd only if nothing moved under it. */
#ifndef SCD_IN_SYNC_H
#define SCD_IN_SYNC_H

#include <stdint.h>

#include "cluster/cluster_state.h"
#include "cluster/etcd.h"

/*
 * One per node: at most one write in flight per partition. A write puts
 * isr/<p> in a txn that requires partitions/<p> to be at the epoch the
 * primary acts under (a deposed primary writes nothing) and isr/<p> at the
 * revision the primary read (no change of another is lost: the controller's,
 * written with a new record, or this node's own).
 */
struct scd_isr_writer;

/*
 * What became of a write: result 1 when etcd took it (revision: the set's
 * mod_revision now), 0 when it was refused (the record or the set had
 * changed: the watch brings what they are), or a negative errno (not sent,
 * or no answer); the caller may try again.
 */
typedef void (*scd_isr_written_fn)(void *userdata, uint32_t partition, int64_t epoch,
				   const struct scd_isr *isr, int result, int64_t revision);

/* The state gives the keys' prefix and the partition count; both must outlive the writer. */
int scd_isr_writer_new(struct scd_etcd *etcd, const struct scd_cluster_state *state, scd_isr_written_fn done,
		       void *userdata, struct scd_isr_writer **out);
/* Cancel what is in flight (no callback runs) and free. NULL is fine. */
void scd_isr_writer_free(struct scd_isr_writer *w);

/*
 * Write want as partition's in-sync set, under epoch, replacing the set
 * read at isr_revision (0: none). 0 once sent (done() follows), -EBUSY when
 * a write for the partition is in flight, -EINVAL, -ENOMEM.
 */
int scd_isr_write(struct scd_isr_writer *w, uint32_t partition, int64_t epoch, int64_t isr_revision,
		  const struct scd_isr *want);

#endif /* SCD_IN_SYNC_H */
