/* SPDX-License-Identifier: MIT */
/*
 * Tier A0 (core): the data layout alone. One shard's key table
 * (storage/table.h) built directly with rs__table_init, no database, no
 * store vtable, no run lookup, no snapshot pin, no commit lock (the
 * benchmarks are single-threaded, so the one-writer rule holds without it).
 *
 * These use library internals on purpose: A0 cannot be reached through the
 * public API by definition. Every tier from B up uses only runstate.h.
 *
 * Per operation, inside the timed loop:
 *  core_get_hot  hash the key (XXH3, as every tier does), RCU read lock,
 *                rs__table_find, rs__node_visible at the current version,
 *                RCU read unlock.
 *  core_put_hot  hash, rs__ver_new (allocates the 100-byte version, as a
 *                real write must), find, rs__node_push, rs__table_prune
 *                with min_snap = the new version (retires the superseded
 *                version; rs__retire_end frees a share of the previous
 *                batch once its grace period, waited for by a reclaimer
 *                thread, is over, as the engine does).
 *  core_cas_hot  as core_put_hot, after checking rs__node_newest against
 *                the version this thread last wrote for the key.
 * The run holds RS_BENCH_HOT_KEYS keys, visited in a fixed shuffled order.
 */
#include "common.h"

#include "storage/store.h"
#include "storage/table.h"
#include "util/hash.h"
#include "util/rcu.h"

#include <stdlib.h>
#include <string.h>

#define CORE_SEED 0x5eed5eed5eed5eedull

/* Static: RCU callbacks free through the pointer kept in each object. */
static rs__alloc core_alloc;

typedef struct core_fix {
	rs__table t;
	rs_bench_keys k;
	uint64_t *expect;   /* per key: the newest version (cas) */
	uint64_t ver;	    /* the table's newest commit version */
	size_t pos;	    /* next index into k.order */
	rs__retire_list rl; /* superseded versions awaiting a grace period */
	rs__reclaimer rc;   /* as a database's */
	bool reclaiming;    /* rc started */
} core_fix;

static int core_setup(core_fix *f, size_t nkeys)
{
	int rc;

	rs__rcu_thread_ensure();
	rs__alloc_init(&core_alloc, NULL);
	memset(f, 0, sizeof(*f));
	rs__retire_list_init(&f->rl, &core_alloc, RS__RETIRE_CAP);
	if ((rc = rs__reclaim_init(&f->rc)) < 0)
		return rc;
	f->reclaiming = true;
	if ((rc = rs_bench_keys_make(&f->k, nkeys)) < 0)
		return rc;
	f->expect = calloc(nkeys, sizeof(*f->expect));
	if (!f->expect)
		return RS_ENOMEM;
	if ((rc = rs__table_init(&f->t, &core_alloc, nkeys, CORE_SEED)) < 0)
		return rc;
	if ((rc = rs__retire_reserve(&f->rl, RS__TABLE_RESERVE_RETIRES)) < 0 ||
	    (rc = rs__table_reserve(&f->t, nkeys, &f->rl)) < 0)
		return rc;
	f->ver = 1;
	for (size_t i = 0; i < nkeys; i++) {
		const unsigned char *key = rs_bench_key(&f->k, i);
		uint64_t h = rs__hash_key(CORE_SEED, RS__TAG_KV, key,
					  RS_BENCH_KEY_LEN);
		/* As the store makes a new key: its first version inside. */
		rs__node *n = rs__node_new_with(
			&core_alloc, RS__TAG_KV, key, RS_BENCH_KEY_LEN,
			rs_bench_val(&f->k, i), RS_BENCH_VAL_LEN, false);

		if (!n)
			return RS_ENOMEM;
		rs__node_push_first(n, f->ver);
		rs__table_insert(&f->t, n, h);
		f->expect[i] = f->ver;
	}
	return 0;
}

static void core_teardown(core_fix *f)
{
	if (f->reclaiming) {
		rs__retire_drain(&f->rc, &f->rl);
		rs__reclaim_fini(&f->rc);
	}
	rs__retire_list_fini(&f->rl);
	if (atomic_load_explicit(&f->t.slots, memory_order_relaxed))
		rs__table_destroy(&f->t);
	free(f->expect);
	rs_bench_keys_free(&f->k);
}

