// SPDX-License-Identifier: MIT
//
// Against a saved baseline (--baseline NAME): every benchmark of this run
// that the baseline has, with the change.

#include "reports.h"

#include "format.h"

std::string Reports::against(const Baseline &b, const Env &now) const
{
	auto be = [&b](const char *k) {
		auto it = b.env.find(k);
		return it == b.env.end() ? std::string("?") : it->second;
	};
	std::string out = "## Against baseline '" + b.name + "'\n\n";
	out += "Recorded " + be("timestamp") + ", commit " + be("git_commit") +
	       ", " + be("build_type") + ", " + be("cpu") + ".\n";
	for (const char *k : { "cpu", "build_type", "allocator", "c_compiler" })
		if (b.env.count(k) && b.env.at(k) != env_get(now, k))
			out += "WARNING: " + std::string(k) +
			       " differs (baseline: " + b.env.at(k) +
			       "; now: " + env_get(now, k) +
			       "): compare with care.\n";
	Table t;
	t.head = { "benchmark", "baseline", "now", "change", "" };
	int slower = 0, faster = 0;
	for (const auto &n : c_.order) {
		auto it = b.results_ns.find(n);
		Val v = bench(n);
		if (it == b.results_ns.end() || v.kind != Val::OK)
			continue;
		double base = it->second;
		if (!(base > 0))
			continue;
		double ch = v.v / base - 1;
		std::string verdict = ch > 0.10	   ? "slower"
				      : ch < -0.10 ? "faster"
						   : "";
		slower += ch > 0.10;
		faster += ch < -0.10;
		t.add({ n, fmt_ns(base), fmt_ns(v.v), fmt("%+.1f%%", ch * 100),
			verdict });
	}
	if (t.rows.empty())
		return out + "No benchmark in common with this run.\n";
	out += "\n" + t.str() + "\n" + std::to_string(slower) + " slower and " +
	       std::to_string(faster) +
	       " faster by more than 10% (single runs on a shared machine "
	       "vary by several percent; repeat before concluding).\n";
	return out;
}
