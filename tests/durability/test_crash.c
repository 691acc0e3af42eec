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
 * The expected-state rounds (crash__model_*; issue 8, deliver item 2) run
 * a random workload of every primitive but the RunIndex: several threads
 * of a child commit transactions and one-shot writes (KV puts and deletes,
 * event appends, cell init/set/cas/transition/delete, traces with tags and
 * parents) on six runs, with automatic and explicit checkpoints and 4 KiB
 * segments rolling over, and report each acknowledged commit (run, its
 * number in the run) after it returns. Commit k of a run is a function of
 * the run's state after k - 1 commits and a seed, so the parent rebuilds
 * the expected state of any prefix with the reference model
 * (tests/common/statemodel.h) and no library call. A forked verifier
 * checks that each run's whole state (KV, cells, every event with its
 * chain verified, traces) is the model's after some number of its commits:
 * no commit applied in part, sequences and ids dense. Strict: at least
 * every acknowledged commit, at most one more (in flight). Buffered: what
 * is lost is a suffix per run, within two batches in all. The next
 * writer checks that versions continue where recovery left them. Rounds
 * and losses are printed; RS_CRASH_ROUNDS sets the rounds of each, and
 * `--long` (label slow) runs 300 of each.
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

#include <pthread.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/statemodel.h"
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

/* A pause of up to 3 ms half the time, so kills land anywhere. */
static void random_pause(void)
{
	if (rnd() % 2) {
		struct timespec ts = { 0, (long)(rnd() % 3000000) };

		nanosleep(&ts, NULL);
	}
}

/* SIGKILL a writer, which must not have exited on its own. */
static void kill_writer(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fail_msg("the writer exited with %d", WEXITSTATUS(status));
}

