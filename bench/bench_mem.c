/* SPDX-License-Identifier: MIT */
/*
 * Memory: bytes per stored item, from the allocator hooks of
 * rs_db_options (every allocation of the library goes through them). The
 * hooks here keep a live-byte count: malloc_usable_size() of every block
 * allocated and not yet freed (the allocator's size class, so rounding is
 * counted; the allocator's own metadata is not). Atomic, since RCU
 * callbacks free on other threads.
 *
 * Each round opens a fresh sharded InMemory database with those hooks
 * (untimed), notes the live bytes, then runs the timed part:
 *
 *  mem_bytes_per_kv_entry  100,000 one-shot rs_kv_put of distinct 16-byte
 *                          keys with 100-byte values into one run.
 *  mem_bytes_per_run       10,000 one-shot rs_kv_put into 10,000 distinct
 *                          runs: each put creates its run, which then
 *                          holds one 16-byte key with a 100-byte value.
 *
 * then, untimed: what the thread's contexts retired is freed
 * (rs__txn_flush_retired: replaced slot arrays wait there for a grace
 * period), pending call_rcu callbacks run (rs__rcu_barrier), and the live
 * bytes are read again. bytes_per_entry (bytes_per_run) = (live after -
 * live before) / items: the nodes, versions, the table's slot arrays at
 * their final size, run records, everything. Also reported: live blocks
 * per item and, with jemalloc, the same difference from its
 * stats.allocated (after an epoch refresh) as a cross-check. The time per
 * operation is that of a put into a growing table with counting hooks
 * (two atomic adds per allocation); it is not a gated figure.
 *
 * The flush and barrier are library internals (txn/txn.h, util/rcu.h),
 * used for accounting only; the puts are public API.
 */
#define _GNU_SOURCE
#include "common.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef RS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "txn/txn.h"
#include "util/rcu.h"

#define MEM_RUNS 10000u

static _Atomic int64_t live_bytes, live_blocks;

static void *live_malloc(void *ctx, size_t size)
{
	void *p = malloc(size);

	(void)ctx;
	if (p) {
		atomic_fetch_add_explicit(&live_bytes,
					  (int64_t)malloc_usable_size(p),
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&live_blocks, 1,
					  memory_order_relaxed);
	}
	return p;
}

static void *live_realloc(void *ctx, void *p, size_t size)
{
	int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
	void *q = realloc(p, size);

	(void)ctx;
	if (!q)
		return NULL; /* p, if any, is still live */
	atomic_fetch_add_explicit(&live_bytes,
				  (int64_t)malloc_usable_size(q) - old,
				  memory_order_relaxed);
	if (!p)
		atomic_fetch_add_explicit(&live_blocks, 1,
					  memory_order_relaxed);
	return q;
}

static void live_free(void *ctx, void *p)
{
	(void)ctx;
	if (!p)
		return;
	atomic_fetch_sub_explicit(&live_bytes, (int64_t)malloc_usable_size(p),
				  memory_order_relaxed);
	atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
	free(p);
}

static double je_allocated(void)
{
#ifdef RS_HAVE_JEMALLOC
	uint64_t epoch = 1;
	size_t v = 0, sz = sizeof(v);

	if (mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0 ||
	    mallctl("stats.allocated", &v, &sz, NULL, 0) != 0)
		return -1;
	return (double)v;
#else
	return -1;
#endif
}

typedef struct mem_round {
	rs_db *db;
	int64_t bytes0, blocks0;
	double je0;
} mem_round;

typedef struct mem_sum {
	double bytes, blocks, je;
	int rounds;
	bool je_ok;
} mem_sum;

static int round_open(mem_round *r)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	int rc;

	o.durability = RS_DURABILITY_INMEMORY;
	o.storage = RS_STORAGE_SHARDED;
	o.hash_seed = 0x5eed5eed5eed5eedull;
	o.allocator.malloc_fn = live_malloc;
	o.allocator.realloc_fn = live_realloc;
	o.allocator.free_fn = live_free;
	if ((rc = rs_db_open(&r->db, &o)) < 0)
		return rc;
	rs__txn_flush_retired(r->db);
	rs__rcu_barrier();
	r->bytes0 = atomic_load(&live_bytes);
	r->blocks0 = atomic_load(&live_blocks);
	r->je0 = je_allocated();
	return 0;
}

