/* SPDX-License-Identifier: MIT */
/*
 * I/O fault injection: every file system call of a workload fails in
 * turn, with EIO and with ENOSPC.
 *
 * The database runs on simfs (simfs.h) through a fio layer that fails
 * exactly one call: the nth of one kind (open/map/list, write, sync,
 * ftruncate, fallocate, rename, unlink, mkdir), for every n the workload
 * reaches, once with each errno; later calls succeed again, so what the
 * library does after the failure is its own choice. A failed write may
 * leave half of its bytes behind, as a full disk can. The workload (two
 * processes: open, commits to three runs with segments rolling over at
 * 4 KiB, checkpoints, flush, close; a torn record appended to the log, as
 * a crashed writer leaves it; reopen, which cuts it, commits, checkpoint,
 * close) is
 * checked as it goes:
 *  - every call returns 0 or RS_EIO, and RS_EIO only once the fault fired;
 *  - once a commit or a flush has returned RS_EIO, the log is failed for
 *    good: every later commit and flush returns RS_EIO until the database
 *    is reopened;
 *  - reads keep working: the open database shows exactly the commits it
 *    acknowledged;
 *  - a failed checkpoint does not fail the log: commits go on;
 * and afterwards the directory is opened both as a restarted process sees
 * it (everything written) and as a power cut leaves it (only what was
 * synced): each open succeeds, every acknowledged commit (Buffered: every
 * one acknowledged before the last good flush) is there, whole, and at
 * most the one commit that failed reappears.
 *
 * A second test fails a checkpoint at each of its own calls and checks
 * that the old checkpoint and the log are intact (reopening, from the
 * page cache or from what a power cut leaves, gives the state from before
 * it), that commits go on, and that the next checkpoint succeeds.
 *
 * Output: the fault sites covered, by kind. Knob: RS_IOFAULT_SCALE
 * (workload size factor, default 1; the `slow` ctest test_iofault_slow
 * runs 3).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
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

#define ROOT "faultdb"

static unsigned scale(void)
{
	const char *s = getenv("RS_IOFAULT_SCALE");
	unsigned v = s && *s ? (unsigned)strtoul(s, NULL, 10) : 1;

	return v ? v : 1;
}

static rs_db_options fault_opts(rs_durability mode)
{
	return ack_opts(ROOT, mode);
}

/* One workload run with a fault plan. */
typedef struct run {
	fio *f;
	rs_durability mode;
	ack_model m;
	bool poisoned; /* a commit or flush returned RS_EIO */
	char where[96];
} run;

/* A run on `sim` through `f` (initialized here). */
static void run_init(run *r, fio *f, simfs *sim, rs_durability mode)
{
	memset(r, 0, sizeof(*r));
	fio_init(f, simfs_io(sim));
	r->f = f;
	r->mode = mode;
}

static void expect_rc(run *r, int rc, const char *what)
{
	if (rc == 0)
		return;
	if (rc != RS_EIO || !fio_has_fired(r->f))
		fail_msg("%s: %s returned %s%s", r->where, what, rs_errname(rc),
			 fio_has_fired(r->f) ? "" : " with no fault injected");
}

/* Reads on the open database: exactly what it acknowledged. */
static void expect_reads(run *r, rs_db *db)
{
	char msg[256];

	if (!ack_check(db, &r->m, true, 0, msg, sizeof(msg), NULL))
		fail_msg("%s: reads after the fault: %s", r->where, msg);
}

/* A write call's code: 0 or RS_EIO, and RS_EIO once the log failed. */
static void expect_write_rc(run *r, int rc, const char *what)
{
	if (r->poisoned && rc != RS_EIO)
		fail_msg("%s: %s after the log failed returned %s", r->where,
			 what, rs_errname(rc));
	expect_rc(r, rc, what);
}

static void commit(run *r, rs_db *db, unsigned run_no)
{
	int rc = ack_commit(db, &r->m, run_no, r->mode);

	expect_write_rc(r, rc, "a commit");
	if (rc == RS_EIO) {
		r->poisoned = true;
		expect_reads(r, db);
	}
}

