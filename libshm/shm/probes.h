/* probes.h — the library's USDT probes (provider "supercache"): their names, arguments and the helpers that fire them. */
#ifndef SC_PROBES_H
#define SC_PROBES_H

#include <stdint.h>

#include "shm/cache.h"
#include "telemetry.h"
#include "usdt.h"

/*
 * Every probe's first argument is the cache's trace id (sc_cache.trace_id:
 * the XXH3 hash of its name), so a tool can keep to one cache without
 * reading strings. The list, with each argument, is in docs/telemetry.md.
 */
SC_USDT_DECLARE(supercache, op_start);		 /* (id, op) */
SC_USDT_DECLARE(supercache, op_end);		 /* (id, op, partition, result) */
SC_USDT_DECLARE(supercache, lock_contended);	 /* (id, partition): about to wait for its write lock */
SC_USDT_DECLARE(supercache, lock_acquired);	 /* (id, partition) */
SC_USDT_DECLARE(supercache, lock_released);	 /* (id, partition) */
SC_USDT_DECLARE(supercache, grace_period_start); /* (id) */
SC_USDT_DECLARE(supercache, grace_period_end);	 /* (id, result) */
SC_USDT_DECLARE(supercache, reclaim);		 /* (id, partition, bytes freed) */
SC_USDT_DECLARE(supercache, evict);		 /* (id, partition, bytes of the record) */
SC_USDT_DECLARE(supercache, expire);		 /* (id, partition, bytes of the record) */
SC_USDT_DECLARE(supercache,
		quorum_unsettled); /* (id, partition, last lseq, committed lseq): the primary answers */

#define SC_PROBE(name, ...)   SC_USDT(supercache, name, __VA_ARGS__)
#define SC_PROBE_ACTIVE(name) SC_USDT_ACTIVE(supercache, name)

#if SC_PROBES
/*
 * The partition the current operation worked in, for op_end: noted where
 * an operation reads or locks one, and written only while op_end is
 * attached, and reset by op_end for the next operation (not by op_start:
 * one semaphore fewer to test on every call). Per thread, as operations
 * are.
 */
extern __thread uint32_t sc_trace_partition __attribute__((tls_model("initial-exec")));

/*
 * op_start and op_end each have one site, out of line, rather than one in
 * every public call: a tool attaches (and the kernel later detaches) one
 * uprobe per site, and detaching costs about 0.1 s per uprobe here.
 */
void sc_trace_fire_start(const sc_cache *c, enum sc_trace_op op) __attribute__((cold, noinline));
int sc_trace_fire_end(const sc_cache *c, enum sc_trace_op op, int result) __attribute__((cold, noinline));
#endif

static inline void sc_trace_begin(const sc_cache *c, enum sc_trace_op op)
{
#if SC_PROBES
	if (SC_PROBE_ACTIVE(op_start))
		sc_trace_fire_start(c, op);
#else
	(void)c;
	(void)op;
#endif
}

static inline int sc_trace_end(const sc_cache *c, enum sc_trace_op op, int result)
{
#if SC_PROBES
	if (SC_PROBE_ACTIVE(op_end))
		return sc_trace_fire_end(c, op, result);
#else
	(void)c;
	(void)op;
#endif
	return result;
}
/* The operation works in partition i: several different ones make it SC_TRACE_PARTITION_SEVERAL. */
static inline void sc_trace_note_partition(uint32_t i)
{
#if SC_PROBES
	if (SC_PROBE_ACTIVE(op_end)) {
		uint32_t was = sc_trace_partition;

		sc_trace_partition =
			was == SC_TRACE_PARTITION_NONE || was == i ? i : SC_TRACE_PARTITION_SEVERAL;
	}
#else
	(void)i;
#endif
}

/*
 * A public call, traced: op_start, the call, op_end with its result. The
 * exported function is this around its untraced body, so every return
 * path, errors included, ends with op_end. A public call made by another
 * fires its own pair inside the outer one; the BPF programs count the
 * outermost only.
 */
#define SC_TRACED(c, op, call) (sc_trace_begin((c), (op)), sc_trace_end((c), (op), (call)))

#endif
