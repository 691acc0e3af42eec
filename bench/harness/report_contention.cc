// SPDX-License-Identifier: MIT
//
// Contention (tier D): every contention/<workload>/N run of the protocol,
// with its throughput, retries, latency and invariants.

#include "reports.h"

#include "format.h"
#include "registry.h"

const std::vector<const char *> kContentionTable = {
	"disjoint",
	"disjoint_ceiling",
	"statecell",
	"eventlog",
};
const std::vector<int> kThreadCounts = { 1, 2, 4, 8 };

std::string Reports::contention() const
{
	const int nc = cores();
	std::string out = "## Contention (tier D)\n\n";
	out += "Protocol: N worker threads, 500 ms warm-up, 2000 ms "
	       "measurement, 500 ms cool-down; every figure is over the "
	       "measurement window. " +
	       std::to_string(nc) +
	       " cores online: thread counts above that are oversubscribed "
	       "and their scaling is not judged.\n\n";
	Table t;
	t.head = { "benchmark",		  "ops/s",
		   "ops/s per thread",	  "scaling vs 1",
		   "attempts mean / max", "retry rate",
		   "p99 (mean)",	  "successes per thread",
		   "invariants" };
	std::vector<std::string> missing;
	auto &m = metrics();
	for (const char *w : kContentionTable) {
		std::string base = std::string("contention/") + w;
		if (!is_impl(base)) {
			missing.push_back(base + "/{1,2,4,8}");
			continue;
		}
		for (int n : kThreadCounts) {
			std::string name = base + "/" + std::to_string(n);
			std::string p = std::string("contention.") + w + "." +
					std::to_string(n) + ".";
			std::string label =
				name + (n > nc ? " (oversubscribed)" : "");
			auto it = c_.results.find(name);
			if (it == c_.results.end()) {
				t.add({ label, "not run (filtered out)" });
				continue;
			}
			auto g = [&](const char *k) {
				auto i = m.find(p + k);
				return i == m.end() ? NAN : i->second;
			};
			if (std::isnan(g("ops_s"))) {
				t.add({ label,
					"error: " + it->second.message });
				continue;
			}
			std::string per;
			for (int i = 0; i < n; i++)
				per += (i ? " " : "") +
				       fmt("%.0f",
					   g(("t" + std::to_string(i) + ".succ")
						     .c_str()));
			std::string inv =
				g("invariants_ok") == 1
					? "PASS"
					: "FAIL: " + note(p + "failure");
			// Beside a ceiling measured in the same run (disjoint).
			std::string scal =
				val_text(cont_scaling(w, n), Unit::X);
			if (!std::isnan(g("of_ceiling")))
				scal += fmt(" (ceiling %.2f×: ",
					    g("ceiling_scaling")) +
					fmt("%.0f%%)", 100 * g("of_ceiling"));
			t.add({ label, fmt_rate(g("ops_s")),
				fmt_rate(g("ops_s_thread")), scal,
				fmt("%.3f", g("attempts_mean")) + " / " +
					fmt("%.0f", g("attempts_max")),
				fmt("%.4f", g("retry_rate")),
				fmt_ns(g("p99_ns")) + " (" +
					fmt_ns(g("mean_ns")) + ")",
				per, inv });
		}
	}
	if (!t.rows.empty())
		out += t.str() + "\n";
	out += "Latency: time between two consecutive clock reads of a "
	       "worker (one per operation, retries included), from a "
	       "log-linear histogram (p99 is its bucket's upper bound, at "
	       "most 6% high). Conflicting attempts are retried at once, "
	       "without backoff.\n";
	if (!missing.empty()) {
		out += "Not yet implemented:";
		for (size_t i = 0; i < missing.size(); i++)
			out += (i ? ", " : " ") + missing[i];
		out += " (no workload written yet).\n";
	}
	return out;
}
