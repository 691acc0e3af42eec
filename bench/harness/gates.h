// SPDX-License-Identifier: MIT
//
// The gates: every named benchmark beside its seed target and our goal
// (docs/benchmark-catalog.md, "Seed targets and our goals"). Each
// threshold is written once, in the table of gates.cc, as the text the
// report prints ("< 200 ns", "≥ 25%"); the comparison reads its number
// from that text, so the two cannot disagree. The other reports that
// judge a figure (red flags, facade tax, M3, durability, Redis, LMDB)
// look their thresholds up here by gate name.

#ifndef RS_BENCH_GATES_H
#define RS_BENCH_GATES_H

#include "reports.h"

#include <functional>
#include <string>
#include <vector>

enum class Cmp {
	NONE,
	LT,
	LE,
	GE,
	GT
};

bool passes(Cmp c, double v, double thr);

// One side of a gate: a seed target or our goal.
struct Bound {
	Cmp cmp = Cmp::NONE;
	// The threshold as printed, with its unit: "200 ns", "2.5 µs",
	// "1.5×", "25%", "250K ops/s", "200 B", "0". Null with Cmp::NONE.
	const char *thr = nullptr;
	// Printed after the threshold; with Cmp::NONE, the whole text.
	const char *after = "";
	// The red flag beyond the threshold, in the same unit; printed as
	// " (red flag <red>)" after it.
	const char *red = nullptr;
	// Print the comparison sign before the threshold.
	bool sign = true;
	// Printed first.
	const char *before = "";

	Bound red_flag(const char *r) const
	{
		Bound b = *this;
		b.red = r;
		return b;
	}
	Bound bare() const
	{
		Bound b = *this;
		b.sign = false;
		return b;
	}
	Bound lead(const char *t) const
	{
		Bound b = *this;
		b.before = t;
		return b;
	}

	// The whole text of the report's cell.
	std::string text() const;
	// The sign and the threshold alone ("< 5 µs", "≥ 100×").
	std::string cmp_text() const;
	bool judged() const
	{
		return cmp != Cmp::NONE;
	}
	// The threshold (or the red flag) in the unit's base: ns, a ratio
	// (25% is 0.25), ops/s, bytes or a count. NAN when it does not parse
	// as a number with a suffix that fits u.
	double value(Unit u) const;
	double red_value(Unit u) const;
	// Whether v meets the bound (true when there is nothing to judge).
	bool pass(Unit u, double v) const;
};

// lt("200 ns"), le("1.1×"), ge("25%", " of 1 thread"): a bound that
// judges with that comparison.
struct Comparison {
	Cmp cmp;
	Bound operator()(const char *thr, const char *after = "") const;
};
constexpr Comparison lt{ Cmp::LT }, le{ Cmp::LE }, ge{ Cmp::GE };
// Text only: nothing is judged.
Bound note(const char *text);

struct Gate {
	std::string name;
	std::function<Val(const Reports &)> value;
	Unit unit;
	Bound seed, goal;
};

// The table, in the order the report prints it.
const std::vector<Gate> &gate_table();
// A row of the table by name; a row "?" that judges nothing if absent.
const Gate &gate(const std::string &name);
// The bounds of every "p99 / mean (<benchmark>)" row.
extern const Bound kP99Seed, kP99Goal;

#endif
