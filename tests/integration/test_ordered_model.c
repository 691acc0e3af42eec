/* SPDX-License-Identifier: MIT */
/*
 * Model-based test of ordered access (issue 12): random binary keys (0x00
 * and 0xFF bytes, shared prefixes, keys that are prefixes of others, long
 * keys, RS_KEY_MAX), random puts and deletes in transactions (some
 * aborted), and after every step random scans, listings and cursor walks,
 * each compared with a sorted reference model (tests/common/kvmodel.h):
 * one-shot, inside the read-write transaction with its staged writes
 * merged, and at old snapshots held open across later commits.
 *
 * Seeded and reproducible: RS_TEST_SEED=<n> overrides the seed and
 * RS_TEST_STEPS=<n> the number of steps; every failure names the seed and
 * the step. The default run is short; `--long` (ctest label slow) runs
 * many more steps from a fresh seed, printed first.
 */
#include "common/kvmodel.h"
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t g_seed = 0x5eed0012u;
static long g_steps = 300;
static long g_step;
static const char *g_where = "";

#define MFAIL(...)                                                          \
	do {                                                                \
		char mf_[1536];                                             \
		snprintf(mf_, sizeof(mf_), __VA_ARGS__);                    \
		fail_msg("seed %llu (RS_TEST_SEED), step %ld, %s: %s",      \
			 (unsigned long long)g_seed, g_step, g_where, mf_); \
	} while (0)

static uint64_t rnd(uint64_t *s, uint64_t n)
{
	return n ? rs_t_rand(s) % n : 0;
}

/* ---- keys and values ---- */

static const unsigned char alpha[] = { 0x00, 0x01, 'a', 'b', 0x7f, 0xfe, 0xff };

static unsigned char any_byte(uint64_t *s)
{
	return alpha[rnd(s, sizeof(alpha))];
}

/* Long keys share a prefix that itself holds 0x00 and 0xFF bytes. */
static unsigned char filler(size_t i)
{
	return (unsigned char)(i * 37u + 11u);
}

/*
 * A key (or a bound: allow_empty) into b: mostly near the model's keys
 * (a key, a key plus a byte or two, a proper prefix, a neighbour), else
 * short random bytes, long keys with a shared prefix, or RS_KEY_MAX.
 */
static size_t gen_key(uint64_t *s, const rs_model *m, unsigned char *b,
		      bool allow_empty)
{
	unsigned r = (unsigned)rnd(s, 100);
	const rs_m_ent *e = m->n ? &m->e[rnd(s, m->n)] : NULL;
	size_t n;

	if (allow_empty && r < 4)
		return 0;
	if (e && r < 30) {
		memcpy(b, e->k, e->klen);
		return e->klen;
	}
	if (e && r < 45 && e->klen < RS_KEY_MAX) {
		n = e->klen;
		memcpy(b, e->k, n);
		b[n++] = any_byte(s);
		if (n < RS_KEY_MAX && rnd(s, 2))
			b[n++] = any_byte(s);
		return n;
	}
	if (e && r < 55 && e->klen > 1) {
		n = 1 + rnd(s, e->klen - 1);
		memcpy(b, e->k, n);
		return n;
	}
	if (e && r < 60) {
		n = e->klen;
		memcpy(b, e->k, n);
		if (b[n - 1] != 0xff && rnd(s, 2))
			b[n - 1]++;
		else if (b[n - 1] != 0x00)
			b[n - 1]--;
		return n;
	}
	if (r < 73) {
		n = r < 70 ? 100 + rnd(s, 300) : RS_KEY_MAX;
		for (size_t i = 0; i < n; i++)
			b[i] = filler(i);
		b[n - 1] = any_byte(s);
		if (rnd(s, 2))
			b[n - 2] = any_byte(s);
		return n;
	}
	n = 1 + rnd(s, 5);
	for (size_t i = 0; i < n; i++)
		b[i] = any_byte(s);
	return n;
}

static size_t gen_val(uint64_t *s, unsigned char *v)
{
	size_t n = rnd(s, 11);

	for (size_t i = 0; i < n; i++)
		v[i] = i < sizeof(g_step) ? (unsigned char)(g_step >> (8 * i))
					  : (unsigned char)rs_t_rand(s);
	return n;
}

/* ---- scans ---- */

