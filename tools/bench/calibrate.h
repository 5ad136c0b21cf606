/* calibrate.h — the machine's floor for a lookup: one dependent load over a working set of a given size. */
#ifndef CALIBRATE_H
#define CALIBRATE_H

#include <stddef.h>

/* Bytes a cache of nkeys bench tuples occupies: records and index, roughly. */
size_t calibrate_footprint(size_t nkeys);

/*
 * Nanoseconds one load takes when its address depends on the previous one,
 * at random over bytes of memory in 4 KiB pages (as tmpfs gives): cache or
 * DRAM latency plus the page walk. A lookup that must touch an index line
 * and then a record cannot beat two of these. -1 on failure.
 */
double calibrate_dependent_load_ns(size_t bytes);

#endif /* CALIBRATE_H */
