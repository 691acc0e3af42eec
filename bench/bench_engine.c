/* SPDX-License-Identifier: MIT */
/*
 * Tier A1 (engine): the correctness machinery under the facades, driven
 * through library internals (storage/store.h, txn/txn.h) on a real
 * database. A1 cannot be reached through the public API by definition.
 *
 * Every benchmark runs on the sharded store (its catalog name) and on the
 * unified store, the M3 baseline (name@unified), over a run holding
 * RS_BENCH_HOT_KEYS keys visited in a fixed shuffled order. Per operation,
 * inside the timed loop:
 *
 *  engine_get_direct        store->ops: run_find, hash, snap_open (a
 *                           pinned snapshot: the pin protocol of shard.c;
 *                           the unified store deep-copies the run), read,
 *                           snap_close, pin release. The snapshot path is
 *                           chosen over read_latest on purpose: it is what
 *                           every transaction pays; kvstore_get (tier B)
 *                           takes read_latest, the pin-free fast path.
 *  engine_put_direct        the one-shot write path: a blind rs__txn_begin
 *                           (context from the pool, run_find), one staged
 *                           write (hash), rs__txn_commit: commit lock,
 *                           version, durability record
 *                           (InMemory backend), prepare/install, publish,
 *                           reclaim (min_pin scan + prune), unlock.
 *  engine_cas_direct        rs__txn_begin, rs__txn_read of the key,
 *                           rs__txn_write of a new value, rs__txn_commit
 *                           (validation of the read set included).
 *  engine_snapshot_acquire  rs__txn_begin(RS_TXN_F_READONLY) +
 *                           rs__txn_abort: context from the thread pool,
 *                           run lookup, snapshot pin, release.
 *  engine_txn_empty_commit  rs__txn_begin(0) + rs__txn_commit with no
 *                           writes (no lock, no version, no record).
 *  engine_get_noalloc       engine_get_direct on one key, the same key
 *                           buffer every time; counter allocs_per_op.
 *  engine_put_noalloc       engine_put_direct on one key with the same key
 *                           and value buffers every time; counter
 *                           allocs_per_op (a put allocates its version).
 *
 * First touch (sharded store only: the unified store deep-copies the run
 * per snapshot, O(keys), which says nothing about first touch):
 *
 *  engine_get_cold          the engine_get_direct path, each of 10,000 keys
 *                           read once, in shuffled order, right after a
 *                           fresh database was opened and filled and a
 *                           read sweep over a buffer of twice the
 *                           last-level cache (at least 64 MiB; written once
 *                           when allocated, so the sweep leaves no dirty
 *                           lines) evicted the caches. Each timed batch is
 *                           one such pass; between passes the timer is
 *                           paused while the database is closed, reopened,
 *                           refilled and the caches swept. Counter
 *                           minflt_per_op: minor page faults (getrusage)
 *                           during the timed passes.
 *  engine_get_warm          the same 10,000-key database and order, after
 *                           one untimed full pass: steady state.
 */
#include "common.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "storage/store.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/rcu.h"

typedef struct eng_fix {
	rs_db *db;
	rs__store *st;
	rs_run_id run;
	rs_bench_keys k;
	size_t pos;
	rs__pin pin; /* engine_get_*: the snapshot's pin */
	unsigned char key1[RS_BENCH_KEY_LEN]; /* noalloc: the one key */
	unsigned char val1[RS_BENCH_VAL_LEN]; /* noalloc: the one value */
	uint64_t allocs0;
} eng_fix;

static int eng_setup(eng_fix *f, const rs_bench_cfg *cfg)
{
	int rc;

	memset(f, 0, sizeof(*f));
	atomic_init(&f->pin.run, NULL);
	atomic_init(&f->pin.ver, RS__PIN_NONE);
	rs_bench_run_id(&f->run, 1);
	if ((rc = rs_bench_keys_make(&f->k, cfg->nkeys)) < 0)
		return rc;
	if ((rc = rs_bench_db_open(&f->db, cfg->storage, cfg->count_allocs)) <
	    0)
		return rc;
	f->st = f->db->store;
	memcpy(f->key1, rs_bench_key(&f->k, 0), RS_BENCH_KEY_LEN);
	memcpy(f->val1, rs_bench_val(&f->k, 1), RS_BENCH_VAL_LEN);
	return rs_bench_db_fill(f->db, &f->run, &f->k);
}

static void eng_teardown(eng_fix *f)
{
	rs_db_close(f->db);
	rs_bench_keys_free(&f->k);
}

static inline uint32_t eng_next(eng_fix *f)
{
	return rs_bench_next(&f->k, &f->pos);
}

/* ---- the operations ---- */

