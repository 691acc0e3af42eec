/* SPDX-License-Identifier: MIT */
/*
 * Transaction semantics (runstate.h, DESIGN.md 1.2-1.3), run against both
 * storage engines through the rs_fx fixture.
 */
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) (x), strlen(x)

static rs_txn *begin(rs_fx *fx, uint32_t flags)
{
	rs_txn *t = NULL;

	assert_ok(rs_txn_begin(&t, fx->db, &fx->run, flags));
	assert_non_null(t);
	return t;
}

/* ---- read your writes, isolation ---- */

static void txn__read_your_writes(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;
	bool ex = false;

	rs_t_put(fx->db, &fx->run, "old", "o1");
	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", NULL);
	rs_t_txn_put(t, "k", "v1");
	rs_t_txn_expect(t, "k", "v1");
	rs_t_txn_put(t, "k", "v2"); /* put over put */
	rs_t_txn_expect(t, "k", "v2");
	assert_ok(rs_txn_kv_exists(t, S("k"), &ex));
	assert_true(ex);
	assert_ok(rs_txn_kv_delete(t, S("k"), &ex));
	assert_true(ex);
	rs_t_txn_expect(t, "k", NULL);
	assert_ok(rs_txn_kv_exists(t, S("k"), &ex));
	assert_false(ex);
	rs_t_txn_put(t, "k", "v3"); /* put after delete */
	rs_t_txn_expect(t, "k", "v3");
	assert_ok(rs_txn_kv_delete(t, S("old"), &ex));
	assert_true(ex);
	rs_t_txn_expect(t, "old", NULL);
	/* Empty value: present, length 0. */
	assert_ok(rs_txn_kv_put(t, S("e"), NULL, 0));
	{
		rs_bytes v = { NULL, 99 };
		assert_ok(rs_txn_kv_get(t, S("e"), &v));
		assert_non_null(v.data);
		assert_int_equal(v.len, 0);
	}
	assert_ok(rs_txn_commit(t));
	rs_t_expect(fx->db, &fx->run, "k", "v3");
	rs_t_expect(fx->db, &fx->run, "old", NULL);
	rs_t_expect(fx->db, &fx->run, "e", "");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 2);
}

static void txn__uncommitted_writes_are_invisible(void **state)
{
	rs_fx *fx = *state;
	rs_txn *w, *r_before, *r_after;
	rs_t_list l = { 0 };
	bool ex = true;

	rs_t_put(fx->db, &fx->run, "gone", "g");
	r_before = begin(fx, RS_TXN_F_READONLY);
	w = begin(fx, 0);
	rs_t_txn_put(w, "new", "n");
	assert_ok(rs_txn_kv_delete(w, S("gone"), NULL));
	r_after = begin(fx, 0);

	/* Other transactions, before and after the staging. */
	rs_t_txn_expect(r_before, "new", NULL);
	rs_t_txn_expect(r_before, "gone", "g");
	rs_t_txn_expect(r_after, "new", NULL);
	rs_t_txn_expect(r_after, "gone", "g");
	/* One-shot reads. */
	rs_t_expect(fx->db, &fx->run, "new", NULL);
	rs_t_expect(fx->db, &fx->run, "gone", "g");
	assert_ok(rs_kv_exists(fx->db, &fx->run, S("new"), &ex));
	assert_false(ex);
	assert_ok(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.keys[0], "gone");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 1);

	assert_ok(rs_txn_commit(w));
	rs_t_expect(fx->db, &fx->run, "new", "n");
	rs_t_expect(fx->db, &fx->run, "gone", NULL);
	/* Still their snapshots. */
	rs_t_txn_expect(r_before, "new", NULL);
	rs_t_txn_expect(r_before, "gone", "g");
	rs_t_txn_expect(r_after, "new", NULL);
	rs_txn_abort(r_after);
	assert_ok(rs_txn_commit(r_before));
}

/* ---- OCC ---- */

static void txn__first_committer_wins(void **state)
{
	rs_fx *fx = *state;
	rs_txn *a, *b;

	rs_t_put(fx->db, &fx->run, "k", "0");
	a = begin(fx, 0);
	b = begin(fx, 0);
	rs_t_txn_expect(a, "k", "0");
	rs_t_txn_expect(b, "k", "0");
	rs_t_txn_put(a, "k", "a");
	rs_t_txn_put(b, "k", "b");
	rs_t_txn_put(b, "b-only", "x");
	assert_ok(rs_txn_commit(a));
	assert_rc(rs_txn_commit(b), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "k", "a");
	rs_t_expect(fx->db, &fx->run, "b-only", NULL);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 2);
}

static void txn__blind_writes_never_conflict(void **state)
{
	rs_fx *fx = *state;
	rs_txn *a, *b;

	rs_t_put(fx->db, &fx->run, "k", "0");
	a = begin(fx, 0);
	b = begin(fx, 0);
	rs_t_txn_put(a, "k", "a");
	rs_t_txn_put(b, "k", "b");
	rs_t_txn_put(a, "a-only", "1");
	rs_t_put(fx->db, &fx->run, "k", "oneshot");
	assert_ok(rs_txn_commit(a));
	rs_t_expect(fx->db, &fx->run, "k", "a");
	assert_ok(rs_txn_commit(b));
	rs_t_expect(fx->db, &fx->run, "k", "b"); /* last writer wins */
	rs_t_expect(fx->db, &fx->run, "a-only", "1");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 4);
}

