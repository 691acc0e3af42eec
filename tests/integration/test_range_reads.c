/* SPDX-License-Identifier: MIT */
/*
 * Range read sets (issue 12): what a scan, a listing or a cursor of a
 * read-write transaction walked over joins its read set, and the commit
 * conflicts exactly when another commit created, changed or deleted a key
 * inside it after the snapshot. Each case reads in a fresh run seeded
 * with a few keys, checks what it read, then for each concurrent one-shot
 * write (in a fresh run again) checks the commit's result. Both engines.
 */
#define _POSIX_C_SOURCE 200809L
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) (x), strlen(x)
#define CONFLICT RS_ECONFLICT

/* A concurrent write: 'p' put (create or change), 'd' delete, 'e' an
 * EventLog append, 'c' a StateCell init; then the expected commit rc. */
typedef struct write {
	char op;
	const char *key;
	int expect;
} write;

enum {
	R_SCAN,
	R_LIST,
	R_CURSOR
};

typedef struct rcase {
	const char *name;
	const char *seed; /* keys, space separated; NULL: "b d f h j" */
	int kind;
	/* R_SCAN: bounds ("" is no bound), resume, reverse, limit, more. */
	const char *start, *end, *resume;
	bool reverse;
	size_t limit;
	bool ask_more;
	/* R_LIST: prefix (in start), after (in resume), limit. R_CURSOR:
	 * moves in `start`, e.g. "ge:c next prev last: first:d". */
	const char *reads; /* what the read returned: keys, '-' none */
	write w[10];
} rcase;

static void seed(rs_fx *fx, const rs_run_id *run, const char *keys)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", keys ? keys : "b d f h j");
	for (char *k = strtok_r(buf, " ", &save); k;
	     k = strtok_r(NULL, " ", &save))
		rs_t_put(fx->db, run, k, "v0");
}

typedef struct acc {
	char s[256];
} acc;

static void acc_add(acc *a, const void *k, size_t len)
{
	size_t n = strlen(a->s);

	snprintf(a->s + n, sizeof(a->s) - n, "%s%.*s", n ? "," : "", (int)len,
		 (const char *)k);
}

static int acc_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	(void)value;
	acc_add(ctx, key.data, key.len);
	return 0;
}

static const void *opt(const char *s)
{
	return s && *s ? s : NULL;
}

static size_t optlen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* One cursor move of a script: "next", "prev", "ge:K", "le:K",
 * "first:P", "last:P". */
static int move(rs_cursor *c, const char *m, rs_bytes *k)
{
	const char *arg = strchr(m, ':');
	size_t alen = arg ? strlen(arg + 1) : 0;

	if (arg)
		arg++;
	if (strcmp(m, "next") == 0)
		return rs_cursor_next(c, k, NULL);
	if (strcmp(m, "prev") == 0)
		return rs_cursor_prev(c, k, NULL);
	if (strncmp(m, "ge:", 3) == 0)
		return rs_cursor_seek(c, arg, alen, RS_SEEK_GE, k, NULL);
	if (strncmp(m, "le:", 3) == 0)
		return rs_cursor_seek(c, arg, alen, RS_SEEK_LE, k, NULL);
	if (strncmp(m, "first:", 6) == 0)
		return rs_cursor_first(c, alen ? arg : NULL, alen, k, NULL);
	if (strncmp(m, "last:", 5) == 0)
		return rs_cursor_last(c, alen ? arg : NULL, alen, k, NULL);
	fail_msg("bad move '%s'", m);
	return RS_EINVAL;
}

/* Does the case's read in txn; returns what it read. */
static void do_read(rs_txn *txn, const rcase *rc, acc *a)
{
	rs_scan_options o = RS_SCAN_OPTIONS_INIT;
	bool more = false;

	a->s[0] = '\0';
	switch (rc->kind) {
	case R_SCAN:
		o.start = opt(rc->start);
		o.start_len = optlen(rc->start);
		o.end = opt(rc->end);
		o.end_len = optlen(rc->end);
		o.resume = opt(rc->resume);
		o.resume_len = optlen(rc->resume);
		o.flags = rc->reverse ? RS_SCAN_REVERSE : 0;
		o.limit = rc->limit;
		assert_ok(rs_txn_kv_scan(txn, &o, rc->ask_more ? &more : NULL,
					 acc_cb, a));
		if (rc->ask_more)
			acc_add(a, more ? "+" : ".", 1);
		break;
	case R_LIST:
		assert_ok(rs_txn_kv_list(txn, opt(rc->start), optlen(rc->start),
					 opt(rc->resume), optlen(rc->resume),
					 rc->limit, rc->ask_more ? &more : NULL,
					 acc_cb, a));
		if (rc->ask_more)
			acc_add(a, more ? "+" : ".", 1);
		break;
	default: {
		char buf[256], *save = NULL;
		rs_cursor *c = NULL;

		assert_ok(rs_txn_kv_cursor_open(txn, &c));
		snprintf(buf, sizeof(buf), "%s", rc->start);
		for (char *m = strtok_r(buf, " ", &save); m;
		     m = strtok_r(NULL, " ", &save)) {
			rs_bytes k = { NULL, 0 };
			int r = move(c, m, &k);

			if (r == RS_ENOTFOUND)
				acc_add(a, "-", 1);
			else if (r == 0)
				acc_add(a, k.data, k.len);
			else
				fail_msg("%s: %s", m, rs_errname(r));
		}
		rs_cursor_close(c);
	}
	}
}