typedef struct target {
	rs_db *db;
	const rs_run_id *run;
	rs_txn *txn; /* NULL: one-shot */
} target;

static int do_scan(const target *t, const rs_scan_options *o, bool *more,
		   rs_model *got)
{
	return t->txn ? rs_txn_kv_scan(t->txn, o, more, rs_m_collect_cb, got)
		      : rs_kv_scan(t->db, t->run, o, more, rs_m_collect_cb,
				   got);
}

static int do_list(const target *t, const void *p, size_t plen,
		   const void *after, size_t alen, size_t limit, bool *more,
		   rs_model *got)
{
	return t->txn ? rs_txn_kv_list(t->txn, p, plen, after, alen, limit,
				       more, rs_m_collect_cb, got)
		      : rs_kv_list(t->db, t->run, p, plen, after, alen, limit,
				   more, rs_m_collect_cb, got);
}

typedef struct bounds {
	unsigned char start[RS_KEY_MAX], end[RS_KEY_MAX], resume[RS_KEY_MAX];
} bounds;

static void draw_scan(uint64_t *s, const rs_model *m, bounds *b, rs_m_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	if (rnd(s, 5) < 3) {
		sc->start_len = gen_key(s, m, b->start, true);
		sc->start = b->start;
	}
	if (rnd(s, 5) < 3) {
		sc->end_len = gen_key(s, m, b->end, true);
		sc->end = b->end;
	}
	/* Mostly a non-empty range; sometimes start >= end. */
	if (sc->start && sc->end && rnd(s, 4) &&
	    rs_m_cmp(b->start, sc->start_len, b->end, sc->end_len) > 0) {
		unsigned char tmp[RS_KEY_MAX];
		size_t x = sc->start_len;

		memcpy(tmp, b->start, sc->start_len);
		memcpy(b->start, b->end, sc->end_len);
		memcpy(b->end, tmp, x);
		sc->start_len = sc->end_len;
		sc->end_len = x;
	}
	if (rnd(s, 5) < 2) {
		sc->resume_len = gen_key(s, m, b->resume, true);
		sc->resume = b->resume;
	}
	sc->reverse = rnd(s, 2);
	sc->limit = rnd(s, 5) < 2 ? 0 : 1 + rnd(s, 6);
}

static void describe(const rs_m_scan *sc, char *buf, size_t cap)
{
	char a[128], b[128], c[128];

	snprintf(buf, cap, "scan [%s, %s) resume %s %s limit %zu",
		 rs_m_show(sc->start, sc->start_len, a, sizeof(a)),
		 rs_m_show(sc->end, sc->end_len, b, sizeof(b)),
		 rs_m_show(sc->resume, sc->resume_len, c, sizeof(c)),
		 sc->reverse ? "reverse" : "forward", sc->limit);
}

static void check_scan(const target *t, const rs_model *view, uint64_t *s)
{
	rs_m_scan sc;
	rs_scan_options o;
	rs_model got, want;
	bounds b;
	bool more = false, want_more, ask = rnd(s, 2);
	char why[512], what[512];
	int rc;

	draw_scan(s, view, &b, &sc);
	rs_m_scan_options(&sc, &o);
	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_scan(view, &sc, &want, &want_more);
	rc = do_scan(t, &o, ask ? &more : NULL, &got);
	describe(&sc, what, sizeof(what));
	if (rc != 0)
		MFAIL("%s: %s", what, rs_errname(rc));
	if (!rs_m_same(&got, &want, why, sizeof(why)))
		MFAIL("%s: %s", what, why);
	if (ask && more != want_more)
		MFAIL("%s: more_out %d, expected %d", what, more, want_more);
	rs_m_free(&got);
	rs_m_free(&want);
}

/* Page through a random range with resume positions: the pages join up
 * to the whole range, each but the last saying more remain. */
