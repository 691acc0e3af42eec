// SPDX-License-Identifier: MIT
//
// The C++ side of the benchmark harness: the C shim over benchmark::State
// (shim.h), main(), the environment record and the reports of
// spec/benchmarks.md, printed at the end of the run and written to
// <results-dir>/report.md beside Google Benchmark's JSON
// (<results-dir>/results.json). Named baselines are small JSON files in the
// same directory. No Python or other tool is needed to read a run.

#include "shim.h"

#include <benchmark/benchmark.h>

#include <runstate.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <sys/utsname.h>
#include <unistd.h>

#ifdef RS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#ifndef RS_BENCH_C_COMPILER
#define RS_BENCH_C_COMPILER "unknown"
#endif
#ifndef RS_BENCH_CXX_COMPILER
#define RS_BENCH_CXX_COMPILER "unknown"
#endif
#ifndef RS_BENCH_C_FLAGS
#define RS_BENCH_C_FLAGS "unknown"
#endif
#ifndef RS_BENCH_BUILD_TYPE
#define RS_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef RS_BENCH_SANITIZE
#define RS_BENCH_SANITIZE ""
#endif
#ifndef RS_BENCH_GIT_COMMIT
#define RS_BENCH_GIT_COMMIT "unknown"
#endif

// The default --benchmark_min_time (seconds) when the command line gives
// none: keeps a whole default run to a few minutes on two cores.
static const char *const kDefaultMinTime = "0.5";

// ---------------------------------------------------------------------
// The C shim
// ---------------------------------------------------------------------

struct rs_bench_state {
	benchmark::State *st;
	void *arg;
};

extern "C" {

bool rs_bench_keep_running(rs_bench_state *st)
{
	return st->st->KeepRunning();
}

bool rs_bench_keep_running_batch(rs_bench_state *st, uint64_t n)
{
	return st->st->KeepRunningBatch(
		static_cast<benchmark::IterationCount>(n));
}

void rs_bench_pause(rs_bench_state *st)
{
	st->st->PauseTiming();
}

void rs_bench_resume(rs_bench_state *st)
{
	st->st->ResumeTiming();
}

void rs_bench_skip_with_error(rs_bench_state *st, const char *msg)
{
	if (!st->st->error_occurred())
		st->st->SkipWithError(msg);
}

void rs_bench_counter(rs_bench_state *st, const char *name, double value,
		      unsigned flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & RS_BENCH_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & RS_BENCH_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & RS_BENCH_COUNTER_AVG_ITERATIONS)
		f |= benchmark::Counter::kAvgIterations;
	st->st->counters[name] = benchmark::Counter(
		value, static_cast<benchmark::Counter::Flags>(f));
}

void rs_bench_items_processed(rs_bench_state *st, int64_t items)
{
	st->st->SetItemsProcessed(items);
}

void rs_bench_set_label(rs_bench_state *st, const char *label)
{
	st->st->SetLabel(label);
}

int rs_bench_thread_index(const rs_bench_state *st)
{
	return st->st->thread_index();
}

int rs_bench_threads(const rs_bench_state *st)
{
	return st->st->threads();
}

int64_t rs_bench_range(const rs_bench_state *st, size_t i)
{
	return st->st->range(i);
}

int64_t rs_bench_iterations(const rs_bench_state *st)
{
	return static_cast<int64_t>(st->st->iterations());
}

void *rs_bench_arg(const rs_bench_state *st)
{
	return st->arg;
}

} // extern "C"

// Names that exist in this build: registered base names, and base/arg for
// each argument value (the form the catalog uses: eventlog_read_range/100).
static std::set<std::string> &implemented()
{
	static std::set<std::string> s;
	return s;
}

extern "C" void rs_bench_register(const char *name, rs_bench_fn fn,
				  const rs_bench_opts *o)
{
	static const rs_bench_opts none{};
	if (!o)
		o = &none;
	void *arg = o->arg;
	auto *b = benchmark::RegisterBenchmark(
		name, [fn, arg](benchmark::State &s) {
			rs_bench_state w{ &s, arg };
			fn(&w);
		});
	implemented().insert(name);
	for (size_t i = 0; i < o->nargs; i++) {
		b->Arg(o->args[i]);
		implemented().insert(std::string(name) + "/" +
				     std::to_string(o->args[i]));
	}
	for (size_t i = 0; i < o->nthreads; i++)
		b->Threads(o->threads[i]);
	if (o->min_time > 0)
		b->MinTime(o->min_time);
	if (o->real_time)
		b->UseRealTime();
	if (o->unit_ms)
		b->Unit(benchmark::kMillisecond);
}

struct Probe {
	std::string name, related;
	rs_bench_probe_fn fn;
};

static std::vector<Probe> &probes()
{
	static std::vector<Probe> p;
	return p;
}

static std::map<std::string, double> &metrics()
{
	static std::map<std::string, double> m;
	return m;
}

extern "C" void rs_bench_register_probe(const char *name, const char *related,
					rs_bench_probe_fn fn)
{
	probes().push_back(Probe{ name, related, fn });
}

extern "C" void rs_bench_metric_set(const char *name, double value)
{
	metrics()[name] = value;
}

static std::map<std::string, std::string> &notes()
{
	static std::map<std::string, std::string> m;
	return m;
}

extern "C" void rs_bench_note_set(const char *name, const char *text)
{
	notes()[name] = text ? text : "";
}

// ---------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------

