/* report.h — what the bench prints: the machine, a table with ratios, or one JSON object. */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "measure.h"

struct result {
	const char *system;
	enum bench_op op;
	size_t keys;
	unsigned procs;
	struct measurement m;
};

/* The floor under a lookup at one dataset size: see calibrate.h. */
struct floor {
	size_t keys;
	size_t bytes;
	double load_ns; /* -1 if it could not be measured */
};

struct machine {
	char cpu[256];	  /* "model name" of /proc/cpuinfo, or "unknown" */
	long online_cpus; /* -1 if unknown */
	char kernel[128]; /* uname release, or "unknown" */
	struct floor floors[16];
	size_t nfloors;
};

/* Never fails: what cannot be found reads "unknown". */
void machine_probe(struct machine *m);

/* Measure the floor at each of n dataset sizes (at most 16). */
void machine_calibrate(struct machine *m, const size_t *keys, size_t n);

/* The machine and its floors, then a blank line: what every text report starts with. */
void report_machine(FILE *f, const struct machine *m);

/* The machine as one JSON object, for a report's "machine" member. */
void report_machine_json(FILE *f, const struct machine *m);

/*
 * The results table, then supercache's ops/s over each peer's for every
 * (op, keys, procs). peers names the peers that ran, in column order.
 */
void report_table(FILE *f, const struct machine *m, const struct result *r, size_t n,
		  const char *const *peers, size_t npeers);

void report_json(FILE *f, const struct machine *m, const struct result *r, size_t n);

#endif /* REPORT_H */
