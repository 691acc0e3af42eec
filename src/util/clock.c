/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "util/clock.h"

#include <time.h>

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rs__clock_realtime_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

uint64_t rs__clock_monotonic_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

void rs__clock_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
			       (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) != 0)
		;
}
