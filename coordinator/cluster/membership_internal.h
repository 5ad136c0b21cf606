/* membership_internal.h — what the controller asks of the membership it belongs to. */
#ifndef SCD_MEMBERSHIP_INTERNAL_H
#define SCD_MEMBERSHIP_INTERNAL_H

#include <stdint.h>

#include <systemd/sd-event.h>

#include "cluster/membership.h"

const struct scd_membership_config *scd_membership_config(const struct scd_membership *m);
/* The lease the node holds while it runs (its member key's), 0 otherwise. */
int64_t scd_membership_lease(const struct scd_membership *m);
sd_event *scd_membership_event(const struct scd_membership *m);
void scd_membership_say(const struct scd_membership *m, int level, const char *line);

#endif /* SCD_MEMBERSHIP_INTERNAL_H */
