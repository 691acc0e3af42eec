// SPDX-License-Identifier: MIT
//
// runstate_bench: registers every suite, runs Google Benchmark, then the
// probes, and prints the reports (docs/benchmark-catalog.md), which also go
// to <results-dir>/report.md beside Google Benchmark's JSON
// (<results-dir>/results.json). Named baselines are small JSON files in the
// same directory. No Python or other tool is needed to read a run.
//
// Where things are: shim.cc (the C shim), env.cc (environment record),
// results.cc (JSON results and baselines), gates.cc (every threshold),
// report_*.cc (one report each), cli.cc (the command line).

#include "cli.h"
#include "env.h"
#include "registry.h"
#include "reports.h"
#include "results.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <unistd.h>

namespace
{

// Around every report of a quick run.
const char *const kQuickBanner =
	"> **QUICK RUN: not for gating.** Every benchmark ran briefly "
	"(--benchmark_min_time=0.01 s) on 1/10 of its data and samples;\n"
	"> names are the catalog's, numbers are not. PASS/FAIL below only "
	"show that each gate could be computed.\n\n";

// The reporter that prints what Google Benchmark measures, as the
// --benchmark_format / _color / _counters_tabular flags ask.
std::unique_ptr<benchmark::BenchmarkReporter> console_reporter(const Args &a)
{
	if (a.format == "json")
		return std::make_unique<benchmark::JSONReporter>();
	if (a.format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
	}
	bool color = a.color == "auto"
			     ? isatty(STDOUT_FILENO) && getenv("TERM") &&
				       std::strcmp(getenv("TERM"), "dumb") != 0
			     : truthy(a.color);
	int oo = benchmark::ConsoleReporter::OO_None;
	if (color)
		oo |= benchmark::ConsoleReporter::OO_Color;
	if (a.tabular)
		oo |= benchmark::ConsoleReporter::OO_Tabular;
	return std::make_unique<benchmark::ConsoleReporter>(
		static_cast<benchmark::ConsoleReporter::OutputOptions>(oo));
}

// Probes: after the timed runs, for the benchmarks that ran.
void run_probes(const Collector &col, std::ostream &rep)
{
	for (const Probe &p : probes()) {
		auto it = col.results.find(p.related);
		if (it == col.results.end() || it->second.error)
			continue;
		rep << "probe: " << p.name << "\n" << std::flush;
		p.fn();
	}
}

std::string all_reports(const Collector &col, const Args &a,
			const Baseline &base, const Env &env)
{
	Reports r(col);
	std::string text = r.facade_tax() + "\n" + r.red_flags() + "\n" +
			   r.gates() + "\n" + r.m3() + "\n" + r.contention() +
			   "\n" + r.locality() + "\n" + r.durability() + "\n" +
			   r.redis() + "\n" + r.lmdb() + "\n" + r.ordered() +
			   "\n";
	std::string perf = r.perf_trace();
	if (!perf.empty())
		text += perf + "\n";
	if (!a.baseline.empty())
		text += r.against(base, env) + "\n";
	return text + r.coverage();
}

} // namespace

int main(int argc, char **argv)
{
	Args a;
	std::string err;

	if (!parse_args(argc, argv, &a, &err)) {
		std::cerr << "runstate_bench: " << err << "\n";
		usage();
		return 2;
	}
	if (a.help)
		usage();

	rs_bench_set_quick(a.quick);
#define RS__SUITE(s) rs_bench_suite_##s();
	RS_BENCH_SUITES(RS__SUITE)
#undef RS__SUITE

	if (!a.help && !a.list_only) {
		std::error_code ec;
		std::filesystem::create_directories(a.results_dir, ec);
		if (ec) {
			std::cerr << "runstate_bench: cannot create "
				  << a.results_dir << ": " << ec.message()
				  << "\n";
			return 1;
		}
	}

	Baseline base;
	if (!a.baseline.empty() &&
	    !load_baseline(baseline_path(a.results_dir, a.baseline), &base,
			   &err)) {
		std::cerr << "runstate_bench: --baseline: " << err << "\n";
		return 1;
	}

	std::vector<char *> pargv;
	for (auto &s : a.pass)
		pargv.push_back(const_cast<char *>(s.c_str()));
	pargv.push_back(nullptr);
	int pargc = static_cast<int>(pargv.size() - 1);

	Env env = collect_env(a.min_time, a.quick);
	benchmark::Initialize(&pargc, pargv.data());
	if (benchmark::ReportUnrecognizedArguments(pargc, pargv.data()))
		return 2;

	// Reports go to stdout beside the console output; when stdout carries
	// Google Benchmark's JSON or CSV, they go to stderr instead.
	std::ostream &rep = a.format == "console" ? std::cout : std::cerr;
	std::string envtxt = env_text(env);
	if (!a.list_only)
		rep << envtxt << "\n" << std::flush;

	auto inner = console_reporter(a);
	Collector col(inner.get());
	benchmark::RunSpecifiedBenchmarks(&col);
	benchmark::Shutdown();
	if (a.list_only || col.results.empty())
		return 0;

	run_probes(col, rep);
	std::string text = all_reports(col, a, base, env);
	if (a.quick)
		text = kQuickBanner + text + kQuickBanner;
	rep << "\n# runstate benchmark reports\n\n" << text << std::flush;

	if (!a.out_path.empty() && a.out_format == "json" &&
	    !enrich_json(a.out_path, env, &err))
		std::cerr << "runstate_bench: " << err << "\n";
	std::string md = a.results_dir + "/report.md";
	std::ofstream f(md);
	f << "# runstate benchmark report\n\n" << envtxt << "\n" << text;
	if (!f)
		std::cerr << "runstate_bench: cannot write " << md << "\n";
	rep << "\nWritten: " << md;
	if (!a.user_out)
		rep << ", " << a.results_dir << "/results.json";

	if (!a.save_baseline.empty()) {
		std::string path =
			baseline_path(a.results_dir, a.save_baseline);
		if (!save_baseline(path, a.save_baseline, env, col, &err)) {
			std::cerr
				<< "\nrunstate_bench: --save-baseline: " << err
				<< "\n";
			return 1;
		}
		rep << ", " << path;
	}
	rep << "\n";
	// A quick run is a smoke test: any benchmark that failed fails it.
	if (a.quick) {
		int failed = 0;
		for (const auto &[name, r] : col.results)
			if (r.error) {
				std::cerr << "runstate_bench --quick: " << name
					  << " failed: " << r.message << "\n";
				failed++;
			}
		if (failed)
			return 1;
	}
	return 0;
}
