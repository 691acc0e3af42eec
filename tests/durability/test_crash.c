/* SPDX-License-Identifier: MIT */
/*
 * Crash tests: a forked writer commits multi-key transactions and reports
 * each acknowledged commit over a pipe; the parent SIGKILLs it at a random
 * moment (also during recovery or a checkpoint), then a forked verifier
 * reopens the database and checks that
 *  - every run is at a version v with a = b = c = v and exactly v "log/"
 *    keys: no transaction was applied in part, none is missing;
 *  - Strict: v >= the last acknowledged commit of the run;
 *  - Buffered: the acknowledged commits lost in all runs are at most two
 *    batches (flush_batch_commits each; the interval is made long);
 *  - v <= the last acknowledged commit + 1 (one commit may have become
 *    durable without its acknowledgement getting out).
 * Rounds continue on the same directory, so recovery also runs on logs
 * that earlier rounds cut, rotated and checkpointed.
 *
 * The parent never calls the library: every database is used only in a
 * child forked from a process with no library threads (see the fork
 * caveat in runstate.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"

#define NRUNS 3u

typedef struct crash_cfg {
	rs_durability mode;
	rs_storage storage;
	uint32_t batch_commits;
	uint32_t interval_ms;
	uint64_t ckpt_bytes;
	unsigned rounds;
} crash_cfg;

typedef struct ack {
	uint32_t run;
	uint32_t version;
} ack;

static rs_db_options cfg_opts(const crash_cfg *c, const char *dir)
{
	rs_db_options o = dur_opts(dir, c->mode);

	o.storage = c->storage;
	o.segment_bytes = 16384;
	o.checkpoint_wal_bytes = c->ckpt_bytes;
	o.flush_batch_commits = c->batch_commits;
	o.flush_interval_ms = c->interval_ms;
	return o;
}

static uint64_t rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(3);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Child: commit forever, acknowledging each commit. Never returns. */
static void writer(const crash_cfg *c, const char *dir, int fd)
{
	rs_db_options o = cfg_opts(c, dir);
	uint64_t next[NRUNS];
	rs_db *db;

	if (rs_db_open(&db, &o) != 0)
		_exit(2);
	for (unsigned r = 0; r < NRUNS; r++) {
		rs_run_id id = dur_run(r);

		if (rs_db_run_version(db, &id, &next[r]) != 0)
			_exit(2);
		next[r]++;
	}
	for (unsigned i = 0;; i++) {
		unsigned r = i % NRUNS;
		rs_run_id id = dur_run(r);
		char v[32], lk[32];
		rs_txn *txn;
		ack a;

		snprintf(v, sizeof(v), "%" PRIu64, next[r]);
		snprintf(lk, sizeof(lk), "log/%08" PRIu64, next[r]);
		if (rs_txn_begin(&txn, db, &id, 0) != 0 ||
		    rs_txn_kv_put(txn, "a", 1, v, strlen(v)) != 0 ||
		    rs_txn_kv_put(txn, lk, strlen(lk), v, strlen(v)) != 0 ||
		    rs_txn_kv_put(txn, "b", 1, v, strlen(v)) != 0 ||
		    rs_txn_kv_put(txn, "c", 1, v, strlen(v)) != 0 ||
		    rs_txn_commit(txn) != 0)
			_exit(4);
		a.run = r;
		a.version = (uint32_t)next[r]++;
		write_all(fd, &a, sizeof(a));
	}
}

