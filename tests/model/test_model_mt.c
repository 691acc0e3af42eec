/* SPDX-License-Identifier: MIT */
/*
 * Multi-threaded model test (issue 8, deliver item 1): several threads run
 * read-write transactions over two shared runs, each reading a few keys
 * and sometimes a range, then writing or deleting some and appending one
 * event; others run read-only transactions. Every committed transaction's
 * reads and writes are recorded with its commit position: the sequence
 * its event got (assigned under the run's commit lock, in commit order;
 * the commit that got sequence s made version s + 1), or, read-only, its
 * snapshot version. The history must be serializable per run in that
 * order: replaying the committed writes in sequence order on a model, each
 * transaction's reads equal the model's state at its commit point (a
 * read-only one: at its snapshot), sequences are dense, the run's version
 * is the number of commits, and the final state equals the model's.
 *
 * Threads start together (a barrier) over two runs and eight keys, so
 * their transactions overlap and some conflict (the count is printed).
 * RS_MODEL_MT_TXNS
 * sets the transactions per thread (default 250); the seed is printed and
 * RS_MODEL_SEED replays the same draws (the interleaving is the
 * scheduler's).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rs_chk.h"
#include "common/rs_test.h"

#define NTHREADS 4
#define NRUNS 2
#define NKEYS 8
#define MAXREC 4096

typedef struct rec {
	unsigned run;
	bool ro;
	uint64_t pos; /* event sequence, or (read-only) snapshot version */
	/* Values read (0: absent) of the keys in rmask; the scan of keys
	 * [2, 6) when scanned: a value per key, 0 absent. */
	uint32_t rmask;
	uint64_t rv[NKEYS];
	bool scanned;
	uint64_t sv[NKEYS];
	/* Writes: keys in wmask get wv (0: deleted). */
	uint32_t wmask;
	uint64_t wv[NKEYS];
} rec;

typedef struct worker {
	unsigned no;
	rs_db *db;
	uint64_t seed;
	unsigned txns;
	rec *recs;
	size_t nrec;
	unsigned conflicts;
	pthread_barrier_t *start;
	chk *c;
} worker;

static rs_run_id run_ids[NRUNS];

static void key_of(unsigned k, char *buf)
{
	snprintf(buf, 8, "k%u", k);
}

static uint64_t val_of(rs_bytes v)
{
	uint64_t x = 0;

	if (v.len == 8)
		memcpy(&x, v.data, 8);
	return x;
}

struct scan_col {
	uint64_t *sv;
	int bad;
};

static int scan_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	struct scan_col *s = ctx;
	unsigned k;

	if (key.len != 2 || ((const char *)key.data)[0] != 'k') {
		s->bad = 1;
		return 1;
	}
	k = (unsigned)(((const char *)key.data)[1] - '0');
	if (k >= NKEYS) {
		s->bad = 1;
		return 1;
	}
	s->sv[k] = val_of(value);
	return 0;
}