namespace
{

std::string trim(const std::string &s)
{
	size_t b = s.find_first_not_of(" \t\r\n");
	size_t e = s.find_last_not_of(" \t\r\n");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string read_first_line(const char *path)
{
	std::ifstream f(path);
	std::string line;
	if (f && std::getline(f, line))
		return trim(line);
	return "";
}

std::string fmt(const char *f, double v)
{
	char buf[64];
	std::snprintf(buf, sizeof(buf), f, v);
	return buf;
}

// A duration in adaptive units.
std::string fmt_ns(double ns)
{
	if (ns < 0 || std::isnan(ns))
		return "?";
	if (ns < 10)
		return fmt("%.2f ns", ns);
	if (ns < 1000)
		return fmt("%.1f ns", ns);
	if (ns < 1e6)
		return fmt("%.2f µs", ns / 1e3);
	if (ns < 1e9)
		return fmt("%.2f ms", ns / 1e6);
	return fmt("%.2f s", ns / 1e9);
}

std::string fmt_x(double r)
{
	if (std::isnan(r) || std::isinf(r))
		return "?";
	if (r < 10)
		return fmt("%.2f×", r);
	if (r < 1000)
		return fmt("%.1f×", r);
	return fmt("%.0f×", r);
}

std::string fmt_rate(double ops)
{
	if (ops >= 1e6)
		return fmt("%.2fM ops/s", ops / 1e6);
	if (ops >= 1e3)
		return fmt("%.1fK ops/s", ops / 1e3);
	return fmt("%.0f ops/s", ops);
}

// Display width of UTF-8 text (code points; all ours are one column).
size_t width(const std::string &s)
{
	size_t w = 0;
	for (unsigned char c : s)
		w += (c & 0xc0) != 0x80;
	return w;
}

std::string pad(const std::string &s, size_t w)
{
	size_t sw = width(s);
	return sw >= w ? s : s + std::string(w - sw, ' ');
}

// A Markdown pipe table, padded so it also reads well in a terminal.
struct Table {
	std::vector<std::string> head;
	std::vector<std::vector<std::string>> rows;

	void add(std::vector<std::string> r)
	{
		rows.push_back(std::move(r));
	}

	std::string str() const
	{
		std::vector<size_t> w(head.size(), 3);
		for (size_t i = 0; i < head.size(); i++)
			w[i] = std::max(w[i], width(head[i]));
		for (const auto &r : rows)
			for (size_t i = 0; i < r.size() && i < w.size(); i++)
				w[i] = std::max(w[i], width(r[i]));
		std::string out;
		auto line = [&](const std::vector<std::string> &r) {
			out += "|";
			for (size_t i = 0; i < w.size(); i++)
				out += " " +
				       pad(i < r.size() ? r[i] : "", w[i]) +
				       " |";
			out += "\n";
		};
		line(head);
		out += "|";
		for (size_t i = 0; i < w.size(); i++)
			out += std::string(w[i] + 2, '-') + "|";
		out += "\n";
		for (const auto &r : rows)
			line(r);
		return out;
	}
};

std::string json_escape(const std::string &s)
{
	std::string o;
	for (unsigned char c : s) {
		switch (c) {
		case '"':
			o += "\\\"";
			break;
		case '\\':
			o += "\\\\";
			break;
		case '\n':
			o += "\\n";
			break;
		case '\t':
			o += "\\t";
			break;
		default:
			if (c < 0x20) {
				char b[8];
				std::snprintf(b, sizeof(b), "\\u%04x", c);
				o += b;
			} else {
				o += static_cast<char>(c);
			}
		}
	}
	return o;
}

// Word-wrap a list for the report.
std::string wrap_list(const std::vector<std::string> &items, size_t cols,
		      const std::string &indent)
{
	std::string out, line = indent;
	for (size_t i = 0; i < items.size(); i++) {
		std::string item =
			items[i] + (i + 1 < items.size() ? "," : ".");
		if (width(line) + 1 + width(item) > cols &&
		    line.size() > indent.size()) {
			out += line + "\n";
			line = indent;
		}
		if (line.size() > indent.size())
			line += " ";
		line += item;
	}
	if (line.size() > indent.size())
		out += line + "\n";
	return out;
}

// ---------------------------------------------------------------------
// Environment record
// ---------------------------------------------------------------------

using Env = std::vector<std::pair<std::string, std::string>>;

std::string os_name()
{
	std::ifstream f("/etc/os-release");
	std::string line;
	while (f && std::getline(f, line)) {
		if (line.rfind("PRETTY_NAME=", 0) == 0) {
			std::string v = line.substr(12);
			if (v.size() >= 2 && v.front() == '"')
				v = v.substr(1, v.size() - 2);
			return v;
		}
	}
	return "unknown";
}

std::string cpu_model()
{
	std::ifstream f("/proc/cpuinfo");
	std::string line;
	while (f && std::getline(f, line)) {
		if (line.rfind("model name", 0) == 0) {
			size_t c = line.find(':');
			if (c != std::string::npos)
				return trim(line.substr(c + 1));
		}
	}
	return "unknown";
}

std::string allocator_name()
{
#ifdef RS_HAVE_JEMALLOC
	const char *v = nullptr;
	size_t sz = sizeof(v);
	if (mallctl("version", &v, &sz, nullptr, 0) == 0 && v)
		return std::string("jemalloc ") + v;
	return "jemalloc";
#else
	return "libc malloc";
#endif
}

Env collect_env(const std::string &min_time)
{
	Env e;
	struct utsname u;
	std::string kernel = "unknown";
	if (uname(&u) == 0)
		kernel = std::string(u.sysname) + " " + u.release + " " +
			 u.machine;
	std::string gov = read_first_line(
		"/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
	char ts[64];
	std::time_t now = std::time(nullptr);
	std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
	std::string san = RS_BENCH_SANITIZE;

	e.emplace_back("os", os_name());
	e.emplace_back("kernel", kernel);
	e.emplace_back("cpu", cpu_model());
	e.emplace_back("cores", std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) +
					" online");
	e.emplace_back("governor",
		       gov.empty() ? "unreadable (no cpufreq)" : gov);
	e.emplace_back("c_compiler", RS_BENCH_C_COMPILER);
	e.emplace_back("cxx_compiler", RS_BENCH_CXX_COMPILER);
	e.emplace_back("c_flags", RS_BENCH_C_FLAGS);
	e.emplace_back("build_type", RS_BENCH_BUILD_TYPE);
	e.emplace_back("sanitizers", san.empty() ? "none" : san);
#ifdef NDEBUG
	e.emplace_back("assertions", "off (NDEBUG)");
#else
	e.emplace_back("assertions", "on");
#endif
	e.emplace_back("library_version", rs_version_string());
	e.emplace_back("git_commit", RS_BENCH_GIT_COMMIT);
	e.emplace_back("timestamp", ts);
	e.emplace_back("allocator", allocator_name());
	e.emplace_back("durability",
		       "InMemory (every benchmark but the durability tier: "
		       "kvstore_put_buffered/_strict, strict_group_commit, "
		       "recovery_replay, in temporary directories)");
	e.emplace_back("min_time", min_time + " s per benchmark");
	return e;
}

std::string env_get(const Env &e, const std::string &k)
{
	for (const auto &kv : e)
		if (kv.first == k)
			return kv.second;
	return "";
}

std::string env_text(const Env &e)
{
	std::string out = "## Environment\n";
	for (const auto &kv : e)
		out += "- " + pad(kv.first + ":", 17) + " " + kv.second + "\n";
	std::vector<std::string> warn;
	std::string bt = env_get(e, "build_type");
	if (bt != "Release" && bt != "RelWithDebInfo")
		warn.push_back("build type is '" + bt +
			       "': numbers are not representative; use "
			       "Release (./scripts/bench does)");
	if (env_get(e, "sanitizers") != "none")
		warn.push_back("sanitizers are on: numbers are not "
			       "representative");
	std::string gov = env_get(e, "governor");
	if (gov.find("unreadable") == std::string::npos && gov != "performance")
		warn.push_back("CPU governor is '" + gov +
			       "', not 'performance': expect noise");
	for (const auto &w : warn)
		out += "- WARNING: " + w + "\n";
	out += "- note: a Google Benchmark line \"***WARNING*** Library was "
	       "built as DEBUG\" refers to the libbenchmark package (Debian "
	       "builds it without NDEBUG), not to runstate.\n";
	return out;
}

// ---------------------------------------------------------------------
// Collected results
// ---------------------------------------------------------------------

struct Result {
	double real_ns = NAN;
	double cpu_ns = NAN;
	int64_t iterations = 0;
	bool error = false;
	std::string message;
	std::map<std::string, double> counters;
	int rank = -1; // iteration run 0, mean 1, median 2
};

double to_ns(benchmark::TimeUnit u)
{
	switch (u) {
	case benchmark::kNanosecond:
		return 1;
	case benchmark::kMicrosecond:
		return 1e3;
	case benchmark::kMillisecond:
		return 1e6;
	case benchmark::kSecond:
		return 1e9;
	}
	return 1;
}

class Collector : public benchmark::BenchmarkReporter
{
      public:
	explicit Collector(benchmark::BenchmarkReporter *inner) : inner_(inner)
	{
	}

	bool ReportContext(const Context &c) override
	{
		return inner_->ReportContext(c);
	}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &r : runs)
			take(r);
		inner_->ReportRuns(runs);
	}

	void Finalize() override
	{
		inner_->Finalize();
	}

	std::map<std::string, Result> results;
	std::vector<std::string> order;

      private:
	void take(const Run &r)
	{
		int rank = 0;
		if (r.run_type == Run::RT_Aggregate) {
			if (r.aggregate_name == "median")
				rank = 2;
			else if (r.aggregate_name == "mean")
				rank = 1;
			else
				return;
		}
		std::string name = r.run_name.str();
		auto it = results.find(name);
		if (it == results.end())
			order.push_back(name);
		Result &res = results[name];
		if (rank < res.rank)
			return;
		res = Result{};
		res.rank = rank;
		res.error = r.error_occurred;
		res.message = r.error_message;
		res.iterations = static_cast<int64_t>(r.iterations);
		if (!r.error_occurred) {
			double f = to_ns(r.time_unit);
			res.real_ns = r.GetAdjustedRealTime() * f;
			res.cpu_ns = r.GetAdjustedCPUTime() * f;
		}
		for (const auto &c : r.counters)
			res.counters[c.first] = c.second.value;
	}

	benchmark::BenchmarkReporter *inner_;
};

// ---------------------------------------------------------------------
// Baselines: a small JSON file per name
// ---------------------------------------------------------------------

// A minimal JSON reader for our own baseline files: objects of strings and
// numbers (other values are skipped).
struct JsonReader {
	const std::string &s;
	size_t i = 0;
	bool ok = true;

	explicit JsonReader(const std::string &src) : s(src)
	{
	}

	void ws()
	{
		while (i < s.size() &&
		       std::isspace(static_cast<unsigned char>(s[i])))
			i++;
	}

	bool eat(char c)
	{
		ws();
		if (i < s.size() && s[i] == c) {
			i++;
			return true;
		}
		return false;
	}

	std::string str()
	{
		std::string o;
		if (!eat('"')) {
			ok = false;
			return o;
		}
		while (i < s.size() && s[i] != '"') {
			char c = s[i++];
			if (c == '\\' && i < s.size()) {
				char e = s[i++];
				switch (e) {
				case 'n':
					o += '\n';
					break;
				case 't':
					o += '\t';
					break;
				case 'u':
					i += 4;
					o += '?';
					break;
				default:
					o += e;
				}
			} else {
				o += c;
			}
		}
		if (i >= s.size())
			ok = false;
		i++;
		return o;
	}

	// Skips any value; returns it as text when it is a string or number.
	std::string value(bool *is_num)
	{
		ws();
		*is_num = false;
		if (i >= s.size()) {
			ok = false;
			return "";
		}
		if (s[i] == '"')
			return str();
		if (s[i] == '{' || s[i] == '[') {
			int depth = 0;
			bool in_str = false;
			for (; i < s.size(); i++) {
				char c = s[i];
				if (in_str) {
					if (c == '\\')
						i++;
					else if (c == '"')
						in_str = false;
				} else if (c == '"') {
					in_str = true;
				} else if (c == '{' || c == '[') {
					depth++;
				} else if (c == '}' || c == ']') {
					if (--depth == 0) {
						i++;
						break;
					}
				}
			}
			return "";
		}
		size_t b = i;
		while (i < s.size() && s[i] != ',' && s[i] != '}' &&
		       s[i] != ']' &&
		       !std::isspace(static_cast<unsigned char>(s[i])))
			i++;
		std::string t = s.substr(b, i - b);
		*is_num = !t.empty() && t != "true" && t != "false" &&
			  t != "null";
		return t;
	}

	// Reads a flat object into `out` (nested values are skipped).
	void object(std::map<std::string, std::string> *out,
		    std::function<void(const std::string &)> nested = nullptr)
	{
		if (!eat('{')) {
			ok = false;
			return;
		}
		if (eat('}'))
			return;
		do {
			std::string k = str();
			if (!ok || !eat(':')) {
				ok = false;
				return;
			}
			ws();
			if (nested && i < s.size() && s[i] == '{') {
				nested(k);
			} else {
				bool num;
				std::string v = value(&num);
				if (out)
					(*out)[k] = v;
			}
		} while (ok && eat(','));
		if (!eat('}'))
			ok = false;
	}
};

struct Baseline {
	std::string name;
	std::map<std::string, std::string> env;
	std::map<std::string, std::string> results_ns;
	std::map<std::string, std::string> metrics;
};

bool valid_baseline_name(const std::string &n)
{
	if (n.empty() || n.size() > 64)
		return false;
	for (char c : n)
		if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' &&
		    c != '_' && c != '.')
			return false;
	return n[0] != '.';
}

std::string baseline_path(const std::string &dir, const std::string &name)
{
	return dir + "/baseline-" + name + ".json";
}

