/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: Strict group commit (committers on different runs share
 * fdatasyncs; never more syncs than commits), checkpoints taken while
 * writers run, and Buffered and Strict commits mixed on one database.
 * Workers start together at a barrier; the checkpoints are taken while
 * the workers run by construction: they keep committing until the test
 * thread has taken them all (common/rs_overlap.h, bounded by a count and
 * a time cap).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/rs_overlap.h"
#include "dur_util.h"

#define THREADS 8
#define COMMITS 40

/*
 * Slow syncs without a hook in the library: this executable defines
 * fdatasync(), and the calls in the static library it links bind to this
 * definition, not libc's (the linker resolves them to the executable's own
 * symbol). It sleeps sync_delay_ns, then makes the system call itself. So
 * the library under test is the one that ships, and the count proves the
 * substitution took effect.
 */
static _Atomic uint64_t sync_delay_ns;
static _Atomic uint64_t syncs_seen;

int fdatasync(int fd)
{
	uint64_t d = atomic_load(&sync_delay_ns);

	atomic_fetch_add(&syncs_seen, 1);
	if (d) {
		struct timespec ts = { (time_t)(d / 1000000000u),
				       (long)(d % 1000000000u) };

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

typedef struct worker {
	pthread_t tid;
	rs_db *db;
	rs_ovl *ovl;
	unsigned run;
	unsigned commits, commits_max; /* at least, at most */
	unsigned done;		       /* committed */
	bool mixed; /* alternate Buffered and Strict overrides */
	int rc;
} worker;

/* One multi-key transaction: a = b = c = n. */
static int commit_abc(rs_db *db, unsigned run, unsigned n, rs_durability m)
{
	rs_run_id id = dur_run(run);
	char v[32];
	rs_txn *txn;
	int rc;

	snprintf(v, sizeof(v), "%u", n);
	if ((rc = rs_txn_begin(&txn, db, &id, 0)) != 0)
		return rc;
	if ((rc = rs_txn_kv_put(txn, "a", 1, v, strlen(v))) != 0 ||
	    (rc = rs_txn_kv_put(txn, "b", 1, v, strlen(v))) != 0 ||
	    (rc = rs_txn_kv_put(txn, "c", 1, v, strlen(v))) != 0 ||
	    (m != RS_DURABILITY_INMEMORY &&
	     (rc = rs_txn_set_durability(txn, m)) != 0)) {
		rs_txn_abort(txn);
		return rc;
	}
	return rs_txn_commit(txn);
}

static void *worker_main(void *arg)
{
	worker *w = arg;

	rs_ovl_start(w->ovl);
	for (unsigned i = 1;
	     rs_ovl_writer_more(w->ovl, i - 1, w->commits, w->commits_max) &&
	     w->rc == 0;
	     i++) {
		rs_durability m = RS_DURABILITY_INMEMORY;

		if (w->mixed)
			m = (i % 2) ? RS_DURABILITY_BUFFERED
				    : RS_DURABILITY_STRICT;
		w->rc = commit_abc(w->db, w->run, i, m);
		if (w->rc == 0)
			w->done = i;
	}
	rs_ovl_writer_done(w->ovl);
	return NULL;
}

/* n workers that start together (ovl: n parties, or n + 1 with the test
 * thread) and commit `commits` times each, or up to `commits_max` while
 * the ovl's readers need more. */
static void run_workers(rs_db *db, worker *ws, unsigned n, rs_ovl *ovl,
			unsigned commits, unsigned commits_max, bool mixed)
{
	for (unsigned i = 0; i < n; i++) {
		ws[i].db = db;
		ws[i].ovl = ovl;
		ws[i].run = i;
		ws[i].commits = commits;
		ws[i].commits_max = commits_max;
		ws[i].done = 0;
		ws[i].mixed = mixed;
		ws[i].rc = 0;
		assert_int_equal(
			pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]),
			0);
	}
}

static void join_workers(worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pthread_join(ws[i].tid, NULL), 0);
		assert_int_equal(ws[i].rc, 0);
	}
}