static void txn__read_absent_then_created_conflicts(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t, *u;
	bool ex = true;

	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", NULL);
	rs_t_txn_put(t, "other", "x");
	rs_t_put(fx->db, &fx->run, "k", "created");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "other", NULL);

	/* Same through exists(). */
	u = begin(fx, 0);
	assert_ok(rs_txn_kv_exists(u, S("k2"), &ex));
	assert_false(ex);
	rs_t_txn_put(u, "other", "y");
	rs_t_put(fx->db, &fx->run, "k2", "created");
	assert_rc(rs_txn_commit(u), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "other", NULL);
}

static void txn__aba_delete_recreate_same_value_conflicts(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "k", "same");
	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", "same");
	rs_t_txn_put(t, "out", "1");
	rs_t_del(fx->db, &fx->run, "k");
	rs_t_put(fx->db, &fx->run, "k", "same");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "out", NULL);
	rs_t_expect(fx->db, &fx->run, "k", "same");

	/* Overwrite with the same value also counts as a change. */
	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", "same");
	rs_t_txn_put(t, "out", "2");
	rs_t_put(fx->db, &fx->run, "k", "same");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "out", NULL);
}

static void txn__aba_absent_create_delete_conflicts(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;

	/* Read absent; another creates and deletes it: absent again, but
	 * it changed. */
	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", NULL);
	rs_t_txn_put(t, "out", "1");
	rs_t_put(fx->db, &fx->run, "k", "v");
	rs_t_del(fx->db, &fx->run, "k");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "out", NULL);

	/* A key deleted before the snapshot, recreated and deleted after. */
	rs_t_put(fx->db, &fx->run, "j", "v");
	rs_t_del(fx->db, &fx->run, "j");
	t = begin(fx, 0);
	rs_t_txn_expect(t, "j", NULL);
	rs_t_txn_put(t, "out", "2");
	rs_t_put(fx->db, &fx->run, "j", "v");
	rs_t_del(fx->db, &fx->run, "j");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "out", NULL);
}

static void txn__delete_in_txn_conflicts_when_key_changed(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;
	bool ex = false;

	rs_t_put(fx->db, &fx->run, "k", "v");
	t = begin(fx, 0);
	assert_ok(rs_txn_kv_delete(t, S("k"), &ex)); /* joins the read set */
	assert_true(ex);
	rs_t_del(fx->db, &fx->run, "k");
	rs_t_put(fx->db, &fx->run, "k", "v2");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "k", "v2");
}

static void txn__readonly_never_conflicts(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };
	rs_txn *ro, *wf;
	uint64_t v0;

	rs_t_put(fx->db, &fx->run, "a", "1");
	rs_t_put(fx->db, &fx->run, "b", "1");
	ro = begin(fx, RS_TXN_F_READONLY);
	wf = begin(fx, 0); /* read-write but write-free */
	for (int i = 0; i < 2; i++) {
		rs_txn *t = i ? wf : ro;
		rs_t_txn_expect(t, "a", "1");
		rs_t_txn_expect(t, "b", "1");
		rs_t_txn_expect(t, "c", NULL);
		assert_ok(rs_txn_kv_list(t, NULL, 0, NULL, 0, 0, NULL,
					 rs_t_list_cb, &l));
	}
	rs_t_put(fx->db, &fx->run, "a", "2");
	rs_t_del(fx->db, &fx->run, "b");
	rs_t_put(fx->db, &fx->run, "c", "3");
	v0 = rs_t_version(fx->db, &fx->run);
	assert_ok(rs_txn_commit(ro));
	assert_ok(rs_txn_commit(wf));
	assert_int_equal(rs_t_version(fx->db, &fx->run), v0);
}

static void txn__readonly_write_is_ereadonly(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "k", "v");
	t = begin(fx, RS_TXN_F_READONLY);
	assert_rc(rs_txn_kv_put(t, S("k"), S("w")), RS_EREADONLY);
	assert_rc(rs_txn_kv_put(t, S("n"), S("w")), RS_EREADONLY);
	assert_rc(rs_txn_kv_delete(t, S("k"), NULL), RS_EREADONLY);
	rs_t_txn_expect(t, "k", "v");
	rs_t_txn_expect(t, "n", NULL);
	assert_ok(rs_txn_commit(t));
	rs_t_expect(fx->db, &fx->run, "k", "v");
	rs_t_expect(fx->db, &fx->run, "n", NULL);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 1);
}

