/* probes.c — the semaphores of the library's USDT probes, and the partition op_end reports. */
#include "shm/probes.h"

SC_USDT_DEFINE(supercache, op_start);
SC_USDT_DEFINE(supercache, op_end);
SC_USDT_DEFINE(supercache, lock_contended);
SC_USDT_DEFINE(supercache, lock_acquired);
SC_USDT_DEFINE(supercache, lock_released);
SC_USDT_DEFINE(supercache, grace_period_start);
SC_USDT_DEFINE(supercache, grace_period_end);
SC_USDT_DEFINE(supercache, reclaim);
SC_USDT_DEFINE(supercache, evict);
SC_USDT_DEFINE(supercache, expire);
SC_USDT_DEFINE(supercache, quorum_unsettled);

#if SC_PROBES
__thread uint32_t sc_trace_partition __attribute__((tls_model("initial-exec"))) = SC_TRACE_PARTITION_NONE;

/* A handle that cannot be read (NULL) fires with id 0; the call itself then fails as it would. */
static uint64_t trace_id(const sc_cache *c)
{
	return c ? c->trace_id : 0;
}

void sc_trace_fire_start(const sc_cache *c, enum sc_trace_op op)
{
	SC_PROBE(op_start, trace_id(c), (uint32_t)op);
}

int sc_trace_fire_end(const sc_cache *c, enum sc_trace_op op, int result)
{
	uint32_t partition = sc_trace_partition;

	/*
	 * In a register: left alone, the compiler names the thread-local
	 * itself (%fs:...), which USDT argument specs cannot express.
	 */
	__asm__("" : "+r"(partition));
	SC_PROBE(op_end, trace_id(c), (uint32_t)op, partition, result);
	sc_trace_partition = SC_TRACE_PARTITION_NONE;
	return result;
}
#endif
