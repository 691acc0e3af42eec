/* SPDX-License-Identifier: MIT */
/*
 * Tier D, contention: the protocol of spec/benchmarks.md, and its
 * workloads (contention.h). Public API only (runstate.h), InMemory,
 * sharded store.
 *
 * contention/<workload>/N (N = 1, 2, 4, 8) starts N worker threads before
 * the timed region. One Google Benchmark iteration is one protocol run:
 * 500 ms warm-up, 2000 ms measurement, 500 ms cool-down (the coordinating
 * main thread sleeps to absolute deadlines and flips a phase flag; the
 * workers run operations back to back throughout). The reported Time is
 * therefore the ~3 s of one protocol run; the figures are the counters,
 * all taken over the measurement window only:
 *
 *  ops_s            successful operations per second, all threads
 *  ops_s_thread     the same per thread
 *  scaling          ops_s / ops_s of the 1-thread run of the same workload
 *                   (when that ran earlier in this process)
 *  attempts_mean    attempts per successful operation (1 = no retry)
 *  attempts_max     the most attempts one operation needed
 *  retry_rate       failed attempts / all attempts
 *  p99_us           99th percentile latency of one operation (retries
 *                   included): the time between two consecutive clock
 *                   reads of a worker, one per operation, so it includes
 *                   one clock_gettime and the loop; from a log-linear
 *                   histogram (16 sub-buckets per power of two, upper
 *                   bound of the bucket: at most 6% high)
 *  succ_min/max     fewest and most successes of one thread; the label
 *                   lists every thread's count
 *
 * An operation whose attempt fails with RS_ECONFLICT or RS_EMISMATCH is
 * retried at once, without backoff, up to
 * RS_BENCH_CONTENTION_MAX_ATTEMPTS. After the workers stop, invariants are
 * checked: every thread had at least one success in the measurement
 * window, no worker saw an error, and the workload's own check (final
 * values). A violation fails the benchmark (SkipWithError, so it reports
 * no time) and the report prints FAIL with the message.
 *
 * Workloads:
 *  disjoint   worker t works in its own run t of one shared database.
 *             Operations alternate: even ones are a one-shot rs_kv_put of
 *             a 100-byte value to one of 64 keys (key p mod 64, value
 *             number p / 64 for the p-th put); odd ones are a
 *             read-modify-write transaction (rs_txn_begin, rs_txn_kv_get
 *             of a 16-byte counter key, rs_txn_kv_put of counter + 1,
 *             rs_txn_commit). Nothing is shared, so no attempt should
 *             ever conflict. Check: in every run the counter equals the
 *             transactions that thread committed and each of the 64 keys
 *             holds the value of its last put.
 *  statecell  every worker runs rs_statecell_transition on one cell of one
 *             run with a counter callback (8-byte value + 1), with
 *             max_attempts 1: a conflict comes back to the driver, which
 *             retries and counts it. Check: the cell's value equals the
 *             successful transitions of all threads (and its version is
 *             one more).
 *  eventlog   every worker runs rs_eventlog_append on one run: a
 *             100-byte payload carrying its thread id and append number.
 *             Check: no caller ever saw RS_ECONFLICT; the log's length
 *             equals the successful appends; reading the whole log, the
 *             sequences are dense from 0 and each thread's append numbers
 *             appear exactly once, in order (no duplicate, no missing
 *             event); rs_eventlog_verify_chain passes.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "contention.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARMUP_MS 500u
#define MEASURE_MS 2000u
#define COOLDOWN_MS 500u

enum {
	PH_IDLE,
	PH_WARMUP,
	PH_MEASURE,
	PH_COOLDOWN,
	PH_STOP
};

/* Log-linear latency histogram: values below 2^SUB exactly, then 2^SUB
 * sub-buckets per power of two. */
#define SUB 4
#define HIST_N ((64 - SUB + 1) << SUB)

static inline unsigned hist_idx(uint64_t v)
{
	unsigned e;

	if (v < (1u << SUB))
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return ((e - SUB + 1) << SUB) |
	       (unsigned)((v >> (e - SUB)) & ((1u << SUB) - 1));
}

