/* probes.c — the semaphores of the library's USDT probes, and the partition op_end reports. */
#include "probes.h"

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

#if SC_PROBES
__thread uint32_t sc_trace_partition __attribute__((tls_model("initial-exec"))) = SC_TRACE_PARTITION_NONE;
#endif
