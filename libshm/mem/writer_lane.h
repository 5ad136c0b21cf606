/* writer_lane.h — which of a partition's lanes (struct sc_lane) this thread's writes use. */
#ifndef SC_WRITER_LANE_H
#define SC_WRITER_LANE_H

#include <stdint.h>

#include "shm/layout.h"

/*
 * The lane of the CPU the thread took its last partition lock on: chosen
 * again at every lock (sc_lane_choose()), so a thread that moved to another
 * CPU follows it at its next write. Which lane a write uses changes where
 * its blocks go, never whether the write is right: every lane of a
 * partition is under that partition's lock.
 */
extern __thread uint32_t sc_lane_now __attribute__((tls_model("initial-exec")));

/* Note the CPU this thread runs on now; the writes under the lock just taken use its lane. */
void sc_lane_choose(void);

static inline uint32_t sc_lane_index(void)
{
	return sc_lane_now % SC_LANES;
}

static inline struct sc_lane *sc_lane_mine(struct sc_part *p)
{
	return &p->lanes[sc_lane_index()];
}

#endif /* SC_WRITER_LANE_H */
