/* SPDX-License-Identifier: MIT */
/*
 * Tier B (facades), KV: public API only (runstate.h), InMemory. Each
 * benchmark runs on the sharded store (its catalog name) and on the
 * unified store, the M3 baseline (name@unified). Per operation, inside the
 * timed loop:
 *
 *  kvstore_get          rs_kv_get of the next key (shuffled order over
 *                       RS_BENCH_HOT_KEYS) into one caller buffer.
 *  kvstore_get_noalloc  rs_kv_get of one key, same key and value buffers
 *                       every time; counter allocs_per_op.
 *  kvstore_put          rs_kv_put of the next key (overwrites: the run
 *                       stays at RS_BENCH_HOT_KEYS keys).
 *  kvstore_put/100k     the same over a run of 100,000 keys (the catalog's
 *                       "vs M3 baseline" workload).
 *  kvstore_delete       rs_kv_delete of a key that exists. When every key
 *                       is deleted, the timer is paused, all are put back,
 *                       and it resumes (once per RS_BENCH_HOT_KEYS deletes).
 *
 * Probes (outside any timed loop): per-operation latency of kvstore_get
 * and kvstore_put, one clock read per operation (so each sample includes
 * one clock_gettime), and the allocation count of a steady-state loop of
 * kvstore_get and of read-only transactions (begin, rs_txn_kv_get, abort)
 * through the allocator hooks of rs_db_options.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kv_fix {
	rs_db *db;
	rs_run_id run;
	rs_bench_keys k;
	size_t pos;
	unsigned char key1[RS_BENCH_KEY_LEN];
	unsigned char buf[RS_BENCH_VAL_LEN];
} kv_fix;

static int kv_setup(kv_fix *f, rs_storage storage, size_t nkeys,
		    bool count_allocs)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rs_bench_run_id(&f->run, 2);
	if ((rc = rs_bench_keys_make(&f->k, nkeys)) < 0)
		return rc;
	if ((rc = rs_bench_db_open(&f->db, storage, count_allocs)) < 0)
		return rc;
	memcpy(f->key1, rs_bench_key(&f->k, 0), RS_BENCH_KEY_LEN);
	return rs_bench_db_fill(f->db, &f->run, &f->k);
}

static void kv_teardown(kv_fix *f)
{
	rs_db_close(f->db);
	rs_bench_keys_free(&f->k);
}

static inline uint32_t kv_next(kv_fix *f)
{
	return rs_bench_next(&f->k, &f->pos);
}

static inline int kv_get(kv_fix *f)
{
	size_t len;

	return rs_kv_get(f->db, &f->run, rs_bench_key(&f->k, kv_next(f)),
			 RS_BENCH_KEY_LEN, f->buf, sizeof(f->buf), &len);
}

static inline int kv_get1(kv_fix *f)
{
	size_t len;

	return rs_kv_get(f->db, &f->run, f->key1, RS_BENCH_KEY_LEN, f->buf,
			 sizeof(f->buf), &len);
}

static inline int kv_put(kv_fix *f)
{
	uint32_t i = kv_next(f);

	return rs_kv_put(f->db, &f->run, rs_bench_key(&f->k, i),
			 RS_BENCH_KEY_LEN, rs_bench_val(&f->k, i + f->pos),
			 RS_BENCH_VAL_LEN);
}

enum kv_kind {
	KV_GET,
	KV_GET1,
	KV_PUT
};

RS_BENCH_INLINE int kv_op(kv_fix *f, enum kv_kind kind)
{
	switch (kind) {
	case KV_GET:
		return kv_get(f);
	case KV_GET1:
		return kv_get1(f);
	case KV_PUT:
		return kv_put(f);
	}
	return RS_EINVAL;
}

/*
 * A put on the unified store deep-copies the run (O(keys)), so touching
 * every key twice before timing would take minutes at 100k keys and warms
 * nothing that a few puts do not: its warm-up is 64 operations.
 */
static size_t kv_warmup_ops(const kv_fix *f, rs_storage storage,
			    enum kv_kind kind)
{
	if (storage == RS_STORAGE_UNIFIED && kind == KV_PUT && f->k.n > 4096)
		return 64;
	return rs_bench_warmup_ops(f->k.n);
}

