// SPDX-License-Identifier: MIT
//
// Durability: each mode against InMemory and a bare fdatasync, group
// commit and recovery replay.

#include "gates.h"

#include "format.h"
#include "registry.h"

std::string Reports::durability() const
{
	std::string out = "## Durability (sharded store)\n\n";
	std::string fs = note("dur.fs");
	out += "Every durable benchmark works in a fresh temporary directory "
	       "on " +
	       (fs.empty() ? std::string("? (none ran)") : fs) +
	       ", removed afterwards.\n\n";
	Table t;
	t.head = { "benchmark", "per operation", "fdatasync per op",
		   "log bytes per op" };
	auto cnt = [this](const char *b, const char *c, const char *f) {
		Val v = counter(b, c);
		return v.kind == Val::OK ? fmt(f, v.v) : std::string("—");
	};
	t.add({ "kvstore_put (InMemory)",
		val_text(bench("kvstore_put"), Unit::NS), "—", "—" });
	for (const char *b : { "kvstore_put_buffered", "kvstore_put_strict" })
		t.add({ b, val_text(bench(b), Unit::NS),
			cnt(b, "fdatasync_per_op", "%.4f"),
			cnt(b, "wal_bytes_per_op", "%.0f") });
	t.add({ "peer_fdatasync_append (bare pwrite + fdatasync, "
		"preallocated file)",
		val_text(bench("peer_fdatasync_append"), Unit::NS), "1",
		cnt("peer_fdatasync_append", "record_bytes", "%.0f") });
	out += t.str() + "\n";
	auto &m = metrics();
	if (m.count("dur.strict_vs_bare.ratio")) {
		double r = m["dur.strict_vs_bare.ratio"],
		       x = m["dur.strict_vs_bare.extra_ns"];
		const Gate &gx = gate("kvstore_put_strict − one bare "
				      "fdatasync (interleaved medians)"),
			   &gr = gate("kvstore_put_strict vs bare append + "
				      "fdatasync, same run");
		out += "Strict against a bare append + fdatasync of the same "
		       "size (" +
		       fmt("%.0f", m["dur.strict_vs_bare.record_bytes"]) +
		       " B), interleaved: " +
		       fmt("%.0f", m["dur.strict_vs_bare.rounds"]) +
		       " rounds of " +
		       fmt("%.0f", m["dur.strict_vs_bare.ops"]) +
		       " operations each, alternating which side goes first. "
		       "Medians: kvstore_put_strict " +
		       fmt_ns(m["dur.strict_vs_bare.strict_ns"]) + ", bare " +
		       fmt_ns(m["dur.strict_vs_bare.bare_ns"]) +
		       "; Strict − bare " + fmt_val(Unit::NS_SIGNED, x) +
		       " (goal " + gx.goal.cmp_text() + ": " +
		       (gx.goal.pass(gx.unit, x) ? "PASS" : "FAIL") +
		       "); ratio " + fmt_x(r) + " (goal " + gr.goal.cmp_text() +
		       ": " + (gr.goal.pass(gr.unit, r) ? "PASS" : "FAIL") +
		       "). fdatasync latency drifts from one second to the "
		       "next, so the benchmarks' own times above may differ "
		       "by more than this.\n\n";
	}
	Table g;
	g.head = { "benchmark",
		   "commits/s",
		   "vs 1 committer",
		   "fdatasync per commit",
		   "p99 (mean) per commit",
		   "successes per committer",
		   "invariants" };
	const std::string w = "strict_group_commit";
	if (is_impl(w)) {
		for (int n : { 1, 2, 4, 8 }) {
			std::string name = w + "/" + std::to_string(n);
			auto it = c_.results.find(name);
			if (it == c_.results.end()) {
				g.add({ name, "not run (filtered out)" });
				continue;
			}
			Val ops = cont_metric(w, n, "ops_s");
			if (ops.kind != Val::OK) {
				g.add({ name, "error: " + it->second.message });
				continue;
			}
			std::string per;
			for (int i = 0; i < n; i++)
				per += (i ? " " : "") +
				       val_text(
					       cont_metric(
						       w, n,
						       "t" + std::to_string(i) +
							       ".succ"),
					       Unit::COUNT);
			Val ok = cont_metric(w, n, "invariants_ok");
			std::string p = "contention." + w + "." +
					std::to_string(n) + ".";
			g.add({ name + (n > cores() ? " (oversubscribed)" : ""),
				fmt("%.0f", ops.v),
				val_text(cont_scaling(w, n), Unit::X),
				[&] {
					Val v = cont_metric(
						w, n, "fdatasync_per_commit");
					return v.kind == Val::OK
						       ? fmt("%.3f", v.v)
						       : val_text(v, Unit::X);
				}(),
				val_text(cont_metric(w, n, "p99_ns"),
					 Unit::NS) +
					" (" +
					val_text(cont_metric(w, n, "mean_ns"),
						 Unit::NS) +
					")",
				per,
				ok.kind == Val::OK && ok.v == 1
					? "PASS"
					: "FAIL: " + note(p + "failure") });
		}
		out += g.str() +
		       "\nN committer threads, each putting to its own run of "
		       "one Strict database, under the contention protocol "
		       "(500 ms warm-up, 2000 ms measurement, 500 ms "
		       "cool-down). Goal: /8 " +
		       gate("strict_group_commit/8 (commits/s vs 1 "
			    "committer)")
			       .goal.text() +
		       ". Committers mostly wait for fdatasync, so "
		       "the goal is judged whatever the core count; with more "
		       "committers than cores, waking the followers after each "
		       "sync costs CPU time too.\n\n";
	}
	const std::string rp = "recovery_replay/100k";
	Val rr = bench(rp);
	out += rp + ": rs_db_open of 100,000 log records, no checkpoint: " +
	       val_text(rr, Unit::NS);
	if (rr.kind == Val::OK) {
		Val ms = counter(rp, "recovery_ms"),
		    mib = counter(rp, "log_mib"),
		    segs = counter(rp, "segments_read");
		out += " (recovery " +
		       (ms.kind == Val::OK ? fmt("%.1f ms", ms.v) : "?") +
		       " by rs_db_stats; " +
		       (mib.kind == Val::OK ? fmt("%.1f MiB", mib.v) : "?") +
		       " of log in " +
		       (segs.kind == Val::OK ? fmt("%.0f", segs.v) : "?") +
		       " segment(s), read from the page cache)";
	}
	out += ".\n";
	return out;
}
