// SPDX-License-Identifier: MIT
//
// Report 3, gates and goals: the table of thresholds and the report that
// judges every row of it.

#include "gates.h"

#include "format.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

bool passes(Cmp c, double v, double thr)
{
	switch (c) {
	case Cmp::LT:
		return v < thr;
	case Cmp::LE:
		return v <= thr;
	case Cmp::GE:
		return v >= thr;
	case Cmp::GT:
		return v > thr;
	case Cmp::NONE:
		return true;
	}
	return true;
}

namespace
{

const char *sign_of(Cmp c)
{
	switch (c) {
	case Cmp::LT:
		return "<";
	case Cmp::LE:
		return "≤";
	case Cmp::GE:
		return "≥";
	case Cmp::GT:
		return ">";
	case Cmp::NONE:
		break;
	}
	return "";
}

// The suffixes a threshold may carry, what one of them is worth in the
// base unit (divided, so that "25%" is exactly 0.25) and the units it fits.
struct Suffix {
	const char *text;
	double per; // base units = number * per / div
	double div;
	Unit units[2];
};

const Suffix kSuffixes[] = {
	{ "ns", 1, 1, { Unit::NS, Unit::NS_SIGNED } },
	{ "µs", 1e3, 1, { Unit::NS, Unit::NS_SIGNED } },
	{ "ms", 1e6, 1, { Unit::NS, Unit::NS_SIGNED } },
	{ "s", 1e9, 1, { Unit::NS, Unit::NS_SIGNED } },
	{ "×", 1, 1, { Unit::X, Unit::X } },
	{ "%", 1, 100, { Unit::X, Unit::X } },
	{ "ops/s", 1, 1, { Unit::RATE, Unit::RATE } },
	{ "K ops/s", 1e3, 1, { Unit::RATE, Unit::RATE } },
	{ "M ops/s", 1e6, 1, { Unit::RATE, Unit::RATE } },
	{ "B", 1, 1, { Unit::BYTES, Unit::BYTES } },
	{ "", 1, 1, { Unit::COUNT, Unit::COUNT } },
};

double parse_threshold(const char *t, Unit u)
{
	if (!t)
		return NAN;
	char *end;
	double v = std::strtod(t, &end);
	if (end == t)
		return NAN;
	while (*end == ' ')
		end++;
	for (const Suffix &s : kSuffixes)
		if (std::strcmp(end, s.text) == 0 &&
		    (s.units[0] == u || s.units[1] == u))
			return v * s.per / s.div;
	return NAN;
}

Bound make(Cmp c, const char *thr, const char *after)
{
	Bound b;
	b.cmp = c;
	b.thr = thr;
	b.after = after;
	return b;
}

// A benchmark's own time.
std::function<Val(const Reports &)> time_of(const char *n)
{
	std::string s = n;
	return [s](const Reports &r) { return r.bench(s); };
}

// Benchmark a's time over benchmark b's.
std::function<Val(const Reports &)> ratio_of(const char *a, const char *b)
{
	std::string x = a, y = b;
	return [x, y](const Reports &r) {
		return Reports::ratio(r.bench(x), r.bench(y));
	};
}

// A counter of a benchmark.
std::function<Val(const Reports &)> counter_of(const char *n, const char *c)
{
	std::string x = n, y = c;
	return [x, y](const Reports &r) { return r.counter(x, y); };
}

// A peer's time over runstate's (a speed-up of runstate).
std::function<Val(const Reports &)> peer_over(const char *peer_bench,
					      const char *peer, const char *rs)
{
	std::string p = peer_bench, q = peer, s = rs;
	return [p, q, s](const Reports &r) {
		return Reports::ratio(r.peer(p, q), r.bench(s));
	};
}

// A latency probe's percentile over its median: "p99", "p999" (p99.9) or
// "max" of the samples "lat.<b>.*".
std::function<Val(const Reports &)> pct_over_p50(const char *b, const char *p)
{
	std::string x = b, y = p;
	return [x, y](const Reports &r) {
		std::string probe = Reports::lat_probe(x);
		return Reports::ratio(
			r.metric("lat." + x + "." + y + "_ns", probe),
			r.metric("lat." + x + ".p50_ns", probe));
	};
}

std::function<Val(const Reports &)> scaling_of(const char *w, int n)
{
	std::string x = w;
	return [x, n](const Reports &r) { return r.cont_judged(x, n); };
}

const Bound kObserve = note("observe");
const Bound kNone = note("—");

std::vector<Gate> build_table()
{
	// The seed targets of the A1/A0 and B/A1 ratios and of p99 / mean
	// carry their red flag (report 2).
	const Bound a1a0_seed = lt("10×").red_flag("20×"),
		    ba1_seed = lt("5×").red_flag("8×");
	const Bound share_seed = ge("25%", " of 1 thread"),
		    share_seed_as4 = ge("25%", " of 1 thread (as /4)");
	const Bound eventlog_goal =
		ge("80%", ", zero conflicts seen by callers");
	const Bound no_alloc = le("0").bare(),
		    no_alloc_goal =
			    le("0", ", proven by a counting test").bare();
	const Bound lmdb_get_goal =
		ge("2×", " faster than get in a reused read txn");
	return {
		{ "core_get_hot", time_of("core_get_hot"), Unit::NS,
		  lt("200 ns"), lt("20 ns") },
		{ "core_put_hot", time_of("core_put_hot"), Unit::NS,
		  lt("300 ns"), lt("40 ns") },
		{ "engine_snapshot_acquire", time_of("engine_snapshot_acquire"),
		  Unit::NS, lt("500 ns").red_flag("2 µs"), lt("10 ns") },
		{ "engine_txn_empty_commit", time_of("engine_txn_empty_commit"),
		  Unit::NS, lt("2 µs"), lt("30 ns") },
		{ "engine_get_direct", time_of("engine_get_direct"), Unit::NS,
		  lt("3 µs"), lt("50 ns") },
		{ "engine_put_direct", time_of("engine_put_direct"), Unit::NS,
		  lt("3 µs"), lt("200 ns") },
		{ "engine_cas_direct", time_of("engine_cas_direct"), Unit::NS,
		  lt("3 µs"), lt("250 ns") },
		{ "kvstore_get", time_of("kvstore_get"), Unit::NS, lt("5 µs"),
		  lt("60 ns") },
		{ "kvstore_put", time_of("kvstore_put"), Unit::NS, lt("8 µs"),
		  lt("250 ns") },
		{ "kvstore_delete", time_of("kvstore_delete"), Unit::NS,
		  lt("8 µs"), lt("250 ns") },
		{ "eventlog_append", time_of("eventlog_append"), Unit::NS,
		  lt("10 µs"), lt("700 ns") },
		{ "eventlog_read", time_of("eventlog_read"), Unit::NS,
		  lt("5 µs"), lt("80 ns") },
		{ "eventlog_read_range/100", time_of("eventlog_read_range/100"),
		  Unit::NS, lt("100 µs"), lt("5 µs") },
		{ "eventlog_verify_chain/1000",
		  time_of("eventlog_verify_chain/1000"), Unit::NS, lt("2 ms"),
		  lt("400 µs") },
		{ "statecell_init", time_of("statecell_init"), Unit::NS,
		  kObserve, kObserve },
		{ "statecell_read", time_of("statecell_read"), Unit::NS,
		  lt("5 µs"), lt("60 ns") },
		{ "statecell_cas", time_of("statecell_cas"), Unit::NS,
		  lt("10 µs"), lt("300 ns") },
		{ "statecell_transition", time_of("statecell_transition"),
		  Unit::NS, lt("15 µs"), lt("400 ns") },
		{ "cross_txn_kv_event", time_of("cross_txn_kv_event"), Unit::NS,
		  lt("20 µs"), lt("1 µs") },
		{ "cross_txn_kv_event_state",
		  time_of("cross_txn_kv_event_state"), Unit::NS, kObserve,
		  kObserve },
		{ "cross_txn_all_primitives",
		  time_of("cross_txn_all_primitives"), Unit::NS, lt("40 µs"),
		  lt("2.5 µs") },
		{ "cross_snapshot_read", time_of("cross_snapshot_read"),
		  Unit::NS, kObserve, kObserve },
		{ "tracestore_record_minimal",
		  time_of("tracestore_record_minimal"), Unit::NS, lt("20 µs"),
		  lt("800 ns") },
		{ "tracestore_record_3_tags",
		  time_of("tracestore_record_3_tags"), Unit::NS, lt("40 µs"),
		  lt("1.5 µs") },
		{ "tracestore_query_by_type (100 results)",
		  time_of("tracestore_query_by_type"), Unit::NS, lt("200 µs"),
		  lt("10 µs") },
		{ "tracestore_get_tree (13 nodes)",
		  time_of("tracestore_get_tree"), Unit::NS, lt("150 µs"),
		  lt("3 µs") },
		{ "runindex_create", time_of("runindex_create"), Unit::NS,
		  lt("15 µs"), lt("1.5 µs") },
		{ "runindex_transition", time_of("runindex_transition"),
		  Unit::NS, lt("20 µs"), lt("1 µs") },
		{ "runindex_lifecycle (create, 2 transitions, delete)",
		  time_of("runindex_lifecycle"), Unit::NS, kObserve, kObserve },
		{ "index_amp_trace_0_tags", time_of("index_amp_trace_0_tags"),
		  Unit::NS, kObserve, kObserve },
		{ "index_amp_trace_1_tag", time_of("index_amp_trace_1_tag"),
		  Unit::NS, kObserve, kObserve },
		{ "index_amp_trace_3_tags", time_of("index_amp_trace_3_tags"),
		  Unit::NS, kObserve, kObserve },
		{ "index_amp_trace_5_tags", time_of("index_amp_trace_5_tags"),
		  Unit::NS, kObserve, kObserve },
		{ "kvstore_put_buffered", time_of("kvstore_put_buffered"),
		  Unit::NS, lt("30 µs"), lt("600 ns") },
		{ "kvstore_put_strict", time_of("kvstore_put_strict"), Unit::NS,
		  le("2 ms").lead("~2 ms (one fsync): "),
		  note("one fdatasync + < 5 µs (next row)") },
		{ "kvstore_put_strict − one bare fdatasync (interleaved "
		  "medians)",
		  [](const Reports &r) {
			  return r.metric(
				  "dur.strict_vs_bare.extra_ns",
				  "kvstore_put_strict vs bare fdatasync");
		  },
		  Unit::NS_SIGNED, kNone, lt("5 µs") },
		{ "strict_group_commit/2 (commits/s vs 1 committer)",
		  [](const Reports &r) {
			  return r.cont_scaling("strict_group_commit", 2);
		  },
		  Unit::X, kNone, kObserve },
		{ "strict_group_commit/4 (commits/s vs 1 committer)",
		  [](const Reports &r) {
			  return r.cont_scaling("strict_group_commit", 4);
		  },
		  Unit::X, kNone, kObserve },
		{ "strict_group_commit/8 (commits/s vs 1 committer)",
		  [](const Reports &r) {
			  return r.cont_scaling("strict_group_commit", 8);
		  },
		  Unit::X, kNone, ge("5×", " the commits/s of one committer") },
		{ "recovery_replay/100k (open, log only)",
		  time_of("recovery_replay/100k"), Unit::NS, kObserve,
		  kObserve },
		{ "A1/A0 (get)", ratio_of("engine_get_direct", "core_get_hot"),
		  Unit::X, a1a0_seed, lt("4×") },
		{ "A1/A0 (put)", ratio_of("engine_put_direct", "core_put_hot"),
		  Unit::X, a1a0_seed, lt("4×") },
		{ "B/A1 (get)", ratio_of("kvstore_get", "engine_get_direct"),
		  Unit::X, ba1_seed, lt("1.5×") },
		{ "B/A1 (put)", ratio_of("kvstore_put", "engine_put_direct"),
		  Unit::X, ba1_seed, lt("1.5×") },
		{ "throughput, 1 thread put (1 / kvstore_put)",
		  [](const Reports &r) {
			  Val p = r.bench("kvstore_put");
			  return p.kind == Val::OK ? Val::ok(1e9 / p.v) : p;
		  },
		  Unit::RATE, ge("250K ops/s").bare(), ge("4M ops/s") },
		{ "contention/disjoint/2 (scaling vs 1 thread)",
		  scaling_of("disjoint", 2), Unit::X, ge("1.8×"), ge("1.95×") },
		{ "contention/disjoint/4 (scaling vs 1 thread)",
		  scaling_of("disjoint", 4), Unit::X, ge("3.2×"), ge("3.8×") },
		{ "contention/disjoint/8 (scaling vs 1 thread)",
		  scaling_of("disjoint", 8), Unit::X, ge("6.0×"),
		  ge("7.5×", " (on ≥ 8 cores)") },
		{ "contention/eventlog/2 (throughput vs 1 thread)",
		  scaling_of("eventlog", 2), Unit::X, share_seed_as4,
		  eventlog_goal },
		{ "contention/eventlog/4 (throughput vs 1 thread)",
		  scaling_of("eventlog", 4), Unit::X, share_seed,
		  eventlog_goal },
		{ "contention/eventlog/8 (throughput vs 1 thread)",
		  scaling_of("eventlog", 8), Unit::X, share_seed_as4,
		  eventlog_goal },
		{ "contention/statecell/2 (throughput vs 1 thread)",
		  scaling_of("statecell", 2), Unit::X, share_seed_as4,
		  ge("50%") },
		{ "contention/statecell/4 (throughput vs 1 thread)",
		  scaling_of("statecell", 4), Unit::X, share_seed, ge("50%") },
		{ "contention/statecell/8 (throughput vs 1 thread)",
		  scaling_of("statecell", 8), Unit::X, share_seed_as4,
		  ge("50%") },
		{ "p99 / mean (kvstore_get)",
		  [](const Reports &r) {
			  return r.p99_over_mean("kvstore_get");
		  },
		  Unit::X, kP99Seed, kP99Goal },
		{ "p99 / mean (kvstore_put)",
		  [](const Reports &r) {
			  return r.p99_over_mean("kvstore_put");
		  },
		  Unit::X, kP99Seed, kP99Goal },
		{ "hot-path allocations (kvstore_get)",
		  [](const Reports &r) { return r.allocs("kvstore_get"); },
		  Unit::COUNT, no_alloc, no_alloc_goal },
		{ "hot-path allocations (read-only txn)",
		  [](const Reports &r) { return r.allocs("ro_txn"); },
		  Unit::COUNT, no_alloc, no_alloc_goal },
		{ "mem_bytes_per_kv_entry (16 B key, 100 B value)",
		  counter_of("mem_bytes_per_kv_entry", "bytes_per_entry"),
		  Unit::BYTES, kObserve, le("200 B") },
		{ "mem_bytes_per_run (a run with one such entry)",
		  counter_of("mem_bytes_per_run", "bytes_per_run"), Unit::BYTES,
		  kObserve, kObserve },
		{ "mem_bytes_per_event (100 B payload)",
		  counter_of("mem_bytes_per_event", "bytes_per_event"),
		  Unit::BYTES, kObserve, kObserve },
		{ "mem_bytes_per_trace (100 B payload, no tags)",
		  counter_of("mem_bytes_per_trace", "bytes_per_trace"),
		  Unit::BYTES, kObserve, kObserve },
		{ "index_amp_ratio_trace (3 tags + parent / bare record)",
		  counter_of("index_amp_ratio_trace", "ratio"), Unit::X,
		  kObserve, kObserve },
		{ "index_amp_ratio_run (name, 3 tags, parent / bare record)",
		  counter_of("index_amp_ratio_run", "ratio"), Unit::X, kObserve,
		  kObserve },
		{ "vs M3 baseline, kvstore_put at 100k keys",
		  ratio_of("kvstore_put/100k@unified", "kvstore_put/100k"),
		  Unit::X, kNone, ge("1000×") },
		{ "vs LMDB: kvstore_get, hot key (cache_hot_key)",
		  peer_over("peer_lmdb_get_hot", "lmdb", "cache_hot_key"),
		  Unit::X, kNone, lmdb_get_goal },
		{ "vs LMDB: kvstore_get, 10k keys (cache_uniform_10k)",
		  peer_over("peer_lmdb_get_10k", "lmdb", "cache_uniform_10k"),
		  Unit::X, kNone, lmdb_get_goal },
		{ "vs LMDB: kvstore_put vs put+commit (WRITEMAP, NOSYNC)",
		  peer_over("peer_lmdb_put_nosync", "lmdb", "kvstore_put"),
		  Unit::X, kNone, ge("2×", " faster") },
		{ "vs LMDB: kvstore_put_strict / durable put+commit (time)",
		  [](const Reports &r) {
			  return Reports::ratio(
				  r.bench("kvstore_put_strict"),
				  r.peer("peer_lmdb_put_durable", "lmdb"));
		  },
		  Unit::X, kNone, le("1.0×") },
		{ "vs Redis (unix socket): GET, unpipelined",
		  peer_over("peer_redis_get", "redis", "kvstore_get"), Unit::X,
		  kNone, ge("100×", " faster") },
		{ "vs Redis (unix socket): GET, pipelined",
		  peer_over("peer_redis_get_pipelined", "redis", "kvstore_get"),
		  Unit::X, kNone, ge("5×", " faster") },
		{ "vs Redis (unix socket): SET, unpipelined",
		  peer_over("peer_redis_set", "redis", "kvstore_put"), Unit::X,
		  kNone, ge("100×", " faster") },
		{ "vs Redis (unix socket): SET, pipelined",
		  peer_over("peer_redis_set_pipelined", "redis", "kvstore_put"),
		  Unit::X, kNone, ge("5×", " faster") },
		{ "kvstore_put_strict vs bare append + fdatasync, same run",
		  [](const Reports &r) { return r.strict_vs_bare(); }, Unit::X,
		  kNone, le("1.1×") },
		// The ordered tier (report_ordered.cc prints them together).
		{ "kvstore_seek/1M", time_of("kvstore_seek/1M"), Unit::NS,
		  kObserve, kObserve },
		{ "vs LMDB: kvstore_seek/1M vs MDB_SET_RANGE",
		  peer_over("peer_lmdb_seek_1m", "lmdb", "kvstore_seek/1M"),
		  Unit::X, kNone, ge("2×", " faster") },
		{ "kvstore_scan/100 (seek + 100 entries)",
		  time_of("kvstore_scan/100"), Unit::NS, kObserve, kObserve },
		{ "vs LMDB: kvstore_scan/100 vs SET_RANGE + 99 NEXT",
		  peer_over("peer_lmdb_scan_100", "lmdb", "kvstore_scan/100"),
		  Unit::X, ge("1×", " (as fast)"), ge("2×", " faster") },
		{ "kvstore_scan_reverse/100 (seek + 100 entries)",
		  time_of("kvstore_scan_reverse/100"), Unit::NS, kObserve,
		  kObserve },
		{ "vs LMDB: kvstore_scan_reverse/100 vs SET_RANGE + 99 PREV",
		  peer_over("peer_lmdb_scan_reverse_100", "lmdb",
			    "kvstore_scan_reverse/100"),
		  Unit::X, ge("1×", " (as fast)"), ge("2×", " faster") },
		{ "kvstore_list_deep_page / kvstore_list_first_page (1M keys)",
		  ratio_of("kvstore_list_deep_page", "kvstore_list_first_page"),
		  Unit::X, kNone, lt("1.5×") },
		{ "kvstore_latest_under_prefix/1k",
		  time_of("kvstore_latest_under_prefix/1k"), Unit::NS, kObserve,
		  kObserve },
		{ "kvstore_latest_under_prefix/100k",
		  time_of("kvstore_latest_under_prefix/100k"), Unit::NS, kNone,
		  lt("1 µs") },
		{ "kvstore_latest_under_prefix/100k / /1k",
		  ratio_of("kvstore_latest_under_prefix/100k",
			   "kvstore_latest_under_prefix/1k"),
		  Unit::X, kNone, le("1.5×") },
		{ "kvstore_put_growing p99 / p50",
		  pct_over_p50("kvstore_put_growing", "p99"), Unit::X, kNone,
		  lt("5×") },
		{ "kvstore_put_growing p99.9 / p50",
		  pct_over_p50("kvstore_put_growing", "p999"), Unit::X, kNone,
		  lt("10×") },
		{ "kvstore_put_overwrite/1M p99 / p50",
		  pct_over_p50("kvstore_put_overwrite/1M", "p99"), Unit::X,
		  kNone, lt("5×") },
		{ "kvstore_put_overwrite/1M p99.9 / p50",
		  pct_over_p50("kvstore_put_overwrite/1M", "p999"), Unit::X,
		  kNone, lt("10×") },
	};
}

} // namespace