RS_BENCH_INLINE void kv_run(rs_bench_state *st, enum kv_kind kind,
			    rs_bench_op_fn op)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	kv_fix f;
	int rc;

	if ((rc = kv_setup(&f, cfg->storage, cfg->nkeys, cfg->count_allocs)) <
	    0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		kv_teardown(&f);
		return;
	}
	rs_bench_finish(
		st, rs_bench_loop_allocs(st, op, &f,
					 kv_warmup_ops(&f, cfg->storage, kind),
					 cfg->count_allocs));
	kv_teardown(&f);
}

/* bm: the benchmark of kv_op(kind); `kind` is a constant in each, so each
 * loop is specialized by inlining. */
#define KV_BENCH(bm, kind)                   \
	RS_BENCH_INLINE int bm##_op(void *f) \
	{                                    \
		return kv_op(f, kind);       \
	}                                    \
	static void bm(rs_bench_state *st)   \
	{                                    \
		kv_run(st, kind, bm##_op);   \
	}

KV_BENCH(bm_kv_get, KV_GET)
KV_BENCH(bm_kv_get_noalloc, KV_GET1)
KV_BENCH(bm_kv_put, KV_PUT)

static void bm_kv_delete(rs_bench_state *st)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	kv_fix f;
	size_t next = 0;
	int rc, bad = 0;
	uint64_t missing = 0;

	if ((rc = kv_setup(&f, cfg->storage, cfg->nkeys, false)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		kv_teardown(&f);
		return;
	}
	/* Warm-up: a few delete-all/refill rounds. */
	for (int round = 0; round < 4 && !bad; round++) {
		for (size_t i = 0; i < f.k.n; i++)
			if ((rc = rs_kv_delete(f.db, &f.run,
					       rs_bench_key(&f.k, f.k.order[i]),
					       RS_BENCH_KEY_LEN, NULL)) < 0)
				bad = rc;
		if ((rc = rs_bench_db_fill(f.db, &f.run, &f.k)) < 0)
			bad = rc;
	}
	/* nkeys is a multiple of the batch: a batch never crosses a refill. */
	while (!bad && rs_bench_keep_running_batch(st, RS_BENCH_BATCH)) {
		if (next == f.k.n) {
			rs_bench_pause(st);
			if ((rc = rs_bench_db_fill(f.db, &f.run, &f.k)) < 0)
				bad = rc;
			next = 0;
			rs_bench_resume(st);
		}
		for (unsigned j = 0; j < RS_BENCH_BATCH; j++) {
			bool existed = false;

			rc = rs_kv_delete(f.db, &f.run,
					  rs_bench_key(&f.k, f.k.order[next++]),
					  RS_BENCH_KEY_LEN, &existed);
			if (RS_BENCH_UNLIKELY(rc < 0))
				bad = rc;
			missing += !existed;
		}
	}
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	else if (missing)
		rs_bench_skip_with_error(st, "kvstore_delete: a key to delete "
					     "was absent");
	rs_bench_items_processed(st, rs_bench_iterations(st));
	kv_teardown(&f);
}

/* ---- probes ---- */

#define LAT_SAMPLES 300000u
#define ALLOC_OPS 100000u

static void probe_latency(rs_storage storage, enum kv_kind kind,
			  const char *prefix)
{
	kv_fix f;
	size_t n = rs_bench_scaled(LAT_SAMPLES);
	uint64_t *s = malloc(n * sizeof(*s));
	uint64_t t0, t1;
	int bad = 0;

	if (!s)
		return;
	if (kv_setup(&f, storage, RS_BENCH_HOT_KEYS, false) < 0)
		goto out;
	for (size_t w = rs_bench_warmup_ops(f.k.n); w; w--)
		bad |= kv_op(&f, kind) < 0;
	t0 = rs_bench_now_ns();
	for (size_t i = 0; i < n; i++) {
		bad |= kv_op(&f, kind) < 0;
		t1 = rs_bench_now_ns();
		s[i] = t1 - t0;
		t0 = t1;
	}
	if (!bad)
		rs_bench_record_latency(prefix, s, n);
out:
	kv_teardown(&f);
	free(s);
}

static void probe_lat_get(void)
{
	probe_latency(RS_STORAGE_SHARDED, KV_GET, "lat.kvstore_get");
}

static void probe_lat_put(void)
{
	probe_latency(RS_STORAGE_SHARDED, KV_PUT, "lat.kvstore_put");
}

static void probe_lat_get_u(void)
{
	probe_latency(RS_STORAGE_UNIFIED, KV_GET,
		      "lat.kvstore_get" RS_BENCH_UNIFIED_SUFFIX);
}

static void probe_lat_put_u(void)
{
	probe_latency(RS_STORAGE_UNIFIED, KV_PUT,
		      "lat.kvstore_put" RS_BENCH_UNIFIED_SUFFIX);
}

/* A read-only transaction: begin, one rs_txn_kv_get, abort. */
static int kv_ro_txn_get(kv_fix *f)
{
	rs_txn *txn;
	rs_bytes v;
	int rc;

	if ((rc = rs_txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY)) < 0)
		return rc;
	rc = rs_txn_kv_get(txn, rs_bench_key(&f->k, kv_next(f)),
			   RS_BENCH_KEY_LEN, &v);
	rs_txn_abort(txn);
	return rc;
}

