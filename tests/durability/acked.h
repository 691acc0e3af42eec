/* SPDX-License-Identifier: MIT */
#ifndef RS_TESTS_ACKED_H
#define RS_TESTS_ACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "durability/io.h"

/*
 * What the power-loss and fault tests commit and check. Commit i (1, 2,
 * ...) of run r is one transaction of three puts: "a<i>" and "b<i>" (long
 * values naming r and i) and "n" = i. So a run's surviving state is told
 * by "n": commits 1..n must be there whole and nothing after them, and
 * the run's version is n. Each run is committed to by one thread at a
 * time; its counters are that thread's.
 */
#define ACK_RUNS 3u

typedef struct ack_run {
	unsigned called;  /* commits attempted */
	unsigned acked;	  /* the last one that returned 0 */
	unsigned durable; /* Buffered: acked when a flush last returned 0 */
	int err;	  /* the first error a commit returned */
} ack_run;

typedef struct ack_model {
	ack_run run[ACK_RUNS];
} ack_model;

/* Options for the simulated directory `path`: 4 KiB segments, no
 * automatic checkpoint, no flush timer (only the test's calls write). */
rs_db_options ack_opts(const char *path, rs_durability mode);

/* Open with the file layer `io` (rs__test_io); the hook is reset when
 * the open fails. ack_close() closes and resets it. */
int ack_open(const rs__io *io, const rs_db_options *o, rs_db **out);
void ack_close(rs_db *db);

/* Commit the next commit of run r under `mode`: its return code. */
int ack_commit(rs_db *db, ack_model *m, unsigned r, rs_durability mode);
/* A flush returned 0: everything acknowledged is durable. */
void ack_flushed(ack_model *m);

/*
 * Check db against m (what a crash may keep: for every run n with
 * min <= n <= called, where min is acked under Strict and durable under
 * Buffered; and at most `extra` past acked). On a mismatch returns false
 * with why in msg. *lost_out (may be NULL) counts acknowledged commits
 * below the minimum that are missing.
 */
bool ack_check(rs_db *db, const ack_model *m, bool strict, unsigned extra,
	       char *msg, size_t msglen, unsigned *lost_out);

#endif
