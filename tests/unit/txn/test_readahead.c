/* SPDX-License-Identifier: MIT */
/*
 * The read-ahead of ordered steps (storage/store.h, shard.c "Read-ahead"):
 * a step collects the next entries of its direction into the iterator and
 * later steps take them without walking. These tests hold a cursor while
 * read-ahead entries are saved and check that every move still equals a
 * walk of the snapshot:
 *  - random next/prev/seek moves against a sorted model (direction
 *    changes inside a batch, seeks that must empty it, the ends);
 *  - deletes of every key the cursor read ahead and inserts between them,
 *    with the deleted nodes reclaimed (rs__txn_flush_retired), then the
 *    walk goes on over the saved entries: same keys, same values, and
 *    under ASan no freed byte touched;
 *  - writes staged in the cursor's own transaction after a batch was read
 *    (they must be merged in: the inline step must step aside);
 *  - a prefix bound that ends inside a batch;
 *  - scans over a run large enough for the walks to prefetch ahead of
 *    themselves (shard.c, "Prefetch ahead of a walk"), with deleted keys
 *    to step over, against the model;
 *  - label concurrency (TSan): readers walk one-shot cursors while a
 *    writer inserts and deletes the keys between the ones they walk over,
 *    with reclamation running: every walk sees every stable key, in order,
 *    with its value. Bounded by counts and a time cap (rs_overlap.h).
 * Both engines (the unified store has no read-ahead; the answers must be
 * the same). RS_TEST_SEED overrides the seed of the random walk.
 */
#define _GNU_SOURCE
#include "common/rs_overlap.h"
#include "common/rs_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "txn/txn.h"

enum {
	NKEYS = 200,
	MOVES = 4000,
	CONC_STABLE = 64, /* even keys, never written while readers walk */
	CONC_WALKS = 200, /* walks per reader at least */
	CONC_READERS = 2
};

static size_t key_of(char *buf, size_t cap, const char *pfx, int i)
{
	return (size_t)snprintf(buf, cap, "%s%06d", pfx, i);
}

static void val_of(char *buf, size_t cap, const char *tag, int i)
{
	snprintf(buf, cap, "%s-value-%06d", tag, i);
}

static void put_i(rs_fx *fx, const char *pfx, int i, const char *tag)
{
	char k[32], v[32];
	size_t n = key_of(k, sizeof(k), pfx, i);

	val_of(v, sizeof(v), tag, i);
	if (rs_kv_put(fx->db, &fx->run, k, n, v, strlen(v)) != 0)
		fail_msg("put %s", k);
}

static void del_i(rs_fx *fx, const char *pfx, int i)
{
	char k[32];
	size_t n = key_of(k, sizeof(k), pfx, i);

	if (rs_kv_delete(fx->db, &fx->run, k, n, NULL) != 0)
		fail_msg("delete %s", k);
}

/* The cursor's entry is key i of "k" with the value of `tag`. */
static void expect_at(rs_bytes k, rs_bytes v, int i, const char *tag)
{
	char wk[32], wv[32];

	key_of(wk, sizeof(wk), "k", i);
	val_of(wv, sizeof(wv), tag, i);
	if (k.len != strlen(wk) || memcmp(k.data, wk, k.len) != 0)
		fail_msg("at %.*s, expected %s", (int)k.len,
			 (const char *)k.data, wk);
	if (v.len != strlen(wv) || memcmp(v.data, wv, v.len) != 0)
		fail_msg("value of %s: %.*s, expected %s", wk, (int)v.len,
			 (const char *)v.data, wv);
}

/* Random moves on a one-shot cursor against the model: keys "k" + 2i
 * (every even number below 2 NKEYS), so seeks land between keys too. */