/* Account for the round's `items`, then close its database. */
static void round_close(mem_round *r, size_t items, mem_sum *sum)
{
	double je1;

	rs__txn_flush_retired(r->db);
	rs__rcu_barrier();
	je1 = je_allocated();
	sum->bytes =
		(double)(atomic_load(&live_bytes) - r->bytes0) / (double)items;
	sum->blocks = (double)(atomic_load(&live_blocks) - r->blocks0) /
		      (double)items;
	sum->je_ok = r->je0 >= 0 && je1 >= 0;
	sum->je = sum->je_ok ? (je1 - r->je0) / (double)items : 0;
	sum->rounds++;
	rs_db_close(r->db);
	r->db = NULL;
}

typedef struct mem_cfg {
	bool per_run; /* mem_bytes_per_run; else mem_bytes_per_kv_entry */
} mem_cfg;

static void bm_mem(rs_bench_state *st)
{
	const mem_cfg *c = rs_bench_arg(st);
	size_t n = c->per_run ? MEM_RUNS : RS_BENCH_100K_KEYS;
	rs_bench_keys k;
	rs_run_id run, *runs = NULL;
	mem_round r = { 0 };
	mem_sum sum = { 0 };
	bool first = true;
	int rc, bad = 0;

	rs_bench_run_id(&run, 4);
	if ((rc = rs_bench_keys_make(&k, c->per_run ? 1 : n)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		return;
	}
	if (c->per_run) {
		uint64_t x = 0x6a09e667f3bcc909ull;

		runs = malloc(n * sizeof(*runs));
		if (!runs) {
			rs_bench_skip_with_error(st, rs_strerror(RS_ENOMEM));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			for (int b = 0; b < 16; b += 8) {
				uint64_t v = rs_bench_rand(&x);

				memcpy(runs[i].bytes + b, &v, 8);
			}
			runs[i].bytes[6] =
				(uint8_t)((runs[i].bytes[6] & 0x0f) | 0x40);
			runs[i].bytes[8] =
				(uint8_t)((runs[i].bytes[8] & 0x3f) | 0x80);
		}
	}
	if ((rc = round_open(&r)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		goto out;
	}
	/* Each batch is one round: n puts into a fresh database. */
	while (!bad && rs_bench_keep_running_batch(st, n)) {
		if (!first) {
			rs_bench_pause(st);
			round_close(&r, n, &sum);
			if ((rc = round_open(&r)) < 0)
				bad = rc;
			rs_bench_resume(st);
			if (bad)
				break;
		}
		first = false;
		if (c->per_run) {
			for (size_t i = 0; i < n; i++)
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_kv_put(r.db, &runs[i],
							    rs_bench_key(&k, 0),
							    RS_BENCH_KEY_LEN,
							    rs_bench_val(&k, i),
							    RS_BENCH_VAL_LEN)) <
					    0))
					bad = rc;
		} else {
			for (size_t i = 0; i < n; i++)
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_kv_put(r.db, &run,
							    rs_bench_key(&k, i),
							    RS_BENCH_KEY_LEN,
							    rs_bench_val(&k, i),
							    RS_BENCH_VAL_LEN)) <
					    0))
					bad = rc;
		}
	}
	if (r.db)
		round_close(&r, n, &sum);
	if (bad) {
		rs_bench_skip_with_error(st, rs_strerror(bad));
		goto out;
	}
	/* Every round inserts the same items: the last round's figures. */
	rs_bench_counter(st, c->per_run ? "bytes_per_run" : "bytes_per_entry",
			 sum.bytes, RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "blocks_per_item", sum.blocks,
			 RS_BENCH_COUNTER_PLAIN);
	if (sum.je_ok)
		rs_bench_counter(st, "jemalloc_bytes_per_item", sum.je,
				 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "rounds", sum.rounds, RS_BENCH_COUNTER_PLAIN);
	rs_bench_items_processed(st, rs_bench_iterations(st));
out:
	free(runs);
	rs_bench_keys_free(&k);
}

void rs_bench_suite_mem(void)
{
	static const mem_cfg kv = { false }, run = { true };

	RS_BENCH("mem_bytes_per_kv_entry", bm_mem, (void *)&kv);
	RS_BENCH("mem_bytes_per_run", bm_mem, (void *)&run);
}
