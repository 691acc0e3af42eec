/* SPDX-License-Identifier: MIT */
/*
 * The JetStream backend in one process against a 3-node cluster: commits
 * survive a reopen (Strict and Buffered), a second writer fences the first
 * (RS_EFENCED, nothing of the fenced writer stored), concurrent Strict
 * committers all land, one server down does not stop commits, two of three
 * down make commits fail within a bounded time (never acknowledged) and
 * commits succeed again once the servers are back; concurrent Strict and
 * Buffered committers (group commit: many records to a message) lose
 * nothing they were told was committed across a quorum loss. The
 * backend's own memory comes from rs_db_options.allocator. Every
 * rs_nats_* call returns its documented code on bad input (test_misuse
 * covers the core's functions only).
 *
 * RS_REPL_COMMITS (default 40): commits per phase of the fault tests.
 */
#include "common/rs_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "repl_util.h"

static void repl__reopen_recovers_every_commit(void **state)
{
	rs_run_id run = rt_run();
	rs_nats *n = NULL;
	rs_db *db = NULL;
	uint64_t ver = 0;

	(void)state;
	RT_NEED_CLUSTER();
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_reopen", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 30; i++)
		assert_ok(rt_put(db, i));
	rs_nats_close(n);
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_reopen", 3, 0,
			  RS_DURABILITY_BUFFERED, 0));
	for (long i = 0; i < 30; i++)
		assert_true(rt_has(db, i));
	for (long i = 30; i < 80; i++)
		assert_ok(rt_put(db, i));
	assert_ok(rs_db_flush(db));
	rs_nats_close(n);
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_reopen", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 80; i++)
		assert_true(rt_has(db, i));
	assert_ok(rs_db_run_version(db, &run, &ver));
	assert_int_equal(ver, 80);
	rs_nats_close(n);
}

