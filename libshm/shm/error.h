/* error.h — per-thread detailed error messages behind the negative errno results. */
#ifndef SC_ERROR_H
#define SC_ERROR_H

#include <stddef.h>

#include "supercache.h" /* sc_strerror() for messages */

/* Record a detailed message for sc_last_error() and return err (a negative errno). */
int sc_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the last message with the item of a batch it is about ("batch tuple 3: ..."); returns err. */
int sc_fail_item(int err, const char *what, size_t i);

/*
 * Check an argument at a public entry point, as systemd's assert_return()
 * does: when expr is false, record the message (for sc_last_error()) and
 * return err from the calling function. Arguments are checked first, before
 * anything the caller would have to undo.
 */
#define sc_check_arg(expr, err, ...)                        \
	do {                                                \
		if (__builtin_expect(!(expr), 0))           \
			return sc_fail((err), __VA_ARGS__); \
	} while (0)

/*
 * One part's result, in a call over several parts (partitions, a batch's
 * shares) that tries every one: a count is added to *total, the first
 * error kept in *first. The call's result: *first if set, else *total.
 */
static inline void sc_tally(int n, int *total, int *first)
{
	if (n < 0 && !*first)
		*first = n;
	else if (n > 0)
		*total += n;
}

/* Forget the calling thread's last message (a call that succeeds leaves it alone). */
void sc_clear_error(void);

#endif /* SC_ERROR_H */
