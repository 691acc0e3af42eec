// SPDX-License-Identifier: MIT
//
// Locality, access pattern, first touch and memory: the cache_*, branch_*,
// engine_get_cold/_warm, mem_* and index_amp_* benchmarks.

#include "gates.h"

#include "format.h"
#include "shim.h"

#include <tuple>

std::string Reports::locality() const
{
	static const char *const names[] = {
		"cache_hot_key",	"cache_working_set_8",
		"cache_working_set_64", "cache_working_set_512",
		"cache_uniform_10k",	"branch_sequential",
		"branch_strided",	"branch_random",
	};
	const std::string suf = RS_BENCH_UNIFIED_SUFFIX;
	std::string out =
		"## Locality, access pattern, first touch, memory\n\n";
	Table t;
	t.head = { "benchmark", "sharded", "vs cache_hot_key", "unified (M3)" };
	Val hot = bench("cache_hot_key");
	for (const char *n : names) {
		Val v = bench(n);
		t.add({ n, val_text(v, Unit::NS),
			val_text(ratio(v, hot), Unit::X),
			val_text(bench(n + suf), Unit::NS) });
	}
	out += t.str() + "\n";
	Val cold = bench("engine_get_cold"), warm = bench("engine_get_warm");
	out += "First touch (engine_get_direct path, 10,000 keys): "
	       "engine_get_cold " +
	       val_text(cold, Unit::NS);
	Val cf = counter("engine_get_cold", "minflt_per_op");
	if (cf.kind == Val::OK)
		out += fmt(" (%.4f minor faults/op)", cf.v);
	out += ", engine_get_warm " + val_text(warm, Unit::NS);
	Val wf = counter("engine_get_warm", "minflt_per_op");
	if (wf.kind == Val::OK)
		out += fmt(" (%.4f minor faults/op)", wf.v);
	out += ", cold/warm " + val_text(ratio(cold, warm), Unit::X) +
	       ". Cold = the first read of each key after a fresh fill and "
	       "a cache sweep; the fill itself has touched every page, so "
	       "what remains is cache and TLB misses (reported for "
	       "observability; no gate).\n";
	Val kv = counter("mem_bytes_per_kv_entry", "bytes_per_entry");
	out += "Memory: mem_bytes_per_kv_entry " + val_text(kv, Unit::BYTES);
	if (kv.kind == Val::OK) {
		const auto &cs =
			c_.results.at("mem_bytes_per_kv_entry").counters;
		if (cs.count("blocks_per_item"))
			out += fmt(" (%.2f allocations/entry",
				   cs.at("blocks_per_item"));
		if (cs.count("jemalloc_bytes_per_item"))
			out += fmt("; jemalloc stats.allocated: %.1f B",
				   cs.at("jemalloc_bytes_per_item"));
		const Gate &g =
			gate("mem_bytes_per_kv_entry (16 B key, 100 B value)");
		out += ") → goal " + g.goal.cmp_text() +
		       (g.goal.pass(g.unit, kv.v) ? " PASS" : " FAIL");
	}
	Val run = counter("mem_bytes_per_run", "bytes_per_run");
	out += "; mem_bytes_per_run " + val_text(run, Unit::BYTES) +
	       ". Live bytes through the allocator hooks "
	       "(malloc_usable_size), after reclamation, per item; table "
	       "slots included.\n";
	auto keys = [this](const char *b, const char *c) {
		Val v = counter(b, c);
		return v.kind == Val::OK ? fmt(" (%.0f keys written)", v.v)
					 : std::string();
	};
	out += "Primitives, same method: mem_bytes_per_event " +
	       val_text(counter("mem_bytes_per_event", "bytes_per_event"),
			Unit::BYTES) +
	       keys("mem_bytes_per_event", "keys_per_item") +
	       ", mem_bytes_per_trace " +
	       val_text(counter("mem_bytes_per_trace", "bytes_per_trace"),
			Unit::BYTES) +
	       keys("mem_bytes_per_trace", "keys_per_item") +
	       " (100-byte payloads).\n";
	for (const auto &r :
	     { std::make_tuple("index_amp_ratio_trace", "bytes_per_trace",
			       "a trace with 3 tags and a parent"),
	       std::make_tuple("index_amp_ratio_run", "bytes_per_run",
			       "a run registration with a name, 3 tags and "
			       "a parent") }) {
		const char *b = std::get<0>(r);
		Val ratio_v = counter(b, "ratio");
		out += std::string(b) + ": " + std::get<2>(r) + ", " +
		       val_text(counter(b, std::get<1>(r)), Unit::BYTES) +
		       keys(b, "keys_per_item") + " / its bare record " +
		       val_text(counter(b, "bytes_bare_record"), Unit::BYTES);
		Val kl = counter(b, "bare_key_len"),
		    vl = counter(b, "bare_value_len");
		if (kl.kind == Val::OK && vl.kind == Val::OK)
			out += fmt(" (a %.0f-byte key", kl.v) +
			       fmt(", %.0f-byte value)", vl.v);
		out += " = " + val_text(ratio_v, Unit::X) + ".\n";
	}
	Table it;
	it.head = { "index amplification", "per trace", "allocations per trace",
		    "live bytes per trace", "keys written per trace" };
	for (const char *b :
	     { "index_amp_trace_0_tags", "index_amp_trace_1_tag",
	       "index_amp_trace_3_tags", "index_amp_trace_5_tags" }) {
		auto c = [this, b](const char *k, const char *f) {
			Val v = counter(b, k);
			return v.kind == Val::OK ? fmt(f, v.v)
						 : val_text(v, Unit::COUNT);
		};
		it.add({ b, val_text(bench(b), Unit::NS),
			 c("allocs_per_trace", "%.2f"),
			 c("bytes_per_trace", "%.1f B"),
			 c("keys_per_trace", "%.0f") });
	}
	out += "\n" + it.str();
	return out;
}
