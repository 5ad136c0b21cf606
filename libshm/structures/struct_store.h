/* struct_store.h — Struct calls as a primary runs them for another node (admin/forward_serve.c). */
#ifndef SC_STRUCT_STORE_H
#define SC_STRUCT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/cache.h"

/*
 * sc_struct_add() (add) or sc_struct_remove() of the struct s of len bytes
 * by the geometry another node sent: -EPROTO unless it is one, and the
 * type's registered one where this node holds the type's partition.
 */
int sc_struct_write_given(sc_cache *c, const char *type, const void *s, size_t len, uint64_t key_offset,
			  uint64_t key_size, bool add);

/*
 * The registered geometry of type, read as opts says (the type's primary
 * answers SC_READ_PRIMARY): 1 with *out one tuple of one bytes field (the
 * geometry as sc_struct_init() stored it), or 0 with *out NULL when it was
 * never registered; or a negative errno.
 */
int sc_struct_type_read(sc_cache *c, const char *type, const sc_read_opts *opts, sc_tuples **out);

/* sc_struct_remove_all()'s share in structure partition idx (0 to num_partition - 1). */
int sc_struct_remove_all_part(sc_cache *c, const char *type, uint32_t idx);

/*
 * A struct read by opts' mode (for sc_forward_serve too): t is (type, a
 * struct with its key set, key_offset, key_size); 1 with the struct as the
 * one field of *out's tuple, 0 when none has the key.
 */
int sc_struct_get_read(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out);

/* A struct listing's part in structure partition t[0] by opts' mode: t is (index, type, size); each struct a tuple. */
int sc_struct_list_part_with(sc_cache *c, const sc_read_opts *opts, const sc_tuple *t, sc_tuples **out);

#endif /* SC_STRUCT_STORE_H */
