/* SPDX-License-Identifier: MIT */
/*
 * Range read sets (issue 12): what a scan, a listing or a cursor of a
 * read-write transaction walked over joins its read set, and the commit
 * conflicts exactly when another commit created, changed or deleted a key
 * inside it after the snapshot. Each case reads in a fresh run seeded
 * with a few keys, checks what it read, then for each concurrent one-shot
 * write (in a fresh run again) checks the commit's result. Both engines.
 *
 * A case is four strings. The read, as words: "scan" with "start=K",
 * "end=K", "resume=K", "reverse", "limit=N", "more" (ask more_out);
 * "list" with "prefix=P", "after=K", "limit=N", "more"; or "cursor" and
 * its moves: "ge:K", "le:K", "first:P", "last:P", "next", "prev". What it
 * returned: keys joined by ',', '-' for a move that found nothing, and
 * '+' or '.' for more_out. The concurrent writes, each in its own run:
 * 'p' put (create or change), 'd' delete, 'e' an EventLog append, 'c' a
 * StateCell init, then the key; a leading '!' expects RS_ECONFLICT.
 */
#define _POSIX_C_SOURCE 200809L
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) (x), strlen(x)

typedef struct rcase {
	const char *name;
	const char *seed; /* keys, space separated; NULL: "b d f h j" */
	const char *read;
	const char *reads;
	const char *writes;
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
	size_t n, stop; /* entries; stop > 0: the callback stops there */
} acc;

static void acc_add(acc *a, const void *k, size_t len)
{
	size_t n = strlen(a->s);

	snprintf(a->s + n, sizeof(a->s) - n, "%s%.*s", n ? "," : "", (int)len,
		 (const char *)k);
}

static int acc_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	acc *a = ctx;

	(void)value;
	acc_add(a, key.data, key.len);
	return ++a->n == a->stop ? 77 : 0;
}

/* The value of "name=value" in words, or NULL. */
static const char *word(const char *w, const char *name)
{
	size_t n = strlen(name);

	return strncmp(w, name, n) == 0 && w[n] == '=' ? w + n + 1 : NULL;
}

/* One cursor move: "next", "prev", "ge:K", "le:K", "first:P",
 * "last:P". */
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