static void flush(run *r, rs_db *db)
{
	int rc = rs_db_flush(db);

	expect_write_rc(r, rc, "a flush");
	if (rc == 0)
		ack_flushed(&r->m);
	else
		r->poisoned = true;
}

static void checkpoint(run *r, rs_db *db)
{
	int rc = rs_db_checkpoint(db);

	expect_write_rc(r, rc, "a checkpoint");
	expect_reads(r, db);
}

/* Open (again, through the same layer: its fault fires only once). */
static rs_db *open_db(run *r)
{
	rs_db_options o = fault_opts(r->mode);
	rs_db *db = NULL;
	int rc = rs_db_open(&db, &o);

	expect_rc(r, rc, "open");
	if (rc < 0) {
		rc = rs_db_open(&db, &o);
		if (rc != 0)
			fail_msg("%s: the open after a failed open: %s",
				 r->where, rs_errname(rc));
	}
	r->poisoned = false;
	return db;
}

static void close_db(run *r, rs_db *db)
{
	rs_db_close(db);
	/* Close cannot report a failure; if none happened, everything
	 * acknowledged is on disk now. */
	if (!r->poisoned && !fio_has_fired(r->f))
		ack_flushed(&r->m);
}

static int newest_segment(void *arg, const char *name)
{
	char *best = arg;

	if (strncmp(name, "wal-", 4) == 0 && strlen(name) == 24 &&
	    strcmp(name + 20, ".log") == 0 && strcmp(name, best) > 0)
		snprintf(best, 32, "%s", name);
	return 0;
}

/*
 * What a process that crashed in the middle of a write leaves: bytes of a
 * record that never completed after the last one of the newest segment.
 * The next open cuts them (ftruncate, fallocate, fsync), so those calls
 * are reached too. Written to the simulation directly: not counted.
 */
static void tear_tail(simfs *sim)
{
	const rs__io *io = simfs_io(sim);
	unsigned char junk[40];
	const unsigned char *p;
	char name[32] = "";
	size_t len, end;
	int dfd, fd;

	memset(junk, 0xa5, sizeof(junk));
	dfd = io->ops->open(io->ctx, ROOT, RS__IO_DIR);
	assert_true(dfd >= 0);
	assert_int_equal(io->ops->list(io->ctx, dfd, newest_segment, name), 0);
	assert_true(name[0] != '\0');
	assert_int_equal(io->ops->map(io->ctx, dfd, name, &p, &len), 0);
	for (end = len; end > 0 && p[end - 1] == 0; end--)
		;
	io->ops->unmap(io->ctx, p, len);
	fd = io->ops->openat(io->ctx, dfd, name, RS__IO_WRITE);
	assert_true(fd >= 0);
	assert_int_equal(io->ops->pwrite(io->ctx, fd, junk, sizeof(junk), end),
			 (int64_t)sizeof(junk));
	assert_int_equal(io->ops->fsync(io->ctx, fd), 0);
	io->ops->close(io->ctx, fd);
	io->ops->close(io->ctx, dfd);
}

static void workload(run *r, simfs *sim)
{
	unsigned s = scale();
	rs_db *db = open_db(r);

	for (unsigned i = 0; i < 3 * s; i++)
		commit(r, db, 0);
	checkpoint(r, db);
	for (unsigned i = 0; i < 8 * s; i++) {
		commit(r, db, i % 2);
		if (i % 3 == 2)
			flush(r, db);
	}
	checkpoint(r, db);
	for (unsigned i = 0; i < 2 * s; i++)
		commit(r, db, 2);
	flush(r, db);
	close_db(r, db);
	if (r->poisoned) {
		/* The failed commit may be on disk: the model cannot say
		 * which state the next process starts from. */
		return;
	}

	tear_tail(sim);
	db = open_db(r);
	for (unsigned i = 0; i < 2 * s; i++)
		commit(r, db, 0);
	checkpoint(r, db);
	commit(r, db, 1);
	close_db(r, db);
}

