/* SPDX-License-Identifier: MIT */
/*
 * The contention protocol (contention.h; docs/benchmark-catalog.md,
 * "Contention protocol"), run by tier D (bench_contention.c) and by
 * strict_group_commit (bench_durable.c). Public API only (runstate.h).
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
 *  ceiling_scaling  for a workload with a ceiling (rs_bench_contention_wl
 *                   .ceiling): the ceiling workload's scaling at the same
 *                   N, run earlier in this process
 *  of_ceiling       scaling / ceiling_scaling: how close the workload gets
 *                   to what the machine allows
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
 */
#define _POSIX_C_SOURCE 200809L
#include "contention.h"

#include "common.h"

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

/* A phase of ms milliseconds, in ns: 1/10 of it in a quick run. */
static uint64_t phase_ns(unsigned ms)
{
	return rs_bench_scaled(ms * 1000u) * 1000ull;
}

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

/* ops/s of each (workload, thread count) run so far in this process, for
 * `scaling` (against N = 1) and the ceiling's. */
static struct {
	const rs_bench_contention_wl *wl;
	int n;
	double ops_s;
} runs_ops[64];

static double ops_of(const rs_bench_contention_wl *wl, int n)
{
	for (size_t i = 0; i < sizeof(runs_ops) / sizeof(runs_ops[0]); i++)
		if (runs_ops[i].wl == wl && runs_ops[i].n == n)
			return runs_ops[i].ops_s;
	return 0;
}

static void set_ops(const rs_bench_contention_wl *wl, int n, double v)
{
	for (size_t i = 0; i < sizeof(runs_ops) / sizeof(runs_ops[0]); i++)
		if ((runs_ops[i].wl == wl && runs_ops[i].n == n) ||
		    !runs_ops[i].wl) {
			runs_ops[i].wl = wl;
			runs_ops[i].n = n;
			runs_ops[i].ops_s = v;
			return;
		}
}

/* Scaling at n against 1 thread of the same workload; 0 if not both ran. */
static double scaling_of(const rs_bench_contention_wl *wl, int n)
{
	double one = ops_of(wl, 1), at = ops_of(wl, n);

	return one > 0 && at > 0 ? at / one : 0;
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
	double secs = (double)window_ns / 1e9, ops, one, ceil;
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
	set_ops(c->wl, c->n, ops);
	one = ops_of(c->wl, 1);
	ceil = c->wl->ceiling ? scaling_of(c->wl->ceiling, c->n) : 0;

	rs_bench_counter(st, "ops_s", ops, RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "ops_s_thread", ops / c->n,
			 RS_BENCH_COUNTER_PLAIN);
	if (one > 0)
		rs_bench_counter(st, "scaling", ops / one,
				 RS_BENCH_COUNTER_PLAIN);
	if (one > 0 && ceil > 0) {
		rs_bench_counter(st, "ceiling_scaling", ceil,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "of_ceiling", ops / one / ceil,
				 RS_BENCH_COUNTER_PLAIN);
	}
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
	if (one > 0 && ceil > 0) {
		metric(c, "ceiling_scaling", ceil);
		metric(c, "of_ceiling", ops / one / ceil);
	}
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
	int rc, started = 0, fails = 0, starved = 0;
	bool over;
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
		sleep_until(t += phase_ns(WARMUP_MS));
		t0 = rs_bench_now_ns();
		atomic_store(&c.phase, PH_MEASURE);
		sleep_until(t += phase_ns(MEASURE_MS));
		atomic_store(&c.phase, PH_COOLDOWN);
		window += rs_bench_now_ns() - t0;
		sleep_until(t += phase_ns(COOLDOWN_MS));
		atomic_store(&c.phase, PH_IDLE);
	}
	atomic_store(&c.phase, PH_STOP);
join:
	for (int t = 0; t < started; t++)
		pthread_join(c.w[t].th, NULL);
	if (started < c.n)
		goto fail;

	report(st, &c, window);
	over = c.n > rs_bench_cores();
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
		else if (!w->succ && !over && off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off,
				 "%sthread %d had no success in the "
				 "measurement window",
				 off ? "; " : "", t);
		/* With more threads than cores a thread may simply not be
		 * scheduled in a short window (--quick, the smoke run under
		 * a sanitizer and load): not judged, as the scaling is not;
		 * a thread that never succeeded at all still fails. */
		fails += w->err || (!w->succ && (!over || !w->total));
		starved += !w->err && !w->succ && over && w->total;
	}
	if (starved)
		note(&c, "unscheduled",
		     "oversubscribed: some threads had no success in the "
		     "measurement window (not judged)");
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
