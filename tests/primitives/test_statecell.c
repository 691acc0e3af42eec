/* SPDX-License-Identifier: MIT */
/* StateCell semantics, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <stdlib.h>

static void cell_init(fx *f, const char *name, const char *val,
		      uint64_t want_version)
{
	uint64_t v = 0;

	assert_int_equal(rs_statecell_init(f->db, &f->run, name, strlen(name),
					   val, strlen(val), &v),
			 0);
	assert_int_equal(v, want_version);
}

static void expect_cell(fx *f, const char *name, const char *val,
			uint64_t version)
{
	char buf[64];
	size_t len = 0;
	uint64_t v = 0;

	assert_int_equal(rs_statecell_read(f->db, &f->run, name, strlen(name),
					   buf, sizeof(buf), &len, &v),
			 0);
	assert_int_equal(len, strlen(val));
	assert_memory_equal(buf, val, len);
	assert_int_equal(v, version);
}

static void statecell__versions_start_at_1_and_rise(void **state)
{
	fx *f = *state;
	uint64_t v = 0;

	cell_init(f, "plan", "draft", 1);
	expect_cell(f, "plan", "draft", 1);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("plan"), S("v2"), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("plan"), NULL, 0, &v), 0);
	assert_int_equal(v, 3);
	expect_cell(f, "plan", "", 3);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("plan"), 3, S("final"), &v),
		0);
	assert_int_equal(v, 4);
	expect_cell(f, "plan", "final", 4);
	/* Other names and other runs are separate. */
	cell_init(f, "other", "x", 1);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("plan"), S("y"), NULL), 0);
	expect_cell(f, "plan", "y", 5);
}

static void statecell__init_existing_is_eexist(void **state)
{
	fx *f = *state;
	uint64_t v = 77;

	cell_init(f, "c", "a", 1);
	assert_int_equal(rs_statecell_init(f->db, &f->run, S("c"), S("b"), &v),
			 RS_EEXIST);
	assert_int_equal(v, 77);
	expect_cell(f, "c", "a", 1);
}

static void statecell__missing_cell_errors(void **state)
{
	fx *f = *state;
	char buf[8];
	size_t len = 5;
	bool existed = true;

	assert_int_equal(rs_statecell_read(f->db, &f->run, S("nope"), buf,
					   sizeof(buf), &len, NULL),
			 RS_ENOTFOUND);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("nope"), S("x"), NULL),
		RS_ENOTFOUND);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("nope"), 0, S("x"), NULL),
		RS_ENOTFOUND);
	assert_int_equal(
		rs_statecell_delete(f->db, &f->run, S("nope"), &existed), 0);
	assert_false(existed);
	/* None of that created the cell. */
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("nope"), NULL, 0,
					   NULL, NULL),
			 RS_ENOTFOUND);
}

static void statecell__cas_mismatch_changes_nothing(void **state)
{
	fx *f = *state;
	uint64_t v = 9;

	cell_init(f, "c", "a", 1);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("c"), 2, S("b"), &v),
		RS_EMISMATCH);
	assert_int_equal(v, 9);
	expect_cell(f, "c", "a", 1);
}

static void statecell__stale_cas_fails_after_aba(void **state)
{
	fx *f = *state;
	uint64_t seen;
	char buf[4];

	cell_init(f, "c", "A", 1);
	assert_int_equal(
		rs_statecell_read(f->db, &f->run, S("c"), buf, 4, NULL, &seen),
		0);
	assert_int_equal(rs_statecell_set(f->db, &f->run, S("c"), S("B"), NULL),
			 0);
	assert_int_equal(rs_statecell_set(f->db, &f->run, S("c"), S("A"), NULL),
			 0);
	/* Same value as when it was read, but the version moved on. */
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("c"), seen, S("Z"), NULL),
		RS_EMISMATCH);
	expect_cell(f, "c", "A", 3);
}

