/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "util/random.h"

#include <errno.h>
#include <sched.h>
#include <sys/random.h>

#include <runstate.h>

#include "util/clock.h"

int rs__random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return RS_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint64_t rs__random_fast(void)
{
	static _Thread_local uint64_t state;
	uint64_t x = state;

	if (x == 0) {
		if (rs__random_bytes(&x, sizeof(x)) < 0 || x == 0)
			x = rs__clock_monotonic_ns() | 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#ifdef RS_DEBUG_YIELD
void rs__debug_yield(void)
{
	/* About one mark in four yields. */
	if ((rs__random_fast() & 3) == 0)
		sched_yield();
}
#endif
