/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous reclamation (util/rcu.h): a full retire list is queued
 * for a grace period on the database's reclaimer thread and freed by
 * later commits, instead of the committer waiting for the grace period;
 * a list has one batch in flight at most, and a committer whose previous
 * batch still waits for its grace period waits (outside its lock) until
 * it is over. Grace periods are held back deterministically by a thread
 * that stays inside an RCU read-side section.
 */
#define _POSIX_C_SOURCE 200809L
#include "common/rs_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "storage/store.h"
#include "txn/txn.h"
#include "util/rcu.h"

/* A thread inside one read-side section until told to leave it. */
typedef struct holder {
	pthread_t th;
	atomic_bool inside;
	atomic_bool leave;
} holder;

static void *hold_grace_periods(void *arg)
{
	holder *h = arg;

	rs__rcu_thread_ensure();
	rs__rcu_read_lock();
	atomic_store(&h->inside, true);
	while (!atomic_load(&h->leave))
		sched_yield();
	rs__rcu_read_unlock();
	return NULL;
}

static void holder_start(holder *h)
{
	atomic_init(&h->inside, false);
	atomic_init(&h->leave, false);
	assert_int_equal(pthread_create(&h->th, NULL, hold_grace_periods, h),
			 0);
	while (!atomic_load(&h->inside))
		sched_yield();
}

static void holder_stop(holder *h)
{
	atomic_store(&h->leave, true);
	assert_int_equal(pthread_join(h->th, NULL), 0);
}

static void nap(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

/* Hand-offs (which = 0) or waits (which = 1) so far. */
static uint64_t stat(rs_db *db, int which)
{
	uint64_t v[2];

	rs__reclaim_stats(&db->reclaim, &v[0], &v[1]);
	return v[which];
}
#define handoffs(db) stat((db), 0)
#define waits(db) stat((db), 1)

enum {
	KEYS = 4,
	/* Far more overwrites than the bound lets wait for reclamation. */
	PUTS = 40 * RS__RETIRE_BATCH
};

/* The writer thread's inputs and progress. */
struct writer {
	rs_fx *fx;
	atomic_uint_fast64_t done;
	atomic_int rc;
};

static void *overwrite(void *arg)
{
	struct writer *w = arg;

	for (uint64_t i = 0; i < PUTS; i++) {
		char k[8];
		int rc;

		snprintf(k, sizeof(k), "k%d", (int)(i % KEYS));
		rc = rs_kv_put(w->fx->db, &w->fx->run, k, 2, &i, sizeof(i));
		if (rc != 0) {
			atomic_store(&w->rc, rc);
			break;
		}
		atomic_store(&w->done, i + 1);
	}
	return NULL;
}

/*
 * A writer retiring while no grace period can end: it queues one batch,
 * fills its list again and then waits in the next hand-off; memory
 * meanwhile stays within the bound (the batch in flight plus one full
 * list, not PUTS versions). Once grace periods
 * resume it finishes, and close gets every byte back (teardown).
 */
static void reclaim__writer_outrunning_reclaimer_waits_bounded(void **state)
{
	rs_fx *fx = *state;
	/* A retired 8-byte version: its header, value and the counting
	 * allocator's own header, rounded up. */
	const int64_t per_ver = 128;
	const int64_t limit = 2 * (int64_t)RS__RETIRE_CAP * per_ver + 64 * 1024;
	struct writer w = { .fx = fx };
	pthread_t wth;
	int64_t start, during;
	uint64_t nwaits, nhand, done;
	holder h;

	for (int i = 0; i < KEYS; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i);
		rs_t_put(fx->db, &fx->run, k, "seed");
	}
	rs__txn_flush_retired(fx->db);
	start = rs_test_alloc_live(&fx->ta);
	atomic_init(&w.done, 0);
	atomic_init(&w.rc, 0);

	holder_start(&h);
	assert_int_equal(pthread_create(&wth, NULL, overwrite, &w), 0);
	while (waits(fx->db) == 0 && atomic_load(&w.done) < PUTS &&
	       atomic_load(&w.rc) == 0)
		nap();
	during = rs_test_alloc_live(&fx->ta) - start;
	nwaits = waits(fx->db);
	nhand = handoffs(fx->db);
	done = atomic_load(&w.done);
	/* Grace periods resume before anything is asserted, so that a
	 * failure cannot leave close waiting for one forever. */
	holder_stop(&h);
	if (nwaits == 0)
		fail_msg("the writer never waited: %llu of %d puts done, live "
			 "bytes +%lld",
			 (unsigned long long)done, PUTS, (long long)during);
	/* It waited in its second hand-off: the first was still in flight. */
	assert_int_equal(nhand, 1);
	assert_true(done < PUTS);
	if (during > limit)
		fail_msg("live bytes +%lld while reclamation was held back "
			 "(bound %lld)",
			 (long long)during, (long long)limit);

	assert_int_equal(pthread_join(wth, NULL), 0);
	assert_int_equal(atomic_load(&w.rc), 0);
	assert_int_equal(atomic_load(&w.done), PUTS);
	assert_true(handoffs(fx->db) >= PUTS / RS__RETIRE_BATCH - 1);
	{
		uint64_t got = 0;
		size_t len = 0;

		assert_ok(rs_kv_get(fx->db, &fx->run, "k3", 2, &got,
				    sizeof(got), &len));
		assert_int_equal(got, PUTS - 1);
	}
	rs__txn_flush_retired(fx->db);
	/* The writer's context (idle since its thread exited) still holds
	 * its last, partial list: less than a batch. */
	if (rs_test_alloc_live(&fx->ta) - start > limit)
		fail_msg("live bytes +%lld after the writer finished",
			 (long long)(rs_test_alloc_live(&fx->ta) - start));
}