static void statecell__stale_cas_fails_across_delete_reinit(void **state)
{
	fx *f = *state;
	bool existed = false;
	uint64_t v;

	cell_init(f, "c", "A", 1);
	assert_int_equal(rs_statecell_set(f->db, &f->run, S("c"), S("B"), NULL),
			 0);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, S("c"), &existed),
			 0);
	assert_true(existed);
	assert_int_equal(
		rs_statecell_read(f->db, &f->run, S("c"), NULL, 0, NULL, NULL),
		RS_ENOTFOUND);
	/* Re-init continues past the deleted cell's version. */
	cell_init(f, "c", "A", 3);
	for (v = 1; v <= 2; v++)
		assert_int_equal(rs_statecell_cas(f->db, &f->run, S("c"), v,
						  S("Z"), NULL),
				 RS_EMISMATCH);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, S("c"), NULL), 0);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, S("c"), &existed),
			 0);
	assert_false(existed);
	cell_init(f, "c", "A", 4);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("c"), 3, S("Z"), NULL),
		RS_EMISMATCH);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("c"), 4, S("Z"), &v), 0);
	assert_int_equal(v, 5);
}

struct tr {
	int calls;
	uint64_t seen_version;
	char seen[16];
	char next[16];
	int ret;
	bool write;
};

static int transition_fn(rs_bytes value, uint64_t version, rs_bytes *nv,
			 void *ctx)
{
	struct tr *t = ctx;

	t->calls++;
	t->seen_version = version;
	memcpy(t->seen, value.data, value.len);
	t->seen[value.len] = '\0';
	if (t->ret)
		return t->ret;
	if (t->write) {
		nv->data = t->next;
		nv->len = strlen(t->next);
	}
	return 0;
}

static void statecell__transition_applies_fn(void **state)
{
	fx *f = *state;
	struct tr t = { 0 };
	uint64_t v = 0;

	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0, &v,
						 transition_fn, &t),
			 RS_ENOTFOUND);
	assert_int_equal(t.calls, 0);
	cell_init(f, "c", "one", 1);
	strcpy(t.next, "two");
	t.write = true;
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0, &v,
						 transition_fn, &t),
			 0);
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.seen_version, 1);
	assert_string_equal(t.seen, "one");
	assert_int_equal(v, 2);
	expect_cell(f, "c", "two", 2);
	/* Writing nothing leaves the cell as it is. */
	t.write = false;
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 1, &v,
						 transition_fn, &t),
			 0);
	assert_int_equal(v, 2);
	expect_cell(f, "c", "two", 2);
	/* The callback's own result comes back unchanged, nothing written. */
	t.ret = 1234;
	t.write = true;
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0, &v,
						 transition_fn, &t),
			 1234);
	expect_cell(f, "c", "two", 2);
}

struct listed {
	char names[8][16];
	uint64_t versions[8];
	size_t n;
};

static int list_cb(rs_bytes name, rs_bytes value, uint64_t version, void *ctx)
{
	struct listed *l = ctx;

	(void)value;
	memcpy(l->names[l->n], name.data, name.len);
	l->names[l->n][name.len] = '\0';
	l->versions[l->n++] = version;
	return 0;
}

static void statecell__list_pages_sorted(void **state)
{
	fx *f = *state;
	struct listed l = { 0 };
	bool more = false;

	cell_init(f, "b.two", "x", 1);
	cell_init(f, "a", "x", 1);
	cell_init(f, "b.one", "x", 1);
	cell_init(f, "c", "x", 1);
	cell_init(f, "gone", "x", 1);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, S("gone"), NULL),
			 0);
	assert_int_equal(rs_statecell_set(f->db, &f->run, S("c"), S("y"), NULL),
			 0);
	/* A KV key with the same bytes is not a cell. */
	assert_int_equal(rs_kv_put(f->db, &f->run, S("\x01z"), S("kv")), 0);

	assert_int_equal(rs_statecell_list(f->db, &f->run, NULL, 0, NULL, 0, 2,
					   &more, list_cb, &l),
			 0);
	assert_true(more);
	assert_int_equal(rs_statecell_list(f->db, &f->run, NULL, 0, S("b.one"),
					   0, &more, list_cb, &l),
			 0);
	assert_false(more);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.names[0], "a");
	assert_string_equal(l.names[1], "b.one");
	assert_string_equal(l.names[2], "b.two");
	assert_string_equal(l.names[3], "c");
	assert_int_equal(l.versions[3], 2);
	l.n = 0;
	assert_int_equal(rs_statecell_list(f->db, &f->run, S("b."), NULL, 0, 0,
					   &more, list_cb, &l),
			 0);
	assert_int_equal(l.n, 2);
}

/* ---- range scans ---- */

/* Names sharing prefixes, with a 0x00 byte, multi-byte UTF-8 and
 * control characters; kept sorted bytewise below. */