static inline uint32_t core_next(core_fix *f)
{
	return rs_bench_next(&f->k, &f->pos);
}

/* Returns 1 when the key was found. */
static inline int core_get(core_fix *f)
{
	uint32_t i = core_next(f);
	const unsigned char *key = rs_bench_key(&f->k, i);
	uint64_t h = rs__hash_key(CORE_SEED, RS__TAG_KV, key, RS_BENCH_KEY_LEN);
	const rs__node *n;
	rs_bytes v = { NULL, 0 };
	bool found = false, ended;

	rs__rcu_read_lock();
	n = rs__table_find(&f->t, RS__TAG_KV, key, RS_BENCH_KEY_LEN, h);
	if (n)
		found = rs__node_visible(n, f->ver, &v, &ended);
	RS_BENCH_DO_NOT_OPTIMIZE(v.data);
	rs__rcu_read_unlock();
	return found;
}

/* Returns 0, RS_ENOMEM, RS_ENOTFOUND or RS_EMISMATCH. */
static inline int core_put(core_fix *f, bool cas)
{
	uint32_t i = core_next(f);
	const unsigned char *key = rs_bench_key(&f->k, i);
	uint64_t h = rs__hash_key(CORE_SEED, RS__TAG_KV, key, RS_BENCH_KEY_LEN);
	rs__node *n;
	rs__ver *v;

	rs__rcu_read_lock();
	n = rs__table_find(&f->t, RS__TAG_KV, key, RS_BENCH_KEY_LEN, h);
	rs__rcu_read_unlock();
	if (!n)
		return RS_ENOTFOUND;
	if (cas && rs__node_newest(n) != f->expect[i])
		return RS_EMISMATCH;
	if (rs__retire_reserve(&f->rl, 1) < 0)
		return RS_ENOMEM;
	v = rs__ver_new(&core_alloc, rs_bench_val(&f->k, f->ver),
			RS_BENCH_VAL_LEN, 0);
	if (!v)
		return RS_ENOMEM;
	v->ver = ++f->ver;
	rs__node_push(n, v);
	rs__table_prune(&f->t, n, h, f->ver, &f->rl);
	/* As a commit ends: a share of the done batch is freed, and a full
	 * list is queued for a grace period. */
	rs__retire_end(&f->rc, &f->rl);
	f->expect[i] = f->ver;
	return 0;
}

RS_BENCH_INLINE int core_get_op(void *f)
{
	return core_get(f) ? 0 : RS_ENOTFOUND;
}

RS_BENCH_INLINE int core_put_op(void *f)
{
	return core_put(f, false);
}

RS_BENCH_INLINE int core_cas_op(void *f)
{
	return core_put(f, true);
}

RS_BENCH_INLINE void core_run(rs_bench_state *st, rs_bench_op_fn op)
{
	core_fix f;
	int bad;

	if (core_setup(&f, RS_BENCH_HOT_KEYS) < 0) {
		rs_bench_skip_with_error(st, "core setup failed");
		core_teardown(&f);
		return;
	}
	bad = rs_bench_loop(st, op, &f, rs_bench_warmup_ops(f.k.n));
	if (bad == RS_ENOTFOUND && op == core_get_op)
		rs_bench_skip_with_error(st, "core_get_hot: a key was missing");
	rs_bench_finish(st, bad);
	core_teardown(&f);
}

static void bm_core_get_hot(rs_bench_state *st)
{
	core_run(st, core_get_op);
}

static void bm_core_put_hot(rs_bench_state *st)
{
	core_run(st, core_put_op);
}

static void bm_core_cas_hot(rs_bench_state *st)
{
	core_run(st, core_cas_op);
}

void rs_bench_suite_core(void)
{
	RS_BENCH("core_get_hot", bm_core_get_hot, NULL);
	RS_BENCH("core_put_hot", bm_core_put_hot, NULL);
	RS_BENCH("core_cas_hot", bm_core_cas_hot, NULL);
}