/* The largest value that falls in bucket i. */
static uint64_t hist_upper(unsigned i)
{
	unsigned e, m;

	if (i < (1u << SUB))
		return i;
	e = (i >> SUB) + SUB - 1;
	m = i & ((1u << SUB) - 1);
	return ((((uint64_t)1 << SUB) | m) << (e - SUB)) +
	       ((uint64_t)1 << (e - SUB)) - 1;
}

typedef struct worker {
	_Alignas(64) pthread_t th; /* sizeof(worker): whole cache lines */
	struct cctx *c;
	int tid;
	int err;	   /* first error (fatal), 0 if none */
	uint64_t total;	   /* successes, all phases */
	uint64_t succ;	   /* successes in the measurement window */
	uint64_t attempts; /* attempts of those */
	uint64_t max_attempts;
	uint64_t lat_sum; /* ns */
	uint64_t hist[HIST_N];
} worker;

typedef struct cctx {
	const rs_bench_contention_wl *wl;
	void *shared;
	int n;
	_Atomic int phase;
	_Atomic int ready;
	worker *w; /* n, each on its own cache lines */
} cctx;

static void *worker_main(void *arg)
{
	worker *w = arg;
	cctx *c = w->c;
	const rs_bench_contention_wl *wl = c->wl;
	uint64_t prev;

	atomic_fetch_add_explicit(&c->ready, 1, memory_order_release);
	prev = rs_bench_now_ns();
	for (;;) {
		int ph = atomic_load_explicit(&c->phase, memory_order_acquire);
		unsigned att = 0;
		uint64_t t;
		int rc;

		if (ph == PH_STOP)
			break;
		if (ph == PH_IDLE) {
			sched_yield();
			prev = rs_bench_now_ns();
			continue;
		}
		do {
			rc = wl->attempt(c->shared, w->tid, w->total);
			att++;
		} while ((rc == RS_ECONFLICT || rc == RS_EMISMATCH) &&
			 att < RS_BENCH_CONTENTION_MAX_ATTEMPTS);
		t = rs_bench_now_ns();
		if (RS_BENCH_UNLIKELY(rc != 0)) {
			w->err = rc;
			break;
		}
		w->total++;
		if (ph == PH_MEASURE) {
			w->succ++;
			w->attempts += att;
			if (att > w->max_attempts)
				w->max_attempts = att;
			w->lat_sum += t - prev;
			w->hist[hist_idx(t - prev)]++;
		}
		prev = t;
	}
	return NULL;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* ops/s of the 1-thread run of each workload, for `scaling`. */
static struct {
	const rs_bench_contention_wl *wl;
	double ops_s;
} one_thread[8];

static double one_thread_ops(const rs_bench_contention_wl *wl)
{
	for (size_t i = 0; i < sizeof(one_thread) / sizeof(one_thread[0]); i++)
		if (one_thread[i].wl == wl)
			return one_thread[i].ops_s;
	return 0;
}

static void set_one_thread_ops(const rs_bench_contention_wl *wl, double v)
{
	for (size_t i = 0; i < sizeof(one_thread) / sizeof(one_thread[0]); i++)
		if (one_thread[i].wl == wl || !one_thread[i].wl) {
			one_thread[i].wl = wl;
			one_thread[i].ops_s = v;
			return;
		}
}

static void metric(const cctx *c, const char *what, double v)
{
	char name[160];

	snprintf(name, sizeof(name), "contention.%s.%d.%s", c->wl->name, c->n,
		 what);
	rs_bench_metric_set(name, v);
}

static void note(const cctx *c, const char *what, const char *text)
{
	char name[160];

	snprintf(name, sizeof(name), "contention.%s.%d.%s", c->wl->name, c->n,
		 what);
	rs_bench_note_set(name, text);
}

/* Statistics over the window, counters, metrics, label. */
static void report(rs_bench_state *st, cctx *c, uint64_t window_ns)
{
	static uint64_t hist[HIST_N];
	uint64_t succ = 0, att = 0, maxatt = 0, lat = 0, smin = UINT64_MAX,
		 smax = 0, seen = 0, p50 = 0, p99 = 0, lmax = 0;
	double secs = (double)window_ns / 1e9, ops, one;
	char label[512];
	size_t off;

	memset(hist, 0, sizeof(hist));
	for (int t = 0; t < c->n; t++) {
		const worker *w = &c->w[t];
		char name[32];

		succ += w->succ;
		att += w->attempts;
		lat += w->lat_sum;
		if (w->max_attempts > maxatt)
			maxatt = w->max_attempts;
		if (w->succ < smin)
			smin = w->succ;
		if (w->succ > smax)
			smax = w->succ;
		for (unsigned i = 0; i < HIST_N; i++)
			hist[i] += w->hist[i];
		snprintf(name, sizeof(name), "t%d.succ", t);
		metric(c, name, (double)w->succ);
	}
	for (unsigned i = 0; i < HIST_N && succ; i++) {
		if (!hist[i])
			continue;
		seen += hist[i];
		if (!p50 && seen * 100 >= succ * 50)
			p50 = hist_upper(i);
		if (!p99 && seen * 100 >= succ * 99)
			p99 = hist_upper(i);
		lmax = hist_upper(i);
	}
	ops = secs > 0 ? (double)succ / secs : 0;
	if (c->n == 1)
		set_one_thread_ops(c->wl, ops);
	one = one_thread_ops(c->wl);

	rs_bench_counter(st, "ops_s", ops, RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "ops_s_thread", ops / c->n,
			 RS_BENCH_COUNTER_PLAIN);
	if (one > 0)
		rs_bench_counter(st, "scaling", ops / one,
				 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "attempts_mean", succ ? (double)att / succ : 0,
			 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "attempts_max", (double)maxatt,
			 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "retry_rate",
			 att ? (double)(att - succ) / (double)att : 0,
			 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "p99_us", (double)p99 / 1e3,
			 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "succ_min", (double)smin, RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "succ_max", (double)smax, RS_BENCH_COUNTER_PLAIN);

	metric(c, "threads", c->n);
	metric(c, "cores", rs_bench_cores());
	metric(c, "window_ms", (double)window_ns / 1e6);
	metric(c, "ops_s", ops);
	metric(c, "ops_s_thread", ops / c->n);
	if (one > 0)
		metric(c, "scaling", ops / one);
	metric(c, "successes", (double)succ);
	metric(c, "attempts_mean", succ ? (double)att / succ : 0);
	metric(c, "attempts_max", (double)maxatt);
	metric(c, "retry_rate", att ? (double)(att - succ) / (double)att : 0);
	metric(c, "mean_ns", succ ? (double)lat / succ : 0);
	metric(c, "p50_ns", (double)p50);
	metric(c, "p99_ns", (double)p99);
	metric(c, "max_ns", (double)lmax);
	metric(c, "succ_min", (double)smin);
	metric(c, "succ_max", (double)smax);

	off = (size_t)snprintf(label, sizeof(label), "%s%s",
			       c->n > rs_bench_cores() ? "oversubscribed; "
						       : "",
			       "successes/thread:");
	for (int t = 0; t < c->n && off < sizeof(label); t++)
		off += (size_t)snprintf(label + off, sizeof(label) - off,
					" %llu",
					(unsigned long long)c->w[t].succ);
	rs_bench_set_label(st, label);
	note(c, "per_thread", label);
}

static void bm_contention(rs_bench_state *st)
{
	cctx c;
	int rc, started = 0, fails = 0;
	uint64_t window = 0, *totals = NULL;
	char msg[256] = "";

	memset(&c, 0, sizeof(c));
	c.wl = rs_bench_arg(st);
	c.n = (int)rs_bench_range(st, 0);
	atomic_init(&c.phase, PH_IDLE);
	atomic_init(&c.ready, 0);
	c.w = aligned_alloc(64, sizeof(worker) * (size_t)c.n);
	totals = calloc((size_t)c.n, sizeof(*totals));
	if (!c.w || !totals) {
		rs_bench_skip_with_error(st, rs_strerror(RS_ENOMEM));
		goto out;
	}
	memset(c.w, 0, sizeof(worker) * (size_t)c.n);
	if ((rc = c.wl->setup(&c.shared, c.n)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		c.wl->teardown(c.shared);
		goto out;
	}
	for (; started < c.n; started++) {
		c.w[started].c = &c;
		c.w[started].tid = started;
		if (pthread_create(&c.w[started].th, NULL, worker_main,
				   &c.w[started]) != 0)
			break;
	}
	if (started < c.n) {
		snprintf(msg, sizeof(msg), "could not start thread %d",
			 started);
		atomic_store(&c.phase, PH_STOP);
		goto join;
	}
	while (atomic_load_explicit(&c.ready, memory_order_acquire) < c.n)
		sched_yield();

	/* One iteration: one protocol run (the loop runs once by default:
	 * 3 s of real time exceed 5 x the default min_time). */
	while (rs_bench_keep_running(st)) {
		uint64_t t = rs_bench_now_ns(), t0;

		atomic_store(&c.phase, PH_WARMUP);
		sleep_until(t += WARMUP_MS * 1000000ull);
		t0 = rs_bench_now_ns();
		atomic_store(&c.phase, PH_MEASURE);
		sleep_until(t += MEASURE_MS * 1000000ull);
		atomic_store(&c.phase, PH_COOLDOWN);
		window += rs_bench_now_ns() - t0;
		sleep_until(t += COOLDOWN_MS * 1000000ull);
		atomic_store(&c.phase, PH_IDLE);
	}
	atomic_store(&c.phase, PH_STOP);
join:
	for (int t = 0; t < started; t++)
		pthread_join(c.w[t].th, NULL);
	if (started < c.n)
		goto fail;

	report(st, &c, window);
	for (int t = 0; t < c.n; t++) {
		const worker *w = &c.w[t];
		size_t off = strlen(msg);

		totals[t] = w->total;
		if (w->err && off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off,
				 "%sthread %d failed: %s", off ? "; " : "", t,
				 w->err == RS_ECONFLICT
					 ? "still conflicting after the "
					   "maximum of attempts"
					 : rs_strerror(w->err));
		else if (!w->succ && off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off,
				 "%sthread %d had no success in the "
				 "measurement window",
				 off ? "; " : "", t);
		fails += w->err || !w->succ;
	}
	if (!fails) {
		rc = c.wl->check(c.shared, c.n, totals, msg, sizeof(msg));
		fails += rc != 0;
	}
fail:
	metric(&c, "invariants_ok", fails ? 0 : 1);
	if (fails) {
		char full[300];

		snprintf(full, sizeof(full), "invariant violated: %s", msg);
		note(&c, "failure", full);
		rs_bench_skip_with_error(st, full);
	}
	c.wl->teardown(c.shared);
out:
	free(totals);
	free(c.w);
}

void rs_bench_contention_register(const rs_bench_contention_wl *wl)
{
	static const int64_t counts[] = { 1, 2, 4, 8 };
	char name[96];

	if (wl->bench_name)
		snprintf(name, sizeof(name), "%s", wl->bench_name);
	else
		snprintf(name, sizeof(name), "contention/%s", wl->name);
	RS_BENCH(name, bm_contention, (void *)wl, .args = counts,
		 .nargs = sizeof(counts) / sizeof(counts[0]), .unit_ms = true);
}

/* ---- workload: disjoint ---- */

#define DJ_KEYS 64u

typedef struct dj {
	rs_db *db;
	rs_bench_keys k; /* DJ_KEYS data keys (the same in every run) */
	unsigned char ctr[RS_BENCH_KEY_LEN];
	rs_run_id run[]; /* one per thread */
} dj;

static int dj_setup(void **out, int n)
{
	dj *d = calloc(1, sizeof(*d) + (size_t)n * sizeof(rs_run_id));
	int rc;

	if (!d)
		return RS_ENOMEM;
	*out = d;
	memcpy(d->ctr, "counter_________", RS_BENCH_KEY_LEN);
	for (int t = 0; t < n; t++)
		rs_bench_run_id(&d->run[t], 0x40u + (unsigned)t);
	if ((rc = rs_bench_keys_make(&d->k, DJ_KEYS)) < 0)
		return rc;
	return rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false);
}

static int dj_attempt(void *shared, int tid, uint64_t seq)
{
	dj *d = shared;
	const rs_run_id *run = &d->run[tid];
	rs_txn *txn;
	rs_bytes v;
	uint64_t ctr = 0;
	int rc;

	if (!(seq & 1)) {
		uint64_t p = seq / 2;

		return rs_kv_put(d->db, run, rs_bench_key(&d->k, p % DJ_KEYS),
				 RS_BENCH_KEY_LEN,
				 rs_bench_val(&d->k, (size_t)(p / DJ_KEYS)),
				 RS_BENCH_VAL_LEN);
	}
	if ((rc = rs_txn_begin(&txn, d->db, run, 0)) < 0)
		return rc;
	rc = rs_txn_kv_get(txn, d->ctr, RS_BENCH_KEY_LEN, &v);
	if (rc == 0 && v.len == sizeof(ctr))
		memcpy(&ctr, v.data, sizeof(ctr));
	else if (rc != RS_ENOTFOUND) {
		rs_txn_abort(txn);
		return rc < 0 ? rc : RS_ECORRUPT;
	}
	ctr++;
	if ((rc = rs_txn_kv_put(txn, d->ctr, RS_BENCH_KEY_LEN, &ctr,
				sizeof(ctr))) < 0) {
		rs_txn_abort(txn);
		return rc;
	}
	return rs_txn_commit(txn);
}

static int dj_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	dj *d = shared;
	unsigned char buf[RS_BENCH_VAL_LEN];

	for (int t = 0; t < n; t++) {
		uint64_t txns = succ[t] / 2, puts = (succ[t] + 1) / 2, ctr = 0;
		size_t len = 0;
		int rc = rs_kv_get(d->db, &d->run[t], d->ctr, RS_BENCH_KEY_LEN,
				   &ctr, sizeof(ctr), &len);

		if (rc < 0 || len != sizeof(ctr) || ctr != txns) {
			snprintf(msg, cap,
				 "run %d: counter %llu (%s), expected %llu", t,
				 (unsigned long long)ctr,
				 rc < 0 ? rs_strerror(rc) : "read",
				 (unsigned long long)txns);
			return -1;
		}
		for (uint64_t j = 0; j < DJ_KEYS; j++) {
			const void *key = rs_bench_key(&d->k, (size_t)j);
			uint64_t last;

			rc = rs_kv_get(d->db, &d->run[t], key, RS_BENCH_KEY_LEN,
				       buf, sizeof(buf), &len);
			if (j >= puts) {
				if (rc != RS_ENOTFOUND) {
					snprintf(msg, cap,
						 "run %d: key %llu was never "
						 "put but is present",
						 t, (unsigned long long)j);
					return -1;
				}
				continue;
			}
			last = j + (puts - 1 - j) / DJ_KEYS * DJ_KEYS;
			if (rc < 0 || len != RS_BENCH_VAL_LEN ||
			    memcmp(buf,
				   rs_bench_val(&d->k,
						(size_t)(last / DJ_KEYS)),
				   RS_BENCH_VAL_LEN) != 0) {
				snprintf(msg, cap,
					 "run %d: key %llu does not hold the "
					 "value of its last put",
					 t, (unsigned long long)j);
				return -1;
			}
		}
	}
	return 0;
}

