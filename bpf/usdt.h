/* usdt.h — USDT probes with semaphores: while no tool is attached, a probe costs one load and an untaken branch. */
#ifndef SC_USDT_H
#define SC_USDT_H

/*
 * SC_PROBES=0 compiles every probe out (the build option `probes`); the
 * benchmark builds the library both ways to show what they cost unattached.
 */
#ifndef SC_PROBES
#define SC_PROBES 1
#endif

#if SC_PROBES
/*
 * With semaphores, each probe's note names a counter that the kernel raises
 * in every process mapping the binary while a uprobe is attached there (the
 * uprobe's reference counter, which libbpf's USDT support sets). The probe
 * site tests it, so arguments are computed only when someone listens.
 */
#define _SDT_HAS_SEMAPHORES 1
#define SDT_USE_VARIADIC    1
#include <sys/sdt.h>

/* Hidden, so the test is a PC-relative load with no GOT indirection. */
#define SC_USDT_DECLARE(provider, name) \
	extern __attribute__((visibility("hidden"))) unsigned short provider##_##name##_semaphore
#define SC_USDT_DEFINE(provider, name)                           \
	__attribute__((visibility("hidden"), section(".probes"), \
		       used)) unsigned short provider##_##name##_semaphore
/* The kernel writes the counter behind the compiler's back: a fresh load every time. */
#define SC_USDT_ACTIVE(provider, name) \
	__builtin_expect(__atomic_load_n(&provider##_##name##_semaphore, __ATOMIC_RELAXED) != 0, 0)
#define SC_USDT(provider, name, ...)                              \
	do {                                                      \
		if (SC_USDT_ACTIVE(provider, name))               \
			STAP_PROBEV(provider, name, __VA_ARGS__); \
	} while (0)
#else
/* Compiled out, the arguments are still named (never evaluated), so nothing is left unused. */
static inline void sc_usdt_compiled_out(int unused, ...)
{
	(void)unused;
}

#define SC_USDT_DECLARE(provider, name) extern int sc_usdt_compiled_out_##provider
#define SC_USDT_DEFINE(provider, name)	extern int sc_usdt_compiled_out_##provider
#define SC_USDT_ACTIVE(provider, name)	0
#define SC_USDT(provider, name, ...)                          \
	do {                                                  \
		if (0)                                        \
			sc_usdt_compiled_out(0, __VA_ARGS__); \
	} while (0)
#endif

#endif
