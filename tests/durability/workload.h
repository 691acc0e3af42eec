/* SPDX-License-Identifier: MIT */
#ifndef RS_TESTS_WORKLOAD_H
#define RS_TESTS_WORKLOAD_H

#include <runstate.h>

/*
 * A deterministic mixed workload over runs 0..WL_RUNS-1: one-shot puts and
 * deletes, and multi-key transactions. Step i of a given seed is always
 * the same, so the same steps give the same state under any mode.
 * Returns how many commits wrote something (log records).
 */
#define WL_RUNS 4u
unsigned wl_run(rs_db *db, unsigned seed, unsigned from, unsigned n);

#endif
