/* SPDX-License-Identifier: MIT */
/*
 * Power-loss simulation over every cut point of a short workload.
 *
 * The database runs on simfs (simfs.h), a file system in memory that
 * keeps apart what a process reads and what the medium holds: a write
 * reaches the medium only when its file is synced, a directory entry only
 * when the directory is. The workload (two runs of the process on one
 * directory: Strict commits from one thread, then group commits from two
 * threads to two runs, segments rolling over at 4 KiB, a checkpoint, more
 * commits, a close; then a reopen, more commits, a close) is run once per
 * cut point k = 0, 1, 2, ...: a fio layer lets its first k mutating file
 * system calls through and fails every later one with EIO (so the process
 * goes on, sees errors, and nothing more reaches the disk), until k is past
 * the last call. For each k, several disks that such a power cut could
 * leave are built from the state at the cut (simfs_cut: nothing unsynced,
 * everything, the last write of each file torn at a sector boundary, and
 * random subsets with reordering and torn writes by seed), and each is
 * opened with the real library, which must:
 *  - succeed (a state a power cut can produce is never RS_ECORRUPT);
 *  - keep every commit whose commit call returned 0 under Strict, and
 *    under Buffered every commit acknowledged before the last flush that
 *    returned 0 (what is lost is a suffix of the rest);
 *  - show each run as a prefix of its commits, each commit whole (never
 *    part of a transaction), at the matching run version;
 *  - give the same state when opened again (recovery is idempotent).
 * Two of the variants are then also cut during their own recovery, at
 * each of its file system calls, and the disk that leaves is checked the
 * same way.
 *
 * Output: cut points, disks checked, recovery cut points, acknowledged
 * commits lost (must be 0).
 *
 * Knobs (environment): RS_POWERLOSS_VARIANTS (disks per cut point,
 * default 8), RS_POWERLOSS_SCALE (workload size factor, default 2),
 * RS_POWERLOSS_SEED (default 1). The `slow` ctest test_powerloss_slow
 * runs 24 variants at scale 6.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "acked.h"
#include "dur_util.h"
#include "simfs.h"

#define ROOT "pldb"
#define CUT_MAX 100000u /* bound on cut points */

static unsigned env_u(const char *name, unsigned def)
{
	const char *s = getenv(name);

	return s && *s ? (unsigned)strtoul(s, NULL, 10) : def;
}

typedef struct pl {
	rs_durability mode;
	unsigned variants, scale;
	uint64_t seed;
	/* totals */
	unsigned cuts, images, rec_cuts, lost;
} pl;

static rs_db_options pl_opts(rs_durability mode)
{
	return ack_opts(ROOT, mode);
}

/* A call that failed is allowed only after the cut, and only with EIO. */
static void expect_ok_or_cut(fio *f, int rc, const char *what, uint64_t k)
{
	if (rc == 0)
		return;
	if (rc != RS_EIO || !fio_was_cut(f))
		fail_msg("cut %" PRIu64 ": %s returned %s before the cut", k,
			 what, rs_errname(rc));
}

typedef struct committer {
	rs_db *db;
	ack_model *m;
	unsigned run, n;
	rs_durability mode;
	pthread_barrier_t *start;
	int rc;
} committer;

static void *committer_main(void *arg)
{
	committer *c = arg;

	pthread_barrier_wait(c->start);
	for (unsigned i = 0; i < c->n; i++)
		if ((c->rc = ack_commit(c->db, c->m, c->run, c->mode)) < 0)
			break;
	return NULL;
}

/* n commits to run r on this thread; stops at the first error. */
static void commit_n(rs_db *db, ack_model *m, unsigned r, unsigned n,
		     rs_durability mode, fio *f, uint64_t k)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = ack_commit(db, m, r, mode);

		expect_ok_or_cut(f, rc, "a commit", k);
		if (rc < 0)
			return;
	}
}