/* Each worker's run: version == its commits and a == b == c == that. */
static void check_runs(rs_db *db, const worker *ws, unsigned n)
{
	char want[32];

	for (unsigned r = 0; r < n; r++) {
		const char *keys[] = { "a", "b", "c" };

		snprintf(want, sizeof(want), "%u", ws[r].done);
		assert_int_equal(dur_version(db, r), ws[r].done);
		for (int k = 0; k < 3; k++) {
			char *v = dur_get(db, r, keys[k]);

			assert_non_null(v);
			assert_string_equal(v, want);
			free(v);
		}
	}
}

static void group_commit__strict_committers_share_syncs(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	worker ws[THREADS];
	rs_db_stats st;
	rs_db *db;
	rs_ovl ovl;

	(void)state;
	o.segment_bytes = 16384; /* rotations under load too */
	db = dur_open(&o);
	/* Slow syncs make committers queue behind the leader. */
	atomic_store(&syncs_seen, 0);
	atomic_store(&sync_delay_ns, 2000000);
	rs_ovl_init(&ovl, THREADS, 0, THREADS, 0);
	run_workers(db, ws, THREADS, &ovl, COMMITS, COMMITS, false);
	join_workers(ws, THREADS);
	rs_ovl_destroy(&ovl);
	atomic_store(&sync_delay_ns, 0);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, THREADS * COMMITS);
	assert_true(st.wal_syncs >= 1);
	/* Every sync the log counts went through the slow fdatasync above. */
	assert_true(atomic_load(&syncs_seen) >= st.wal_syncs);
	assert_true(st.wal_syncs < THREADS * COMMITS);
	rs_db_close(db);
	db = dur_open(&o);
	check_runs(db, ws, THREADS);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void group_commit__never_more_syncs_than_commits(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	worker ws[4];
	rs_db_stats st;
	rs_db *db;
	rs_ovl ovl;

	(void)state;
	o.segment_bytes = 1u << 20;
	db = dur_open(&o);
	rs_ovl_init(&ovl, 4, 0, 4, 0);
	run_workers(db, ws, 4, &ovl, COMMITS, COMMITS, false);
	join_workers(ws, 4);
	rs_ovl_destroy(&ovl);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 4 * COMMITS);
	assert_true(st.wal_syncs <= 4 * COMMITS);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void group_commit__mixed_modes_and_checkpoints(void **state)
{
	static const rs_storage stores[] = { RS_STORAGE_SHARDED,
					     RS_STORAGE_UNIFIED };

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char *dir = dur_tmpdir();
		rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
		worker ws[4];
		rs_db *db;
		char *live, *again;
		rs_ovl ovl;

		o.storage = stores[s];
		o.segment_bytes = 8192;
		o.flush_batch_commits = 8;
		o.checkpoint_wal_bytes = 32768; /* automatic ones as well */
		db = dur_open(&o);
		/* "Reader" 0 is this thread's checkpoints: the workers go on
		 * until all five are taken. */
		rs_ovl_init(&ovl, 5, 1, 4, 5);
		run_workers(db, ws, 4, &ovl, 3 * COMMITS, 100 * COMMITS, true);
		rs_ovl_start(&ovl);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(rs_db_checkpoint(db), 0);
			rs_ovl_read(&ovl, 0);
		}
		join_workers(ws, 4);
		/* Every checkpoint was taken while the workers committed. */
		assert_true(rs_ovl_overlapped(&ovl, 5));
		rs_ovl_destroy(&ovl);
		check_runs(db, ws, 4);
		live = dur_dump(db, 4);
		rs_db_close(db);
		db = dur_open(&o);
		again = dur_dump(db, 4);
		assert_string_equal(live, again);
		assert_true(dur_stats(db).checkpoint_used);
		rs_db_close(db);
		free(live);
		free(again);
		dur_rmdir(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(group_commit__strict_committers_share_syncs),
		cmocka_unit_test(group_commit__never_more_syncs_than_commits),
		cmocka_unit_test(group_commit__mixed_modes_and_checkpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
