/* SPDX-License-Identifier: MIT */
/*
 * The per-phase counters of <runstate/perf.h> (docs/perf-trace.md).
 *
 * Built in every tree. Without RS_PERF_TRACE (the default build) it checks
 * that the calls exist and refuse with RS_ENOTSUP, writing nothing (bad
 * arguments are test_misuse's rows). With
 * it (cmake -DRS_PERF_TRACE=ON) it runs known workloads and checks that
 * each phase's count advances by exactly what the workload implies
 * (one-shot puts and appends, reads, explicit and read-only transactions,
 * a conflict, Buffered and Strict commits, other threads, a reset), and
 * that a phase that ran took some time: total > 0 and max <= total. It
 * asserts no duration.
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <runstate/perf.h>

/* Rounds of each workload: small, every count is exact anyway. */
#define N_PUTS 40u
#define N_GETS 30u
#define N_STRICT 4u
#define N_THREAD_PUTS 25u
#define N_THREADS 2u

static void test_phase_names(void **state)
{
	static const char *const names[RS_PERF_PHASES] = {
		"snapshot", "body",  "lock",	"validate", "prepare", "log",
		"sync",	    "apply", "publish", "reclaim",  "read",
	};

	(void)state;
	for (int p = 0; p < RS_PERF_PHASES; p++)
		assert_string_equal(rs_perf_phase_name((rs_perf_phase)p),
				    names[p]);
}

#ifndef RS_PERF_TRACE

static void test_off(void **state)
{
	rs_perf_stats s = RS_PERF_STATS_INIT;
	rs_db *db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	rs_run_id run = rs_t_run();

	(void)state;
	rs_t_put(db, &run, "k", "v");
	s.threads = 77;
	assert_rc(rs_perf_read(&s), RS_ENOTSUP);
	assert_true(s.threads == 77);
	assert_rc(rs_perf_reset(), RS_ENOTSUP);
	rs_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_names),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests_name("perf_off", tests, NULL, NULL);
}

#else

/* Counts per phase, in rs_perf_phase order. */
typedef uint64_t counts[RS_PERF_PHASES];

static rs_perf_stats read_stats(void)
{
	rs_perf_stats s = RS_PERF_STATS_INIT;

	assert_ok(rs_perf_read(&s));
	assert_int_equal(s.version, RS_PERF_STATS_VERSION);
	assert_true(s.clock == RS_PERF_CLOCK_TSC ||
		    s.clock == RS_PERF_CLOCK_MONOTONIC);
	assert_true(s.clock_read_ns > 0);
	return s;
}

/* Every count equals `want`; a phase that ran took time and its longest
 * run is within its total. */
static void expect_counts(const rs_perf_stats *s, const counts want)
{
	for (int p = 0; p < RS_PERF_PHASES; p++) {
		const rs_perf_counter *c = &s->phase[p];
		const char *n = rs_perf_phase_name((rs_perf_phase)p);

		if (c->count != want[p])
			fail_msg("phase %s: count %llu, expected %llu", n,
				 (unsigned long long)c->count,
				 (unsigned long long)want[p]);
		if (c->count == 0) {
			assert_true(c->total_ns == 0 && c->max_ns == 0);
			continue;
		}
		if (c->total_ns == 0)
			fail_msg("phase %s: ran %llu times in 0 ns", n,
				 (unsigned long long)c->count);
		assert_true(c->max_ns <= c->total_ns);
	}
}

static void expect_now(const counts want)
{
	rs_perf_stats s = read_stats();

	expect_counts(&s, want);
}

/* The phases a committed write runs, each `n` times (SYNC: `synced`). */
static void write_counts(counts c, uint64_t n, uint64_t synced)
{
	for (int p = RS_PERF_SNAPSHOT; p <= RS_PERF_RECLAIM; p++)
		c[p] += n;
	c[RS_PERF_SYNC] += synced - n;
}

static void test_reset(void **state)
{
	counts want = { 0 };
	rs_db *db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	rs_run_id run = rs_t_run();
	rs_perf_stats s;

	(void)state;
	rs_t_put(db, &run, "a", "1");
	assert_ok(rs_perf_reset());
	s = read_stats();
	expect_counts(&s, want);
	assert_true(s.threads == 0);
	rs_t_put(db, &run, "a", "2");
	s = read_stats();
	write_counts(want, 1, 0);
	expect_counts(&s, want);
	assert_true(s.threads == 1);
	rs_db_close(db);
}

/* One-shot puts and reads (present and absent), on both stores. */
static void oneshot(rs_storage storage)
{
	counts want = { 0 };
	rs_db *db = rs_t_open(storage, NULL);
	rs_run_id run = rs_t_run();
	rs_perf_stats s;
	char key[16];

	assert_ok(rs_perf_reset());
	for (unsigned i = 0; i < N_PUTS; i++) {
		snprintf(key, sizeof(key), "k%u", i % 8);
		rs_t_put(db, &run, key, "value");
	}
	write_counts(want, N_PUTS, 0);
	expect_now(want);
	for (unsigned i = 0; i < N_GETS; i++) {
		snprintf(key, sizeof(key), "k%u", i % 16); /* half absent */
		rs_t_expect(db, &run, key, i % 16 < 8 ? "value" : NULL);
	}
	want[RS_PERF_READ] += N_GETS;
	s = read_stats();
	expect_counts(&s, want);
	rs_db_close(db);
}

static void test_oneshot_sharded(void **state)
{
	(void)state;
	oneshot(RS_STORAGE_SHARDED);
}

static void test_oneshot_unified(void **state)
{
	(void)state;
	oneshot(RS_STORAGE_UNIFIED);
}

