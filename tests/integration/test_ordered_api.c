/* SPDX-License-Identifier: MIT */
/*
 * Argument validation of the ordered-access API (rs_kv_scan,
 * rs_txn_kv_scan, the cursor functions): every bad argument gives its
 * documented code, writes no output, calls no callback and changes
 * nothing (the cursor's position, the transaction's read set, the run).
 * Both engines.
 */
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) (x), strlen(x)

static unsigned char too_long[RS_KEY_MAX + 1];

static int never_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	(void)key;
	(void)value;
	(*(int *)ctx)++;
	return 0;
}

static void seed(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "a", "1");
	rs_t_put(fx->db, &fx->run, "b", "2");
	rs_t_put(fx->db, &fx->run, "c", "3");
}

/* Every way to get rs_scan_options wrong, with its code. */
typedef struct bad_opts {
	rs_scan_options o;
	int rc;
} bad_opts;

static size_t bad_options(bad_opts *b)
{
	const rs_scan_options init = RS_SCAN_OPTIONS_INIT;
	size_t n = 0;

	for (int i = 0; i < 10; i++)
		b[i].o = init;
	b[n].o.version = 0, b[n++].rc = RS_EINVAL;
	b[n].o.version = RS_SCAN_OPTIONS_VERSION + 1, b[n++].rc = RS_EINVAL;
	b[n].o.flags = 0x2, b[n++].rc = RS_EINVAL;
	b[n].o.flags = RS_SCAN_REVERSE | 0x80000000u, b[n++].rc = RS_EINVAL;
	b[n].o.start_len = 1, b[n++].rc = RS_EINVAL;
	b[n].o.end_len = 2, b[n++].rc = RS_EINVAL;
	b[n].o.resume_len = 3, b[n++].rc = RS_EINVAL;
	b[n].o.start = too_long, b[n].o.start_len = sizeof(too_long),
	b[n++].rc = RS_ETOOBIG;
	b[n].o.end = too_long, b[n].o.end_len = sizeof(too_long),
	b[n++].rc = RS_ETOOBIG;
	b[n].o.resume = too_long, b[n].o.resume_len = sizeof(too_long),
	b[n++].rc = RS_ETOOBIG;
	return n;
}

static void api__scan_rejects_bad_arguments(void **state)
{
	rs_fx *fx = *state;
	rs_run_id nil;
	bad_opts bad[10];
	size_t nbad = bad_options(bad);
	int calls = 0;
	bool more = true;
	uint64_t v0;

	seed(fx);
	v0 = rs_t_version(fx->db, &fx->run);
	memset(&nil, 0, sizeof(nil));
	assert_rc(rs_kv_scan(NULL, &fx->run, NULL, &more, never_cb, &calls),
		  RS_EINVAL);
	assert_rc(rs_kv_scan(fx->db, NULL, NULL, &more, never_cb, &calls),
		  RS_EINVAL);
	assert_rc(rs_kv_scan(fx->db, &nil, NULL, &more, never_cb, &calls),
		  RS_EINVAL);
	assert_rc(rs_kv_scan(fx->db, &fx->run, NULL, &more, NULL, &calls),
		  RS_EINVAL);
	for (size_t i = 0; i < nbad; i++) {
		int rc = rs_kv_scan(fx->db, &fx->run, &bad[i].o, &more,
				    never_cb, &calls);

		if (rc != bad[i].rc)
			fail_msg("bad options %zu: %s, expected %s", i,
				 rs_errname(rc), rs_errname(bad[i].rc));
	}
	assert_int_equal(calls, 0);
	assert_true(more); /* untouched */
	assert_int_equal(rs_t_version(fx->db, &fx->run), v0);

	/* The limits themselves are fine: RS_KEY_MAX bytes, empty bounds,
	 * a huge limit, start after end (nothing), a run never written. */
	{
		rs_scan_options o = RS_SCAN_OPTIONS_INIT;
		rs_t_list l = { 0 };

		memset(too_long, 0xff, sizeof(too_long));
		o.start = too_long;
		o.start_len = RS_KEY_MAX;
		o.limit = SIZE_MAX;
		assert_ok(rs_kv_scan(fx->db, &fx->run, &o, &more, rs_t_list_cb,
				     &l));
		assert_int_equal(l.n, 0);
		assert_false(more);
		memset(too_long, 0, sizeof(too_long));
		o.start = "";
		o.start_len = 0;
		o.end = "";
		o.end_len = 0;
		assert_ok(rs_kv_scan(fx->db, &fx->run, &o, &more, rs_t_list_cb,
				     &l));
		assert_int_equal(l.n, 0);
		o.start = "c";
		o.start_len = 1;
		o.end = "a";
		o.end_len = 1;
		o.flags = RS_SCAN_REVERSE;
		assert_ok(rs_kv_scan(fx->db, &fx->run, &o, &more, rs_t_list_cb,
				     &l));
		assert_int_equal(l.n, 0);
		assert_ok(rs_kv_scan(fx->db, &fx->run2, NULL, &more,
				     rs_t_list_cb, &l));
		assert_int_equal(l.n, 0);
		assert_false(more);
	}
}