static void dj_teardown(void *shared)
{
	dj *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	rs_bench_keys_free(&d->k);
	free(d);
}

static const rs_bench_contention_wl wl_disjoint = {
	.name = "disjoint",
	.setup = dj_setup,
	.attempt = dj_attempt,
	.check = dj_check,
	.teardown = dj_teardown,
};

/* ---- workload: statecell ---- */

static const char sc_name[] = "counter";
#define SC_NAME_LEN (sizeof(sc_name) - 1)

typedef struct sc_slot {
	_Alignas(64) uint64_t out; /* the callback's new value */
} sc_slot;

typedef struct sc {
	rs_db *db;
	rs_run_id run;
	sc_slot t[]; /* one per thread, each on its own cache line */
} sc;

static int sc_setup(void **out, int n)
{
	static const uint64_t zero;
	sc *d = aligned_alloc(64,
			      sizeof(*d) + (size_t)n * sizeof(sc_slot) + 64);
	int rc;

	if (!d)
		return RS_ENOMEM;
	memset(d, 0, sizeof(*d) + (size_t)n * sizeof(sc_slot));
	*out = d;
	rs_bench_run_id(&d->run, 0x50u);
	if ((rc = rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false)) < 0)
		return rc;
	return rs_statecell_init(d->db, &d->run, sc_name, SC_NAME_LEN, &zero,
				 sizeof(zero), NULL);
}