const Bound kP99Seed = lt("10×").red_flag("20×");
const Bound kP99Goal = lt("5×");

Bound Comparison::operator()(const char *thr, const char *after) const
{
	return make(cmp, thr, after);
}

Bound note(const char *text)
{
	return make(Cmp::NONE, nullptr, text);
}

std::string Bound::cmp_text() const
{
	if (!judged())
		return "";
	return (sign ? std::string(sign_of(cmp)) + " " : std::string()) + thr;
}

std::string Bound::text() const
{
	if (!judged())
		return after;
	std::string t = before + cmp_text();
	if (red)
		t += std::string(" (red flag ") + red + ")";
	return t + after;
}

double Bound::value(Unit u) const
{
	return parse_threshold(thr, u);
}

double Bound::red_value(Unit u) const
{
	return parse_threshold(red, u);
}

bool Bound::pass(Unit u, double v) const
{
	return passes(cmp, v, value(u));
}

const std::vector<Gate> &gate_table()
{
	static const std::vector<Gate> t = build_table();
	return t;
}

const Gate &gate(const std::string &name)
{
	static const Gate missing{ "?", nullptr, Unit::X, note("?"),
				   note("?") };
	for (const Gate &g : gate_table())
		if (g.name == name)
			return g;
	return missing;
}