static void txn__repeatable_reads_across_commits(void **state)
{
	rs_fx *fx = *state;
	static const rs_bytes keys[] = {
		{ "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 }
	};
	rs_bytes vals[4];
	rs_txn *t, *ro;
	uint64_t sv = 0, sv2 = 0;
	char v[16];

	rs_t_put(fx->db, &fx->run, "a", "a0");
	rs_t_put(fx->db, &fx->run, "b", "b0");
	rs_t_put(fx->db, &fx->run, "d", "d0");
	t = begin(fx, 0);
	ro = begin(fx, RS_TXN_F_READONLY);
	assert_ok(rs_txn_snapshot_version(t, &sv));
	assert_int_equal(sv, 3);
	/* Read some keys before the changes, others only after. */
	rs_t_txn_expect(t, "a", "a0");
	rs_t_txn_expect(ro, "b", "b0");
	for (int i = 0; i < 40; i++) {
		snprintf(v, sizeof(v), "a%d", i + 1);
		rs_t_put(fx->db, &fx->run, "a", v); /* overwritten */
		rs_t_del(fx->db, &fx->run, "b");    /* deleted ... */
		rs_t_put(fx->db, &fx->run, "b", v); /* ... and re-created */
		rs_t_put(fx->db, &fx->run, "c", v); /* created */
		rs_t_del(fx->db, &fx->run, "c");
		rs_t_put(fx->db, &fx->run, "c", v);
		if (i % 2 == 0)
			rs_t_del(fx->db, &fx->run, "d");
		else
			rs_t_put(fx->db, &fx->run, "d", v);
		for (int j = 0; j < 2; j++) {
			rs_txn *x = j ? ro : t;
			rs_t_txn_expect(x, "a", "a0");
			rs_t_txn_expect(x, "b", "b0");
			rs_t_txn_expect(x, "c", NULL);
			rs_t_txn_expect(x, "d", "d0");
			assert_ok(rs_txn_kv_get_many(x, 4, keys, vals));
			assert_memory_equal(vals[0].data, "a0", 2);
			assert_memory_equal(vals[1].data, "b0", 2);
			assert_null(vals[2].data);
			assert_memory_equal(vals[3].data, "d0", 2);
		}
	}
	assert_ok(rs_txn_snapshot_version(t, &sv2));
	assert_int_equal(sv2, sv);
	{
		rs_t_list l = { 0 };
		assert_ok(rs_txn_kv_list(ro, NULL, 0, NULL, 0, 0, NULL,
					 rs_t_list_cb, &l));
		assert_int_equal(l.n, 3);
		assert_string_equal(l.vals[0], "a0");
		assert_string_equal(l.vals[1], "b0");
		assert_string_equal(l.vals[2], "d0");
	}
	/* A new snapshot sees the newest state. */
	rs_t_expect(fx->db, &fx->run, "a", "a40");
	rs_t_expect(fx->db, &fx->run, "d", "a40");
	{
		rs_bytes mv[4];
		char buf[64];
		size_t need = 0;
		assert_ok(rs_kv_get_many(fx->db, &fx->run, 4, keys, mv, buf,
					 sizeof(buf), &need));
		assert_int_equal(need, 4 * 3);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(mv[i].len, 3);
			assert_memory_equal(mv[i].data, "a40", 3);
		}
	}
	rs_txn_abort(t);
	assert_ok(rs_txn_commit(ro));
}

/* ---- rs_txn_run ---- */

struct force_ctx {
	rs_db *db;
	const rs_run_id *run;
	int calls;
	int force_until; /* force a conflict on attempts 1..force_until */
	int ret;	 /* returned instead of 0 when nonzero */
};

static long txn_get_long(rs_txn *t, const char *k)
{
	rs_bytes v;
	char buf[32];
	int rc = rs_txn_kv_get(t, S(k), &v);

	if (rc == RS_ENOTFOUND)
		return 0;
	assert_ok(rc);
	assert_true(v.len < sizeof(buf));
	memcpy(buf, v.data, v.len);
	buf[v.len] = '\0';
	return strtol(buf, NULL, 10);
}

static void txn_put_long(rs_txn *t, const char *k, long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", n);
	rs_t_txn_put(t, k, buf);
}

static int incr_forcing_conflict(rs_txn *txn, void *arg)
{
	struct force_ctx *c = arg;
	long n = txn_get_long(txn, "ctr");

	c->calls++;
	if (c->calls <= c->force_until) {
		char buf[32];
		/* Another commit changes what we read: our commit must fail. */
		snprintf(buf, sizeof(buf), "%ld", n + 100);
		assert_ok(rs_kv_put(c->db, c->run, S("ctr"), S(buf)));
	}
	txn_put_long(txn, "ctr", n + 1);
	txn_put_long(txn, "attempt", c->calls);
	return c->ret;
}

static void txn__run_retries_on_conflict(void **state)
{
	rs_fx *fx = *state;
	struct force_ctx c = { fx->db, &fx->run, 0, 1, 0 };

	assert_ok(
		rs_txn_run(fx->db, &fx->run, 0, 0, incr_forcing_conflict, &c));
	assert_int_equal(c.calls, 2);
	rs_t_expect(fx->db, &fx->run, "ctr", "101");
	rs_t_expect(fx->db, &fx->run, "attempt", "2");
	/* The forced one-shot put and the successful commit. */
	assert_int_equal(rs_t_version(fx->db, &fx->run), 2);

	/* No conflict: runs once. */
	c.calls = 0;
	c.force_until = 0;
	assert_ok(
		rs_txn_run(fx->db, &fx->run, 0, 1, incr_forcing_conflict, &c));
	assert_int_equal(c.calls, 1);
	rs_t_expect(fx->db, &fx->run, "ctr", "102");
}