static int sc_incr(rs_bytes value, uint64_t version, rs_bytes *nv, void *ctx)
{
	uint64_t *out = ctx, c;

	(void)version;
	if (value.len != sizeof(c))
		return RS_ECORRUPT;
	memcpy(&c, value.data, sizeof(c));
	*out = c + 1;
	nv->data = out;
	nv->len = sizeof(*out);
	return 0;
}

/* One attempt: max_attempts 1, so a conflict comes back to the driver,
 * which retries at once and counts the attempt. */
static int sc_attempt(void *shared, int tid, uint64_t seq)
{
	sc *d = shared;

	(void)seq;
	return rs_statecell_transition(d->db, &d->run, sc_name, SC_NAME_LEN, 1,
				       NULL, sc_incr, &d->t[tid].out);
}

static int sc_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	sc *d = shared;
	uint64_t total = 0, c = 0, ver = 0;
	size_t len = 0;
	int rc;

	for (int t = 0; t < n; t++)
		total += succ[t];
	rc = rs_statecell_read(d->db, &d->run, sc_name, SC_NAME_LEN, &c,
			       sizeof(c), &len, &ver);
	if (rc < 0 || len != sizeof(c) || c != total || ver != total + 1) {
		snprintf(msg, cap,
			 "cell value %llu, version %llu (%s); expected value "
			 "%llu (successful transitions), version %llu",
			 (unsigned long long)c, (unsigned long long)ver,
			 rc < 0 ? rs_strerror(rc) : "read",
			 (unsigned long long)total,
			 (unsigned long long)(total + 1));
		return -1;
	}
	return 0;
}

