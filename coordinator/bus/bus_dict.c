/* bus_dict.c — building a{sv} dictionaries, the shape of every supercached reply. */
#include "bus/bus_dict.h"

#include <errno.h>
#include <stdio.h>
int scd_dict_u(sd_bus_message *m, const char *key, uint32_t v)
{
	return sd_bus_message_append(m, "{sv}", key, "u", v);
}

int scd_dict_t(sd_bus_message *m, const char *key, uint64_t v)
{
	return sd_bus_message_append(m, "{sv}", key, "t", v);
}

int scd_dict_d(sd_bus_message *m, const char *key, double v)
{
	return sd_bus_message_append(m, "{sv}", key, "d", v);
}

int scd_dict_b(sd_bus_message *m, const char *key, bool v)
{
	return sd_bus_message_append(m, "{sv}", key, "b", (int)v);
}

int scd_dict_s(sd_bus_message *m, const char *key, const char *v)
{
	return sd_bus_message_append(m, "{sv}", key, "s", v);
}

int scd_dict_open_array(sd_bus_message *m, const char *key, const char *element)
{
	char array[16];
	int r = sd_bus_message_open_container(m, 'e', "sv");

	snprintf(array, sizeof(array), "a%s", element);
	if (r >= 0)
		r = sd_bus_message_append(m, "s", key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', array);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', element);
	return r;
}

int scd_dict_at(sd_bus_message *m, const char *key, uint32_t n, uint64_t (*get)(uint32_t i, const void *arg),
		const void *arg)
{
	int r = scd_dict_open_array(m, key, "t");

	for (uint32_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "t", get(i, arg));
	return r >= 0 ? scd_dict_close(m) : r;
}

int scd_dict_close(sd_bus_message *m)
{
	int r = 0;

	for (int depth = 0; r >= 0 && depth < 3; depth++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int health_check_entry(sd_bus_message *m, const char *name, const struct scd_check_result *c)
{
	int r = scd_dict_open_array(m, name, "{sv}");
	if (r >= 0)
		r = scd_dict_b(m, "alert", c->alert);
	if (r >= 0)
		r = scd_dict_d(m, "value", c->value);
	if (r >= 0)
		r = scd_dict_d(m, "threshold", c->threshold);
	if (r >= 0)
		r = scd_dict_s(m, "message", c->message);
	return r >= 0 ? scd_dict_close(m) : r;
}

int scd_dict_health(sd_bus_message *m, const struct scd_health *h)
{
	int r = scd_dict_s(m, "status", h->healthy ? "healthy" : "degraded");

	if (r >= 0)
		r = scd_dict_t(m, "memory_used", h->memory_used);
	if (r >= 0)
		r = scd_dict_t(m, "memory_limit", h->memory_limit);
	if (r >= 0)
		r = scd_dict_t(m, "retired_bytes", h->retired_bytes);
	if (r >= 0)
		r = scd_dict_t(m, "max_retired", h->max_retired);
	if (r >= 0)
		r = scd_dict_u(m, "readers", h->readers);
	if (r >= 0)
		r = scd_dict_u(m, "oldest_reader_pid", h->oldest_reader_pid);
	if (r >= 0)
		r = scd_dict_d(m, "oldest_reader_seconds", h->oldest_reader_seconds);
	if (r >= 0)
		r = scd_dict_t(m, "records", h->records);
	for (int i = 0; r >= 0 && i < SCD_CHECKS; i++)
		r = health_check_entry(m, scd_check_name((enum scd_check)i), &h->checks[i]);
	return r;
}

int scd_dict_send(sd_bus_message *m, int r)
{
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
	return r;
}