static inline int op_get_direct(eng_fix *f, const void *key)
{
	rs__store *st = f->st;
	rs__run *r = NULL;
	rs__snap snap;
	rs_bytes out = { NULL, 0 };
	uint64_t h;
	int rc;

	rc = st->ops->run_find(st, &f->run, false, &r);
	if (RS_BENCH_UNLIKELY(rc < 0))
		return rc;
	h = st->ops->hash(st, RS__TAG_KV, key, RS_BENCH_KEY_LEN);
	rc = st->ops->snap_open(st, r, &f->pin, &snap);
	if (RS_BENCH_UNLIKELY(rc < 0))
		return rc;
	rc = st->ops->read(st, &snap, RS__TAG_KV, key, RS_BENCH_KEY_LEN, h,
			   &out);
	RS_BENCH_DO_NOT_OPTIMIZE(out.data);
	if (snap.state)
		st->ops->snap_close(st, &snap);
	/* As rs__ctx_release_snapshot() in txn/pool.c. */
	atomic_store_explicit(&f->pin.ver, RS__PIN_NONE, memory_order_release);
	return rc;
}

static inline int op_put_direct(eng_fix *f, const void *key, const void *val)
{
	rs_txn *txn;
	int rc;

	/* The one-shot write path (rs__txn_oneshot) without a stage
	 * callback: a blind transaction, one staged write, its commit. */
	RS_TRY(rs__txn_begin(&txn, f->db, &f->run, RS__TXN_F_BLIND));
	rc = rs__txn_write_ref(txn, RS__TAG_KV, key, RS_BENCH_KEY_LEN, val,
			       RS_BENCH_VAL_LEN, 0);
	if (RS_BENCH_UNLIKELY(rc < 0)) {
		rs__txn_abort(txn);
		return rc;
	}
	return rs__txn_commit(txn);
}

static inline int op_cas_direct(eng_fix *f, const void *key, const void *val)
{
	rs_txn *txn;
	rs_bytes cur;
	int rc;

	RS_TRY(rs__txn_begin(&txn, f->db, &f->run, 0));
	rc = rs__txn_read(txn, RS__TAG_KV, key, RS_BENCH_KEY_LEN, &cur);
	if (RS_BENCH_UNLIKELY(rc < 0)) {
		rs__txn_abort(txn);
		return rc;
	}
	RS_BENCH_DO_NOT_OPTIMIZE(cur.data);
	rc = rs__txn_write(txn, RS__TAG_KV, key, RS_BENCH_KEY_LEN, val,
			   RS_BENCH_VAL_LEN, 0);
	if (RS_BENCH_UNLIKELY(rc < 0)) {
		rs__txn_abort(txn);
		return rc;
	}
	return rs__txn_commit(txn);
}

static inline int op_snapshot(eng_fix *f)
{
	rs_txn *txn;

	RS_TRY(rs__txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY));
	RS_BENCH_DO_NOT_OPTIMIZE(txn);
	rs__txn_abort(txn);
	return 0;
}

static inline int op_empty_commit(eng_fix *f)
{
	rs_txn *txn;

	RS_TRY(rs__txn_begin(&txn, f->db, &f->run, 0));
	return rs__txn_commit(txn);
}

enum eng_kind {
	GET_DIRECT,
	PUT_DIRECT,
	CAS_DIRECT,
	SNAPSHOT,
	EMPTY_COMMIT,
	GET_NOALLOC,
	PUT_NOALLOC
};

RS_BENCH_INLINE int eng_op(eng_fix *f, enum eng_kind kind)
{
	uint32_t i;

	switch (kind) {
	case GET_DIRECT:
		return op_get_direct(f, rs_bench_key(&f->k, eng_next(f)));
	case PUT_DIRECT:
		i = eng_next(f);
		return op_put_direct(f, rs_bench_key(&f->k, i),
				     rs_bench_val(&f->k, i + f->pos));
	case CAS_DIRECT:
		i = eng_next(f);
		return op_cas_direct(f, rs_bench_key(&f->k, i),
				     rs_bench_val(&f->k, i + f->pos));
	case SNAPSHOT:
		return op_snapshot(f);
	case EMPTY_COMMIT:
		return op_empty_commit(f);
	case GET_NOALLOC:
		return op_get_direct(f, f->key1);
	case PUT_NOALLOC:
		return op_put_direct(f, f->key1, f->val1);
	}
	return RS_EINVAL;
}

/* The whole benchmark of one operation (eng_op of one kind). */
RS_BENCH_INLINE void eng_run(rs_bench_state *st, rs_bench_op_fn op)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	eng_fix f;
	int rc;

	rs__rcu_thread_ensure();
	if ((rc = eng_setup(&f, cfg)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		eng_teardown(&f);
		return;
	}
	rs_bench_finish(st, rs_bench_loop_allocs(st, op, &f,
						 rs_bench_warmup_ops(f.k.n),
						 cfg->count_allocs));
	eng_teardown(&f);
}

/* bm: the benchmark of eng_op(kind); `kind` is a constant in each, so
 * each loop is specialized by inlining. */