static void sc_teardown(void *shared)
{
	sc *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	free(d);
}

static const rs_bench_contention_wl wl_statecell = {
	.name = "statecell",
	.setup = sc_setup,
	.attempt = sc_attempt,
	.check = sc_check,
	.teardown = sc_teardown,
};

/* ---- workload: eventlog ---- */

static const char el_type[] = "tool_call";
#define EL_TYPE_LEN (sizeof(el_type) - 1)

typedef struct el_slot {
	/* The payload: thread id, then this thread's append number, then
	 * filler (RS_BENCH_VAL_LEN bytes in all). */
	_Alignas(64) unsigned char payload[RS_BENCH_VAL_LEN];
	uint64_t conflicts; /* RS_ECONFLICT returned to this caller */
} el_slot;

typedef struct el {
	rs_db *db;
	rs_run_id run;
	el_slot t[];
} el;

static int el_setup(void **out, int n)
{
	el *d = aligned_alloc(64,
			      sizeof(*d) + (size_t)n * sizeof(el_slot) + 64);

	if (!d)
		return RS_ENOMEM;
	memset(d, 0, sizeof(*d) + (size_t)n * sizeof(el_slot));
	*out = d;
	rs_bench_run_id(&d->run, 0x51u);
	for (int t = 0; t < n; t++) {
		uint64_t tid = (uint64_t)t;

		memset(d->t[t].payload, 'a' + t, sizeof(d->t[t].payload));
		memcpy(d->t[t].payload, &tid, sizeof(tid));
	}
	return rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false);
}

