/* probe_cost.c — supercache-bench --probe-cost: what the twins' rounds come to, and whether the 2% bound holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_cost.h"

const enum bench_op probe_cost_ops[PROBE_COST_NOPS] = { OP_PUT, OP_GET };

#if BENCH_PROBE_COST
const struct bench_system *const probe_cost_twins[2] = { &bench_supercache_probes_on,
							 &bench_supercache_probes_off };
#else
/* Built without sys/sdt.h or sanitized, so without the twins: main() refuses --probe-cost. */
const struct bench_system *const probe_cost_twins[2] = { NULL, NULL };
#endif

/* One operation's rounds: ops/s of each twin, in the order they ran. */
struct op_cost {
	enum bench_op op;
	double rounds[2][PROBE_COST_ROUNDS]; /* [0]: probes compiled in, [1]: compiled out */
	size_t nrounds[2];
	double median[2];
	double ratio;		   /* median on over median off */
	double ratio_lo, ratio_hi; /* the middle half of the rounds' own on/off ratios */
	bool within;
};

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v in place. */
static double median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void collect(struct op_cost *c, enum bench_op op, const struct result *r, size_t n)
{
	double sorted[PROBE_COST_ROUNDS], ratios[PROBE_COST_ROUNDS];
	size_t pairs;

	*c = (struct op_cost){ .op = op };
	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < 2; t++) {
			if (r[i].op == op && strcmp(r[i].system, probe_cost_twins[t]->name) == 0 &&
			    c->nrounds[t] < PROBE_COST_ROUNDS)
				c->rounds[t][c->nrounds[t]++] = r[i].m.ops_per_s;
		}
	}
	for (size_t t = 0; t < 2; t++) {
		memcpy(sorted, c->rounds[t], c->nrounds[t] * sizeof(*sorted));
		c->median[t] = median(sorted, c->nrounds[t]);
	}
	c->ratio = c->median[1] > 0 ? c->median[0] / c->median[1] : 0;
	/*
	 * Both ways: were the copy with probes more than 2% faster, the run
	 * could not resolve 2% either, and saying it holds would mislead.
	 */
	c->within = fabs(c->ratio - 1) <= PROBE_COST_BOUND;
	/* A round's twins ran one right after the other: their ratio shows how far the noise reaches. */
	pairs = c->nrounds[0] < c->nrounds[1] ? c->nrounds[0] : c->nrounds[1];
	for (size_t k = 0; k < pairs; k++)
		ratios[k] = c->rounds[1][k] > 0 ? c->rounds[0][k] / c->rounds[1][k] : 0;
	qsort(ratios, pairs, sizeof(*ratios), compare_double);
	if (pairs > 0) {
		c->ratio_lo = ratios[(pairs - 1) / 4];
		c->ratio_hi = ratios[pairs - 1 - (pairs - 1) / 4];
	}
}

static void cost_text(FILE *f, const struct op_cost *c)
{
	bool all_within = true;

	fprintf(f,
		"probe cost: libsupercache with its probes compiled in (-DSC_PROBES=1) and not attached,\n"
		"against compiled out (-DSC_PROBES=0); %d keys, 1 process. %d rounds: in each, every\n"
		"operation runs %.2f s on one copy, then on the other. Medians over the rounds.\n\n",
		PROBE_COST_KEYS, PROBE_COST_ROUNDS, (double)PROBE_COST_NS / 1e9);
	fprintf(f, "%-5s %16s %17s %7s %26s %10s\n", "op", "probes on ops/s", "probes off ops/s", "on/off",
		"rounds' on/off (mid half)", "within 2%");
	for (size_t i = 0; i < PROBE_COST_NOPS; i++) {
		char spread[32];

		snprintf(spread, sizeof(spread), "%.3f-%.3f", c[i].ratio_lo, c[i].ratio_hi);
		fprintf(f, "%-5s %16.1f %17.1f %7.3f %26s %10s\n", bench_op_names[c[i].op], c[i].median[0],
			c[i].median[1], c[i].ratio, spread, c[i].within ? "yes" : "NO");
		all_within &= c[i].within;
	}
	fprintf(f, "\nThe %g%% bound %s: with the probes compiled in,", PROBE_COST_BOUND * 100,
		all_within ? "holds" : "DOES NOT HOLD");
	for (size_t i = 0; i < PROBE_COST_NOPS; i++) {
		/* Which operations break the bound, when one does. */
		const char *which = all_within ? "" : c[i].within ? " (within)" : " (outside)";

		fprintf(f, "%s %s%s at %.3f%s", i ? " and" : "", bench_op_names[c[i].op], i ? "" : " runs",
			c[i].ratio, which);
	}
	fprintf(f, " of their speed with the probes compiled out.\n");
}

static void json_rounds(FILE *f, const double *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.1f", i ? ", " : "", v[i]);
	fputc(']', f);
}

static void cost_json(FILE *f, const struct machine *m, const struct op_cost *c)
{
	bool all_within = true;

	for (size_t i = 0; i < PROBE_COST_NOPS; i++)
		all_within &= c[i].within;
	fprintf(f, "{\"machine\": ");
	report_machine_json(f, m);
	fprintf(f,
		",\n \"probe_cost\": {\"keys\": %d, \"procs\": 1, \"rounds\": %d, \"seconds_per_measurement\": %.2f, "
		"\"bound\": %g, \"within_bound\": %s, \"ops\": [",
		PROBE_COST_KEYS, PROBE_COST_ROUNDS, (double)PROBE_COST_NS / 1e9, PROBE_COST_BOUND,
		all_within ? "true" : "false");
	for (size_t i = 0; i < PROBE_COST_NOPS; i++) {
		fprintf(f, "%s\n  {\"op\": \"%s\"", i ? "," : "", bench_op_names[c[i].op]);
		for (size_t t = 0; t < 2; t++) {
			fprintf(f, ", \"%s\": {\"median_ops_per_s\": %.1f, \"rounds_ops_per_s\": ",
				probe_cost_twins[t]->name, c[i].median[t]);
			json_rounds(f, c[i].rounds[t], c[i].nrounds[t]);
			fputc('}', f);
		}
		fprintf(f,
			", \"ratio\": %.4f, \"round_ratios_middle_half\": [%.4f, %.4f], \"within_bound\": %s}",
			c[i].ratio, c[i].ratio_lo, c[i].ratio_hi, c[i].within ? "true" : "false");
	}
	fprintf(f, "\n]}}\n");
}

void probe_cost_report(FILE *f, const struct machine *m, const struct result *r, size_t n, bool json)
{
	struct op_cost c[PROBE_COST_NOPS];

	for (size_t i = 0; i < PROBE_COST_NOPS; i++)
		collect(&c[i], probe_cost_ops[i], r, n);
	if (json) {
		cost_json(f, m, c);
		return;
	}
	report_machine(f, m);
	cost_text(f, c);
}