static const rs_bytes pool[] = {
	{ "a", 1 },
	{ "a\0b", 3 },
	{ "a.b", 3 },
	{ "a.c", 3 },
	{ "ab", 2 },
	{ "b", 1 },
	{ "b\x7f", 2 },
	{ "\x01", 1 },
	{ "z", 1 },
	{ "zz", 2 },
	{ "\xc3\xa9", 2 },
	{ "\xe2\x82\xac", 3 },
	{ "\xf0\x9f\x98\x80", 4 },
};
#define NPOOL (sizeof(pool) / sizeof(pool[0]))

/* Range ends: every name, and some that are not names. */
static const rs_bytes ends[] = {
	{ "", 0 },  { "a.", 2 },   { "a\0", 2 }, { "b", 1 },
	{ "y", 1 }, { "\xff", 1 }, { "zzz", 3 },
};
#define NENDS (sizeof(ends) / sizeof(ends[0]))

static int bytes_cmp(rs_bytes a, rs_bytes b)
{
	int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);

	return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int pool_cmp(const void *a, const void *b)
{
	return bytes_cmp(**(const rs_bytes *const *)a,
			 **(const rs_bytes *const *)b);
}

/* The cells of a model, by pool index: the version (0: absent) and the
 * version floor a deleted name continues from. */
struct cells {
	uint64_t version[NPOOL];
	uint64_t floor[NPOOL];
};

struct scanned {
	size_t idx[NPOOL * 2];
	uint64_t version[NPOOL * 2];
	size_t n;
};

static int scanned_cb(rs_bytes name, rs_bytes value, uint64_t version,
		      void *ctx)
{
	struct scanned *sc = ctx;
	size_t i = 0;

	while (i < NPOOL && bytes_cmp(pool[i], name) != 0)
		i++;
	assert_true(i < NPOOL);
	assert_int_equal(value.len, 8);
	assert_memory_equal(value.data, &version, 8);
	assert_true(sc->n < NPOOL * 2);
	sc->idx[sc->n] = i;
	sc->version[sc->n++] = version;
	return 0;
}

static int count_cb(rs_bytes name, rs_bytes value, uint64_t version, void *ctx)
{
	(void)name;
	(void)value;
	(void)version;
	(*(size_t *)ctx)++;
	return 0;
}

/* A one-shot scan counting the cells into *n. */
static int scan_count(fx *f, const rs_scan_options *o, size_t *n)
{
	return rs_statecell_scan(f->db, &f->run, o, NULL, count_cb, n);
}