static int el_attempt(void *shared, int tid, uint64_t seq)
{
	el *d = shared;
	el_slot *s = &d->t[tid];
	int rc;

	memcpy(s->payload + 8, &seq, sizeof(seq));
	rc = rs_eventlog_append(d->db, &d->run, el_type, EL_TYPE_LEN,
				s->payload, sizeof(s->payload), NULL);
	if (RS_BENCH_UNLIKELY(rc == RS_ECONFLICT))
		s->conflicts++;
	return rc;
}

typedef struct el_walk {
	uint64_t next_seq; /* the sequence the next event must have */
	uint64_t *next;	   /* per thread: the append number expected next */
	int n;
	char *msg;
	size_t cap;
} el_walk;

static int el_visit(const rs_event *ev, void *ctx)
{
	el_walk *w = ctx;
	uint64_t tid, num;

	if (ev->seq != w->next_seq) {
		snprintf(w->msg, w->cap, "event %llu has sequence %llu",
			 (unsigned long long)w->next_seq,
			 (unsigned long long)ev->seq);
		return -1;
	}
	w->next_seq++;
	if (ev->payload.len != RS_BENCH_VAL_LEN) {
		snprintf(w->msg, w->cap, "event %llu: payload of %zu bytes",
			 (unsigned long long)ev->seq, ev->payload.len);
		return -1;
	}
	memcpy(&tid, ev->payload.data, sizeof(tid));
	memcpy(&num, (const unsigned char *)ev->payload.data + 8, sizeof(num));
	if (tid >= (uint64_t)w->n || num != w->next[tid]) {
		snprintf(w->msg, w->cap,
			 "event %llu: append %llu of thread %llu, expected "
			 "append %llu of it (a duplicate or a missing event)",
			 (unsigned long long)ev->seq, (unsigned long long)num,
			 (unsigned long long)tid,
			 tid < (uint64_t)w->n ? (unsigned long long)w->next[tid]
					      : 0ull);
		return -1;
	}
	w->next[tid]++;
	return 0;
}

