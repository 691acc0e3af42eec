/* SPDX-License-Identifier: MIT */
/*
 * Heap allocations on the hot paths (DESIGN.md, Transactions): after
 * warm-up, reads and read-only transactions allocate nothing and writes
 * allocate only their version records. Counted through the allocator hooks
 * and, in builds that link jemalloc, also through jemalloc's per-thread
 * counters (which also see allocations that bypass the hooks).
 *
 * Memory: overwriting one key a million times with no snapshot held stays
 * bounded; a held snapshot keeps its version until it ends.
 */
#include "common/rs_test.h"

#include <stdio.h>

#include "txn/txn.h"
#include "util/rcu.h"

#define N 10000

#ifdef RS_HAVE_JEMALLOC
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
	    size_t newlen);

static uint64_t *je_allocatedp(void)
{
	static _Thread_local uint64_t *p;
	size_t sz = sizeof(p);

	if (!p)
		assert_int_equal(mallctl("thread.allocatedp", &p, &sz, NULL, 0),
				 0);
	return p;
}
#endif

/* A snapshot of every counter this file checks. */
typedef struct counts {
	uint64_t mallocs, reallocs; /* through the hooks */
	uint64_t hook_usable;	    /* usable bytes obtained by the hooks */
	uint64_t je_allocated;	    /* jemalloc: bytes this thread allocated */
} counts;

static counts take(const rs_fx *fx)
{
	counts c;

	c.mallocs = atomic_load(&fx->ta.mallocs);
	c.reallocs = atomic_load(&fx->ta.reallocs);
	c.hook_usable = rs_test_tl_usable;
#ifdef RS_HAVE_JEMALLOC
	c.je_allocated = *je_allocatedp();
#else
	c.je_allocated = 0;
#endif
	return c;
}

/* Asserts that between a and b exactly `mallocs` malloc calls (and no
 * realloc) went through the hooks, and, with jemalloc, that the thread
 * allocated nothing beyond what the hooks did. */
static void expect_allocs(const counts *a, const counts *b, uint64_t mallocs)
{
	if (b->mallocs - a->mallocs != mallocs ||
	    b->reallocs - a->reallocs != 0)
		fail_msg("expected %llu mallocs and 0 reallocs, got %llu and "
			 "%llu",
			 (unsigned long long)mallocs,
			 (unsigned long long)(b->mallocs - a->mallocs),
			 (unsigned long long)(b->reallocs - a->reallocs));
#ifdef RS_HAVE_JEMALLOC
	if (b->je_allocated - a->je_allocated !=
	    b->hook_usable - a->hook_usable)
		fail_msg(
			"jemalloc: thread allocated %llu bytes, the hooks "
			"%llu",
			(unsigned long long)(b->je_allocated - a->je_allocated),
			(unsigned long long)(b->hook_usable - a->hook_usable));
#endif
}

static void seed_keys(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "k0", "value-0");
	rs_t_put(fx->db, &fx->run, "k1", "value-1");
	rs_t_put(fx->db, &fx->run, "k2", "value-2");
}

static void alloc__oneshot_get_allocates_nothing(void **state)
{
	rs_fx *fx = *state;
	char buf[32];
	size_t len;
	counts a, b;
	bool ex;

	seed_keys(fx);
	for (int i = 0; i < 100; i++)
		assert_ok(rs_kv_get(fx->db, &fx->run, "k1", 2, buf, sizeof(buf),
				    &len));
	a = take(fx);
	for (int i = 0; i < N; i++) {
		if (rs_kv_get(fx->db, &fx->run, "k1", 2, buf, sizeof(buf),
			      &len) != 0 ||
		    len != 7)
			fail();
		if (rs_kv_get(fx->db, &fx->run, "nope", 4, buf, sizeof(buf),
			      &len) != RS_ENOTFOUND)
			fail();
		if (rs_kv_exists(fx->db, &fx->run, "k2", 2, &ex) != 0 || !ex)
			fail();
	}
	b = take(fx);
	expect_allocs(&a, &b, 0);
}

static void alloc__readonly_txn_allocates_nothing(void **state)
{
	rs_fx *fx = *state;
	static const rs_bytes keys[] = { { "k0", 2 },
					 { "k1", 2 },
					 { "k2", 2 } };
	counts a, b;

	seed_keys(fx);
	for (int pass = 0; pass < 2; pass++) {
		a = take(fx);
		for (int i = 0; i < (pass ? N : 100); i++) {
			rs_txn *t;
			rs_bytes v;

			if (rs_txn_begin(&t, fx->db, &fx->run,
					 RS_TXN_F_READONLY) != 0)
				fail();
			for (int k = 0; k < 3; k++)
				if (rs_txn_kv_get(t, keys[k].data, 2, &v) !=
					    0 ||
				    v.len != 7)
					fail();
			if (rs_txn_commit(t) != 0)
				fail();
		}
		b = take(fx);
	}
	expect_allocs(&a, &b, 0);
}