static void check_paging(const target *t, const rs_model *view, uint64_t *s)
{
	rs_m_scan sc;
	rs_scan_options o;
	rs_model all, want;
	bounds b;
	unsigned char last[RS_KEY_MAX];
	/* Pages of up to 7, or about 1/8 of the keys (the unified store
	 * copies the run per snapshot: many pages of one would be slow). */
	size_t page = 1 + rnd(s, view->n > 60 ? view->n / 8 : 7), pages = 0;
	bool more = true, want_more;
	char why[512], what[512];

	draw_scan(s, view, &b, &sc);
	sc.resume = NULL;
	sc.resume_len = 0;
	sc.limit = 0;
	rs_m_init(&all);
	rs_m_init(&want);
	rs_m_expect_scan(view, &sc, &want, &want_more);
	describe(&sc, what, sizeof(what));
	sc.limit = page;
	while (more) {
		size_t before = all.n;
		int rc;

		rs_m_scan_options(&sc, &o);
		if ((rc = do_scan(t, &o, &more, &all)) != 0)
			MFAIL("paging %s: %s", what, rs_errname(rc));
		if (all.n - before > page || (more && all.n - before != page))
			MFAIL("paging %s: a page of %zu (limit %zu, more %d)",
			      what, all.n - before, page, more);
		if (all.n > before) {
			const rs_m_ent *e = &all.e[all.n - 1];

			memcpy(last, e->k, e->klen);
			sc.resume = last;
			sc.resume_len = e->klen;
		}
		if (++pages > view->n + 2)
			MFAIL("paging %s: %zu pages for %zu keys", what, pages,
			      view->n);
	}
	if (!rs_m_same(&all, &want, why, sizeof(why)))
		MFAIL("paging %s by %zu: %s", what, page, why);
	rs_m_free(&all);
	rs_m_free(&want);
}

static void check_list(const target *t, const rs_model *view, uint64_t *s)
{
	unsigned char p[RS_KEY_MAX], a[RS_KEY_MAX];
	size_t plen = gen_key(s, view, p, true), alen = 0;
	size_t limit = rnd(s, 3) ? 1 + rnd(s, 5) : 0;
	const void *after = NULL;
	rs_model got, want;
	bool more = false, want_more;
	char why[512], ps[128], as[128];
	int rc;

	if (rnd(s, 2)) {
		alen = gen_key(s, view, a, false);
		after = a;
	}
	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_list(view, p, plen, after, alen, limit, &want, &want_more);
	rc = do_list(t, plen || rnd(s, 2) ? p : NULL, plen, after, alen, limit,
		     &more, &got);
	if (rc != 0 || !rs_m_same(&got, &want, why, sizeof(why)) ||
	    more != want_more)
		MFAIL("list prefix %s after %s limit %zu: rc %s, more %d "
		      "(expected %d): %s",
		      rs_m_show(p, plen, ps, sizeof(ps)),
		      rs_m_show(after, alen, as, sizeof(as)), limit,
		      rs_errname(rc), more, want_more,
		      rc					 ? ""
		      : rs_m_same(&got, &want, why, sizeof(why)) ? "same"
								 : why);
	rs_m_free(&got);
	rs_m_free(&want);
}

/* ---- cursors ---- */

/* Views a cursor returned, with copies: they must stay valid (and
 * unchanged) until the cursor or its transaction ends. */
typedef struct kept {
	size_t n;
	rs_bytes k[16], v[16];
	rs_model copy;
} kept;

static void kept_init(kept *kp)
{
	kp->n = 0;
	rs_m_init(&kp->copy);
}

static void kept_add(kept *kp, uint64_t *s, rs_bytes k, rs_bytes v)
{
	if (kp->n == 16 || rnd(s, 4))
		return;
	kp->k[kp->n] = k;
	kp->v[kp->n] = v;
	rs_m_append(&kp->copy, k.data, k.len, v.data, v.len);
	kp->n++;
}

static void kept_check_free(kept *kp)
{
	for (size_t i = 0; i < kp->n; i++) {
		const rs_m_ent *e = &kp->copy.e[i];

		if (kp->k[i].len != e->klen || kp->v[i].len != e->vlen ||
		    memcmp(kp->k[i].data, e->k, e->klen) != 0 ||
		    (e->vlen && memcmp(kp->v[i].data, e->v, e->vlen) != 0))
			MFAIL("a view returned by the cursor changed");
	}
	rs_m_free(&kp->copy);
	kp->n = 0;
}

static const char *const op_names[] = { "next",	   "prev",  "seek GE",
					"seek LE", "first", "last" };

/* nops random moves of cur, each checked against the model cursor mc on
 * the view; runs of next/prev run off both ends and come back. */