static void workload(const pl *p, fio *f, ack_model *m, uint64_t k)
{
	rs_db_options o = pl_opts(p->mode);
	bool strict = p->mode == RS_DURABILITY_STRICT;
	unsigned s = p->scale;
	rs_db *db;
	int rc;

	/* Process 1. */
	rc = rs_db_open(&db, &o);
	expect_ok_or_cut(f, rc, "open", k);
	if (rc < 0)
		return;
	commit_n(db, m, 0, 2 * s, p->mode, f, k);
	if (strict) {
		/* Group commit: two committers, two runs, one log. */
		pthread_barrier_t b;
		committer c[2];
		pthread_t t[2];

		pthread_barrier_init(&b, NULL, 2);
		for (unsigned i = 0; i < 2; i++) {
			c[i] = (committer){ db, m, i, 6 * s, p->mode, &b, 0 };
			assert_int_equal(pthread_create(&t[i], NULL,
							committer_main, &c[i]),
					 0);
		}
		for (unsigned i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			expect_ok_or_cut(f, c[i].rc, "a group commit", k);
		}
		pthread_barrier_destroy(&b);
	} else {
		/* Flushed now and then; the rest waits for the
		 * checkpoint and close. */
		for (unsigned i = 0; i < 12 * s; i++) {
			commit_n(db, m, i % 2, 1, p->mode, f, k);
			if (i % 5 == 4) {
				rc = rs_db_flush(db);
				expect_ok_or_cut(f, rc, "flush", k);
				if (rc == 0)
					ack_flushed(m);
			}
		}
	}
	rc = rs_db_checkpoint(db);
	expect_ok_or_cut(f, rc, "checkpoint", k);
	commit_n(db, m, 1, 2 * s, p->mode, f, k);
	rs_db_close(db);
	if (fio_was_cut(f))
		return;
	ack_flushed(m); /* close wrote and synced everything */

	/* Process 2. */
	rc = rs_db_open(&db, &o);
	expect_ok_or_cut(f, rc, "reopen", k);
	if (rc < 0)
		return;
	commit_n(db, m, 2, 2 * s, p->mode, f, k);
	commit_n(db, m, 0, s, p->mode, f, k);
	rs_db_close(db);
	if (!fio_was_cut(f))
		ack_flushed(m);
}

/* Open `img` with the real library and check it against m; its dump. */
static char *check_image(pl *p, simfs *img, const ack_model *m,
			 const char *where, const simfs_cut_info *info)
{
	rs_db_options o = pl_opts(p->mode);
	char msg[512], *dump, *again;
	unsigned lost = 0;
	rs_db *db;
	int rc;

	if ((rc = ack_open(simfs_io(img), &o, &db)) != 0)
		fail_msg("%s: open after the power cut: %s; survived: %s",
			 where, rs_errname(rc), info->desc);
	if (!ack_check(db, m, p->mode == RS_DURABILITY_STRICT, 1, msg,
		       sizeof(msg), &lost)) {
		rs_db_close(db);
		rs__test_io(NULL);
		fail_msg("%s: %s; survived: %s", where, msg, info->desc);
	}
	p->lost += lost;
	dump = dur_dump(db, ACK_RUNS);
	rs_db_close(db);
	/* Idempotent: the state recovery left opens to the same. */
	rc = rs_db_open(&db, &o);
	if (rc != 0) {
		rs__test_io(NULL);
		fail_msg("%s: second open: %s", where, rs_errname(rc));
	}
	again = dur_dump(db, ACK_RUNS);
	rs_db_close(db);
	rs__test_io(NULL);
	if (strcmp(dump, again) != 0)
		fail_msg("%s: the second open differs:\n%s\n---\n%s", where,
			 dump, again);
	free(again);
	p->images++;
	return dump;
}

