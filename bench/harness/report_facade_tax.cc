// SPDX-License-Identifier: MIT
//
// Report 1, facade tax: A0 -> A1 -> B for GET and PUT, the ratios
// A1/A0, B/A1, B/A0 and an assessment line judged against the gates
// "A1/A0 (get)" and "B/A1 (get)" (goal, seed target, red flag).

#include "gates.h"

#include "format.h"

namespace
{

struct Level {
	double goal, seed, red;
};

Level level_of(const char *gate_name)
{
	const Gate &g = gate(gate_name);
	return { g.goal.value(g.unit), g.seed.value(g.unit),
		 g.seed.red_value(g.unit) };
}

std::string judge(double r, const Level &l)
{
	if (r > l.red)
		return "RED FLAG: > " + fmt("%g×", l.red);
	if (r >= l.seed)
		return "seed target < " + fmt("%g×", l.seed) + " missed";
	if (r >= l.goal)
		return "seed met, goal < " + fmt("%g×", l.goal) + " missed";
	return "goal < " + fmt("%g×", l.goal) + " met";
}

} // namespace

const std::vector<FacadeOp> kFacadeOps = {
	{ "GET", "core_get_hot", "engine_get_direct", "kvstore_get" },
	{ "PUT", "core_put_hot", "engine_put_direct", "kvstore_put" },
};

std::string Reports::facade_tax() const
{
	const Level a1a0 = level_of("A1/A0 (get)"),
		    ba1 = level_of("B/A1 (get)");
	Table t;
	t.head = { "op",    "A0 core", "A1 engine", "B facade",
		   "A1/A0", "B/A1",    "B/A0" };
	std::string assess;
	bool all_measured = true, seed_missed = false, goals_met = true;
	for (const FacadeOp &o : kFacadeOps) {
		Val a0 = bench(o.a0), a1 = bench(o.a1), b = bench(o.b);
		Val r10 = ratio(a1, a0), rb1 = ratio(b, a1), rb0 = ratio(b, a0);
		t.add({ o.op, std::string(o.a0) + " " + val_text(a0, Unit::NS),
			std::string(o.a1) + " " + val_text(a1, Unit::NS),
			std::string(o.b) + " " + val_text(b, Unit::NS),
			val_text(r10, Unit::X), val_text(rb1, Unit::X),
			val_text(rb0, Unit::X) });
		if (r10.kind != Val::OK || rb1.kind != Val::OK) {
			all_measured = false;
			continue;
		}
		assess += std::string(assess.empty() ? "" : "; ") + o.op +
			  ": engine tax A1/A0 " + fmt_x(r10.v) + " (" +
			  judge(r10.v, a1a0) + "), facade tax B/A1 " +
			  fmt_x(rb1.v) + " (" + judge(rb1.v, ba1) + ")";
		seed_missed |= r10.v >= a1a0.seed || rb1.v >= ba1.seed;
		goals_met &= r10.v < a1a0.goal && rb1.v < ba1.goal;
	}
	std::string out = "## 1. Facade tax (sharded store, real time per "
			  "operation)\n\n" +
			  t.str() + "\n";
	if (!all_measured)
		out += "Assessment: incomplete; a tier was not run.\n";
	if (!assess.empty())
		out += "Assessment: " + assess + ". " +
		       (seed_missed ? "A seed target is missed: that is a bug."
			: goals_met ? "Every layer is within its goal."
				    : "Seed targets met; goals not yet.") +
		       "\n";
	out += "Note: for GET the tiers take different paths. kvstore_get "
	       "uses the pin-free fast path (store read_latest) and copies "
	       "the value out; engine_get_direct opens a pinned snapshot and "
	       "returns a view. B/A1 for GET compares the two paths; it is "
	       "not a layer over a subset.\n";
	return out;
}
