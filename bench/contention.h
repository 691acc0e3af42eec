/* SPDX-License-Identifier: MIT */
#ifndef RS_BENCH_CONTENTION_H
#define RS_BENCH_CONTENTION_H

/*
 * The D tier: contention/<workload>/{1,2,4,8} (docs/benchmark-catalog.md,
 * "Contention protocol"). contention.c owns the protocol: N worker
 * threads started before the timed region, 500 ms warm-up, 2000 ms
 * measurement, 500 ms cool-down, per-thread statistics, invariants
 * checked at the end, failures loud. A workload only says what one attempt
 * is and what must hold afterwards:
 *
 *	static const rs_bench_contention_wl wl_statecell = {
 *		.name = "statecell",
 *		.setup = sc_setup, .attempt = sc_attempt,
 *		.check = sc_check, .teardown = sc_teardown,
 *	};
 *	... and in rs_bench_suite_contention():
 *	rs_bench_contention_register(&wl_statecell);
 *
 * The report (harness/report_contention.cc) reads the metrics "contention.<name>.<N>.*" and
 * needs no change for a new workload.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

/* Most attempts one operation may take before the run fails. */
#define RS_BENCH_CONTENTION_MAX_ATTEMPTS 100000u

typedef struct rs_bench_contention_wl {
	/* Registered as "contention/<name>/<N>", N in 1, 2, 4, 8; the
	 * metrics are "contention.<name>.<N>.*" either way. */
	const char *name;
	/* When set, registered as "<bench_name>/<N>" instead (a catalog
	 * family outside tier D that uses the same protocol, such as
	 * strict_group_commit). */
	const char *bench_name;
	/*
	 * Untimed, on the main thread: build the shared state for `nthreads`
	 * workers (database, runs, keys) into *shared. 0 or an RS_E* code.
	 */
	int (*setup)(void **shared, int nthreads);
	/*
	 * One attempt of one operation by worker `tid`; `seq` counts this
	 * worker's successes so far (all phases), so an attempt can derive
	 * its key and value. Returns 0 (the operation succeeded),
	 * RS_ECONFLICT or RS_EMISMATCH (retry: the driver calls it again and
	 * counts the attempt), or another RS_E* code (the run fails).
	 */
	int (*attempt)(void *shared, int tid, uint64_t seq);
	/*
	 * Untimed, after every worker stopped: check the invariants given
	 * each worker's total successes (all phases). 0 when they hold;
	 * otherwise a message in msg.
	 */
	int (*check)(void *shared, int nthreads, const uint64_t *successes,
		     char *msg, size_t cap);
	void (*teardown)(void *shared);
	/*
	 * When set: a workload measuring what this machine allows for the
	 * same work without the database (a ceiling), registered and so run
	 * before this one. This one's N-thread run then also reports the
	 * ceiling's scaling at N (counter ceiling_scaling) and its own
	 * scaling as a fraction of it (of_ceiling).
	 */
	const struct rs_bench_contention_wl *ceiling;
} rs_bench_contention_wl;

/* Register contention/<wl->name>/{1,2,4,8} (or <wl->bench_name>/...);
 * wl must outlive the run. */
void rs_bench_contention_register(const rs_bench_contention_wl *wl);

#endif
