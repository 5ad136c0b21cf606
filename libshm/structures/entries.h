/* entries.h — writing and reading the entries KeyValue, queues, stacks and Struct keep in the structure partitions. */
#ifndef SC_ENTRIES_H
#define SC_ENTRIES_H

#include "index/entry_index.h"
#include "index/hash_index.h"
#include "record/entry_key.h"
#include "record/tuple_codec.h"
#include "tables/results.h"

/*
 * Writer side, under p's lock: store value (checked by the caller) under the
 * routed key, by its kind's rules (a KeyValue entry's follow the table
 * type, the others' replace); deadline as sc_put_record() takes it.
 */
int sc_entry_put(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		 uint64_t deadline);

/*
 * sc_entry_put() whose value takes the place of every value the key has:
 * the same where a key keeps one (record/entry_key.h), else the key's
 * other records leave (write/record_store.h, sc_put_superseding()).
 */
int sc_entry_supersede(sc_cache *c, struct sc_part *p, const struct sc_route *route, const sc_field *value,
		       uint64_t deadline);

/* It, taking and releasing the routed partition's lock around it. */
int sc_entry_supersede_locking(sc_cache *c, const struct sc_route *route, const sc_field *value,
			       uint64_t deadline);

/* It and sc_entry_remove(), taking and releasing the routed partition's lock around them. */
int sc_entry_put_locking(sc_cache *c, const struct sc_route *route, const sc_field *value, uint64_t deadline);
int sc_entry_remove_locking(sc_cache *c, const struct sc_route *route);

/* Decode the value of the entry hit names (pointing into the record). 0 or -EUCLEAN. */
int sc_entry_value(sc_cache *c, const struct sc_hit *hit, sc_field *value);

/*
 * sc_entry_value() without the checksum, for a reader that copies the value
 * out and then checks the record once with sc_entry_still_intact(): the
 * decoder stays inside the record whatever its bytes say, and a copy made
 * from a record that then fails the check is not handed out.
 */
int sc_entry_value_unverified(sc_cache *c, const struct sc_hit *hit, sc_field *value);

/*
 * 0 if the record hit names still matches its checksum, else -EUCLEAN: to
 * call once a value sc_entry_value() pointed at is copied out, so that a
 * stray write between the first check and the copy is caught, never handed
 * out (records do not change once published: a failure here is damage).
 */
int sc_entry_still_intact(sc_cache *c, const struct sc_hit *hit);

/* The value of the entry hit names, copied into b and checked again (the copy taken back when bad). */
int sc_entry_value_into(sc_cache *c, const struct sc_hit *hit, struct sc_builder *b);

/*
 * Reader side: in a read section of its own, find the routed entry (the
 * newest, where the key has several) and, if it is there, call fn on it. Returns 1 (found; fn's negative result
 * instead if it returned one), 0 if absent, or a negative errno.
 */
int sc_entry_read(sc_cache *c, const struct sc_route *route, sc_hit_fn fn, void *ctx);

/*
 * The same for every record of the key, oldest first (a bag's KeyValue key
 * has one per value): how many there are, or a negative errno (fn's).
 */
int sc_entry_read_all(sc_cache *c, const struct sc_route *route, sc_hit_fn fn, void *ctx);

/*
 * Called on each entry of a walk, with its own part and its value, both in
 * place, and its record's version (the order a key's values were written
 * in). 0 goes on.
 */
typedef int (*sc_entry_fn)(const sc_field *own, const sc_field *value, uint64_t version, void *ctx);

/*
 * Reader side: call fn on every entry whose key starts with prefix's
 * prefix, partition by partition, each inside a read section. Every entry
 * present for the whole walk is visited once. Returns how many were
 * visited, or a negative errno (fn's, if it returned one).
 */
int sc_entries_for_each(sc_cache *c, const struct sc_entry_key *prefix, sc_entry_fn fn, void *ctx);
/* The same over structure partitions [first, end) alone. */
int sc_entries_for_each_in(sc_cache *c, const struct sc_entry_key *prefix, uint32_t first, uint32_t end,
			   sc_entry_fn fn, void *ctx);

/*
 * Remove every entry whose key starts with prefix's prefix (the entries of
 * the KeyValue namespace or struct type name), holding each partition's
 * lock for one index bucket at a time. A partition whose primary is another
 * node is forwarded there as op, (name). Every partition is tried: how many
 * went, or the first error.
 */
int sc_entries_remove_all(sc_cache *c, const struct sc_entry_key *prefix, uint16_t op, const char *name);

/* The same, in structure partition idx alone (0 to num_partition - 1): as a primary runs it for another node. */
int sc_entries_remove_part(sc_cache *c, const struct sc_entry_key *prefix, uint32_t idx, uint16_t op,
			   const char *name);

#endif /* SC_ENTRIES_H */