/* Open what the fault left, as a restart and as a power cut see it. */
static void check_after(run *r, simfs *sim)
{
	static const unsigned variants[] = { SIMFS_KEEP_ALL, SIMFS_KEEP_NONE };
	rs_db_options o = fault_opts(r->mode);

	for (size_t v = 0; v < 2; v++) {
		simfs_cut_info info;
		simfs *img = simfs_cut(sim, 0, variants[v], &info);
		char msg[256];
		rs_db *db;
		int rc;

		if ((rc = ack_open(simfs_io(img), &o, &db)) != 0)
			fail_msg("%s: reopen (%s): %s; files: %s", r->where,
				 v ? "power cut" : "restart", rs_errname(rc),
				 info.desc);
		if (!ack_check(db, &r->m, r->mode == RS_DURABILITY_STRICT, 1,
			       msg, sizeof(msg), NULL)) {
			ack_close(db);
			fail_msg("%s: reopen (%s): %s; files: %s", r->where,
				 v ? "power cut" : "restart", msg, info.desc);
		}
		ack_close(db);
		simfs_free(img);
	}
}

/* Run the workload once with no fault: the calls of each kind. */
static void count_calls(rs_durability mode, uint64_t counts[FIO_NKINDS])
{
	simfs *sim = simfs_new(ROOT);
	run r;
	fio f;

	run_init(&r, &f, sim, mode);
	snprintf(r.where, sizeof(r.where), "no fault");
	rs__test_io(&f.io);
	workload(&r, sim);
	rs__test_io(NULL);
	check_after(&r, sim);
	memcpy(counts, f.count, sizeof(f.count));
	fio_destroy(&f);
	simfs_free(sim);
}

static void every_call_fails(rs_durability mode)
{
	static const int errnos[] = { EIO, ENOSPC };
	uint64_t counts[FIO_NKINDS], sites = 0, poisoned = 0;
	char line[512] = "";

	count_calls(mode, counts);
	for (int k = 0; k < FIO_NKINDS; k++) {
		for (uint64_t n = 1; n <= counts[k]; n++) {
			for (size_t e = 0; e < 2; e++) {
				simfs *sim = simfs_new(ROOT);
				run r;
				fio f;

				run_init(&r, &f, sim, mode);
				f.fail_kind = k;
				f.fail_nth = n;
				f.fail_errno = errnos[e];
				snprintf(r.where, sizeof(r.where),
					 "%s call %" PRIu64 " fails with %s",
					 fio_kind_name[k], n,
					 e ? "ENOSPC" : "EIO");
				rs__test_io(&f.io);
				workload(&r, sim);
				rs__test_io(NULL);
				if (!f.fired)
					fail_msg("%s: never reached", r.where);
				check_after(&r, sim);
				poisoned += r.poisoned;
				sites++;
				fio_destroy(&f);
				simfs_free(sim);
			}
		}
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " %s %" PRIu64, fio_kind_name[k], counts[k]);
	}
	printf("iofault %s: %" PRIu64 " fault sites (each call x EIO, "
	       "ENOSPC; calls by kind:%s); the log refused writes after "
	       "%" PRIu64 " of them\n",
	       mode == RS_DURABILITY_STRICT ? "strict" : "buffered", sites,
	       line, poisoned);
	assert_true(sites > 100);
	assert_true(poisoned > 0);
}

static void iofault__strict_every_call_fails_in_turn(void **state)
{
	(void)state;
	every_call_fails(RS_DURABILITY_STRICT);
}

static void iofault__buffered_every_call_fails_in_turn(void **state)
{
	(void)state;
	every_call_fails(RS_DURABILITY_BUFFERED);
}

/* ---- a checkpoint failing at each of its calls ---- */

static rs_db *ckpt_setup(run *r)
{
	rs_db *db = open_db(r);

	for (unsigned i = 0; i < 4; i++)
		commit(r, db, 0);
	checkpoint(r, db);
	for (unsigned i = 0; i < 10; i++)
		commit(r, db, i % 3);
	return db;
}