bool load_baseline(const std::string &path, Baseline *b, std::string *err)
{
	std::ifstream f(path);
	if (!f) {
		*err = "cannot read " + path;
		return false;
	}
	std::stringstream ss;
	ss << f.rdbuf();
	std::string text = ss.str();
	JsonReader r(text);
	std::map<std::string, std::string> top;
	r.object(&top, [&](const std::string &k) {
		if (k == "env")
			r.object(&b->env);
		else if (k == "results_ns")
			r.object(&b->results_ns);
		else if (k == "metrics")
			r.object(&b->metrics);
		else
			r.object(nullptr);
	});
	if (!r.ok) {
		*err = path + ": not a runstate baseline file";
		return false;
	}
	b->name = top["name"];
	return true;
}

bool save_baseline(const std::string &path, const std::string &name,
		   const Env &env, const Collector &c, std::string *err)
{
	std::ofstream f(path);
	if (!f) {
		*err = "cannot write " + path;
		return false;
	}
	f << "{\n  \"format\": \"runstate-bench-baseline/1\",\n";
	f << "  \"name\": \"" << json_escape(name) << "\",\n";
	f << "  \"env\": {\n";
	for (size_t i = 0; i < env.size(); i++)
		f << "    \"" << json_escape(env[i].first) << "\": \""
		  << json_escape(env[i].second) << "\""
		  << (i + 1 < env.size() ? "," : "") << "\n";
	f << "  },\n  \"results_ns\": {\n";
	std::vector<std::string> ok;
	for (const auto &n : c.order)
		if (!c.results.at(n).error)
			ok.push_back(n);
	char num[64];
	for (size_t i = 0; i < ok.size(); i++) {
		std::snprintf(num, sizeof(num), "%.6g",
			      c.results.at(ok[i]).real_ns);
		f << "    \"" << json_escape(ok[i]) << "\": " << num
		  << (i + 1 < ok.size() ? "," : "") << "\n";
	}
	f << "  },\n  \"metrics\": {\n";
	size_t i = 0;
	for (const auto &m : metrics()) {
		std::snprintf(num, sizeof(num), "%.6g", m.second);
		f << "    \"" << json_escape(m.first) << "\": " << num
		  << (++i < metrics().size() ? "," : "") << "\n";
	}
	f << "  }\n}\n";
	if (!f) {
		*err = "write failed: " + path;
		return false;
	}
	return true;
}

// ---------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------

// Every name of the catalog's tier table (spec/benchmarks.md), expanded.
const char *const kCatalog[] = {
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
};

// The benchmarks with a per-operation latency probe (lat.<name>.*).
const char *const kLatencyBenches[] = {
	"kvstore_get",		"kvstore_put",
	"eventlog_append",	"eventlog_read",
	"statecell_read",	"statecell_cas",
	"statecell_transition", "tracestore_record_3_tags",
	"runindex_transition",	"cross_txn_all_primitives",
	"kvstore_put_buffered", "kvstore_put_strict",
};

// Workloads of the contention protocol (metrics contention.<w>.<N>.*).
const char *const kContentionWorkloads[] = {
	"disjoint",
	"statecell",
	"eventlog",
	"strict_group_commit",
};

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

enum class Cmp {
	NONE,
	LT,
	LE,
	GE,
	GT
};

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

enum class Unit {
	NS,
	X,
	RATE,
	COUNT,
	BYTES,
	NS_SIGNED // a difference of durations: "+1.20 µs", "-0.90 µs"
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

class Reports
{
      public:
	Reports(const Collector &c) : c_(c)
	{
	}

	bool is_impl(const std::string &n) const
	{
		return implemented().count(n) != 0;
	}

	// Real time per operation of a benchmark.
	Val bench(const std::string &n) const
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

	static Val ratio(const Val &a, const Val &b)
	{
		if (a.kind != Val::OK)
			return a;
		if (b.kind != Val::OK)
			return b;
		return Val::ok(a.v / b.v);
	}

	Val metric(const std::string &m, const std::string &probe) const
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

	// p99 / mean of a latency probe's samples ("lat.<b>.*"), recorded
	// by the probe named `probe` (default: "<b> latency").
	Val p99_over_mean(const std::string &b,
			  const std::string &probe_name = "") const
	{
		std::string probe =
			probe_name.empty() ? b + " latency" : probe_name;
		Val p99 = metric("lat." + b + ".p99_ns", probe);
		Val mean = metric("lat." + b + ".mean_ns", probe);
		return ratio(p99, mean);
	}

	// The probe that records "lat.<b>.*".
	static std::string lat_probe(const std::string &b)
	{
		return b == "kvstore_put_strict"
			       ? "kvstore_put_strict vs bare fdatasync"
			       : b + " latency";
	}

	// A contention-protocol metric ("contention.<w>.<n>.<k>").
	static Val cont_metric(const std::string &w, int n,
			       const std::string &k)
	{
		auto &m = metrics();
		auto it = m.find("contention." + w + "." + std::to_string(n) +
				 "." + k);
		if (it == m.end())
			return Val::not_run("not run");
		return Val::ok(it->second);
	}

	// kvstore_put_strict / a bare append + fdatasync: the interleaved
	// probe's median ratio, else the two benchmarks' times.
	Val strict_vs_bare() const
	{
		Val r = metric("dur.strict_vs_bare.ratio",
			       "kvstore_put_strict vs bare fdatasync");
		if (r.kind == Val::OK)
			return r;
		Val s = bench("kvstore_put_strict"),
		    b = bench("peer_fdatasync_append");
		return s.kind == Val::OK ? ratio(s, b) : s;
	}

	Val allocs(const std::string &what) const
	{
		return metric("alloc." + what + ".total",
			      "hot-path allocations");
	}

	// A counter of a benchmark's result (e.g. bytes_per_entry).
	Val counter(const std::string &n, const std::string &c) const
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

	static std::string note(const std::string &k)
	{
		auto it = notes().find(k);
		return it == notes().end() ? std::string() : it->second;
	}

	// A peer's benchmark (peer: "redis" or "lmdb"): "not installed"
	// rather than "not yet implemented" when the peer is absent.
	Val peer(const std::string &n, const std::string &p) const
	{
		if (!note(p + ".status").empty() && !is_impl(n))
			return Val::not_run(p == "redis"
						    ? "Redis not available"
						    : "LMDB not installed");
		return bench(n);
	}

	static int cores()
	{
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		return n > 0 ? static_cast<int>(n) : 1;
	}

	// contention/<w>/<n>: aggregate throughput over that of 1 thread.
	Val cont_scaling(const std::string &w, int n) const
	{
		// strict_group_commit runs the protocol under its own name.
		std::string b =
			(w == "strict_group_commit" ? w : "contention/" + w) +
			"/";
		Val r = bench(b + std::to_string(n)), one = bench(b + "1");
		if (r.kind != Val::OK)
			return r;
		if (one.kind != Val::OK)
			return Val::not_run("1-thread run " +
					    val_text(one, Unit::X));
		std::string m = "contention." + w + ".";
		auto &ms = metrics();
		auto a = ms.find(m + std::to_string(n) + ".ops_s");
		auto z = ms.find(m + "1.ops_s");
		if (a == ms.end() || z == ms.end() || !(z->second > 0))
			return Val::error("no throughput recorded");
		return Val::ok(a->second / z->second);
	}

	// A scaling gate, judged only when n threads fit the cores.
	Val cont_judged(const std::string &w, int n) const
	{
		Val v = cont_scaling(w, n);
		if (v.kind == Val::OK && n > cores())
			return Val::not_run(fmt_x(v.v) + " (oversubscribed: " +
					    std::to_string(n) + " threads on " +
					    std::to_string(cores()) +
					    " cores; not judged)");
		return v;
	}

	std::string facade_tax() const;
	std::string red_flags() const;
	std::string gates() const;
	std::string m3() const;
	std::string contention() const;
	std::string locality() const;
	std::string durability() const;
	std::string redis() const;
	std::string lmdb() const;
	std::string coverage() const;
	std::string against(const Baseline &b, const Env &now) const;

