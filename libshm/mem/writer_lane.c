/* writer_lane.c — which of a partition's lanes this thread's writes use: its CPU's. */
#include "mem/writer_lane.h"

#include <sched.h>

__thread uint32_t sc_lane_now __attribute__((tls_model("initial-exec")));

void sc_lane_choose(void)
{
	/* glibc reads the CPU from the thread's rseq area: no system call. Unknown: lane 0. */
	int cpu = sched_getcpu();

	sc_lane_now = cpu < 0 ? 0 : (uint32_t)cpu;
}
