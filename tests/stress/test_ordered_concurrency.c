/* SPDX-License-Identifier: MIT */
/*
 * Ordered reads under concurrent committers (issue 12): writer threads
 * commit random puts and deletes to one run while reader threads scan,
 * list and walk cursors at snapshots; every answer must equal the
 * reference state at exactly that snapshot's version: no torn commit, no
 * missing or resurrected key, no value from another version.
 *
 * How the reference is known. The run holds a generation key; each
 * commit reads it (g), applies the ops of generation g + 1 (a pure
 * function of the seed and g + 1) and writes g + 1. Concurrent writers
 * therefore race and all but one conflict per generation (OCC must make
 * them), and the state at version base + g is the ops of generations
 * 1..g applied in order. Each reader keeps its own model and advances it
 * to the generation of every snapshot it takes (its snapshots never go
 * back), then checks: the snapshot's version is base + g, and every scan,
 * listing and cursor move matches the model. Cursors are walked slowly
 * (yielding between moves) while commits, and the reclamation of the
 * nodes they delete, go on.
 *
 * Writers and readers start together at a barrier, and the writers go on
 * until every reader has checked its share of snapshots
 * (common/rs_overlap.h). Bounded by a count of commits and by a time
 * budget (it stops early, never asserts a time). RS_TEST_SEED overrides the seed; `--long` (label
 * slow) commits many more generations.
 */
#define _GNU_SOURCE
#include "common/kvmodel.h"
#include "common/rs_chk.h"
#include "common/rs_overlap.h"
#include "common/rs_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum {
	WRITERS = 3,
	READERS = 2,
	KEYS = 96,
	KEY_LEN_MAX = 8
};

static uint64_t g_seed = 0x0c0ffee12u;
/* Writers stop once both counts are reached, at the hard cap, or past
 * the time budget, whichever comes first. */
static uint64_t g_gens = 3000;	/* generations committed */
static uint64_t g_snaps = 1000; /* snapshots checked by the readers */
static uint64_t g_gens_cap = 200000;
static double g_budget_s = 60.0;

static const unsigned char gen_key[] = { 0x7f, 'g', 'e', 'n' };

/* Key i of the key space: binary, with shared prefixes, keys that are
 * prefixes of others, 0x00 and 0xFF bytes. */
static size_t key_of(unsigned i, unsigned char *b)
{
	static const unsigned char lead[] = { 0x00, 'm', 0xff };
	size_t n = 0;

	b[n++] = lead[i % 3];
	b[n++] = (unsigned char)((i / 3) * 7u);
	if (i % 2)
		b[n++] = (i / 2) % 2 ? 0xff : 0x00;
	if (i % 5 == 0)
		b[n++] = 'x';
	return n;
}

/* ---- generations ---- */

typedef struct gop {
	unsigned key;
	bool del;
} gop;

/* The ops of generation g: a pure function of the seed and g. */
static int gen_ops(uint64_t g, gop *ops)
{
	uint64_t s = g_seed ^ (g * 0x9E3779B97F4A7C15ull);
	int n = 1 + (int)(rs_t_rand(&s) % 6);

	for (int i = 0; i < n; i++) {
		ops[i].key = (unsigned)(rs_t_rand(&s) % KEYS);
		ops[i].del = rs_t_rand(&s) % 100 < 35;
	}
	return n;
}

static void be64(uint64_t x, unsigned char *b)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(x >> (56 - 8 * i));
}

static uint64_t get_be64(const void *p)
{
	const unsigned char *b = p;
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | b[i];
	return x;
}

/* A put's value: its generation and its key's index. */
static void val_of(uint64_t g, unsigned key, unsigned char *v)
{
	be64(g, v);
	v[8] = (unsigned char)key;
}