static void walk(rs_cursor *cur, rs_m_cur *mc, const rs_model *view,
		 uint64_t *s, int nops, kept *kp)
{
	unsigned char key[RS_KEY_MAX];
	int op = 0, run = 0;

	for (int i = 0; i < nops; i++) {
		rs_bytes k = { NULL, 0 }, v = { NULL, 0 };
		size_t klen = 0, at = 0;
		int rc, want;
		char ks[128], ws[128], es[128];

		if (run == 0) {
			unsigned r = (unsigned)rnd(s, 100);

			op = r < 35   ? 0
			     : r < 70 ? 1
			     : r < 80 ? 2
			     : r < 90 ? 3
			     : r < 95 ? 4
				      : 5;
			run = op < 2 ? 1 + (int)rnd(s, 8) : 1;
			if (op >= 2)
				klen = gen_key(s, view, key, true);
		}
		run--;
		switch (op) {
		case 0:
		case 1:
			want = rs_m_cur_step(mc, view, op ? -1 : 1, &at);
			rc = op ? rs_cursor_prev(cur, &k, &v)
				: rs_cursor_next(cur, &k, &v);
			break;
		case 2:
		case 3:
			want = rs_m_cur_seek(mc, view, key, klen, op == 3, &at);
			rc = rs_cursor_seek(
				cur, klen || rnd(s, 2) ? key : NULL, klen,
				op == 3 ? RS_SEEK_LE : RS_SEEK_GE, &k, &v);
			break;
		case 4:
			want = rs_m_cur_in(mc, view, key, klen, false, &at);
			rc = rs_cursor_first(cur, klen ? key : NULL, klen, &k,
					     &v);
			break;
		default:
			want = rs_m_cur_in(mc, view, key, klen, true, &at);
			rc = rs_cursor_last(cur, klen ? key : NULL, klen, &k,
					    &v);
			break;
		}
		if (rc != want)
			MFAIL("cursor %s (%s): %s, expected %s%s%s",
			      op_names[op],
			      rs_m_show(key, klen, ks, sizeof(ks)),
			      rs_errname(rc), rs_errname(want),
			      rc == 0 ? " but got " : "",
			      rc == 0 ? rs_m_show(k.data, k.len, ws, sizeof(ws))
				      : "");
		if (rc != 0)
			continue;
		if (rs_m_cmp(k.data, k.len, view->e[at].k, view->e[at].klen) ||
		    rs_m_cmp(v.data, v.len, view->e[at].v, view->e[at].vlen))
			MFAIL("cursor %s (%s): at %s, expected %s",
			      op_names[op],
			      rs_m_show(key, klen, ks, sizeof(ks)),
			      rs_m_show(k.data, k.len, ws, sizeof(ws)),
			      rs_m_show(view->e[at].k, view->e[at].klen, es,
					sizeof(es)));
		kept_add(kp, s, k, v);
	}
}

/* A fresh one-shot cursor walked over the committed state. */
static void check_oneshot_cursor(rs_fx *fx, const rs_model *m, uint64_t *s)
{
	rs_cursor *cur = NULL;
	rs_m_cur mc;
	kept kp;

	memset(&mc, 0, sizeof(mc));
	kept_init(&kp);
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	walk(cur, &mc, m, s, 10 + (int)rnd(s, 30), &kp);
	kept_check_free(&kp);
	rs_cursor_close(cur);
}

/* ---- snapshots held across commits ---- */

typedef struct holder {
	bool open;
	bool txn_kind; /* a read-only txn; else a one-shot cursor */
	rs_txn *txn;
	rs_cursor *cur;
	rs_m_cur mc;
	uint64_t ver;
	rs_model m; /* the state it must keep seeing */
	kept kp;
} holder;

enum {
	HOLDERS = 3
};

static void holder_open(rs_fx *fx, holder *h, const rs_model *m, uint64_t *s)
{
	memset(h, 0, sizeof(*h));
	h->open = true;
	h->txn_kind = rnd(s, 2);
	rs_m_copy(&h->m, m);
	kept_init(&h->kp);
	if (h->txn_kind) {
		assert_ok(rs_txn_begin(&h->txn, fx->db, &fx->run,
				       RS_TXN_F_READONLY));
		assert_ok(rs_txn_snapshot_version(h->txn, &h->ver));
	} else {
		assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &h->cur));
	}
}