static void iofault__checkpoint_fails_halfway(void **state)
{
	uint64_t before[FIO_NKINDS], after[FIO_NKINDS], sites = 0;
	rs_db_options o = fault_opts(RS_DURABILITY_STRICT);

	(void)state;
	/* The calls the checkpoint makes, by kind. */
	{
		simfs *sim = simfs_new(ROOT);
		run r;
		fio f;
		rs_db *db;

		run_init(&r, &f, sim, RS_DURABILITY_STRICT);
		rs__test_io(&f.io);
		db = ckpt_setup(&r);
		memcpy(before, f.count, sizeof(before));
		assert_int_equal(rs_db_checkpoint(db), 0);
		memcpy(after, f.count, sizeof(after));
		rs_db_close(db);
		rs__test_io(NULL);
		fio_destroy(&f);
		simfs_free(sim);
	}
	for (int k = 0; k < FIO_NKINDS; k++) {
		for (uint64_t n = before[k] + 1; n <= after[k]; n++) {
			simfs *sim = simfs_new(ROOT);
			char *want, *got;
			run r;
			fio f;
			rs_db *db;

			run_init(&r, &f, sim, RS_DURABILITY_STRICT);
			snprintf(r.where, sizeof(r.where),
				 "checkpoint: its %s call %" PRIu64 " fails",
				 fio_kind_name[k], n - before[k]);
			rs__test_io(&f.io);
			db = ckpt_setup(&r);
			f.fail_kind = k;
			f.fail_nth = n;
			f.fail_errno = EIO;
			if (rs_db_checkpoint(db) != RS_EIO)
				fail_msg("%s: checkpoint did not fail",
					 r.where);
			assert_true(fio_has_fired(&f));
			expect_reads(&r, db);
			want = dur_dump(db, ACK_RUNS);
			rs_db_close(db);
			rs__test_io(NULL);
			/* The old checkpoint and the log give the state from
			 * before it, after a restart or a power cut. */
			for (unsigned v = 0; v < 2; v++) {
				simfs *img = simfs_cut(sim, 0,
						       v ? SIMFS_KEEP_NONE
							 : SIMFS_KEEP_ALL,
						       NULL);

				rs__test_io(simfs_io(img));
				assert_int_equal(rs_db_open(&db, &o), 0);
				got = dur_dump(db, ACK_RUNS);
				if (strcmp(want, got) != 0)
					fail_msg("%s: reopen differs:\n%s\n---"
						 "\n%s",
						 r.where, want, got);
				free(got);
				rs_db_close(db);
				rs__test_io(NULL);
				simfs_free(img);
			}
			free(want);
			/* The log was not failed by it: commits go on, and
			 * the next checkpoint succeeds. */
			rs__test_io(&f.io);
			assert_int_equal(rs_db_open(&db, &o), 0);
			commit(&r, db, 1);
			assert_int_equal(rs_db_checkpoint(db), 0);
			rs_db_close(db);
			rs__test_io(NULL);
			check_after(&r, sim);
			fio_destroy(&f);
			simfs_free(sim);
			sites++;
		}
	}
	printf("iofault checkpoint: failed at each of its %" PRIu64 " calls\n",
	       sites);
	assert_true(sites >= 8);
}

/* A failed checkpoint during a run of commits does not stop them. */
static void iofault__commits_go_on_after_a_failed_checkpoint(void **state)
{
	simfs *sim = simfs_new(ROOT);
	run r;
	fio f;
	rs_db *db;

	(void)state;
	run_init(&r, &f, sim, RS_DURABILITY_STRICT);
	snprintf(r.where, sizeof(r.where), "checkpoint rename fails");
	rs__test_io(&f.io);
	db = ckpt_setup(&r);
	f.fail_kind = FIO_RENAME;
	f.fail_nth = f.count[FIO_RENAME] + 1;
	f.fail_errno = ENOSPC;
	assert_int_equal(rs_db_checkpoint(db), RS_EIO);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(ack_commit(db, &r.m, i % 3, r.mode), 0);
	}
	assert_int_equal(rs_db_flush(db), 0);
	rs_db_close(db);
	rs__test_io(NULL);
	check_after(&r, sim);
	fio_destroy(&f);
	simfs_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iofault__strict_every_call_fails_in_turn),
		cmocka_unit_test(iofault__buffered_every_call_fails_in_turn),
		cmocka_unit_test(iofault__checkpoint_fails_halfway),
		cmocka_unit_test(
			iofault__commits_go_on_after_a_failed_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