/* Close with a batch still waiting for its grace period and a list half
 * full: it joins the reclaimer, then frees both (nothing left; ASan would
 * see the reclaimer touching a freed database). */
static void reclaim__close_waits_for_batches_in_flight(void **state)
{
	rs_fx *fx = *state;
	holder h;

	holder_start(&h);
	for (uint64_t i = 0; i < RS__RETIRE_BATCH + RS__RETIRE_BATCH / 2; i++)
		assert_ok(rs_kv_put(fx->db, &fx->run, "hot", 3, &i, sizeof(i)));
	/* Nothing could be freed: the hand-off is still in flight. */
	if (handoffs(fx->db) != 1 || waits(fx->db) != 0) {
		holder_stop(&h);
		fail_msg("%llu hand-offs, %llu waits; expected 1 and 0",
			 (unsigned long long)handoffs(fx->db),
			 (unsigned long long)waits(fx->db));
	}
	/* Let grace periods resume a little after close has begun. */
	atomic_store(&h.leave, true);
	rs_db_close(fx->db);
	fx->db = NULL;
	assert_int_equal(pthread_join(h.th, NULL), 0);
	assert_int_equal(rs_test_alloc_live(&fx->ta), 0);
	assert_int_equal(atomic_load(&fx->ta.live_blocks), 0);
}

/*
 * A context whose first commit is bigger than a retire array (its
 * reservation grows the array being filled past the usual size) and that
 * then retires a few batches: the hand-offs must keep the batch they
 * queued (a reservation used to reallocate both arrays and drop it, and
 * the next free read garbage).
 */
/*
 * The pace of the frees (rs__retire_quota): a run of one-retire commits
 * whose previous batch becomes done `g` commits after its hand-off frees
 * it at most two entries a commit, at least one while anything is left,
 * and empties it before the next hand-off (the array being filled is
 * full). Before, 16 a commit: jemalloc's per-thread cache overflowed and
 * flushed cold blocks while a batch drained (the overwrite tail).
 * Simulated on the list's counters alone: deterministic, no threads.
 */