/* Apply generation g to a model. */
static void model_apply(rs_model *m, uint64_t g)
{
	gop ops[8];
	int n = gen_ops(g, ops);
	unsigned char k[KEY_LEN_MAX], v[9];

	for (int i = 0; i < n; i++) {
		size_t kl = key_of(ops[i].key, k);

		if (ops[i].del) {
			rs_m_del(m, k, kl);
		} else {
			val_of(g, ops[i].key, v);
			rs_m_put(m, k, kl, v, sizeof(v));
		}
	}
	be64(g, v);
	rs_m_put(m, gen_key, sizeof(gen_key), v, 8);
}

/* ---- shared state ---- */

typedef struct shared {
	rs_db *db;
	rs_run_id run;
	uint64_t base; /* the version of generation 0 */
	_Atomic uint64_t committed;
	_Atomic uint64_t conflicts;
	_Atomic uint64_t snapshots;
	_Atomic bool stop;
	struct timespec t0;
	chk c;
	rs_ovl ovl; /* the start barrier; snapshots per reader */
} shared;

typedef struct worker {
	shared *sh;
	int id;
} worker;

static double elapsed(const shared *sh)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - sh->t0.tv_sec) +
	       (double)(t.tv_nsec - sh->t0.tv_nsec) / 1e9;
}

/* One attempt at the next generation: 0, RS_ECONFLICT or an error. */
static int commit_next(shared *sh, uint64_t *g_out)
{
	unsigned char k[KEY_LEN_MAX], v[9];
	rs_txn *txn;
	rs_bytes cur;
	gop ops[8];
	uint64_t g;
	int n, rc;

	if ((rc = rs_txn_begin(&txn, sh->db, &sh->run, 0)) != 0)
		return rc;
	if ((rc = rs_txn_kv_get(txn, gen_key, sizeof(gen_key), &cur)) != 0)
		goto out;
	if (cur.len != 8) {
		rc = RS_ECORRUPT;
		goto out;
	}
	g = get_be64(cur.data) + 1;
	n = gen_ops(g, ops);
	for (int i = 0; i < n && rc == 0; i++) {
		size_t kl = key_of(ops[i].key, k);

		if (ops[i].del) {
			rc = rs_txn_kv_delete(txn, k, kl, NULL);
		} else {
			val_of(g, ops[i].key, v);
			rc = rs_txn_kv_put(txn, k, kl, v, sizeof(v));
		}
	}
	be64(g, v);
	if (rc == 0)
		rc = rs_txn_kv_put(txn, gen_key, sizeof(gen_key), v, 8);
	if (rc != 0)
		goto out;
	*g_out = g;
	return rs_txn_commit(txn);
out:
	rs_txn_abort(txn);
	return rc;
}

static void *writer_main(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;

	rs_ovl_start(&sh->ovl);
	while (!atomic_load(&sh->stop)) {
		uint64_t g = 0;
		int rc = commit_next(sh, &g);

		if (rc == RS_ECONFLICT) {
			atomic_fetch_add(&sh->conflicts, 1);
			continue;
		}
		if (!CHECK(&sh->c, rc == 0, "writer %d: commit %s", w->id,
			   rs_errname(rc)))
			break;
		if ((g >= g_gens &&
		     rs_ovl_readers_at(&sh->ovl, g_snaps / READERS)) ||
		    g >= g_gens_cap || elapsed(sh) > g_budget_s)
			atomic_store(&sh->stop, true);
		/* Let the readers run between commits on a small machine. */
		sched_yield();
	}
	return NULL;
}

/* ---- readers ---- */

typedef struct reader {
	shared *sh;
	unsigned id;
	uint64_t s; /* PRNG */
	rs_model m; /* the state at generation g */
	uint64_t g;
	char why[512];
} reader;

/* Advance the model to generation g (snapshots of one thread never go
 * back). */
static bool advance(reader *r, uint64_t g, const char *how)
{
	if (!CHECK(&r->sh->c, g >= r->g,
		   "%s: generation %llu after %llu: went back in time", how,
		   (unsigned long long)g, (unsigned long long)r->g))
		return false;
	while (r->g < g)
		model_apply(&r->m, ++r->g);
	return true;
}