static void repl__second_writer_fences_the_first(void **state)
{
	rs_nats *n1 = NULL, *n2 = NULL, *n3 = NULL;
	rs_db *d1 = NULL, *d2 = NULL, *d3 = NULL;
	rs_nats_stats st = RS_NATS_STATS_INIT;

	(void)state;
	RT_NEED_CLUSTER();
	assert_ok(rt_open(&n1, &d1, rt_cluster.urls, "basic_fence", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 5; i++)
		assert_ok(rt_put(d1, i));
	/* A process started twice: the second open fences the first. */
	assert_ok(rt_open(&n2, &d2, rt_cluster.urls, "basic_fence", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (long i = 0; i < 5; i++)
		assert_true(rt_has(d2, i));
	assert_rc(rt_put(d1, 5), RS_EFENCED);
	assert_false(rt_has(d1, 5));
	assert_rc(rt_put(d1, 6), RS_EFENCED);
	assert_ok(rs_nats_stat(n1, &st));
	assert_true(st.fenced);
	assert_ok(rt_put(d2, 7));
	assert_false(rt_has(d2, 5));
	assert_false(rt_has(d2, 6));
	rs_nats_close(n1);
	rs_nats_close(n2);
	/* The stream holds none of the fenced writer's commits. */
	assert_ok(rt_open(&n3, &d3, rt_cluster.urls, "basic_fence", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_true(rt_has(d3, 4));
	assert_false(rt_has(d3, 5));
	assert_false(rt_has(d3, 6));
	assert_true(rt_has(d3, 7));
	rs_nats_close(n3);
}

#define GC_THREADS 8
#define GC_COMMITS 25

struct gc_arg {
	rs_db *db;
	rs_run_id run;
	int failures;
};

static void *gc_thread(void *p)
{
	struct gc_arg *a = p;

	for (int i = 0; i < GC_COMMITS; i++) {
		char k[24];

		snprintf(k, sizeof(k), "g%04d", i);
		if (rs_kv_put(a->db, &a->run, k, strlen(k), "x", 1) != 0)
			a->failures++;
	}
	return NULL;
}

static void repl__concurrent_strict_committers_all_land(void **state)
{
	struct gc_arg args[GC_THREADS];
	pthread_t th[GC_THREADS];
	rs_nats *n = NULL;
	rs_db *db = NULL;
	rs_nats_stats st = RS_NATS_STATS_INIT;

	(void)state;
	RT_NEED_CLUSTER();
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_group", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (int t = 0; t < GC_THREADS; t++) {
		args[t].db = db;
		args[t].failures = 0;
		assert_ok(rs_run_id_generate(&args[t].run));
		assert_int_equal(
			pthread_create(&th[t], NULL, gc_thread, &args[t]), 0);
	}
	for (int t = 0; t < GC_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(args[t].failures, 0);
	}
	assert_ok(rs_nats_stat(n, &st));
	/* The fence at open, then every commit... */
	assert_int_equal(st.published, 1 + GC_THREADS * GC_COMMITS);
	/* ...in fewer messages: committers waiting together share one. */
	print_message("%d Strict commits of %d threads in %llu messages\n",
		      GC_THREADS * GC_COMMITS, GC_THREADS,
		      (unsigned long long)st.position - 1);
	assert_true(st.position < 1 + GC_THREADS * GC_COMMITS);
	rs_nats_close(n);
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_group", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	for (int t = 0; t < GC_THREADS; t++) {
		uint64_t ver = 0;

		assert_ok(rs_db_run_version(db, &args[t].run, &ver));
		assert_int_equal(ver, GC_COMMITS);
	}
	rs_nats_close(n);
}

/* Commits until one succeeds (bounded): the index it used, or -1. */
static long commit_until_ok(rs_db *db, long *next, double timeout_s,
			    int *failures)
{
	double end = rt_now() + timeout_s;

	while (rt_now() < end) {
		long i = (*next)++;

		if (rt_put(db, i) == 0)
			return i;
		(*failures)++;
		rt_sleep_ms(100);
	}
	return -1;
}

/* Every acknowledged key is in db and in a fresh open of the stream,
 * and the fresh open equals db on every key index below `next`. */
static void check_acked(rs_db *db, const char *name, const bool *acked,
			long next)
{
	rs_nats *n2 = NULL;
	rs_db *d2 = NULL;
	long lost = 0, differ = 0;

	assert_ok(rt_open_retry(&n2, &d2, rt_cluster.urls, name, 0, 30));
	for (long i = 0; i < next; i++) {
		if (acked[i] && (!rt_has(db, i) || !rt_has(d2, i)))
			lost++;
		if (rt_has(db, i) != rt_has(d2, i))
			differ++;
	}
	rs_nats_close(n2);
	print_message("acknowledged commits lost: %ld; writer and stream "
		      "differ on %ld keys\n",
		      lost, differ);
	assert_int_equal(lost, 0);
	assert_int_equal(differ, 0);
}

static void repl__one_server_down_commits_continue(void **state)
{
	long per = rt_env_long("RS_REPL_COMMITS", 40), next = 0, nacked = 0;
	bool *acked = calloc((size_t)(per * 4 + 100000), 1);
	rs_nats *n = NULL;
	rs_db *db = NULL;
	int failures = 0;

	(void)state;
	RT_NEED_CLUSTER();
	assert_non_null(acked);
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_one_down", 3, 0,
			  RS_DURABILITY_STRICT, 1000));
	for (long i = 0; i < per; i++) {
		long k = commit_until_ok(db, &next, 30.0, &failures);

		assert_true(k >= 0);
		acked[k] = true;
		nacked++;
	}
	/* A stream leader or a follower: either way two of three remain. */
	rs_nc_kill_node(&rt_cluster, 0);
	for (long i = 0; i < per; i++) {
		long k = commit_until_ok(db, &next, 30.0, &failures);

		assert_true(k >= 0);
		acked[k] = true;
		nacked++;
	}
	print_message("one server down: %ld commits acknowledged, %d failed "
		      "(leader election) and retried\n",
		      nacked, failures);
	assert_int_equal(rs_nc_restart_node(&rt_cluster, 0), 0);
	check_acked(db, "basic_one_down", acked, next);
	rs_nats_close(n);
	free(acked);
}

static void repl__quorum_loss_fails_bounded_then_recovers(void **state)
{
	long per = rt_env_long("RS_REPL_COMMITS", 40), next = 0;
	bool *acked = calloc((size_t)(per * 4 + 100000), 1);
	rs_nats *n = NULL;
	rs_db *db = NULL;
	int failures = 0, refused = 0;
	double worst = 0, t_back;

	(void)state;
	RT_NEED_CLUSTER();
	assert_non_null(acked);
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_quorum", 3, 0,
			  RS_DURABILITY_STRICT, 1000));
	for (long i = 0; i < per; i++) {
		long k = commit_until_ok(db, &next, 30.0, &failures);

		assert_true(k >= 0);
		acked[k] = true;
	}
	rs_nc_kill_node(&rt_cluster, 1);
	rs_nc_kill_node(&rt_cluster, 2);
	/* No quorum: every commit fails, each within a bounded time: the
	 * first times out, the next ones find the resync it started stuck
	 * (each costs the 1 s ack timeout, which made this test's 10 of
	 * them most of test_repl_basic's time). */
	for (int i = 0; i < 4; i++) {
		double t0 = rt_now();
		int rc = rt_put(db, next++);

		if (rt_now() - t0 > worst)
			worst = rt_now() - t0;
		assert_true(rc == RS_EIO);
		refused++;
	}
	print_message("quorum lost: %d commits refused with %s, the slowest "
		      "after %.2f s (ack timeout 1 s)\n",
		      refused, rs_errname(RS_EIO), worst);
	assert_int_equal(rs_nc_restart_node(&rt_cluster, 1), 0);
	assert_int_equal(rs_nc_restart_node(&rt_cluster, 2), 0);
	t_back = rt_now();
	failures = 0;
	for (long i = 0; i < per; i++) {
		long k = commit_until_ok(db, &next, 60.0, &failures);

		assert_true(k >= 0);
		acked[k] = true;
	}
	print_message("servers back: %ld commits acknowledged, the first "
		      "after %d refused, %.2f s after the restart\n",
		      per, failures, rt_now() - t_back);
	check_acked(db, "basic_quorum", acked, next);
	rs_nats_close(n);
	free(acked);
}

