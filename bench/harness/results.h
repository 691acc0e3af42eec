// SPDX-License-Identifier: MIT
//
// Results of a run: what Google Benchmark measured (Collector), the JSON
// file it wrote (enriched with our environment record, metrics and notes),
// and named baselines: small JSON files saved by --save-baseline NAME and
// read back by --baseline NAME (format "runstate-bench-baseline/1").

#ifndef RS_BENCH_RESULTS_H
#define RS_BENCH_RESULTS_H

#include "env.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// One benchmark's figures (of its median aggregate when repetitions ran).
struct Result {
	double real_ns = NAN;
	double cpu_ns = NAN;
	int64_t iterations = 0;
	bool error = false;
	std::string message;
	std::map<std::string, double> counters;
	int rank = -1; // iteration run 0, mean 1, median 2
};

// Passes every run on to the reporter that prints it, and keeps the
// figures for the reports.
class Collector : public benchmark::BenchmarkReporter
{
      public:
	explicit Collector(benchmark::BenchmarkReporter *inner) : inner_(inner)
	{
	}

	bool ReportContext(const Context &c) override
	{
		return inner_->ReportContext(c);
	}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &r : runs)
			take(r);
		inner_->ReportRuns(runs);
	}

	void Finalize() override
	{
		inner_->Finalize();
	}

	std::map<std::string, Result> results;
	std::vector<std::string> order; // names in the order they ran

	// Keeps r as the figures of `name` unless a run of a higher rank
	// (median over mean over iteration) is kept already.
	void keep(const std::string &name, const Result &r);

      private:
	void take(const Run &r);

	benchmark::BenchmarkReporter *inner_;
};

// Adds the environment record ("runstate_env", inside "context") and the
// probes' metrics and notes ("runstate_metrics", "runstate_notes", at the
// top level) to Google Benchmark's JSON output, so the file stands alone.
bool enrich_json(const std::string &path, const Env &env, std::string *err);

// Reads back a results.json written by a run (enriched as above): every
// benchmark's figures into *c (which reports nothing: inner may be
// nullptr), the metrics and notes into metrics() and notes() (replacing
// theirs) and the environment record into *env. The reports (report.md,
// report.html and its charts) are always computed from this, so tables
// and charts hold the numbers of the file.
bool load_results(const std::string &path, Collector *c, Env *env,
		  std::string *err);

struct Baseline {
	std::string name;
	std::map<std::string, std::string> env;
	std::map<std::string, double> results_ns; // real time per operation
	std::map<std::string, double> metrics;
};

// Letters, digits, '-', '_', '.'; not starting with '.'; at most 64.
bool valid_baseline_name(const std::string &n);
// <dir>/baseline-<name>.json
std::string baseline_path(const std::string &dir, const std::string &name);
bool load_baseline(const std::string &path, Baseline *b, std::string *err);
// The environment, every benchmark that ran without error (real time per
// operation) and every metric.
bool save_baseline(const std::string &path, const std::string &name,
		   const Env &env, const Collector &c, std::string *err);

#endif
