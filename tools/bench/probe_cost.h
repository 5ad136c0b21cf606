/* probe_cost.h — supercache-bench --probe-cost: get and put with the probes compiled in and out, in one run. */
#ifndef PROBE_COST_H
#define PROBE_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"

/*
 * The table's put and get at its smaller key count, from one process: with
 * the data in cache a get costs least (about 60 ns), so whatever the
 * probes add per operation is the largest share of it there.
 */
#define PROBE_COST_KEYS 10000

/*
 * This VM's speed wanders by several percent from one second to the next,
 * more than the 2% to be resolved: many short measurements, the twins taking
 * turns, and the median of each twin's rounds. 25 rounds of 0.15 s for each
 * twin and operation, and one more first that is not counted, take about
 * 18 s in all.
 */
#define PROBE_COST_ROUNDS 25
#define PROBE_COST_NS	  150000000ull

/* The bound: with the probes compiled in and unattached, within 2% of compiled out. */
#define PROBE_COST_BOUND 0.02

#define PROBE_COST_NOPS	   2
#define PROBE_COST_RESULTS (PROBE_COST_ROUNDS * PROBE_COST_NOPS * 2)

/* put and get, in the order each round measures them. */
extern const enum bench_op probe_cost_ops[PROBE_COST_NOPS];

/* The twins, probes compiled in first, in the order each operation of a round measures them. */
extern const struct bench_system *const probe_cost_twins[2];

/*
 * Every twin's median ops/s per operation, their ratio and whether it is
 * within the bound, from the rounds' results r[0..n) (in the order they
 * ran); as text, or as one JSON object.
 */
void probe_cost_report(FILE *f, const struct machine *m, const struct result *r, size_t n, bool json);

#endif /* PROBE_COST_H */
