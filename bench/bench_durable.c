/* SPDX-License-Identifier: MIT */
/*
 * Durability: what each mode costs (docs/benchmark-catalog.md, "durability").
 * Public API only, sharded store. Each benchmark call works in a fresh
 * temporary directory under $TMPDIR (or /tmp), created and filled before
 * its timed loop and removed afterwards; the peer fdatasync loop and
 * LMDB's durable peer (bench_lmdb.c) use the same base directory, so both
 * sides of a comparison are on one file system (the report names it).
 *
 *  kvstore_put_buffered    rs_kv_put of the next of 1024 keys (shuffled
 *                          order, overwrites, as kvstore_put) on a Buffered
 *                          database: the record is copied into the log
 *                          buffer; the flusher thread writes and syncs in
 *                          the background (default interval and batch).
 *  kvstore_put_strict      the same on a Strict database: the put returns
 *                          once its record is written and fdatasynced.
 *  peer_fdatasync_append   the bare floor of a Strict commit: pwrite of one
 *                          record of the size a Strict put logs (read from
 *                          rs_db_stat) at the end of what was written,
 *                          then fdatasync, in a file preallocated to 64 MiB
 *                          (as the log's segments are) and written through
 *                          once (no block left to convert), in the same
 *                          kind of directory. Not a catalog benchmark.
 *  strict_group_commit/N   N committer threads (N = 1, 2, 4, 8), each
 *                          putting to its own run of one Strict database
 *                          (the p-th put of a thread writes key p mod 64),
 *                          run under the contention protocol (500 ms
 *                          warm-up, 2000 ms measurement, 500 ms cool-down;
 *                          bench_contention.c): commits/s, the ratio to one
 *                          committer, fdatasyncs per commit. Check: every
 *                          key holds the value of its last put.
 *  recovery_replay/100k    rs_db_open of a directory holding 100,000 log
 *                          records and no checkpoint (single-put commits of
 *                          distinct keys over 16 runs, written before the
 *                          timed loop). Per iteration the open is timed;
 *                          checking what it replayed and closing are not.
 *                          The log was just written, so it is read from the
 *                          page cache: this is the CPU cost of replay.
 *
 * Probes (outside the timed loops):
 *  - kvstore_put_strict vs peer_fdatasync_append, interleaved: fdatasync
 *    latency drifts from one second to the next, so 7 rounds of 200 Strict
 *    puts and 200 bare appends, alternating which goes first; the medians
 *    and the median of the per-round ratios are what the gates judge.
 *    Each Strict put is also a latency sample (p99/mean).
 *  - kvstore_put_buffered latency: 100,000 puts, one clock read each.
 */
#define _GNU_SOURCE
#include "common.h"
#include "contention.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUR_KEYS RS_BENCH_HOT_KEYS
#define BARE_FILE_BYTES (64u << 20)
#define REPLAY_RECORDS rs_bench_scaled(100000u)
#define REPLAY_RUNS 16u

/* A fresh directory for one benchmark (the file system is noted). */
static int dur_mkdtemp(char *dir, size_t cap)
{
	return rs_bench_mkdtemp(dir, cap, "dur", "dur.fs") < 0 ? RS_EIO : 0;
}

static int dur_open(rs_db **db, const char *path, rs_durability mode,
		    uint64_t checkpoint_bytes)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = mode;
	o.path = path;
	o.hash_seed = 0x5eed5eed5eed5eedull;
	o.checkpoint_wal_bytes = checkpoint_bytes;
	return rs_db_open(db, &o);
}

static uint64_t dur_stat(rs_db *db, int which)
{
	rs_db_stats s;

	memset(&s, 0, sizeof(s));
	s.version = RS_DB_STATS_VERSION;
	if (rs_db_stat(db, &s) < 0)
		return 0;
	switch (which) {
	case 0:
		return s.wal_syncs;
	case 1:
		return s.wal_records;
	default:
		return s.wal_bytes;
	}
}

/* ---- kvstore_put_buffered / _strict ---- */

typedef struct dfix {
	char dir[256];
	rs_db *db;
	rs_run_id run;
	rs_bench_keys k;
	size_t pos;
} dfix;

