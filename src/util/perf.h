/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_PERF_H
#define RS_UTIL_PERF_H

/*
 * Per-phase timing and USDT probes (the RS_PERF_TRACE build option;
 * include/runstate/perf.h, docs/perf-trace.md).
 *
 * Without RS_PERF_TRACE every macro here expands to nothing (its
 * arguments are not evaluated) and rs_txn has no perf fields, so the
 * library's code is that of a tree without this file; rs__perf_read()
 * and rs__perf_reset() return RS_ENOTSUP.
 *
 * With it, a phase boundary is one clock read (rs__perf_now(): the TSC
 * where it is invariant, else CLOCK_MONOTONIC), and rs__perf_add() adds
 * the ticks since the previous boundary to the calling thread's counters:
 * plain loads and stores of relaxed atomics (one writer per block, so no
 * locked instruction), no lock, no allocation but a thread's first.
 * Ticks become nanoseconds only when the counters are read (perf.c).
 *
 * The commit path keeps its cursor (the previous boundary) in the
 * transaction, rs_txn.perf_t; the log's Strict wait, which knows no
 * transaction, adds its time to the thread's rs__perf_sync_ticks, which
 * the commit takes out of RS_PERF_LOG so that the phases tile the commit.
 * Probes: RS_PROBE(name, args...) is a USDT probe runstate:name.
 */
#include <stdint.h>

#include <runstate/perf.h>

int rs__perf_read(rs_perf_stats *out);
int rs__perf_reset(void);
const char *rs__perf_phase_name(rs_perf_phase phase);

#ifdef RS_PERF_TRACE

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/sdt.h>

/* sdt.h's probe macros call one of its own variadic macros with an empty
 * `...`, which clang's -Wpedantic reports where a probe expands. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wgnu-zero-variadic-macro-arguments"
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define RS__PERF_HAVE_TSC 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RS__PERF_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define RS__PERF_TLS _Thread_local
#endif

typedef struct rs__perf_ctr {
	_Atomic uint64_t count;
	_Atomic uint64_t ticks;
	_Atomic uint64_t max;
} rs__perf_ctr;

/* One thread's counters (perf.c): written by their owner only. */
typedef struct rs__perf_block {
	/* rs__perf_epoch when the owner last cleared it. */
	_Atomic uint64_t epoch;
	_Atomic bool owned;
	struct rs__perf_block *next; /* the registry; set once */
	rs__perf_ctr c[RS_PERF_PHASES];
} rs__perf_block;

extern RS__PERF_TLS rs__perf_block *rs__perf_self;
extern RS__PERF_TLS uint64_t rs__perf_sync_ticks;
extern _Atomic uint64_t rs__perf_epoch;
extern bool rs__perf_tsc; /* set before main() runs (perf.c) */

/* The calling thread's block, cleared if a reset came since; NULL when
 * out of memory (the thread then records nothing). */
rs__perf_block *rs__perf_attach(void);
uint64_t rs__perf_now_slow(void);

static inline uint64_t rs__perf_now(void)
{
#ifdef RS__PERF_HAVE_TSC
	if (rs__perf_tsc)
		return __rdtsc();
#endif
	return rs__perf_now_slow();
}

