/* measure.h — one measurement: an operation on one system, with a key count and a number of workers. */
#ifndef MEASURE_H
#define MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "workload.h"

enum bench_op {
	OP_PUT,
	OP_GET,
	OP_DELETE,
	OP_PUT_BATCH,
	OP_MATCH,	 /* a key through the query interface */
	OP_MATCH_OBJECT, /* a pass over every tuple for the one with a given value */
	OP_SCAN,	 /* a pass over every tuple */
	OP_KV_ADD_BATCH, /* KeyValue pairs in batches of BENCH_KV_BATCH_LEN */
	OP_QUEUE,	 /* an add then an out on one shared queue: two operations */
	OP_STACK,	 /* a push then a pop on one shared stack: two operations */
	OP_LAZY_PUT,	 /* buffered puts, and the flush at the end of the pass */
	OP_KV_INCREMENT, /* a KeyValue counter per key, one more each time */
	OP_GET_INTO,	 /* get with nothing allocated: sc_get_into */
	OP_GET_VIEW,	 /* get reading in place: sc_get_view */
	OP_COUNT,
};

extern const char *const bench_op_names[OP_COUNT];

struct measurement {
	double ops_per_s; /* every worker's ops over the wall time from common start to last finish
			     (for the passes, match_object and scan: tuples gone over) */
	uint64_t p50_ns;  /* percentiles of the sampled latencies (per tuple for put_batch and
			     kv_add_batch; per pass for match_object and scan; per operation, half
			     an add-and-take, for queue and stack) */
	uint64_t p99_ns;
	uint64_t ops;
	uint64_t samples;
	double seconds; /* timed wall time, summed over rounds */
};

/* Whether sys has what op needs (the queries are optional). */
bool bench_supports(const struct bench_system *sys, enum bench_op op);

/*
 * Create a fresh store of sys, load every key of ds (untimed), run op in
 * procs workers for at least min_ns, and destroy the store. Returns 0, or
 * -1 with the reason in bench_last_error().
 */
int measure(const struct bench_system *sys, const struct dataset *ds, enum bench_op op, unsigned procs,
	    uint64_t min_ns, struct measurement *out);

#endif /* MEASURE_H */