static void txn__run_returns_callback_error_unchanged_and_aborts(void **state)
{
	rs_fx *fx = *state;
	static const int rets[] = { 1234, -9999, RS_ENOTFOUND, RS_EINVAL };

	for (size_t i = 0; i < sizeof(rets) / sizeof(rets[0]); i++) {
		struct force_ctx c = { fx->db, &fx->run, 0, 0, rets[i] };

		assert_rc(rs_txn_run(fx->db, &fx->run, 0, 0,
				     incr_forcing_conflict, &c),
			  rets[i]);
		assert_int_equal(c.calls, 1);
		rs_t_expect(fx->db, &fx->run, "ctr", NULL);
		rs_t_expect(fx->db, &fx->run, "attempt", NULL);
	}
	assert_int_equal(rs_t_version(fx->db, &fx->run), 0);
}

static void txn__run_max_attempts_exhausted_is_econflict(void **state)
{
	rs_fx *fx = *state;
	struct force_ctx c = { fx->db, &fx->run, 0, 1000, 0 };

	assert_rc(rs_txn_run(fx->db, &fx->run, 0, 3, incr_forcing_conflict, &c),
		  RS_ECONFLICT);
	assert_int_equal(c.calls, 3);
	rs_t_expect(fx->db, &fx->run, "attempt", NULL);
	/* Only the forced puts landed: 0+100, 100+100, 200+100. */
	rs_t_expect(fx->db, &fx->run, "ctr", "300");

	/* 0 means RS_TXN_RUN_DEFAULT_ATTEMPTS. */
	c.calls = 0;
	assert_rc(rs_txn_run(fx->db, &fx->run, 0, 0, incr_forcing_conflict, &c),
		  RS_ECONFLICT);
	assert_int_equal(c.calls, RS_TXN_RUN_DEFAULT_ATTEMPTS);
	rs_t_expect(fx->db, &fx->run, "attempt", NULL);

	/* A callback returning RS_ECONFLICT itself is retried too. */
	c.calls = 0;
	c.force_until = 0;
	c.ret = RS_ECONFLICT;
	assert_rc(rs_txn_run(fx->db, &fx->run, 0, 4, incr_forcing_conflict, &c),
		  RS_ECONFLICT);
	assert_int_equal(c.calls, 4);
	rs_t_expect(fx->db, &fx->run, "attempt", NULL);
}

static int readonly_body(rs_txn *txn, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return rs_txn_kv_put(txn, S("k"), S("v")) == RS_EREADONLY ? 0 : -1;
}

static void txn__run_readonly_flag_is_honoured(void **state)
{
	rs_fx *fx = *state;
	int calls = 0;

	assert_ok(rs_txn_run(fx->db, &fx->run, RS_TXN_F_READONLY, 0,
			     readonly_body, &calls));
	assert_int_equal(calls, 1);
	rs_t_expect(fx->db, &fx->run, "k", NULL);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 0);
}

/* ---- listing ---- */

static void txn__list_is_sorted_bytewise(void **state)
{
	rs_fx *fx = *state;
	/* Expected order, bytewise with shorter-is-smaller. */
	static const struct {
		const char *k;
		size_t len;
	} want[] = { { "\x00", 1 },    { "\x00\x00", 2 }, { "A", 1 },
		     { "a", 1 },       { "a\x00", 2 },	  { "a\x01", 2 },
		     { "aa", 2 },      { "ab", 2 },	  { "b", 1 },
		     { "\x7f", 1 },    { "\x80", 1 },	  { "\xff", 1 },
		     { "\xff\xff", 2 } };
	enum {
		N = sizeof(want) / sizeof(want[0])
	};
	rs_t_list l = { 0 };
	uint64_t seed = 7;
	size_t order[N];

	/* Insert in a shuffled order. */
	for (size_t i = 0; i < N; i++)
		order[i] = i;
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = rs_t_rand(&seed) % (i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (size_t i = 0; i < N; i++)
		assert_ok(rs_kv_put(fx->db, &fx->run, want[order[i]].k,
				    want[order[i]].len, "v", 1));
	for (int pass = 0; pass < 2; pass++) {
		memset(&l, 0, sizeof(l));
		if (pass == 0) {
			assert_ok(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0,
					     0, NULL, rs_t_list_cb, &l));
		} else {
			rs_txn *t = begin(fx, 0);
			assert_ok(rs_txn_kv_list(t, "", 0, NULL, 0, 0, NULL,
						 rs_t_list_cb, &l));
			rs_txn_abort(t);
		}
		assert_int_equal(l.n, N);
		for (size_t i = 0; i < N; i++)
			assert_memory_equal(l.keys[i], want[i].k,
					    want[i].len + 1);
	}
}

static void fill_numbered(rs_fx *fx, const char *prefix, int n)
{
	char k[32], v[32];

	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s%02d", prefix, i);
		snprintf(v, sizeof(v), "v%d", i);
		rs_t_put(fx->db, &fx->run, k, v);
	}
}

