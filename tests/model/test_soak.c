/* SPDX-License-Identifier: MIT */
/*
 * Soak test (issue 8, deliver item 8; label slow): several threads each
 * run the model test's driver (tests/model/driver.h) over their own runs
 * of one shared Strict database with small segments and automatic
 * checkpoints: every primitive, transactions that commit, abort, conflict
 * and fail, RunIndex lifecycles with archive and delete, every query
 * checked against the model as it goes. Meanwhile the main thread writes
 * checkpoints, and every few seconds it pauses the workers between steps,
 * closes and reopens the database, and each worker checks its whole
 * state against its model before going on.
 *
 * RS_SOAK_SECONDS sets the duration (default 60); RS_MODEL_SEED the seed
 * (printed). Steps and library calls are printed at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rs_test.h"
#include "durability/dur_util.h"
#include "model/driver.h"

#define NWORKERS 3

static rs_db *g_db;
static atomic_bool g_pause, g_stop;
static pthread_barrier_t g_bar;

typedef struct worker {
	md m;
	atomic_bool failed;
	uint64_t steps;
} worker;

static void *worker_fn(void *arg)
{
	worker *w = arg;

	while (!atomic_load(&g_stop)) {
		if (atomic_load(&g_pause)) {
			pthread_barrier_wait(&g_bar); /* paused */
			pthread_barrier_wait(&g_bar); /* reopened */
			if (!w->failed && !md_check_all(&w->m))
				w->failed = true;
			continue;
		}
		if (w->failed) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (!md_step(&w->m))
			w->failed = true;
		else
			w->steps++;
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void soak__every_primitive_from_several_threads(void **state)
{
	const char *e = getenv("RS_SOAK_SECONDS"), *s = getenv("RS_MODEL_SEED");
	double secs = e ? strtod(e, NULL) : 60.0, end;
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	md_cfg cfg = { RS_DURABILITY_STRICT,
		       RS_STORAGE_SHARDED,
		       65536,
		       16384,
		       0,
		       true,
		       false };
	char *dir = dur_tmpdir();
	rs_db_options o = md_options(&cfg, dir);
	worker *ws = calloc(NWORKERS, sizeof(*ws));
	pthread_t th[NWORKERS];
	uint64_t steps = 0, calls = 0, reopens = 0, ckpts = 0, ticks = 0;

	(void)state;
	assert_non_null(ws);
	printf("soak: seed %" PRIu64 " (RS_MODEL_SEED), %d threads, %.0f s\n",
	       seed, NWORKERS, secs);
	assert_ok(rs_db_open(&g_db, &o));
	pthread_barrier_init(&g_bar, NULL, NWORKERS + 1);
	for (unsigned i = 0; i < NWORKERS; i++) {
		cfg.worker = i + 1;
		md_init(&ws[i].m, &cfg, &g_db, dir, seed + i);
		assert_int_equal(
			pthread_create(&th[i], NULL, worker_fn, &ws[i]), 0);
	}
	end = now_s() + secs;
	while (now_s() < end) {
		struct timespec ts = { 0, 100000000 };
		bool failed = false;

		nanosleep(&ts, NULL);
		for (unsigned i = 0; i < NWORKERS; i++)
			failed |= ws[i].failed;
		if (failed)
			break;
		if (++ticks % 5 == 0) {
			assert_ok(rs_db_checkpoint(g_db));
			ckpts++;
		}
		if (ticks % 30 == 0) {
			atomic_store(&g_pause, true);
			pthread_barrier_wait(&g_bar);
			atomic_store(&g_pause, false);
			rs_db_close(g_db);
			g_db = NULL;
			assert_ok(rs_db_open(&g_db, &o));
			reopens++;
			pthread_barrier_wait(&g_bar);
		}
	}
	atomic_store(&g_stop, true);
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&g_bar);
	for (unsigned i = 0; i < NWORKERS; i++) {
		steps += ws[i].steps;
		calls += ws[i].m.calls;
		if (!ws[i].failed && !md_check_all(&ws[i].m))
			ws[i].failed = true;
	}
	printf("soak: %" PRIu64 " steps, %" PRIu64
	       " library calls compared, %" PRIu64 " reopens, %" PRIu64
	       " checkpoints from the main thread\n",
	       steps, calls, reopens, ckpts);
	for (unsigned i = 0; i < NWORKERS; i++)
		if (ws[i].failed)
			fail_msg("soak worker %u (seed %" PRIu64 "): %s", i + 1,
				 seed + i, ws[i].m.why);
	for (unsigned i = 0; i < NWORKERS; i++)
		md_free(&ws[i].m);
	free(ws);
	rs_db_close(g_db);
	dur_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(soak__every_primitive_from_several_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
