/* SPDX-License-Identifier: MIT */
#ifndef RS_BENCH_LIVE_H
#define RS_BENCH_LIVE_H

/*
 * The live-byte method (live.c), for the benchmarks that report bytes per
 * item (memory tier bench_mem.c, index amplification bench_index.c).
 * Everything here runs outside the timed loops.
 */

#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

/* A fresh sharded InMemory database whose allocator hooks keep the live
 * byte count (malloc_usable_size of every block allocated and not freed). */
int rs_bench_live_open(rs_db **out);
/* Free what the thread's contexts retired and run pending RCU callbacks,
 * so the live count holds only what the database keeps. */
void rs_bench_live_settle(rs_db *db);
/* The live bytes and blocks of every database opened with those hooks. */
int64_t rs_bench_live_bytes(void);
int64_t rs_bench_live_blocks(void);

/* What one commit wrote, as its durability record shows it. */
typedef struct rs_bench_capture {
	size_t nops;	 /* keys written (puts and deletes) */
	size_t rec_klen; /* the item's own record: the op of `tag` whose */
	size_t rec_vlen; /* key starts with the kind byte 0x01 */
	uint8_t tag;	 /* in: the primitive tag (rs_tag) */
} rs_bench_capture;

/*
 * Open an InMemory database whose durability backend only notes each
 * commit record, call fn(db, ctx), and fill *out from the last commit fn
 * made. 0 or an RS_E* code.
 */
int rs_bench_capture_last(int (*fn)(rs_db *db, void *ctx), void *ctx,
			  rs_bench_capture *out);

#endif