static void holder_close(holder *h)
{
	kept_check_free(&h->kp);
	if (h->txn_kind)
		assert_ok(rs_txn_commit(h->txn)); /* read-only: never fails */
	else
		rs_cursor_close(h->cur);
	rs_m_free(&h->m);
	h->open = false;
}

static void holder_check(rs_fx *fx, holder *h, uint64_t *s)
{
	target t = { fx->db, &fx->run, h->txn };
	uint64_t v = 0;

	g_where = h->txn_kind ? "old snapshot (read-only txn)"
			      : "old snapshot (one-shot cursor)";
	if (!h->txn_kind) {
		/* The same cursor, continued from where it stood. */
		walk(h->cur, &h->mc, &h->m, s, 5 + (int)rnd(s, 10), &h->kp);
		return;
	}
	assert_ok(rs_txn_snapshot_version(h->txn, &v));
	if (v != h->ver)
		MFAIL("snapshot version moved from %llu to %llu",
		      (unsigned long long)h->ver, (unsigned long long)v);
	check_scan(&t, &h->m, s);
	check_list(&t, &h->m, s);
	if (rnd(s, 2)) {
		rs_cursor *cur = NULL;
		rs_m_cur mc;

		memset(&mc, 0, sizeof(mc));
		assert_ok(rs_txn_kv_cursor_open(h->txn, &cur));
		walk(cur, &mc, &h->m, s, 5 + (int)rnd(s, 15), &h->kp);
		rs_cursor_close(cur); /* the views stay: the txn owns them */
	}
}

/* ---- steps ---- */

/*
 * One read-write transaction of 1..8 puts and deletes (a bulk one of
 * keys under one prefix now and then); between its writes and before it
 * commits, its view (the model plus what it staged) is scanned, listed
 * and walked by a cursor opened before some of the writes. 15% abort.
 */
static void step_txn(rs_fx *fx, rs_model *m, uint64_t *s)
{
	target t = { fx->db, &fx->run, NULL };
	unsigned char k[RS_KEY_MAX], v[16];
	rs_model view;
	rs_cursor *cur = NULL;
	rs_m_cur mc;
	kept kp;
	bool bulk = rnd(s, 20) == 0;
	int nops = bulk ? 20 + (int)rnd(s, 30) : 1 + (int)rnd(s, 8);
	size_t plen = 0;

	g_where = "read-write txn";
	memset(&mc, 0, sizeof(mc));
	kept_init(&kp);
	rs_m_copy(&view, m);
	assert_ok(rs_txn_begin(&t.txn, fx->db, &fx->run, 0));
	if (rnd(s, 2))
		assert_ok(rs_txn_kv_cursor_open(t.txn, &cur));
	if (bulk)
		plen = gen_key(s, m, k, false) % 8 + 1;
	for (int i = 0; i < nops; i++) {
		size_t klen, vlen = gen_val(s, v);
		bool del = rnd(s, 100) < (view.n > 200 ? 70 : 35), existed;

		if (bulk) {
			klen = plen + 1 + rnd(s, 2);
			for (size_t j = plen; j < klen; j++)
				k[j] = (unsigned char)rs_t_rand(s);
			del = false;
		} else if (del && view.n && rnd(s, 5)) {
			/* Deletes mostly hit a key, so the run stays small. */
			const rs_m_ent *e = &view.e[rnd(s, view.n)];

			klen = e->klen;
			memcpy(k, e->k, klen);
		} else {
			klen = gen_key(s, &view, k, false);
		}
		if (del) {
			assert_ok(rs_txn_kv_delete(t.txn, k, klen, &existed));
			if (existed != rs_m_del(&view, k, klen))
				MFAIL("delete: existed %d", existed);
		} else {
			assert_ok(rs_txn_kv_put(t.txn, k, klen, v, vlen));
			rs_m_put(&view, k, klen, v, vlen);
		}
		if (rnd(s, 10) < 3)
			check_scan(&t, &view, s);
		if (cur && rnd(s, 10) < 3)
			walk(cur, &mc, &view, s, 2 + (int)rnd(s, 6), &kp);
	}
	check_scan(&t, &view, s);
	check_paging(&t, &view, s);
	check_list(&t, &view, s);
	if (cur)
		walk(cur, &mc, &view, s, 5 + (int)rnd(s, 20), &kp);
	kept_check_free(&kp);
	if (cur && rnd(s, 2))
		rs_cursor_close(cur);
	/* Writes of other primitives in the same transaction: other tags,
	 * never in a KV view. */
	if (rnd(s, 5) == 0) {
		assert_ok(rs_txn_eventlog_append(t.txn, "step", 4, v, 1, NULL));
		check_scan(&t, &view, s);
		check_list(&t, &view, s);
	}
	if (rnd(s, 100) < 15) {
		rs_txn_abort(t.txn);
		rs_m_free(&view);
		return;
	}
	assert_ok(rs_txn_commit(t.txn));
	rs_m_free(m);
	*m = view;
}

