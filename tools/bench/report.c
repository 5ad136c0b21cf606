/* report.c — prints results: the machine they come from, a readable table with ratios, or one JSON object. */
#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "calibrate.h"
#include "json_text.h"
#include "report.h"

static void copy_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

static void probe_cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	copy_text(out, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		copy_text(out, len, colon);
		break;
	}
	fclose(f);
}

void machine_probe(struct machine *m)
{
	struct utsname u;

	probe_cpu_model(m->cpu, sizeof(m->cpu));
	m->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	copy_text(m->kernel, sizeof(m->kernel), uname(&u) == 0 ? u.release : "unknown");
}

void machine_calibrate(struct machine *m, const size_t *keys, size_t n)
{
	m->nfloors = 0;
	for (size_t i = 0; i < n && i < sizeof(m->floors) / sizeof(m->floors[0]); i++) {
		struct floor *f = &m->floors[m->nfloors++];

		f->keys = keys[i];
		f->bytes = calibrate_footprint(keys[i]);
		f->load_ns = calibrate_dependent_load_ns(f->bytes);
	}
}

static const struct result *find(const struct result *r, size_t n, const struct result *like,
				 const char *system)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].op == like->op && r[i].keys == like->keys && r[i].procs == like->procs &&
		    strcmp(r[i].system, system) == 0)
			return &r[i];
	return NULL;
}

static bool same_workload(const struct result *a, const struct result *b)
{
	return a->op == b->op && a->keys == b->keys && a->procs == b->procs;
}

void report_machine(FILE *f, const struct machine *m)
{
	fprintf(f, "machine: %s, %ld online CPUs, Linux %s\n", m->cpu, m->online_cpus, m->kernel);
	for (size_t i = 0; i < m->nfloors; i++)
		fprintf(f,
			"floor: one dependent load over %.1f MiB (the data of %zu keys), 4 KiB pages: %.1f ns\n",
			(double)m->floors[i].bytes / (1 << 20), m->floors[i].keys, m->floors[i].load_ns);
	fputc('\n', f);
}

void report_table(FILE *f, const struct machine *m, const struct result *r, size_t n,
		  const char *const *peers, size_t npeers)
{
	report_machine(f, m);
	fprintf(f, "%-10s %9s %5s  %-10s %14s %9s %9s\n", "op", "keys", "procs", "system", "ops/s", "p50 ns",
		"p99 ns");
	for (size_t i = 0; i < n; i++) {
		/* A blank line between workloads: each group is one system per row. */
		if (i > 0 && !same_workload(&r[i - 1], &r[i]))
			fputc('\n', f);
		fprintf(f, "%-10s %9zu %5u  %-10s %14.1f %9llu %9llu\n", bench_op_names[r[i].op], r[i].keys,
			r[i].procs, r[i].system, r[i].m.ops_per_s, (unsigned long long)r[i].m.p50_ns,
			(unsigned long long)r[i].m.p99_ns);
	}
	if (npeers == 0)
		return;
	fprintf(f, "\nsupercache ops/s over each peer's (above 1: supercache is faster)\n");
	fprintf(f, "%-10s %9s %5s ", "op", "keys", "procs");
	for (size_t p = 0; p < npeers; p++) {
		char label[64];

		snprintf(label, sizeof(label), "supercache/%s", peers[p]);
		fprintf(f, " %17s", label);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		const struct result *sc;

		if (i > 0 && same_workload(&r[i - 1], &r[i]))
			continue;
		sc = find(r, n, &r[i], "supercache");
		fprintf(f, "%-10s %9zu %5u ", bench_op_names[r[i].op], r[i].keys, r[i].procs);
		for (size_t p = 0; p < npeers; p++) {
			const struct result *peer = find(r, n, &r[i], peers[p]);

			if (sc && peer && peer->m.ops_per_s > 0)
				fprintf(f, " %16.2fx", sc->m.ops_per_s / peer->m.ops_per_s);
			else
				fprintf(f, " %17s", "-");
		}
		fputc('\n', f);
	}
}

void report_machine_json(FILE *f, const struct machine *m)
{
	fprintf(f, "{\"cpu\": ");
	json_write_string(f, m->cpu);
	fprintf(f, ", \"online_cpus\": %ld, \"kernel\": ", m->online_cpus);
	json_write_string(f, m->kernel);
	fprintf(f, ", \"dependent_load_ns\": [");
	for (size_t i = 0; i < m->nfloors; i++)
		fprintf(f, "%s{\"keys\": %zu, \"bytes\": %zu, \"ns\": %.1f}", i ? ", " : "",
			m->floors[i].keys, m->floors[i].bytes, m->floors[i].load_ns);
	fprintf(f, "]}");
}

void report_json(FILE *f, const struct machine *m, const struct result *r, size_t n)
{
	fprintf(f, "{\"machine\": ");
	report_machine_json(f, m);
	fprintf(f, ",\n \"workloads\": [");
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"%s\n  {\"system\": \"%s\", \"op\": \"%s\", \"keys\": %zu, \"procs\": %u, "
			"\"ops_per_s\": %.1f, \"p50_ns\": %llu, \"p99_ns\": %llu}",
			i ? "," : "", r[i].system, bench_op_names[r[i].op], r[i].keys, r[i].procs,
			r[i].m.ops_per_s, (unsigned long long)r[i].m.p50_ns,
			(unsigned long long)r[i].m.p99_ns);
	fprintf(f, "\n]}\n");
}