static uint64_t rnd(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

static const rs_bytes *pick_end(uint64_t *x)
{
	size_t k = (size_t)(rnd(x) % (NPOOL + NENDS + 3));

	if (k < NPOOL)
		return &pool[k];
	return k < NPOOL + NENDS ? &ends[k - NPOOL] : NULL;
}

/*
 * A random scan, paged through with resume until more_out is false,
 * against the model: the cells in [start, end), in the scan's order.
 * txn NULL: one-shot.
 */
static void check_scan(fx *f, rs_txn *txn, const struct cells *m,
		       const size_t *order, uint64_t *x)
{
	rs_scan_options o = RS_SCAN_OPTIONS_INIT;
	const rs_bytes *start = pick_end(x), *end = pick_end(x);
	struct scanned sc = { .n = 0 };
	size_t limit = (size_t)(rnd(x) % 5), k = 0;
	bool more = true, reverse = rnd(x) % 2;

	o.flags = reverse ? RS_SCAN_REVERSE : 0;
	o.limit = limit;
	if (start) {
		o.start = start->data;
		o.start_len = start->len;
	}
	if (end) {
		o.end = end->data;
		o.end_len = end->len;
	}
	while (more) {
		size_t before = sc.n;

		if (txn)
			assert_int_equal(rs_txn_statecell_scan(txn, &o, &more,
							       scanned_cb, &sc),
					 0);
		else
			assert_int_equal(rs_statecell_scan(f->db, &f->run, &o,
							   &more, scanned_cb,
							   &sc),
					 0);
		if (more)
			assert_int_equal(sc.n - before, limit);
		if (sc.n > before) {
			o.resume = pool[sc.idx[sc.n - 1]].data;
			o.resume_len = pool[sc.idx[sc.n - 1]].len;
		} else {
			assert_false(more);
		}
	}
	for (size_t j = 0; j < NPOOL; j++) {
		size_t i = order[reverse ? NPOOL - 1 - j : j];

		if (!m->version[i] ||
		    (start && bytes_cmp(pool[i], *start) < 0) ||
		    (end && bytes_cmp(pool[i], *end) >= 0))
			continue;
		assert_true(k < sc.n);
		assert_int_equal(sc.idx[k], i);
		assert_int_equal(sc.version[k], m->version[i]);
		k++;
	}
	assert_int_equal(sc.n, k);
}

/* Op 0 deletes cell i, others init or set it, one-shot or in a
 * transaction, and the model follows; a cell's value is its version. */
static void model_write(fx *f, rs_txn *txn, struct cells *m, size_t i,
			unsigned op)
{
	const rs_bytes *n = &pool[i];
	uint64_t want, got = 0;
	int rc;

	if (op == 0) {
		rc = txn ? rs_txn_statecell_delete(txn, n->data, n->len, NULL)
			 : rs_statecell_delete(f->db, &f->run, n->data, n->len,
					       NULL);
		assert_int_equal(rc, 0);
		if (m->version[i])
			m->floor[i] = m->version[i];
		m->version[i] = 0;
		return;
	}
	if (m->version[i]) {
		want = m->version[i] + 1;
		rc = txn ? rs_txn_statecell_set(txn, n->data, n->len, &want, 8,
						&got)
			 : rs_statecell_set(f->db, &f->run, n->data, n->len,
					    &want, 8, &got);
	} else {
		want = m->floor[i] + 1;
		rc = txn ? rs_txn_statecell_init(txn, n->data, n->len, &want, 8,
						 &got)
			 : rs_statecell_init(f->db, &f->run, n->data, n->len,
					     &want, 8, &got);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, want);
	m->version[i] = want;
}

/* Random writes, one-shot and in transactions; after each step random
 * scans (bounds, direction, limit, resume) equal a sorted model, in a
 * transaction's view too (its staged writes merged in order). */
static void statecell__scan_follows_a_model(void **state)
{
	fx *f = *state;
	const rs_bytes *sorted[NPOOL];
	size_t order[NPOOL];
	struct cells m = { { 0 }, { 0 } };
	uint64_t x = 7;

	for (size_t i = 0; i < NPOOL; i++)
		sorted[i] = &pool[i];
	qsort(sorted, NPOOL, sizeof(sorted[0]), pool_cmp);
	for (size_t i = 0; i < NPOOL; i++)
		order[i] = (size_t)(sorted[i] - pool);
	/* A KV key with a cell's bytes is no cell. */
	assert_int_equal(rs_kv_put(f->db, &f->run,
				   S("\x01"
				     "b"),
				   S("kv")),
			 0);
	for (int step = 0; step < 150; step++) {
		if (step % 5 == 4) {
			struct cells tm = m;
			rs_txn *txn;

			assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0),
					 0);
			for (int w = 0; w < 4; w++)
				model_write(f, txn, &tm,
					    (size_t)(rnd(&x) % NPOOL),
					    (unsigned)(rnd(&x) % 3));
			for (int k = 0; k < 4; k++)
				check_scan(f, txn, &tm, order, &x);
			if (rnd(&x) % 2) {
				assert_int_equal(rs_txn_commit(txn), 0);
				m = tm;
			} else {
				rs_txn_abort(txn);
			}
		} else {
			model_write(f, NULL, &m, (size_t)(rnd(&x) % NPOOL),
				    (unsigned)(rnd(&x) % 3));
		}
		for (int k = 0; k < 3; k++)
			check_scan(f, NULL, &m, order, &x);
	}
}

static void scan_range(rs_txn *txn, const char *start, const char *end,
		       size_t limit, bool *more_out, struct scanned *sc)
{
	rs_scan_options o = RS_SCAN_OPTIONS_INIT;

	o.start = start;
	o.start_len = strlen(start);
	o.end = end;
	o.end_len = strlen(end);
	o.limit = limit;
	sc->n = 0;
	assert_int_equal(
		rs_txn_statecell_scan(txn, &o, more_out, scanned_cb, sc), 0);
}

/* Set a cell to the version it will have (as scanned_cb expects). */
static void set_named(fx *f, const char *name, uint64_t v)
{
	assert_int_equal(rs_statecell_set(f->db, &f->run, name, strlen(name),
					  &v, 8, NULL),
			 0);
}