static inline void rs__perf_bump(_Atomic uint64_t *x, uint64_t d)
{
	atomic_store_explicit(x,
			      atomic_load_explicit(x, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

static inline void rs__perf_add(unsigned phase, uint64_t ticks)
{
	rs__perf_block *b = rs__perf_self;
	rs__perf_ctr *c;

	if (!b || atomic_load_explicit(&b->epoch, memory_order_relaxed) !=
			  atomic_load_explicit(&rs__perf_epoch,
					       memory_order_relaxed)) {
		if (!(b = rs__perf_attach()))
			return;
	}
	c = &b->c[phase];
	rs__perf_bump(&c->count, 1);
	rs__perf_bump(&c->ticks, ticks);
	if (ticks > atomic_load_explicit(&c->max, memory_order_relaxed))
		atomic_store_explicit(&c->max, ticks, memory_order_relaxed);
}

/* A local clock reading: `uint64_t var = now` (nothing when off). */
#define RS_PERF_START(var) uint64_t var = rs__perf_now()
/* Add the time since `var` to `phase`. */
#define RS_PERF_SINCE(var, phase) rs__perf_add((phase), rs__perf_now() - (var))

/* End of begin: RS_PERF_SNAPSHOT since t0; the commit cursor starts. */
#define RS_PERF_TXN_BEGUN(txn, t0)                            \
	do {                                                  \
		uint64_t rs__n = rs__perf_now();              \
		rs__perf_add(RS_PERF_SNAPSHOT, rs__n - (t0)); \
		(txn)->perf_t = rs__n;                        \
		(txn)->perf_published = false;                \
	} while (0)
/* A boundary of the commit: the time since the last one is `phase`. */
#define RS_PERF_TXN_SPLIT(txn, phase)                         \
	do {                                                  \
		uint64_t rs__n = rs__perf_now();              \
		rs__perf_add((phase), rs__n - (txn)->perf_t); \
		(txn)->perf_t = rs__n;                        \
	} while (0)
/* Before the backend's commit: RS_PERF_PREPARE ends, and no Strict wait
 * of an earlier failed commit is left over. */
#define RS_PERF_TXN_PREPARED(txn)                          \
	do {                                               \
		rs__perf_sync_ticks = 0;                   \
		RS_PERF_TXN_SPLIT((txn), RS_PERF_PREPARE); \
	} while (0)
/* After it: RS_PERF_LOG, less what the log spent in RS_PERF_SYNC. */
#define RS_PERF_TXN_LOGGED(txn)                                            \
	do {                                                               \
		uint64_t rs__n = rs__perf_now();                           \
		rs__perf_add(RS_PERF_LOG,                                  \
			     rs__n - (txn)->perf_t - rs__perf_sync_ticks); \
		rs__perf_sync_ticks = 0;                                   \
		(txn)->perf_t = rs__n;                                     \
	} while (0)
#define RS_PERF_TXN_PUBLISHED(txn)                         \
	do {                                               \
		RS_PERF_TXN_SPLIT((txn), RS_PERF_PUBLISH); \
		(txn)->perf_published = true;              \
	} while (0)
/* The cursor of a commit that published, kept past the context's return
 * to its pool; RS_PERF_TXN_END adds RS_PERF_RECLAIM up to now. */
#define RS_PERF_TXN_KEEP(var, txn) \
	uint64_t var = (txn)->perf_published ? (txn)->perf_t : UINT64_MAX
#define RS_PERF_TXN_END(var)                                   \
	do {                                                   \
		if ((var) != UINT64_MAX)                       \
			RS_PERF_SINCE((var), RS_PERF_RECLAIM); \
	} while (0)
/* The log's Strict wait, from `var` (a RS_PERF_START) to now. */
#define RS_PERF_SYNCED(var)                              \
	do {                                             \
		uint64_t rs__d = rs__perf_now() - (var); \
		rs__perf_add(RS_PERF_SYNC, rs__d);       \
		rs__perf_sync_ticks += rs__d;            \
	} while (0)

/* A USDT probe runstate:name with 1 to 4 arguments (sdt.h's own
 * variadic form needs a GNU extension). */
#define RS__PROBE_N(a1, a2, a3, a4, n, ...) n
#define RS__PROBE_PICK(...)                                             \
	RS__PROBE_N(__VA_ARGS__, STAP_PROBE4, STAP_PROBE3, STAP_PROBE2, \
		    STAP_PROBE1, RS__PROBE_TOO_FEW)
#define RS_PROBE(name, ...) \
	RS__PROBE_PICK(__VA_ARGS__)(runstate, name, __VA_ARGS__)
/* Statements only a tracing build runs. */
#define RS_PERF_ONLY(...) __VA_ARGS__

#else /* !RS_PERF_TRACE */

#define RS_PERF_START(var)
#define RS_PERF_SINCE(var, phase) ((void)0)
#define RS_PERF_TXN_BEGUN(txn, t0) ((void)0)
#define RS_PERF_TXN_SPLIT(txn, phase) ((void)0)
#define RS_PERF_TXN_PREPARED(txn) ((void)0)
#define RS_PERF_TXN_LOGGED(txn) ((void)0)
#define RS_PERF_TXN_PUBLISHED(txn) ((void)0)
#define RS_PERF_TXN_KEEP(var, txn)
#define RS_PERF_TXN_END(var) ((void)0)
#define RS_PERF_SYNCED(var) ((void)0)
#define RS_PROBE(...) ((void)0)
#define RS_PERF_ONLY(...)

#endif

#endif