/* Run a verifier child, read its n-byte report, check it exited 0. */
static void verify(void (*fn)(const crash_cfg *, const char *, int),
		   const crash_cfg *c, const char *dir, void *out, size_t n)
{
	int fd, status;
	pid_t pid = spawn(fn, c, dir, &fd);

	assert_int_equal(read_full(fd, out, n), (ssize_t)n);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
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
		int fd;
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
		random_pause();
		kill_writer(pid);
		/* Acknowledgements written before the kill. */
		while (read_full(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
			acked[a.run] = a.version;
			got++;
		}
		close(fd);
		total_acks += got;

		verify(verifier, c, dir, vers, sizeof(vers));
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

/* ---- rounds against an expected state ---- */

#define XR_THREADS 3
#define XR_RUNS 6 /* thread t commits to runs t and t + XR_THREADS */
#define XR_OPS 5

typedef struct xr_cfg {
	const char *name;
	rs_durability mode;
	uint32_t batch_commits;
	uint32_t interval_ms;
	unsigned rounds;
} xr_cfg;

/* State shared with the forked children (they inherit it): the model of
 * each run after done[r] commits, and the acknowledgements. */
static struct xr_state {
	const xr_cfg *cfg;
	const char *dir;
	uint64_t seed;
	sm_run model[XR_RUNS];
	uint32_t done[XR_RUNS];
	uint32_t acked[XR_RUNS];
	int fd;
} xr;

typedef struct xr_ack {
	uint32_t run;
	uint32_t k;
} xr_ack;

static rs_run_id xr_run(unsigned r)
{
	return dur_run(100 + r);
}

static rs_db_options xr_opts(void)
{
	rs_db_options o = dur_opts(xr.dir, xr.cfg->mode);

	o.segment_bytes = 4096;
	o.checkpoint_wal_bytes = 16384;
	o.flush_batch_commits = xr.cfg->batch_commits;
	o.flush_interval_ms = xr.cfg->interval_ms;
	return o;
}

/* Commit k of run r, from the model of its first k - 1 commits: ops (in
 * a transaction that also puts "\x01k", so that every commit writes;
 * one-shot when *oneshot). */
static size_t xr_gen(const sm_run *r, unsigned run, uint32_t k, sm_op *ops,
		     bool *oneshot)
{
	uint64_t rng = xr.seed ^ ((uint64_t)run << 40) ^ ((uint64_t)k << 8);
	size_t n = 1 + (size_t)sm_rnd(&rng, XR_OPS - 1), ns = 0;
	sm_run view;
	sm_res res;

	sm_run_copy(&view, r);
	for (size_t i = 0; i < n; i++) {
		sm_gen_write(&view, &rng, &ops[i]);
		sm_apply(&view, &ops[i], true, &ns, &res);
	}
	sm_run_free(&view);
	*oneshot = false;
	if (n == 1 && sm_rnd(&rng, 3) == 0) {
		sm_run_copy(&view, r);
		sm_apply(&view, &ops[0], false, &ns, &res);
		*oneshot = res.wrote;
		sm_run_free(&view);
	}
	if (*oneshot)
		return 1;
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].kind = SM_KV_PUT;
	ops[n].key[0] = 1;
	ops[n].key[1] = 'k';
	ops[n].klen = 2;
	memcpy(ops[n].val, &k, sizeof(k));
	ops[n].vlen = sizeof(k);
	return n + 1;
}

/* Apply commit k of run r to the model; with db, to the library too
 * (checking each result). Returns 0, or what failed. */
static int xr_commit(rs_db *db, unsigned run, uint32_t k)
{
	sm_run *r = &xr.model[run];
	sm_op ops[XR_OPS + 1];
	sm_res want[XR_OPS + 1], got[XR_OPS + 1];
	rs_run_id id = xr_run(run);
	bool oneshot;
	size_t n = xr_gen(r, run, k, ops, &oneshot), ns = 0;
	char why[256];
	rs_txn *txn = NULL;
	sm_run view;

	if (oneshot) {
		sm_apply(r, &ops[0], false, &ns, &want[0]);
		if (!db)
			return 0;
		sm_exec(db, &id, NULL, &ops[0], &got[0]);
		if (!sm_same_res(&ops[0], &got[0], &want[0], false, why,
				 sizeof(why))) {
			fprintf(stderr, "writer: run %u commit %u: %s\n", run,
				k, why);
			return 6;
		}
		return 0;
	}
	sm_run_copy(&view, r);
	if (db && rs_txn_begin(&txn, db, &id, 0) != 0)
		return 4;
	for (size_t i = 0; i < n; i++) {
		sm_apply(&view, &ops[i], true, &ns, &want[i]);
		if (!db)
			continue;
		sm_exec(db, &id, txn, &ops[i], &got[i]);
		if (!sm_same_res(&ops[i], &got[i], &want[i], true, why,
				 sizeof(why))) {
			fprintf(stderr, "writer: run %u commit %u: %s\n", run,
				k, why);
			return 6;
		}
	}
	sm_run_free(&view);
	sm_commit(r, ops, want, n);
	if (db && rs_txn_commit(txn) != 0)
		return 4;
	return 0;
}

typedef struct xr_worker {
	rs_db *db;
	unsigned t;
} xr_worker;

static void *xr_writer_thread(void *arg)
{
	const xr_worker *w = arg;

	for (unsigned i = 0;; i++) {
		unsigned run = w->t + XR_THREADS * (i % 2);
		uint32_t k = ++xr.done[run];
		rs_run_id id = xr_run(run);
		uint64_t v = 0;
		xr_ack a = { run, k };
		int rc = xr_commit(w->db, run, k);

		if (rc)
			_exit(rc);
		/* Versions continue: this commit made the model's version. */
		if (rs_db_run_version(w->db, &id, &v) != 0 ||
		    v != xr.model[run].version) {
			fprintf(stderr,
				"writer: run %u at v%" PRIu64
				", model v%" PRIu64 "\n",
				run, v, xr.model[run].version);
			_exit(5);
		}
		write_all(xr.fd, &a, sizeof(a));
		if (w->t == 0 && i % 40 == 39 && rs_db_checkpoint(w->db) != 0)
			_exit(8);
	}
	return NULL;
}

/* Child: commit forever from XR_THREADS threads. Never returns. */
static void xr_writer(const crash_cfg *unused, const char *dir, int fd)
{
	rs_db_options o = xr_opts();
	pthread_t th[XR_THREADS];
	xr_worker w[XR_THREADS];
	rs_db *db;

	(void)unused;
	(void)dir;
	xr.fd = fd;
	if (rs_db_open(&db, &o) != 0)
		_exit(2);
	for (unsigned t = 0; t < XR_THREADS; t++) {
		w[t] = (xr_worker){ db, t };
		if (pthread_create(&th[t], NULL, xr_writer_thread, &w[t]))
			_exit(2);
	}
	for (unsigned t = 0; t < XR_THREADS; t++)
		pthread_join(th[t], NULL);
	_exit(0);
}

/* Child: reopen and find, per run, the number of its commits whose state
 * the database holds exactly; report them. */
static void xr_verifier(const crash_cfg *unused, const char *dir, int fd)
{
	rs_db_options o = xr_opts();
	uint32_t found[XR_RUNS];
	char why[512];
	rs_db *db;
	int rc = rs_db_open(&db, &o);

	(void)unused;
	(void)dir;
	if (rc != 0) {
		fprintf(stderr, "verifier: open: %s\n", rs_errname(rc));
		_exit(10);
	}
	for (unsigned r = 0; r < XR_RUNS; r++) {
		rs_run_id id = xr_run(r);
		uint64_t v = 0;
		uint32_t k = xr.done[r];

		if (rs_db_run_version(db, &id, &v) != 0)
			_exit(11);
		/* Up to one commit past the last acknowledged one. */
		while (xr.model[r].version < v && k <= xr.acked[r])
			xr_commit(NULL, r, ++k);
		if (xr.model[r].version != v) {
			fprintf(stderr,
				"verifier: run %u at v%" PRIu64
				": no prefix of its commits (model v%" PRIu64
				" after %u)\n",
				r, v, xr.model[r].version, k);
			_exit(12);
		}
		if (!sm_check_run(db, &xr.model[r], why, sizeof(why))) {
			fprintf(stderr,
				"verifier: run %u after %u commits: %s\n", r, k,
				why);
			_exit(13);
		}
		found[r] = k;
	}
	rs_db_close(db);
	write_all(fd, found, sizeof(found));
	_exit(0);
}

static void xr_rounds(const xr_cfg *c, unsigned rounds)
{
	char *dir = dur_tmpdir();
	uint64_t acks = 0, lost = 0, beyond = 0, max_lost = 0;
	unsigned window =
		2 * (c->batch_commits ? c->batch_commits
				      : RS_FLUSH_BATCH_COMMITS_DEFAULT);

	memset(&xr, 0, sizeof(xr));
	xr.cfg = c;
	xr.dir = dir;
	xr.seed = rnd();
	for (unsigned r = 0; r < XR_RUNS; r++) {
		rs_run_id id = xr_run(r);

		sm_run_init(&xr.model[r], &id);
	}
	for (unsigned round = 0; round < rounds; round++) {
		unsigned target = (unsigned)(rnd() % 150), got = 0;
		uint32_t found[XR_RUNS];
		uint64_t round_lost = 0;
		int fd;
		pid_t pid;
		xr_ack a;

		pid = spawn(xr_writer, NULL, dir, &fd);
		while (got < target &&
		       read_full(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
			assert_true(a.run < XR_RUNS &&
				    a.k == xr.acked[a.run] + 1);
			xr.acked[a.run] = a.k;
			got++;
		}
		random_pause();
		kill_writer(pid);
		while (read_full(fd, &a, sizeof(a)) == (ssize_t)sizeof(a)) {
			assert_true(a.run < XR_RUNS &&
				    a.k == xr.acked[a.run] + 1);
			xr.acked[a.run] = a.k;
			got++;
		}
		close(fd);
		acks += got;

		verify(xr_verifier, NULL, dir, found, sizeof(found));
		for (unsigned r = 0; r < XR_RUNS; r++) {
			if (found[r] > xr.acked[r] + 1)
				fail_msg("%s round %u: run %u has %u commits, "
					 "%u acknowledged",
					 c->name, round, r, found[r],
					 xr.acked[r]);
			if (found[r] < xr.acked[r])
				round_lost += xr.acked[r] - found[r];
			else
				beyond += found[r] - xr.acked[r];
			/* The parent's model follows (model code only). */
			while (xr.done[r] < found[r])
				xr_commit(NULL, r, ++xr.done[r]);
			xr.done[r] = xr.acked[r] = found[r];
		}
		lost += round_lost;
		if (round_lost > max_lost)
			max_lost = round_lost;
		if (c->mode == RS_DURABILITY_STRICT && round_lost)
			fail_msg("%s round %u: %" PRIu64
				 " acknowledged Strict commits lost",
				 c->name, round, round_lost);
		if (c->mode == RS_DURABILITY_BUFFERED && round_lost > window)
			fail_msg("%s round %u: %" PRIu64
				 " Buffered commits lost, window %u",
				 c->name, round, round_lost, window);
	}
	printf("crash %s: %u rounds, %" PRIu64 " commits acknowledged, %" PRIu64
	       " acknowledged commits lost (most in a round: %" PRIu64
	       "), %" PRIu64 " found beyond the acknowledged\n",
	       c->name, rounds, acks, lost, max_lost, beyond);
	assert_true(acks > 0);
	for (unsigned r = 0; r < XR_RUNS; r++)
		sm_run_free(&xr.model[r]);
	dur_rmdir(dir);
}

static unsigned g_rounds;

static void crash__model_strict_keeps_every_acknowledged_commit(void **state)
{
	xr_cfg c = { "model/strict", RS_DURABILITY_STRICT, 0, 0, 0 };

	(void)state;
	xr_rounds(&c, g_rounds ? g_rounds : 24);
}

static void crash__model_buffered_loses_a_suffix_in_its_window(void **state)
{
	xr_cfg c = { "model/buffered", RS_DURABILITY_BUFFERED, 8, 3600000, 0 };

	(void)state;
	xr_rounds(&c, g_rounds ? g_rounds : 24);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash__strict_keeps_every_acknowledged_commit),
		cmocka_unit_test(crash__buffered_loses_at_most_its_window),
		cmocka_unit_test(crash__buffered_by_interval),
		cmocka_unit_test(crash__unified_store),
		cmocka_unit_test(
			crash__model_strict_keeps_every_acknowledged_commit),
		cmocka_unit_test(
			crash__model_buffered_loses_a_suffix_in_its_window),
	};
	const struct CMUnitTest long_tests[] = {
		cmocka_unit_test(
			crash__model_strict_keeps_every_acknowledged_commit),
		cmocka_unit_test(
			crash__model_buffered_loses_a_suffix_in_its_window),
	};
	const char *e = getenv("RS_CRASH_ROUNDS");

	if (e)
		g_rounds = (unsigned)strtoul(e, NULL, 0);
	if (argc > 1 && !strcmp(argv[1], "--long")) {
		if (!e)
			g_rounds = 300;
		return cmocka_run_group_tests(long_tests, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
