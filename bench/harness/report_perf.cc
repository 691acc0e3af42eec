// SPDX-License-Identifier: MIT
//
// The per-phase breakdown of an RS_PERF_TRACE build (bench_perf.c,
// docs/perf-trace.md): for kvstore_put, eventlog_append and
// kvstore_put_strict, the mean time per operation of each phase and its
// share of the phases' sum. Empty (no section) in any other build.

#include "reports.h"

#include "format.h"
#include "registry.h"

namespace
{

const char *const kPerfBenches[] = { "kvstore_put", "eventlog_append",
				     "kvstore_put_strict" };
const char *const kPhases[] = { "snapshot", "body",    "lock", "validate",
				"prepare",  "log",     "sync", "apply",
				"publish",  "reclaim", "read" };

} // namespace

std::string Reports::perf_trace() const
{
	bool traced = false;
	for (const auto &p : probes())
		traced |= p.name == "kvstore_put phases";
	if (!traced)
		return "";
	auto &m = metrics();
	auto get = [&m](const std::string &k, double *v) {
		auto it = m.find(k);
		if (it == m.end())
			return false;
		*v = it->second;
		return true;
	};
	std::string out = "## Per-phase breakdown (RS_PERF_TRACE build)\n\n";
	double clk = 0;
	out += "This library was built with RS_PERF_TRACE, so every time in "
	       "this run includes the tracing's own cost (one clock read per "
	       "phase boundary";
	if (get("perf.clock_read_ns", &clk))
		out += ", " + fmt_ns(clk) + " each";
	out += "): not for gating. Each operation ran in a loop of its own "
	       "after its benchmark (same workload), between rs_perf_reset() "
	       "and rs_perf_read(). Per operation: the mean time of each phase "
	       "and its share of the phases' sum (docs/perf-trace.md says "
	       "what each phase covers).\n\n";
	Table t;
	t.head = { "phase" };
	for (const char *b : kPerfBenches) {
		t.head.push_back(b);
		t.head.push_back("share");
	}
	double sum[3] = { 0, 0, 0 }, phases[3] = { 0, 0, 0 };
	bool ran[3] = { false, false, false };
	for (int i = 0; i < 3; i++) {
		double v;
		std::string k = std::string("perf.") + kPerfBenches[i] + ".";
		for (const char *ph : kPhases) {
			if (get(k + ph + ".ns", &v)) {
				sum[i] += v;
				ran[i] = true;
			}
			if (get(k + ph + ".count", &v))
				phases[i] += v;
		}
	}
	for (const char *ph : kPhases) {
		std::vector<std::string> row = { ph };
		bool any = false;
		for (int i = 0; i < 3; i++) {
			std::string k = std::string("perf.") + kPerfBenches[i] +
					"." + ph;
			double ns = 0, cnt = 0;
			if (!ran[i]) {
				row.push_back("—");
				row.push_back("—");
				continue;
			}
			get(k + ".ns", &ns);
			get(k + ".count", &cnt);
			if (cnt == 0) {
				row.push_back("—");
				row.push_back("—");
				continue;
			}
			any = true;
			std::string cell = fmt_ns(ns);
			if (cnt < 0.999 || cnt > 1.001)
				cell += fmt(" (%.2f×)", cnt);
			row.push_back(cell);
			row.push_back(
				fmt("%.1f %%",
				    sum[i] > 0 ? 100.0 * ns / sum[i] : 0.0));
		}
		if (any)
			t.add(row);
	}
	std::vector<std::string> srow = { "**sum of phases**" },
				 wrow = { "wall time per op (loop)" },
				 crow = { "CPU time per op (loop)" },
				 krow = { "clock reads inside the phases" },
				 orow = { "outside the phases" };
	for (int i = 0; i < 3; i++) {
		double wall = 0, cpu = 0;
		std::string b = kPerfBenches[i];
		std::string err = note("perf." + b + ".error");
		if (!err.empty()) {
			srow.push_back("error: " + err);
			for (auto *r : { &wrow, &crow, &krow, &orow })
				r->push_back("—");
		} else if (!ran[i] || !get("perf." + b + ".wall_ns", &wall)) {
			srow.push_back("not run (filtered out)");
			for (auto *r : { &wrow, &crow, &krow, &orow })
				r->push_back("—");
		} else {
			get("perf." + b + ".cpu_ns", &cpu);
			srow.push_back(fmt_ns(sum[i]));
			wrow.push_back(fmt_ns(wall));
			crow.push_back(fmt_ns(cpu));
			krow.push_back(fmt_ns(phases[i] * clk));
			orow.push_back(fmt_val(Unit::NS_SIGNED, wall - sum[i]));
		}
		srow.push_back(ran[i] && wall > 0 ? fmt("%.1f %% of wall",
							100.0 * sum[i] / wall)
						  : "");
		wrow.push_back("");
		crow.push_back(ran[i] && wall > 0 ? fmt("%.1f %% of wall",
							100.0 * cpu / wall)
						  : "");
		krow.push_back(ran[i] ? fmt("%.0f × ", phases[i]) + fmt_ns(clk)
				      : "");
		orow.push_back("");
	}
	for (auto *r : { &srow, &krow, &wrow, &crow, &orow })
		t.add(*r);
	out += t.str() + "\n";
	out += "A count other than 1× is how often the phase ran per "
	       "operation. \"Outside the phases\" is what the facade does "
	       "before its transaction begins (argument checks, UTF-8 and "
	       "limit checks), the loop itself, and the clock read that "
	       "closes the last phase. Each phase includes one clock read: "
	       "the row \"clock reads inside the phases\" is what the "
	       "tracing itself adds to their sum. The phases are wall time: "
	       "where the CPU "
	       "time falls short of the wall time, the thread was preempted "
	       "for the difference, and that time sits inside whichever phases "
	       "it interrupted.\n";
	return out;
}
