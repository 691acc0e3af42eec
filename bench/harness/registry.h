// SPDX-License-Identifier: MIT
//
// What the C side registered and recorded, for the C++ side of the harness:
// the names that exist in this build, the probes, and the metrics and notes
// the probes and bodies set. shim.cc fills these; the reports read them.

#ifndef RS_BENCH_REGISTRY_H
#define RS_BENCH_REGISTRY_H

#include "shim.h"

#include <map>
#include <set>
#include <string>
#include <vector>

// Names that exist in this build: registered base names, and base/arg for
// each argument value (the form the catalog uses: eventlog_read_range/100).
std::set<std::string> &implemented();

struct Probe {
	std::string name, related;
	rs_bench_probe_fn fn;
};

std::vector<Probe> &probes();
std::map<std::string, double> &metrics();
std::map<std::string, std::string> &notes();

#endif