static void probe_allocs_store(rs_storage storage, const char *suffix)
{
	char name[96];
	kv_fix f;
	uint64_t a0, a1, a2;
	int bad = 0;

	if (kv_setup(&f, storage, RS_BENCH_HOT_KEYS, true) < 0)
		goto out;
	/* Warm-up both loops: pooled contexts, grown sets. */
	for (size_t w = 0; w < rs_bench_warmup_ops(f.k.n) && !bad; w++)
		bad = kv_get(&f) < 0 || kv_ro_txn_get(&f) < 0;
	a0 = rs_bench_allocs();
	for (size_t i = 0; i < ALLOC_OPS; i++)
		bad |= kv_get(&f) < 0;
	a1 = rs_bench_allocs();
	for (size_t i = 0; i < ALLOC_OPS && !bad; i++)
		bad = kv_ro_txn_get(&f) < 0;
	a2 = rs_bench_allocs();
	if (bad)
		goto out;
	snprintf(name, sizeof(name), "alloc.kvstore_get%s.total", suffix);
	rs_bench_metric_set(name, (double)(a1 - a0));
	snprintf(name, sizeof(name), "alloc.ro_txn%s.total", suffix);
	rs_bench_metric_set(name, (double)(a2 - a1));
	snprintf(name, sizeof(name), "alloc.ops%s", suffix);
	rs_bench_metric_set(name, (double)ALLOC_OPS);
out:
	kv_teardown(&f);
}

static void probe_allocs(void)
{
	probe_allocs_store(RS_STORAGE_SHARDED, "");
}

static void probe_allocs_u(void)
{
	probe_allocs_store(RS_STORAGE_UNIFIED, RS_BENCH_UNIFIED_SUFFIX);
}

void rs_bench_suite_kv(void)
{
	rs_bench_register_both("kvstore_get", bm_kv_get, RS_BENCH_HOT_KEYS,
			       false);
	rs_bench_register_both("kvstore_get_noalloc", bm_kv_get_noalloc,
			       RS_BENCH_HOT_KEYS, true);
	rs_bench_register_both("kvstore_put", bm_kv_put, RS_BENCH_HOT_KEYS,
			       false);
	rs_bench_register_both("kvstore_delete", bm_kv_delete,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("kvstore_put/100k", bm_kv_put,
			       RS_BENCH_100K_KEYS, false);

	rs_bench_register_probe("kvstore_get latency", "kvstore_get",
				probe_lat_get);
	rs_bench_register_probe("kvstore_put latency", "kvstore_put",
				probe_lat_put);
	rs_bench_register_probe("kvstore_get@unified latency",
				"kvstore_get" RS_BENCH_UNIFIED_SUFFIX,
				probe_lat_get_u);
	rs_bench_register_probe("kvstore_put@unified latency",
				"kvstore_put" RS_BENCH_UNIFIED_SUFFIX,
				probe_lat_put_u);
	rs_bench_register_probe("hot-path allocations", "kvstore_get",
				probe_allocs);
	rs_bench_register_probe("hot-path allocations@unified",
				"kvstore_get" RS_BENCH_UNIFIED_SUFFIX,
				probe_allocs_u);
}