/* In a read-write transaction a rejected scan records no range: a
 * concurrent insert then does not make the commit conflict. */
static void api__rejected_txn_scan_changes_nothing(void **state)
{
	rs_fx *fx = *state;
	bad_opts bad[10];
	size_t nbad = bad_options(bad);
	int calls = 0;
	bool more = true;
	rs_txn *txn;

	seed(fx);
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	assert_rc(rs_txn_kv_scan(NULL, NULL, &more, never_cb, &calls),
		  RS_EINVAL);
	assert_rc(rs_txn_kv_scan(txn, NULL, &more, NULL, &calls), RS_EINVAL);
	for (size_t i = 0; i < nbad; i++)
		assert_rc(
			rs_txn_kv_scan(txn, &bad[i].o, &more, never_cb, &calls),
			bad[i].rc);
	assert_rc(rs_txn_kv_list(txn, NULL, 1, NULL, 0, 0, &more, never_cb,
				 &calls),
		  RS_EINVAL);
	assert_rc(rs_txn_kv_list(txn, too_long, sizeof(too_long), NULL, 0, 0,
				 &more, never_cb, &calls),
		  RS_ETOOBIG);
	assert_int_equal(calls, 0);
	assert_true(more);
	rs_t_put(fx->db, &fx->run, "bb", "concurrent");
	rs_t_txn_put(txn, "own", "x");
	assert_ok(rs_txn_commit(txn));
}

static void api__cursor_open_rejects_bad_arguments(void **state)
{
	rs_fx *fx = *state;
	rs_cursor *cur = (rs_cursor *)&cur; /* a sentinel: never written */
	rs_cursor *const sentinel = cur;
	rs_run_id nil;
	rs_txn *txn;

	memset(&nil, 0, sizeof(nil));
	assert_rc(rs_kv_cursor_open(NULL, &fx->run, &cur), RS_EINVAL);
	assert_rc(rs_kv_cursor_open(fx->db, NULL, &cur), RS_EINVAL);
	assert_rc(rs_kv_cursor_open(fx->db, &nil, &cur), RS_EINVAL);
	assert_rc(rs_kv_cursor_open(fx->db, &fx->run, NULL), RS_EINVAL);
	assert_rc(rs_txn_kv_cursor_open(NULL, &cur), RS_EINVAL);
	assert_ptr_equal(cur, sentinel);
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	assert_rc(rs_txn_kv_cursor_open(txn, NULL), RS_EINVAL);
	rs_txn_abort(txn);
	rs_cursor_close(NULL); /* a no-op */

	/* A run never written: a cursor on nothing. */
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run2, &cur));
	assert_rc(rs_cursor_first(cur, NULL, 0, NULL, NULL), RS_ENOTFOUND);
	assert_rc(rs_cursor_next(cur, NULL, NULL), RS_ENOTFOUND);
	assert_rc(rs_cursor_prev(cur, NULL, NULL), RS_ENOTFOUND);
	assert_rc(rs_cursor_seek(cur, S("x"), RS_SEEK_LE, NULL, NULL),
		  RS_ENOTFOUND);
	rs_cursor_close(cur);
}

/* Asserts the cursor is on `key` by stepping next then prev. */
static void expect_on(rs_cursor *cur, const char *key, const char *next)
{
	rs_bytes k = { NULL, 0 };

	if (next) {
		assert_ok(rs_cursor_next(cur, &k, NULL));
		assert_int_equal(k.len, strlen(next));
		assert_memory_equal(k.data, next, k.len);
		assert_ok(rs_cursor_prev(cur, &k, NULL));
	} else {
		assert_rc(rs_cursor_next(cur, &k, NULL), RS_ENOTFOUND);
		assert_ok(rs_cursor_prev(cur, &k, NULL));
	}
	assert_int_equal(k.len, strlen(key));
	assert_memory_equal(k.data, key, k.len);
}

