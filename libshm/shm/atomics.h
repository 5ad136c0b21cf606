/* atomics.h — the memory-ordering vocabulary of the library, on liburcu's primitives. */
#ifndef SC_ATOMICS_H
#define SC_ATOMICS_H

#include <urcu/arch.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

/*
 * Shared memory is read by other processes concurrently, so every access to
 * a field another process may write goes through one of these, never a plain
 * load or store the compiler could tear, fuse or move.
 *
 * liburcu 0.13 (Debian 12) has no acquire/release forms of uatomic, so
 * publication uses its rcu_assign_pointer/rcu_dereference pattern on
 * integers: a write barrier before the store that publishes, and on the read
 * side the dependency of every later load on the loaded offset.
 */

/*
 * uatomic_read/uatomic_set add cmm_smp_rmc()/wmc(), which exist for caches
 * that are not coherent and cost a compiler memory barrier on every access
 * (every value in a register is spilled and reloaded). Coherent caches, all
 * Linux runs on, need only the single-copy access itself.
 */
#define sc_read(p)     _CMM_LOAD_SHARED(*(p))
#define sc_write(p, v) ((void)_CMM_STORE_SHARED(*(p), (v)))

/* Make everything written before visible no later than this store. */
#define sc_publish(p, v)            \
	do {                        \
		cmm_smp_wmb();      \
		sc_write((p), (v)); \
	} while (0)

/* Load a value whose dependants (an offset, then what it points at) are read next. */
#define sc_consume(p)                                \
	__extension__({                              \
		__typeof__(*(p)) _sc_v = sc_read(p); \
		cmm_smp_read_barrier_depends();      \
		_sc_v;                               \
	})

/* Load after which no later load may be satisfied earlier. */
#define sc_acquire(p)                                \
	__extension__({                              \
		__typeof__(*(p)) _sc_v = sc_read(p); \
		cmm_smp_rmb();                       \
		_sc_v;                               \
	})

#define sc_cmpxchg(p, old, new) uatomic_cmpxchg((p), (old), (new))
#define sc_xchg(p, v)		uatomic_xchg((p), (v))
#define sc_add_return(p, v)	uatomic_add_return((p), (v))
#define sc_add(p, v)		uatomic_add((p), (v))
#define sc_full_barrier()	cmm_smp_mb()
#define sc_compiler_barrier()	cmm_barrier()
#define sc_cpu_relax()		caa_cpu_relax()

/* Raise *p to at least v. */
#define sc_store_max(p, v)                                                                   \
	do {                                                                                 \
		__typeof__(*(p)) _sc_cur = sc_read(p);                                       \
		__typeof__(*(p)) _sc_want = (v);                                             \
		while (_sc_cur < _sc_want) {                                                 \
			__typeof__(*(p)) _sc_seen = uatomic_cmpxchg((p), _sc_cur, _sc_want); \
			if (_sc_seen == _sc_cur)                                             \
				break;                                                       \
			_sc_cur = _sc_seen;                                                  \
		}                                                                            \
	} while (0)

#define sc_likely(x)   __builtin_expect(!!(x), 1)
#define sc_unlikely(x) __builtin_expect(!!(x), 0)

#endif /* SC_ATOMICS_H */
