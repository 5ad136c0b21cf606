/* latency_log.h — per-operation latencies from workers in several processes, and their percentiles. */
#ifndef LATENCY_LOG_H
#define LATENCY_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Made before the workers fork: it lives in shared memory, and every worker adds to the same one. */
struct latency_log;

struct latency {
	uint64_t p50_ns, p99_ns;
	uint64_t ops;	  /* every operation, timed or not */
	double ops_per_s; /* ops over the wall time given to latency_log_summary() */
};

/* Room for cap samples; NULL (the reason in bench_last_error()) when there is no memory. */
struct latency_log *latency_log_new(size_t cap);
void latency_log_free(struct latency_log *l);

/* One operation of ns: kept while there is room, counted always. Safe from every worker at once. */
void latency_log_add(struct latency_log *l, uint64_t ns);

/* The percentiles and rate of what was added: 0, or -1 when nothing was. */
int latency_log_summary(struct latency_log *l, uint64_t wall_ns, struct latency *out);

#endif /* LATENCY_LOG_H */