static int el_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	el *d = shared;
	uint64_t total = 0, len = 0, conflicts = 0, bad = 0;
	el_walk w = { 0, NULL, n, msg, cap };
	int rc;

	for (int t = 0; t < n; t++) {
		total += succ[t];
		conflicts += d->t[t].conflicts;
	}
	if (conflicts) {
		snprintf(msg, cap,
			 "%llu appends returned RS_ECONFLICT to their caller",
			 (unsigned long long)conflicts);
		return -1;
	}
	if ((rc = rs_eventlog_len(d->db, &d->run, &len)) < 0 || len != total) {
		snprintf(msg, cap,
			 "log length %llu (%s), expected %llu appends",
			 (unsigned long long)len,
			 rc < 0 ? rs_strerror(rc) : "read",
			 (unsigned long long)total);
		return -1;
	}
	if (!(w.next = calloc((size_t)n, sizeof(*w.next)))) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	rc = rs_eventlog_read_range(d->db, &d->run, 0, UINT64_MAX, el_visit,
				    &w);
	if (rc == 0 && w.next_seq != total) {
		snprintf(msg, cap, "read %llu events of %llu",
			 (unsigned long long)w.next_seq,
			 (unsigned long long)total);
		rc = -1;
	}
	for (int t = 0; rc == 0 && t < n; t++)
		if (w.next[t] != succ[t]) {
			snprintf(msg, cap,
				 "thread %d: %llu events in the log, %llu "
				 "appends succeeded",
				 t, (unsigned long long)w.next[t],
				 (unsigned long long)succ[t]);
			rc = -1;
		}
	free(w.next);
	if (rc > 0 || (rc < 0 && rc != -1))
		snprintf(msg, cap, "read_range: %s", rs_strerror(rc));
	if (rc)
		return -1;
	if ((rc = rs_eventlog_verify_chain(d->db, &d->run, &bad)) != 0) {
		snprintf(msg, cap, "verify_chain: %s at sequence %llu",
			 rs_strerror(rc), (unsigned long long)bad);
		return -1;
	}
	return 0;
}

static void el_teardown(void *shared)
{
	el *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	free(d);
}

static const rs_bench_contention_wl wl_eventlog = {
	.name = "eventlog",
	.setup = el_setup,
	.attempt = el_attempt,
	.check = el_check,
	.teardown = el_teardown,
};

void rs_bench_suite_contention(void)
{
	rs_bench_contention_register(&wl_statecell);
	rs_bench_contention_register(&wl_eventlog);
	rs_bench_contention_register(&wl_disjoint);
}
