/* SPDX-License-Identifier: MIT */
#ifndef RS_BENCH_SHIM_H
#define RS_BENCH_SHIM_H

/*
 * The C face of the benchmark harness (docs/benchmark-catalog.md): a thin
 * wrapper over Google Benchmark's benchmark::State, so benchmark bodies are
 * plain C11. shim.cc implements it; main.cc owns main() and the
 * report_*.cc files print the reports.
 *
 * A benchmark body does its setup, warms up, then runs the timed loop,
 * usually through rs_bench_loop() (common.h), which amounts to:
 *
 *	while (rs_bench_keep_running_batch(st, RS_BENCH_BATCH))
 *		for (unsigned j = 0; j < RS_BENCH_BATCH; j++)
 *			one_operation();
 *
 * Each iteration is one operation. The batch form keeps the shim's call
 * (the State lives on the C++ side) off the per-operation cost, which
 * matters for benchmarks measuring ~10 ns.
 *
 * Honesty rules: nothing allocates, formats, or spawns inside the loop;
 * pre-generate keys and values during setup.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One benchmark::State, plus the argument given at registration. */
typedef struct rs_bench_state rs_bench_state;

typedef void (*rs_bench_fn)(rs_bench_state *st);

/* Operations per rs_bench_keep_running_batch() call in the hot loops. */
#define RS_BENCH_BATCH 32u

/* State::KeepRunning(): true while another iteration should run. */
bool rs_bench_keep_running(rs_bench_state *st);
/* State::KeepRunningBatch(n): true while n more iterations should run (the
 * last batch may overshoot; Google Benchmark counts what actually ran). */
bool rs_bench_keep_running_batch(rs_bench_state *st, uint64_t n);
/* Stop and restart the timer (costly: ~1 µs; never per operation). */
void rs_bench_pause(rs_bench_state *st);
void rs_bench_resume(rs_bench_state *st);
/* Fail this benchmark with a message; the body should then return. */
void rs_bench_skip_with_error(rs_bench_state *st, const char *msg);

/*
 * Quick runs (runstate_bench --quick): every benchmark briefly, on smaller
 * data, to see that everything runs, never to gate. Set by main() before
 * any suite registers. rs_bench_scaled(n) is the size to use for a data
 * set or sample count of n: n in a full run, n / RS_BENCH_QUICK_DIV (at
 * least 1000, never more than n) in a quick one. Benchmark names stay
 * those of the catalog; the reports say the run was quick.
 */
#define RS_BENCH_QUICK_DIV 10u
void rs_bench_set_quick(bool quick);
bool rs_bench_quick(void);
size_t rs_bench_scaled(size_t n);

/* Counter flags, as benchmark::Counter::Flags. */
enum {
	RS_BENCH_COUNTER_PLAIN = 0,
	RS_BENCH_COUNTER_RATE = 1,	    /* divided by elapsed seconds */
	RS_BENCH_COUNTER_AVG_THREADS = 2,   /* divided by thread count */
	RS_BENCH_COUNTER_AVG_ITERATIONS = 4 /* divided by iterations */
};
void rs_bench_counter(rs_bench_state *st, const char *name, double value,
		      unsigned flags);
void rs_bench_items_processed(rs_bench_state *st, int64_t items);
void rs_bench_set_label(rs_bench_state *st, const char *label);

int rs_bench_thread_index(const rs_bench_state *st);
int rs_bench_threads(const rs_bench_state *st);
/* The registered argument value number i (State::range(i)). */
int64_t rs_bench_range(const rs_bench_state *st, size_t i);
/* Iterations run so far (after the loop: all of them). */
int64_t rs_bench_iterations(const rs_bench_state *st);
/* The `arg` pointer given at registration. */
void *rs_bench_arg(const rs_bench_state *st);

/* Registration options; zero means "the default". */
typedef struct rs_bench_opts {
	void *arg;	    /* handed to the body via rs_bench_arg() */
	const int *threads; /* thread counts, one instance each */
	size_t nthreads;
	const int64_t *args; /* argument values, one instance each */
	size_t nargs;
	double min_time; /* seconds; 0: --benchmark_min_time */
	bool real_time;	 /* judge by wall clock (threaded runs) */
	bool unit_ms;	 /* print times in ms (the name is unchanged) */
} rs_bench_opts;

/*
 * Register a benchmark under its catalog name. Names are part of the
 * product (docs/benchmark-catalog.md); a variant on the unified store (the M3
 * baseline) carries the suffix RS_BENCH_UNIFIED_SUFFIX. Setting threads,
 * args, min_time or real_time makes Google Benchmark append
 * "/threads:N", "/<arg>", "/min_time:X" or "/real_time" to the name.
 */
void rs_bench_register(const char *name, rs_bench_fn fn,
		       const rs_bench_opts *opts);
/* RS_BENCH("name", fn, arg [, .threads = ..., .nthreads = n, ...]) */
#define RS_BENCH(name, fn, ...)         \
	rs_bench_register((name), (fn), \
			  &(const rs_bench_opts){ .arg = __VA_ARGS__ })

#define RS_BENCH_UNIFIED_SUFFIX "@unified"

/*
 * Probes: measurements that are not a Google Benchmark timed loop (latency
 * percentiles with a clock read per operation, allocation counts). A probe
 * runs after the benchmarks, only when a benchmark whose name equals
 * `related` ran, and records named metrics that the reports read.
 */
typedef void (*rs_bench_probe_fn)(void);
void rs_bench_register_probe(const char *name, const char *related,
			     rs_bench_probe_fn fn);
void rs_bench_metric_set(const char *name, double value);
/* A named line of text for the reports (a peer's version, why a peer was
 * not measured, an invariant that failed). Copied. */
void rs_bench_note_set(const char *name, const char *text);

/* Keep the compiler from dropping a value or a store (as
 * benchmark::DoNotOptimize and ClobberMemory). */
#if defined(__GNUC__) || defined(__clang__)
#define RS_BENCH_DO_NOT_OPTIMIZE(x) __asm__ volatile("" : : "r,m"(x) : "memory")
#define RS_BENCH_CLOBBER() __asm__ volatile("" : : : "memory")
#else
#define RS_BENCH_DO_NOT_OPTIMIZE(x) ((void)(x))
#define RS_BENCH_CLOBBER() ((void)0)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RS_BENCH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RS_BENCH_UNLIKELY(x) (x)
#endif

/* The suites: each bench_<name>.c defines rs_bench_suite_<name>(), which
 * registers its benchmarks and probes. Add a suite here and in
 * bench/CMakeLists.txt. */
#define RS_BENCH_SUITES(X) \
	X(core)            \
	X(engine)          \
	X(kv)              \
	X(prim)            \
	X(index)           \
	X(cache)           \
	X(mem)             \
	X(contention)      \
	X(durable)         \
	X(redis)           \
	X(lmdb)            \
	X(ordered)         \
	X(perf)

#define RS_BENCH__DECLARE(s) void rs_bench_suite_##s(void);
RS_BENCH_SUITES(RS_BENCH__DECLARE)
#undef RS_BENCH__DECLARE

#ifdef __cplusplus
}
#endif

#endif