std::string Reports::gates() const
{
	std::vector<Gate> g = gate_table();
	// p99 / mean of every other latency probe, after kvstore_get/_put's.
	auto at = std::find_if(g.begin(), g.end(), [](const Gate &x) {
		return x.name == "p99 / mean (kvstore_put)";
	});
	size_t pos = at == g.end() ? g.size() : size_t(at - g.begin()) + 1;
	for (const char *b : kLatencyBenches) {
		std::string n = b;
		if (n == "kvstore_get" || n == "kvstore_put" || !is_impl(n))
			continue;
		g.insert(g.begin() + static_cast<std::ptrdiff_t>(pos++),
			 Gate{ "p99 / mean (" + n + ")",
			       [n](const Reports &r) {
				       return r.p99_over_mean(
					       n, Reports::lat_probe(n));
			       },
			       Unit::X, kP99Seed, kP99Goal });
	}
	Table t;
	t.head = { "benchmark", "measured", "seed target",
		   "seed",	"our goal", "goal" };
	int seed_fail = 0, goal_fail = 0, pass = 0, missing = 0;
	for (const Gate &x : g) {
		Val v = x.value(*this);
		std::string s = "", gl = "";
		for (const Bound *b : { &x.seed, &x.goal })
			if (b->judged() && std::isnan(b->value(x.unit)))
				v = Val::error(std::string("threshold '") +
					       b->thr + "' does not parse");
		if (v.kind == Val::OK) {
			if (x.seed.judged()) {
				bool ok = x.seed.pass(x.unit, v.v);
				s = ok ? "PASS" : "FAIL";
				seed_fail += !ok;
				pass += ok;
			}
			if (x.goal.judged()) {
				bool ok = x.goal.pass(x.unit, v.v);
				gl = ok ? "PASS" : "FAIL";
				goal_fail += !ok;
			}
		} else {
			missing += v.kind == Val::NOT_IMPL;
		}
		t.add({ x.name, val_text(v, x.unit), x.seed.text(), s,
			x.goal.text(), gl });
	}
	std::string out = "## 3. Gates and goals (sharded store, steady "
			  "state, InMemory)\n\n" +
			  t.str() + "\n";
	out += "Seed targets: " + std::to_string(pass) + " PASS, " +
	       std::to_string(seed_fail) + " FAIL" +
	       (seed_fail ? " (a seed target missed is a bug)" : "") +
	       ". Goals: " + std::to_string(goal_fail) + " FAIL. " +
	       std::to_string(missing) + " rows not yet implemented.\n";
	return out;
}
