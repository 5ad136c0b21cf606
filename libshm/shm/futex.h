/* futex.h — sleeping on a word of the segment until another process changes it, and waking its sleepers. */
#ifndef SC_FUTEX_H
#define SC_FUTEX_H

#include <stdint.h>

/*
 * Shared futexes (no FUTEX_PRIVATE_FLAG): the word is in a MAP_SHARED
 * segment and the waker is often another process.
 *
 * Sleep while *word holds seen, for at most timeout_ns: 0 when woken or
 * the word differs already, -ETIMEDOUT, -EINTR (a signal). The caller looks
 * again at what it waits for in every case.
 */
int sc_futex_wait(uint32_t *word, uint32_t seen, uint64_t timeout_ns);

/* Wake up to count sleepers on word. */
void sc_futex_wake(uint32_t *word, int count);

/*
 * The same with a mask (FUTEX_WAIT_BITSET): a sleeper on word with mask
 * bits is woken only by a wake whose bits meet them (or by any
 * sc_futex_wake()). Many sleepers on one word, each waiting for its own
 * point, are woken only when their point may have come.
 */
int sc_futex_wait_bits(uint32_t *word, uint32_t seen, uint64_t timeout_ns, uint32_t bits);
void sc_futex_wake_bits(uint32_t *word, uint32_t bits);

#endif /* SC_FUTEX_H */
