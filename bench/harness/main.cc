// SPDX-License-Identifier: MIT
//
// runstate_bench: registers every suite, runs Google Benchmark, then the
// probes, writes Google Benchmark's JSON (<results-dir>/results.json) and
// reads it back, and prints the reports (docs/benchmark-catalog.md)
// computed from it, which also go to <results-dir>/report.md and, with
// their charts (gnuplot SVGs in <results-dir>/charts/), to
// <results-dir>/report.html. --report-from FILE does the last step alone,
// from the results.json of an earlier run. Named baselines are small JSON
// files in the same directory. No Python or other tool is needed to read a
// run.
//
// Where things are: shim.cc (the C shim), env.cc (environment record),
// results.cc (JSON results and baselines), gates.cc (every threshold),
// report_*.cc (one report each), report_charts.cc (what each chart
// plots), html.cc (gnuplot and report.html), cli.cc (the command line).

#include "cli.h"
#include "env.h"
#include "html.h"
#include "registry.h"
#include "reports.h"
#include "results.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
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

std::string all_reports(const Reports &r, const Args &a, const Baseline &base,
			const Env &env)
{
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
	text += r.coverage();
	if (env_get(env, "mode").rfind("QUICK", 0) == 0)
		text = kQuickBanner + text + kQuickBanner;
	return text;
}

// The environment record of a run read back: its core count is the one
// that judges oversubscription.
void use_env(const Env &env)
{
	int n = std::atoi(env_get(env, "cores").c_str());
	if (n > 0)
		Reports::set_cores(n);
}

// Writes report.md and report.html (with charts/) under dir; `rep` gets
// the "Written:" line's paths. Returns false when report.md could not be
// written.
bool write_reports(const std::string &dir, const std::string &envtxt,
		   const std::string &text, const Reports &r,
		   std::string *paths)
{
	std::string md = dir + "/report.md";
	std::ofstream f(md);
	f << "# runstate benchmark report\n\n" << envtxt << "\n" << text;
	f.close();
	if (!f) {
		std::cerr << "runstate_bench: cannot write " << md << "\n";
		return false;
	}
	*paths = md;
	std::string err, html = dir + "/report.html";
	if (write_html_report(dir, envtxt, text, r.charts(), &err))
		*paths += ", " + html;
	else
		std::cerr << "runstate_bench: " << html << ": " << err << "\n";
	return true;
}

// --report-from FILE: the reports of an earlier run, from its JSON.
int report_from(const Args &a, const Baseline &base)
{
	Collector col(nullptr);
	Env env;
	std::string err, paths;
	if (!load_results(a.report_from, &col, &env, &err)) {
		std::cerr << "runstate_bench: --report-from: " << err << "\n";
		return 1;
	}
	use_env(env);
	Reports r(col);
	std::string envtxt = env_text(env);
	std::string text = all_reports(r, a, base, env);
	if (!write_reports(a.results_dir, envtxt, text, r, &paths))
		return 1;
	std::cout << "Written: " << paths << "\n";
	return 0;
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

	if (!a.report_from.empty() && !a.user_results_dir) {
		// Beside the file read, unless told otherwise.
		std::filesystem::path p(a.report_from);
		a.results_dir = p.has_parent_path() ? p.parent_path().string()
						    : std::string(".");
	}
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

	if (!a.report_from.empty())
		return report_from(a, base);

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
	metrics()["clock.read_ns"] = measure_clock_read_ns();
	// The reports are computed from the file written, read back, so that
	// report.md, report.html and its charts hold its numbers. Only when
	// the output is not JSON do they come from the run in memory.
	Collector back(nullptr);
	Env envf;
	const Collector *src = &col;
	if (!a.out_path.empty() && a.out_format == "json") {
		if (!enrich_json(a.out_path, env, &err) ||
		    !load_results(a.out_path, &back, &envf, &err))
			std::cerr << "runstate_bench: " << err
				  << "; reporting from memory\n";
		else {
			src = &back;
			use_env(envf);
		}
	}
	Reports r(*src);
	std::string text = all_reports(r, a, base, env);
	rep << "\n# runstate benchmark reports\n\n" << text << std::flush;

	std::string paths;
	if (write_reports(a.results_dir, envtxt, text, r, &paths))
		rep << "\nWritten: " << paths;
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