static void init_named(fx *f, const char *name)
{
	uint64_t one = 1;

	assert_int_equal(rs_statecell_init(f->db, &f->run, name, strlen(name),
					   &one, 8, NULL),
			 0);
}

/*
 * In a transaction the range a scan walked joins the read set: a cell
 * created inside it conflicts, one outside does not; a scan stopped at
 * its limit protects what it passed, plus the one more it read when
 * more_out was asked for.
 */
static void statecell__txn_scan_protects_its_range(void **state)
{
	fx *f = *state;
	struct scanned sc;
	uint64_t one = 1;
	bool more;
	rs_txn *txn;

	init_named(f, "a.b");
	init_named(f, "ab");
	/* A cell created inside [a., b): conflict. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	scan_range(txn, "a.", "b", 0, NULL, &sc);
	assert_int_equal(sc.n, 2);
	assert_int_equal(rs_txn_statecell_init(txn, S("z"), &one, 8, NULL), 0);
	init_named(f, "a.c");
	assert_int_equal(rs_txn_commit(txn), RS_ECONFLICT);
	/* Outside it: no conflict; the transaction's own init is seen. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_init(txn, S("a\0b"), &one, 8, NULL),
			 0);
	scan_range(txn, "a.", "b", 0, NULL, &sc);
	assert_int_equal(sc.n, 3);
	scan_range(txn, "a", "a.", 0, NULL, &sc);
	assert_int_equal(sc.n, 1);
	assert_int_equal(sc.idx[0], 1); /* "a\0b", staged */
	init_named(f, "b");
	assert_int_equal(rs_txn_commit(txn), 0);
	/* Limit 1 without more_out: only "a.b" is protected. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	scan_range(txn, "a.", "b", 1, NULL, &sc);
	assert_int_equal(sc.n, 1);
	assert_int_equal(rs_txn_statecell_init(txn, S("zz"), &one, 8, NULL), 0);
	set_named(f, "a.c", 2);
	assert_int_equal(rs_txn_commit(txn), 0);
	/* With more_out the next cell was read too. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	scan_range(txn, "a.", "b", 1, &more, &sc);
	assert_true(more);
	assert_int_equal(rs_txn_statecell_set(txn, S("zz"), &one, 8, NULL), 0);
	set_named(f, "a.c", 3);
	assert_int_equal(rs_txn_commit(txn), RS_ECONFLICT);
}

static void statecell__read_enospc_reports_length_and_version(void **state)
{
	fx *f = *state;
	char buf[2];
	size_t len = 0;
	uint64_t v = 0;

	cell_init(f, "c", "hi", 1);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("c"), S("hello"), NULL), 0);
	/* The length and the version of the same value: a caller retrying
	 * with a bigger buffer can tell whether the cell changed between. */
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("c"), buf,
					   sizeof(buf), &len, &v),
			 RS_ENOSPC);
	assert_int_equal(len, 5);
	assert_int_equal(v, 2);
}

static void statecell__txn_read_your_writes(void **state)
{
	fx *f = *state;
	struct tr t = { 0 };
	struct listed l = { 0 };
	bool existed = false;
	rs_txn *txn;
	rs_bytes val;
	uint64_t v;

	cell_init(f, "old", "o", 1);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_init(txn, S("new"), S("n1"), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rs_txn_statecell_init(txn, S("new"), S("n1"), &v),
			 RS_EEXIST);
	assert_int_equal(rs_txn_statecell_read(txn, S("new"), &val, &v), 0);
	assert_int_equal(v, 1);
	assert_memory_equal(val.data, "n1", 2);
	assert_int_equal(rs_txn_statecell_cas(txn, S("new"), 1, S("n2"), &v),
			 0);
	assert_int_equal(v, 2);
	assert_int_equal(rs_txn_statecell_cas(txn, S("new"), 1, S("n3"), &v),
			 RS_EMISMATCH);
	assert_int_equal(rs_txn_statecell_set(txn, S("old"), S("o2"), &v), 0);
	assert_int_equal(v, 2);
	strcpy(t.next, "n3");
	t.write = true;
	assert_int_equal(rs_txn_statecell_transition(txn, S("new"), &v,
						     transition_fn, &t),
			 0);
	assert_string_equal(t.seen, "n2");
	assert_int_equal(v, 3);
	assert_int_equal(rs_txn_statecell_set(txn, S("missing"), S("x"), &v),
			 RS_ENOTFOUND);
	assert_int_equal(rs_txn_statecell_list(txn, NULL, 0, NULL, 0, 0, NULL,
					       list_cb, &l),
			 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.versions[0], 3); /* "new" */
	assert_int_equal(rs_txn_statecell_delete(txn, S("old"), &existed), 0);
	assert_true(existed);
	assert_int_equal(rs_txn_statecell_read(txn, S("old"), &val, NULL),
			 RS_ENOTFOUND);
	/* Not visible outside before commit. */
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("new"), NULL, 0,
					   NULL, NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_txn_commit(txn), 0);
	expect_cell(f, "new", "n3", 3);
	cell_init(f, "old", "again", 3);
}

