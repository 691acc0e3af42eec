// SPDX-License-Identifier: MIT

#include "env.h"

#include "format.h"

#include <runstate.h>

#include <ctime>
#include <fstream>

#include <sys/utsname.h>
#include <unistd.h>

#ifdef RS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

// What the build recorded (bench/CMakeLists.txt).
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

// The first line of the file at path that starts with prefix, or "".
std::string find_line(const char *path, const char *prefix)
{
	std::ifstream f(path);
	std::string line;
	while (f && std::getline(f, line))
		if (line.rfind(prefix, 0) == 0)
			return line;
	return "";
}

std::string os_name()
{
	const std::string key = "PRETTY_NAME=";
	std::string v = find_line("/etc/os-release", key.c_str());
	if (v.empty())
		return "unknown";
	v = v.substr(key.size());
	if (v.size() >= 2 && v.front() == '"')
		v = v.substr(1, v.size() - 2);
	return v;
}

std::string cpu_model()
{
	std::string line = find_line("/proc/cpuinfo", "model name");
	size_t c = line.find(':');
	return c == std::string::npos ? "unknown" : trim(line.substr(c + 1));
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

} // namespace

Env collect_env(const std::string &min_time, bool quick)
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
	e.emplace_back("mode",
		       quick ? "QUICK (1/10 of the data; not for gating)"
			     : "full");
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