static void concurrent(rs_fx *fx, const rs_run_id *run, const write *w)
{
	switch (w->op) {
	case 'p':
		rs_t_put(fx->db, run, w->key, "v1");
		break;
	case 'd': {
		bool existed = false;

		assert_ok(rs_kv_delete(fx->db, run, S(w->key), &existed));
		assert_true(existed); /* a delete that writes nothing is moot */
		break;
	}
	case 'e':
		assert_ok(rs_eventlog_append(fx->db, run, S(w->key), "x", 1,
					     NULL));
		break;
	case 'c':
		assert_ok(rs_statecell_init(fx->db, run, S(w->key), "1", 1,
					    NULL));
		break;
	default:
		fail_msg("bad write op");
	}
}

static void run_case(rs_fx *fx, const rcase *rc)
{
	for (const write *w = rc->w; w->op; w++) {
		rs_run_id run = rs_t_run();
		rs_txn *txn;
		acc a;
		int got;

		seed(fx, &run, rc->seed);
		assert_ok(rs_txn_begin(&txn, fx->db, &run, 0));
		do_read(txn, rc, &a);
		if (strcmp(a.s, rc->reads) != 0)
			fail_msg("%s: read '%s', expected '%s'", rc->name, a.s,
				 rc->reads);
		concurrent(fx, &run, w);
		/* A write of its own, so the commit validates. */
		rs_t_txn_put(txn, "~own", "x");
		got = rs_txn_commit(txn);
		if (got != w->expect)
			fail_msg("%s, then %c '%s': commit %s, expected %s",
				 rc->name, w->op, w->key, rs_errname(got),
				 rs_errname(w->expect));
	}
}

static void run_cases(rs_fx *fx, const rcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_case(fx, &cases[i]);
}

#define RUN_CASES(fx, cases) \
	run_cases((fx), (cases), sizeof(cases) / sizeof((cases)[0]))

/* ---- scans ---- */

static void ranges__bounded_scan_protects_its_range(void **state)
{
	static const rcase cases[] = {
		{ "scan [c, g)",
		  NULL,
		  R_SCAN,
		  "c",
		  "g",
		  NULL,
		  false,
		  0,
		  false,
		  "d,f",
		  { { 'p', "c", CONFLICT }, /* the start is included */
		    { 'p', "e", CONFLICT },
		    { 'p', "fz", CONFLICT },
		    { 'p', "d", CONFLICT }, /* changed */
		    { 'd', "f", CONFLICT },
		    { 'p', "g", 0 }, /* the end is excluded */
		    { 'p', "bz", 0 },
		    { 'p', "h", 0 },
		    { 'd', "b", 0 } } },
		{ "reverse scan [c, g)",
		  NULL,
		  R_SCAN,
		  "c",
		  "g",
		  NULL,
		  true,
		  0,
		  false,
		  "f,d",
		  { { 'p', "c", CONFLICT },
		    { 'p', "e", CONFLICT },
		    { 'd', "d", CONFLICT },
		    { 'p', "g", 0 },
		    { 'p', "a", 0 } } },
		{ "empty scan [k, m)",
		  NULL,
		  R_SCAN,
		  "k",
		  "m",
		  NULL,
		  false,
		  0,
		  true,
		  ".",
		  { { 'p', "l", CONFLICT },
		    { 'p', "k", CONFLICT },
		    { 'p', "m", 0 },
		    { 'p', "jz", 0 } } },
		{ "unbounded scan",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "b,d,f,h,j",
		  { { 'p', "a", CONFLICT },
		    { 'p', "zzz", CONFLICT },
		    { 'd', "h", CONFLICT },
		    /* Other primitives' keys of the run are another tag. */
		    { 'e', "step", 0 },
		    { 'c', "cell", 0 } } },
	};

	RUN_CASES(*state, cases);
}

