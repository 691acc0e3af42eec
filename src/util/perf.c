/* SPDX-License-Identifier: MIT */
/*
 * The per-thread phase counters of RS_PERF_TRACE builds (util/perf.h).
 *
 * Blocks. A thread's first phase attaches it to a block: a free one of
 * the registry (left by an exited thread, its counts kept: they are the
 * process's) or a new one, cache-line aligned so that no two threads'
 * counters share a line. The registry only grows; blocks are never freed,
 * so memory is bounded by the most threads ever recording at once. A
 * pthread key's destructor hands the block back when the thread exits.
 * The registry lock is taken to attach, to detach and to read, never to
 * record.
 *
 * Reset. rs__perf_reset() bumps rs__perf_epoch. A block whose epoch is
 * older is read as zero; its owner, at its next phase, clears the
 * counters and then stores the epoch (release), so a reader that sees the
 * new epoch (acquire) sees the cleared counters or newer values.
 *
 * Clock. The TSC when CPUID says it is invariant (constant rate in every
 * P-, C- and T-state: CPUID 0x80000007 EDX bit 8), else CLOCK_MONOTONIC.
 * rdtsc costs about half what the vDSO's clock_gettime does (13 ns
 * against 25 ns on the development VM) and a one-shot put has ten phase
 * boundaries. Ticks are converted at read time with the rate measured
 * between the library's load and the read (at least 10 ms apart), so
 * recording needs no calibration and the rate gets more exact the longer
 * the process runs.
 */
#define _GNU_SOURCE
#include "util/perf.h"

#include <stddef.h>

#include "util/error.h"

static const char *const phase_names[RS_PERF_PHASES] = {
	"snapshot", "body",  "lock",	"validate", "prepare", "log",
	"sync",	    "apply", "publish", "reclaim",  "read",
};

const char *rs__perf_phase_name(rs_perf_phase phase)
{
	unsigned p = (unsigned)phase;

	return p < RS_PERF_PHASES ? phase_names[p] : "unknown";
}

#ifndef RS_PERF_TRACE

int rs__perf_read(rs_perf_stats *out)
{
	(void)out;
	return RS_ENOTSUP;
}

int rs__perf_reset(void)
{
	return RS_ENOTSUP;
}

#else

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef RS__PERF_HAVE_TSC
#include <cpuid.h>
#endif

#include "util/clock.h"

#define CALIBRATE_NS 10000000u /* 10 ms */
#define CLOCK_SAMPLES 256u

RS__PERF_TLS rs__perf_block *rs__perf_self;
RS__PERF_TLS uint64_t rs__perf_sync_ticks;
_Atomic uint64_t rs__perf_epoch = 1;
bool rs__perf_tsc;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static rs__perf_block *reg_head; /* under reg_lock */
static pthread_key_t exit_key;
static bool exit_key_ok;
/* The calibration anchor: both clocks read at load. */
static uint64_t anchor_tsc, anchor_ns;

uint64_t rs__perf_now_slow(void)
{
	return rs__clock_monotonic_ns();
}

static bool tsc_invariant(void)
{
#ifdef RS__PERF_HAVE_TSC
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return false;
	__cpuid(0x80000007u, a, b, c, d);
	return (d & (1u << 8)) != 0;
#else
	return false;
#endif
}

