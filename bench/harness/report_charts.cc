// SPDX-License-Identifier: MIT
//
// What the charts of report.html plot (docs/benchmarks.md, "The HTML
// report and its charts"). Every value is asked for the way the report
// beside it asks for it (bench(), peer(), the contention metrics, the
// latency probes' metrics), from the same figures, so a chart and its
// table cannot disagree. html.cc draws them.

#include "reports.h"

#include "registry.h"

namespace
{

// A metric as the red-flags latency table reads it: present or not run.
Val metric_of(const std::string &k)
{
	auto it = metrics().find(k);
	if (it == metrics().end())
		return Val::not_run("not run");
	return Val::ok(it->second);
}

std::vector<std::string> thread_labels()
{
	std::vector<std::string> x;
	for (int n : kThreadCounts)
		x.push_back(std::to_string(n));
	return x;
}

} // namespace

std::vector<Chart> Reports::charts() const
{
	std::vector<Chart> out;

	Chart f;
	f.id = "facade_tax";
	f.section = "1. Facade tax";
	f.title = "1. Facade tax: A0 core, A1 engine, B facade (sharded store)";
	f.xlabel = "operation";
	f.ylabel = "real time per operation (log scale)";
	f.logy = true;
	Series a0{ "A0 core", {} }, a1{ "A1 engine", {} }, b{ "B facade", {} };
	for (const FacadeOp &o : kFacadeOps) {
		f.x.push_back(o.op);
		a0.v.push_back(bench(o.a0));
		a1.v.push_back(bench(o.a1));
		b.v.push_back(bench(o.b));
		f.caption += std::string(f.caption.empty() ? "" : "; ") + o.op +
			     ": " + o.a0 + ", " + o.a1 + ", " + o.b;
	}
	f.caption += ".";
	f.series = { a0, a1, b };
	out.push_back(f);

	// The latency probes: the rows of report 2's latency table (and the
	// ordered tier's put probes, which are among them).
	Chart l;
	l.id = "latency";
	l.section = "2. Red flags";
	l.title = "2. Red flags: per-operation latency (latency probes)";
	l.xlabel = "operation";
	l.ylabel = "latency of one operation (log scale)";
	l.logy = true;
	const std::pair<const char *, const char *> pcts[] = {
		{ "p50", "p50_ns" },
		{ "p99", "p99_ns" },
		{ "p99.9", "p999_ns" },
		{ "max", "max_ns" },
	};
	for (const auto &p : pcts)
		l.series.push_back(Series{ p.first, {} });
	for (const char *bn : kLatencyBenches) {
		std::vector<std::string> rows = { bn };
		if (std::string(bn) == "kvstore_get" ||
		    std::string(bn) == "kvstore_put")
			rows.push_back(bn + std::string("@unified"));
		for (const auto &row : rows) {
			std::string k = "lat." + row + ".";
			if (!metrics().count(k + "mean_ns"))
				continue;
			l.x.push_back(row);
			for (size_t i = 0; i < l.series.size(); i++)
				l.series[i].v.push_back(
					metric_of(k + pcts[i].second));
		}
	}
	l.caption = "One clock read per operation, in a separate pass "
		    "outside the timed loops (the latency table above).";
	out.push_back(l);

	// Contention: throughput and scaling per thread count, beside the
	// ceiling measured in the same run (contention/disjoint_ceiling).
	Chart ct, cs;
	ct.id = "contention_throughput";
	cs.id = "contention_scaling";
	ct.section = cs.section = "Contention (tier D)";
	ct.title = "Contention (tier D): throughput by thread count";
	cs.title = "Contention (tier D): scaling vs 1 thread";
	ct.style = cs.style = Chart::LINES;
	ct.xlabel = cs.xlabel = "threads";
	ct.ylabel = "operations/s, all threads (log scale)";
	cs.ylabel = "throughput / 1-thread throughput (×)";
	ct.unit = Unit::RATE;
	cs.unit = Unit::X;
	ct.logy = true;
	ct.x = cs.x = thread_labels();
	ct.vline = cs.vline = cores();
	ct.vline_label = cs.vline_label =
		std::to_string(cores()) +
		" cores online (oversubscribed beyond)";
	for (const char *w : kContentionTable) {
		std::string base = std::string("contention/") + w;
		Series t{ base, {} }, s{ base, {} };
		for (int n : kThreadCounts) {
			t.v.push_back(cont_metric(w, n, "ops_s"));
			s.v.push_back(cont_scaling(w, n));
		}
		ct.series.push_back(t);
		cs.series.push_back(s);
	}
	Series lin{ "linear (N×)", {} };
	lin.dashed = true;
	for (int n : kThreadCounts)
		lin.v.push_back(Val::ok(n));
	cs.series.push_back(lin);
	ct.caption = cs.caption =
		"contention/disjoint_ceiling is the machine's ceiling: the "
		"same threads doing private, lock-free work of similar memory "
		"behaviour, measured in the same run.";
	out.push_back(ct);
	out.push_back(cs);

	// Durability: the modes per operation, and group commit.
	Chart dm;
	dm.id = "durability";
	dm.section = "Durability";
	dm.title = "Durability: kvstore_put by mode, beside a bare fdatasync";
	dm.xlabel = "benchmark";
	dm.ylabel = "real time per operation (log scale)";
	dm.logy = true;
	Series per{ "per operation", {} };
	for (const char *bn :
	     { "kvstore_put", "kvstore_put_buffered", "kvstore_put_strict",
	       "peer_fdatasync_append" }) {
		dm.x.push_back(std::string(bn) == "kvstore_put"
				       ? "kvstore_put (InMemory)"
				       : bn);
		per.v.push_back(bench(bn));
	}
	dm.series = { per };
	dm.caption = "peer_fdatasync_append: a bare pwrite + fdatasync of "
		     "the same size on a preallocated file.";
	out.push_back(dm);

	Chart g;
	g.id = "group_commit";
	g.section = "Durability";
	g.title = "Durability: strict_group_commit/N, commits/s by committers";
	g.style = Chart::LINES;
	g.xlabel = "committer threads (N)";
	g.ylabel = "commits/s, all committers (log scale)";
	g.y2label = "fdatasync per commit";
	g.unit = Unit::RATE;
	g.unit2 = Unit::COUNT;
	g.logy = true;
	g.x = thread_labels();
	Series gc{ "strict_group_commit commits/s", {} },
		gf{ "fdatasync per commit", {} };
	gf.y2 = true;
	gf.dashed = true;
	for (int n : kThreadCounts) {
		gc.v.push_back(cont_metric("strict_group_commit", n, "ops_s"));
		gf.v.push_back(cont_metric("strict_group_commit", n,
					   "fdatasync_per_commit"));
	}
	g.series = { gc, gf };
	g.caption = "Each committer puts to its own run of one Strict "
		    "database; fewer fdatasyncs per commit is group commit "
		    "at work.";
	out.push_back(g);

	Chart rd;
	rd.id = "redis";
	rd.section = "5. Redis competitiveness";
	rd.title = "5. Redis competitiveness: time per operation";
	rd.xlabel = "operation";
	rd.ylabel = "time per operation (log scale)";
	rd.logy = true;
	Series rs{ "runstate (in process)", {} }, un{ "Redis unpipelined", {} },
		pi{ "Redis pipelined", {} };
	for (const PeerRow &r : kRedisRows) {
		rd.x.push_back(r.what);
		rs.v.push_back(bench(r.rs));
		un.v.push_back(peer(r.peer, "redis"));
		pi.v.push_back(
			peer(r.peer + std::string("_pipelined"), "redis"));
		rd.caption += std::string(rd.caption.empty() ? "" : "; ") +
			      r.what + ": " + r.rs + " vs " + r.peer;
	}
	rd.caption += " (pipelined: the _pipelined variant, 100 operations "
		      "per round trip).";
	rd.series = { rs, un, pi };
	out.push_back(rd);

	// LMDB: every row of report 6, then the ordered rows against LMDB.
	auto vs_lmdb = [this](Chart *c, const char *rsn, const char *lmn) {
		c->x.push_back(rsn);
		c->series[0].v.push_back(bench(rsn));
		c->series[1].v.push_back(peer(lmn, "lmdb"));
		c->caption += std::string(c->caption.empty() ? "" : "; ") +
			      rsn + " vs " + lmn;
	};
	Chart lm;
	lm.id = "lmdb";
	lm.section = "6. Embedded peer: LMDB";
	lm.title = "6. Embedded peer: LMDB: time per operation";
	lm.xlabel = "runstate benchmark";
	lm.ylabel = "time per operation (log scale)";
	lm.logy = true;
	lm.series = { Series{ "runstate", {} }, Series{ "LMDB", {} } };
	Chart od = lm;
	for (const PeerRow &r : kLmdbRows)
		vs_lmdb(&lm, r.rs, r.peer);
	lm.caption += ".";
	out.push_back(lm);

	od.id = "ordered";
	od.section = "Ordered keys";
	od.title = "Ordered keys: seeks and scans vs LMDB";
	for (const OrderedRow &r : kOrderedRows)
		if (r.peer)
			vs_lmdb(&od, r.rs, r.vs);
	od.caption += ".";
	out.push_back(od);
	return out;
}
