/* log_position.h — a place in one of a cache's replication logs: which log, and the epoch and lseq of an entry there. */
#ifndef SC_LOG_POSITION_H
#define SC_LOG_POSITION_H

#include <stdint.h>

struct sc_log_position {
	uint32_t log; /* the partition's index (sc_part_index()) */
	uint64_t epoch;
	uint64_t lseq;
};

#endif /* SC_LOG_POSITION_H */
