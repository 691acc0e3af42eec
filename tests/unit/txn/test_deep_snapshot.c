/* SPDX-License-Identifier: MIT */
/*
 * A long-lived snapshot under many newer commits (issue 8, defect 5):
 * its reads stay O(log n) in the newer versions of the key (skip links,
 * storage/table.h), through every read path that reaches a version chain
 * (a point read, a scan, a cursor), and stay right while those chains are
 * pruned under concurrent readers (label concurrency: run under TSan).
 *
 * The visit count comes from the library's debug counter
 * (rs__node_seek_visits, builds without NDEBUG); the count test is
 * skipped in builds with NDEBUG, the concurrency test runs everywhere.
 *
 * Knobs: RS_DEEP_COMMITS (newer commits under the held snapshot, default
 * 100000), RS_DEEP_ROUNDS (the concurrency test's writer commits, default
 * 20000).
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage/table.h"

static uint64_t knob(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 10);
	return *end || v == 0 ? def : (uint64_t)v;
}

/* The most versions one read may visit under `newer` newer versions. */
#define visit_bound rs__chain_seek_bound

#ifndef NDEBUG
static int count_entry(rs_bytes k, rs_bytes v, void *ctx)
{
	(void)k;
	assert_memory_equal(v.data, "v0", 2);
	(*(int *)ctx)++;
	return 0;
}
#endif

static void deep__snapshot_read_visits_are_logarithmic(void **state)
{
#ifdef NDEBUG
	(void)state;
	print_message("skipped: the visit counter exists in debug builds\n");
	skip();
#else
	rs_fx *fx = *state;
	uint64_t commits = knob("RS_DEEP_COMMITS", 100000);
	rs_scan_options so = RS_SCAN_OPTIONS_INIT;
	rs_cursor *cur;
	rs_bytes got, key;
	rs_txn *t;
	size_t before, read, scan, seek;
	int entries = 0;
	char val[32];

	rs_t_put(fx->db, &fx->run, "k", "v0");
	assert_ok(rs_txn_begin(&t, fx->db, &fx->run, RS_TXN_F_READONLY));
	for (uint64_t i = 1; i <= commits; i++) {
		int n = snprintf(val, sizeof(val), "v%llu",
				 (unsigned long long)i);

		assert_ok(rs_kv_put(fx->db, &fx->run, "k", 1, val, (size_t)n));
	}
	before = rs__node_seek_visits;
	assert_ok(rs_txn_kv_get(t, "k", 1, &got));
	read = rs__node_seek_visits - before;
	assert_int_equal(got.len, 2);
	assert_memory_equal(got.data, "v0", 2);

	before = rs__node_seek_visits;
	assert_ok(rs_txn_kv_scan(t, &so, NULL, count_entry, &entries));
	scan = rs__node_seek_visits - before;
	assert_int_equal(entries, 1);

	assert_ok(rs_txn_kv_cursor_open(t, &cur));
	before = rs__node_seek_visits;
	assert_ok(rs_cursor_first(cur, NULL, 0, &key, &got));
	seek = rs__node_seek_visits - before;
	assert_memory_equal(got.data, "v0", 2);
	rs_cursor_close(cur);
	rs_txn_abort(t);

	print_message("under %llu newer commits: get %zu, scan %zu, cursor "
		      "%zu versions visited (bound %zu)\n",
		      (unsigned long long)commits, read, scan, seek,
		      visit_bound(commits));
	assert_true(read >= 1 && read <= visit_bound(commits));
	assert_true(scan >= 1 && scan <= 2 * visit_bound(commits));
	assert_true(seek >= 1 && seek <= 2 * visit_bound(commits));
	/* The newest value is a read of the head alone (no seek at all). */
	before = rs__node_seek_visits;
	rs_t_expect(fx->db, &fx->run, "k", val);
	assert_int_equal(rs__node_seek_visits - before, 0);
#endif
}

/* ---- concurrent readers while chains are pruned ---- */

#define KEYS 4
#define READERS 2

typedef struct shared {
	rs_db *db;
	rs_run_id run;
	uint64_t rounds;
	pthread_barrier_t start;
	_Atomic uint64_t committed; /* writer's commits so far */
	_Atomic int readers_done;
	_Atomic uint64_t reads;
	_Atomic uint64_t held_long; /* snapshots held across >= 256 commits */
	_Atomic int failed;
} shared;

static const char *key_of(int i)
{
	static const char *const keys[KEYS] = { "k0", "k1", "k2", "k3" };

	return keys[i];
}