/* A bound for a scan or a seek: a key of the space, one with a byte
 * more, its first byte alone, or the empty key. */
static size_t draw_key(reader *r, unsigned char *b)
{
	uint64_t x = rs_t_rand(&r->s);
	size_t n = key_of((unsigned)(x % KEYS), b);

	switch ((x >> 16) % 6) {
	case 0:
		return 1;
	case 1:
		b[n] = (unsigned char)(x >> 24);
		return n + 1;
	case 2:
		return (x >> 32) % 8 ? n : 0;
	default:
		return n;
	}
}

typedef struct scanbuf {
	unsigned char start[KEY_LEN_MAX + 1], end[KEY_LEN_MAX + 1],
		resume[KEY_LEN_MAX + 1];
} scanbuf;

static void draw_scan(reader *r, rs_m_scan *sc, scanbuf *b)
{
	uint64_t x = rs_t_rand(&r->s);

	memset(sc, 0, sizeof(*sc));
	if (x % 3) {
		sc->start_len = draw_key(r, b->start);
		sc->start = b->start;
	}
	if ((x >> 8) % 3) {
		sc->end_len = draw_key(r, b->end);
		sc->end = b->end;
	}
	if ((x >> 16) % 4 == 0) {
		sc->resume_len = draw_key(r, b->resume);
		sc->resume = b->resume;
	}
	sc->reverse = (x >> 24) % 2;
	sc->limit = (x >> 32) % 3 ? 0 : 1 + (x >> 40) % 10;
}

static bool same(reader *r, const rs_model *got, const rs_model *want,
		 const char *what)
{
	if (rs_m_same(got, want, r->why, sizeof(r->why)))
		return true;
	chk_fail(&r->sh->c, __LINE__, "%s at generation %llu: %s", what,
		 (unsigned long long)r->g, r->why);
	return false;
}

/* A random scan in txn (or one-shot when txn is NULL) against the model. */
static bool check_scan(reader *r, rs_txn *txn)
{
	rs_m_scan sc;
	rs_scan_options o;
	rs_model got, want;
	scanbuf b;
	bool more = false, want_more, ok;
	int rc;

	draw_scan(r, &sc, &b);
	rs_m_scan_options(&sc, &o);
	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_scan(&r->m, &sc, &want, &want_more);
	rc = txn ? rs_txn_kv_scan(txn, &o, &more, rs_m_collect_cb, &got)
		 : rs_kv_scan(r->sh->db, &r->sh->run, &o, &more,
			      rs_m_collect_cb, &got);
	ok = CHECK(&r->sh->c, rc == 0, "scan: %s", rs_errname(rc)) &&
	     same(r, &got, &want, "scan") &&
	     CHECK(&r->sh->c, more == want_more, "scan: more_out %d", more);
	rs_m_free(&got);
	rs_m_free(&want);
	return ok;
}

static bool check_list(reader *r, rs_txn *txn)
{
	unsigned char p[KEY_LEN_MAX + 1];
	size_t plen = draw_key(r, p) % 3;
	size_t limit = rs_t_rand(&r->s) % 4;
	rs_model got, want;
	bool more = false, want_more, ok;
	int rc;

	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_list(&r->m, p, plen, NULL, 0, limit, &want, &want_more);
	rc = rs_txn_kv_list(txn, p, plen, NULL, 0, limit, &more,
			    rs_m_collect_cb, &got);
	ok = CHECK(&r->sh->c, rc == 0, "list: %s", rs_errname(rc)) &&
	     same(r, &got, &want, "list") &&
	     CHECK(&r->sh->c, more == want_more, "list: more_out %d", more);
	rs_m_free(&got);
	rs_m_free(&want);
	return ok;
}

/* Moves of a cursor against the model cursor, yielding between them so
 * that commits run while it stands on a node. */