#define QG_THREADS 8
/* Bounds of each committer: keys, and how long the phases last. */
#define QG_MAX 4000
#define QG_BACK_S 60.0

struct qg_arg {
	rs_db *db;
	rs_run_id run;
	int t;
	rs_durability mode;
	atomic_bool *stop;
	/* Keys tried: 0 .. next - 1 (read by the main thread meanwhile);
	 * those whose commit returned 0. */
	atomic_long next;
	long nok, failed;
	atomic_long ok_after; /* returned 0 since the servers came back */
	bool ok[QG_MAX];
};

static void qg_key(char *k, size_t cap, int t, long i)
{
	snprintf(k, cap, "q%02d-%06ld", t, i);
}

static int qg_put(struct qg_arg *a, long i)
{
	rs_txn *txn = NULL;
	char k[24];
	int rc;

	qg_key(k, sizeof(k), a->t, i);
	if ((rc = rs_txn_begin(&txn, a->db, &a->run, 0)) < 0)
		return rc;
	if ((rc = rs_txn_set_durability(txn, a->mode)) < 0 ||
	    (rc = rs_txn_kv_put(txn, k, strlen(k), "v", 1)) < 0) {
		rs_txn_abort(txn);
		return rc;
	}
	return rs_txn_commit(txn);
}

static void *qg_thread(void *p)
{
	struct qg_arg *a = p;

	while (!atomic_load(a->stop) && atomic_load(&a->next) < QG_MAX) {
		long i = atomic_fetch_add(&a->next, 1);

		if (qg_put(a, i) == 0) {
			a->ok[i] = true;
			a->nok++;
			atomic_fetch_add(&a->ok_after, 1);
		} else {
			a->failed++;
			rt_sleep_ms(20);
		}
		/* Buffered ones would fill their window in no time. */
		if (a->mode == RS_DURABILITY_BUFFERED)
			rt_sleep_ms(2);
	}
	return NULL;
}

static bool qg_has(rs_db *db, const struct qg_arg *a, long i)
{
	char k[24], got[8];
	size_t len = 0;

	qg_key(k, sizeof(k), a->t, i);
	return rs_kv_get(db, &a->run, k, strlen(k), got, sizeof(got), &len) ==
	       0;
}

/*
 * Group commit through a quorum loss: 8 committers (even ones Strict, odd
 * ones Buffered), so messages carry several records and a failure
 * strands whole batches, open and in flight. Every commit that returned 0
 * is, once rs_db_flush() succeeds, in the writer and in a fresh open, and
 * the two agree on every key tried.
 */
