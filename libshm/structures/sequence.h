/* sequence.h — queues and stacks seen from outside their file: on a replica (logged operations run, copies made), and where each lives. */
#ifndef SC_SEQUENCE_H
#define SC_SEQUENCE_H

#include "index/hash_index.h"
#include "shm/cache.h"

/*
 * Under p's lock, a replica's: run the operation op (SC_REPL_SEQ_*, fields
 * t as sequence.c logged them) on this copy of structure partition p. 1
 * when it did all it says; 0 when this copy had no such sequence or fewer
 * items than the take took; -EPROTO when t is no such operation; another
 * negative errno when it could not be done.
 */
int sc_seq_apply(sc_cache *c, struct sc_part *p, uint8_t op, const sc_tuple *t);

/* Given each item of a sequence, front to back: its header's key and its value. 0 to go on, or an error to stop. */
typedef int (*sc_seq_item_fn)(sc_cache *c, const sc_field *header_key, const sc_field *value, void *ctx);

/*
 * Under p's lock, copying structure partition p record by record: whether
 * the record hit found belongs to a queue or stack. 1 when it does (an
 * item: nothing to do, its sequence's header gives it; a header: fn had
 * each item, from the front); 0 when it does not (copy it as it is); or
 * a negative errno (fn's, or -EUCLEAN).
 */
int sc_seq_copy_record(sc_cache *c, struct sc_part *p, const struct sc_hit *hit, sc_seq_item_fn fn,
		       void *ctx);

/* The home partition of the queue (kind SC_ENTRY_QUEUE) or stack (SC_ENTRY_STACK) called name: 0, or -EINVAL for a bad name. */
int sc_seq_home(sc_cache *c, uint8_t kind, const char *name, struct sc_part **home);

#endif /* SC_SEQUENCE_H */