static void readahead__random_moves_match_the_model(void **state)
{
	rs_fx *fx = *state;
	const char *env = getenv("RS_TEST_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 0x4eadaeadu;
	rs_cursor *cur;
	rs_bytes k, v;
	int pos = -1; /* model position: index into the keys, -1 none */

	printf("readahead: seed %llu (RS_TEST_SEED)\n",
	       (unsigned long long)seed);

	for (int i = 0; i < NKEYS; i++)
		put_i(fx, "k", 2 * i, "a");
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	for (int m = 0; m < MOVES; m++) {
		unsigned r = (unsigned)(rs_t_rand(&seed) % 100);
		int rc, want;

		if (r < 45 && pos >= 0) { /* next */
			rc = rs_cursor_next(cur, &k, &v);
			want = pos + 1 < NKEYS ? pos + 1 : -1;
		} else if (r < 85 && pos >= 0) { /* prev */
			rc = rs_cursor_prev(cur, &k, &v);
			want = pos - 1;
		} else { /* seek, at a key or between two */
			int at = (int)(rs_t_rand(&seed) % (2 * NKEYS + 2)) - 1;
			bool ge = rs_t_rand(&seed) & 1;
			char sk[32];
			size_t sn =
				key_of(sk, sizeof(sk), "k", at < 0 ? 0 : at);

			if (at < 0)
				sn = 1; /* "k": before every key */
			rc = rs_cursor_seek(cur, sk, sn,
					    ge ? RS_SEEK_GE : RS_SEEK_LE, &k,
					    &v);
			if (at < 0)
				want = ge ? 0 : -1;
			else if (ge)
				want = (at + 1) / 2 < NKEYS ? (at + 1) / 2 : -1;
			else
				want = at / 2 < NKEYS ? at / 2 : NKEYS - 1;
		}
		if (want < 0) {
			assert_int_equal(rc, RS_ENOTFOUND);
			/* Off the end: re-enter at a random key. */
			pos = -1;
			continue;
		}
		assert_ok(rc);
		expect_at(k, v, 2 * want, "a");
		pos = want;
	}
	rs_cursor_close(cur);
}

/*
 * Walk a few steps (the read-ahead then holds the next entries), delete
 * every key ahead and put new keys between them, reclaim, and walk on:
 * the snapshot's keys and values, exactly, in both directions.
 */
static void readahead__saved_entries_survive_deletes_and_inserts(void **state)
{
	rs_fx *fx = *state;
	rs_cursor *cur;
	rs_bytes k, v;
	int i = 0;

	for (int j = 0; j < NKEYS; j++)
		put_i(fx, "k", 2 * j, "a");
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_first(cur, NULL, 0, &k, &v));
	expect_at(k, v, 0, "a");
	/* Steps 1, 1 + 2, 1 + 2 + 4: batches of 1, 2 and 4 read ahead. */
	for (; i < 7; i++) {
		assert_ok(rs_cursor_next(cur, &k, &v));
		expect_at(k, v, 2 * (i + 1), "a");
	}
	i++;
	for (int j = 0; j < NKEYS; j++) {
		if (j >= i)
			del_i(fx, "k", 2 * j);
		put_i(fx, "k", 2 * j + 1, "b");
	}
	/* The deletes reach the pending list; later commits prune it. */
	for (int j = 0; j < 64; j++)
		put_i(fx, "z", j, "c");
	rs__txn_flush_retired(fx->db);
	for (; i < NKEYS; i++) {
		assert_ok(rs_cursor_next(cur, &k, &v));
		expect_at(k, v, 2 * i, "a");
	}
	assert_int_equal(rs_cursor_next(cur, &k, &v), RS_ENOTFOUND);
	assert_ok(rs_cursor_seek(cur, "k9", 2, RS_SEEK_LE, &k, &v));
	for (i = NKEYS - 1; i > 0; i--) {
		expect_at(k, v, 2 * i, "a");
		assert_ok(rs_cursor_prev(cur, &k, &v));
	}
	expect_at(k, v, 0, "a");
	assert_int_equal(rs_cursor_prev(cur, &k, &v), RS_ENOTFOUND);
	rs_cursor_close(cur);
}

/* Writes staged after a batch was read ahead are merged into the walk. */
static void readahead__staged_writes_join_a_walk(void **state)
{
	rs_fx *fx = *state;
	rs_cursor *cur;
	rs_txn *txn;
	rs_bytes k, v;
	char sk[32];

	for (int j = 0; j < 40; j++)
		put_i(fx, "k", 2 * j, "a");
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	assert_ok(rs_txn_kv_cursor_open(txn, &cur));
	assert_ok(rs_cursor_first(cur, NULL, 0, &k, &v));
	for (int j = 1; j <= 7; j++) {
		assert_ok(rs_cursor_next(cur, &k, &v));
		expect_at(k, v, 2 * j, "a");
	}
	/* Ahead now: keys 16, 18, ... (read ahead). Stage a put between 14
	 * and 16, a delete of 18 and an overwrite of 20. */
	assert_ok(rs_txn_kv_put(txn, sk, key_of(sk, sizeof(sk), "k", 15),
				"b-value-000015", 14));
	assert_ok(rs_txn_kv_delete(txn, sk, key_of(sk, sizeof(sk), "k", 18),
				   NULL));
	assert_ok(rs_txn_kv_put(txn, sk, key_of(sk, sizeof(sk), "k", 20),
				"b-value-000020", 14));
	assert_ok(rs_cursor_next(cur, &k, &v));
	expect_at(k, v, 15, "b");
	assert_ok(rs_cursor_next(cur, &k, &v));
	expect_at(k, v, 16, "a");
	assert_ok(rs_cursor_next(cur, &k, &v));
	expect_at(k, v, 20, "b");
	assert_ok(rs_cursor_next(cur, &k, &v));
	expect_at(k, v, 22, "a");
	assert_ok(rs_cursor_prev(cur, &k, &v));
	expect_at(k, v, 20, "b");
	assert_ok(rs_cursor_prev(cur, &k, &v));
	expect_at(k, v, 16, "a");
	rs_cursor_close(cur);
	rs_txn_abort(txn);
}

