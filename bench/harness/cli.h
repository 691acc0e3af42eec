// SPDX-License-Identifier: MIT
//
// The command line of runstate_bench: our flags (baselines, results
// directory), and Google Benchmark's, passed through with our defaults.

#ifndef RS_BENCH_CLI_H
#define RS_BENCH_CLI_H

#include <string>
#include <vector>

// The default --benchmark_min_time (seconds) when the command line gives
// none: keeps a whole default run to a few minutes on two cores.
extern const char *const kDefaultMinTime;
// The same for --quick.
extern const char *const kQuickMinTime;

struct Args {
	std::string save_baseline, baseline, results_dir = "bench-results";
	std::string report_from; // --report-from FILE: no benchmark runs
	bool help = false, list_only = false, user_out = false,
	     user_min_time = false, quick = false, user_results_dir = false;
	std::string format = "console", color = "auto";
	bool tabular = false;
	std::string out_path, out_format = "json";
	std::string min_time = kDefaultMinTime;
	std::vector<std::string> pass; // to benchmark::Initialize
};

bool parse_args(int argc, char **argv, Args *a, std::string *err);
bool truthy(const std::string &v);
void usage();

#endif
