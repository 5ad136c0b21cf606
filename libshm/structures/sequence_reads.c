/* sequence_reads.c — a queue's peek and count and a stack's count with a read mode: here, or by the home's primary. */
#include "record/entry_key.h"
#include "record/tuple_codec.h"
#include "shm/probes.h"
#include "structures/sequence.h"
#include "tables/read_modes.h"

/* t: (the name, as sc_str() makes it of a C string) or (..., the default). */
static int queue_peek_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	return sc_queue_peek(c, t->fields[0].v.p, t->nfields == 2 ? &t->fields[1] : NULL, out);
}

static int queue_count_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	(void)out;
	return sc_queue_count(c, t->fields[0].v.p);
}

static int stack_count_here(sc_cache *c, const sc_tuple *t, sc_tuples **out)
{
	(void)out;
	return sc_stack_count(c, t->fields[0].v.p);
}

/* The read call of the sequence of kind called name, with its mode: as the call without one, or by its home's primary or a quorum. */
static int read_with(sc_cache *c, uint8_t kind, const char *name, const sc_field *dflt,
		     const sc_read_opts *opts, uint32_t call, sc_read_here_fn here, sc_tuples **out)
{
	const sc_field f[2] = { sc_str(name ? name : ""), dflt ? *dflt : sc_int(0) };
	const sc_tuple t = { dflt ? 2 : 1, f };
	struct sc_part *home;
	int err = sc_read_opts_check(c, opts);

	if (err)
		return err;
	sc_check_arg(name, -EINVAL, "%s name is NULL", kind == SC_ENTRY_QUEUE ? "queue" : "stack");
	if (sc_read_is_local(c, opts))
		return here(c, &t, out);
	err = sc_seq_home(c, kind, name, &home);
	return err ? err : sc_read_by_mode(c, opts, home, call, here, &t, out);
}

static int do_queue_peek_with(sc_cache *c, const char *queue, const sc_field *dflt, const sc_read_opts *opts,
			      sc_tuples **out)
{
	sc_check_arg(out, -EINVAL, "out is NULL");
	*out = NULL;
	if (dflt) {
		int err = sc_field_check(dflt, "default");

		if (err)
			return err;
	}
	return read_with(c, SC_ENTRY_QUEUE, queue, dflt, opts, SC_FWD_READ_QUEUE_PEEK, queue_peek_here, out);
}

SC_EXPORT int sc_queue_peek_with(sc_cache *c, const char *queue, const sc_field *dflt,
				 const sc_read_opts *opts, sc_tuples **out)
{
	return SC_TRACED(c, SC_OP_QUEUE_PEEK, do_queue_peek_with(c, queue, dflt, opts, out));
}

SC_EXPORT int sc_queue_count_with(sc_cache *c, const char *queue, const sc_read_opts *opts)
{
	return SC_TRACED(c, SC_OP_QUEUE_COUNT,
			 read_with(c, SC_ENTRY_QUEUE, queue, NULL, opts, SC_FWD_READ_QUEUE_COUNT,
				   queue_count_here, NULL));
}

SC_EXPORT int sc_stack_count_with(sc_cache *c, const char *stack, const sc_read_opts *opts)
{
	return SC_TRACED(c, SC_OP_STACK_COUNT,
			 read_with(c, SC_ENTRY_STACK, stack, NULL, opts, SC_FWD_READ_STACK_COUNT,
				   stack_count_here, NULL));
}