static bool walk(reader *r, rs_cursor *cur, rs_m_cur *mcp, int nops)
{
	rs_m_cur mc = *mcp;
	int dir = 1;

	for (int i = 0; i < nops; i++) {
		uint64_t x = rs_t_rand(&r->s);
		unsigned char k[KEY_LEN_MAX + 1];
		size_t kl = 0, at = 0;
		rs_bytes ck = { NULL, 0 }, cv = { NULL, 0 };
		int want, got;

		if (x % 8 == 0) {
			kl = draw_key(r, k);
			want = rs_m_cur_seek(&mc, &r->m, k, kl, (x >> 8) % 2,
					     &at);
			got = rs_cursor_seek(cur, k, kl,
					     (x >> 8) % 2 ? RS_SEEK_LE
							  : RS_SEEK_GE,
					     &ck, &cv);
		} else if (x % 8 == 1) {
			kl = draw_key(r, k) % 2;
			want = rs_m_cur_in(&mc, &r->m, k, kl, true, &at);
			got = rs_cursor_last(cur, kl ? k : NULL, kl, &ck, &cv);
		} else {
			if (x % 8 == 2)
				dir = -dir;
			want = rs_m_cur_step(&mc, &r->m, dir, &at);
			got = dir > 0 ? rs_cursor_next(cur, &ck, &cv)
				      : rs_cursor_prev(cur, &ck, &cv);
		}
		if (!CHECK(&r->sh->c, got == want,
			   "cursor move %llu at generation %llu: %s, "
			   "expected %s",
			   (unsigned long long)(x % 8),
			   (unsigned long long)r->g, rs_errname(got),
			   rs_errname(want)))
			return false;
		if (got == 0 &&
		    !CHECK(&r->sh->c,
			   rs_m_cmp(ck.data, ck.len, r->m.e[at].k,
				    r->m.e[at].klen) == 0 &&
				   rs_m_cmp(cv.data, cv.len, r->m.e[at].v,
					    r->m.e[at].vlen) == 0,
			   "cursor move %llu at generation %llu: wrong entry",
			   (unsigned long long)(x % 8),
			   (unsigned long long)r->g))
			return false;
		if (i % 4 == 0)
			sched_yield();
	}
	return true;
}

/* A read-only transaction: its version names its generation. */
static bool read_txn(reader *r)
{
	shared *sh = r->sh;
	rs_cursor *cur = NULL;
	rs_txn *txn;
	rs_bytes gv;
	uint64_t v = 0;
	bool ok;

	if (!CHECK(&sh->c,
		   rs_txn_begin(&txn, sh->db, &sh->run, RS_TXN_F_READONLY) == 0,
		   "begin"))
		return false;
	ok = CHECK(&sh->c, rs_txn_snapshot_version(txn, &v) == 0, "version") &&
	     CHECK(&sh->c,
		   rs_txn_kv_get(txn, gen_key, sizeof(gen_key), &gv) == 0 &&
			   gv.len == 8,
		   "generation key") &&
	     CHECK(&sh->c, v == sh->base + get_be64(gv.data),
		   "version %llu holds generation %llu (base %llu)",
		   (unsigned long long)v, (unsigned long long)get_be64(gv.data),
		   (unsigned long long)sh->base) &&
	     advance(r, get_be64(gv.data), "read-only txn");
	for (int i = 0; ok && i < 4; i++)
		ok = check_scan(r, txn);
	ok = ok && check_list(r, txn);
	if (ok && rs_txn_kv_cursor_open(txn, &cur) == 0) {
		rs_m_cur mc;

		memset(&mc, 0, sizeof(mc));
		ok = walk(r, cur, &mc, 24);
	}
	rs_cursor_close(cur);
	rs_txn_abort(txn);
	return ok;
}

/* A one-shot cursor: the generation key read through it names its
 * snapshot. */
