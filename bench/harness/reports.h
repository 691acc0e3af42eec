// SPDX-License-Identifier: MIT
//
// The reports of docs/benchmark-catalog.md, printed at the end of a run and
// written to <results-dir>/report.md. class Reports answers the questions
// every report asks (a benchmark's time, a ratio, a probe's metric, a
// contention figure) as a Val: a number, or why there is none. Each
// report is a member defined in its own report_<name>.cc; the gates and
// their thresholds are in gates.h.

#ifndef RS_BENCH_REPORTS_H
#define RS_BENCH_REPORTS_H

#include "env.h"
#include "results.h"

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

// Every name of the catalog's tier table (docs/benchmark-catalog.md),
// expanded; a "{1,2,4,8}" suffix lists the variants.
extern const std::vector<const char *> kCatalog;
// The benchmarks with a per-operation latency probe (lat.<name>.*).
extern const std::vector<const char *> kLatencyBenches;
// Workloads of the contention protocol (metrics contention.<w>.<N>.*).
extern const std::vector<const char *> kContentionWorkloads;

// Rows shared by a report's table and its chart (report.html).
// Report 1: an operation's benchmark at tiers A0, A1 and B.
struct FacadeOp {
	const char *op, *a0, *a1, *b;
};
extern const std::vector<FacadeOp> kFacadeOps; // report_facade_tax.cc
// Reports 5 and 6: runstate's benchmark beside a peer's (Redis: `peer`
// unpipelined, `peer`_pipelined). `gate` judges the LMDB row; `inverse`:
// it judges runstate's time over the peer's, the table's ratio inverted.
struct PeerRow {
	const char *what, *rs, *peer, *gate;
	bool inverse;
};
extern const std::vector<PeerRow> kRedisRows; // report_redis.cc
extern const std::vector<PeerRow> kLmdbRows;  // report_lmdb.cc
// The ordered tier: a benchmark against another (`peer`: LMDB's, the
// ratio the other's time over ours), with the gates that judge it.
struct OrderedRow {
	const char *rs, *vs;
	bool peer;
	std::vector<const char *> gates;
};
extern const std::vector<OrderedRow> kOrderedRows; // report_ordered.cc
// The contention table's workloads (contention/<w>/N) and thread counts
// (also strict_group_commit/N's committers).
extern const std::vector<const char *> kContentionTable;
extern const std::vector<int> kThreadCounts;

// A value for a report cell: measured, or why not.
struct Val {
	enum Kind {
		OK,
		NOT_RUN,
		NOT_IMPL,
		ERROR
	} kind = NOT_IMPL;
	double v = NAN;
	std::string why;

	static Val ok(double v)
	{
		Val x;
		x.kind = OK;
		x.v = v;
		return x;
	}
	static Val not_impl()
	{
		return Val{};
	}
	static Val not_run(const std::string &why = "not run")
	{
		Val x;
		x.kind = NOT_RUN;
		x.why = why;
		return x;
	}
	static Val error(const std::string &why)
	{
		Val x;
		x.kind = ERROR;
		x.why = why;
		return x;
	}
};

enum class Unit {
	NS,
	X,
	RATE,
	COUNT,
	BYTES,
	NS_SIGNED // a difference of durations: "+1.20 µs", "-0.90 µs"
};

std::string fmt_val(Unit u, double v);
// The number in unit u, or why there is none.
std::string val_text(const Val &v, Unit u);

// What one steady_clock read costs here, in ns (every latency sample
// includes one); recorded as the metric "clock.read_ns" by each run.
double measure_clock_read_ns();

// One chart of report.html: a named series of values per category (bars)
// or per x value (lines); html.cc writes its data file and gnuplot script
// and runs gnuplot. Values are Vals: a missing one is a gap, and the
// caption says why.
struct Series {
	std::string name;
	std::vector<Val> v; // one per Chart::x
	bool y2 = false;    // on the right-hand axis (Chart::y2label)
	bool dashed = false;
};

struct Chart {
	enum Style {
		BARS,
		LINES
	};
	std::string id;	     // file names: charts/<id>.{dat,gp,svg}
	std::string section; // the report heading it goes under (a prefix)
	std::string title, xlabel, ylabel, y2label;
	Style style = BARS;
	Unit unit = Unit::NS; // of the values on the left axis (NS, RATE, X)
	Unit unit2 = Unit::X; // on the right axis
	bool logy = false;
	std::vector<std::string> x; // category labels, or x values (LINES)
	std::vector<Series> series;
	double vline = NAN;	 // LINES: a dashed vertical line there ...
	std::string vline_label; // ... with this label
	std::string caption;
};

class Reports
{
      public:
	explicit Reports(const Collector &c) : c_(c)
	{
	}

	bool is_impl(const std::string &n) const;
	// Real time per operation of a benchmark.
	Val bench(const std::string &n) const;
	static Val ratio(const Val &a, const Val &b);
	// A probe's metric m, if the probe is registered and ran.
	Val metric(const std::string &m, const std::string &probe) const;
	// p99 / mean of a latency probe's samples ("lat.<b>.*"), recorded
	// by the probe named `probe` (default: "<b> latency").
	Val p99_over_mean(const std::string &b,
			  const std::string &probe_name = "") const;
	// The probe that records "lat.<b>.*".
	static std::string lat_probe(const std::string &b);
	// A contention-protocol metric ("contention.<w>.<n>.<k>").
	static Val cont_metric(const std::string &w, int n,
			       const std::string &k);
	// kvstore_put_strict / a bare append + fdatasync: the interleaved
	// probe's median ratio, else the two benchmarks' times.
	Val strict_vs_bare() const;
	// Allocations counted by the "hot-path allocations" probe.
	Val allocs(const std::string &what) const;
	// A counter of a benchmark's result (e.g. bytes_per_entry).
	Val counter(const std::string &n, const std::string &c) const;
	static std::string note(const std::string &k);
	// A peer's benchmark (peer: "redis" or "lmdb"): "not installed"
	// rather than "not yet implemented" when the peer is absent.
	Val peer(const std::string &n, const std::string &p) const;
	// Online cores of the machine that ran: the environment record's
	// (set_cores), else this machine's.
	static int cores();
	static void set_cores(int n);
	// contention/<w>/<n>: aggregate throughput over that of 1 thread.
	Val cont_scaling(const std::string &w, int n) const;
	// A scaling gate, judged only when n threads fit the cores.
	Val cont_judged(const std::string &w, int n) const;

	// The reports, in the order they are printed.
	std::string facade_tax() const; // 1, report_facade_tax.cc
	std::string red_flags() const;	// 2, report_red_flags.cc
	std::string gates() const;	// 3, gates.cc
	std::string m3() const;		// 4, report_m3.cc
	std::string contention() const; // report_contention.cc
	std::string locality() const;	// report_locality.cc
	std::string durability() const; // report_durability.cc
	std::string redis() const;	// 5, report_redis.cc
	std::string lmdb() const;	// 6, report_lmdb.cc
	std::string ordered() const;	// report_ordered.cc
	// With --baseline NAME (report_baseline.cc).
	std::string against(const Baseline &b, const Env &now) const;
	std::string coverage() const; // report_coverage.cc
	// Only in an RS_PERF_TRACE build, else "" (report_perf.cc).
	std::string perf_trace() const;

	// The charts of report.html, from the same figures as the tables
	// (report_charts.cc).
	std::vector<Chart> charts() const;

      private:
	const Collector &c_;
};

#endif
