/* SPDX-License-Identifier: MIT */
/*
 * Tier C, index amplification: what each index entry of a trace costs.
 * Public API only, InMemory, sharded store (the unified store's cost is
 * dominated by its per-write copy of the run, tier B shows it).
 *
 *  index_amp_trace_0_tags, _1_tag, _3_tags, _5_tags
 *      per operation: rs_tracestore_record of a trace with a 100-byte payload,
 *      type "llm_call", no parent and 0, 1, 3 or 5 tags (the same tags on
 *      every trace, so each tag's list grows by one entry per trace). The
 *      run rotates as tracestore_record_*'s does: every 4096 traces the
 *      timer is paused, the run deleted and a fresh one used, so the
 *      figure covers runs of 0 to 4096 traces.
 *
 * Counters:
 *  allocs_per_trace  allocations the library made on the benchmark's
 *                    thread during the timed loop (counting allocator
 *                    hooks, thread-local, so no locked instruction is
 *                    added), per trace; rotations excluded
 *  bytes_per_trace   live bytes per trace (bench_mem.c's method): untimed,
 *                    after the loop, 10,000 such traces into one run of a
 *                    fresh database with live-byte hooks
 *  keys_per_trace    keys one trace's commit writes (record, index
 *                    entries, list lengths, the store's head), from its
 *                    durability record
 */
#include "common.h"
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_RUN_CAP 4096u
#define IDX_BYTES_TRACES 10000u

static const char *const idx_tags[5] = { "tag_a", "tag_b", "tag_c", "tag_d",
					 "tag_e" };

typedef struct idx_fix {
	rs_run_id run;
	uint64_t run_n;
	rs_bytes tags[5];
	size_t ntags;
	rs_bench_keys k; /* values */
} idx_fix;

static inline int idx_record(rs_db *db, const idx_fix *f, uint64_t i)
{
	return rs_tracestore_record(db, &f->run, "llm_call", 8,
				    rs_bench_val(&f->k, (size_t)i),
				    RS_BENCH_VAL_LEN, f->ntags ? f->tags : NULL,
				    f->ntags, RS_TRACE_NONE, NULL);
}

static int idx_rotate(rs_db *db, idx_fix *f)
{
	int rc = rs_runindex_delete(db, &f->run);

	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	rs_bench_run_id_n(&f->run, 0x30u, ++f->run_n);
	return 0;
}

static int idx_cap_fn(rs_db *db, void *ctx)
{
	const idx_fix *f = ctx;
	int rc = 0;

	for (uint64_t i = 0; i < 3 && rc == 0; i++)
		rc = idx_record(db, f, i);
	return rc;
}

/* Live bytes per trace of IDX_BYTES_TRACES traces (untimed). */
static int idx_bytes(const idx_fix *f, double *out)
{
	rs_db *db;
	int64_t b0;
	int rc;

	if ((rc = rs_bench_live_open(&db)) < 0)
		return rc;
	b0 = rs_bench_live_bytes();
	for (uint64_t i = 0; i < IDX_BYTES_TRACES && rc == 0; i++)
		rc = idx_record(db, f, i);
	rs_bench_live_settle(db);
	*out = (double)(rs_bench_live_bytes() - b0) / IDX_BYTES_TRACES;
	rs_db_close(db);
	return rc;
}

static void bm_index_amp(rs_bench_state *st)
{
	idx_fix f;
	rs_db *db = NULL;
	rs_bench_capture cap = { .tag = RS_TAG_TRACESTORE };
	uint64_t ops = 0, in_run = 0, allocs = 0, a0;
	double bytes = 0;
	int rc, bad = 0;

	memset(&f, 0, sizeof(f));
	f.ntags = (size_t)(uintptr_t)rs_bench_arg(st);
	for (size_t i = 0; i < 5; i++) {
		f.tags[i].data = idx_tags[i];
		f.tags[i].len = strlen(idx_tags[i]);
	}
	rs_bench_run_id_n(&f.run, 0x30u, 0);
	if ((rc = rs_bench_keys_make(&f.k, 1)) < 0 ||
	    (rc = rs_bench_db_open(&db, RS_STORAGE_SHARDED, true)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		goto out;
	}
	for (size_t w = 0; w < rs_bench_warmup_ops(RS_BENCH_HOT_KEYS) && !bad;
	     w++) {
		if (in_run == IDX_RUN_CAP) {
			bad = idx_rotate(db, &f);
			in_run = 0;
		}
		if ((rc = idx_record(db, &f, ops++)) < 0)
			bad = rc;
		in_run++;
	}
	a0 = rs_bench_allocs();
	while (!bad && rs_bench_keep_running_batch(st, RS_BENCH_BATCH)) {
		if (in_run == IDX_RUN_CAP) {
			rs_bench_pause(st);
			allocs += rs_bench_allocs() - a0;
			if ((rc = idx_rotate(db, &f)) < 0)
				bad = rc;
			in_run = 0;
			a0 = rs_bench_allocs();
			rs_bench_resume(st);
		}
		for (unsigned j = 0; j < RS_BENCH_BATCH; j++)
			if (RS_BENCH_UNLIKELY((rc = idx_record(db, &f, ops++)) <
					      0))
				bad = rc;
		in_run += RS_BENCH_BATCH;
	}
	allocs += rs_bench_allocs() - a0;
	if (!bad && (rc = idx_bytes(&f, &bytes)) < 0)
		bad = rc;
	if (!bad && (rc = rs_bench_capture_last(idx_cap_fn, &f, &cap)) < 0)
		bad = rc;
	if (bad) {
		rs_bench_skip_with_error(st, rs_strerror(bad));
		goto out;
	}
	rs_bench_counter(st, "allocs_per_trace", (double)allocs,
			 RS_BENCH_COUNTER_AVG_ITERATIONS);
	rs_bench_counter(st, "bytes_per_trace", bytes, RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "keys_per_trace", (double)cap.nops,
			 RS_BENCH_COUNTER_PLAIN);
	rs_bench_items_processed(st, rs_bench_iterations(st));
out:
	rs_db_close(db);
	rs_bench_keys_free(&f.k);
}

void rs_bench_suite_index(void)
{
	static const struct {
		const char *name;
		uintptr_t ntags;
	} b[] = {
		{ "index_amp_trace_0_tags", 0 },
		{ "index_amp_trace_1_tag", 1 },
		{ "index_amp_trace_3_tags", 3 },
		{ "index_amp_trace_5_tags", 5 },
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		RS_BENCH(b[i].name, bm_index_amp, (void *)b[i].ntags);
}
