/* SPDX-License-Identifier: MIT */
/* runstate/perf.h must come first: it has to stand on its own. */
#include <runstate/perf.h>

#include <cstdio>
#include <string>

int main()
{
	rs_perf_stats s = RS_PERF_STATS_INIT;
	int rc = rs_perf_reset();

	if (rc == 0)
		rc = rs_perf_read(&s);
	if (rc != 0 && rc != RS_ENOTSUP) {
		std::fprintf(stderr, "rs_perf_*: %s\n", rs_errname(rc));
		return 1;
	}
	if (std::string(rs_perf_phase_name(RS_PERF_READ)) != "read")
		return 1;
	std::printf("C++17: runstate/perf.h alone, %s\n", rs_errname(rc));
	return 0;
}
