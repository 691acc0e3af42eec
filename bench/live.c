/* SPDX-License-Identifier: MIT */
/*
 * The live-byte method (live.h), shared by the memory tier (bench_mem.c)
 * and index amplification (bench_index.c). The allocator hooks of
 * rs_db_options keep a live-byte count: malloc_usable_size() of every
 * block allocated and not yet freed (the allocator's size class, so
 * rounding is counted; the allocator's own metadata is not). Atomic, since
 * RCU callbacks free on other threads.
 *
 * Settling frees what the thread's contexts retired
 * (rs__txn_flush_retired: replaced slot arrays wait there for a grace
 * period) and runs pending call_rcu callbacks (rs__rcu_barrier): library
 * internals (txn/txn.h, util/rcu.h), used for accounting only, which is why
 * this file is built with src/ on its include path (bench/CMakeLists.txt).
 */
#define _GNU_SOURCE
#include "live.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "txn/txn.h"
#include "util/rcu.h"

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

int rs_bench_live_open(rs_db **out)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	int rc;

	o.durability = RS_DURABILITY_INMEMORY;
	o.storage = RS_STORAGE_SHARDED;
	o.hash_seed = 0x5eed5eed5eed5eedull;
	o.allocator.malloc_fn = live_malloc;
	o.allocator.realloc_fn = live_realloc;
	o.allocator.free_fn = live_free;
	if ((rc = rs_db_open(out, &o)) < 0)
		return rc;
	rs_bench_live_settle(*out);
	return 0;
}

void rs_bench_live_settle(rs_db *db)
{
	rs__txn_flush_retired(db);
	rs__rcu_barrier();
}

int64_t rs_bench_live_bytes(void)
{
	return atomic_load(&live_bytes);
}

int64_t rs_bench_live_blocks(void)
{
	return atomic_load(&live_blocks);
}

/* ---- commit capture ---- */

static int cap_commit(void *ctx, const rs_commit_record *rec)
{
	rs_bench_capture *c = ctx;

	c->nops = rec->nops;
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *op = &rec->ops[i];

		if (op->tag == c->tag && !op->is_delete && op->key.len &&
		    ((const uint8_t *)op->key.data)[0] == 0x01) {
			c->rec_klen = op->key.len;
			c->rec_vlen = op->value.len;
		}
	}
	return 0;
}

int rs_bench_capture_last(int (*fn)(rs_db *db, void *ctx), void *ctx,
			  rs_bench_capture *out)
{
	static const rs_durability_ops ops = {
		.version = RS_DURABILITY_OPS_VERSION,
		.commit = cap_commit,
	};
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_bench_capture c = { 0, 0, 0, out->tag };
	rs_db *db;
	int rc;

	o.durability = RS_DURABILITY_INMEMORY;
	o.durability_ops = &ops;
	o.durability_ctx = &c;
	if ((rc = rs_db_open(&db, &o)) < 0)
		return rc;
	rc = fn(db, ctx);
	rs_db_close(db);
	if (rc == 0)
		*out = c;
	return rc;
}