static void step_oneshot(rs_fx *fx, rs_model *m, uint64_t *s)
{
	unsigned char k[RS_KEY_MAX], v[16];
	size_t klen = gen_key(s, m, k, false), vlen = gen_val(s, v);
	bool existed;

	g_where = "one-shot write";
	if (rnd(s, 3) == 0) {
		assert_ok(rs_kv_delete(fx->db, &fx->run, k, klen, &existed));
		if (existed != rs_m_del(m, k, klen))
			MFAIL("one-shot delete: existed %d", existed);
	} else {
		assert_ok(rs_kv_put(fx->db, &fx->run, k, klen, v, vlen));
		rs_m_put(m, k, klen, v, vlen);
	}
}

static void run_model(rs_fx *fx, uint64_t seed, long steps)
{
	target t = { fx->db, &fx->run, NULL };
	holder h[HOLDERS];
	uint64_t s = seed;
	rs_model m;

	memset(h, 0, sizeof(h));
	rs_m_init(&m);
	/* Other primitives' keys follow the KV keys in the run's index: a
	 * reverse walk from the end must start before them. */
	assert_ok(rs_eventlog_append(fx->db, &fx->run, "e", 1, "x", 1, NULL));
	assert_ok(rs_statecell_init(fx->db, &fx->run, "c", 1, "1", 1, NULL));
	for (g_step = 0; g_step < steps; g_step++) {
		if (rnd(&s, 4))
			step_txn(fx, &m, &s);
		else
			step_oneshot(fx, &m, &s);
		g_where = "one-shot reads";
		for (int i = 0; i < 3; i++)
			check_scan(&t, &m, &s);
		check_paging(&t, &m, &s);
		check_list(&t, &m, &s);
		check_oneshot_cursor(fx, &m, &s);
		for (int i = 0; i < HOLDERS; i++) {
			if (h[i].open)
				holder_check(fx, &h[i], &s);
			if (h[i].open && rnd(&s, 10) == 0)
				holder_close(&h[i]);
			else if (!h[i].open && rnd(&s, 5) == 0)
				holder_open(fx, &h[i], &m, &s);
		}
	}
	for (int i = 0; i < HOLDERS; i++)
		if (h[i].open)
			holder_close(&h[i]);
	rs_m_free(&m);
}

static void model__random_ops_match_reference(void **state)
{
	run_model(*state, g_seed, g_steps);
}

/*
 * A fixed set of edge keys, checked exhaustively: every prefix of every
 * key (and its neighbours) as a listing and as cursor first/last, every
 * key and neighbour as a seek both ways and as scan bounds.
 */