static void repl__group_commit_survives_quorum_loss(void **state)
{
	static struct qg_arg args[QG_THREADS];
	pthread_t th[QG_THREADS];
	atomic_bool stop = false;
	rs_nats *n = NULL, *n2 = NULL;
	rs_db *db = NULL, *d2 = NULL;
	long lost = 0, differ = 0, ok = 0, failed = 0;
	double end;
	int rc;

	(void)state;
	RT_NEED_CLUSTER();
	assert_ok(rt_open(&n, &db, rt_cluster.urls, "basic_gc_quorum", 3, 0,
			  RS_DURABILITY_STRICT, 1000));
	for (int t = 0; t < QG_THREADS; t++) {
		memset(&args[t], 0, sizeof(args[t]));
		args[t].db = db;
		args[t].t = t;
		args[t].mode =
			t % 2 ? RS_DURABILITY_BUFFERED : RS_DURABILITY_STRICT;
		args[t].stop = &stop;
		assert_ok(rs_run_id_generate(&args[t].run));
		assert_int_equal(
			pthread_create(&th[t], NULL, qg_thread, &args[t]), 0);
	}
	rt_sleep_ms(500);
	rs_nc_kill_node(&rt_cluster, 1);
	rs_nc_kill_node(&rt_cluster, 2);
	rt_sleep_ms(2500);
	assert_int_equal(rs_nc_restart_node(&rt_cluster, 1), 0);
	assert_int_equal(rs_nc_restart_node(&rt_cluster, 2), 0);
	for (int t = 0; t < QG_THREADS; t++)
		atomic_store(&args[t].ok_after, 0);
	/* Until every committer has committed again (bounded). */
	end = rt_now() + QG_BACK_S;
	for (int t = 0; t < QG_THREADS && rt_now() < end; t++)
		while (atomic_load(&args[t].ok_after) < 20 &&
		       atomic_load(&args[t].next) < QG_MAX && rt_now() < end)
			rt_sleep_ms(50);
	atomic_store(&stop, true);
	for (int t = 0; t < QG_THREADS; t++) {
		pthread_join(th[t], NULL);
		ok += args[t].nok;
		failed += args[t].failed;
	}
	end = rt_now() + 30;
	while ((rc = rs_db_flush(db)) == RS_EIO && rt_now() < end)
		rt_sleep_ms(100);
	assert_ok(rc);
	assert_ok(rt_open_retry(&n2, &d2, rt_cluster.urls, "basic_gc_quorum", 0,
				30));
	for (int t = 0; t < QG_THREADS; t++) {
		for (long i = 0; i < args[t].next; i++) {
			bool w = qg_has(db, &args[t], i);

			if (args[t].ok[i] && (!w || !qg_has(d2, &args[t], i)))
				lost++;
			if (w != qg_has(d2, &args[t], i))
				differ++;
		}
	}
	print_message("group commit through a quorum loss: %ld commits "
		      "returned 0 (Strict and Buffered), %ld failed; lost %ld, "
		      "writer and stream differ on %ld keys\n",
		      ok, failed, lost, differ);
	assert_int_equal(lost, 0);
	assert_int_equal(differ, 0);
	rs_nats_close(n2);
	rs_nats_close(n);
}

/* Opens `name` with the hooks and max_pending, commits a few records and
 * a checkpoint; returns the bytes live through the hooks while open. */
static int64_t open_with_hooks(rs_test_alloc *ta, const char *name,
			       uint32_t max_pending)
{
	rs_nats_options no = RS_NATS_OPTIONS_INIT;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_nats *n = NULL;
	rs_db *db = NULL;
	int64_t live;

	no.servers = rt_cluster.urls;
	no.name = name;
	no.replicas = 3;
	no.max_pending = max_pending;
	o.durability = RS_DURABILITY_STRICT;
	rs_test_alloc_init(ta, &o.allocator);
	assert_ok(rs_nats_open(&n, &db, &no, &o));
	for (long i = 0; i < 10; i++)
		assert_ok(rt_put(db, i));
	assert_ok(rs_db_checkpoint(db));
	live = rs_test_alloc_live(ta);
	rs_nats_close(n);
	return live;
}

/* The backend allocates through rs_db_options.allocator too: its ring of
 * records in flight (max_pending slots of at least 16 bytes) is among the
 * hooks' live bytes, and every block goes back through them at close. */
