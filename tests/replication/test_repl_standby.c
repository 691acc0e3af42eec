/* SPDX-License-Identifier: MIT */
/*
 * The hot standby and checkpoints against a 3-node cluster, in one
 * process (a writer and a follower of the same name, each with its own
 * connection):
 *
 * - the follower applies the writer's commits, rejects writes
 *   (RS_EREADONLY), reports its position and lag in rs_db_stat();
 * - a reader of the follower never sees a multi-key transaction torn;
 * - promotion catches up and fences the old writer (RS_EFENCED);
 * - checkpoints: a fresh open loads the newest one and replays only the
 *   records after it; the log is trimmed behind it; checkpoints succeed
 *   while a committer goes on;
 * - the model workload (tests/common/statemodel.c) on the writer: the
 *   follower and a fresh open of the stream equal the model, EventLog
 *   hashes included.

 *
 * RS_REPL_MODEL_OPS (default 400): operations of the model workload.
 * RS_REPL_TORN_TXNS (default 200): transactions the torn-read test commits.
 */
#include "common/rs_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/statemodel.h"
#include "repl_util.h"

/* Waits (bounded) until db has run at version >= want. */
static bool wait_version(rs_db *db, const rs_run_id *run, uint64_t want,
			 double timeout_s)
{
	double end = rt_now() + timeout_s;
	uint64_t v = 0;

	while (rt_now() < end) {
		if (rs_db_run_version(db, run, &v) == 0 && v >= want)
			return true;
		rt_sleep_ms(5);
	}
	return false;
}

static void repl__follower_applies_and_rejects_writes(void **state)
{
	(void)state;
	RT_NEED_CLUSTER();
	rs_run_id run = rt_run();
	rs_nats *nw = NULL, *nf = NULL;
	rs_db *w = NULL, *f = NULL;
	rs_db_stats st = RS_DB_STATS_INIT;
	rs_nats_stats ns = RS_NATS_STATS_INIT;

	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_apply", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 20; i++)
		assert_ok(rt_put(w, i));
	/* Opened with history: recovers it, then tails. */
	assert_ok(rt_open(&nf, &f, rt_cluster.urls, "sb_apply", 3,
			  RS_NATS_F_FOLLOWER, RS_DURABILITY_STRICT, 0));
	for (long i = 20; i < 50; i++)
		assert_ok(rt_put(w, i));
	assert_true(wait_version(f, &run, 50, 20));
	for (long i = 0; i < 50; i++)
		assert_true(rt_has(f, i));
	assert_rc(rt_put(f, 99), RS_EREADONLY);
	assert_false(rt_has(f, 99));
	assert_ok(rs_db_stat(f, &st));
	assert_true(st.follower);
	assert_true(st.records_applied >= 30);
	assert_true(st.repl_position >= 51);
	assert_int_equal(st.repl_lag_records, 0);
	assert_ok(rs_nats_stat(nf, &ns));
	assert_true(ns.follower);
	print_message("follower: %llu records applied, position %llu, lag "
		      "%llu records\n",
		      (unsigned long long)st.records_applied,
		      (unsigned long long)st.repl_position,
		      (unsigned long long)st.repl_lag_records);
	rs_nats_close(nf);
	rs_nats_close(nw);
}

#define TORN_KEYS 8

struct torn_arg {
	rs_db *db;
	_Atomic bool stop;
	long reads, torn, seen_max;
};

static void *torn_reader(void *p)
{
	struct torn_arg *a = p;
	rs_run_id run = rt_run();

	while (!atomic_load(&a->stop)) {
		rs_txn *txn = NULL;
		char first[32] = "", v[32];
		size_t len;
		bool torn = false;

		if (rs_txn_begin(&txn, a->db, &run, RS_TXN_F_READONLY) != 0)
			continue;
		for (int k = 0; k < TORN_KEYS; k++) {
			rs_bytes got = { NULL, 0 };
			char key[8];
			int rc;

			snprintf(key, sizeof(key), "t%d", k);
			rc = rs_txn_kv_get(txn, key, strlen(key), &got);
			len = rc == 0 && got.len < sizeof(v) ? got.len : 0;
			if (len)
				memcpy(v, got.data, len);
			v[len] = '\0';
			if (k == 0)
				memcpy(first, v, sizeof(first));
			else if (strcmp(first, v) != 0)
				torn = true;
		}
		rs_txn_abort(txn);
		a->reads++;
		a->torn += torn;
		if (first[0] && atol(first) > a->seen_max)
			a->seen_max = atol(first);
	}
	return NULL;
}