static bool read_cursor(reader *r)
{
	shared *sh = r->sh;
	rs_cursor *cur;
	rs_bytes k, v;
	rs_m_cur mc;
	size_t at;
	bool ok;

	if (!CHECK(&sh->c, rs_kv_cursor_open(sh->db, &sh->run, &cur) == 0,
		   "cursor open"))
		return false;
	memset(&mc, 0, sizeof(mc));
	ok = CHECK(&sh->c,
		   rs_cursor_seek(cur, gen_key, sizeof(gen_key), RS_SEEK_GE, &k,
				  &v) == 0 &&
			   k.len == sizeof(gen_key) && v.len == 8,
		   "cursor: generation key") &&
	     advance(r, get_be64(v.data), "one-shot cursor") &&
	     rs_m_cur_seek(&mc, &r->m, gen_key, sizeof(gen_key), false, &at) ==
		     0 &&
	     walk(r, cur, &mc, 40);
	rs_cursor_close(cur);
	return ok;
}

/*
 * A one-shot scan with random bounds need not reach the generation key,
 * so its snapshot is known only to lie between the run's versions read
 * before and after it: its answer must equal the model at one of those.
 */
static bool check_bounded_oneshot(reader *r)
{
	shared *sh = r->sh;
	rs_m_scan sc;
	rs_scan_options o;
	rs_model got, want, at;
	scanbuf b;
	uint64_t v1 = 0, v2 = 0;
	bool more = false, want_more, ok = false;
	int rc;

	draw_scan(r, &sc, &b);
	rs_m_scan_options(&sc, &o);
	rs_m_init(&got);
	if (!CHECK(&sh->c, rs_db_run_version(sh->db, &sh->run, &v1) == 0,
		   "version") ||
	    !advance(r, v1 - sh->base, "version before a scan"))
		return false;
	rc = rs_kv_scan(sh->db, &sh->run, &o, &more, rs_m_collect_cb, &got);
	if (!CHECK(&sh->c, rc == 0, "one-shot scan: %s", rs_errname(rc)) ||
	    !CHECK(&sh->c, rs_db_run_version(sh->db, &sh->run, &v2) == 0,
		   "version")) {
		rs_m_free(&got);
		return false;
	}
	rs_m_copy(&at, &r->m);
	for (uint64_t g = r->g;; model_apply(&at, ++g)) {
		rs_m_init(&want);
		rs_m_expect_scan(&at, &sc, &want, &want_more);
		ok = more == want_more &&
		     rs_m_same(&got, &want, r->why, sizeof(r->why));
		rs_m_free(&want);
		if (ok || g >= v2 - sh->base)
			break;
	}
	CHECK(&sh->c, ok,
	      "bounded one-shot scan matches no generation in %llu..%llu",
	      (unsigned long long)(v1 - sh->base),
	      (unsigned long long)(v2 - sh->base));
	rs_m_free(&at);
	rs_m_free(&got);
	return ok;
}

/* A one-shot scan of the whole run: the generation key among its
 * entries names its snapshot. */
static bool read_scan(reader *r)
{
	shared *sh = r->sh;
	rs_model got;
	long gi;
	bool ok;
	int rc;

	rs_m_init(&got);
	rc = rs_kv_scan(sh->db, &sh->run, NULL, NULL, rs_m_collect_cb, &got);
	gi = rc == 0 ? rs_m_find(&got, gen_key, sizeof(gen_key)) : -1;
	ok = CHECK(&sh->c, rc == 0 && gi >= 0 && got.e[gi].vlen == 8,
		   "one-shot scan: %s, generation key %ld", rs_errname(rc),
		   gi) &&
	     advance(r, get_be64(got.e[gi].v), "one-shot scan") &&
	     same(r, &got, &r->m, "one-shot scan");
	rs_m_free(&got);
	return ok && check_bounded_oneshot(r);
}

static void *reader_main(void *arg)
{
	reader *r = arg;
	shared *sh = r->sh;

	rs_ovl_start(&sh->ovl);
	while (!atomic_load(&sh->stop) && atomic_load(&sh->c.failures) == 0) {
		uint64_t x = rs_t_rand(&r->s) % 3;
		bool ok = x == 0   ? read_txn(r)
			  : x == 1 ? read_cursor(r)
				   : read_scan(r);

		atomic_fetch_add(&sh->snapshots, 1);
		rs_ovl_read(&sh->ovl, r->id);
		if (!ok)
			break;
	}
	return NULL;
}