static void
alloc__readwrite_txn_reads_and_get_many_allocate_nothing(void **state)
{
	rs_fx *fx = *state;
	static const rs_bytes keys[] = {
		{ "k0", 2 }, { "k1", 2 }, { "k2", 2 }, { "zz", 2 }
	};
	rs_bytes vals[4];
	char buf[64];
	counts a, b;

	seed_keys(fx);
	for (int pass = 0; pass < 2; pass++) {
		a = take(fx);
		for (int i = 0; i < (pass ? N : 100); i++) {
			rs_txn *t;

			/* Read-write, reads recorded, write-free commit. */
			if (rs_txn_begin(&t, fx->db, &fx->run, 0) != 0 ||
			    rs_txn_kv_get_many(t, 4, keys, vals) != 0 ||
			    vals[3].data != NULL || rs_txn_commit(t) != 0)
				fail();
			if (rs_kv_get_many(fx->db, &fx->run, 4, keys, vals, buf,
					   sizeof(buf), NULL) != 0)
				fail();
		}
		b = take(fx);
	}
	expect_allocs(&a, &b, 0);
}

static void alloc__oneshot_overwrite_allocates_one_record_each(void **state)
{
	rs_fx *fx = *state;
	char v[16];
	counts a, b;

	seed_keys(fx);
	for (int i = 0; i < 100; i++)
		assert_ok(rs_kv_put(fx->db, &fx->run, "k1", 2, "warm-up", 7));
	a = take(fx);
	for (int i = 0; i < N; i++) {
		snprintf(v, sizeof(v), "v%07d", i);
		if (rs_kv_put(fx->db, &fx->run, "k1", 2, v, 8) != 0)
			fail();
	}
	b = take(fx);
	/* One version record each; the unified store (M3) also deep-copies
	 * the run for the implicit transaction, one block per put. */
	expect_allocs(&a, &b,
		      fx->storage == RS_STORAGE_UNIFIED ? 2 * N : (uint64_t)N);
	rs_t_expect(fx->db, &fx->run, "k1", "v0009999");
}

static void alloc__txn_staged_overwrites_allocate_only_records(void **state)
{
	rs_fx *fx = *state;
	counts a, b;

	seed_keys(fx);
	for (int pass = 0; pass < 2; pass++) {
		a = take(fx);
		for (int i = 0; i < (pass ? N : 100); i++) {
			rs_txn *t;
			rs_bytes v;

			if (rs_txn_begin(&t, fx->db, &fx->run, 0) != 0 ||
			    rs_txn_kv_get(t, "k0", 2, &v) != 0 ||
			    rs_txn_kv_put(t, "k0", 2, "new-0", 5) != 0 ||
			    rs_txn_kv_put(t, "k1", 2, "new-1", 5) != 0 ||
			    rs_txn_kv_put(t, "k2", 2, "new-2", 5) != 0 ||
			    rs_txn_kv_put(t, "k1", 2, "newer", 5) != 0 ||
			    rs_txn_commit(t) != 0)
				fail();
		}
		b = take(fx);
	}
	expect_allocs(&a, &b, 3ull * N);
	rs_t_expect(fx->db, &fx->run, "k1", "newer");
}

static void
alloc__aborted_and_readonly_write_attempts_allocate_nothing(void **state)
{
	rs_fx *fx = *state;
	counts a, b;

	seed_keys(fx);
	for (int pass = 0; pass < 2; pass++) {
		a = take(fx);
		for (int i = 0; i < (pass ? N : 100); i++) {
			rs_txn *t;

			if (rs_txn_begin(&t, fx->db, &fx->run, 0) != 0 ||
			    rs_txn_kv_put(t, "k0", 2, "staged", 6) != 0 ||
			    rs_txn_kv_delete(t, "k1", 2, NULL) != 0)
				fail();
			rs_txn_abort(t);
		}
		b = take(fx);
	}
	expect_allocs(&a, &b, 0);
	rs_t_expect(fx->db, &fx->run, "k0", "value-0");
}

/* ---- memory bounds (both engines) ---- */

static void alloc__overwrites_keep_memory_bounded(void **state)
{
	rs_fx *fx = *state;
	enum {
		M = 1000000
	};
	int64_t start, end;
	uint64_t x;

	seed_keys(fx);
	rs_t_put(fx->db, &fx->run, "hot", "start");
	rs__txn_flush_retired(fx->db);
	start = rs_test_alloc_live(&fx->ta);
	for (x = 0; x < M; x++) {
		if (rs_kv_put(fx->db, &fx->run, "hot", 3, &x, sizeof(x)) != 0)
			fail();
	}
	rs__txn_flush_retired(fx->db);
	end = rs_test_alloc_live(&fx->ta);
	if (end - start > 64 * 1024)
		fail_msg("live bytes grew by %lld over %d overwrites",
			 (long long)(end - start), M);
	{
		uint64_t got = 0;
		size_t len = 0;
		assert_ok(rs_kv_get(fx->db, &fx->run, "hot", 3, &got,
				    sizeof(got), &len));
		assert_int_equal(len, sizeof(got));
		assert_int_equal(got, M - 1);
	}
	assert_int_equal(rs_t_version(fx->db, &fx->run), 4 + M);
}