static int count_entry(rs_bytes k, rs_bytes v, void *ctx)
{
	(void)k;
	(void)v;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int check_value(rs_db *db, unsigned run, const char *key, uint64_t v)
{
	rs_run_id id = dur_run(run);
	char buf[64], want[32];
	size_t len = 0;
	int rc = rs_kv_get(db, &id, key, 1, buf, sizeof(buf) - 1, &len);

	if (v == 0)
		return rc == RS_ENOTFOUND ? 0 : -1;
	if (rc != 0)
		return -1;
	buf[len] = '\0';
	snprintf(want, sizeof(want), "%" PRIu64, v);
	return strcmp(buf, want) == 0 ? 0 : -1;
}

/* Child: reopen, check each run's consistency, report its version. */
static void verifier(const crash_cfg *c, const char *dir, int fd)
{
	rs_db_options o = cfg_opts(c, dir);
	uint64_t vers[NRUNS];
	rs_db *db;
	int rc = rs_db_open(&db, &o);

	if (rc != 0) {
		fprintf(stderr, "verifier: open: %s\n", rs_errname(rc));
		_exit(10);
	}
	for (unsigned r = 0; r < NRUNS; r++) {
		rs_run_id id = dur_run(r);
		uint64_t logs = 0;

		if (rs_db_run_version(db, &id, &vers[r]) != 0 ||
		    rs_kv_list(db, &id, "log/", 4, NULL, 0, 0, NULL,
			       count_entry, &logs) != 0)
			_exit(11);
		if (check_value(db, r, "a", vers[r]) ||
		    check_value(db, r, "b", vers[r]) ||
		    check_value(db, r, "c", vers[r]) || logs != vers[r]) {
			fprintf(stderr,
				"verifier: run %u at v%" PRIu64
				" is not whole (%" PRIu64 " log keys)\n",
				r, vers[r], logs);
			_exit(12);
		}
	}
	if (getenv("RS_CRASH_VERBOSE")) {
		rs_db_stats st = dur_stats(db);

		fprintf(stderr,
			"verifier: v%" PRIu64 "/%" PRIu64 "/%" PRIu64
			" replayed %" PRIu64 " skipped %" PRIu64
			" truncated %" PRIu64 " ckpt %d\n",
			vers[0], vers[1], vers[2], st.records_replayed,
			st.records_skipped, st.bytes_truncated,
			st.checkpoint_used);
	}
	rs_db_close(db);
	write_all(fd, vers, sizeof(vers));
	_exit(0);
}

static pid_t spawn(void (*fn)(const crash_cfg *, const char *, int),
		   const crash_cfg *c, const char *dir, int *rfd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fn(c, dir, p[1]);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void crash_rounds(const crash_cfg *c)
{
	char *dir = dur_tmpdir();
	uint64_t acked[NRUNS] = { 0 }, vers[NRUNS];
	unsigned total_acks = 0;
	unsigned batch = c->batch_commits ? c->batch_commits
					  : RS_FLUSH_BATCH_COMMITS_DEFAULT;

	for (unsigned round = 0; round < c->rounds; round++) {
		unsigned target = (unsigned)(rnd() % 120);
		unsigned got = 0;
		uint64_t lost = 0;
		int fd, status;
		pid_t pid;
		ack a;

		pid = spawn(writer, c, dir, &fd);
		/* Kill after `target` acknowledgements and a random pause
		 * (0 acks: possibly during recovery). */
		while (got < target &&
		       read_full(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
			acked[a.run] = a.version;
			got++;
		}
		if (rnd() % 2) {
			struct timespec ts = { 0, (long)(rnd() % 3000000) };

			nanosleep(&ts, NULL);
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		/* Acknowledgements written before the kill. */
		while (read_full(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
			acked[a.run] = a.version;
			got++;
		}
		close(fd);
		total_acks += got;

		pid = spawn(verifier, c, dir, &fd);
		assert_int_equal(read_full(fd, vers, sizeof(vers)),
				 (ssize_t)sizeof(vers));
		close(fd);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		for (unsigned r = 0; r < NRUNS; r++) {
			if (vers[r] > acked[r] + 1)
				fail_msg("run %u: v%" PRIu64
					 " but last acknowledged %" PRIu64,
					 r, vers[r], acked[r]);
			if (vers[r] < acked[r])
				lost += acked[r] - vers[r];
			acked[r] = vers[r];
		}
		if (c->mode == RS_DURABILITY_STRICT && lost)
			fail_msg("round %u: %" PRIu64
				 " acknowledged Strict commits lost",
				 round, lost);
		if (c->mode == RS_DURABILITY_BUFFERED && lost > 2ull * batch)
			fail_msg("round %u: %" PRIu64
				 " Buffered commits lost, window %u",
				 round, lost, 2 * batch);
	}
	/* The rounds did commit something. */
	assert_true(total_acks > 0);
	dur_rmdir(dir);
}

static void crash__strict_keeps_every_acknowledged_commit(void **state)
{
	crash_cfg c = {
		RS_DURABILITY_STRICT, RS_STORAGE_SHARDED, 0, 0, 32768, 40
	};

	(void)state;
	crash_rounds(&c);
}

static void crash__buffered_loses_at_most_its_window(void **state)
{
	crash_cfg c = { RS_DURABILITY_BUFFERED,
			RS_STORAGE_SHARDED,
			8,
			3600000,
			32768,
			40 };

	(void)state;
	crash_rounds(&c);
}

static void crash__buffered_by_interval(void **state)
{
	crash_cfg c = { RS_DURABILITY_BUFFERED,
			RS_STORAGE_SHARDED,
			0,
			2,
			RS_CHECKPOINT_NEVER,
			10 };

	(void)state;
	crash_rounds(&c);
}

static void crash__unified_store(void **state)
{
	crash_cfg s = {
		RS_DURABILITY_STRICT, RS_STORAGE_UNIFIED, 0, 0, 32768, 8
	};
	crash_cfg b = {
		RS_DURABILITY_BUFFERED, RS_STORAGE_UNIFIED, 8, 3600000, 32768, 8
	};

	(void)state;
	crash_rounds(&s);
	crash_rounds(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash__strict_keeps_every_acknowledged_commit),
		cmocka_unit_test(crash__buffered_loses_at_most_its_window),
		cmocka_unit_test(crash__buffered_by_interval),
		cmocka_unit_test(crash__unified_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