static void repl__follower_never_sees_a_torn_transaction(void **state)
{
	(void)state;
	RT_NEED_CLUSTER();
	long txns = rt_env_long("RS_REPL_TORN_TXNS", 200);
	rs_run_id run = rt_run();
	rs_nats *nw = NULL, *nf = NULL;
	rs_db *w = NULL, *f = NULL;
	struct torn_arg a = { NULL, false, 0, 0, 0 };
	pthread_t th;

	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_torn", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_ok(rt_open(&nf, &f, rt_cluster.urls, "sb_torn", 3,
			  RS_NATS_F_FOLLOWER, RS_DURABILITY_STRICT, 0));
	a.db = f;
	assert_int_equal(pthread_create(&th, NULL, torn_reader, &a), 0);
	for (long i = 1; i <= txns; i++) {
		rs_txn *txn = NULL;
		char v[24];

		snprintf(v, sizeof(v), "%ld", i);
		assert_ok(rs_txn_begin(&txn, w, &run, 0));
		for (int k = 0; k < TORN_KEYS; k++) {
			char key[8];

			snprintf(key, sizeof(key), "t%d", k);
			assert_ok(rs_txn_kv_put(txn, key, strlen(key), v,
						strlen(v)));
		}
		assert_ok(rs_txn_commit(txn));
	}
	assert_true(wait_version(f, &run, (uint64_t)txns, 20));
	rt_sleep_ms(50);
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	print_message("%ld transactions of %d keys; %ld snapshot reads on "
		      "the follower, %ld torn, newest seen %ld\n",
		      txns, TORN_KEYS, a.reads, a.torn, a.seen_max);
	assert_int_equal(a.torn, 0);
	assert_true(a.reads > 0);
	assert_int_equal(a.seen_max, txns);
	rs_nats_close(nf);
	rs_nats_close(nw);
}