/* Page through a listing; checks every key appears once, in order. */
static void page_through(rs_fx *fx, rs_txn *t, const char *prefix, size_t limit,
			 size_t total, const char *first_key)
{
	char cursor[64] = "";
	size_t cursor_len = 0, seen = 0, pages = 0;
	bool more = true;

	while (more) {
		rs_t_list l = { 0 };
		int rc;

		more = false;
		if (t)
			rc = rs_txn_kv_list(t, prefix, strlen(prefix),
					    cursor_len ? cursor : NULL,
					    cursor_len, limit, &more,
					    rs_t_list_cb, &l);
		else
			rc = rs_kv_list(fx->db, &fx->run, prefix,
					strlen(prefix),
					cursor_len ? cursor : NULL, cursor_len,
					limit, &more, rs_t_list_cb, &l);
		assert_ok(rc);
		pages++;
		assert_true(l.n <= limit);
		if (more)
			assert_int_equal(l.n, limit);
		for (size_t i = 0; i < l.n; i++) {
			if (seen == 0 && first_key)
				assert_string_equal(l.keys[0], first_key);
			if (cursor_len)
				assert_true(strcmp(l.keys[i], cursor) > 0);
			assert_true(strncmp(l.keys[i], prefix,
					    strlen(prefix)) == 0);
			strcpy(cursor, l.keys[i]);
			cursor_len = strlen(cursor);
			seen++;
		}
		assert_true(pages <= total + 1);
	}
	assert_int_equal(seen, total);
	assert_int_equal(pages, (total + limit - 1) / limit + (total == 0));
}

static void txn__list_paginates_with_cursor_limit_and_more(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };
	bool more = true;
	rs_txn *t;

	fill_numbered(fx, "p", 25);
	fill_numbered(fx, "q", 3);
	page_through(fx, NULL, "p", 10, 25, "p00");
	page_through(fx, NULL, "p", 5, 25, "p00");
	page_through(fx, NULL, "p", 1, 25, "p00");
	page_through(fx, NULL, "p", 25, 25, "p00");
	page_through(fx, NULL, "", 7, 28, "p00");
	t = begin(fx, RS_TXN_F_READONLY);
	page_through(fx, t, "p", 10, 25, "p00");
	page_through(fx, t, "q", 2, 3, "q00");
	rs_txn_abort(t);

	/* limit 0: everything, no more. */
	assert_ok(rs_kv_list(fx->db, &fx->run, "p", 1, NULL, 0, 0, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 25);
	assert_false(more);
	/* Exact fit: limit == matches, no more. */
	memset(&l, 0, sizeof(l));
	more = true;
	assert_ok(rs_kv_list(fx->db, &fx->run, "q", 1, NULL, 0, 3, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 3);
	assert_false(more);
	/* A cursor that is not a key: starts after where it would sort. */
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &fx->run, "p", 1, "p105", 4, 3, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[0], "p11");
	assert_true(more);
	/* A cursor past the end. */
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &fx->run, "p", 1, "p99", 3, 3, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 0);
	assert_false(more);
	/* No matches at all. */
	assert_ok(rs_kv_list(fx->db, &fx->run, "zz", 2, NULL, 0, 3, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 0);
	assert_false(more);
	/* Unknown run: empty. */
	assert_ok(rs_kv_list(fx->db, &fx->run2, NULL, 0, NULL, 0, 0, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 0);
}

static void txn__list_prefix_filters_and_callback_stops(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };

	rs_t_put(fx->db, &fx->run, "user:1", "a");
	rs_t_put(fx->db, &fx->run, "user:2", "b");
	rs_t_put(fx->db, &fx->run, "user", "c");
	rs_t_put(fx->db, &fx->run, "usez", "d");
	rs_t_put(fx->db, &fx->run2, "user:3", "other run");
	assert_ok(rs_kv_list(fx->db, &fx->run, "user:", 5, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "user:1");
	assert_string_equal(l.vals[0], "a");
	assert_string_equal(l.keys[1], "user:2");
	assert_string_equal(l.vals[1], "b");
	/* A prefix equal to a whole key includes it. */
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &fx->run, "user", 4, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[0], "user");
	/* The callback's nonzero return stops the listing, unchanged. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_rc(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l),
		  77);
	assert_int_equal(l.n, 2);
}

static void txn__list_merges_staged_puts_and_deletes(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };
	bool more = false;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "a", "a0");
	rs_t_put(fx->db, &fx->run, "b", "b0");
	rs_t_put(fx->db, &fx->run, "c", "c0");
	rs_t_put(fx->db, &fx->run, "x", "x0");
	t = begin(fx, 0);
	assert_ok(rs_txn_kv_delete(t, S("a"), NULL));
	rs_t_txn_put(t, "b", "b1");
	rs_t_txn_put(t, "bb", "new");
	rs_t_txn_put(t, "0", "zero");
	rs_t_txn_put(t, "tmp", "t");
	assert_ok(rs_txn_kv_delete(t, S("tmp"), NULL)); /* staged, undone */
	assert_ok(rs_txn_kv_list(t, NULL, 0, NULL, 0, 0, &more, rs_t_list_cb,
				 &l));
	assert_int_equal(l.n, 5);
	assert_false(more);
	assert_string_equal(l.keys[0], "0");
	assert_string_equal(l.vals[0], "zero");
	assert_string_equal(l.keys[1], "b");
	assert_string_equal(l.vals[1], "b1");
	assert_string_equal(l.keys[2], "bb");
	assert_string_equal(l.keys[3], "c");
	assert_string_equal(l.keys[4], "x");
	/* Paged, with a prefix, over the merged view. */
	memset(&l, 0, sizeof(l));
	assert_ok(
		rs_txn_kv_list(t, "b", 1, NULL, 0, 1, &more, rs_t_list_cb, &l));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.vals[0], "b1");
	assert_true(more);
	memset(&l, 0, sizeof(l));
	assert_ok(
		rs_txn_kv_list(t, "b", 1, "b", 1, 1, &more, rs_t_list_cb, &l));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.keys[0], "bb");
	assert_false(more);
	/* Others still see the committed state. */
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 4);
	assert_string_equal(l.keys[0], "a");
	assert_ok(rs_txn_commit(t));
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 5);
	assert_string_equal(l.keys[0], "0");
	assert_string_equal(l.vals[1], "b1");
}

