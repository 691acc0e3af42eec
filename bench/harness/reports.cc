// SPDX-License-Identifier: MIT
//
// The catalog's name lists and the questions every report asks.

#include "reports.h"

#include "format.h"
#include "registry.h"

#include <unistd.h>

const std::vector<const char *> kCatalog = {
	"core_get_hot",
	"core_put_hot",
	"core_cas_hot",
	"engine_get_direct",
	"engine_put_direct",
	"engine_cas_direct",
	"engine_snapshot_acquire",
	"engine_txn_empty_commit",
	"engine_get_noalloc",
	"engine_put_noalloc",
	"kvstore_get_noalloc",
	"kvstore_get",
	"kvstore_put",
	"kvstore_delete",
	"eventlog_append",
	"eventlog_read",
	"eventlog_read_range/100",
	"eventlog_verify_chain/1000",
	"statecell_init",
	"statecell_read",
	"statecell_cas",
	"statecell_transition",
	"tracestore_record_minimal",
	"tracestore_record_3_tags",
	"tracestore_query_by_type",
	"tracestore_get_tree",
	"runindex_create",
	"runindex_transition",
	"runindex_lifecycle",
	"cross_txn_kv_event",
	"cross_txn_kv_event_state",
	"cross_txn_all_primitives",
	"cross_snapshot_read",
	"index_amp_trace_0_tags",
	"index_amp_trace_1_tag",
	"index_amp_trace_3_tags",
	"index_amp_trace_5_tags",
	"cache_hot_key",
	"cache_working_set_8",
	"cache_working_set_64",
	"cache_working_set_512",
	"cache_uniform_10k",
	"branch_sequential",
	"branch_strided",
	"branch_random",
	"engine_get_cold",
	"engine_get_warm",
	"mem_bytes_per_kv_entry",
	"mem_bytes_per_event",
	"mem_bytes_per_trace",
	"mem_bytes_per_run",
	"index_amp_ratio_trace",
	"index_amp_ratio_run",
	"kvstore_put_buffered",
	"kvstore_put_strict",
	"strict_group_commit/{1,2,4,8}",
	"recovery_replay/100k",
	"contention/statecell/{1,2,4,8}",
	"contention/eventlog/{1,2,4,8}",
	"contention/disjoint/{1,2,4,8}",
	"kvstore_seek/1M",
	"kvstore_scan/100",
	"kvstore_scan_reverse/100",
	"kvstore_list_deep_page",
	"kvstore_latest_under_prefix/{1k,100k}",
	"kvstore_put_growing",
	"kvstore_put_overwrite/1M",
};

const std::vector<const char *> kLatencyBenches = {
	"kvstore_get",		"kvstore_put",
	"eventlog_append",	"eventlog_read",
	"statecell_read",	"statecell_cas",
	"statecell_transition", "tracestore_record_3_tags",
	"runindex_transition",	"cross_txn_all_primitives",
	"kvstore_put_buffered", "kvstore_put_strict",
	"kvstore_put_growing",	"kvstore_put_overwrite/1M",
};

const std::vector<const char *> kContentionWorkloads = {
	"disjoint",
	"statecell",
	"eventlog",
	"strict_group_commit",
};

std::string fmt_val(Unit u, double v)
{
	switch (u) {
	case Unit::NS:
		return fmt_ns(v);
	case Unit::X:
		return fmt_x(v);
	case Unit::RATE:
		return fmt_rate(v);
	case Unit::COUNT:
		return fmt("%.0f", v);
	case Unit::BYTES:
		return fmt("%.1f B", v);
	case Unit::NS_SIGNED:
		return (v < 0 ? "-" : "+") + fmt_ns(std::fabs(v));
	}
	return "?";
}

std::string val_text(const Val &v, Unit u)
{
	switch (v.kind) {
	case Val::OK:
		return fmt_val(u, v.v);
	case Val::NOT_IMPL:
		return "not yet implemented";
	case Val::NOT_RUN:
		return v.why;
	case Val::ERROR:
		return "error: " + v.why;
	}
	return "?";
}

bool Reports::is_impl(const std::string &n) const
{
	return implemented().count(n) != 0;
}

