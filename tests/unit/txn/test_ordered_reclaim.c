/* SPDX-License-Identifier: MIT */
/*
 * Reclamation with the ordered index (issue 12): the index nodes of
 * deleted keys are freed once no snapshot can see them, so memory (live
 * bytes through the allocator hooks) stays bounded under insert/delete
 * churn of distinct keys; a cursor held meanwhile still walks exactly its
 * snapshot's keys, with valid views; walks in both directions over a run
 * whose deleted nodes were freed touch no freed memory (ASan). Both
 * engines; rs__txn_flush_retired() ends the deferred frees.
 */
#include "common/rs_test.h"

#include <stdio.h>

#include "txn/txn.h"

enum {
	SLACK = 64 * 1024,
	CHURN = 20000, /* inserts and deletes of distinct keys */
	HELD = 2000    /* keys under a held cursor */
};

static size_t key_of(char *buf, size_t cap, const char *pfx, int i)
{
	return (size_t)snprintf(buf, cap, "%s%06d", pfx, i);
}

static void put_i(rs_fx *fx, const char *pfx, int i, const char *val)
{
	char k[32];
	size_t n = key_of(k, sizeof(k), pfx, i);

	if (rs_kv_put(fx->db, &fx->run, k, n, val, strlen(val)) != 0)
		fail_msg("put %s", k);
}

static void del_i(rs_fx *fx, const char *pfx, int i)
{
	char k[32];
	size_t n = key_of(k, sizeof(k), pfx, i);
	bool existed = false;

	if (rs_kv_delete(fx->db, &fx->run, k, n, &existed) != 0 || !existed)
		fail_msg("delete %s", k);
}

static size_t count_keys(rs_fx *fx, bool reverse)
{
	rs_scan_options o = RS_SCAN_OPTIONS_INIT;
	rs_t_list l = { 0 };
	bool more = false;
	size_t n = 0;

	o.flags = reverse ? RS_SCAN_REVERSE : 0;
	o.limit = RS_T_LIST_MAX;
	do {
		l.n = 0;
		assert_ok(rs_kv_scan(fx->db, &fx->run, &o, &more, rs_t_list_cb,
				     &l));
		n += l.n;
		if (l.n) {
			static char last[64];

			memcpy(last, l.keys[l.n - 1], sizeof(last));
			o.resume = last;
			o.resume_len = strlen(last);
		}
	} while (more);
	return n;
}

static void reclaim__churn_of_distinct_keys_stays_bounded(void **state)
{
	rs_fx *fx = *state;
	int64_t start, end;
	rs_cursor *cur;

	for (int i = 0; i < 64; i++)
		put_i(fx, "base", i, "kept");
	/* Warm up the table to its working size. */
	for (int i = 0; i < 64; i++) {
		put_i(fx, "warm", i, "x");
		del_i(fx, "warm", i);
	}
	rs__txn_flush_retired(fx->db);
	start = rs_test_alloc_live(&fx->ta);
	for (int i = 0; i < CHURN; i++) {
		/* Keys before, between and after the live ones. */
		const char *pfx = i % 3 == 0 ? "a" : i % 3 == 1 ? "base0" : "z";

		put_i(fx, pfx, i, "churn");
		if (i % 2) {
			del_i(fx, pfx, i);
			continue;
		}
		/* Also through a transaction, with a scan over the key. */
		{
			char k[32];
			size_t n = key_of(k, sizeof(k), pfx, i);
			rs_t_list l = { 0 };
			rs_scan_options o = RS_SCAN_OPTIONS_INIT;
			rs_txn *txn;

			o.start = k;
			o.start_len = n;
			o.limit = 1;
			assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
			assert_ok(rs_txn_kv_scan(txn, &o, NULL, rs_t_list_cb,
						 &l));
			assert_int_equal(l.n, 1);
			assert_ok(rs_txn_kv_delete(txn, k, n, NULL));
			assert_ok(rs_txn_commit(txn));
		}
	}
	rs__txn_flush_retired(fx->db);
	end = rs_test_alloc_live(&fx->ta);
	if (end - start > SLACK)
		fail_msg("live bytes grew by %lld over %d inserts and deletes "
			 "of distinct keys",
			 (long long)(end - start), CHURN);
	assert_int_equal(count_keys(fx, false), 64);
	assert_int_equal(count_keys(fx, true), 64);
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_last(cur, "base", 4, NULL, NULL));
	for (int i = 1; i < 64; i++)
		assert_ok(rs_cursor_prev(cur, NULL, NULL));
	assert_rc(rs_cursor_prev(cur, NULL, NULL), RS_ENOTFOUND);
	rs_cursor_close(cur);
}

/*
 * Walks over nodes whose neighbours were unlinked and freed: every other
 * key deleted (no snapshot held, so each node is unlinked at once), the
 * deferred frees run, then scans and cursor steps both ways. A stale
 * forward or backward link would read freed memory.
 */
