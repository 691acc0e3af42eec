// SPDX-License-Identifier: MIT
//
// The ordered tier: seeks, scans, pages and the newest key under a prefix
// beside what they are judged against, and the per-put latency of a large
// run (growing and overwritten).

#include "gates.h"

#include "format.h"
#include "registry.h"

namespace
{

// "< 1.5×: PASS" for each judged bound of a gate, or why not judged.
std::string judge(const Reports &r, const std::string &name)
{
	const Gate &g = gate(name);
	Val v = g.value(r);
	std::string out;
	for (const Bound *b : { &g.seed, &g.goal }) {
		if (!b->judged())
			continue;
		std::string s = b->cmp_text();
		if (v.kind == Val::OK)
			s += b->pass(g.unit, v.v) ? ": PASS" : ": FAIL";
		out += (out.empty() ? "" : "; ") +
		       std::string(b == &g.seed ? "seed " : "") + s;
	}
	return out;
}

} // namespace

const std::vector<OrderedRow> kOrderedRows = {
	{ "kvstore_seek/1M",
	  "peer_lmdb_seek_1m",
	  true,
	  { "vs LMDB: kvstore_seek/1M vs MDB_SET_RANGE" } },
	{ "kvstore_scan/100",
	  "peer_lmdb_scan_100",
	  true,
	  { "vs LMDB: kvstore_scan/100 vs SET_RANGE + 99 NEXT" } },
	{ "kvstore_scan_reverse/100",
	  "peer_lmdb_scan_reverse_100",
	  true,
	  { "vs LMDB: kvstore_scan_reverse/100 vs SET_RANGE + 99 "
	    "PREV" } },
	{ "kvstore_list_deep_page",
	  "kvstore_list_first_page",
	  false,
	  { "kvstore_list_deep_page / kvstore_list_first_page (1M "
	    "keys)" } },
	{ "kvstore_latest_under_prefix/1k", nullptr, false, {} },
	{ "kvstore_latest_under_prefix/100k",
	  "kvstore_latest_under_prefix/1k",
	  false,
	  { "kvstore_latest_under_prefix/100k / /1k",
	    "kvstore_latest_under_prefix/100k" } },
	{ "kvstore_latest_under_prefix_oneshot/1k",
	  "kvstore_latest_under_prefix/1k",
	  false,
	  {} },
	{ "kvstore_latest_under_prefix_oneshot/100k",
	  "kvstore_latest_under_prefix/100k",
	  false,
	  {} },
};

std::string Reports::ordered() const
{
	std::string out = "## Ordered keys (sharded store, InMemory)\n\n";
	Table t;
	t.head = { "benchmark", "per operation", "against", "ratio", "goals" };
	for (const OrderedRow &r : kOrderedRows) {
		Val mine = bench(r.rs);
		Val other = !r.vs    ? Val::not_run("—")
			    : r.peer ? peer(r.vs, "lmdb")
				     : bench(r.vs);
		Val x = !r.vs	 ? Val::not_run("—")
			: r.peer ? ratio(other, mine)
				 : ratio(mine, other);
		std::string g;
		for (const char *n : r.gates)
			g += (g.empty() ? "" : "; ") + judge(*this, n);
		t.add({ r.rs, val_text(mine, Unit::NS),
			r.vs ? std::string(r.vs) + " " +
					val_text(other, Unit::NS)
			     : "—",
			val_text(x, Unit::X), g.empty() ? "observe" : g });
	}
	out += t.str() +
	       "\nRatios: against LMDB, LMDB's time over runstate's (above "
	       "1×: runstate is faster; both keep one snapshot and cursor "
	       "for the loop and copy every value out); otherwise this "
	       "row's time over the other's. The _oneshot rows open and "
	       "close a one-shot cursor around each rs_cursor_last, as a "
	       "caller fetching the newest entry once does.\n\n";

	Table p;
	p.head = { "per put",	  "samples", "mean",	 "p50",
		   "p99",	  "p99.9",   "max",	 "p99 / p50",
		   "p99.9 / p50", "goals",   "preempted" };
	for (const char *b :
	     { "kvstore_put_growing", "kvstore_put_overwrite/1M" }) {
		std::string pre = "lat." + std::string(b) + ".",
			    probe = lat_probe(b);
		Val n = metric(pre + "samples", probe);
		if (n.kind != Val::OK) {
			p.add({ b, val_text(n, Unit::COUNT) });
			continue;
		}
		auto ns = [&](const char *k) {
			return val_text(metric(pre + k, probe), Unit::NS);
		};
		std::string s = b;
		auto over = [&](const char *k) {
			return val_text(
				gate(s + " " + k + " / p50").value(*this),
				Unit::X);
		};
		p.add({ b, val_text(n, Unit::COUNT), ns("mean_ns"),
			ns("p50_ns"), ns("p99_ns"), ns("p999_ns"), ns("max_ns"),
			over("p99"), over("p99.9"),
			judge(*this, s + " p99 / p50") + "; " +
				judge(*this, s + " p99.9 / p50"),
			val_text(metric(pre + "nivcsw", probe), Unit::COUNT) });
	}
	{
		const std::string pre = "lat.floor.",
				  probe = "machine floor latency";
		Val n = metric(pre + "samples", probe);
		auto ns = [&](const char *k) {
			return val_text(metric(pre + k, probe), Unit::NS);
		};
		auto over = [&](const char *k) {
			return val_text(ratio(metric(pre + k, probe),
					      metric(pre + "p50_ns", probe)),
					Unit::X);
		};
		if (n.kind != Val::OK)
			p.add({ "machine floor", val_text(n, Unit::COUNT) });
		else
			p.add({ "machine floor", val_text(n, Unit::COUNT),
				ns("mean_ns"), ns("p50_ns"), ns("p99_ns"),
				ns("p999_ns"), ns("max_ns"), over("p99_ns"),
				over("p999_ns"), "—",
				val_text(metric(pre + "nivcsw", probe),
					 Unit::COUNT) });
	}
	out += p.str() +
	       "\nOne clock read per put (each sample includes one), "
	       "rs_kv_put one-shot, 16-byte keys and 100-byte values. "
	       "kvstore_put_growing: 1,000,000 distinct keys in shuffled "
	       "order into a run that starts empty (mean per put in the "
	       "timed loop: " +
	       val_text(bench("kvstore_put_growing"), Unit::NS) +
	       "); kvstore_put_overwrite/1M: 1,000,000 uniform random "
	       "overwrites of the 1M-key run (timed loop: " +
	       val_text(bench("kvstore_put_overwrite/1M"), Unit::NS) +
	       "). On a shared or virtual machine the tail also holds "
	       "scheduler noise: \"preempted\" counts the times another "
	       "task took the thread's CPU during the samples (getrusage's "
	       "involuntary context switches), each one a sample of the tail "
	       "the library did not cause. The max is reported, not "
	       "judged. \"machine floor\": as many operations of constant "
	       "work (8 dependent loads through a random cycle over 64 MiB: "
	       "cache misses, as a put into the 1M-key run has), timed the "
	       "same way right after the put probes: the tail this machine "
	       "adds to any operation of that length in this run, to read "
	       "the puts' ratios beside.\n";
	return out;
}