static void dfix_close(dfix *f)
{
	rs_db_close(f->db);
	f->db = NULL;
	rs_bench_rmdir(f->dir);
	rs_bench_keys_free(&f->k);
}

static int dfix_open(dfix *f, rs_durability mode)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rs_bench_run_id(&f->run, 2);
	if ((rc = rs_bench_keys_make(&f->k, DUR_KEYS)) < 0 ||
	    (rc = dur_mkdtemp(f->dir, sizeof(f->dir))) < 0 ||
	    (rc = dur_open(&f->db, f->dir, mode, 0)) < 0)
		return rc;
	return rs_bench_db_fill(f->db, &f->run, &f->k);
}

RS_BENCH_INLINE int dfix_put(void *ctx)
{
	dfix *f = ctx;
	uint32_t i = rs_bench_next(&f->k, &f->pos);

	return rs_kv_put(f->db, &f->run, rs_bench_key(&f->k, i),
			 RS_BENCH_KEY_LEN, rs_bench_val(&f->k, i + f->pos),
			 RS_BENCH_VAL_LEN);
}

static void bm_put_durable(rs_bench_state *st)
{
	rs_durability mode = (rs_durability)(uintptr_t)rs_bench_arg(st);
	size_t warm = mode == RS_DURABILITY_STRICT ? 64 : 4096;
	uint64_t syncs, bytes;
	dfix f;
	int bad;

	if ((bad = dfix_open(&f, mode)) == 0)
		bad = rs_bench_warm(dfix_put, &f, warm);
	syncs = bad ? 0 : dur_stat(f.db, 0);
	bytes = bad ? 0 : dur_stat(f.db, 2);
	if (!bad)
		bad = rs_bench_loop(st, dfix_put, &f, 0);
	if (!bad) {
		/* Buffered: the flusher's syncs so far (one more at close). */
		rs_bench_counter(st, "fdatasync_per_op",
				 (double)(dur_stat(f.db, 0) - syncs),
				 RS_BENCH_COUNTER_AVG_ITERATIONS);
		rs_bench_counter(st, "wal_bytes_per_op",
				 (double)(dur_stat(f.db, 2) - bytes),
				 RS_BENCH_COUNTER_AVG_ITERATIONS);
	}
	rs_bench_finish(st, bad);
	dfix_close(&f);
}

/* ---- the bare floor: pwrite + fdatasync ---- */

typedef struct bare {
	int fd;
	uint64_t off;
	size_t rec;
	unsigned char buf[4096];
} bare;

/* The log record size of one Strict put of the suite's shape. */
static int strict_record_size(const char *dir, size_t *out)
{
	char sub[300];
	dfix f;
	rs_db *db;
	int rc;

	snprintf(sub, sizeof(sub), "%s/probe", dir);
	memset(&f, 0, sizeof(f));
	rs_bench_run_id(&f.run, 2);
	if ((rc = rs_bench_keys_make(&f.k, 8)) < 0)
		return rc;
	if ((rc = dur_open(&db, sub, RS_DURABILITY_STRICT, 0)) == 0) {
		f.db = db;
		for (int i = 0; i < 8 && rc == 0; i++)
			rc = dfix_put(&f);
		if (rc == 0)
			*out = (size_t)(dur_stat(db, 2) / dur_stat(db, 1));
		rs_db_close(db);
	}
	rs_bench_keys_free(&f.k);
	rs_bench_rmdir(sub);
	return rc;
}

static int bare_open(bare *b, const char *dir, size_t rec)
{
	char path[300];

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (rec == 0 || rec > sizeof(b->buf))
		return RS_EINVAL;
	b->rec = rec;
	memset(b->buf, 'x', sizeof(b->buf));
	snprintf(path, sizeof(path), "%s/bare.log", dir);
	b->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (b->fd < 0 || fallocate(b->fd, 0, 0, BARE_FILE_BYTES) != 0)
		return RS_EIO;
	/* Written through once, so that no append of the timed loop
	 * converts an unwritten block (a journal commit in its fdatasync):
	 * the floor, lower than the log's, which writes its zeros 1 MiB at
	 * a time (src/durability/wal_commit.c, "Zeroing ahead"). */
	for (uint64_t off = 0; off < BARE_FILE_BYTES; off += sizeof(b->buf))
		if (pwrite(b->fd, b->buf, sizeof(b->buf), (off_t)off) !=
		    (ssize_t)sizeof(b->buf))
			return RS_EIO;
	if (fsync(b->fd) != 0)
		return RS_EIO;
	return 0;
}