#define ENG_BENCH(bm, kind)                  \
	RS_BENCH_INLINE int bm##_op(void *f) \
	{                                    \
		return eng_op(f, kind);      \
	}                                    \
	static void bm(rs_bench_state *st)   \
	{                                    \
		eng_run(st, bm##_op);        \
	}

ENG_BENCH(bm_get_direct, GET_DIRECT)
ENG_BENCH(bm_put_direct, PUT_DIRECT)
ENG_BENCH(bm_cas_direct, CAS_DIRECT)
ENG_BENCH(bm_snapshot, SNAPSHOT)
ENG_BENCH(bm_empty_commit, EMPTY_COMMIT)
ENG_BENCH(bm_get_noalloc, GET_NOALLOC)
ENG_BENCH(bm_put_noalloc, PUT_NOALLOC)

/* ---- first touch ---- */

/* A buffer of twice the last-level cache, at least 64 MiB, written once
 * (so its pages are real, not the shared zero page): reading one word per
 * 64-byte line evicts what the fill left in the caches, and leaves no
 * dirty lines whose write-back the timed pass would pay. */
static const uint64_t *sweep_buf;
static size_t sweep_len;

static void sweep_caches(void)
{
	uint64_t sum = 0;

	if (!sweep_buf) {
		long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
		uint64_t *b;

		sweep_len = (size_t)64 << 20;
		if (l3 > 0 && (size_t)l3 * 2 > sweep_len)
			sweep_len = (size_t)l3 * 2;
		b = malloc(sweep_len);
		if (!b)
			return;
		memset(b, 1, sweep_len);
		sweep_buf = b;
	}
	for (size_t i = 0; i < sweep_len / 8; i += 8)
		sum += sweep_buf[i];
	RS_BENCH_DO_NOT_OPTIMIZE(sum);
}

static long minflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

/* A fresh database with every key, caches swept. */
static int cold_setup(eng_fix *f, const rs_bench_cfg *cfg)
{
	int rc = eng_setup(f, cfg);

	sweep_caches();
	return rc;
}

static void bm_get_cold(rs_bench_state *st)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	eng_fix f;
	bool first = true;
	long flt0, faults = 0;
	int rc, bad = 0;

	rs__rcu_thread_ensure();
	if ((rc = cold_setup(&f, cfg)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		eng_teardown(&f);
		return;
	}
	flt0 = minflt();
	/* One batch: every key once, in f.k.order. */
	while (!bad && rs_bench_keep_running_batch(st, f.k.n)) {
		if (!first) {
			rs_bench_pause(st);
			faults += minflt() - flt0;
			eng_teardown(&f);
			if ((rc = cold_setup(&f, cfg)) < 0)
				bad = rc;
			flt0 = minflt();
			rs_bench_resume(st);
			if (bad)
				break;
		}
		first = false;
		for (size_t i = 0; i < f.k.n; i++)
			if (RS_BENCH_UNLIKELY(
				    (rc = op_get_direct(
					     &f, rs_bench_key(&f.k,
							      f.k.order[i]))) <
				    0))
				bad = rc;
	}
	faults += minflt() - flt0;
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	rs_bench_counter(st, "minflt_per_op", (double)faults,
			 RS_BENCH_COUNTER_AVG_ITERATIONS);
	rs_bench_items_processed(st, rs_bench_iterations(st));
	eng_teardown(&f);
}

static void bm_get_warm(rs_bench_state *st)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	eng_fix f;
	long flt0;
	int rc, bad;

	rs__rcu_thread_ensure();
	if ((rc = eng_setup(&f, cfg)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		eng_teardown(&f);
		return;
	}
	bad = rs_bench_warm(bm_get_direct_op, &f, f.k.n);
	flt0 = minflt();
	if ((rc = rs_bench_loop(st, bm_get_direct_op, &f, 0)) < 0)
		bad = rc;
	rs_bench_counter(st, "minflt_per_op", (double)(minflt() - flt0),
			 RS_BENCH_COUNTER_AVG_ITERATIONS);
	rs_bench_finish(st, bad);
	eng_teardown(&f);
}

void rs_bench_suite_engine(void)
{
	static const rs_bench_cfg touch = { RS_STORAGE_SHARDED,
					    RS_BENCH_10K_KEYS, false };

	rs_bench_register_both("engine_get_direct", bm_get_direct,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("engine_put_direct", bm_put_direct,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("engine_cas_direct", bm_cas_direct,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("engine_snapshot_acquire", bm_snapshot,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("engine_txn_empty_commit", bm_empty_commit,
			       RS_BENCH_HOT_KEYS, false);
	rs_bench_register_both("engine_get_noalloc", bm_get_noalloc,
			       RS_BENCH_HOT_KEYS, true);
	rs_bench_register_both("engine_put_noalloc", bm_put_noalloc,
			       RS_BENCH_HOT_KEYS, true);
	RS_BENCH("engine_get_cold", bm_get_cold, (void *)&touch);
	RS_BENCH("engine_get_warm", bm_get_warm, (void *)&touch);
}