static void thread_exit(void *arg)
{
	rs__perf_block *b = arg;

	rs__perf_self = NULL;
	pthread_mutex_lock(&reg_lock);
	atomic_store_explicit(&b->owned, false, memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
}

/* Before main() and before any phase can be timed: the clock's choice
 * must not change between two reads of one phase. */
__attribute__((constructor)) static void perf_init(void)
{
	rs__perf_tsc = tsc_invariant();
	anchor_ns = rs__clock_monotonic_ns();
	anchor_tsc = rs__perf_now();
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

static void block_clear(rs__perf_block *b, uint64_t epoch)
{
	for (unsigned p = 0; p < RS_PERF_PHASES; p++) {
		atomic_store_explicit(&b->c[p].count, 0, memory_order_relaxed);
		atomic_store_explicit(&b->c[p].ticks, 0, memory_order_relaxed);
		atomic_store_explicit(&b->c[p].max, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&b->epoch, epoch, memory_order_release);
}

static rs__perf_block *block_claim(void)
{
	rs__perf_block *b;

	pthread_mutex_lock(&reg_lock);
	for (b = reg_head; b; b = b->next)
		if (!atomic_load_explicit(&b->owned, memory_order_relaxed))
			break;
	if (!b) {
		size_t size = (sizeof(*b) + 63u) & ~(size_t)63u;

		b = aligned_alloc(64, size);
		if (b) {
			memset(b, 0, size);
			b->next = reg_head;
			reg_head = b;
		}
	}
	if (b)
		atomic_store_explicit(&b->owned, true, memory_order_relaxed);
	pthread_mutex_unlock(&reg_lock);
	return b;
}

rs__perf_block *rs__perf_attach(void)
{
	rs__perf_block *b = rs__perf_self;
	uint64_t epoch =
		atomic_load_explicit(&rs__perf_epoch, memory_order_relaxed);

	if (!b) {
		if (!exit_key_ok || !(b = block_claim()))
			return NULL;
		if (pthread_setspecific(exit_key, b) != 0) {
			thread_exit(b);
			return NULL;
		}
		rs__perf_self = b;
	}
	if (atomic_load_explicit(&b->epoch, memory_order_relaxed) != epoch)
		block_clear(b, epoch);
	return b;
}

int rs__perf_reset(void)
{
	atomic_fetch_add_explicit(&rs__perf_epoch, 1, memory_order_relaxed);
	return 0;
}

/* Nanoseconds per tick: 1 for CLOCK_MONOTONIC. */
static double ns_per_tick(void)
{
	uint64_t ns, tsc;

	if (!rs__perf_tsc)
		return 1.0;
	ns = rs__clock_monotonic_ns();
	if (ns - anchor_ns < CALIBRATE_NS) {
		rs__clock_sleep_ns(CALIBRATE_NS - (ns - anchor_ns));
		ns = rs__clock_monotonic_ns();
	}
	tsc = rs__perf_now();
	return tsc > anchor_tsc
		       ? (double)(ns - anchor_ns) / (double)(tsc - anchor_tsc)
		       : 1.0;
}

static uint64_t to_ns(uint64_t ticks, double scale)
{
	return (uint64_t)((double)ticks * scale + 0.5);
}

int rs__perf_read(rs_perf_stats *out)
{
	uint64_t sum[RS_PERF_PHASES][3] = { { 0 } }, threads = 0, t0, t1;
	double scale = ns_per_tick();
	uint64_t epoch;

	pthread_mutex_lock(&reg_lock);
	epoch = atomic_load_explicit(&rs__perf_epoch, memory_order_relaxed);
	for (rs__perf_block *b = reg_head; b; b = b->next) {
		if (atomic_load_explicit(&b->epoch, memory_order_acquire) !=
		    epoch)
			continue;
		threads++;
		for (unsigned p = 0; p < RS_PERF_PHASES; p++) {
			const rs__perf_ctr *c = &b->c[p];
			uint64_t m = atomic_load_explicit(&c->max,
							  memory_order_relaxed);

			sum[p][0] += atomic_load_explicit(&c->count,
							  memory_order_relaxed);
			sum[p][1] += atomic_load_explicit(&c->ticks,
							  memory_order_relaxed);
			if (m > sum[p][2])
				sum[p][2] = m;
		}
	}
	pthread_mutex_unlock(&reg_lock);

	t0 = rs__perf_now();
	for (unsigned i = 0; i < CLOCK_SAMPLES; i++)
		(void)rs__perf_now();
	t1 = rs__perf_now();

	memset(out, 0, sizeof(*out));
	out->version = RS_PERF_STATS_VERSION;
	out->clock = rs__perf_tsc ? RS_PERF_CLOCK_TSC : RS_PERF_CLOCK_MONOTONIC;
	out->threads = threads;
	out->clock_read_ns =
		(double)(t1 - t0) * scale / (double)(CLOCK_SAMPLES + 1);
	for (unsigned p = 0; p < RS_PERF_PHASES; p++) {
		out->phase[p].count = sum[p][0];
		out->phase[p].total_ns = to_ns(sum[p][1], scale);
		out->phase[p].max_ns = to_ns(sum[p][2], scale);
	}
	return 0;
}

#endif