/* Lists prefix "p" (one page of size `limit`), writes, lets `other` run,
 * and returns the commit's result. */
static int list_then_commit(rs_fx *fx, size_t limit, void (*other)(rs_fx *fx))
{
	rs_t_list l = { 0 };
	rs_txn *t = begin(fx, 0);

	assert_ok(rs_txn_kv_list(t, "p", 1, NULL, 0, limit, NULL, rs_t_list_cb,
				 &l));
	rs_t_txn_put(t, "summary", "s");
	other(fx);
	return rs_txn_commit(t);
}

static void create_p9(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "p9", "x");
}
static void change_p1(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "p1", "y");
}
static void delete_p2(rs_fx *fx)
{
	rs_t_del(fx->db, &fx->run, "p2");
}
static void create_q9(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "q9", "x");
}
static void create_o(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run, "o", "x");
}
static void delete_absent_p7(rs_fx *fx)
{
	bool ex = true;
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("p7"), &ex));
	assert_false(ex);
}
static void other_run_p5(rs_fx *fx)
{
	rs_t_put(fx->db, &fx->run2, "p5", "x");
}

static void txn__list_prefix_phantom_conflicts(void **state)
{
	rs_fx *fx = *state;

	rs_t_put(fx->db, &fx->run, "p1", "a");
	rs_t_put(fx->db, &fx->run, "p2", "b");
	rs_t_put(fx->db, &fx->run, "p3", "c");
	assert_rc(list_then_commit(fx, 0, create_p9), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "summary", NULL);
	/* A page protects what it read ("p" up to "p1"), not the rest of
	 * the prefix. */
	assert_ok(list_then_commit(fx, 1, create_p9));
	assert_rc(list_then_commit(fx, 1, change_p1), RS_ECONFLICT);
	assert_ok(list_then_commit(fx, 1, delete_p2));
	rs_t_put(fx->db, &fx->run, "p2", "b");
	rs_t_del(fx->db, &fx->run, "summary");
	assert_rc(list_then_commit(fx, 0, delete_p2), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "summary", NULL);
	/* Outside the prefix, in another run, or no write at all: fine. */
	assert_ok(list_then_commit(fx, 0, create_q9));
	assert_ok(list_then_commit(fx, 0, create_o));
	assert_ok(list_then_commit(fx, 0, other_run_p5));
	assert_ok(list_then_commit(fx, 0, delete_absent_p7));
	rs_t_expect(fx->db, &fx->run, "summary", "s");
}

/* ---- KV details ---- */

static void kv__delete_reports_existed(void **state)
{
	rs_fx *fx = *state;
	bool ex;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "k", "v");
	ex = false;
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("k"), &ex));
	assert_true(ex);
	ex = true;
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("k"), &ex));
	assert_false(ex);
	ex = true;
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("never"), &ex));
	assert_false(ex);
	ex = true;
	assert_ok(rs_kv_delete(fx->db, &fx->run2, S("never"), &ex));
	assert_false(ex);
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("k"), NULL));
	rs_t_expect(fx->db, &fx->run, "k", NULL);

	rs_t_put(fx->db, &fx->run, "k", "v");
	t = begin(fx, 0);
	ex = false;
	assert_ok(rs_txn_kv_delete(t, S("k"), &ex));
	assert_true(ex);
	ex = true;
	assert_ok(rs_txn_kv_delete(t, S("k"), &ex)); /* already deleted here */
	assert_false(ex);
	ex = true;
	assert_ok(rs_txn_kv_delete(t, S("absent"), &ex));
	assert_false(ex);
	rs_t_txn_put(t, "staged", "s");
	ex = false;
	assert_ok(rs_txn_kv_delete(t, S("staged"), &ex));
	assert_true(ex);
	assert_ok(rs_txn_commit(t));
	rs_t_expect(fx->db, &fx->run, "k", NULL);
	rs_t_expect(fx->db, &fx->run, "staged", NULL);
	rs_t_expect(fx->db, &fx->run, "absent", NULL);
}