      private:
	const Collector &c_;
};

struct Level {
	double goal, seed, red;
};

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

std::string Reports::facade_tax() const
{
	static const Level a1a0{ 4, 10, 20 }, ba1{ 1.5, 5, 8 };
	struct Op {
		const char *op, *a0, *a1, *b;
	} ops[] = {
		{ "GET", "core_get_hot", "engine_get_direct", "kvstore_get" },
		{ "PUT", "core_put_hot", "engine_put_direct", "kvstore_put" },
	};
	Table t;
	t.head = { "op",    "A0 core", "A1 engine", "B facade",
		   "A1/A0", "B/A1",    "B/A0" };
	std::string assess;
	bool all_measured = true, seed_missed = false, goals_met = true;
	for (const Op &o : ops) {
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

std::string Reports::red_flags() const
{
	struct Flag {
		std::string what;
		Val v;
		Unit u;
		double thr; // FAIL when v > thr (v < thr when below)
		std::string shown;
		bool below = false;
	};
	std::vector<Flag> fl;
	Val snap = bench("engine_snapshot_acquire");
	fl.push_back({ "snapshot acquisition > 2 µs (engine_snapshot_acquire)",
		       snap, Unit::NS, 2000, "" });
	fl.push_back({ "A1/A0 > 20× (get)",
		       ratio(bench("engine_get_direct"), bench("core_get_hot")),
		       Unit::X, 20, "" });
	fl.push_back({ "A1/A0 > 20× (put)",
		       ratio(bench("engine_put_direct"), bench("core_put_hot")),
		       Unit::X, 20, "" });
	fl.push_back({ "B/A1 > 8× (get)",
		       ratio(bench("kvstore_get"), bench("engine_get_direct")),
		       Unit::X, 8, "" });
	fl.push_back({ "B/A1 > 8× (put)",
		       ratio(bench("kvstore_put"), bench("engine_put_direct")),
		       Unit::X, 8, "" });
	{
		// Each thread count that fits the cores against its seed
		// minimum; the value is the worst measured/minimum.
		static const std::pair<int, double> mins[] = { { 2, 1.8 },
							       { 4, 3.2 },
							       { 8, 6.0 } };
		Val worst = Val::not_impl();
		std::string shown, over;
		for (const auto &m : mins) {
			if (m.first > cores()) {
				over += (over.empty() ? "" : ", ") +
					std::to_string(m.first);
				continue;
			}
			Val v = cont_scaling("disjoint", m.first);
			shown += (shown.empty() ? "" : "; ") +
				 std::to_string(m.first) + " threads " +
				 val_text(v, Unit::X) + " (min " +
				 fmt("%g×", m.second) + ")";
			if (v.kind != Val::OK) {
				if (worst.kind != Val::ERROR)
					worst = v;
				continue;
			}
			double r = v.v / m.second;
			if (worst.kind == Val::NOT_IMPL ||
			    (worst.kind == Val::OK && r < worst.v))
				worst = Val::ok(r);
		}
		if (!over.empty())
			shown += (shown.empty() ? "" : "; ") + over +
				 " threads: oversubscribed on " +
				 std::to_string(cores()) + " cores, not judged";
		if (!is_impl("contention/disjoint"))
			shown = "";
		else if (worst.kind == Val::NOT_IMPL)
			worst = Val::not_run(shown); // one core: nothing judged
		Flag f{ "disjoint scaling below the minimum for the cores",
			worst, Unit::X, 1.0, shown };
		f.below = true;
		fl.push_back(f);
	}
	for (const char *b : kLatencyBenches) {
		if (!is_impl(b))
			continue;
		Val r = p99_over_mean(b, lat_probe(b));
		std::string shown;
		if (r.kind == Val::OK)
			shown = fmt_x(r.v) + " (p99 " +
				fmt_ns(metrics()["lat." + std::string(b) +
						 ".p99_ns"]) +
				", mean " +
				fmt_ns(metrics()["lat." + std::string(b) +
						 ".mean_ns"]) +
				")";
		fl.push_back({ std::string("p99 > 20× mean (") + b + ")", r,
			       Unit::X, 20, shown });
	}
	// The contention protocol's latency histograms: the worst p99/mean
	// over the thread counts that fit the cores.
	for (const char *w : kContentionWorkloads) {
		std::string base = w == std::string("strict_group_commit")
					   ? std::string(w)
					   : "contention/" + std::string(w);
		if (!is_impl(base))
			continue;
		Val worst = Val::not_run("not run");
		std::string shown, over;
		for (int n : { 1, 2, 4, 8 }) {
			if (n > cores()) {
				over += (over.empty() ? "" : ", ") +
					std::to_string(n);
				continue;
			}
			Val p = cont_metric(w, n, "p99_ns"),
			    m = cont_metric(w, n, "mean_ns");
			Val r = ratio(p, m);
			if (r.kind != Val::OK)
				continue;
			shown += (shown.empty() ? "" : "; ") +
				 std::to_string(n) + ": " + fmt_x(r.v);
			if (worst.kind != Val::OK || r.v > worst.v)
				worst = r;
		}
		if (!over.empty())
			shown += (shown.empty() ? "" : "; ") + over +
				 " threads oversubscribed, not judged";
		fl.push_back({ "p99 > 20× mean (" + base + "/N, N ≤ cores)",
			       worst, Unit::X, 20, shown });
	}
	for (const auto &w :
	     { std::make_pair("kvstore_get", "kvstore_get"),
	       std::make_pair("ro_txn", "read-only txn: begin, get, "
					"abort") }) {
		Val a = allocs(w.first);
		std::string shown;
		if (a.kind == Val::OK)
			shown = fmt("%.0f", a.v) + " in " +
				fmt("%.0f", metrics()["alloc.ops"]) + " ops";
		fl.push_back({ std::string("hot-path allocations > 0 (") +
				       w.second + ")",
			       a, Unit::COUNT, 0, shown });
	}
	Table t;
	t.head = { "red flag", "measured", "result" };
	int fails = 0;
	for (const Flag &f : fl) {
		std::string res = "—";
		if (f.v.kind == Val::OK) {
			bool bad = f.below ? f.v.v < f.thr : f.v.v > f.thr;
			fails += bad;
			res = bad ? "FAIL" : "PASS";
		}
		t.add({ f.what, f.shown.empty() ? val_text(f.v, f.u) : f.shown,
			res });
	}
	std::string out = "## 2. Red flags (sharded store)\n\n" + t.str();
	out += fails ? "\n" + std::to_string(fails) + " red flag(s) raised.\n"
		     : "\nNo red flag raised among those measured.\n";

	// Latency samples and allocation counts behind the flags.
	Table lt;
	lt.head = { "latency pass", "samples", "mean", "p50",
		    "p95",	    "p99",     "max",  "p99/mean" };
	std::vector<std::string> lat_rows;
	for (const char *b : kLatencyBenches) {
		lat_rows.push_back(b);
		if (std::string(b) == "kvstore_get" ||
		    std::string(b) == "kvstore_put")
			lat_rows.push_back(b + std::string("@unified"));
	}
	for (const auto &b : lat_rows) {
		std::string p = "lat." + std::string(b);
		auto &m = metrics();
		if (!m.count(p + ".mean_ns"))
			continue;
		lt.add({ b, fmt("%.0f", m[p + ".samples"]),
			 fmt_ns(m[p + ".mean_ns"]), fmt_ns(m[p + ".p50_ns"]),
			 fmt_ns(m[p + ".p95_ns"]), fmt_ns(m[p + ".p99_ns"]),
			 fmt_ns(m[p + ".max_ns"]),
			 fmt_x(m[p + ".p99_ns"] / m[p + ".mean_ns"]) });
	}
	if (!lt.rows.empty()) {
		// What one clock read costs: every sample includes one.
		using clk = std::chrono::steady_clock;
		auto t0 = clk::now();
		for (int i = 0; i < 100000; i++)
			benchmark::DoNotOptimize(clk::now());
		double clock_ns = std::chrono::duration<double, std::nano>(
					  clk::now() - t0)
					  .count() /
				  100000;
		out += "\nPer-operation latency (a separate pass outside the "
		       "timed loops, one clock read per operation, ~" +
		       fmt_ns(clock_ns) +
		       " each, included in every sample):\n\n" + lt.str();
	}
	Table at;
	at.head = { "allocations, steady state", "sharded", "unified (M3)" };
	for (const auto &w :
	     { std::make_pair("kvstore_get", "kvstore_get"),
	       std::make_pair("ro_txn", "read-only txn (begin, get, "
					"abort)") }) {
		auto &m = metrics();
		std::string k = std::string("alloc.") + w.first;
		auto cell = [&](const std::string &suffix) {
			auto it = m.find(k + suffix + ".total");
			if (it == m.end())
				return std::string("not run");
			return fmt("%.2f",
				   it->second / m["alloc.ops" + suffix]) +
			       "/op";
		};
		if (m.count(k + ".total") || m.count(k + "@unified.total"))
			at.add({ w.second, cell(""), cell("@unified") });
	}
	if (!at.rows.empty())
		out += "\nAllocations counted through the rs_db_options "
		       "allocator hooks:\n\n" +
		       at.str();
	return out;
}

std::string Reports::gates() const
{
	struct Gate {
		std::string name;
		std::function<Val()> value;
		Unit unit;
		std::string seed_text;
		Cmp seed_cmp;
		double seed;
		std::string goal_text;
		Cmp goal_cmp;
		double goal;
	};
	auto B = [this](const char *n) {
		std::string s = n;
		return [this, s] { return bench(s); };
	};
	const double us = 1e3, ms = 1e6;
	std::vector<Gate> g = {
		{ "core_get_hot", B("core_get_hot"), Unit::NS, "< 200 ns",
		  Cmp::LT, 200, "< 20 ns", Cmp::LT, 20 },
		{ "core_put_hot", B("core_put_hot"), Unit::NS, "< 300 ns",
		  Cmp::LT, 300, "< 40 ns", Cmp::LT, 40 },
		{ "engine_snapshot_acquire", B("engine_snapshot_acquire"),
		  Unit::NS, "< 500 ns (red flag 2 µs)", Cmp::LT, 500, "< 10 ns",
		  Cmp::LT, 10 },
		{ "engine_txn_empty_commit", B("engine_txn_empty_commit"),
		  Unit::NS, "< 2 µs", Cmp::LT, 2 * us, "< 30 ns", Cmp::LT, 30 },
		{ "engine_get_direct", B("engine_get_direct"), Unit::NS,
		  "< 3 µs", Cmp::LT, 3 * us, "< 50 ns", Cmp::LT, 50 },
		{ "engine_put_direct", B("engine_put_direct"), Unit::NS,
		  "< 3 µs", Cmp::LT, 3 * us, "< 200 ns", Cmp::LT, 200 },
		{ "engine_cas_direct", B("engine_cas_direct"), Unit::NS,
		  "< 3 µs", Cmp::LT, 3 * us, "< 250 ns", Cmp::LT, 250 },
		{ "kvstore_get", B("kvstore_get"), Unit::NS, "< 5 µs", Cmp::LT,
		  5 * us, "< 60 ns", Cmp::LT, 60 },
		{ "kvstore_put", B("kvstore_put"), Unit::NS, "< 8 µs", Cmp::LT,
		  8 * us, "< 250 ns", Cmp::LT, 250 },
		{ "kvstore_delete", B("kvstore_delete"), Unit::NS, "< 8 µs",
		  Cmp::LT, 8 * us, "< 250 ns", Cmp::LT, 250 },
		{ "eventlog_append", B("eventlog_append"), Unit::NS, "< 10 µs",
		  Cmp::LT, 10 * us, "< 700 ns", Cmp::LT, 700 },
		{ "eventlog_read", B("eventlog_read"), Unit::NS, "< 5 µs",
		  Cmp::LT, 5 * us, "< 80 ns", Cmp::LT, 80 },
		{ "eventlog_read_range/100", B("eventlog_read_range/100"),
		  Unit::NS, "< 100 µs", Cmp::LT, 100 * us, "< 5 µs", Cmp::LT,
		  5 * us },
		{ "eventlog_verify_chain/1000", B("eventlog_verify_chain/1000"),
		  Unit::NS, "< 2 ms", Cmp::LT, 2 * ms, "< 400 µs", Cmp::LT,
		  400 * us },
		{ "statecell_init", B("statecell_init"), Unit::NS, "observe",
		  Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "statecell_read", B("statecell_read"), Unit::NS, "< 5 µs",
		  Cmp::LT, 5 * us, "< 60 ns", Cmp::LT, 60 },
		{ "statecell_cas", B("statecell_cas"), Unit::NS, "< 10 µs",
		  Cmp::LT, 10 * us, "< 300 ns", Cmp::LT, 300 },
		{ "statecell_transition", B("statecell_transition"), Unit::NS,
		  "< 15 µs", Cmp::LT, 15 * us, "< 400 ns", Cmp::LT, 400 },
		{ "cross_txn_kv_event", B("cross_txn_kv_event"), Unit::NS,
		  "< 20 µs", Cmp::LT, 20 * us, "< 1 µs", Cmp::LT, 1 * us },
		{ "cross_txn_kv_event_state", B("cross_txn_kv_event_state"),
		  Unit::NS, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "cross_txn_all_primitives", B("cross_txn_all_primitives"),
		  Unit::NS, "< 40 µs", Cmp::LT, 40 * us, "< 2.5 µs", Cmp::LT,
		  2.5 * us },
		{ "cross_snapshot_read", B("cross_snapshot_read"), Unit::NS,
		  "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "tracestore_record_minimal", B("tracestore_record_minimal"),
		  Unit::NS, "< 20 µs", Cmp::LT, 20 * us, "< 800 ns", Cmp::LT,
		  800 },
		{ "tracestore_record_3_tags", B("tracestore_record_3_tags"),
		  Unit::NS, "< 40 µs", Cmp::LT, 40 * us, "< 1.5 µs", Cmp::LT,
		  1.5 * us },
		{ "tracestore_query_by_type (100 results)",
		  B("tracestore_query_by_type"), Unit::NS, "< 200 µs", Cmp::LT,
		  200 * us, "< 10 µs", Cmp::LT, 10 * us },
		{ "tracestore_get_tree (13 nodes)", B("tracestore_get_tree"),
		  Unit::NS, "< 150 µs", Cmp::LT, 150 * us, "< 3 µs", Cmp::LT,
		  3 * us },
		{ "runindex_create", B("runindex_create"), Unit::NS, "< 15 µs",
		  Cmp::LT, 15 * us, "< 1.5 µs", Cmp::LT, 1.5 * us },
		{ "runindex_transition", B("runindex_transition"), Unit::NS,
		  "< 20 µs", Cmp::LT, 20 * us, "< 1 µs", Cmp::LT, 1 * us },
		{ "runindex_lifecycle (create, 2 transitions, delete)",
		  B("runindex_lifecycle"), Unit::NS, "observe", Cmp::NONE, 0,
		  "observe", Cmp::NONE, 0 },
		{ "index_amp_trace_0_tags", B("index_amp_trace_0_tags"),
		  Unit::NS, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "index_amp_trace_1_tag", B("index_amp_trace_1_tag"), Unit::NS,
		  "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "index_amp_trace_3_tags", B("index_amp_trace_3_tags"),
		  Unit::NS, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "index_amp_trace_5_tags", B("index_amp_trace_5_tags"),
		  Unit::NS, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "kvstore_put_buffered", B("kvstore_put_buffered"), Unit::NS,
		  "< 30 µs", Cmp::LT, 30 * us, "< 600 ns", Cmp::LT, 600 },
		{ "kvstore_put_strict", B("kvstore_put_strict"), Unit::NS,
		  "~2 ms (one fsync): ≤ 2 ms", Cmp::LE, 2 * ms,
		  "one fdatasync + < 5 µs (next row)", Cmp::NONE, 0 },
		{ "kvstore_put_strict − one bare fdatasync (interleaved "
		  "medians)",
		  [this] {
			  return metric("dur.strict_vs_bare.extra_ns",
					"kvstore_put_strict vs bare fdatasync");
		  },
		  Unit::NS_SIGNED, "—", Cmp::NONE, 0, "< 5 µs", Cmp::LT,
		  5 * us },
		{ "strict_group_commit/2 (commits/s vs 1 committer)",
		  [this] { return cont_scaling("strict_group_commit", 2); },
		  Unit::X, "—", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "strict_group_commit/4 (commits/s vs 1 committer)",
		  [this] { return cont_scaling("strict_group_commit", 4); },
		  Unit::X, "—", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "strict_group_commit/8 (commits/s vs 1 committer)",
		  [this] { return cont_scaling("strict_group_commit", 8); },
		  Unit::X, "—", Cmp::NONE, 0,
		  "≥ 5× the commits/s of one committer", Cmp::GE, 5 },
		{ "recovery_replay/100k (open, log only)",
		  B("recovery_replay/100k"), Unit::NS, "observe", Cmp::NONE, 0,
		  "observe", Cmp::NONE, 0 },
		{ "A1/A0 (get)",
		  [this] {
			  return ratio(bench("engine_get_direct"),
				       bench("core_get_hot"));
		  },
		  Unit::X, "< 10× (red flag 20×)", Cmp::LT, 10, "< 4×", Cmp::LT,
		  4 },
		{ "A1/A0 (put)",
		  [this] {
			  return ratio(bench("engine_put_direct"),
				       bench("core_put_hot"));
		  },
		  Unit::X, "< 10× (red flag 20×)", Cmp::LT, 10, "< 4×", Cmp::LT,
		  4 },
		{ "B/A1 (get)",
		  [this] {
			  return ratio(bench("kvstore_get"),
				       bench("engine_get_direct"));
		  },
		  Unit::X, "< 5× (red flag 8×)", Cmp::LT, 5, "< 1.5×", Cmp::LT,
		  1.5 },
		{ "B/A1 (put)",
		  [this] {
			  return ratio(bench("kvstore_put"),
				       bench("engine_put_direct"));
		  },
		  Unit::X, "< 5× (red flag 8×)", Cmp::LT, 5, "< 1.5×", Cmp::LT,
		  1.5 },
		{ "throughput, 1 thread put (1 / kvstore_put)",
		  [this] {
			  Val p = bench("kvstore_put");
			  return p.kind == Val::OK ? Val::ok(1e9 / p.v) : p;
		  },
		  Unit::RATE, "250K ops/s", Cmp::GE, 250e3, "≥ 4M ops/s",
		  Cmp::GE, 4e6 },
		{ "contention/disjoint/2 (scaling vs 1 thread)",
		  [this] { return cont_judged("disjoint", 2); }, Unit::X,
		  "≥ 1.8×", Cmp::GE, 1.8, "≥ 1.95×", Cmp::GE, 1.95 },
		{ "contention/disjoint/4 (scaling vs 1 thread)",
		  [this] { return cont_judged("disjoint", 4); }, Unit::X,
		  "≥ 3.2×", Cmp::GE, 3.2, "≥ 3.8×", Cmp::GE, 3.8 },
		{ "contention/disjoint/8 (scaling vs 1 thread)",
		  [this] { return cont_judged("disjoint", 8); }, Unit::X,
		  "≥ 6.0×", Cmp::GE, 6.0, "≥ 7.5× (on ≥ 8 cores)", Cmp::GE,
		  7.5 },
		{ "contention/eventlog/2 (throughput vs 1 thread)",
		  [this] { return cont_judged("eventlog", 2); }, Unit::X,
		  "≥ 25% of 1 thread (as /4)", Cmp::GE, 0.25,
		  "≥ 80%, zero conflicts seen by callers", Cmp::GE, 0.8 },
		{ "contention/eventlog/4 (throughput vs 1 thread)",
		  [this] { return cont_judged("eventlog", 4); }, Unit::X,
		  "≥ 25% of 1 thread", Cmp::GE, 0.25,
		  "≥ 80%, zero conflicts seen by callers", Cmp::GE, 0.8 },
		{ "contention/eventlog/8 (throughput vs 1 thread)",
		  [this] { return cont_judged("eventlog", 8); }, Unit::X,
		  "≥ 25% of 1 thread (as /4)", Cmp::GE, 0.25,
		  "≥ 80%, zero conflicts seen by callers", Cmp::GE, 0.8 },
		{ "contention/statecell/2 (throughput vs 1 thread)",
		  [this] { return cont_judged("statecell", 2); }, Unit::X,
		  "≥ 25% of 1 thread (as /4)", Cmp::GE, 0.25, "≥ 50%", Cmp::GE,
		  0.5 },
		{ "contention/statecell/4 (throughput vs 1 thread)",
		  [this] { return cont_judged("statecell", 4); }, Unit::X,
		  "≥ 25% of 1 thread", Cmp::GE, 0.25, "≥ 50%", Cmp::GE, 0.5 },
		{ "contention/statecell/8 (throughput vs 1 thread)",
		  [this] { return cont_judged("statecell", 8); }, Unit::X,
		  "≥ 25% of 1 thread (as /4)", Cmp::GE, 0.25, "≥ 50%", Cmp::GE,
		  0.5 },
		{ "p99 / mean (kvstore_get)",
		  [this] { return p99_over_mean("kvstore_get"); }, Unit::X,
		  "< 10× (red flag 20×)", Cmp::LT, 10, "< 5×", Cmp::LT, 5 },
		{ "p99 / mean (kvstore_put)",
		  [this] { return p99_over_mean("kvstore_put"); }, Unit::X,
		  "< 10× (red flag 20×)", Cmp::LT, 10, "< 5×", Cmp::LT, 5 },
		{ "hot-path allocations (kvstore_get)",
		  [this] { return allocs("kvstore_get"); }, Unit::COUNT, "0",
		  Cmp::LE, 0, "0, proven by a counting test", Cmp::LE, 0 },
		{ "hot-path allocations (read-only txn)",
		  [this] { return allocs("ro_txn"); }, Unit::COUNT, "0",
		  Cmp::LE, 0, "0, proven by a counting test", Cmp::LE, 0 },
		{ "mem_bytes_per_kv_entry (16 B key, 100 B value)",
		  [this] {
			  return counter("mem_bytes_per_kv_entry",
					 "bytes_per_entry");
		  },
		  Unit::BYTES, "observe", Cmp::NONE, 0, "≤ 200 B", Cmp::LE,
		  200 },
		{ "mem_bytes_per_run (a run with one such entry)",
		  [this] {
			  return counter("mem_bytes_per_run", "bytes_per_run");
		  },
		  Unit::BYTES, "observe", Cmp::NONE, 0, "observe", Cmp::NONE,
		  0 },
		{ "mem_bytes_per_event (100 B payload)",
		  [this] {
			  return counter("mem_bytes_per_event",
					 "bytes_per_event");
		  },
		  Unit::BYTES, "observe", Cmp::NONE, 0, "observe", Cmp::NONE,
		  0 },
		{ "mem_bytes_per_trace (100 B payload, no tags)",
		  [this] {
			  return counter("mem_bytes_per_trace",
					 "bytes_per_trace");
		  },
		  Unit::BYTES, "observe", Cmp::NONE, 0, "observe", Cmp::NONE,
		  0 },
		{ "index_amp_ratio_trace (3 tags + parent / bare record)",
		  [this] { return counter("index_amp_ratio_trace", "ratio"); },
		  Unit::X, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "index_amp_ratio_run (name, 3 tags, parent / bare record)",
		  [this] { return counter("index_amp_ratio_run", "ratio"); },
		  Unit::X, "observe", Cmp::NONE, 0, "observe", Cmp::NONE, 0 },
		{ "vs M3 baseline, kvstore_put at 100k keys",
		  [this] {
			  return ratio(bench("kvstore_put/100k@unified"),
				       bench("kvstore_put/100k"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 1000×", Cmp::GE, 1000 },
		{ "vs LMDB: kvstore_get, hot key (cache_hot_key)",
		  [this] {
			  return ratio(peer("peer_lmdb_get_hot", "lmdb"),
				       bench("cache_hot_key"));
		  },
		  Unit::X, "—", Cmp::NONE, 0,
		  "≥ 2× faster than get in a reused read txn", Cmp::GE, 2 },
		{ "vs LMDB: kvstore_get, 10k keys (cache_uniform_10k)",
		  [this] {
			  return ratio(peer("peer_lmdb_get_10k", "lmdb"),
				       bench("cache_uniform_10k"));
		  },
		  Unit::X, "—", Cmp::NONE, 0,
		  "≥ 2× faster than get in a reused read txn", Cmp::GE, 2 },
		{ "vs LMDB: kvstore_put vs put+commit (WRITEMAP, NOSYNC)",
		  [this] {
			  return ratio(peer("peer_lmdb_put_nosync", "lmdb"),
				       bench("kvstore_put"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 2× faster", Cmp::GE, 2 },
		{ "vs LMDB: kvstore_put_strict / durable put+commit (time)",
		  [this] {
			  return ratio(bench("kvstore_put_strict"),
				       peer("peer_lmdb_put_durable", "lmdb"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≤ 1.0×", Cmp::LE, 1 },
		{ "vs Redis (unix socket): GET, unpipelined",
		  [this] {
			  return ratio(peer("peer_redis_get", "redis"),
				       bench("kvstore_get"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 100× faster", Cmp::GE, 100 },
		{ "vs Redis (unix socket): GET, pipelined",
		  [this] {
			  return ratio(
				  peer("peer_redis_get_pipelined", "redis"),
				  bench("kvstore_get"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 5× faster", Cmp::GE, 5 },
		{ "vs Redis (unix socket): SET, unpipelined",
		  [this] {
			  return ratio(peer("peer_redis_set", "redis"),
				       bench("kvstore_put"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 100× faster", Cmp::GE, 100 },
		{ "vs Redis (unix socket): SET, pipelined",
		  [this] {
			  return ratio(
				  peer("peer_redis_set_pipelined", "redis"),
				  bench("kvstore_put"));
		  },
		  Unit::X, "—", Cmp::NONE, 0, "≥ 5× faster", Cmp::GE, 5 },
		{ "kvstore_put_strict vs bare append + fdatasync, same run",
		  [this] { return strict_vs_bare(); }, Unit::X, "—", Cmp::NONE,
		  0, "≤ 1.1×", Cmp::LE, 1.1 },
	};
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
			       [this, n] {
				       return p99_over_mean(n, lat_probe(n));
			       },
			       Unit::X, "< 10× (red flag 20×)", Cmp::LT, 10,
			       "< 5×", Cmp::LT, 5 });
	}
	Table t;
	t.head = { "benchmark", "measured", "seed target",
		   "seed",	"our goal", "goal" };
	int seed_fail = 0, goal_fail = 0, pass = 0, missing = 0;
	for (const Gate &x : g) {
		Val v = x.value();
		std::string s = "", gl = "";
		if (v.kind == Val::OK) {
			if (x.seed_cmp != Cmp::NONE) {
				bool ok = passes(x.seed_cmp, v.v, x.seed);
				s = ok ? "PASS" : "FAIL";
				seed_fail += !ok;
				pass += ok;
			}
			if (x.goal_cmp != Cmp::NONE) {
				bool ok = passes(x.goal_cmp, v.v, x.goal);
				gl = ok ? "PASS" : "FAIL";
				goal_fail += !ok;
			}
		} else {
			missing += v.kind == Val::NOT_IMPL;
		}
		t.add({ x.name, val_text(v, x.unit), x.seed_text, s,
			x.goal_text, gl });
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
	Val r = ratio(bench("kvstore_put/100k@unified"),
		      bench("kvstore_put/100k"));
	out += "Goal \"vs M3 baseline, kvstore_put at 100k keys ≥ 1000×\": " +
	       val_text(r, Unit::X) +
	       (r.kind == Val::OK ? (r.v >= 1000 ? " → PASS" : " → FAIL")
				  : "") +
	       ".\n";
	return out;
}

std::string Reports::contention() const
{
	static const char *const wls[] = { "disjoint", "statecell",
					   "eventlog" };
	static const int counts[] = { 1, 2, 4, 8 };
	const int nc = cores();
	std::string out = "## Contention (tier D)\n\n";
	out += "Protocol: N worker threads, 500 ms warm-up, 2000 ms "
	       "measurement, 500 ms cool-down; every figure is over the "
	       "measurement window. " +
	       std::to_string(nc) +
	       " cores online: thread counts above that are oversubscribed "
	       "and their scaling is not judged.\n\n";
	Table t;
	t.head = { "benchmark",		  "ops/s",
		   "ops/s per thread",	  "scaling vs 1",
		   "attempts mean / max", "retry rate",
		   "p99 (mean)",	  "successes per thread",
		   "invariants" };
	std::vector<std::string> missing;
	auto &m = metrics();
	for (const char *w : wls) {
		std::string base = std::string("contention/") + w;
		if (!is_impl(base)) {
			missing.push_back(base + "/{1,2,4,8}");
			continue;
		}
		for (int n : counts) {
			std::string name = base + "/" + std::to_string(n);
			std::string p = std::string("contention.") + w + "." +
					std::to_string(n) + ".";
			std::string label =
				name + (n > nc ? " (oversubscribed)" : "");
			auto it = c_.results.find(name);
			if (it == c_.results.end()) {
				t.add({ label, "not run (filtered out)" });
				continue;
			}
			auto g = [&](const char *k) {
				auto i = m.find(p + k);
				return i == m.end() ? NAN : i->second;
			};
			if (std::isnan(g("ops_s"))) {
				t.add({ label,
					"error: " + it->second.message });
				continue;
			}
			std::string per;
			for (int i = 0; i < n; i++)
				per += (i ? " " : "") +
				       fmt("%.0f",
					   g(("t" + std::to_string(i) + ".succ")
						     .c_str()));
			std::string inv =
				g("invariants_ok") == 1
					? "PASS"
					: "FAIL: " + note(p + "failure");
			t.add({ label, fmt_rate(g("ops_s")),
				fmt_rate(g("ops_s_thread")),
				val_text(cont_scaling(w, n), Unit::X),
				fmt("%.3f", g("attempts_mean")) + " / " +
					fmt("%.0f", g("attempts_max")),
				fmt("%.4f", g("retry_rate")),
				fmt_ns(g("p99_ns")) + " (" +
					fmt_ns(g("mean_ns")) + ")",
				per, inv });
		}
	}
	if (!t.rows.empty())
		out += t.str() + "\n";
	out += "Latency: time between two consecutive clock reads of a "
	       "worker (one per operation, retries included), from a "
	       "log-linear histogram (p99 is its bucket's upper bound, at "
	       "most 6% high). Conflicting attempts are retried at once, "
	       "without backoff.\n";
	if (!missing.empty()) {
		out += "Not yet implemented:";
		for (size_t i = 0; i < missing.size(); i++)
			out += (i ? ", " : " ") + missing[i];
		out += " (no workload written yet).\n";
	}
	return out;
}

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
		out += std::string(")") + (kv.v <= 200
						   ? " → goal ≤ 200 B PASS"
						   : " → goal ≤ 200 B FAIL");
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
		       " (goal < 5 µs: " + (x < 5000 ? "PASS" : "FAIL") +
		       "); ratio " + fmt_x(r) +
		       " (goal ≤ 1.1×: " + (r <= 1.1 ? "PASS" : "FAIL") +
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
		       "cool-down). Goal: /8 ≥ 5× the commits/s of one "
		       "committer. Committers mostly wait for fdatasync, so "
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

std::string Reports::redis() const
{
	std::string out = "## 5. Redis competitiveness (same run)\n\n";
	std::string status = note("redis.status");
	if (!status.empty())
		out += "Redis: " + status + ".\n";
	else
		out += "Redis " +
		       (note("redis.version").empty()
				? std::string("(version unknown)")
				: note("redis.version")) +
		       " (" + note("redis.server") +
		       "), started by the bench on a unix socket, --save '' "
		       "--appendonly no; client " +
		       note("redis.client") +
		       ". Unpipelined: one request, wait for its reply "
		       "(client-observed latency). Pipelined: 100 operations "
		       "per round trip, cost per operation. An unpipelined "
		       "round trip depends on how fast an idle CPU wakes up "
		       "(notably in virtual machines) and can vary severalfold "
		       "between runs: compare with --benchmark_repetitions.\n";
	struct Row {
		const char *op, *rs, *redis;
	} rows[] = {
		{ "GET", "kvstore_get", "get" },
		{ "SET", "kvstore_put", "set" },
		{ "INCR", "peer_runstate_incr_txn", "incr" },
		{ "MULTI/EXEC, 2 SETs", "peer_runstate_txn_2put",
		  "multi_exec_2set" },
		{ "LPUSH", "eventlog_append", "lpush" },
		{ "LPOP", "eventlog_read", "lpop" },
	};
	Table t;
	t.head = { "op",
		   "runstate (in process)",
		   "Redis unpipelined",
		   "Redis pipelined",
		   "runstate vs unpipelined",
		   "vs pipelined" };
	std::string goals;
	for (const Row &r : rows) {
		Val rs = bench(r.rs);
		std::string rn = std::string("peer_redis_") + r.redis;
		Val un = peer(rn, "redis"),
		    pi = peer(rn + "_pipelined", "redis");
		std::string rst = rs.kind == Val::NOT_IMPL
					  ? "not yet implemented (" +
						    std::string(r.rs) + ")"
					  : std::string(r.rs) + " " +
						    val_text(rs, Unit::NS);
		Val x1 = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						  : ratio(un, rs);
		Val x2 = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						  : ratio(pi, rs);
		t.add({ r.op, rst, val_text(un, Unit::NS),
			val_text(pi, Unit::NS), val_text(x1, Unit::X),
			val_text(x2, Unit::X) });
		if (std::string(r.op) == "GET" || std::string(r.op) == "SET") {
			auto j = [](const Val &v, double g) {
				return v.kind != Val::OK ? val_text(v, Unit::X)
				       : v.v >= g	 ? fmt_x(v.v) + " PASS"
							 : fmt_x(v.v) + " FAIL";
			};
			goals += std::string(goals.empty() ? "" : "; ") + r.op +
				 ": " + j(x1, 100) + " (≥ 100× unpipelined), " +
				 j(x2, 5) + " (≥ 5× pipelined)";
		}
	}
	out += "\n" + t.str() + "\n";
	out += "Ratios: Redis time / runstate time (above 1×: runstate is "
	       "faster). Goal \"≥ 100× faster than Redis unpipelined, ≥ 5× "
	       "faster than pipelined\" (GET, SET): " +
	       goals + ".\n";
	return out;
}

std::string Reports::lmdb() const
{
	std::string out = "## 6. Embedded peer: LMDB (same run)\n\n";
	std::string status = note("lmdb.status");
	if (!status.empty())
		return out + "LMDB: " + status + ".\n";
	out += "LMDB " + note("lmdb.version") +
	       "; environments in a "
	       "temporary directory on " +
	       (note("lmdb.fs").empty() ? std::string("?") : note("lmdb.fs")) +
	       ".\n\n";
	struct Row {
		const char *what, *rs, *lm;
		double goal;
	} rows[] = {
		{ "get, hot key (10k-key database)", "cache_hot_key",
		  "peer_lmdb_get_hot", 2 },
		{ "get, uniform over 10k keys", "cache_uniform_10k",
		  "peer_lmdb_get_10k", 2 },
		{ "put + commit, non-durable (LMDB: WRITEMAP + NOSYNC)",
		  "kvstore_put", "peer_lmdb_put_nosync", 2 },
		{ "put + commit, durable (LMDB: default flags)",
		  "kvstore_put_strict", "peer_lmdb_put_durable", 0 },
	};
	Table t;
	t.head = { "workload", "runstate", "LMDB", "runstate vs LMDB", "goal" };
	for (const Row &r : rows) {
		Val rs = bench(r.rs), lm = peer(r.lm, "lmdb");
		Val x = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						 : ratio(lm, rs);
		std::string g;
		if (r.goal > 0)
			g = "≥ 2× faster" + std::string(x.kind != Val::OK ? ""
							: x.v >= r.goal
								? ": PASS"
								: ": FAIL");
		else
			g = "≤ 1.0× of LMDB's time" +
			    std::string(x.kind != Val::OK ? ""
					: x.v >= 1.0	  ? ": PASS"
							  : ": FAIL");
		t.add({ r.what,
			rs.kind == Val::NOT_IMPL
				? "not yet implemented (" + std::string(r.rs) +
					  ")"
				: std::string(r.rs) + " " +
					  val_text(rs, Unit::NS),
			std::string(r.lm) + " " + val_text(lm, Unit::NS),
			val_text(x, Unit::X), g });
	}
	out += t.str() +
	       "\nRatios: LMDB time / runstate time (above 1×: "
	       "runstate is faster). LMDB reads renew and reset one "
	       "read transaction per get and copy the value out, as "
	       "rs_kv_get does. Durable put: kvstore_put_strict (one "
	       "fdatasync per put) against LMDB's default, synced "
	       "commit, both on " +
	       (note("dur.fs").empty() ? std::string("?") : note("dur.fs")) +
	       "; the goal (≤ 1.0× of LMDB's time) holds when the ratio "
	       "is ≥ 1×.\n";
	return out;
}

std::string Reports::coverage() const
{
	std::vector<std::string> missing;
	size_t n = 0;
	for (const char *name : kCatalog) {
		n++;
		// "base/{1,2,4,8}": implemented when every expansion is.
		std::string s = name;
		size_t b = s.find('{');
		bool ok = true;
		if (b != std::string::npos && s.back() == '}') {
			std::stringstream list(
				s.substr(b + 1, s.size() - b - 2));
			std::string item;
			while (std::getline(list, item, ','))
				ok &= is_impl(s.substr(0, b) + item);
		} else {
			ok = is_impl(s);
		}
		if (!ok)
			missing.push_back(name);
	}
	std::string out = "## Catalog coverage\n\n" +
			  std::to_string(n - missing.size()) + " of " +
			  std::to_string(n) + " catalog names implemented.";
	if (missing.empty())
		out += "\n";
	else
		out += " Not yet implemented:\n" + wrap_list(missing, 78, " ");
	std::vector<std::string> peers_missing;
	for (const char *b :
	     { "eventlog_append", "eventlog_read", "kvstore_put_strict" })
		if (!is_impl(b))
			peers_missing.push_back(b);
	out += "Not yet implemented on the runstate side of reports 5 and "
	       "6: " +
	       (peers_missing.empty() ? std::string("nothing.\n")
				      : wrap_list(peers_missing, 78, ""));
	return out;
}

std::string Reports::against(const Baseline &b, const Env &now) const
{
	auto be = [&b](const char *k) {
		auto it = b.env.find(k);
		return it == b.env.end() ? std::string("?") : it->second;
	};
	std::string out = "## Against baseline '" + b.name + "'\n\n";
	out += "Recorded " + be("timestamp") + ", commit " + be("git_commit") +
	       ", " + be("build_type") + ", " + be("cpu") + ".\n";
	for (const char *k : { "cpu", "build_type", "allocator", "c_compiler" })
		if (b.env.count(k) && b.env.at(k) != env_get(now, k))
			out += "WARNING: " + std::string(k) +
			       " differs (baseline: " + b.env.at(k) +
			       "; now: " + env_get(now, k) +
			       "): compare with care.\n";
	Table t;
	t.head = { "benchmark", "baseline", "now", "change", "" };
	int slower = 0, faster = 0;
	for (const auto &n : c_.order) {
		auto it = b.results_ns.find(n);
		Val v = bench(n);
		if (it == b.results_ns.end() || v.kind != Val::OK)
			continue;
		double base = std::strtod(it->second.c_str(), nullptr);
		if (!(base > 0))
			continue;
		double ch = v.v / base - 1;
		std::string verdict = ch > 0.10	   ? "slower"
				      : ch < -0.10 ? "faster"
						   : "";
		slower += ch > 0.10;
		faster += ch < -0.10;
		t.add({ n, fmt_ns(base), fmt_ns(v.v), fmt("%+.1f%%", ch * 100),
			verdict });
	}
	if (t.rows.empty())
		return out + "No benchmark in common with this run.\n";
	out += "\n" + t.str() + "\n" + std::to_string(slower) + " slower and " +
	       std::to_string(faster) +
	       " faster by more than 10% (single runs on a shared machine "
	       "vary by several percent; repeat before concluding).\n";
	return out;
}

// Adds the environment record ("runstate_env", inside "context") and the
// probes' metrics ("runstate_metrics", at the top level) to Google
// Benchmark's JSON output, so the file stands alone.
bool enrich_json(const std::string &path, const Env &env, std::string *err)
{
	std::ifstream in(path);
	if (!in) {
		*err = "cannot read " + path;
		return false;
	}
	std::stringstream ss;
	ss << in.rdbuf();
	in.close();
	std::string text = ss.str();
	const std::string ctx = "\"context\": {";
	size_t c = text.find(ctx);
	size_t e = text.find_last_of('}');
	if (c == std::string::npos || e == std::string::npos || e < c) {
		*err = path + ": unexpected JSON layout; left as written";
		return false;
	}
	size_t p = text.find_last_not_of(" \t\r\n", e - 1);
	std::string m = ",\n  \"runstate_metrics\": {";
	size_t i = 0;
	char num[64];
	for (const auto &kv : metrics()) {
		std::snprintf(num, sizeof(num), "%.6g", kv.second);
		m += std::string(i++ ? "," : "") + "\n    \"" +
		     json_escape(kv.first) + "\": " + num;
	}
	m += "\n  },\n  \"runstate_notes\": {";
	i = 0;
	for (const auto &kv : notes())
		m += std::string(i++ ? "," : "") + "\n    \"" +
		     json_escape(kv.first) + "\": \"" + json_escape(kv.second) +
		     "\"";
	m += "\n  }";
	text.insert(p + 1, m);
	std::string en = "\n    \"runstate_env\": {";
	for (size_t k = 0; k < env.size(); k++)
		en += std::string(k ? "," : "") + "\n      \"" +
		      json_escape(env[k].first) + "\": \"" +
		      json_escape(env[k].second) + "\"";
	en += "\n    },";
	text.insert(c + ctx.size(), en);
	std::ofstream out(path);
	out << text;
	if (!out) {
		*err = "cannot write " + path;
		return false;
	}
	return true;
}

// ---------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------

struct Args {
	std::string save_baseline, baseline, results_dir = "bench-results";
	bool help = false, list_only = false, user_out = false,
	     user_min_time = false;
	std::string format = "console", color = "auto";
	bool tabular = false;
	std::string out_path, out_format = "json";
	std::string min_time = kDefaultMinTime;
	std::vector<std::string> pass; // to benchmark::Initialize
};

bool starts(const std::string &s, const char *p)
{
	return s.rfind(p, 0) == 0;
}

bool truthy(const std::string &v)
{
	return v.empty() || v == "true" || v == "yes" || v == "1" || v == "on";
}

void usage()
{
	std::cout
		<< "runstate_bench: the runstate benchmark suite "
		   "(spec/benchmarks.md)\n\n"
		   "  --save-baseline NAME  save this run as "
		   "<results-dir>/baseline-NAME.json\n"
		   "  --baseline NAME       compare this run with a saved "
		   "baseline\n"
		   "  --results-dir DIR     where results.json, report.md and "
		   "baselines go\n"
		   "                        (default: bench-results)\n"
		   "  --benchmark_*         Google Benchmark's own flags, "
		   "passed through\n"
		   "                        (default --benchmark_min_time="
		<< kDefaultMinTime << ")\n\n"
		<< std::flush;
}

bool parse_args(int argc, char **argv, Args *a, std::string *err)
{
	a->pass.push_back(argv[0]);
	for (int i = 1; i < argc; i++) {
		std::string s = argv[i];
		auto take = [&](const char *flag, std::string *dst) {
			std::string f = flag;
			if (s == f) {
				if (i + 1 >= argc) {
					*err = f + " needs a value";
					return true;
				}
				*dst = argv[++i];
				return true;
			}
			if (starts(s, (f + "=").c_str())) {
				*dst = s.substr(f.size() + 1);
				return true;
			}
			return false;
		};
		if (take("--save-baseline", &a->save_baseline) ||
		    take("--baseline", &a->baseline) ||
		    take("--results-dir", &a->results_dir)) {
			if (!err->empty())
				return false;
			continue;
		}
		if (s == "--help" || s == "-h") {
			a->help = true;
			a->pass.push_back("--help");
			continue;
		}
		if (starts(s, "--benchmark_out=")) {
			a->user_out = true;
			a->out_path = s.substr(16);
		}
		if (starts(s, "--benchmark_out_format="))
			a->out_format = s.substr(23);
		if (starts(s, "--benchmark_format="))
			a->format = s.substr(19);
		if (starts(s, "--benchmark_color="))
			a->color = s.substr(18);
		if (starts(s, "--benchmark_counters_tabular"))
			a->tabular = truthy(s.size() > 28 ? s.substr(29) : "");
		if (starts(s, "--benchmark_min_time=")) {
			a->user_min_time = true;
			a->min_time = s.substr(21);
		}
		if (starts(s, "--benchmark_list_tests"))
			a->list_only =
				truthy(s.size() > 22 ? s.substr(23) : "");
		a->pass.push_back(s);
	}
	for (const std::string *n : { &a->save_baseline, &a->baseline })
		if (!n->empty() && !valid_baseline_name(*n)) {
			*err = "baseline name '" + *n +
			       "': use letters, digits, '-', '_' or '.'";
			return false;
		}
	if (!a->user_min_time)
		a->pass.push_back(std::string("--benchmark_min_time=") +
				  kDefaultMinTime);
	if (!a->user_out && !a->help && !a->list_only) {
		a->out_path = a->results_dir + "/results.json";
		a->pass.push_back("--benchmark_out=" + a->out_path);
		a->pass.push_back("--benchmark_out_format=json");
	}
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	Args a;
	std::string err;

	if (!parse_args(argc, argv, &a, &err)) {
		std::cerr << "runstate_bench: " << err << "\n";
		usage();
		return 2;
	}
	if (a.help)
		usage();

#define RS__SUITE(s) rs_bench_suite_##s();
	RS_BENCH_SUITES(RS__SUITE)
#undef RS__SUITE

	if (!a.help && !a.list_only) {
		std::error_code ec;
		std::filesystem::create_directories(a.results_dir, ec);
		if (ec) {
			std::cerr << "runstate_bench: cannot create "
				  << a.results_dir << ": " << ec.message()
				  << "\n";
			return 1;
		}
	}

	Baseline base;
	if (!a.baseline.empty() &&
	    !load_baseline(baseline_path(a.results_dir, a.baseline), &base,
			   &err)) {
		std::cerr << "runstate_bench: --baseline: " << err << "\n";
		return 1;
	}

	std::vector<char *> pargv;
	for (auto &s : a.pass)
		pargv.push_back(const_cast<char *>(s.c_str()));
	pargv.push_back(nullptr);
	int pargc = static_cast<int>(pargv.size() - 1);

	Env env = collect_env(a.min_time);
	benchmark::Initialize(&pargc, pargv.data());
	if (benchmark::ReportUnrecognizedArguments(pargc, pargv.data()))
		return 2;

	// Reports go to stdout beside the console output; when stdout carries
	// Google Benchmark's JSON or CSV, they go to stderr instead.
	std::ostream &rep = a.format == "console" ? std::cout : std::cerr;
	std::string envtxt = env_text(env);
	if (!a.list_only)
		rep << envtxt << "\n" << std::flush;

	bool color = a.color == "auto"
			     ? isatty(STDOUT_FILENO) && getenv("TERM") &&
				       std::strcmp(getenv("TERM"), "dumb") != 0
			     : truthy(a.color);
	std::unique_ptr<benchmark::BenchmarkReporter> inner;
	if (a.format == "json") {
		inner.reset(new benchmark::JSONReporter());
	} else if (a.format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		inner.reset(new benchmark::CSVReporter());
#pragma GCC diagnostic pop
	} else {
		int oo = benchmark::ConsoleReporter::OO_None;
		if (color)
			oo |= benchmark::ConsoleReporter::OO_Color;
		if (a.tabular)
			oo |= benchmark::ConsoleReporter::OO_Tabular;
		inner.reset(new benchmark::ConsoleReporter(
			static_cast<benchmark::ConsoleReporter::OutputOptions>(
				oo)));
	}
	Collector col(inner.get());
	benchmark::RunSpecifiedBenchmarks(&col);
	benchmark::Shutdown();
	if (a.list_only || col.results.empty())
		return 0;

	// Probes: after the timed runs, for the benchmarks that ran.
	for (const Probe &p : probes()) {
		auto it = col.results.find(p.related);
		if (it == col.results.end() || it->second.error)
			continue;
		rep << "probe: " << p.name << "\n" << std::flush;
		p.fn();
	}

	Reports r(col);
	std::string text = r.facade_tax() + "\n" + r.red_flags() + "\n" +
			   r.gates() + "\n" + r.m3() + "\n" + r.contention() +
			   "\n" + r.locality() + "\n" + r.durability() + "\n" +
			   r.redis() + "\n" + r.lmdb() + "\n";
	if (!a.baseline.empty())
		text += r.against(base, env) + "\n";
	text += r.coverage();
	rep << "\n# runstate benchmark reports\n\n" << text << std::flush;

	if (!a.out_path.empty() && a.out_format == "json" &&
	    !enrich_json(a.out_path, env, &err))
		std::cerr << "runstate_bench: " << err << "\n";
	std::string md = a.results_dir + "/report.md";
	std::ofstream f(md);
	f << "# runstate benchmark report\n\n" << envtxt << "\n" << text;
	if (!f)
		std::cerr << "runstate_bench: cannot write " << md << "\n";
	rep << "\nWritten: " << md;
	if (!a.user_out)
		rep << ", " << a.results_dir << "/results.json";

	if (!a.save_baseline.empty()) {
		std::string path =
			baseline_path(a.results_dir, a.save_baseline);
		if (!save_baseline(path, a.save_baseline, env, col, &err)) {
			std::cerr
				<< "\nrunstate_bench: --save-baseline: " << err
				<< "\n";
			return 1;
		}
		rep << ", " << path;
	}
	rep << "\n";
	return 0;
}
