// SPDX-License-Identifier: MIT

#include "results.h"

#include "registry.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using ordered_json = nlohmann::ordered_json;

namespace
{

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

// Six significant digits, as the baselines have always been written; a
// value that is not finite becomes null.
ordered_json num6(double v)
{
	if (!std::isfinite(v))
		return nullptr;
	char buf[64];
	std::snprintf(buf, sizeof(buf), "%.6g", v);
	return std::strtod(buf, nullptr);
}

ordered_json env_json(const Env &env)
{
	ordered_json o = ordered_json::object();
	for (const auto &kv : env)
		o[kv.first] = kv.second;
	return o;
}

// Baselines keep six digits; results.json every digit, so the reports
// read back from it print what was measured.
ordered_json metrics_json(bool full)
{
	ordered_json o = ordered_json::object();
	for (const auto &m : metrics())
		o[m.first] = !full		       ? num6(m.second)
			     : std::isfinite(m.second) ? ordered_json(m.second)
						       : ordered_json(nullptr);
	return o;
}

bool read_json(const std::string &path, ordered_json *j, std::string *err)
{
	std::ifstream f(path);
	if (!f) {
		*err = "cannot read " + path;
		return false;
	}
	std::stringstream ss;
	ss << f.rdbuf();
	*j = ordered_json::parse(ss.str(), nullptr, false);
	if (j->is_discarded() || !j->is_object()) {
		*err = path + ": not a JSON object";
		return false;
	}
	return true;
}

bool write_json(const std::string &path, const ordered_json &j,
		std::string *err)
{
	std::ofstream f(path);
	if (!f) {
		*err = "cannot write " + path;
		return false;
	}
	f << j.dump(2) << "\n";
	if (!f) {
		*err = "write failed: " + path;
		return false;
	}
	return true;
}

// A number, or a string holding one (older writers); NAN otherwise.
double as_number(const ordered_json &v)
{
	if (v.is_number())
		return v.get<double>();
	if (v.is_string())
		return std::strtod(v.get<std::string>().c_str(), nullptr);
	return NAN;
}

template <typename Map, typename Conv>
void read_map(const ordered_json &o, const char *key, Map *out, Conv conv)
{
	auto it = o.find(key);
	if (it == o.end() || !it->is_object())
		return;
	for (const auto &kv : it->items())
		(*out)[kv.key()] = conv(kv.value());
}

} // namespace

void Collector::keep(const std::string &name, const Result &r)
{
	auto it = results.find(name);
	if (it == results.end())
		order.push_back(name);
	Result &res = results[name];
	if (r.rank < res.rank)
		return;
	res = r;
}

void Collector::take(const Run &r)
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
	Result res;
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
	keep(r.run_name.str(), res);
}

bool enrich_json(const std::string &path, const Env &env, std::string *err)
{
	ordered_json j;
	if (!read_json(path, &j, err)) {
		*err += "; left as written";
		return false;
	}
	// The record goes first inside "context", as it always has.
	ordered_json ctx = ordered_json::object();
	ctx["runstate_env"] = env_json(env);
	auto c = j.find("context");
	if (c != j.end() && c->is_object())
		for (const auto &kv : c->items())
			ctx[kv.key()] = kv.value();
	j["context"] = ctx;
	j["runstate_metrics"] = metrics_json(true);
	ordered_json n = ordered_json::object();
	for (const auto &kv : notes())
		n[kv.first] = kv.second;
	j["runstate_notes"] = n;
	return write_json(path, j, err);
}