static void repl__promotion_catches_up_and_fences(void **state)
{
	(void)state;
	RT_NEED_CLUSTER();
	rs_nats *nw = NULL, *nf = NULL, *n3 = NULL;
	rs_db *w = NULL, *f = NULL, *d3 = NULL;
	rs_db_stats st = RS_DB_STATS_INIT;

	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_promote", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_ok(rt_open(&nf, &f, rt_cluster.urls, "sb_promote", 3,
			  RS_NATS_F_FOLLOWER, RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 40; i++)
		assert_ok(rt_put(w, i));
	/* No wait: promotion itself catches up to the stream's end. */
	assert_ok(rs_nats_promote(nf));
	for (long i = 0; i < 40; i++)
		assert_true(rt_has(f, i));
	assert_ok(rs_db_stat(f, &st));
	assert_false(st.follower);
	assert_rc(rt_put(w, 40), RS_EFENCED);
	assert_ok(rt_put(f, 41));
	assert_rc(rs_nats_promote(nf), RS_EINVAL);
	rs_nats_close(nw);
	rs_nats_close(nf);
	assert_ok(rt_open(&n3, &d3, rt_cluster.urls, "sb_promote", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_false(rt_has(d3, 40));
	assert_true(rt_has(d3, 41));
	rs_nats_close(n3);
}

static void repl__checkpoint_bounds_replay(void **state)
{
	(void)state;
	RT_NEED_CLUSTER();
	rs_nats *nw = NULL, *n2 = NULL, *nf = NULL;
	rs_db *w = NULL, *d2 = NULL, *f = NULL;
	rs_nats_stats ns = RS_NATS_STATS_INIT;
	uint64_t p1, p2;

	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_ckpt", 3, 0,
			  RS_DURABILITY_BUFFERED, 0));
	/* Stream positions, not record counts: Buffered records travel
	 * many to a message (group commit). */
	for (long i = 0; i < 100; i++)
		assert_ok(rt_put(w, i));
	assert_ok(rs_db_flush(w));
	assert_ok(rs_nats_stat(nw, &ns));
	p1 = ns.position;
	assert_ok(rs_db_checkpoint(w));
	for (long i = 100; i < 150; i++)
		assert_ok(rt_put(w, i));
	assert_ok(rs_db_flush(w));
	assert_ok(rs_nats_stat(nw, &ns));
	p2 = ns.position;
	assert_true(p2 > p1);
	/* The second checkpoint trims the log below the first one. */
	assert_ok(rs_db_checkpoint(w));
	for (long i = 150; i < 170; i++)
		assert_ok(rt_put(w, i));
	assert_ok(rs_db_flush(w));
	assert_ok(rs_nats_stat(nw, &ns));
	assert_int_equal(ns.checkpoints, 2);
	rs_nats_close(nw);
	assert_ok(rt_open(&n2, &d2, rt_cluster.urls, "sb_ckpt", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 170; i++)
		assert_true(rt_has(d2, i));
	assert_ok(rs_nats_stat(n2, &ns));
	print_message("fresh open: checkpoint at position %llu, %llu "
		      "records replayed after it (170 commits in all), the "
		      "log starts at %llu (checkpoints taken at %llu, %llu)\n",
		      (unsigned long long)ns.checkpoint_position,
		      (unsigned long long)ns.replayed,
		      (unsigned long long)ns.log_first, (unsigned long long)p1,
		      (unsigned long long)p2);
	assert_true(ns.checkpoint_position >= p2);
	assert_true(ns.replayed <= 20);
	/* Trimmed below the first checkpoint's position. */
	assert_true(ns.log_first >= p1);
	/* A follower starts from the checkpoint too. */
	assert_ok(rt_open(&nf, &f, rt_cluster.urls, "sb_ckpt", 3,
			  RS_NATS_F_FOLLOWER, RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 170; i++)
		assert_true(rt_has(f, i));
	rs_nats_close(nf);
	rs_nats_close(n2);
}

#define CKPT_THREADS 6
/* Bounds of each committer (it runs until the checkpoints are done). */
#define CKPT_MAX_COMMITS 5000
#define CKPT_MAX_S 30.0

struct ckpt_writer {
	rs_db *db;
	rs_run_id run;
	_Atomic bool *stop;
	long done, failed;
};

static void *ckpt_committer(void *p)
{
	struct ckpt_writer *a = p;
	double end = rt_now() + CKPT_MAX_S;

	while (!atomic_load(a->stop) && a->done < CKPT_MAX_COMMITS &&
	       rt_now() < end) {
		char k[24];

		rt_key(k, sizeof(k), a->done);
		if (rs_kv_put(a->db, &a->run, k, strlen(k), "v", 1) != 0)
			a->failed++;
		else
			a->done++;
	}
	return NULL;
}

static void repl__checkpoint_while_committing(void **state)
{
	rs_nats *nw = NULL, *n2 = NULL;
	rs_db *w = NULL, *d2 = NULL;
	struct ckpt_writer a[CKPT_THREADS];
	pthread_t th[CKPT_THREADS];
	_Atomic bool stop = false;
	rs_nats_stats ns = RS_NATS_STATS_INIT;
	long total = 0;
	int ok = 0;

	(void)state;
	RT_NEED_CLUSTER();
	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_ckpt_busy", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (int t = 0; t < CKPT_THREADS; t++) {
		a[t].db = w;
		a[t].stop = &stop;
		a[t].done = a[t].failed = 0;
		assert_ok(rs_run_id_generate(&a[t].run));
		assert_int_equal(
			pthread_create(&th[t], NULL, ckpt_committer, &a[t]), 0);
	}
	/* The committers run until the checkpoints are done: a checkpoint
	 * must not wait for an idle moment. */
	for (int i = 0; i < 3; i++) {
		rt_sleep_ms(30);
		ok += rs_db_checkpoint(w) == 0;
	}
	atomic_store(&stop, true);
	for (int t = 0; t < CKPT_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(a[t].failed, 0);
		total += a[t].done;
	}
	assert_int_equal(ok, 3);
	rs_nats_close(nw);
	assert_ok(rt_open(&n2, &d2, rt_cluster.urls, "sb_ckpt_busy", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_ok(rs_nats_stat(n2, &ns));
	print_message("3 checkpoints during %ld Strict commits of %d threads; "
		      "a fresh open loaded the one at position %llu and "
		      "replayed %llu records\n",
		      total, CKPT_THREADS,
		      (unsigned long long)ns.checkpoint_position,
		      (unsigned long long)ns.replayed);
	for (int t = 0; t < CKPT_THREADS; t++) {
		uint64_t v = 0;

		assert_ok(rs_db_run_version(d2, &a[t].run, &v));
		assert_int_equal(v, a[t].done);
	}
	rs_nats_close(n2);
}

static void repl__model_workload_standby_equals_model(void **state)
{
	(void)state;
	RT_NEED_CLUSTER();
	long nops = rt_env_long("RS_REPL_MODEL_OPS", 400);
	enum {
		RUNS = 3
	};
	rs_nats *nw = NULL, *nf = NULL, *n3 = NULL;
	rs_db *w = NULL, *f = NULL, *d3 = NULL;
	sm_run model[RUNS];
	uint64_t rng = 0x5eed0011u;
	char why[512];
	long wrote = 0;

	assert_ok(rt_open(&nw, &w, rt_cluster.urls, "sb_model", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_ok(rt_open(&nf, &f, rt_cluster.urls, "sb_model", 3,
			  RS_NATS_F_FOLLOWER, RS_DURABILITY_STRICT, 0));
	for (int r = 0; r < RUNS; r++) {
		rs_run_id id;

		assert_ok(rs_run_id_generate(&id));
		sm_run_init(&model[r], &id);
	}
	for (long i = 0; i < nops; i++) {
		sm_run *r = &model[sm_rnd(&rng, RUNS)];
		size_t ev = r->nev, tr = r->ntr, ns = 0;
		sm_op op;
		sm_res want, got;

		sm_gen_write(r, &rng, &op);
		sm_apply(r, &op, false, &ns, &want);
		sm_exec(w, &r->id, NULL, &op, &got);
		if (!sm_same_res(&op, &got, &want, false, why, sizeof(why)))
			fail_msg("op %ld (%s): %s", i, sm_kind_name(op.kind),
				 why);
		wrote += want.wrote;
		/* Event hashes and timestamps as the writer made them: the
		 * standby must have the same. */
		if (!sm_learn(w, r, ev, tr, why, sizeof(why)))
			fail_msg("learn: %s", why);
	}
	for (int r = 0; r < RUNS; r++) {
		assert_true(
			wait_version(f, &model[r].id, model[r].version, 20));
		if (!sm_check_run(w, &model[r], why, sizeof(why)))
			fail_msg("writer, run %d: %s", r, why);
		if (!sm_check_run(f, &model[r], why, sizeof(why)))
			fail_msg("follower, run %d: %s", r, why);
	}
	rs_nats_close(nf);
	rs_nats_close(nw);
	assert_ok(rt_open(&n3, &d3, rt_cluster.urls, "sb_model", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (int r = 0; r < RUNS; r++) {
		if (!sm_check_run(d3, &model[r], why, sizeof(why)))
			fail_msg("fresh open, run %d: %s", r, why);
		sm_run_free(&model[r]);
	}
	print_message("model workload: %ld operations (%ld commits) on %d "
		      "runs; writer, follower and a fresh open equal the "
		      "model\n",
		      nops, wrote, RUNS);
	rs_nats_close(n3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(repl__follower_applies_and_rejects_writes),
		cmocka_unit_test(repl__follower_never_sees_a_torn_transaction),
		cmocka_unit_test(repl__promotion_catches_up_and_fences),
		cmocka_unit_test(repl__checkpoint_bounds_replay),
		cmocka_unit_test(repl__checkpoint_while_committing),
		cmocka_unit_test(repl__model_workload_standby_equals_model),
	};

	return cmocka_run_group_tests_name("repl_standby", tests,
					   rt_group_setup, rt_group_teardown);
}
