/* probes.c — the semaphores of supercached's USDT probes. */
#include "probes.h"

SC_USDT_DEFINE(supercached, sweep_start);
SC_USDT_DEFINE(supercached, sweep_end);
SC_USDT_DEFINE(supercached, health_check);
SC_USDT_DEFINE(supercached, health_alert);
SC_USDT_DEFINE(supercached, node_up);
SC_USDT_DEFINE(supercached, node_down);
SC_USDT_DEFINE(supercached, repl_ship);
SC_USDT_DEFINE(supercached, repl_ack);
SC_USDT_DEFINE(supercached, in_sync_change);
SC_USDT_DEFINE(supercached, repl_copy);
SC_USDT_DEFINE(supercached, failover);