/* Cut `img`'s own recovery at each of its mutating calls. */
static void cut_recovery(pl *p, simfs *img, const ack_model *m, uint64_t k,
			 unsigned v)
{
	rs_db_options o = pl_opts(p->mode);

	for (uint64_t j = 0; j < CUT_MAX; j++) {
		simfs *base = simfs_cut(img, 0, SIMFS_KEEP_ALL, NULL);
		simfs *again;
		simfs_cut_info info;
		char where[96];
		rs_db *db;
		fio g;
		bool fired;
		int rc;

		fio_init(&g, simfs_io(base));
		g.cut_at = j;
		rs__test_io(&g.io);
		rc = rs_db_open(&db, &o);
		if (rc == 0)
			rs_db_close(db);
		rs__test_io(NULL);
		fired = fio_was_cut(&g);
		if (rc != 0 && (rc != RS_EIO || !fired))
			fail_msg("cut %" PRIu64 " variant %u: open with the "
				 "recovery cut at %" PRIu64 ": %s",
				 k, v, j, rs_errname(rc));
		snprintf(where, sizeof(where),
			 "cut %" PRIu64 " variant %u recovery cut %" PRIu64, k,
			 v, j);
		again = simfs_cut(base, p->seed + k * 131 + j,
				  3 + (unsigned)(j % 5), &info);
		free(check_image(p, again, m, where, &info));
		simfs_free(again);
		simfs_free(base);
		fio_destroy(&g);
		if (!fired)
			return;
		p->rec_cuts++;
	}
	fail_msg("recovery cut points unbounded");
}

static void powerloss(pl *p)
{
	uint64_t k;

	for (k = 0; k < CUT_MAX; k++) {
		simfs *sim = simfs_new(ROOT);
		ack_model m;
		bool fired;
		fio f;

		memset(&m, 0, sizeof(m));
		fio_init(&f, simfs_io(sim));
		f.cut_at = k;
		rs__test_io(&f.io);
		workload(p, &f, &m, k);
		rs__test_io(NULL);
		fired = fio_was_cut(&f);
		for (unsigned v = 0; v < p->variants; v++) {
			simfs_cut_info info;
			simfs *img = simfs_cut(sim, p->seed + k, v, &info);
			char where[64];

			snprintf(where, sizeof(where),
				 "cut %" PRIu64 " variant %u seed %" PRIu64, k,
				 v, p->seed + k);
			free(check_image(p, img, &m, where, &info));
			if (v == SIMFS_TEAR_LAST || v == 3)
				cut_recovery(p, img, &m, k, v);
			simfs_free(img);
		}
		if (!fired) {
			/* k is past the workload's last call: it ran whole.
			 * Segments rolled over (one rename each, one for the
			 * checkpoint). */
			printf("powerloss: the whole workload made %" PRIu64
			       " mutating calls, %" PRIu64 " renames, %" PRIu64
			       " syncs\n",
			       f.mutating, f.count[FIO_RENAME],
			       f.count[FIO_SYNC]);
			assert_true(f.count[FIO_RENAME] >= 4);
		}
		fio_destroy(&f);
		simfs_free(sim);
		if (!fired)
			break;
		p->cuts++;
	}
	assert_true(k < CUT_MAX);
	printf("powerloss %s: %u cut points (every mutating call of the "
	       "workload), %u disks checked, %u recovery cut points, %u "
	       "acknowledged commits lost\n",
	       p->mode == RS_DURABILITY_STRICT ? "strict" : "buffered", p->cuts,
	       p->images, p->rec_cuts, p->lost);
	assert_int_equal(p->lost, 0);
	assert_true(p->cuts > 50);
}

static pl pl_config(rs_durability mode)
{
	pl p;

	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.variants = env_u("RS_POWERLOSS_VARIANTS", 8);
	p.scale = env_u("RS_POWERLOSS_SCALE", 2);
	p.seed = env_u("RS_POWERLOSS_SEED", 1);
	if (p.variants < 4)
		p.variants = 4;
	if (p.scale < 1)
		p.scale = 1;
	return p;
}

static void powerloss__strict_keeps_every_acknowledged_commit(void **state)
{
	pl p = pl_config(RS_DURABILITY_STRICT);

	(void)state;
	powerloss(&p);
}

static void powerloss__buffered_loses_only_after_the_last_flush(void **state)
{
	pl p = pl_config(RS_DURABILITY_BUFFERED);

	(void)state;
	powerloss(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			powerloss__strict_keeps_every_acknowledged_commit),
		cmocka_unit_test(
			powerloss__buffered_loses_only_after_the_last_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