/* One transaction; records it when it commits. */
static void one_txn(worker *w, uint64_t *rng, unsigned i)
{
	rec r;
	rs_txn *txn;
	bool ro = rs_t_rand(rng) % 5 == 0;
	char key[8];
	rs_event_receipt receipt = { 0 };
	int rc;

	memset(&r, 0, sizeof(r));
	r.run = (unsigned)(rs_t_rand(rng) % NRUNS);
	r.ro = ro;
	if (!CHECK(w->c,
		   rs_txn_begin(&txn, w->db, &run_ids[r.run],
				ro ? RS_TXN_F_READONLY : 0) == 0,
		   "begin"))
		return;
	if (ro && !CHECK(w->c, rs_txn_snapshot_version(txn, &r.pos) == 0,
			 "snapshot version")) {
		rs_txn_abort(txn);
		return;
	}
	for (unsigned n = 1 + (unsigned)(rs_t_rand(rng) % 3); n; n--) {
		unsigned k = (unsigned)(rs_t_rand(rng) % NKEYS);
		rs_bytes v = { NULL, 0 };

		key_of(k, key);
		rc = rs_txn_kv_get(txn, key, 2, &v);
		CHECK(w->c, rc == 0 || rc == RS_ENOTFOUND, "get: %s",
		      rs_errname(rc));
		r.rmask |= 1u << k;
		r.rv[k] = rc == 0 ? val_of(v) : 0;
		/* Let other threads commit in between. */
		sched_yield();
	}
	if (rs_t_rand(rng) % 3 == 0) {
		rs_scan_options o = RS_SCAN_OPTIONS_INIT;
		struct scan_col s = { r.sv, 0 };

		o.start = "k2";
		o.start_len = 2;
		o.end = "k6";
		o.end_len = 2;
		rc = rs_txn_kv_scan(txn, &o, NULL, scan_cb, &s);
		CHECK(w->c, rc == 0 && !s.bad, "scan: %s", rs_errname(rc));
		r.scanned = true;
	}
	if (!ro) {
		for (unsigned n = 1 + (unsigned)(rs_t_rand(rng) % 2); n; n--) {
			unsigned k = (unsigned)(rs_t_rand(rng) % NKEYS);
			uint64_t v = ((uint64_t)(w->no + 1) << 40) |
				     ((uint64_t)i << 8) | (k + 1);

			key_of(k, key);
			if (rs_t_rand(rng) % 4 == 0) {
				v = 0;
				rc = rs_txn_kv_delete(txn, key, 2, NULL);
			} else {
				rc = rs_txn_kv_put(txn, key, 2, &v, 8);
			}
			CHECK(w->c, rc == 0, "write: %s", rs_errname(rc));
			r.wmask |= 1u << k;
			r.wv[k] = v;
		}
		rc = rs_txn_eventlog_append(txn, "c", 1, &i, sizeof(i),
					    &receipt);
		CHECK(w->c, rc == 0, "append: %s", rs_errname(rc));
	}
	sched_yield();
	rc = rs_txn_commit(txn);
	if (rc == RS_ECONFLICT) {
		w->conflicts++;
		return;
	}
	if (!CHECK(w->c, rc == 0, "commit: %s", rs_errname(rc)))
		return;
	if (!ro)
		r.pos = receipt.seq;
	if (CHECK(w->c, w->nrec < MAXREC, "records full"))
		w->recs[w->nrec++] = r;
}

static void *worker_fn(void *arg)
{
	worker *w = arg;
	uint64_t rng = w->seed ^ (0x1234567ull * (w->no + 1));

	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < w->txns; i++)
		one_txn(w, &rng, i);
	return NULL;
}

