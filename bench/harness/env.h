// SPDX-License-Identifier: MIT
//
// The environment record of every run (docs/benchmark-catalog.md, honesty
// rules: "Every run records its environment"): printed before the
// benchmarks, written into results.json, report.md and saved baselines.

#ifndef RS_BENCH_ENV_H
#define RS_BENCH_ENV_H

#include <string>
#include <utility>
#include <vector>

// Ordered (key, value) pairs: the order in which they are printed.
using Env = std::vector<std::pair<std::string, std::string>>;

// The record of this process and build; min_time is the
// --benchmark_min_time in effect, quick whether this is a --quick run.
Env collect_env(const std::string &min_time, bool quick);
// The value of key k, or "".
std::string env_get(const Env &e, const std::string &k);
// The "## Environment" section, with warnings when the numbers are not
// representative (build type, sanitizers, CPU governor).
std::string env_text(const Env &e);

#endif