namespace
{

double unit_ns(const std::string &u)
{
	return u == "us" ? 1e3 : u == "ms" ? 1e6 : u == "s" ? 1e9 : 1;
}

// The fields of a benchmark entry that are not user counters.
bool gb_field(const std::string &k)
{
	static const char *const fields[] = {
		"name",
		"family_index",
		"per_family_instance_index",
		"run_name",
		"run_type",
		"repetitions",
		"repetition_index",
		"threads",
		"aggregate_name",
		"aggregate_unit",
		"iterations",
		"real_time",
		"cpu_time",
		"time_unit",
		"error_occurred",
		"error_message",
		"skipped",
		"skip_message",
		"label",
		"big_o",
		"rms",
		"complexity_n",
	};
	for (const char *f : fields)
		if (k == f)
			return true;
	return false;
}

std::string str_of(const ordered_json &o, const char *k)
{
	auto it = o.find(k);
	return it != o.end() && it->is_string() ? it->get<std::string>()
						: std::string();
}

// One entry of "benchmarks", as Collector::take reads a Run.
void take_entry(const ordered_json &b, Collector *c)
{
	std::string name = str_of(b, "run_name");
	if (name.empty())
		name = str_of(b, "name");
	if (name.empty())
		return;
	Result r;
	r.rank = 0;
	if (str_of(b, "run_type") == "aggregate") {
		std::string a = str_of(b, "aggregate_name");
		if (a == "median")
			r.rank = 2;
		else if (a == "mean")
			r.rank = 1;
		else
			return;
	}
	auto e = b.find("error_occurred");
	r.error = e != b.end() && e->is_boolean() && e->get<bool>();
	r.message = str_of(b, "error_message");
	if (r.message.empty())
		r.message = str_of(b, "skip_message");
	auto it = b.find("iterations");
	if (it != b.end() && it->is_number())
		r.iterations = it->get<int64_t>();
	if (!r.error) {
		double f = unit_ns(str_of(b, "time_unit"));
		r.real_ns = as_number(b.value("real_time", ordered_json()));
		r.cpu_ns = as_number(b.value("cpu_time", ordered_json()));
		r.real_ns *= f;
		r.cpu_ns *= f;
	}
	for (const auto &kv : b.items())
		if (!gb_field(kv.key()) && kv.value().is_number())
			r.counters[kv.key()] = kv.value().get<double>();
	c->keep(name, r);
}

} // namespace

bool load_results(const std::string &path, Collector *c, Env *env,
		  std::string *err)
{
	ordered_json j;
	if (!read_json(path, &j, err))
		return false;
	auto bs = j.find("benchmarks");
	if (bs == j.end() || !bs->is_array()) {
		*err = path + ": no \"benchmarks\" array: not Google "
			      "Benchmark's JSON output";
		return false;
	}
	for (const auto &b : *bs)
		if (b.is_object())
			take_entry(b, c);
	env->clear();
	auto ctx = j.find("context");
	if (ctx != j.end() && ctx->is_object()) {
		auto e = ctx->find("runstate_env");
		if (e != ctx->end() && e->is_object())
			for (const auto &kv : e->items())
				env->emplace_back(
					kv.key(),
					kv.value().is_string()
						? kv.value().get<std::string>()
						: kv.value().dump());
	}
	metrics().clear();
	read_map(j, "runstate_metrics", &metrics(), as_number);
	notes().clear();
	read_map(j, "runstate_notes", &notes(), [](const ordered_json &v) {
		return v.is_string() ? v.get<std::string>() : v.dump();
	});
	return true;
}

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
	ordered_json j;
	if (!read_json(path, &j, err)) {
		if (err->rfind("cannot read", 0) != 0)
			*err = path + ": not a runstate baseline file";
		return false;
	}
	auto name = j.find("name");
	b->name = name != j.end() && name->is_string()
			  ? name->get<std::string>()
			  : std::string();
	read_map(j, "env", &b->env, [](const ordered_json &v) {
		return v.is_string() ? v.get<std::string>() : v.dump();
	});
	read_map(j, "results_ns", &b->results_ns, as_number);
	read_map(j, "metrics", &b->metrics, as_number);
	return true;
}

bool save_baseline(const std::string &path, const std::string &name,
		   const Env &env, const Collector &c, std::string *err)
{
	ordered_json j;
	j["format"] = "runstate-bench-baseline/1";
	j["name"] = name;
	j["env"] = env_json(env);
	ordered_json res = ordered_json::object();
	for (const auto &n : c.order)
		if (!c.results.at(n).error)
			res[n] = num6(c.results.at(n).real_ns);
	j["results_ns"] = res;
	j["metrics"] = metrics_json(false);
	return write_json(path, j, err);
}
