// SPDX-License-Identifier: MIT
//
// Report 4, against the M3 baseline: every benchmark that ran on both
// stores, with the speed-up of the sharded store.

#include "gates.h"

#include "format.h"
#include "shim.h"

std::string Reports::m3() const
{
	Table t;
	t.head = { "benchmark", "sharded", "unified (M3)", "speed-up" };
	const std::string suf = RS_BENCH_UNIFIED_SUFFIX;
	for (const auto &n : c_.order) {
		if (n.size() > suf.size() &&
		    n.compare(n.size() - suf.size(), suf.size(), suf) == 0)
			continue;
		if (!c_.results.count(n + suf))
			continue;
		Val s = bench(n), u = bench(n + suf);
		t.add({ n, val_text(s, Unit::NS), val_text(u, Unit::NS),
			val_text(ratio(u, s), Unit::X) });
	}
	std::string out = "## 4. Against the M3 baseline (unified store, same "
			  "run)\n\n";
	if (t.rows.empty())
		return out + "No benchmark ran on both stores.\n";
	out += t.str() + "\nspeed-up = unified / sharded (above 1×: the "
			 "sharded store is faster).\n";
	const Gate &g = gate("vs M3 baseline, kvstore_put at 100k keys");
	Val r = g.value(*this);
	out += "Goal \"" + g.name + " " + g.goal.text() +
	       "\": " + val_text(r, Unit::X) +
	       (r.kind == Val::OK
			? (g.goal.pass(g.unit, r.v) ? " → PASS" : " → FAIL")
			: "") +
	       ".\n";
	return out;
}
