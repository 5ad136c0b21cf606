/* probes.h — supercached's USDT probes (provider "supercached"): maintenance sweeps and health checks. */
#ifndef SCD_PROBES_H
#define SCD_PROBES_H

#include "usdt.h"

/*
 * As the library's, every probe's first argument is the cache's trace id
 * (trace_id.h), so one BPF program sees the library and its coordinator.
 * Values a signal carries as doubles are passed in thousandths: USDT
 * arguments are integers. docs/telemetry.md lists the arguments.
 */
SC_USDT_DECLARE(supercached, sweep_start); /* (id) */
SC_USDT_DECLARE(supercached, sweep_end);   /* (id, bytes reclaimed, dead readers released, expired, error) */
SC_USDT_DECLARE(supercached,
		health_check); /* (id, healthy, memory used, memory limit, retired bytes, readers) */
SC_USDT_DECLARE(supercached, health_alert);   /* (id, check name, value x1000, threshold x1000) */
SC_USDT_DECLARE(supercached, node_up);	      /* (id, node name): a peer link came up */
SC_USDT_DECLARE(supercached, node_down);      /* (id, node name): a peer link went down */
SC_USDT_DECLARE(supercached, repl_ship);      /* (id, log, node, last lseq sent, entries in the frame) */
SC_USDT_DECLARE(supercached, repl_ack);	      /* (id, log, node, lseq acknowledged) */
SC_USDT_DECLARE(supercached, in_sync_change); /* (id, partition, members now, epoch) */
SC_USDT_DECLARE(supercached, repl_copy); /* (id, log, node, bytes, lseq it follows): a replica copied whole */
SC_USDT_DECLARE(supercached, failover);	 /* (id, partition, epoch): this node became its primary */

#define SCD_PROBE(name, ...) SC_USDT(supercached, name, __VA_ARGS__)

#endif