RS_BENCH_INLINE int bare_append(void *ctx)
{
	bare *b = ctx;

	if (b->off + b->rec > BARE_FILE_BYTES)
		b->off = 0; /* still inside the preallocated file */
	if (pwrite(b->fd, b->buf, b->rec, (off_t)b->off) != (ssize_t)b->rec ||
	    fdatasync(b->fd) != 0)
		return RS_EIO;
	b->off += b->rec;
	return 0;
}

static void bare_close(bare *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

static void bm_bare(rs_bench_state *st)
{
	char dir[256] = "";
	size_t rec = 0;
	bare b = { .fd = -1 };
	int bad;

	if ((bad = dur_mkdtemp(dir, sizeof(dir))) == 0 &&
	    (bad = strict_record_size(dir, &rec)) == 0)
		bad = bare_open(&b, dir, rec);
	if (!bad)
		bad = rs_bench_warm(bare_append, &b, 64);
	if (!bad)
		bad = rs_bench_loop(st, bare_append, &b, 0);
	if (!bad)
		rs_bench_counter(st, "record_bytes", (double)rec,
				 RS_BENCH_COUNTER_PLAIN);
	rs_bench_finish(st, bad);
	bare_close(&b);
	rs_bench_rmdir(dir);
}

/* ---- probes ---- */

#define CMP_ROUNDS 7
#define CMP_OPS 200u

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void probe_strict_vs_bare(void)
{
	double s[CMP_ROUNDS], b[CMP_ROUNDS], r[CMP_ROUNDS], d[CMP_ROUNDS];
	uint64_t *lat = malloc(CMP_ROUNDS * CMP_OPS * sizeof(*lat));
	size_t nlat = 0, rec = 0;
	dfix f;
	bare bf = { .fd = -1 };
	int bad;

	if (!lat)
		return;
	bad = dfix_open(&f, RS_DURABILITY_STRICT);
	if (!bad)
		bad = strict_record_size(f.dir, &rec);
	if (!bad)
		bad = bare_open(&bf, f.dir, rec);
	for (int w = 0; w < 64 && !bad; w++)
		bad = dfix_put(&f) < 0 || bare_append(&bf) < 0;
	for (int round = 0; round < CMP_ROUNDS && !bad; round++) {
		for (int side = 0; side < 2 && !bad; side++) {
			bool strict = (side == 0) == (round % 2 == 0);
			uint64_t t0 = rs_bench_now_ns(), t1, start = t0;

			for (unsigned i = 0; i < CMP_OPS && !bad; i++) {
				bad = strict ? dfix_put(&f) < 0
					     : bare_append(&bf) < 0;
				if (strict) {
					t1 = rs_bench_now_ns();
					lat[nlat++] = t1 - t0;
					t0 = t1;
				}
			}
			t1 = rs_bench_now_ns();
			(strict ? s : b)[round] =
				(double)(t1 - start) / CMP_OPS;
		}
		r[round] = s[round] / b[round];
		d[round] = s[round] - b[round];
	}
	if (!bad) {
		rs_bench_metric_set("dur.strict_vs_bare.ratio",
				    median(r, CMP_ROUNDS));
		rs_bench_metric_set("dur.strict_vs_bare.extra_ns",
				    median(d, CMP_ROUNDS));
		rs_bench_metric_set("dur.strict_vs_bare.strict_ns",
				    median(s, CMP_ROUNDS));
		rs_bench_metric_set("dur.strict_vs_bare.bare_ns",
				    median(b, CMP_ROUNDS));
		rs_bench_metric_set("dur.strict_vs_bare.record_bytes",
				    (double)rec);
		rs_bench_metric_set("dur.strict_vs_bare.rounds", CMP_ROUNDS);
		rs_bench_metric_set("dur.strict_vs_bare.ops", CMP_OPS);
		rs_bench_record_latency("lat.kvstore_put_strict", lat, nlat);
	}
	bare_close(&bf);
	dfix_close(&f);
	free(lat);
}

#define BUF_SAMPLES 100000u

static void probe_buffered(void)
{
	size_t n = rs_bench_scaled(BUF_SAMPLES);
	uint64_t *lat = malloc(n * sizeof(*lat));
	uint64_t t0, t1;
	dfix f;
	int bad;

	if (!lat)
		return;
	bad = dfix_open(&f, RS_DURABILITY_BUFFERED);
	for (int w = 0; w < 4096 && !bad; w++)
		bad = dfix_put(&f) < 0;
	t0 = rs_bench_now_ns();
	for (size_t i = 0; i < n && !bad; i++) {
		bad = dfix_put(&f) < 0;
		t1 = rs_bench_now_ns();
		lat[i] = t1 - t0;
		t0 = t1;
	}
	if (!bad)
		rs_bench_record_latency("lat.kvstore_put_buffered", lat, n);
	dfix_close(&f);
	free(lat);
}

/* ---- strict_group_commit/N: the contention protocol ---- */

#define GC_KEYS 64u

typedef struct gc {
	char dir[256];
	rs_db *db;
	rs_bench_keys k;
	uint64_t syncs0, records0;
	rs_run_id run[]; /* one per thread */
} gc;

static int gc_setup(void **out, int n)
{
	gc *d = calloc(1, sizeof(*d) + (size_t)n * sizeof(rs_run_id));
	int rc;

	if (!d)
		return RS_ENOMEM;
	*out = d;
	for (int t = 0; t < n; t++)
		rs_bench_run_id(&d->run[t], 0x80u + (unsigned)t);
	if ((rc = rs_bench_keys_make(&d->k, GC_KEYS)) < 0 ||
	    (rc = dur_mkdtemp(d->dir, sizeof(d->dir))) < 0 ||
	    (rc = dur_open(&d->db, d->dir, RS_DURABILITY_STRICT, 0)) < 0)
		return rc;
	d->syncs0 = dur_stat(d->db, 0);
	d->records0 = dur_stat(d->db, 1);
	return 0;
}

static int gc_attempt(void *shared, int tid, uint64_t seq)
{
	gc *d = shared;

	return rs_kv_put(
		d->db, &d->run[tid],
		rs_bench_key(&d->k, (size_t)(seq % GC_KEYS)), RS_BENCH_KEY_LEN,
		rs_bench_val(&d->k, (size_t)(seq / GC_KEYS)), RS_BENCH_VAL_LEN);
}

static int gc_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	gc *d = shared;
	unsigned char buf[RS_BENCH_VAL_LEN];
	uint64_t total = 0, syncs, records;
	char name[96];

	for (int t = 0; t < n; t++) {
		total += succ[t];
		for (uint64_t j = 0; j < GC_KEYS && j < succ[t]; j++) {
			uint64_t last =
				j + (succ[t] - 1 - j) / GC_KEYS * GC_KEYS;
			size_t len = 0;
			int rc = rs_kv_get(d->db, &d->run[t],
					   rs_bench_key(&d->k, (size_t)j),
					   RS_BENCH_KEY_LEN, buf, sizeof(buf),
					   &len);

			if (rc < 0 || len != RS_BENCH_VAL_LEN ||
			    memcmp(buf,
				   rs_bench_val(&d->k,
						(size_t)(last / GC_KEYS)),
				   RS_BENCH_VAL_LEN) != 0) {
				snprintf(msg, cap,
					 "run %d: key %llu does not hold the "
					 "value of its last put",
					 t, (unsigned long long)j);
				return -1;
			}
		}
	}
	syncs = dur_stat(d->db, 0) - d->syncs0;
	records = dur_stat(d->db, 1) - d->records0;
	if (records != total) {
		snprintf(msg, cap, "%llu log records for %llu commits",
			 (unsigned long long)records,
			 (unsigned long long)total);
		return -1;
	}
	snprintf(name, sizeof(name),
		 "contention.strict_group_commit.%d.fdatasync_per_commit", n);
	rs_bench_metric_set(name, total ? (double)syncs / (double)total : 0);
	return 0;
}