static void repl__backend_allocates_through_the_hooks(void **state)
{
	rs_test_alloc small, big;
	int64_t live_small, live_big;

	(void)state;
	RT_NEED_CLUSTER();
	{
		rs_nats_options no = RS_NATS_OPTIONS_INIT;
		rs_db_options o = RS_DB_OPTIONS_INIT;
		rs_nats *n = NULL;
		rs_db *db = NULL;

		/* All three hooks or none, as rs_db_open() wants. */
		no.servers = rt_cluster.urls;
		no.name = "basic_alloc_half";
		rs_test_alloc_init(&small, &o.allocator);
		o.allocator.free_fn = NULL;
		assert_rc(rs_nats_open(&n, &db, &no, &o), RS_EINVAL);
		assert_null(n);
		assert_null(db);
	}
	live_small = open_with_hooks(&small, "basic_alloc_small", 16);
	live_big = open_with_hooks(&big, "basic_alloc_big", 65536);
	assert_true(live_big - live_small >= (65536 - 16) * 16);
	/* Every block back through the hooks (a block freed by the other
	 * allocator, across the hooks' size header, is an ASan error). */
	assert_int_equal(atomic_load(&small.live_blocks), 0);
	assert_int_equal(atomic_load(&big.live_blocks), 0);
	assert_int_equal(rs_test_alloc_live(&small), 0);
	assert_int_equal(rs_test_alloc_live(&big), 0);
}

static void repl__misuse_returns_documented_codes(void **state)
{
	rs_nats_options no = RS_NATS_OPTIONS_INIT;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;
	char longname[RS_NATS_NAME_MAX + 2];
	rs_nats *n = (rs_nats *)&no;
	rs_db *db = (rs_db *)&no;
	rs_nats_stats st = RS_NATS_STATS_INIT;

	(void)state;
	RT_NEED_CLUSTER();
	no.servers = rt_cluster.urls;
	no.name = "misuse";
	assert_rc(rs_nats_open(NULL, &db, &no, NULL), RS_EINVAL);
	assert_rc(rs_nats_open(&n, NULL, &no, NULL), RS_EINVAL);
	assert_rc(rs_nats_open(&n, &db, NULL, NULL), RS_EINVAL);
	assert_null(n);
	assert_null(db);
	no.version = 99;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EVERSION);
	no.version = RS_NATS_OPTIONS_VERSION;
	no.servers = NULL;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EINVAL);
	no.servers = rt_cluster.urls;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		const char *bad[] = { NULL,	   "",	    "has.dot",
				      "has space", "star*", longname };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			no.name = bad[i];
			assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EINVAL);
		}
	}
	no.name = "misuse";
	no.replicas = -1;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EINVAL);
	no.replicas = 6;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EINVAL);
	no.replicas = 3;
	no.flags = 0x80;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EINVAL);
	no.flags = 0;
	o.path = "/tmp";
	assert_rc(rs_nats_open(&n, &db, &no, &o), RS_EINVAL);
	o.path = NULL;
	o.durability_ops = &ops;
	assert_rc(rs_nats_open(&n, &db, &no, &o), RS_EINVAL);
	o.durability_ops = NULL;
	o.version = 99;
	assert_rc(rs_nats_open(&n, &db, &no, &o), RS_EVERSION);
	assert_null(n);
	assert_null(db);
	/* Nobody listens there: RS_EIO, bounded by the ack timeout. */
	no.servers = "nats://127.0.0.1:1";
	no.ack_timeout_ms = 300;
	assert_rc(rs_nats_open(&n, &db, &no, NULL), RS_EIO);
	assert_rc(rs_nats_promote(NULL), RS_EINVAL);
	assert_null(rs_nats_db(NULL));
	rs_nats_close(NULL);
	assert_rc(rs_nats_stat(NULL, &st), RS_EINVAL);
	no.servers = rt_cluster.urls;
	no.ack_timeout_ms = 0;
	assert_ok(rs_nats_open(&n, &db, &no, NULL));
	assert_ptr_equal(rs_nats_db(n), db);
	assert_rc(rs_nats_stat(n, NULL), RS_EINVAL);
	st.version = RS_NATS_STATS_VERSION + 1;
	assert_rc(rs_nats_stat(n, &st), RS_EVERSION);
	st.version = RS_NATS_STATS_VERSION;
	/* A writer is not a follower. */
	assert_rc(rs_nats_promote(n), RS_EINVAL);
	rs_nats_close(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(repl__misuse_returns_documented_codes),
		cmocka_unit_test(repl__backend_allocates_through_the_hooks),
		cmocka_unit_test(repl__reopen_recovers_every_commit),
		cmocka_unit_test(repl__second_writer_fences_the_first),
		cmocka_unit_test(repl__concurrent_strict_committers_all_land),
		cmocka_unit_test(repl__one_server_down_commits_continue),
		cmocka_unit_test(repl__quorum_loss_fails_bounded_then_recovers),
		cmocka_unit_test(repl__group_commit_survives_quorum_loss),
	};

	return cmocka_run_group_tests_name("repl_basic", tests, rt_group_setup,
					   rt_group_teardown);
}