static void ranges__limited_scan_protects_what_it_read(void **state)
{
	static const rcase cases[] = {
		{ "scan limit 2",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  NULL,
		  false,
		  2,
		  false,
		  "b,d",
		  { { 'p', "a", CONFLICT },
		    { 'p', "c", CONFLICT },
		    { 'p', "d", CONFLICT },
		    { 'p', "dd", 0 }, /* past the last entry read */
		    { 'p', "f", 0 },
		    { 'p', "zz", 0 } } },
		{ "scan limit 2, more_out",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  NULL,
		  false,
		  2,
		  true,
		  "b,d,+",
		  { { 'p', "dd", CONFLICT }, /* up to the peeked entry */
		    { 'p', "f", CONFLICT },
		    { 'd', "f", CONFLICT },
		    { 'p', "ff", 0 },
		    { 'p', "h", 0 } } },
		{ "reverse scan limit 2",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  NULL,
		  true,
		  2,
		  false,
		  "j,h",
		  { { 'p', "z", CONFLICT },
		    { 'p', "i", CONFLICT },
		    { 'p', "h", CONFLICT },
		    { 'p', "gz", 0 },
		    { 'd', "f", 0 } } },
		{ "reverse scan limit 2, more_out",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  NULL,
		  true,
		  2,
		  true,
		  "j,h,+",
		  { { 'p', "gz", CONFLICT },
		    { 'p', "f", CONFLICT },
		    { 'p', "e", 0 } } },
		{ "scan to the end with more_out",
		  NULL,
		  R_SCAN,
		  "e",
		  NULL,
		  NULL,
		  false,
		  3,
		  true,
		  "f,h,j,.",
		  { { 'p', "zz", CONFLICT }, { 'p', "dz", 0 } } },
		{ "scan resumed after d, limit 1",
		  NULL,
		  R_SCAN,
		  NULL,
		  NULL,
		  "d",
		  false,
		  1,
		  false,
		  "f",
		  { { 'p', "e", CONFLICT },
		    { 'p', "f", CONFLICT },
		    { 'p', "d", 0 }, /* the resume key is excluded */
		    { 'p', "c", 0 },
		    { 'p', "ff", 0 } } },
	};

	RUN_CASES(*state, cases);
}

/* The callback stopped the scan: what it was passed is protected. */
static void ranges__scan_stopped_by_callback(void **state)
{
	rs_fx *fx = *state;
	static const write ws[] = { { 'p', "a", CONFLICT },
				    { 'p', "b", CONFLICT },
				    { 'p', "c", 0 },
				    { 'p', "d", 0 } };

	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		rs_run_id run = rs_t_run();
		rs_t_list l = { 0 };
		rs_txn *txn;

		seed(fx, &run, NULL);
		assert_ok(rs_txn_begin(&txn, fx->db, &run, 0));
		l.stop_after = 1;
		assert_rc(rs_txn_kv_scan(txn, NULL, NULL, rs_t_list_cb, &l),
			  77);
		assert_string_equal(l.keys[0], "b");
		concurrent(fx, &run, &ws[i]);
		rs_t_txn_put(txn, "~own", "x");
		assert_rc(rs_txn_commit(txn), ws[i].expect);
	}
}

/* ---- listings ---- */

static void ranges__listing_protects_its_page(void **state)
{
	static const rcase cases[] = {
		{ "list d limit 2",
		  "b d d1 d2 d3 f",
		  R_LIST,
		  "d",
		  NULL,
		  NULL,
		  false,
		  2,
		  false,
		  "d,d1",
		  { { 'p', "d0", CONFLICT },
		    { 'p', "d", CONFLICT },
		    { 'p', "d1a", 0 },
		    { 'p', "d2", 0 },
		    { 'p', "c", 0 } } },
		{ "list d after d1",
		  "b d d1 d2 d3 f",
		  R_LIST,
		  "d",
		  NULL,
		  "d1",
		  false,
		  0,
		  true,
		  "d2,d3,.",
		  { { 'p', "d9", CONFLICT }, /* to the prefix's end */
		    { 'p', "d\xff", CONFLICT },
		    { 'p', "d1a", CONFLICT },
		    { 'p', "d1", 0 },
		    { 'p', "d", 0 },
		    { 'p', "e", 0 },
		    { 'd', "f", 0 } } },
	};

	RUN_CASES(*state, cases);
}

/* ---- cursors ---- */