static void kv__get_many_absent_empty_and_enospc(void **state)
{
	rs_fx *fx = *state;
	const rs_bytes keys[] = {
		{ "p", 1 }, { "absent", 6 }, { "e", 1 }, { "q", 1 }, { "p", 1 }
	};
	enum {
		N = sizeof(keys) / sizeof(keys[0])
	};
	rs_bytes vals[N];
	unsigned char buf[64];
	size_t need = 0;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "p", "hello");
	assert_ok(rs_kv_put(fx->db, &fx->run, S("e"), NULL, 0));
	rs_t_put(fx->db, &fx->run, "q", "world!");

	memset(vals, 0xee, sizeof(vals));
	assert_ok(rs_kv_get_many(fx->db, &fx->run, N, keys, vals, buf,
				 sizeof(buf), &need));
	assert_int_equal(need, 5 + 6 + 5);
	assert_int_equal(vals[0].len, 5);
	assert_memory_equal(vals[0].data, "hello", 5);
	assert_true((const unsigned char *)vals[0].data >= buf &&
		    (const unsigned char *)vals[0].data < buf + sizeof(buf));
	assert_null(vals[1].data);
	assert_int_equal(vals[1].len, 0);
	assert_non_null(vals[2].data); /* present, empty */
	assert_int_equal(vals[2].len, 0);
	assert_memory_equal(vals[3].data, "world!", 6);
	assert_memory_equal(vals[4].data, "hello", 5);

	/* Exactly enough. */
	assert_ok(rs_kv_get_many(fx->db, &fx->run, N, keys, vals, buf, 16,
				 &need));
	assert_int_equal(need, 16);
	/* One byte short, and no buffer at all. */
	need = 0;
	assert_rc(
		rs_kv_get_many(fx->db, &fx->run, N, keys, vals, buf, 15, &need),
		RS_ENOSPC);
	assert_int_equal(need, 16);
	need = 0;
	assert_rc(
		rs_kv_get_many(fx->db, &fx->run, N, keys, vals, NULL, 0, &need),
		RS_ENOSPC);
	assert_int_equal(need, 16);
	/* Only absent and empty values: no buffer needed. */
	need = 99;
	assert_ok(rs_kv_get_many(fx->db, &fx->run, 2, keys + 1, vals, NULL, 0,
				 &need));
	assert_int_equal(need, 0);
	assert_null(vals[0].data);
	assert_non_null(vals[1].data);
	assert_int_equal(vals[1].len, 0);
	/* n == 0. */
	assert_ok(rs_kv_get_many(fx->db, &fx->run, 0, NULL, NULL, NULL, 0,
				 &need));
	assert_int_equal(need, 0);
	/* Unknown run: everything absent. */
	assert_ok(rs_kv_get_many(fx->db, &fx->run2, N, keys, vals, NULL, 0,
				 NULL));
	for (int i = 0; i < N; i++)
		assert_null(vals[i].data);

	/* In a transaction. */
	t = begin(fx, 0);
	rs_t_txn_put(t, "absent", "staged");
	assert_ok(rs_txn_kv_get_many(t, N, keys, vals));
	assert_memory_equal(vals[0].data, "hello", 5);
	assert_int_equal(vals[1].len, 6);
	assert_memory_equal(vals[1].data, "staged", 6);
	assert_non_null(vals[2].data);
	assert_int_equal(vals[2].len, 0);
	assert_memory_equal(vals[3].data, "world!", 6);
	rs_txn_abort(t);
}

static void kv__get_into_small_buffer_is_enospc(void **state)
{
	rs_fx *fx = *state;
	char buf[8];
	size_t len = 0;
	bool ex = false;

	rs_t_put(fx->db, &fx->run, "k", "0123456789");
	memset(buf, '#', sizeof(buf));
	assert_rc(rs_kv_get(fx->db, &fx->run, S("k"), buf, sizeof(buf), &len),
		  RS_ENOSPC);
	assert_int_equal(len, 10);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '#');
	len = 0;
	assert_rc(rs_kv_get(fx->db, &fx->run, S("k"), NULL, 0, &len),
		  RS_ENOSPC);
	assert_int_equal(len, 10);
	assert_rc(rs_kv_get(fx->db, &fx->run, S("k"), NULL, 0, NULL),
		  RS_ENOSPC);
	/* Empty value: fits anywhere. */
	assert_ok(rs_kv_put(fx->db, &fx->run, S("e"), "ignored", 0));
	len = 99;
	assert_ok(rs_kv_get(fx->db, &fx->run, S("e"), NULL, 0, &len));
	assert_int_equal(len, 0);
	assert_ok(rs_kv_exists(fx->db, &fx->run, S("e"), &ex));
	assert_true(ex);
	assert_rc(
		rs_kv_get(fx->db, &fx->run, S("nope"), buf, sizeof(buf), &len),
		RS_ENOTFOUND);
}

static void kv__runs_are_isolated(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;

	rs_t_put(fx->db, &fx->run, "k", "run1");
	rs_t_put(fx->db, &fx->run2, "k", "run2");
	rs_t_expect(fx->db, &fx->run, "k", "run1");
	rs_t_expect(fx->db, &fx->run2, "k", "run2");
	rs_t_del(fx->db, &fx->run, "k");
	rs_t_expect(fx->db, &fx->run2, "k", "run2");
	/* A transaction reads only its run; other runs' commits never
	 * conflict with it. */
	t = begin(fx, 0);
	rs_t_txn_expect(t, "k", NULL);
	rs_t_txn_put(t, "k", "again");
	rs_t_put(fx->db, &fx->run2, "k", "run2b");
	assert_ok(rs_txn_commit(t));
	rs_t_expect(fx->db, &fx->run, "k", "again");
	rs_t_expect(fx->db, &fx->run2, "k", "run2b");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 3);
	assert_int_equal(rs_t_version(fx->db, &fx->run2), 2);
}

