/* SPDX-License-Identifier: MIT */
/* runstate/perf.h must come first: it has to stand on its own. */
#include <runstate/perf.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	rs_perf_stats s = RS_PERF_STATS_INIT;
	int rc = rs_perf_read(&s);

	/* Either build links: the option decides only what the calls do. */
	if (rc != 0 && rc != RS_ENOTSUP) {
		fprintf(stderr, "rs_perf_read: %s\n", rs_errname(rc));
		return 1;
	}
	if (strcmp(rs_perf_phase_name(RS_PERF_SYNC), "sync") != 0)
		return 1;
	printf("C11: runstate/perf.h alone, rs_perf_read: %s\n",
	       rs_errname(rc));
	return 0;
}
