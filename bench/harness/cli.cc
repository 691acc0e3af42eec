// SPDX-License-Identifier: MIT

#include "cli.h"

#include "results.h"

#include <iostream>

const char *const kDefaultMinTime = "0.5";
const char *const kQuickMinTime = "0.01";

static bool starts(const std::string &s, const char *p)
{
	return s.rfind(p, 0) == 0;
}

bool truthy(const std::string &v)
{
	return v.empty() || v == "true" || v == "yes" || v == "1" || v == "on";
}

void usage()
{
	std::cout << "runstate_bench: the runstate benchmark suite "
		     "(docs/benchmark-catalog.md)\n\n"
		     "  --save-baseline NAME  save this run as "
		     "<results-dir>/baseline-NAME.json\n"
		     "  --baseline NAME       compare this run with a saved "
		     "baseline\n"
		     "  --results-dir DIR     where results.json, report.md, "
		     "report.html, charts/\n"
		     "                        and baselines go\n"
		     "                        (default: bench-results, or "
		     "bench-results/quick)\n"
		     "  --quick               every benchmark briefly, on 1/10 "
		     "of "
		     "the data:\n"
		     "                        checks that all runs, not for "
		     "gating "
		     "(no baselines)\n"
		     "  --report-from FILE    run nothing: write report.md, "
		     "report.html and charts/\n"
		     "                        in the results directory from "
		     "the results.json FILE\n"
		     "                        of an earlier run\n"
		     "  --benchmark_*         Google Benchmark's own flags, "
		     "passed through\n"
		     "                        (default --benchmark_min_time="
		  << kDefaultMinTime << ")\n\n"
		  << std::flush;
}

bool parse_args(int argc, char **argv, Args *a, std::string *err)
{
	a->pass.push_back(argv[0]);
	for (int i = 1; i < argc; i++) {
		std::string s = argv[i];
		auto take = [&](const char *flag, std::string *dst) {
			std::string f = flag;
			if (s == f) {
				if (i + 1 >= argc) {
					*err = f + " needs a value";
					return true;
				}
				*dst = argv[++i];
				return true;
			}
			if (starts(s, (f + "=").c_str())) {
				*dst = s.substr(f.size() + 1);
				return true;
			}
			return false;
		};
		if (take("--save-baseline", &a->save_baseline) ||
		    take("--baseline", &a->baseline) ||
		    take("--results-dir", &a->results_dir) ||
		    take("--report-from", &a->report_from)) {
			if (!err->empty())
				return false;
			if (starts(s, "--results-dir"))
				a->user_results_dir = true;
			continue;
		}
		if (s == "--quick") {
			a->quick = true;
			continue;
		}
		if (s == "--help" || s == "-h") {
			a->help = true;
			a->pass.push_back("--help");
			continue;
		}
		if (starts(s, "--benchmark_out=")) {
			a->user_out = true;
			a->out_path = s.substr(16);
		}
		if (starts(s, "--benchmark_out_format="))
			a->out_format = s.substr(23);
		if (starts(s, "--benchmark_format="))
			a->format = s.substr(19);
		if (starts(s, "--benchmark_color="))
			a->color = s.substr(18);
		if (starts(s, "--benchmark_counters_tabular"))
			a->tabular = truthy(s.size() > 28 ? s.substr(29) : "");
		if (starts(s, "--benchmark_min_time=")) {
			a->user_min_time = true;
			a->min_time = s.substr(21);
		}
		if (starts(s, "--benchmark_list_tests"))
			a->list_only =
				truthy(s.size() > 22 ? s.substr(23) : "");
		a->pass.push_back(s);
	}
	for (const std::string *n : { &a->save_baseline, &a->baseline })
		if (!n->empty() && !valid_baseline_name(*n)) {
			*err = "baseline name '" + *n +
			       "': use letters, digits, '-', '_' or '.'";
			return false;
		}
	if (a->quick && (!a->save_baseline.empty() || !a->baseline.empty())) {
		*err = "--quick runs are not for comparing: no baselines";
		return false;
	}
	if (!a->report_from.empty() &&
	    (a->quick || !a->save_baseline.empty() || a->list_only)) {
		*err = "--report-from runs nothing: it takes no --quick, "
		       "--save-baseline or --benchmark_list_tests";
		return false;
	}
	if (a->quick && !a->user_results_dir)
		a->results_dir += "/quick";
	if (!a->user_min_time) {
		a->min_time = a->quick ? kQuickMinTime : kDefaultMinTime;
		a->pass.push_back("--benchmark_min_time=" + a->min_time);
	}
	if (!a->user_out && !a->help && !a->list_only) {
		a->out_path = a->results_dir + "/results.json";
		a->pass.push_back("--benchmark_out=" + a->out_path);
		a->pass.push_back("--benchmark_out_format=json");
	}
	return true;
}