static void alloc__create_delete_cycles_keep_memory_bounded(void **state)
{
	rs_fx *fx = *state;
	enum {
		M = 100000
	};
	int64_t start, end;
	char k[16];

	seed_keys(fx);
	/* Warm the table up to its working size first. */
	for (int i = 0; i < 64; i++) {
		snprintf(k, sizeof(k), "t%d", i);
		rs_t_put(fx->db, &fx->run, k, "x");
		rs_t_del(fx->db, &fx->run, k);
	}
	rs__txn_flush_retired(fx->db);
	start = rs_test_alloc_live(&fx->ta);
	for (int i = 0; i < M; i++) {
		snprintf(k, sizeof(k), "t%d", i % 64);
		if (rs_kv_put(fx->db, &fx->run, k, strlen(k), "x", 1) != 0 ||
		    rs_kv_delete(fx->db, &fx->run, k, strlen(k), NULL) != 0)
			fail();
	}
	rs__txn_flush_retired(fx->db);
	end = rs_test_alloc_live(&fx->ta);
	if (end - start > 64 * 1024)
		fail_msg("live bytes grew by %lld over %d create/delete",
			 (long long)(end - start), M);
	rs_t_expect(fx->db, &fx->run, "t1", NULL);
	rs_t_expect(fx->db, &fx->run, "k1", "value-1");
}

static void alloc__held_snapshot_keeps_its_version_then_releases(void **state)
{
	rs_fx *fx = *state;
	enum {
		M = 100000
	};
	int64_t start, end;
	rs_bytes v0, v1;
	rs_txn *t;
	uint64_t x;

	rs_t_put(fx->db, &fx->run, "hot", "original");
	rs_t_put(fx->db, &fx->run, "gone", "soon deleted");
	/* The puts below run on a second context while `t` holds the first:
	 * let it get its retire arrays (the context's, 2 x 68 KiB, not the
	 * snapshot's) before the count starts. */
	assert_ok(rs_txn_begin(&t, fx->db, &fx->run, RS_TXN_F_READONLY));
	rs_t_put(fx->db, &fx->run, "hot", "original");
	rs_txn_abort(t);
	rs__txn_flush_retired(fx->db);
	start = rs_test_alloc_live(&fx->ta);
	assert_ok(rs_txn_begin(&t, fx->db, &fx->run, RS_TXN_F_READONLY));
	assert_ok(rs_txn_kv_get(t, "hot", 3, &v0));
	rs_t_del(fx->db, &fx->run, "gone");
	for (x = 0; x < M; x++) {
		if (rs_kv_put(fx->db, &fx->run, "hot", 3, &x, sizeof(x)) != 0)
			fail();
	}
	rs__txn_flush_retired(fx->db);
	/* The view is still valid (ASan would catch a freed one) and the
	 * snapshot still reads the old state. */
	assert_int_equal(v0.len, 8);
	assert_memory_equal(v0.data, "original", 8);
	assert_ok(rs_txn_kv_get(t, "hot", 3, &v1));
	assert_memory_equal(v1.data, "original", 8);
	rs_t_txn_expect(t, "gone", "soon deleted");
	assert_ok(rs_txn_commit(t));

	/* Reclamation runs on the next write of each key. */
	x = 7;
	assert_ok(rs_kv_put(fx->db, &fx->run, "hot", 3, &x, sizeof(x)));
	assert_ok(rs_kv_put(fx->db, &fx->run, "gone", 4, "back", 4));
	rs_t_del(fx->db, &fx->run, "gone");
	rs__txn_flush_retired(fx->db);
	end = rs_test_alloc_live(&fx->ta);
	if (end - start > 64 * 1024)
		fail_msg("live bytes still %lld above the start after the "
			 "snapshot ended",
			 (long long)(end - start));
}

int main(void)
{
	const struct CMUnitTest sharded_only[] = {
		RS_FX_TEST(alloc__oneshot_get_allocates_nothing),
		RS_FX_TEST(alloc__readonly_txn_allocates_nothing),
		RS_FX_TEST(
			alloc__readwrite_txn_reads_and_get_many_allocate_nothing),
		RS_FX_TEST(alloc__txn_staged_overwrites_allocate_only_records),
		RS_FX_TEST(
			alloc__aborted_and_readonly_write_attempts_allocate_nothing),
	};
	const struct CMUnitTest both[] = {
		RS_FX_TEST(alloc__oneshot_overwrite_allocates_one_record_each),
		RS_FX_TEST(alloc__overwrites_keep_memory_bounded),
		RS_FX_TEST(alloc__create_delete_cycles_keep_memory_bounded),
		RS_FX_TEST(
			alloc__held_snapshot_keeps_its_version_then_releases),
	};
	int failed;

	/* The unified store deep-copies a snapshot per transaction (one
	 * allocation each, by design), so the zero-allocation transaction
	 * paths are the sharded store's. */
	failed = RS_FX_RUN_SHARDED("alloc", sharded_only);
	failed += RS_FX_RUN_BOTH("alloc", both);
	return failed;
}
