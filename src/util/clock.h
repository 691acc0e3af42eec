/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_CLOCK_H
#define RS_UTIL_CLOCK_H

#include <stdint.h>

/* Wall-clock time in nanoseconds since the Unix epoch (timestamps). */
uint64_t rs__clock_realtime_ns(void);
/* Monotonic time in nanoseconds (durations, timeouts). */
uint64_t rs__clock_monotonic_ns(void);
/* Sleep for about `ns` nanoseconds. */
void rs__clock_sleep_ns(uint64_t ns);

#endif