static void bad_moves(rs_cursor *cur)
{
	const rs_bytes mark = { "mark", 4 };
	rs_bytes k = mark, v = mark;

	assert_rc(rs_cursor_seek(NULL, S("a"), RS_SEEK_GE, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_seek(cur, NULL, 1, RS_SEEK_GE, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_seek(cur, too_long, sizeof(too_long), RS_SEEK_GE,
				 &k, &v),
		  RS_ETOOBIG);
	assert_rc(rs_cursor_seek(cur, S("a"), (rs_seek)2, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_seek(cur, S("a"), (rs_seek)-1, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_first(NULL, S("a"), &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_first(cur, NULL, 2, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_first(cur, too_long, sizeof(too_long), &k, &v),
		  RS_ETOOBIG);
	assert_rc(rs_cursor_last(NULL, S("a"), &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_last(cur, NULL, 2, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_last(cur, too_long, sizeof(too_long), &k, &v),
		  RS_ETOOBIG);
	assert_rc(rs_cursor_next(NULL, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_prev(NULL, &k, &v), RS_EINVAL);
	assert_ptr_equal(k.data, mark.data);
	assert_ptr_equal(v.data, mark.data);
}

static void api__cursor_rejects_bad_arguments_and_keeps_its_place(void **state)
{
	rs_fx *fx = *state;
	rs_cursor *cur;
	rs_bytes k, v;
	rs_txn *txn;

	seed(fx);
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_seek(cur, S("b"), RS_SEEK_GE, &k, &v));
	bad_moves(cur);
	expect_on(cur, "b", "c");
	/* Inside a prefix, a rejected first/last keeps the prefix too. */
	assert_ok(rs_cursor_first(cur, S("a"), &k, &v));
	bad_moves(cur);
	expect_on(cur, "a", NULL);
	/* NULL outputs are allowed; a NULL key of length 0 is the empty
	 * key; RS_KEY_MAX bytes are fine. */
	assert_ok(rs_cursor_seek(cur, NULL, 0, RS_SEEK_GE, NULL, NULL));
	expect_on(cur, "a", "b");
	assert_rc(rs_cursor_seek(cur, NULL, 0, RS_SEEK_LE, NULL, NULL),
		  RS_ENOTFOUND);
	memset(too_long, 'b', sizeof(too_long));
	assert_ok(rs_cursor_seek(cur, too_long, RS_KEY_MAX, RS_SEEK_LE, &k,
				 NULL));
	assert_memory_equal(k.data, "b", 1);
	assert_rc(rs_cursor_first(cur, too_long, RS_KEY_MAX, NULL, NULL),
		  RS_ENOTFOUND);
	memset(too_long, 0, sizeof(too_long));
	rs_cursor_close(cur);

	/* The same in a read-write transaction, whose read set must not
	 * grow: a concurrent insert after the rejected calls is harmless. */
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	assert_ok(rs_txn_kv_cursor_open(txn, &cur));
	bad_moves(cur);
	rs_t_put(fx->db, &fx->run, "bb", "concurrent");
	rs_t_txn_put(txn, "own", "x");
	assert_ok(rs_txn_commit(txn));
}

/* A cursor of a transaction, closed before its transaction ends: every
 * call on it is RS_EINVAL, and closing again is a no-op. */
static void api__closed_txn_cursor_is_rejected(void **state)
{
	rs_fx *fx = *state;
	const rs_bytes mark = { "mark", 4 };
	rs_bytes k = mark, v = mark;
	rs_cursor *cur, *other;
	rs_txn *txn;

	seed(fx);
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, RS_TXN_F_READONLY));
	assert_ok(rs_txn_kv_cursor_open(txn, &cur));
	assert_ok(rs_txn_kv_cursor_open(txn, &other));
	assert_ok(rs_cursor_first(cur, NULL, 0, &k, &v));
	rs_cursor_close(cur);
	k = v = mark;
	assert_rc(rs_cursor_seek(cur, S("a"), RS_SEEK_GE, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_first(cur, NULL, 0, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_last(cur, NULL, 0, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_next(cur, &k, &v), RS_EINVAL);
	assert_rc(rs_cursor_prev(cur, &k, &v), RS_EINVAL);
	assert_ptr_equal(k.data, mark.data);
	assert_ptr_equal(v.data, mark.data);
	rs_cursor_close(cur);
	/* The other cursor and the transaction are unaffected. */
	assert_ok(rs_cursor_last(other, NULL, 0, &k, &v));
	assert_memory_equal(k.data, "c", 1);
	rs_t_txn_expect(txn, "a", "1");
	assert_ok(rs_txn_commit(txn));
}

static void api__every_code_has_a_message(void **state)
{
	(void)state;
	for (int rc = -1; rc >= -RS__ERROR_COUNT; rc--) {
		const char *m = rs_strerror(rc);

		assert_non_null(m);
		assert_true(strlen(m) > 0);
		assert_string_not_equal(m, "unknown error");
		assert_string_not_equal(rs_errname(rc), "RS_UNKNOWN");
	}
	assert_string_equal(rs_errname(RS_ETOOBIG), "RS_ETOOBIG");
	assert_string_equal(rs_strerror(-RS__ERROR_COUNT - 1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(api__scan_rejects_bad_arguments),
		RS_FX_TEST(api__rejected_txn_scan_changes_nothing),
		RS_FX_TEST(api__cursor_open_rejects_bad_arguments),
		RS_FX_TEST(
			api__cursor_rejects_bad_arguments_and_keeps_its_place),
		RS_FX_TEST(api__closed_txn_cursor_is_rejected),
		RS_FX_TEST(api__every_code_has_a_message),
	};

	return RS_FX_RUN_BOTH("ordered_api", tests);
}