static void db__run_version_counts_write_commits(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;
	uint64_t sv = 99;
	bool ex;

	assert_int_equal(rs_t_version(fx->db, &fx->run), 0);
	t = begin(fx, 0);
	assert_ok(rs_txn_snapshot_version(t, &sv));
	assert_int_equal(sv, 0);
	rs_txn_abort(t);

	rs_t_put(fx->db, &fx->run, "a", "1");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 1);
	t = begin(fx, 0); /* several writes: one version */
	rs_t_txn_put(t, "a", "2");
	rs_t_txn_put(t, "b", "2");
	rs_t_txn_put(t, "c", "2");
	assert_ok(rs_txn_commit(t));
	assert_int_equal(rs_t_version(fx->db, &fx->run), 2);
	t = begin(fx, RS_TXN_F_READONLY);
	rs_t_txn_expect(t, "a", "2");
	assert_ok(rs_txn_commit(t));
	t = begin(fx, 0); /* write-free */
	rs_t_txn_expect(t, "a", "2");
	assert_ok(rs_txn_commit(t));
	t = begin(fx, 0); /* aborted */
	rs_t_txn_put(t, "a", "3");
	rs_txn_abort(t);
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("absent"), &ex));
	assert_false(ex);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 2);
	rs_t_expect(fx->db, &fx->run, "a", "2");
	assert_ok(rs_kv_delete(fx->db, &fx->run, S("a"), &ex));
	assert_true(ex);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 3);
	/* A conflicted commit applies nothing. */
	t = begin(fx, 0);
	rs_t_txn_expect(t, "b", "2");
	rs_t_txn_put(t, "b", "x");
	rs_t_put(fx->db, &fx->run, "b", "y");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	assert_int_equal(rs_t_version(fx->db, &fx->run), 4);
	t = begin(fx, 0);
	assert_ok(rs_txn_snapshot_version(t, &sv));
	assert_int_equal(sv, 4);
	rs_txn_abort(t);
	assert_int_equal(rs_t_version(fx->db, &fx->run2), 0);
}

static void txn__many_keys_in_one_transaction(void **state)
{
	rs_fx *fx = *state;
	enum {
		N = 3000
	};
	char k[32], v[32];
	rs_txn *t = begin(fx, 0);

	/* Large read and write sets (hash-indexed past a few entries). */
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%05d", i);
		snprintf(v, sizeof(v), "val%d", i);
		rs_t_txn_expect(t, k, NULL);
		rs_t_txn_put(t, k, v);
	}
	for (int i = 0; i < N; i += 7) {
		snprintf(k, sizeof(k), "key%05d", i);
		snprintf(v, sizeof(v), "val%d", i);
		rs_t_txn_expect(t, k, v);
	}
	assert_ok(rs_txn_commit(t));
	for (int i = 0; i < N; i += 13) {
		snprintf(k, sizeof(k), "key%05d", i);
		snprintf(v, sizeof(v), "val%d", i);
		rs_t_expect(fx->db, &fx->run, k, v);
	}
	/* A conflict found among many reads. */
	t = begin(fx, 0);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%05d", i);
		assert_ok(rs_txn_kv_get(t, S(k), &(rs_bytes){ 0 }));
	}
	rs_t_txn_put(t, "sum", "1");
	rs_t_put(fx->db, &fx->run, "key02999", "changed");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &fx->run, "sum", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(txn__read_your_writes),
		RS_FX_TEST(txn__uncommitted_writes_are_invisible),
		RS_FX_TEST(txn__first_committer_wins),
		RS_FX_TEST(txn__blind_writes_never_conflict),
		RS_FX_TEST(txn__read_absent_then_created_conflicts),
		RS_FX_TEST(txn__aba_delete_recreate_same_value_conflicts),
		RS_FX_TEST(txn__aba_absent_create_delete_conflicts),
		RS_FX_TEST(txn__delete_in_txn_conflicts_when_key_changed),
		RS_FX_TEST(txn__readonly_never_conflicts),
		RS_FX_TEST(txn__readonly_write_is_ereadonly),
		RS_FX_TEST(txn__repeatable_reads_across_commits),
		RS_FX_TEST(txn__run_retries_on_conflict),
		RS_FX_TEST(
			txn__run_returns_callback_error_unchanged_and_aborts),
		RS_FX_TEST(txn__run_max_attempts_exhausted_is_econflict),
		RS_FX_TEST(txn__run_readonly_flag_is_honoured),
		RS_FX_TEST(txn__list_is_sorted_bytewise),
		RS_FX_TEST(txn__list_paginates_with_cursor_limit_and_more),
		RS_FX_TEST(txn__list_prefix_filters_and_callback_stops),
		RS_FX_TEST(txn__list_merges_staged_puts_and_deletes),
		RS_FX_TEST(txn__list_prefix_phantom_conflicts),
		RS_FX_TEST(txn__many_keys_in_one_transaction),
		RS_FX_TEST(kv__delete_reports_existed),
		RS_FX_TEST(kv__get_many_absent_empty_and_enospc),
		RS_FX_TEST(kv__get_into_small_buffer_is_enospc),
		RS_FX_TEST(kv__runs_are_isolated),
		RS_FX_TEST(db__run_version_counts_write_commits),
	};

	return RS_FX_RUN_BOTH("txn", tests);
}
