/* SPDX-License-Identifier: MIT */
/**
 * @file runstate/perf.h
 * runstate: per-phase timing of the commit and read paths.
 *
 * A library built with the CMake option RS_PERF_TRACE=ON times every
 * phase of every write commit and every point read on the calling
 * thread, and adds the result to counters of that thread: how many times
 * the phase ran, its total time and its longest single run. rs_perf_read()
 * sums the counters of every thread of the process; rs_perf_reset() starts
 * them again from zero. The same build has USDT probes (provider
 * `runstate`) at the same points, for perf and bpftrace: their names and
 * arguments are in docs/perf-trace.md.
 *
 * A library built without it (the default) records nothing and has no
 * probes: rs_perf_read() and rs_perf_reset() return RS_ENOTSUP, and
 * nothing on any other path costs an instruction more. Programs compile
 * and link against either build.
 *
 * The counters belong to the process, as sqlite3_status() does: they
 * count the operations of every open database, and those of threads that
 * have exited since the last reset.
 *
 *     rs_perf_stats s = RS_PERF_STATS_INIT;
 *
 *     if (rs_perf_read(&s) == 0)
 *             for (int p = 0; p < RS_PERF_PHASES; p++)
 *                     printf("%-9s %8llu x %10.1f ns\n",
 *                            rs_perf_phase_name((rs_perf_phase)p),
 *                            (unsigned long long)s.phase[p].count,
 *                            s.phase[p].count ? (double)s.phase[p].total_ns /
 *                                    (double)s.phase[p].count : 0.0);
 *
 * Every commit of a write transaction (a one-shot write is one) runs
 * RS_PERF_SNAPSHOT through RS_PERF_RECLAIM in this order, each phase
 * starting where the one before it ended, so their times add up to the
 * whole of the write, from rs_txn_begin() (or the one-shot call) to the
 * return of its commit. A commit that fails stops recording at the phase
 * that failed. Read-only transactions record RS_PERF_SNAPSHOT and their
 * reads only. Each phase's time includes one read of the clock
 * (rs_perf_stats.clock_read_ns).
 */
#ifndef RUNSTATE_PERF_H
#define RUNSTATE_PERF_H

#include <runstate.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The phases of the commit path, in order, and of the read path. */
typedef enum rs_perf_phase {
	/** rs_txn_begin(): a pooled context, the run's lookup and its
	 *  snapshot. */
	RS_PERF_SNAPSHOT = 0,
	/** From the end of begin to the commit: staging the writes (and, in
	 *  an explicit transaction, its reads and the caller's own code
	 *  between the calls). */
	RS_PERF_BODY = 1,
	/** The commit until its run's commit lock is held: the lookup of a
	 *  run the transaction creates, and the wait for other committers
	 *  of the run. */
	RS_PERF_LOCK = 2,
	/** The archived-run check, the validation of the read set and
	 *  scanned ranges, the release of the snapshot. */
	RS_PERF_VALIDATE = 3,
	/** Deferred steps (an EventLog append reads the log's head here)
	 *  and the allocation of every version record the commit needs. */
	RS_PERF_PREPARE = 4,
	/** The hand-off of the commit record to the durability backend:
	 *  its whole commit call, but for RS_PERF_SYNC. */
	RS_PERF_LOG = 5,
	/** Strict commits to the built-in log: the wait for the group
	 *  commit's fdatasync that covers the record (a custom backend's
	 *  commit call is RS_PERF_LOG in full). */
	RS_PERF_SYNC = 6,
	/** Installing the new versions in the store. */
	RS_PERF_APPLY = 7,
	/** Publishing the run's new visible version. */
	RS_PERF_PUBLISH = 8,
	/** Pruning what no snapshot can see, releasing the locks, the
	 *  retire-list hand-off to the reclaimer and the reap of deleted
	 *  runs, until the commit returns. */
	RS_PERF_RECLAIM = 9,
	/** One point read: a one-shot read (rs_kv_get and the single-item
	 *  read of every primitive) or a read inside a transaction
	 *  (rs_txn_kv_get and its kind). Scans and cursors are not timed. */
	RS_PERF_READ = 10
} rs_perf_phase;

/** Number of phases (the size of rs_perf_stats.phase). */
#define RS_PERF_PHASES 11

/** The counters of one phase, summed over threads. */
typedef struct rs_perf_counter {
	/** Times the phase ran. */
	uint64_t count;
	/** Their total time, in nanoseconds. */
	uint64_t total_ns;
	/** The longest single run of the phase, in nanoseconds. */
	uint64_t max_ns;
} rs_perf_counter;

/** Which clock the counters were taken with (rs_perf_stats.clock). */
#define RS_PERF_CLOCK_TSC 1u	   /* the x86 time-stamp counter */
#define RS_PERF_CLOCK_MONOTONIC 2u /* clock_gettime(CLOCK_MONOTONIC) */

#define RS_PERF_STATS_VERSION 1
/** An rs_perf_stats ready for rs_perf_read(): the version set, the rest 0. */
#define RS_PERF_STATS_INIT                        \
	{                                         \
		RS_PERF_STATS_VERSION, 0, 0, 0.0, \
		{                                 \
			{                         \
				0, 0, 0           \
			}                         \
		}                                 \
	}

/** What rs_perf_read() writes. */
typedef struct rs_perf_stats {
	/** In: RS_PERF_STATS_VERSION. */
	uint32_t version;
	/** RS_PERF_CLOCK_TSC (an invariant TSC, calibrated against
	 *  CLOCK_MONOTONIC) or RS_PERF_CLOCK_MONOTONIC. */
	uint32_t clock;
	/** Counter blocks summed: one per thread that recorded a phase
	 *  since the last reset, exited ones included (a thread started
	 *  after another exited carries on in that one's block). */
	uint64_t threads;
	/** What one clock read costs on the calling thread, measured by
	 *  this call, in nanoseconds: every phase includes about one. */
	double clock_read_ns;
	/** One counter per rs_perf_phase. */
	rs_perf_counter phase[RS_PERF_PHASES];
} rs_perf_stats;

/**
 * Sum the phase counters of every thread of the process into *stats_out.
 *
 * A thread's counters are written by that thread alone, without locks;
 * while other threads commit, a phase's count, total and maximum may be
 * one operation apart. The first call within 10 ms of the library's load
 * sleeps the rest of those 10 ms, to calibrate the TSC.
 *
 * @param[in,out] stats_out  Set stats_out->version = RS_PERF_STATS_VERSION
 *                           first (or initialize with RS_PERF_STATS_INIT);
 *                           the rest is written.
 * @return 0, RS_EINVAL (NULL stats_out), RS_EVERSION (unknown
 *         stats_out->version) or RS_ENOTSUP (the library was built
 *         without RS_PERF_TRACE).
 * Thread safety: any thread.
 */
RS_API int rs_perf_read(rs_perf_stats *stats_out);

/**
 * Set every phase counter of every thread to zero, in O(1): each thread
 * clears its own counters at its next phase. An operation in flight may
 * be counted in part before the reset and in part after it.
 *
 * @return 0 or RS_ENOTSUP (the library was built without RS_PERF_TRACE).
 * Thread safety: any thread.
 */
RS_API int rs_perf_reset(void);

/**
 * The name of a phase ("snapshot", "body", "lock", "validate", "prepare",
 * "log", "sync", "apply", "publish", "reclaim", "read"), a static string,
 * in every build; "unknown" for a value that is not an rs_perf_phase.
 * Thread safety: any thread.
 */
RS_API const char *rs_perf_phase_name(rs_perf_phase phase);

#ifdef __cplusplus
}
#endif

#endif