static void reclaim__frees_keep_pace_with_retires(void **state)
{
	static const size_t grace[] = { 0, 1, 100, 1000, 3000 };

	(void)state;
	for (size_t gi = 0; gi < sizeof(grace) / sizeof(grace[0]); gi++) {
		rs__retire_list l;
		size_t most = 0;

		memset(&l, 0, sizeof(l));
		l.prev.n = RS__RETIRE_BATCH;
		for (l.n = 0; l.n < RS__RETIRE_BATCH; l.n++) {
			size_t q;

			if (l.n < grace[gi] || l.prev.freed == l.prev.n)
				continue; /* not done yet, or empty */
			q = rs__retire_quota(&l, 1);
			assert_true(q >= 1);
			if (q > l.prev.n - l.prev.freed)
				q = l.prev.n - l.prev.freed;
			most = q > most ? q : most;
			l.prev.freed += q;
		}
		assert_int_equal(l.prev.freed, l.prev.n);
		/* ceil(4096 / (4096 - g)): 1 or 2 below g = 2048. */
		assert_true(most <= (grace[gi] < RS__RETIRE_BATCH / 2 ? 2 : 4));
	}
}

static void reclaim__huge_first_commit_then_batches(void **state)
{
	rs_fx *fx = *state;
	enum {
		BIG = RS__RETIRE_CAP + 100
	};
	char key[16];
	rs_txn *t;

	assert_ok(rs_txn_begin(&t, fx->db, &fx->run, 0));
	for (int i = 0; i < BIG; i++) {
		snprintf(key, sizeof(key), "k%08d", i);
		assert_ok(rs_txn_kv_put(t, key, 9, "v", 1));
	}
	assert_ok(rs_txn_commit(t));
	for (uint64_t i = 0; i < 6 * (uint64_t)RS__RETIRE_BATCH; i++) {
		snprintf(key, sizeof(key), "k%08d", (int)(i % BIG));
		assert_ok(rs_kv_put(fx->db, &fx->run, key, 9, &i, sizeof(i)));
	}
	assert_true(handoffs(fx->db) >= 3);
	rs__txn_flush_retired(fx->db);
}

/*
 * A key whose chain is cut above the run's visible version: no commit
 * builds that (a prune keeps what `visible` sees), and it was what a
 * damaged checkpoint listing a run twice once produced (now refused at
 * load). An unpinned read that finds the chain cut twice at the same
 * version gives up with RS_ECORRUPT rather than retry for ever.
 */
static void reclaim__read_under_a_cut_chain_gives_up(void **state)
{
	rs_fx *fx = *state;
	rs__store *st = fx->db->store;
	unsigned char buf[8];
	uint64_t v = 0;
	rs__run *r;
	bool ex;

	for (uint64_t i = 0; i < 3; i++)
		assert_ok(rs_kv_put(fx->db, &fx->run, "k", 1, &i, sizeof(i)));
	assert_ok(rs_db_run_version(fx->db, &fx->run, &v));
	assert_int_equal(v, 3);
	assert_ok(st->ops->run_find(st, &fx->run, false, &r));
	st->ops->lock(st, r);
	st->ops->run_set_start(r, 1); /* visible 1: below what is kept */
	st->ops->unlock(st, r);
	assert_int_equal(
		rs_kv_get(fx->db, &fx->run, "k", 1, buf, sizeof(buf), NULL),
		RS_ECORRUPT);
	assert_int_equal(rs_kv_exists(fx->db, &fx->run, "k", 1, &ex),
			 RS_ECORRUPT);
	st->ops->lock(st, r);
	st->ops->run_set_start(r, 0);
	st->ops->publish(st, r, 3);
	st->ops->unlock(st, r);
	assert_ok(rs_kv_get(fx->db, &fx->run, "k", 1, buf, sizeof(buf), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(reclaim__writer_outrunning_reclaimer_waits_bounded),
		RS_FX_TEST(reclaim__close_waits_for_batches_in_flight),
		RS_FX_TEST(reclaim__huge_first_commit_then_batches),
		RS_FX_TEST(reclaim__read_under_a_cut_chain_gives_up),
		RS_FX_TEST(reclaim__frees_keep_pace_with_retires),
	};

	return _cmocka_run_group_tests(
		"reclaim", tests, sizeof(tests) / sizeof(tests[0]),
		rs_fx_group_setup_sharded, rs_fx_group_teardown);
}