Val Reports::bench(const std::string &n) const
{
	if (!is_impl(n))
		return Val::not_impl();
	auto it = c_.results.find(n);
	if (it == c_.results.end())
		return Val::not_run("not run (filtered out)");
	if (it->second.error)
		return Val::error(it->second.message);
	return Val::ok(it->second.real_ns);
}

Val Reports::ratio(const Val &a, const Val &b)
{
	if (a.kind != Val::OK)
		return a;
	if (b.kind != Val::OK)
		return b;
	return Val::ok(a.v / b.v);
}

Val Reports::metric(const std::string &m, const std::string &probe) const
{
	bool registered = false;
	for (const auto &p : probes())
		registered |= p.name == probe;
	if (!registered)
		return Val::not_impl();
	auto it = metrics().find(m);
	if (it == metrics().end())
		return Val::not_run("not run");
	return Val::ok(it->second);
}

Val Reports::p99_over_mean(const std::string &b,
			   const std::string &probe_name) const
{
	std::string probe = probe_name.empty() ? b + " latency" : probe_name;
	Val p99 = metric("lat." + b + ".p99_ns", probe);
	Val mean = metric("lat." + b + ".mean_ns", probe);
	return ratio(p99, mean);
}

std::string Reports::lat_probe(const std::string &b)
{
	return b == "kvstore_put_strict"
		       ? "kvstore_put_strict vs bare fdatasync"
		       : b + " latency";
}

Val Reports::cont_metric(const std::string &w, int n, const std::string &k)
{
	auto &m = metrics();
	auto it = m.find("contention." + w + "." + std::to_string(n) + "." + k);
	if (it == m.end())
		return Val::not_run("not run");
	return Val::ok(it->second);
}

Val Reports::strict_vs_bare() const
{
	Val r = metric("dur.strict_vs_bare.ratio",
		       "kvstore_put_strict vs bare fdatasync");
	if (r.kind == Val::OK)
		return r;
	Val s = bench("kvstore_put_strict"), b = bench("peer_fdatasync_append");
	return s.kind == Val::OK ? ratio(s, b) : s;
}

Val Reports::allocs(const std::string &what) const
{
	return metric("alloc." + what + ".total", "hot-path allocations");
}

Val Reports::counter(const std::string &n, const std::string &c) const
{
	Val b = bench(n);
	if (b.kind != Val::OK)
		return b;
	const auto &cs = c_.results.at(n).counters;
	auto it = cs.find(c);
	if (it == cs.end())
		return Val::error("no counter " + c);
	return Val::ok(it->second);
}

std::string Reports::note(const std::string &k)
{
	auto it = notes().find(k);
	return it == notes().end() ? std::string() : it->second;
}

Val Reports::peer(const std::string &n, const std::string &p) const
{
	if (!note(p + ".status").empty() && !is_impl(n))
		return Val::not_run(p == "redis" ? "Redis not available"
						 : "LMDB not installed");
	return bench(n);
}

static int g_cores = 0;

int Reports::cores()
{
	if (g_cores > 0)
		return g_cores;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? static_cast<int>(n) : 1;
}

void Reports::set_cores(int n)
{
	g_cores = n;
}

Val Reports::cont_scaling(const std::string &w, int n) const
{
	// strict_group_commit runs the protocol under its own name.
	std::string b =
		(w == "strict_group_commit" ? w : "contention/" + w) + "/";
	Val r = bench(b + std::to_string(n)), one = bench(b + "1");
	if (r.kind != Val::OK)
		return r;
	if (one.kind != Val::OK)
		return Val::not_run("1-thread run " + val_text(one, Unit::X));
	std::string m = "contention." + w + ".";
	auto &ms = metrics();
	auto a = ms.find(m + std::to_string(n) + ".ops_s");
	auto z = ms.find(m + "1.ops_s");
	if (a == ms.end() || z == ms.end() || !(z->second > 0))
		return Val::error("no throughput recorded");
	return Val::ok(a->second / z->second);
}

Val Reports::cont_judged(const std::string &w, int n) const
{
	Val v = cont_scaling(w, n);
	if (v.kind == Val::OK && n > cores())
		return Val::not_run(fmt_x(v.v) +
				    " (oversubscribed: " + std::to_string(n) +
				    " threads on " + std::to_string(cores()) +
				    " cores; not judged)");
	return v;
}
