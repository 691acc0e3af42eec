// SPDX-License-Identifier: MIT
//
// The C shim (shim.h): benchmark bodies written in C drive Google
// Benchmark's benchmark::State through these functions, register
// themselves under their catalog names, and record probe metrics and
// notes (registry.h) for the reports.

#include "registry.h"

#include <benchmark/benchmark.h>

struct rs_bench_state {
	benchmark::State *st;
	void *arg;
};

static bool g_quick;

extern "C" {

void rs_bench_set_quick(bool quick)
{
	g_quick = quick;
}

bool rs_bench_quick(void)
{
	return g_quick;
}

size_t rs_bench_scaled(size_t n)
{
	size_t q = n / RS_BENCH_QUICK_DIV;

	if (!g_quick)
		return n;
	return q >= 1000 ? q : (n < 1000 ? n : 1000);
}

bool rs_bench_keep_running(rs_bench_state *st)
{
	return st->st->KeepRunning();
}

bool rs_bench_keep_running_batch(rs_bench_state *st, uint64_t n)
{
	return st->st->KeepRunningBatch(
		static_cast<benchmark::IterationCount>(n));
}

void rs_bench_pause(rs_bench_state *st)
{
	st->st->PauseTiming();
}

void rs_bench_resume(rs_bench_state *st)
{
	st->st->ResumeTiming();
}

void rs_bench_skip_with_error(rs_bench_state *st, const char *msg)
{
	if (!st->st->error_occurred())
		st->st->SkipWithError(msg);
}

void rs_bench_counter(rs_bench_state *st, const char *name, double value,
		      unsigned flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & RS_BENCH_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & RS_BENCH_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & RS_BENCH_COUNTER_AVG_ITERATIONS)
		f |= benchmark::Counter::kAvgIterations;
	st->st->counters[name] = benchmark::Counter(
		value, static_cast<benchmark::Counter::Flags>(f));
}

void rs_bench_items_processed(rs_bench_state *st, int64_t items)
{
	st->st->SetItemsProcessed(items);
}

void rs_bench_set_label(rs_bench_state *st, const char *label)
{
	st->st->SetLabel(label);
}

int rs_bench_thread_index(const rs_bench_state *st)
{
	return st->st->thread_index();
}

int rs_bench_threads(const rs_bench_state *st)
{
	return st->st->threads();
}

int64_t rs_bench_range(const rs_bench_state *st, size_t i)
{
	return st->st->range(i);
}

int64_t rs_bench_iterations(const rs_bench_state *st)
{
	return static_cast<int64_t>(st->st->iterations());
}

void *rs_bench_arg(const rs_bench_state *st)
{
	return st->arg;
}

void rs_bench_register(const char *name, rs_bench_fn fn, const rs_bench_opts *o)
{
	static const rs_bench_opts none{};
	if (!o)
		o = &none;
	void *arg = o->arg;
	auto *b = benchmark::RegisterBenchmark(
		name, [fn, arg](benchmark::State &s) {
			rs_bench_state w{ &s, arg };
			fn(&w);
		});
	implemented().insert(name);
	for (size_t i = 0; i < o->nargs; i++) {
		b->Arg(o->args[i]);
		implemented().insert(std::string(name) + "/" +
				     std::to_string(o->args[i]));
	}
	for (size_t i = 0; i < o->nthreads; i++)
		b->Threads(o->threads[i]);
	if (o->min_time > 0)
		b->MinTime(o->min_time);
	if (o->real_time)
		b->UseRealTime();
	if (o->unit_ms)
		b->Unit(benchmark::kMillisecond);
}

void rs_bench_register_probe(const char *name, const char *related,
			     rs_bench_probe_fn fn)
{
	probes().push_back(Probe{ name, related, fn });
}

void rs_bench_metric_set(const char *name, double value)
{
	metrics()[name] = value;
}

void rs_bench_note_set(const char *name, const char *text)
{
	notes()[name] = text ? text : "";
}

} // extern "C"

std::set<std::string> &implemented()
{
	static std::set<std::string> s;
	return s;
}

std::vector<Probe> &probes()
{
	static std::vector<Probe> p;
	return p;
}

std::map<std::string, double> &metrics()
{
	static std::map<std::string, double> m;
	return m;
}

std::map<std::string, std::string> &notes()
{
	static std::map<std::string, std::string> m;
	return m;
}