/*
 * A run large enough that its index has 8 levels or more, where walks
 * prefetch ahead of themselves (shard.c: the window, and the burst of a
 * first step after a seek; with BIG_KEYS keys the index has fewer only
 * with a probability of about 5e-6). Its keys are inserted in key order,
 * so its nodes lie in memory one after another and the prefetches are
 * issued; a third of the keys of its middle third are deleted, so walks
 * step over nodes they do not see. Scans of random lengths from random
 * starts, both ways, each turning back once, equal the model.
 */
enum {
	BIG_KEYS = 200000,
	BIG_BATCH = 65536,
	BIG_SCANS = 400
};

static bool big_live(int i)
{
	return i >= 0 && i < BIG_KEYS &&
	       !(i >= BIG_KEYS / 3 && i < 2 * BIG_KEYS / 3 && i % 3 == 0);
}

/* The live key index after (dir > 0) or before i, or -1. */
static int big_next(int i, int dir)
{
	for (i += dir; i >= 0 && i < BIG_KEYS; i += dir)
		if (big_live(i))
			return i;
	return -1;
}

static void readahead__walks_over_a_large_run_match_the_model(void **state)
{
	rs_fx *fx = *state;
	const char *env = getenv("RS_TEST_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 0xb16a11eeu;
	rs_cursor *cur;
	rs_txn *txn;
	rs_bytes k, v;
	char sk[32], sv[32];

	printf("readahead large: seed %llu (RS_TEST_SEED)\n",
	       (unsigned long long)seed);
	for (int i = 0; i < BIG_KEYS; i += BIG_BATCH) {
		assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
		for (int j = i; j < i + BIG_BATCH && j < BIG_KEYS; j++) {
			size_t n = key_of(sk, sizeof(sk), "k", 2 * j);

			val_of(sv, sizeof(sv), "a", 2 * j);
			assert_ok(rs_txn_kv_put(txn, sk, n, sv, strlen(sv)));
		}
		assert_ok(rs_txn_commit(txn));
	}
	assert_ok(rs_txn_begin(&txn, fx->db, &fx->run, 0));
	for (int j = BIG_KEYS / 3; j < 2 * BIG_KEYS / 3; j++)
		if (!big_live(j))
			assert_ok(rs_txn_kv_delete(
				txn, sk, key_of(sk, sizeof(sk), "k", 2 * j),
				NULL));
	assert_ok(rs_txn_commit(txn));
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	for (int s = 0; s < BIG_SCANS; s++) {
		int at = (int)(rs_t_rand(&seed) % BIG_KEYS);
		int dir = rs_t_rand(&seed) & 1 ? 1 : -1;
		int len = 1 + (int)(rs_t_rand(&seed) % 150);
		int turn = (int)(rs_t_rand(&seed) % (unsigned)len);
		int want = big_live(at) ? at : big_next(at, dir);
		int rc = rs_cursor_seek(
			cur, sk, key_of(sk, sizeof(sk), "k", 2 * at),
			dir > 0 ? RS_SEEK_GE : RS_SEEK_LE, &k, &v);

		for (int j = 0;; j++) {
			if (want < 0) {
				assert_int_equal(rc, RS_ENOTFOUND);
				break;
			}
			assert_ok(rc);
			expect_at(k, v, 2 * want, "a");
			if (j == len)
				break;
			if (j == turn)
				dir = -dir;
			want = big_next(want, dir);
			rc = dir > 0 ? rs_cursor_next(cur, &k, &v)
				     : rs_cursor_prev(cur, &k, &v);
		}
	}
	rs_cursor_close(cur);
}

/* A prefix bound that ends inside a read-ahead batch, in both
 * directions. */
static void readahead__bound_ends_inside_a_batch(void **state)
{
	rs_fx *fx = *state;
	rs_cursor *cur;
	rs_bytes k, v;
	int n;

	/* 15 keys: the batches read ahead after a seek are entries 2, 4-5,
	 * 7-10 and 12-19, so the last key lies inside one, in both
	 * directions. */
	for (int j = 0; j < 20; j++) {
		put_i(fx, "a", j, "x");
		if (j < 15)
			put_i(fx, "k", j, "a");
		put_i(fx, "m", j, "x");
	}
	assert_ok(rs_kv_cursor_open(fx->db, &fx->run, &cur));
	assert_ok(rs_cursor_first(cur, "k", 1, &k, &v));
	n = 0;
	do
		expect_at(k, v, n++, "a");
	while (rs_cursor_next(cur, &k, &v) == 0);
	assert_int_equal(n, 15);
	assert_ok(rs_cursor_last(cur, "k", 1, &k, &v));
	n = 15;
	do
		expect_at(k, v, --n, "a");
	while (rs_cursor_prev(cur, &k, &v) == 0);
	assert_int_equal(n, 0);
	rs_cursor_close(cur);
}

/* ---- concurrent writers and reclamation (label concurrency) ---- */

typedef struct conc {
	rs_fx *fx;
	rs_ovl ovl;
	_Atomic int failed;
} conc;

typedef struct reader_arg {
	conc *c;
	unsigned id;
} reader_arg;

/* Stable keys are "k" + 4i (value "a"); the writer churns "k" + 4i + 1
 * and + 2 (value "w"), never the stable ones. */
static void *conc_reader(void *p)
{
	reader_arg *ra = p;
	conc *c = ra->c;
	uint64_t walks = 0;

	rs_ovl_start(&c->ovl);
	while (rs_ovl_reader_more(&c->ovl, walks, CONC_WALKS, 100000)) {
		bool rev = walks & 1;
		rs_cursor *cur;
		rs_bytes k, v;
		int stable = 0, rc, last = rev ? 1 << 30 : -1;

		if (rs_kv_cursor_open(c->fx->db, &c->fx->run, &cur) != 0) {
			c->failed = 1;
			break;
		}
		rc = rev ? rs_cursor_last(cur, "k", 1, &k, &v)
			 : rs_cursor_first(cur, "k", 1, &k, &v);
		for (; rc == 0; rc = rev ? rs_cursor_prev(cur, &k, &v)
					 : rs_cursor_next(cur, &k, &v)) {
			int i = atoi((const char *)k.data + 1);
			const char *want = i % 4 == 0 ? "a" : "w";
			char wv[32];

			val_of(wv, sizeof(wv), want, i);
			if (k.len != 7 || (rev ? i >= last : i <= last) ||
			    v.len != strlen(wv) || memcmp(v.data, wv, v.len))
				c->failed = 1;
			last = i;
			stable += i % 4 == 0;
			if ((stable & 7) == 0)
				sched_yield(); /* let the writer in mid-walk */
		}
		if (rc != RS_ENOTFOUND || stable != CONC_STABLE)
			c->failed = 1;
		rs_cursor_close(cur);
		rs_ovl_read(&c->ovl, ra->id);
		walks++;
	}
	return NULL;
}

static void *conc_writer(void *p)
{
	conc *c = p;
	uint64_t done = 0;

	rs_ovl_start(&c->ovl);
	while (rs_ovl_writer_more(&c->ovl, done, 2000, 2000000)) {
		int i = 4 * (int)(done % CONC_STABLE) + 1 + (int)(done / 7 % 2);

		if ((done / CONC_STABLE) % 2 == 0)
			put_i(c->fx, "k", i, "w");
		else
			del_i(c->fx, "k", i);
		done++;
	}
	rs_ovl_writer_done(&c->ovl);
	return NULL;
}

static void readahead__walks_under_concurrent_churn(void **state)
{
	rs_fx *fx = *state;
	pthread_t w, r[CONC_READERS];
	reader_arg ra[CONC_READERS];
	conc c = { .fx = fx };

	for (int j = 0; j < CONC_STABLE; j++)
		put_i(fx, "k", 4 * j, "a");
	rs_ovl_init(&c.ovl, CONC_READERS + 1, CONC_READERS, 1, CONC_WALKS);
	for (unsigned j = 0; j < CONC_READERS; j++) {
		ra[j] = (reader_arg){ &c, j };
		assert_int_equal(
			pthread_create(&r[j], NULL, conc_reader, &ra[j]), 0);
	}
	assert_int_equal(pthread_create(&w, NULL, conc_writer, &c), 0);
	pthread_join(w, NULL);
	for (unsigned j = 0; j < CONC_READERS; j++)
		pthread_join(r[j], NULL);
	rs_ovl_destroy(&c.ovl);
	assert_int_equal(c.failed, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(readahead__random_moves_match_the_model),
		RS_FX_TEST(
			readahead__saved_entries_survive_deletes_and_inserts),
		RS_FX_TEST(readahead__staged_writes_join_a_walk),
		RS_FX_TEST(readahead__bound_ends_inside_a_batch),
		RS_FX_TEST(readahead__walks_over_a_large_run_match_the_model),
	};
	const struct CMUnitTest conc_tests[] = {
		RS_FX_TEST(readahead__walks_under_concurrent_churn),
	};

	/* --concurrency: the threaded test alone (its own ctest entry,
	 * label concurrency, run under TSan by scripts/test). */
	if (argc > 1 && strcmp(argv[1], "--concurrency") == 0)
		return RS_FX_RUN_BOTH("readahead_concurrency", conc_tests);
	return RS_FX_RUN_BOTH("readahead", tests);
}