static void gc_teardown(void *shared)
{
	gc *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	rs_bench_rmdir(d->dir);
	rs_bench_keys_free(&d->k);
	free(d);
}

static const rs_bench_contention_wl wl_group = {
	.name = "strict_group_commit",
	.bench_name = "strict_group_commit",
	.setup = gc_setup,
	.attempt = gc_attempt,
	.check = gc_check,
	.teardown = gc_teardown,
};

/* ---- recovery_replay/100k ---- */

static int replay_build(const char *dir, const rs_bench_keys *k)
{
	rs_db *db;
	int rc;

	if ((rc = dur_open(&db, dir, RS_DURABILITY_BUFFERED,
			   RS_CHECKPOINT_NEVER)) < 0)
		return rc;
	for (size_t i = 0; i < REPLAY_RECORDS && rc == 0; i++) {
		rs_run_id run;

		rs_bench_run_id(&run, 0x90u + (unsigned)(i % REPLAY_RUNS));
		rc = rs_kv_put(db, &run, rs_bench_key(k, i), RS_BENCH_KEY_LEN,
			       rs_bench_val(k, i), RS_BENCH_VAL_LEN);
	}
	rs_db_close(db);
	return rc;
}

static void bm_replay(rs_bench_state *st)
{
	char dir[256] = "";
	rs_bench_keys k;
	rs_db_stats s;
	double rec_ns = 0, segs = 0, bytes = 0;
	int64_t opens = 0;
	int rc, bad;

	memset(&k, 0, sizeof(k));
	if ((bad = rs_bench_keys_make(&k, REPLAY_RECORDS)) == 0 &&
	    (bad = dur_mkdtemp(dir, sizeof(dir))) == 0)
		bad = replay_build(dir, &k);
	while (!bad && rs_bench_keep_running(st)) {
		rs_db *db = NULL;

		rc = dur_open(&db, dir, RS_DURABILITY_BUFFERED,
			      RS_CHECKPOINT_NEVER);
		rs_bench_pause(st);
		memset(&s, 0, sizeof(s));
		s.version = RS_DB_STATS_VERSION;
		if (rc < 0 || (rc = rs_db_stat(db, &s)) < 0)
			bad = rc;
		else if (s.records_replayed != REPLAY_RECORDS ||
			 s.checkpoint_used)
			bad = RS_ECORRUPT;
		rec_ns += (double)s.recovery_ns;
		segs = (double)s.segments_read;
		bytes = (double)s.wal_bytes_since_checkpoint;
		opens++;
		rs_db_close(db);
		rs_bench_resume(st);
	}
	if (bad) {
		rs_bench_skip_with_error(st, bad == RS_ECORRUPT
						     ? "recovery_replay: the "
						       "open did not replay "
						       "exactly 100k records"
						     : rs_strerror(bad));
	} else {
		rs_bench_counter(st, "records_replayed", REPLAY_RECORDS,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "recovery_ms",
				 opens ? rec_ns / (double)opens / 1e6 : 0,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "segments_read", segs,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "log_mib", bytes / (1 << 20),
				 RS_BENCH_COUNTER_PLAIN);
	}
	rs_bench_items_processed(st, rs_bench_iterations(st));
	rs_bench_rmdir(dir);
	rs_bench_keys_free(&k);
}

void rs_bench_suite_durable(void)
{
	RS_BENCH("kvstore_put_buffered", bm_put_durable,
		 (void *)(uintptr_t)RS_DURABILITY_BUFFERED);
	RS_BENCH("kvstore_put_strict", bm_put_durable,
		 (void *)(uintptr_t)RS_DURABILITY_STRICT);
	RS_BENCH("peer_fdatasync_append", bm_bare, NULL);
	rs_bench_contention_register(&wl_group);
	RS_BENCH("recovery_replay/100k", bm_replay, NULL, .unit_ms = true);
	rs_bench_register_probe("kvstore_put_strict vs bare fdatasync",
				"kvstore_put_strict", probe_strict_vs_bare);
	rs_bench_register_probe("kvstore_put_buffered latency",
				"kvstore_put_buffered", probe_buffered);
}
