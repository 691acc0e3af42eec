/* SPDX-License-Identifier: MIT */
/*
 * The per-phase breakdown of a library built with RS_PERF_TRACE
 * (docs/perf-trace.md). Registers nothing in other builds (rs_perf_reset
 * answers RS_ENOTSUP there), so the report section (report_perf.cc) then
 * does not appear.
 *
 * One probe per operation, run after its benchmark (when the benchmark
 * ran), on the benchmark's own workload: warm-up, rs_perf_reset(), a loop
 * of operations timed as a whole with one clock read at each end, then
 * rs_perf_read(). Metrics, per operation:
 *
 *   perf.<bench>.<phase>.ns      mean time of the phase
 *   perf.<bench>.<phase>.count   times the phase ran
 *   perf.<bench>.wall_ns         the loop's wall time
 *   perf.<bench>.cpu_ns          the loop's CPU time (the thread's
 *                                CLOCK_THREAD_CPUTIME_ID): below the
 *                                wall time when the thread was preempted
 *   perf.<bench>.ops             operations run
 *   perf.clock_read_ns           one clock read, as rs_perf_read measured
 *
 *   kvstore_put         rs_kv_put overwriting a run of RS_BENCH_HOT_KEYS
 *                       keys in shuffled order (InMemory, sharded)
 *   eventlog_append     rs_eventlog_append of a 100-byte payload to one run
 *   kvstore_put_strict  kvstore_put on a Strict database in a fresh
 *                       temporary directory
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdio.h>
#include <time.h>

#include <runstate/perf.h>

#define PERF_PUTS 200000u
#define PERF_APPENDS 100000u
#define PERF_STRICT 1000u
#define PERF_WARM 4096u

static const char ev_type[] = "tool_call";

typedef struct perf_fix {
	rs_db *db;
	rs_run_id run;
	rs_bench_keys k;
	size_t pos;
	uint64_t ops;
	char dir[256];
} perf_fix;

static int op_put(perf_fix *f)
{
	uint32_t i = rs_bench_next(&f->k, &f->pos);

	return rs_kv_put(f->db, &f->run, rs_bench_key(&f->k, i),
			 RS_BENCH_KEY_LEN, rs_bench_val(&f->k, i + f->pos),
			 RS_BENCH_VAL_LEN);
}

static int op_append(perf_fix *f)
{
	return rs_eventlog_append(f->db, &f->run, ev_type, sizeof(ev_type) - 1,
				  rs_bench_val(&f->k, (size_t)f->ops++),
				  RS_BENCH_VAL_LEN, NULL);
}

static int fix_open(perf_fix *f, rs_durability mode, bool fill)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	int rc;

	memset(f, 0, sizeof(*f));
	rs_bench_run_id(&f->run, 0x9e);
	if ((rc = rs_bench_keys_make(&f->k, RS_BENCH_HOT_KEYS)) < 0)
		return rc;
	o.durability = mode;
	o.hash_seed = 0x5eed5eed5eed5eedull;
	if (mode != RS_DURABILITY_INMEMORY) {
		if (rs_bench_mkdtemp(f->dir, sizeof(f->dir), "perf", NULL) < 0)
			return RS_EIO;
		o.path = f->dir;
	}
	if ((rc = rs_db_open(&f->db, &o)) < 0)
		return rc;
	return fill ? rs_bench_db_fill(f->db, &f->run, &f->k) : 0;
}

static void fix_close(perf_fix *f)
{
	rs_db_close(f->db);
	rs_bench_rmdir(f->dir);
	rs_bench_keys_free(&f->k);
}

static void set_metric(const char *bench, const char *what, double v)
{
	char name[160];

	snprintf(name, sizeof(name), "perf.%s.%s", bench, what);
	rs_bench_metric_set(name, v);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record(const char *bench, const rs_perf_stats *s, size_t ops,
		   uint64_t wall_ns, uint64_t cpu_ns)
{
	char what[64];

	for (int p = 0; p < RS_PERF_PHASES; p++) {
		const char *n = rs_perf_phase_name((rs_perf_phase)p);

		snprintf(what, sizeof(what), "%s.ns", n);
		set_metric(bench, what,
			   (double)s->phase[p].total_ns / (double)ops);
		snprintf(what, sizeof(what), "%s.count", n);
		set_metric(bench, what,
			   (double)s->phase[p].count / (double)ops);
	}
	set_metric(bench, "wall_ns", (double)wall_ns / (double)ops);
	set_metric(bench, "cpu_ns", (double)cpu_ns / (double)ops);
	set_metric(bench, "ops", (double)ops);
	rs_bench_metric_set("perf.clock_read_ns", s->clock_read_ns);
}

/* Warm up, reset, run n timed operations, read the counters; a failure
 * is the note perf.<bench>.error. */
static void measure(const char *bench, perf_fix *f, int (*op)(perf_fix *),
		    size_t n, int rc)
{
	rs_perf_stats s = RS_PERF_STATS_INIT;
	uint64_t t0, t1, c0, c1;
	char name[160];

	for (size_t i = 0; i < PERF_WARM && rc == 0; i++)
		rc = op(f);
	if (rc == 0)
		rc = rs_perf_reset();
	c0 = thread_cpu_ns();
	t0 = rs_bench_now_ns();
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = op(f);
	t1 = rs_bench_now_ns();
	c1 = thread_cpu_ns();
	if (rc == 0)
		rc = rs_perf_read(&s);
	if (rc < 0) {
		snprintf(name, sizeof(name), "perf.%s.error", bench);
		rs_bench_note_set(name, rs_strerror(rc));
		return;
	}
	record(bench, &s, n, t1 - t0, c1 - c0);
}

static void probe(const char *bench, rs_durability mode, bool fill,
		  int (*op)(perf_fix *), size_t n)
{
	perf_fix f;
	int rc = fix_open(&f, mode, fill);

	measure(bench, &f, op, rs_bench_scaled(n), rc);
	fix_close(&f);
}

static void probe_put(void)
{
	probe("kvstore_put", RS_DURABILITY_INMEMORY, true, op_put, PERF_PUTS);
}

static void probe_append(void)
{
	probe("eventlog_append", RS_DURABILITY_INMEMORY, false, op_append,
	      PERF_APPENDS);
}

static void probe_strict(void)
{
	probe("kvstore_put_strict", RS_DURABILITY_STRICT, true, op_put,
	      PERF_STRICT);
}

void rs_bench_suite_perf(void)
{
	/* Only a library built with RS_PERF_TRACE has counters to read. */
	if (rs_perf_reset() != 0)
		return;
	rs_bench_register_probe("kvstore_put phases", "kvstore_put", probe_put);
	rs_bench_register_probe("eventlog_append phases", "eventlog_append",
				probe_append);
	rs_bench_register_probe("kvstore_put_strict phases",
				"kvstore_put_strict", probe_strict);
}