static void test_transactions(void **state)
{
	counts want = { 0 };
	rs_db *db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	rs_run_id run = rs_t_run();
	rs_txn *txn, *ro;
	rs_perf_stats s;

	(void)state;
	rs_t_put(db, &run, "x", "0");
	assert_ok(rs_perf_reset());

	/* Read-write: two reads (one of its own write), one commit. */
	assert_ok(rs_txn_begin(&txn, db, &run, 0));
	rs_t_txn_expect(txn, "x", "0");
	rs_t_txn_put(txn, "y", "1");
	rs_t_txn_expect(txn, "y", "1");
	assert_ok(rs_txn_commit(txn));
	write_counts(want, 1, 0);
	want[RS_PERF_READ] += 2;
	s = read_stats();
	expect_counts(&s, want);

	/* Read-only: its snapshot and its read, nothing of a commit. */
	assert_ok(rs_txn_begin(&ro, db, &run, RS_TXN_F_READONLY));
	rs_t_txn_expect(ro, "y", "1");
	assert_ok(rs_txn_commit(ro));
	want[RS_PERF_SNAPSHOT]++;
	want[RS_PERF_READ]++;
	s = read_stats();
	expect_counts(&s, want);

	/* Aborted: its snapshot only. */
	assert_ok(rs_txn_begin(&txn, db, &run, 0));
	rs_t_txn_put(txn, "z", "1");
	rs_txn_abort(txn);
	want[RS_PERF_SNAPSHOT]++;
	s = read_stats();
	expect_counts(&s, want);

	/* A conflict stops at validation: snapshot, body and lock ran. */
	assert_ok(rs_txn_begin(&txn, db, &run, 0));
	rs_t_txn_expect(txn, "x", "0");
	rs_t_txn_put(txn, "x", "1");
	rs_t_put(db, &run, "x", "2");
	write_counts(want, 1, 0);
	assert_rc(rs_txn_commit(txn), RS_ECONFLICT);
	want[RS_PERF_SNAPSHOT]++;
	want[RS_PERF_READ]++;
	want[RS_PERF_BODY]++;
	want[RS_PERF_LOCK]++;
	s = read_stats();
	expect_counts(&s, want);
	rs_db_close(db);
}

static void test_eventlog(void **state)
{
	counts want = { 0 };
	rs_db *db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	rs_run_id run = rs_t_run();
	rs_event_receipt r;

	(void)state;
	assert_ok(rs_perf_reset());
	for (unsigned i = 0; i < N_PUTS; i++)
		assert_ok(
			rs_eventlog_append(db, &run, "t", 1, "payload", 7, &r));
	write_counts(want, N_PUTS, 0);
	expect_now(want);
	rs_db_close(db);
}

/* Buffered commits never wait for a sync; Strict ones do, each once. */
static void durable(rs_durability mode)
{
	char dir[] = "/tmp/rs-test-perf-XXXXXX";
	rs_db_options o = RS_DB_OPTIONS_INIT;
	counts want = { 0 };
	rs_run_id run = rs_t_run();
	rs_db *db;

	assert_non_null(mkdtemp(dir));
	o.path = dir;
	o.durability = mode;
	assert_ok(rs_db_open(&db, &o));
	assert_ok(rs_perf_reset());
	for (unsigned i = 0; i < N_STRICT; i++)
		rs_t_put(db, &run, "k", "v");
	write_counts(want, N_STRICT,
		     mode == RS_DURABILITY_STRICT ? N_STRICT : 0);
	expect_now(want);
	rs_db_close(db);
	rs_t_rmtree(dir);
}

static void test_buffered(void **state)
{
	(void)state;
	durable(RS_DURABILITY_BUFFERED);
}

static void test_strict(void **state)
{
	(void)state;
	durable(RS_DURABILITY_STRICT);
}

struct writer {
	rs_db *db;
	rs_run_id run;
	pthread_barrier_t *all_started;
};

/* All writers record before any exits: each holds its own block. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	int rc = rs_kv_put(w->db, &w->run, "k", 1, "v", 1);

	pthread_barrier_wait(w->all_started);
	for (unsigned i = 1; i < N_THREAD_PUTS && rc == 0; i++)
		rc = rs_kv_put(w->db, &w->run, "k", 1, "v", 1);
	return rc == 0 ? NULL : arg; /* non-NULL: failed */
}

/* Threads that have exited still count, and each is one block. */
static void test_threads(void **state)
{
	counts want = { 0 };
	rs_db *db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	struct writer w[N_THREADS];
	pthread_t th[N_THREADS];
	pthread_barrier_t bar;
	rs_perf_stats s;

	(void)state;
	assert_int_equal(pthread_barrier_init(&bar, NULL, N_THREADS), 0);
	assert_ok(rs_perf_reset());
	for (unsigned i = 0; i < N_THREADS; i++) {
		w[i].db = db;
		w[i].run = rs_t_run();
		w[i].all_started = &bar;
		assert_int_equal(
			pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < N_THREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	pthread_barrier_destroy(&bar);
	write_counts(want, N_THREADS * N_THREAD_PUTS, 0);
	s = read_stats();
	expect_counts(&s, want);
	assert_true(s.threads == N_THREADS);
	/* This thread joins them. */
	rs_t_put(db, &w[0].run, "k", "v");
	write_counts(want, 1, 0);
	s = read_stats();
	expect_counts(&s, want);
	assert_true(s.threads == N_THREADS + 1);
	rs_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_names),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_oneshot_sharded),
		cmocka_unit_test(test_oneshot_unified),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_eventlog),
		cmocka_unit_test(test_buffered),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("perf_on", tests, NULL, NULL);
}

#endif