static void ranges__cursor_protects_what_it_walked(void **state)
{
	static const rcase cases[] = {
		{ "seek GE c, next",
		  NULL,
		  R_CURSOR,
		  "ge:c next",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "d,f",
		  { { 'p', "c", CONFLICT }, /* the seek's position */
		    { 'p', "e", CONFLICT },
		    { 'p', "f", CONFLICT },
		    { 'p', "ff", 0 },
		    { 'p', "bz", 0 } } },
		{ "seek GE c, next, prev",
		  NULL,
		  R_CURSOR,
		  "ge:c next prev",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "d,f,d",
		  { { 'p', "ee", CONFLICT }, { 'p', "fa", 0 } } },
		{ "seek GE c1",
		  NULL,
		  R_CURSOR,
		  "ge:c1",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "d",
		  { { 'p', "c2", CONFLICT },
		    { 'p', "c1", CONFLICT },
		    { 'p', "c0", 0 },
		    { 'p', "da", 0 } } },
		{ "seek LE g, prev",
		  NULL,
		  R_CURSOR,
		  "le:g prev",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "f,d",
		  { { 'p', "g", CONFLICT },
		    { 'p', "e", CONFLICT },
		    { 'p', "cz", 0 },
		    { 'p', "gz", 0 } } },
		{ "last, prev",
		  NULL,
		  R_CURSOR,
		  "last: prev",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "j,h",
		  { { 'p', "z", CONFLICT },
		    { 'p', "i", CONFLICT },
		    { 'p', "gz", 0 } } },
		{ "seek GE i, next off the end",
		  NULL,
		  R_CURSOR,
		  "ge:i next",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "j,-",
		  { { 'p', "zz", CONFLICT }, { 'p', "hz", 0 } } },
		{ "first in prefix f, next off the prefix",
		  "b d f fa h",
		  R_CURSOR,
		  "first:f next next",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "f,fa,-",
		  { { 'p', "fz", CONFLICT },
		    { 'p', "f", CONFLICT },
		    { 'p', "g", 0 },
		    { 'p', "ez", 0 } } },
		{ "two seeks: both intervals",
		  NULL,
		  R_CURSOR,
		  "ge:a ge:i",
		  NULL,
		  NULL,
		  false,
		  0,
		  false,
		  "b,j",
		  { { 'p', "a", CONFLICT },
		    { 'p', "ia", CONFLICT },
		    { 'p', "c", 0 },
		    { 'p', "h", 0 } } },
	};

	RUN_CASES(*state, cases);
}

/* ---- what never conflicts ---- */

static void ranges__own_writes_and_readonly_never_conflict(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };
	rs_txn *txn;

	seed(fx, &fx->run, NULL);
	/* The transaction's own staged writes inside the range. */
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	rs_t_txn_put(txn, "e", "mine");
	assert_ok(rs_txn_kv_delete(txn, S("f"), NULL));
	assert_ok(rs_txn_kv_scan(txn, NULL, NULL, rs_t_list_cb, &l));
	assert_int_equal(l.n, 5);
	assert_string_equal(l.keys[2], "e");
	assert_ok(rs_txn_commit(txn));
	rs_t_expect(fx->db, &fx->run, "e", "mine");

	/* A read-only transaction's scans are not validated. */
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, RS_TXN_F_READONLY));
	memset(&l, 0, sizeof(l));
	assert_ok(rs_txn_kv_scan(txn, NULL, NULL, rs_t_list_cb, &l));
	rs_t_put(fx->db, &fx->run, "c", "new");
	assert_ok(rs_txn_commit(txn));
}

/* A tombstone inside the range, deleted before the snapshot and kept by
 * an older one, is no change; a key created and deleted again after the
 * snapshot is. */
static void ranges__tombstones_in_range(void **state)
{
	rs_fx *fx = *state;
	rs_t_list l = { 0 };
	rs_txn *old, *txn;

	seed(fx, &fx->run, NULL);
	assert_ok(rs_txn_begin(&old, fx->db, &fx->run, RS_TXN_F_READONLY));
	rs_t_del(fx->db, &fx->run, "d");
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	assert_ok(rs_txn_kv_scan(txn, NULL, NULL, rs_t_list_cb, &l));
	assert_int_equal(l.n, 4);
	rs_t_txn_put(txn, "~own", "x");
	assert_ok(rs_txn_commit(txn));

	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	memset(&l, 0, sizeof(l));
	assert_ok(rs_txn_kv_scan(txn, NULL, NULL, rs_t_list_cb, &l));
	rs_t_put(fx->db, &fx->run, "e", "brief");
	rs_t_del(fx->db, &fx->run, "e");
	rs_t_txn_put(txn, "~own", "y");
	assert_rc(rs_txn_commit(txn), RS_ECONFLICT);
	rs_t_txn_expect(old, "d", "v0");
	rs_txn_abort(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(ranges__bounded_scan_protects_its_range),
		RS_FX_TEST(ranges__limited_scan_protects_what_it_read),
		RS_FX_TEST(ranges__scan_stopped_by_callback),
		RS_FX_TEST(ranges__listing_protects_its_page),
		RS_FX_TEST(ranges__cursor_protects_what_it_walked),
		RS_FX_TEST(ranges__own_writes_and_readonly_never_conflict),
		RS_FX_TEST(ranges__tombstones_in_range),
	};

	return RS_FX_RUN_BOTH("ranges", tests);
}