static void statecell__txn_concurrent_inits_one_commits(void **state)
{
	fx *f = *state;
	rs_txn *a, *b;

	assert_int_equal(rs_txn_begin(&a, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_begin(&b, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_init(a, S("c"), S("a"), NULL), 0);
	assert_int_equal(rs_txn_statecell_init(b, S("c"), S("b"), NULL), 0);
	assert_int_equal(rs_txn_commit(a), 0);
	assert_int_equal(rs_txn_commit(b), RS_ECONFLICT);
	expect_cell(f, "c", "a", 1);
	/* A one-shot init racing a transaction's: the one-shot wins. */
	assert_int_equal(rs_txn_begin(&a, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_init(a, S("d"), S("txn"), NULL), 0);
	cell_init(f, "d", "oneshot", 1);
	assert_int_equal(rs_txn_commit(a), RS_ECONFLICT);
	/* A stale transactional CAS conflicts or mismatches, never wins. */
	assert_int_equal(rs_txn_begin(&a, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_cas(a, S("d"), 1, S("t"), NULL), 0);
	assert_int_equal(rs_statecell_set(f->db, &f->run, S("d"), S("s"), NULL),
			 0);
	assert_int_equal(rs_txn_commit(a), RS_ECONFLICT);
	expect_cell(f, "d", "s", 2);
}

static int too_big_fn(rs_bytes value, uint64_t version, rs_bytes *nv, void *ctx)
{
	(void)version;
	(void)ctx;
	nv->data = value.data;
	nv->len = (size_t)RS_VALUE_MAX + 1;
	return 0;
}

static void statecell__bad_input(void **state)
{
	fx *f = *state;
	rs_run_id nil = { { 0 } };
	char name[RS_NAME_MAX + 1], buf[8];
	struct tr t = { 0 };
	struct listed l = { 0 };
	rs_txn *txn;
	rs_bytes val;

	memset(name, 'n', sizeof(name));
	assert_int_equal(
		rs_statecell_init(NULL, &f->run, S("c"), NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(rs_statecell_init(f->db, &nil, S("c"), NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, NULL, 1, NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, "", 0, NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(rs_statecell_init(f->db, &f->run, name, sizeof(name),
					   NULL, 0, NULL),
			 RS_ETOOBIG);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("\xe2\x82"), NULL, 0, NULL),
		RS_EUTF8);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("c"), NULL, 2, NULL),
		RS_EINVAL);
	assert_int_equal(rs_statecell_init(f->db, &f->run, S("c"), buf,
					   (size_t)RS_VALUE_MAX + 1, NULL),
			 RS_ETOOBIG);
	assert_int_equal(rs_statecell_init(f->db, &f->run, name, RS_NAME_MAX,
					   NULL, 0, NULL),
			 0);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("\xff"), NULL, 0, NULL),
		RS_EUTF8);
	assert_int_equal(
		rs_statecell_cas(f->db, NULL, S("c"), 1, NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(
		rs_statecell_read(f->db, &f->run, S("c"), NULL, 4, NULL, NULL),
		RS_EINVAL);
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0,
						 NULL, NULL, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_statecell_list(f->db, &f->run, NULL, 3, NULL, 0, 0,
					   NULL, list_cb, &l),
			 RS_EINVAL);
	assert_int_equal(rs_statecell_list(f->db, &f->run, NULL, 0, "a", 0, 0,
					   NULL, list_cb, &l),
			 RS_EINVAL);
	assert_int_equal(rs_statecell_list(f->db, &f->run, name, sizeof(name),
					   NULL, 0, 0, NULL, list_cb, &l),
			 RS_ETOOBIG);
	assert_int_equal(rs_statecell_list(f->db, &f->run, NULL, 0, NULL, 0, 0,
					   NULL, NULL, NULL),
			 RS_EINVAL);
	{
		rs_scan_options o = RS_SCAN_OPTIONS_INIT;
		size_t n = 0;

		/* The one cell: its name is RS_NAME_MAX bytes long. */
		assert_int_equal(scan_count(f, NULL, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(rs_statecell_scan(NULL, &f->run, &o, NULL,
						   count_cb, &n),
				 RS_EINVAL);
		assert_int_equal(
			rs_statecell_scan(f->db, &nil, &o, NULL, count_cb, &n),
			RS_EINVAL);
		assert_int_equal(
			rs_statecell_scan(f->db, &f->run, &o, NULL, NULL, NULL),
			RS_EINVAL);
		o.version = 99;
		assert_int_equal(scan_count(f, &o, &n), RS_EINVAL);
		o.version = RS_SCAN_OPTIONS_VERSION;
		o.flags = 0x2;
		assert_int_equal(scan_count(f, &o, &n), RS_EINVAL);
		o.flags = 0;
		o.start_len = 1;
		assert_int_equal(scan_count(f, &o, &n), RS_EINVAL);
		o.start = name;
		o.start_len = sizeof(name);
		assert_int_equal(scan_count(f, &o, &n), RS_ETOOBIG);
		o.start_len = 0;
		o.end = name;
		o.end_len = sizeof(name);
		assert_int_equal(scan_count(f, &o, &n), RS_ETOOBIG);
		o.end_len = RS_NAME_MAX;
		o.resume = name;
		o.resume_len = sizeof(name);
		assert_int_equal(scan_count(f, &o, &n), RS_ETOOBIG);
		o.resume_len = 0;
		o.resume = NULL;
		/* [name, name): empty. */
		o.start = name;
		o.start_len = RS_NAME_MAX;
		n = 0;
		assert_int_equal(scan_count(f, &o, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(
			rs_txn_statecell_scan(NULL, &o, NULL, count_cb, &n),
			RS_EINVAL);
	}
	/* A transition that returns a value too large writes nothing. */
	cell_init(f, "c", "v", 1);
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0,
						 NULL, too_big_fn, NULL),
			 RS_ETOOBIG);
	expect_cell(f, "c", "v", 1);

	assert_int_equal(rs_txn_statecell_init(NULL, S("c"), NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY),
			 0);
	assert_int_equal(rs_txn_statecell_init(txn, S("z"), NULL, 0, NULL),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_statecell_set(txn, S("c"), NULL, 0, NULL),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_statecell_delete(txn, S("c"), NULL),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_statecell_transition(txn, S("c"), NULL,
						     transition_fn, &t),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_statecell_read(txn, S("c"), NULL, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_txn_statecell_read(txn, S("c"), &val, NULL), 0);
	assert_int_equal(
		rs_txn_statecell_transition(txn, S("c"), NULL, NULL, NULL),
		RS_EINVAL);
	rs_txn_abort(txn);
	assert_int_equal(rs_txn_statecell_read(txn, S("c"), &val, NULL),
			 RS_EDONE);
	assert_int_equal(rs_txn_statecell_list(txn, NULL, 0, NULL, 0, 0, NULL,
					       list_cb, &l),
			 RS_EDONE);
	assert_int_equal(rs_txn_statecell_scan(txn, NULL, NULL, list_cb, &l),
			 RS_EDONE);
	expect_cell(f, "c", "v", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(statecell__versions_start_at_1_and_rise),
		FX_TEST(statecell__init_existing_is_eexist),
		FX_TEST(statecell__missing_cell_errors),
		FX_TEST(statecell__cas_mismatch_changes_nothing),
		FX_TEST(statecell__stale_cas_fails_after_aba),
		FX_TEST(statecell__stale_cas_fails_across_delete_reinit),
		FX_TEST(statecell__transition_applies_fn),
		FX_TEST(statecell__list_pages_sorted),
		FX_TEST(statecell__scan_follows_a_model),
		FX_TEST(statecell__txn_scan_protects_its_range),
		FX_TEST(statecell__read_enospc_reports_length_and_version),
		FX_TEST(statecell__txn_read_your_writes),
		FX_TEST(statecell__txn_concurrent_inits_one_commits),
		FX_TEST(statecell__bad_input),
	};

	return FX_RUN("statecell", tests);
}
