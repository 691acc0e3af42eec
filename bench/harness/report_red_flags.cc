// SPDX-License-Identifier: MIT
//
// Report 2, red flags: each is the far side of a gate's seed target
// (gates.h: the threshold is the seed target's red flag, or the seed
// target itself), with the latency samples and allocation counts behind
// them.

#include "gates.h"

#include "format.h"
#include "registry.h"

#include <benchmark/benchmark.h>

#include <chrono>

namespace
{

struct Flag {
	std::string what;
	Val v;
	Unit u;
	double thr; // FAIL when v > thr (v < thr when below)
	std::string shown;
	bool below = false;
};

// "<lead> > <red flag of gate g><tail>", FAIL above the red flag.
Flag above_red(const std::string &lead, const char *gate_name,
	       const std::string &tail, Val v)
{
	const Gate &g = gate(gate_name);
	return { lead + " > " + (g.seed.red ? g.seed.red : "?") + tail, v,
		 g.unit, g.seed.red_value(g.unit), "" };
}

} // namespace

double measure_clock_read_ns()
{
	using clk = std::chrono::steady_clock;
	auto t0 = clk::now();
	for (int i = 0; i < 100000; i++)
		benchmark::DoNotOptimize(clk::now());
	return std::chrono::duration<double, std::nano>(clk::now() - t0)
		       .count() /
	       100000;
}