static void *writer(void *arg)
{
	shared *s = arg;
	uint64_t i = 0;

	pthread_barrier_wait(&s->start);
	/* Until the readers are done (they need the commits), at most
	 * rounds x 4 commits. */
	while (i < s->rounds * 4 &&
	       (i < s->rounds || atomic_load(&s->readers_done) < READERS)) {
		rs_txn *t;

		i++;
		if (rs_txn_begin(&t, s->db, &s->run, 0) != 0)
			goto fail;
		for (int k = 0; k < KEYS; k++)
			if (rs_txn_kv_put(t, key_of(k), 2, &i, sizeof(i)) !=
			    0) {
				rs_txn_abort(t);
				goto fail;
			}
		if (rs_txn_commit(t) != 0)
			goto fail;
		atomic_store(&s->committed, i);
	}
	return NULL;
fail:
	atomic_store(&s->failed, 1);
	return NULL;
}

/* Every key in txn's snapshot holds the same value (0: all absent);
 * returns it. */
static int read_all(rs_txn *t, uint64_t *val)
{
	for (int k = 0; k < KEYS; k++) {
		rs_bytes got;
		uint64_t v;
		int rc = rs_txn_kv_get(t, key_of(k), 2, &got);

		if (rc == RS_ENOTFOUND && (k == 0 || *val == 0)) {
			*val = 0;
			continue;
		}
		if (rc != 0 || got.len != sizeof(v))
			return -1;
		memcpy(&v, got.data, sizeof(v));
		if (k == 0)
			*val = v;
		else if (v != *val)
			return -1;
	}
	return 0;
}

static void *reader(void *arg)
{
	shared *s = arg;
	uint64_t last_oneshot = 0;

	pthread_barrier_wait(&s->start);
	for (unsigned n = 0; n < 400 && !atomic_load(&s->failed); n++) {
		uint64_t first, again, start, v;
		size_t len;
		rs_txn *t;
		/* Every 8th snapshot is held while the writer commits 256
		 * more times (bounded by the writer's end), the rest are
		 * short. */
		uint64_t hold = n % 8 == 0 ? 256 : 0;

		if (rs_txn_begin(&t, s->db, &s->run, RS_TXN_F_READONLY) != 0)
			goto fail;
		start = atomic_load(&s->committed);
		if (read_all(t, &first) != 0 || first > start + 1) {
			rs_txn_abort(t);
			goto fail;
		}
		for (unsigned spin = 0; spin < 1000000; spin++) {
			uint64_t now = atomic_load(&s->committed);

			if (now >= start + hold || now >= s->rounds * 4 ||
			    atomic_load(&s->failed))
				break;
			/* One-shot reads meanwhile: never go back. */
			if (rs_kv_get(s->db, &s->run, "k0", 2, &v, sizeof(v),
				      &len) == 0) {
				if (v < last_oneshot)
					goto fail_txn;
				last_oneshot = v;
			}
			sched_yield();
		}
		if (hold && atomic_load(&s->committed) >= start + hold)
			atomic_fetch_add(&s->held_long, 1);
		/* The same snapshot, after all those commits and prunes. */
		if (read_all(t, &again) != 0 || again != first)
			goto fail_txn;
		rs_txn_abort(t);
		atomic_fetch_add(&s->reads, 1);
		continue;
fail_txn:
		rs_txn_abort(t);
		goto fail;
	}
	atomic_fetch_add(&s->readers_done, 1);
	return NULL;
fail:
	atomic_store(&s->failed, 1);
	atomic_fetch_add(&s->readers_done, 1);
	return NULL;
}

static void deep__snapshots_stay_right_while_chains_are_pruned(void **state)
{
	rs_fx *fx = *state;
	shared s = { .db = fx->db, .run = fx->run };
	pthread_t w, r[READERS];

	s.rounds = knob("RS_DEEP_ROUNDS", 20000);
	assert_int_equal(pthread_barrier_init(&s.start, NULL, READERS + 1), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, &s), 0);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, &s), 0);
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	pthread_join(w, NULL);
	pthread_barrier_destroy(&s.start);
	print_message("%llu commits, %llu snapshots checked, %llu held "
		      "across 256+ commits\n",
		      (unsigned long long)atomic_load(&s.committed),
		      (unsigned long long)atomic_load(&s.reads),
		      (unsigned long long)atomic_load(&s.held_long));
	assert_false(atomic_load(&s.failed));
	assert_int_equal(atomic_load(&s.reads), READERS * 400);
	assert_true(atomic_load(&s.held_long) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(deep__snapshot_read_visits_are_logarithmic),
		RS_FX_TEST(deep__snapshots_stay_right_while_chains_are_pruned),
	};

	return RS_FX_RUN_SHARDED("deep_snapshot", tests);
}