/* Replay one run's committed transactions in commit order. */
static void check_run(rs_db *db, unsigned run, worker *ws)
{
	const rec **byseq;
	size_t nw = 0, nro = 0;
	uint64_t state[NKEYS] = { 0 }, ver = 0, len = 0;

	for (unsigned t = 0; t < NTHREADS; t++)
		for (size_t i = 0; i < ws[t].nrec; i++)
			if (ws[t].recs[i].run == run) {
				if (ws[t].recs[i].ro)
					nro++;
				else
					nw++;
			}
	byseq = calloc(nw + 1, sizeof(*byseq));
	assert_non_null(byseq);
	for (unsigned t = 0; t < NTHREADS; t++)
		for (size_t i = 0; i < ws[t].nrec; i++) {
			const rec *r = &ws[t].recs[i];

			if (r->run != run || r->ro)
				continue;
			if (r->pos >= nw || byseq[r->pos])
				fail_msg("run %u: sequence %" PRIu64
					 " not dense or repeated (%zu commits)",
					 run, r->pos, nw);
			byseq[r->pos] = r;
		}
	assert_ok(rs_db_run_version(db, &run_ids[run], &ver));
	assert_ok(rs_eventlog_len(db, &run_ids[run], &len));
	assert_int_equal(ver, nw);
	assert_int_equal(len, nw);
	for (uint64_t s = 0; s <= nw; s++) {
		/* Read-only transactions whose snapshot is version s. */
		for (unsigned t = 0; t < NTHREADS; t++)
			for (size_t i = 0; i < ws[t].nrec; i++) {
				const rec *r = &ws[t].recs[i];

				if (r->run != run || !r->ro || r->pos != s)
					continue;
				for (unsigned k = 0; k < NKEYS; k++)
					if (((r->rmask >> k) & 1 &&
					     r->rv[k] != state[k]) ||
					    (r->scanned && k >= 2 && k < 6 &&
					     r->sv[k] != state[k]))
						fail_msg("run %u: read-only at "
							 "v%" PRIu64
							 " read k%u wrong",
							 run, s, k);
			}
		if (s == nw)
			break;
		const rec *r = byseq[s];

		for (unsigned k = 0; k < NKEYS; k++) {
			if ((r->rmask >> k) & 1 && r->rv[k] != state[k])
				fail_msg("run %u: commit %" PRIu64
					 " read k%u = %#" PRIx64
					 ", but at its commit point it was "
					 "%#" PRIx64 ": not serializable",
					 run, s, k, r->rv[k], state[k]);
			if (r->scanned && k >= 2 && k < 6 &&
			    r->sv[k] != state[k])
				fail_msg("run %u: commit %" PRIu64
					 " scanned k%u = %#" PRIx64
					 ", at its commit point %#" PRIx64
					 " (phantom)",
					 run, s, k, r->sv[k], state[k]);
		}
		for (unsigned k = 0; k < NKEYS; k++)
			if ((r->wmask >> k) & 1)
				state[k] = r->wv[k];
	}
	for (unsigned k = 0; k < NKEYS; k++) {
		char key[8];
		uint64_t v = 0;
		size_t l = 0;
		int rc;

		key_of(k, key);
		rc = rs_kv_get(db, &run_ids[run], key, 2, &v, sizeof(v), &l);
		assert_int_equal(rc, state[k] ? 0 : RS_ENOTFOUND);
		if (state[k])
			assert_true(v == state[k]);
	}
	printf("run %u: %zu read-write and %zu read-only transactions "
	       "committed, replayed in commit order\n",
	       run, nw, nro);
	free(byseq);
}

static void model_mt__committed_history_is_serializable(void **state)
{
	rs_db *db;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	worker ws[NTHREADS];
	pthread_barrier_t start;
	const char *e = getenv("RS_MODEL_MT_TXNS"),
		   *s = getenv("RS_MODEL_SEED");
	unsigned txns = e ? (unsigned)strtoul(e, NULL, 0) : 250;
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	unsigned conflicts = 0;
	chk c;

	(void)state;
	printf("model_mt: seed %" PRIu64 " (RS_MODEL_SEED), %u threads x %u "
	       "transactions\n",
	       seed, NTHREADS, txns);
	chk_init(&c);
	assert_ok(rs_db_open(&db, &o));
	for (unsigned r = 0; r < NRUNS; r++)
		run_ids[r] = rs_t_run();
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (unsigned t = 0; t < NTHREADS; t++) {
		ws[t] = (worker){
			t, db, seed,   txns, calloc(MAXREC, sizeof(rec)),
			0, 0,  &start, &c
		};
		assert_non_null(ws[t].recs);
	}
	run_threads(NTHREADS, worker_fn, ws, sizeof(ws[0]));
	pthread_barrier_destroy(&start);
	chk_assert(&c);
	for (unsigned r = 0; r < NRUNS; r++)
		check_run(db, r, ws);
	for (unsigned t = 0; t < NTHREADS; t++) {
		conflicts += ws[t].conflicts;
		free(ws[t].recs);
	}
	printf("model_mt: %u transactions conflicted (and were dropped)\n",
	       conflicts);
	rs_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_mt__committed_history_is_serializable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