std::string Reports::red_flags() const
{
	std::vector<Flag> fl;
	fl.push_back(above_red("snapshot acquisition",
			       "engine_snapshot_acquire",
			       " (engine_snapshot_acquire)",
			       bench("engine_snapshot_acquire")));
	// The engine and facade taxes: one tier's time over the one below.
	static const struct {
		const char *tiers, *gate, *op, *upper, *lower;
	} taxes[] = {
		{ "A1/A0", "A1/A0 (get)", " (get)", "engine_get_direct",
		  "core_get_hot" },
		{ "A1/A0", "A1/A0 (put)", " (put)", "engine_put_direct",
		  "core_put_hot" },
		{ "B/A1", "B/A1 (get)", " (get)", "kvstore_get",
		  "engine_get_direct" },
		{ "B/A1", "B/A1 (put)", " (put)", "kvstore_put",
		  "engine_put_direct" },
	};
	for (const auto &x : taxes)
		fl.push_back(above_red(x.tiers, x.gate, x.op,
				       ratio(bench(x.upper), bench(x.lower))));
	{
		// Each thread count that fits the cores against its seed
		// minimum; the value is the worst measured/minimum.
		Val worst = Val::not_impl();
		std::string shown, over;
		for (int n : { 2, 4, 8 }) {
			if (n > cores()) {
				over += (over.empty() ? "" : ", ") +
					std::to_string(n);
				continue;
			}
			const Gate &g = gate("contention/disjoint/" +
					     std::to_string(n) +
					     " (scaling vs 1 thread)");
			double min = g.seed.value(g.unit);
			Val v = cont_scaling("disjoint", n);
			shown += (shown.empty() ? "" : "; ") +
				 std::to_string(n) + " threads " +
				 val_text(v, Unit::X) + " (min " +
				 fmt("%g×", min) + ")";
			if (v.kind != Val::OK) {
				if (worst.kind != Val::ERROR)
					worst = v;
				continue;
			}
			double r = v.v / min;
			if (worst.kind == Val::NOT_IMPL ||
			    (worst.kind == Val::OK && r < worst.v))
				worst = Val::ok(r);
		}
		if (!over.empty())
			shown += (shown.empty() ? "" : "; ") + over +
				 " threads: oversubscribed on " +
				 std::to_string(cores()) + " cores, not judged";
		if (!is_impl("contention/disjoint"))
			shown = "";
		else if (worst.kind == Val::NOT_IMPL)
			worst = Val::not_run(shown); // one core: nothing judged
		Flag f{ "disjoint scaling below the minimum for the cores",
			worst, Unit::X, 1.0, shown };
		f.below = true;
		fl.push_back(f);
	}
	const std::string p99_red = kP99Seed.red;
	const double p99_thr = kP99Seed.red_value(Unit::X);
	for (const char *b : kLatencyBenches) {
		if (!is_impl(b))
			continue;
		Val r = p99_over_mean(b, lat_probe(b));
		std::string shown;
		if (r.kind == Val::OK)
			shown = fmt_x(r.v) + " (p99 " +
				fmt_ns(metrics()["lat." + std::string(b) +
						 ".p99_ns"]) +
				", mean " +
				fmt_ns(metrics()["lat." + std::string(b) +
						 ".mean_ns"]) +
				")";
		fl.push_back({ "p99 > " + p99_red + " mean (" + b + ")", r,
			       Unit::X, p99_thr, shown });
	}
	// The contention protocol's latency histograms: the worst p99/mean
	// over the thread counts that fit the cores.
	for (const char *w : kContentionWorkloads) {
		std::string base = w == std::string("strict_group_commit")
					   ? std::string(w)
					   : "contention/" + std::string(w);
		if (!is_impl(base))
			continue;
		Val worst = Val::not_run("not run");
		std::string shown, over;
		for (int n : { 1, 2, 4, 8 }) {
			if (n > cores()) {
				over += (over.empty() ? "" : ", ") +
					std::to_string(n);
				continue;
			}
			Val p = cont_metric(w, n, "p99_ns"),
			    m = cont_metric(w, n, "mean_ns");
			Val r = ratio(p, m);
			if (r.kind != Val::OK)
				continue;
			shown += (shown.empty() ? "" : "; ") +
				 std::to_string(n) + ": " + fmt_x(r.v);
			if (worst.kind != Val::OK || r.v > worst.v)
				worst = r;
		}
		if (!over.empty())
			shown += (shown.empty() ? "" : "; ") + over +
				 " threads oversubscribed, not judged";
		fl.push_back({ "p99 > " + p99_red + " mean (" + base +
				       "/N, N ≤ cores)",
			       worst, Unit::X, p99_thr, shown });
	}
	struct Alloc {
		const char *what, *shown, *gate;
	} alloc_flags[] = {
		{ "kvstore_get", "kvstore_get",
		  "hot-path allocations (kvstore_get)" },
		{ "ro_txn", "read-only txn: begin, get, abort",
		  "hot-path allocations (read-only txn)" },
	};
	for (const Alloc &w : alloc_flags) {
		const Gate &g = gate(w.gate);
		Val a = allocs(w.what);
		std::string shown;
		if (a.kind == Val::OK)
			shown = fmt("%.0f", a.v) + " in " +
				fmt("%.0f", metrics()["alloc.ops"]) + " ops";
		fl.push_back({ std::string("hot-path allocations > ") +
				       g.seed.thr + " (" + w.shown + ")",
			       a, Unit::COUNT, g.seed.value(g.unit), shown });
	}
	Table t;
	t.head = { "red flag", "measured", "result" };
	int fails = 0;
	for (const Flag &f : fl) {
		std::string res = "—";
		if (f.v.kind == Val::OK) {
			bool bad = f.below ? f.v.v < f.thr : f.v.v > f.thr;
			fails += bad;
			res = bad ? "FAIL" : "PASS";
		}
		t.add({ f.what, f.shown.empty() ? val_text(f.v, f.u) : f.shown,
			res });
	}
	std::string out = "## 2. Red flags (sharded store)\n\n" + t.str();
	out += fails ? "\n" + std::to_string(fails) + " red flag(s) raised.\n"
		     : "\nNo red flag raised among those measured.\n";

	// Latency samples and allocation counts behind the flags.
	Table lt;
	lt.head = { "latency pass", "samples", "mean", "p50",
		    "p95",	    "p99",     "max",  "p99/mean" };
	std::vector<std::string> lat_rows;
	for (const char *b : kLatencyBenches) {
		lat_rows.push_back(b);
		if (std::string(b) == "kvstore_get" ||
		    std::string(b) == "kvstore_put")
			lat_rows.push_back(b + std::string("@unified"));
	}
	for (const auto &b : lat_rows) {
		std::string p = "lat." + std::string(b);
		auto &m = metrics();
		if (!m.count(p + ".mean_ns"))
			continue;
		lt.add({ b, fmt("%.0f", m[p + ".samples"]),
			 fmt_ns(m[p + ".mean_ns"]), fmt_ns(m[p + ".p50_ns"]),
			 fmt_ns(m[p + ".p95_ns"]), fmt_ns(m[p + ".p99_ns"]),
			 fmt_ns(m[p + ".max_ns"]),
			 fmt_x(m[p + ".p99_ns"] / m[p + ".mean_ns"]) });
	}
	if (!lt.rows.empty()) {
		// What one clock read costs: every sample includes one.
		auto ck = metrics().find("clock.read_ns");
		double clock_ns = ck != metrics().end()
					  ? ck->second
					  : measure_clock_read_ns();
		out += "\nPer-operation latency (a separate pass outside the "
		       "timed loops, one clock read per operation, ~" +
		       fmt_ns(clock_ns) +
		       " each, included in every sample):\n\n" + lt.str();
	}
	Table at;
	at.head = { "allocations, steady state", "sharded", "unified (M3)" };
	for (const auto &w :
	     { std::make_pair("kvstore_get", "kvstore_get"),
	       std::make_pair("ro_txn", "read-only txn (begin, get, "
					"abort)") }) {
		auto &m = metrics();
		std::string k = std::string("alloc.") + w.first;
		auto cell = [&](const std::string &suffix) {
			auto it = m.find(k + suffix + ".total");
			if (it == m.end())
				return std::string("not run");
			return fmt("%.2f",
				   it->second / m["alloc.ops" + suffix]) +
			       "/op";
		};
		if (m.count(k + ".total") || m.count(k + "@unified.total"))
			at.add({ w.second, cell(""), cell("@unified") });
	}
	if (!at.rows.empty())
		out += "\nAllocations counted through the rs_db_options "
		       "allocator hooks:\n\n" +
		       at.str();
	return out;
}