static void reclaim__walks_after_frees_touch_no_freed_node(void **state)
{
	rs_fx *fx = *state;
	enum {
		N = 300
	};
	rs_cursor *cur;
	rs_bytes k;
	size_t live = 0;
	int seen = 0;

	for (int i = 0; i < N; i++)
		put_i(fx, "k", i, "v");
	for (int i = 0; i < N; i++) {
		if (i % 2 || i % 7 == 0)
			del_i(fx, "k", i);
		else
			live++;
	}
	rs__txn_flush_retired(fx->db);
	assert_int_equal(count_keys(fx, true), live);
	assert_int_equal(count_keys(fx, false), live);
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_last(cur, NULL, 0, &k, NULL));
	do
		seen++;
	while (rs_cursor_prev(cur, &k, NULL) == 0);
	assert_int_equal(seen, live);
	while (rs_cursor_next(cur, &k, NULL) == 0)
		seen--;
	assert_int_equal(seen, 0);
	rs_cursor_close(cur);
}

/*
 * A one-shot cursor held across the deletion of every key it sees and
 * the creation of as many others still walks exactly its keys, and its
 * views stay valid; once it is closed, later commits of the run (here the
 * deletes of the others) give the memory back, although nothing writes
 * the deleted keys again.
 */
static void reclaim__held_cursor_keeps_its_keys_then_releases(void **state)
{
	rs_fx *fx = *state;
	const int N = HELD;
	int64_t before, after;
	rs_cursor *cur;
	rs_bytes k, v, first_k, first_v;
	char want[32];
	int n = 0;

	/* Grow the table to 2N keys first: it does not shrink. */
	for (int i = 0; i < 2 * N; i++)
		put_i(fx, "grow", i, "x");
	for (int i = 0; i < 2 * N; i++)
		del_i(fx, "grow", i);
	put_i(fx, "warm", 0, "x");
	/* The writes below run on a second context while the cursor holds
	 * the first: let it get its retire arrays (the context's, not the
	 * keys') before the count starts. */
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	put_i(fx, "warm", 0, "x");
	rs_cursor_close(cur);
	rs__txn_flush_retired(fx->db);
	before = rs_test_alloc_live(&fx->ta);
	for (int i = 0; i < N; i++)
		put_i(fx, "old", i, "old-value");
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_first(cur, "old", 3, &first_k, &first_v));
	for (int i = 0; i < N; i++) {
		del_i(fx, "old", i);
		put_i(fx, "new", i, "new-value");
	}
	rs__txn_flush_retired(fx->db);
	assert_int_equal(count_keys(fx, false), N + 1);

	/* The held cursor: forward from its first entry, then back. */
	k = first_k;
	do {
		key_of(want, sizeof(want), "old", n++);
		assert_int_equal(k.len, strlen(want));
		assert_memory_equal(k.data, want, k.len);
	} while (rs_cursor_next(cur, &k, &v) == 0);
	assert_int_equal(n, N);
	assert_ok(rs_cursor_seek(cur, "p", 1, RS_SEEK_LE, &k, &v));
	assert_memory_equal(k.data, "old001999", 9);
	assert_memory_equal(v.data, "old-value", 9);
	assert_ok(rs_cursor_seek(cur, "new", 3, RS_SEEK_GE, &k, NULL));
	assert_memory_equal(k.data, "old", 3);
	/* Its first views are still valid. */
	assert_memory_equal(first_k.data, "old000000", 9);
	assert_memory_equal(first_v.data, "old-value", 9);
	rs_cursor_close(cur);

	/* Nothing writes the deleted "old" keys again: the run's later
	 * commits prune them (the pending list, docs/engine.md). */
	for (int i = 0; i < N; i++)
		del_i(fx, "new", i);
	rs__txn_flush_retired(fx->db);
	after = rs_test_alloc_live(&fx->ta);
	if (after - before > SLACK)
		fail_msg("live bytes %lld above the start after the cursor "
			 "closed and its keys were deleted",
			 (long long)(after - before));
	assert_int_equal(count_keys(fx, false), 1);
}

int main(void)
{
	const struct CMUnitTest sharded_only[] = {
		RS_FX_TEST(reclaim__churn_of_distinct_keys_stays_bounded),
		RS_FX_TEST(reclaim__held_cursor_keeps_its_keys_then_releases),
	};
	const struct CMUnitTest both[] = {
		RS_FX_TEST(reclaim__walks_after_frees_touch_no_freed_node),
	};
	int failed;

	/* The unified store keeps a tombstone for every key ever deleted
	 * (unified.c), so its memory grows with distinct deleted keys by
	 * design: the bounds are the sharded store's. */
	failed = RS_FX_RUN_SHARDED("ordered_reclaim", sharded_only);
	failed += RS_FX_RUN_BOTH("ordered_reclaim", both);
	return failed;
}