static void read_cursor(rs_txn *txn, char *moves, acc *a)
{
	rs_cursor *c = NULL;
	char *save = NULL;

	assert_ok(rs_txn_kv_cursor_open(txn, &c));
	for (char *m = strtok_r(moves, " ", &save); m;
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

/* Does the case's read in txn; `a` gets what it returned. */
static void do_read(rs_txn *txn, const char *spec, acc *a)
{
	rs_scan_options o = RS_SCAN_OPTIONS_INIT;
	const char *prefix = NULL, *v;
	char buf[256], *save = NULL, *w;
	bool ask = false, more = false;
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(buf, sizeof(buf), "%s", spec);
	w = strtok_r(buf, " ", &save);
	if (strcmp(w, "cursor") == 0) {
		read_cursor(txn, save, a);
		return;
	}
	for (char *x = strtok_r(NULL, " ", &save); x;
	     x = strtok_r(NULL, " ", &save)) {
		if ((v = word(x, "start")) || (v = word(x, "prefix")))
			o.start = prefix = v, o.start_len = strlen(v);
		else if ((v = word(x, "end")))
			o.end = v, o.end_len = strlen(v);
		else if ((v = word(x, "resume")) || (v = word(x, "after")))
			o.resume = v, o.resume_len = strlen(v);
		else if ((v = word(x, "limit")))
			o.limit = strtoul(v, NULL, 10);
		else if ((v = word(x, "stop")))
			a->stop = strtoul(v, NULL, 10);
		else if (strcmp(x, "reverse") == 0)
			o.flags = RS_SCAN_REVERSE;
		else if (strcmp(x, "more") == 0)
			ask = true;
		else
			fail_msg("bad read word '%s'", x);
	}
	if (strcmp(w, "list") == 0)
		rc = rs_txn_kv_list(txn, prefix, prefix ? strlen(prefix) : 0,
				    o.resume, o.resume_len, o.limit,
				    ask ? &more : NULL, acc_cb, a);
	else
		rc = rs_txn_kv_scan(txn, &o, ask ? &more : NULL, acc_cb, a);
	assert_rc(rc, a->stop ? 77 : 0);
	if (ask)
		acc_add(a, more ? "+" : ".", 1);
}

/* One concurrent write, "<op><key>" (see the top of the file). */
static void concurrent(rs_fx *fx, const rs_run_id *run, const char *w)
{
	const char *key = w + 1;
	bool existed = false;

	switch (w[0]) {
	case 'p':
		rs_t_put(fx->db, run, key, "v1");
		break;
	case 'd':
		assert_ok(rs_kv_delete(fx->db, run, S(key), &existed));
		assert_true(existed); /* a delete that writes nothing is moot */
		break;
	case 'e':
		assert_ok(
			rs_eventlog_append(fx->db, run, S(key), "x", 1, NULL));
		break;
	case 'c':
		assert_ok(rs_statecell_init(fx->db, run, S(key), "1", 1, NULL));
		break;
	default:
		fail_msg("bad write '%s'", w);
	}
}

static void run_case(rs_fx *fx, const rcase *rc)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", rc->writes);
	for (char *w = strtok_r(buf, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		int expect = *w == '!' ? RS_ECONFLICT : 0;
		rs_run_id run = rs_t_run();
		rs_txn *txn;
		acc a;
		int got;

		w += *w == '!';
		seed(fx, &run, rc->seed);
		assert_ok(rs_txn_begin(&txn, fx->db, &run, 0));
		do_read(txn, rc->read, &a);
		if (strcmp(a.s, rc->reads) != 0)
			fail_msg("%s: read '%s', expected '%s'", rc->name, a.s,
				 rc->reads);
		concurrent(fx, &run, w);
		/* A write of its own, so the commit validates. */
		rs_t_txn_put(txn, "~own", "x");
		got = rs_txn_commit(txn);
		if (got != expect)
			fail_msg("%s, then %s: commit %s, expected %s",
				 rc->name, w, rs_errname(got),
				 rs_errname(expect));
	}
}

/*
 * The cases, by group. Scans: the start is included, the end excluded;
 * changes and deletes count; other primitives' keys of the run are
 * another tag. Limits: up to the last entry passed, or the one peeked at
 * for more_out; a resume key itself is outside. Listings: the page, to
 * the prefix's end when the page reached it. Cursors: from the seek's
 * position to the last entry reached (the bound, off an end); each seek
 * adds its own interval.
 */
enum {
	G_SCAN,
	G_LIMIT,
	G_LIST,
	G_CURSOR
};

static const struct {
	int group;
	rcase c;
} cases[] = {
	{ G_SCAN,
	  { "scan [c, g)", NULL, "scan start=c end=g", "d,f",
	    "!pc !pe !pfz !pd !df pg pbz ph db" } },
	{ G_SCAN,
	  { "reverse scan [c, g)", NULL, "scan start=c end=g reverse", "f,d",
	    "!pc !pe !dd pg pa" } },
	{ G_SCAN,
	  { "empty scan [k, m)", NULL, "scan start=k end=m more", ".",
	    "!pl !pk pm pjz" } },
	{ G_SCAN,
	  { "unbounded scan", NULL, "scan", "b,d,f,h,j",
	    "!pa !pzzz !dh estep ccell" } },
	{ G_LIMIT,
	  { "scan limit 2", NULL, "scan limit=2", "b,d",
	    "!pa !pc !pd pdd pf pzz" } },
	{ G_LIMIT,
	  { "scan limit 2, more", NULL, "scan limit=2 more", "b,d,+",
	    "!pdd !pf !df pff ph" } },
	{ G_LIMIT,
	  { "reverse scan limit 2", NULL, "scan reverse limit=2", "j,h",
	    "!pz !pi !ph pgz df" } },
	{ G_LIMIT,
	  { "reverse scan limit 2, more", NULL, "scan reverse limit=2 more",
	    "j,h,+", "!pgz !pf pe" } },
	{ G_LIMIT,
	  { "scan to the end, more", NULL, "scan start=e limit=3 more",
	    "f,h,j,.", "!pzz pdz" } },
	{ G_LIMIT,
	  { "scan resumed after d", NULL, "scan resume=d limit=1", "f",
	    "!pe !pf pd pc pff" } },
	{ G_LIMIT,
	  { "reverse scan resumed before h", NULL,
	    "scan reverse resume=h limit=1", "f", "!pg !pf ph pe" } },
	{ G_LIMIT,
	  { "scan stopped by its callback", NULL, "scan stop=1", "b",
	    "!pa !pb pc pd" } },
	{ G_LIST,
	  { "list d limit 2", "b d d1 d2 d3 f", "list prefix=d limit=2", "d,d1",
	    "!pd0 !pd pd1a pd2 pc" } },
	{ G_LIST,
	  { "list d after d1", "b d d1 d2 d3 f", "list prefix=d after=d1 more",
	    "d2,d3,.", "!pd9 !pd\xff !pd1a pd1 pd pe df" } },
	{ G_CURSOR,
	  { "seek GE c, next", NULL, "cursor ge:c next", "d,f",
	    "!pc !pe !pf pff pbz" } },
	{ G_CURSOR,
	  { "seek GE c, next, prev", NULL, "cursor ge:c next prev", "d,f,d",
	    "!pee pfa" } },
	{ G_CURSOR,
	  { "seek GE c1", NULL, "cursor ge:c1", "d", "!pc2 !pc1 pc0 pda" } },
	{ G_CURSOR,
	  { "seek LE g, prev", NULL, "cursor le:g prev", "f,d",
	    "!pg !pe pcz pgz" } },
	{ G_CURSOR,
	  { "last, prev", NULL, "cursor last: prev", "j,h", "!pz !pi pgz" } },
	{ G_CURSOR,
	  { "seek GE i, off the end", NULL, "cursor ge:i next", "j,-",
	    "!pzz phz" } },
	{ G_CURSOR,
	  { "first in f, off the prefix", "b d f fa h",
	    "cursor first:f next next", "f,fa,-", "!pfz !pf pg pez" } },
	{ G_CURSOR,
	  { "two seeks", NULL, "cursor ge:a ge:i", "b,j", "!pa !pia pc ph" } },
};

static void run_group(void **state, int group)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].group == group)
			run_case(*state, &cases[i].c);
}

static void ranges__bounded_scan_protects_its_range(void **state)
{
	run_group(state, G_SCAN);
}

static void ranges__limited_scan_protects_what_it_read(void **state)
{
	run_group(state, G_LIMIT);
}

static void ranges__listing_protects_its_page(void **state)
{
	run_group(state, G_LIST);
}

static void ranges__cursor_protects_what_it_walked(void **state)
{
	run_group(state, G_CURSOR);
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
		RS_FX_TEST(ranges__listing_protects_its_page),
		RS_FX_TEST(ranges__cursor_protects_what_it_walked),
		RS_FX_TEST(ranges__own_writes_and_readonly_never_conflict),
		RS_FX_TEST(ranges__tombstones_in_range),
	};

	return RS_FX_RUN_BOTH("ranges", tests);
}