static void ordered_conc__scans_match_the_state_at_their_version(void **state)
{
	rs_fx *fx = *state;
	shared *sh = calloc(1, sizeof(*sh));
	worker w[WRITERS];
	reader *r = calloc(READERS, sizeof(*r));
	unsigned char v[8];
	rs_model final;

	assert_non_null(sh);
	assert_non_null(r);
	sh->db = fx->db;
	sh->run = fx->run;
	chk_init(&sh->c);
	be64(0, v);
	assert_ok(rs_kv_put(fx->db, &fx->run, gen_key, sizeof(gen_key), v, 8));
	sh->base = rs_t_version(fx->db, &fx->run);
	clock_gettime(CLOCK_MONOTONIC, &sh->t0);
	for (int i = 0; i < WRITERS; i++)
		w[i] = (worker){ sh, i };
	rs_ovl_init(&sh->ovl, WRITERS + READERS, READERS, WRITERS, 0);
	for (int i = 0; i < READERS; i++) {
		r[i].sh = sh;
		r[i].id = (unsigned)i;
		r[i].s = g_seed + 1000u * (uint64_t)(i + 1);
		rs_m_init(&r[i].m);
		rs_m_put(&r[i].m, gen_key, sizeof(gen_key), v, 8);
	}
	{
		/* Writers and readers together: one thread array. */
		pthread_t th[WRITERS + READERS];

		for (int i = 0; i < WRITERS; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
							writer_main, &w[i]),
					 0);
		for (int i = 0; i < READERS; i++)
			assert_int_equal(pthread_create(&th[WRITERS + i], NULL,
							reader_main, &r[i]),
					 0);
		for (int i = 0; i < WRITERS + READERS; i++)
			assert_int_equal(pthread_join(th[i], NULL), 0);
	}
	rs_ovl_destroy(&sh->ovl);
	chk_assert(&sh->c);
	/* Every reader checked snapshots while commits went on. */
	assert_true(rs_ovl_readers_at(&sh->ovl, 1));

	/* The final state is the model at the last generation. */
	rs_m_init(&final);
	r[0].sh = sh;
	{
		rs_model got;
		char why[512];
		uint64_t last = rs_t_version(fx->db, &fx->run) - sh->base;

		advance(&r[0], last, "final");
		rs_m_init(&got);
		assert_ok(rs_kv_scan(fx->db, &fx->run, NULL, NULL,
				     rs_m_collect_cb, &got));
		if (!rs_m_same(&got, &r[0].m, why, sizeof(why)))
			fail_msg("final state (seed %llu): %s",
				 (unsigned long long)g_seed, why);
		printf("ordered concurrency (%s): %llu generations, %llu "
		       "conflicts, %llu snapshots checked\n",
		       rs_t_storage_name(fx->storage), (unsigned long long)last,
		       (unsigned long long)atomic_load(&sh->conflicts),
		       (unsigned long long)atomic_load(&sh->snapshots));
		rs_m_free(&got);
	}
	rs_m_free(&final);
	for (int i = 0; i < READERS; i++)
		rs_m_free(&r[i].m);
	free(r);
	free(sh);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(
			ordered_conc__scans_match_the_state_at_their_version),
	};
	const char *env = getenv("RS_TEST_SEED");

	if (argc > 1 && strcmp(argv[1], "--long") == 0) {
		g_seed = (uint64_t)time(NULL);
		g_gens = 100000;
		g_snaps = 20000;
		g_gens_cap = 2000000;
		g_budget_s = 600.0;
	}
	if (env && *env)
		g_seed = strtoull(env, NULL, 0);
	printf("ordered concurrency: seed %llu (RS_TEST_SEED), up to %llu "
	       "generations\n",
	       (unsigned long long)g_seed, (unsigned long long)g_gens);
	return RS_FX_RUN_BOTH("ordered_concurrency", tests);
}
