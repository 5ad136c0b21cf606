/* record_deadline.h — a record's time to live: where its deadline lives, and whether it has passed. */
#ifndef SC_RECORD_DEADLINE_H
#define SC_RECORD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/atomics.h"
#include "shm/clock.h"
#include "shm/layout.h"

/*
 * A record put with a time to live carries SC_BLK_EXPIRES and, in its last
 * 8 bytes (8-aligned, after its fields and at most 4 bytes of zero
 * padding), its deadline: CLOCK_MONOTONIC_COARSE nanoseconds. Every
 * process of the host shares that clock, and it is the one a reader can
 * read without a system call on every machine: the vDSO always serves the
 * coarse clocks, while on hosts whose clock source it cannot read (common
 * in virtual machines) the fine ones fall back to a system call. Its step
 * is one scheduler tick (1 to 4 ms): a tuple vanishes at the first tick at
 * or after its deadline, for every process at once. It stops during a
 * suspend, and so does every time to live. A deadline of 0 means none
 * (sc_touch() made the tuple permanent). The word is the one part of a
 * published record that changes: sc_touch() stores a new deadline with a
 * single aligned store, and readers load it once, so a reader sees the old
 * deadline or the new one. The checksum leaves it out.
 */

/* Bytes the deadline adds to a record of len bytes: padding to 8, then the word. */
static inline uint32_t sc_deadline_room(uint32_t len)
{
	return (uint32_t)(sc_align_up(len, 8) - len) + 8u;
}

/* Whether a record with these flags and length ends in a sound deadline word. */
static inline bool sc_rec_has_deadline(uint8_t flags, uint32_t len)
{
	return (flags & SC_BLK_EXPIRES) && len >= sizeof(struct sc_blk) + 8 && len % 8 == 0;
}

/* The record's deadline word, if its flags and length say it has a sound one; else NULL. */
static inline uint64_t *sc_rec_deadline_word(const struct sc_blk *rec, uint32_t len)
{
	if (!sc_rec_has_deadline(sc_read(&rec->flags), len))
		return NULL;
	return (uint64_t *)((uint8_t *)rec + len - 8);
}

/* Bytes of a record of len bytes (flags as given) its checksum covers: after the header, but the deadline. */
static inline uint32_t sc_rec_body_bytes(uint8_t flags, uint32_t len)
{
	return len - (uint32_t)sizeof(struct sc_blk) - (sc_rec_has_deadline(flags, len) ? 8u : 0u);
}

/* The same for a record in place. */
static inline uint32_t sc_rec_body_len(const struct sc_blk *rec, uint32_t len)
{
	return sc_rec_body_bytes(sc_read(&rec->flags), len);
}

/* The record's deadline, 0 for none. */
static inline uint64_t sc_rec_deadline(const struct sc_blk *rec, uint32_t len)
{
	const uint64_t *w = sc_rec_deadline_word(rec, len);

	return w ? sc_read(w) : 0;
}

/* Whether a deadline has passed at now. */
static inline bool sc_deadline_passed(uint64_t deadline, uint64_t now)
{
	return deadline != 0 && deadline <= now;
}

/*
 * Whether the record of len bytes has expired: invisible to every read
 * from its deadline on. The clock is read only for records that carry one.
 */
static inline bool sc_rec_expired(const struct sc_blk *rec, uint32_t len)
{
	if (sc_likely(!(sc_read(&rec->flags) & SC_BLK_EXPIRES)))
		return false;
	return sc_deadline_passed(sc_rec_deadline(rec, len), sc_clock_ns());
}

/*
 * Give a freshly allocated record of rec->len bytes (sc_deadline_room()
 * included) its deadline, before its fields are encoded: the flag, the
 * padding zeroed, the word.
 */
static inline void sc_rec_set_deadline(struct sc_blk *rec, uint64_t deadline)
{
	uint8_t *end = (uint8_t *)rec + rec->len;

	rec->flags |= SC_BLK_EXPIRES;
	__builtin_memset(end - 12, 0, 4);
	__builtin_memcpy(end - 8, &deadline, 8);
}

/* Longest time to live a caller may ask for: 2^42 ms, about 139 years. */
#define SC_TTL_MAX_MS (1ull << 42)

/*
 * The deadline of a put with a time to live of ttl_ms in *deadline; SC_TTL_FOREVER gives 0 (none). -EINVAL for 0 or more than
 * SC_TTL_MAX_MS.
 */
int sc_deadline_after(uint64_t ttl_ms, uint64_t *deadline);

#endif /* SC_RECORD_DEADLINE_H */