static void model__edge_keys_exhaustive(void **state)
{
	rs_fx *fx = *state;
	static const struct {
		const char *k;
		size_t len;
	} keys[] = {
		{ "\x00", 1 },
		{ "\x00\x00", 2 },
		{ "\x00\xff", 2 },
		{ "\x01", 1 },
		{ "a", 1 },
		{ "a\x00", 2 },
		{ "a\xff", 2 },
		{ "a\xff\xff", 3 },
		{ "ab", 2 },
		{ "b", 1 },
		{ "\xfe\xff", 2 },
		{ "\xff", 1 },
		{ "\xff\x00", 2 },
		{ "\xff\xff", 2 },
		{ "\xff\xff\xff", 3 },
		{ "\xff\xff\xff\x00", 4 },
	};
	target t = { fx->db, &fx->run, NULL };
	unsigned char big[RS_KEY_MAX];
	rs_model m;
	uint64_t s = g_seed;

	g_where = "edge keys";
	g_step = 0;
	rs_m_init(&m);
	assert_ok(rs_statecell_init(fx->db, &fx->run, "c", 1, "1", 1, NULL));
	memset(big, 0xff, sizeof(big));
	assert_ok(rs_kv_put(fx->db, &fx->run, big, sizeof(big), "max", 3));
	rs_m_put(&m, big, sizeof(big), "max", 3);
	big[RS_KEY_MAX - 1] = 0xfe;
	assert_ok(rs_kv_put(fx->db, &fx->run, big, sizeof(big), "max-1", 5));
	rs_m_put(&m, big, sizeof(big), "max-1", 5);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_ok(rs_kv_put(fx->db, &fx->run, keys[i].k, keys[i].len,
				    keys[i].k, keys[i].len));
		rs_m_put(&m, keys[i].k, keys[i].len, keys[i].k, keys[i].len);
	}
	for (size_t i = 0; i < m.n; i++) {
		const rs_m_ent *e = &m.e[i];

		for (size_t plen = 0; plen <= e->klen && plen <= 4; plen++) {
			for (int how = 0; how < 2; how++) {
				rs_cursor *cur;
				rs_m_cur mc;
				rs_bytes k, v;
				size_t at = 0;
				int want, rc;
				rs_model got, exp;
				bool more, wmore;
				char why[512];

				memset(&mc, 0, sizeof(mc));
				assert_ok(rs_kv_cursor_open(fx->db, &fx->run,
							    &cur));
				want = rs_m_cur_in(&mc, &m, e->k, plen, how,
						   &at);
				rc = how ? rs_cursor_last(cur, e->k, plen, &k,
							  &v)
					 : rs_cursor_first(cur, e->k, plen, &k,
							   &v);
				assert_rc(rc, want);
				assert_int_equal(want, 0);
				assert_int_equal(k.len, m.e[at].klen);
				assert_memory_equal(k.data, m.e[at].k, k.len);
				/* Walk out of the prefix both ways. */
				for (int d = 0; d < 2; d++) {
					do {
						want = rs_m_cur_step(&mc, &m,
								     d ? -1 : 1,
								     &at);
						rc = d ? rs_cursor_prev(cur, &k,
									&v)
						       : rs_cursor_next(cur, &k,
									&v);
						assert_rc(rc, want);
						if (rc == 0)
							assert_memory_equal(
								k.data,
								m.e[at].k,
								k.len);
					} while (rc == 0);
				}
				rs_cursor_close(cur);
				rs_m_init(&got);
				rs_m_init(&exp);
				assert_ok(rs_kv_list(fx->db, &fx->run, e->k,
						     plen, NULL, 0, 0, &more,
						     rs_m_collect_cb, &got));
				rs_m_expect_list(&m, e->k, plen, NULL, 0, 0,
						 &exp, &wmore);
				if (!rs_m_same(&got, &exp, why, sizeof(why)))
					MFAIL("list prefix of %zu bytes of key "
					      "%zu: %s",
					      plen, i, why);
				rs_m_free(&got);
				rs_m_free(&exp);
			}
		}
	}
	for (int i = 0; i < 400; i++) {
		rs_cursor *cur;
		rs_m_cur mc;
		kept kp;

		check_scan(&t, &m, &s);
		check_paging(&t, &m, &s);
		memset(&mc, 0, sizeof(mc));
		kept_init(&kp);
		assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
		walk(cur, &mc, &m, &s, 20, &kp);
		kept_check_free(&kp);
		rs_cursor_close(cur);
	}
	rs_m_free(&m);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(model__edge_keys_exhaustive),
		RS_FX_TEST(model__random_ops_match_reference),
	};
	const char *env = getenv("RS_TEST_SEED");

	if (argc > 1 && strcmp(argv[1], "--long") == 0) {
		g_seed = (uint64_t)time(NULL);
		g_steps = 6000;
	}
	if (env && *env)
		g_seed = strtoull(env, NULL, 0);
	if ((env = getenv("RS_TEST_STEPS")) && *env)
		g_steps = strtol(env, NULL, 0);
	printf("ordered model: seed %llu, %ld steps (RS_TEST_SEED, "
	       "RS_TEST_STEPS)\n",
	       (unsigned long long)g_seed, g_steps);
	return RS_FX_RUN_BOTH("ordered_model", tests);
}
