/* bus_dict.h — building a{sv} dictionaries, the shape of every supercached reply. */
#ifndef SCD_BUS_DICT_H
#define SCD_BUS_DICT_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "local/health.h"

/* Entries of an open a{sv} container; each returns 0 or a negative errno. */
int scd_dict_u(sd_bus_message *m, const char *key, uint32_t v);
int scd_dict_t(sd_bus_message *m, const char *key, uint64_t v);
int scd_dict_d(sd_bus_message *m, const char *key, double v);
int scd_dict_b(sd_bus_message *m, const char *key, bool v);
int scd_dict_s(sd_bus_message *m, const char *key, const char *v);
/* An array of uint64 values, n of them, value i read by get(i, arg). */
int scd_dict_at(sd_bus_message *m, const char *key, uint32_t n, uint64_t (*get)(uint32_t i, const void *arg),
		const void *arg);

/*
 * Open an array of element (a signature of at most 14 characters) under key,
 * an a{sv} for element "{sv}"; fill it, then close it with scd_dict_close().
 */
int scd_dict_open_array(sd_bus_message *m, const char *key, const char *element);
int scd_dict_close(sd_bus_message *m);

/*
 * Close m's outermost a{sv}, send m and release it, unless r (the result of
 * building it) is already an error; returns r or the first error.
 */
int scd_dict_send(sd_bus_message *m, int r);

/* The readings of a health check, as ClusterHealth, NodeHealth and the HealthCheck signal carry them. */
int scd_dict_health(sd_bus_message *m, const struct scd_health *h);

#endif /* SCD_BUS_DICT_H */
