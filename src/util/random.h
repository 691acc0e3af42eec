/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_RANDOM_H
#define RS_UTIL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf from the OS random source. Returns 0 or RS_EIO. */
int rs__random_bytes(void *buf, size_t len);

/* A fast per-thread PRNG (xorshift64*), seeded from the OS on first use;
 * for backoff jitter, never for anything secret. */
uint64_t rs__random_fast(void);

/*
 * RS_DEBUG_YIELD builds (-DRS_DEBUG_YIELD=ON) yield the CPU at random at
 * the points marked with RS_DEBUG_YIELD_POINT(), between the steps of the
 * concurrency protocols, to widen race windows in stress tests (liburcu's
 * DEBUG_YIELD). Other builds compile the marks to nothing.
 */
#ifdef RS_DEBUG_YIELD
void rs__debug_yield(void);
#define RS_DEBUG_YIELD_POINT() rs__debug_yield()
#else
#define RS_DEBUG_YIELD_POINT() ((void)0)
#endif

#endif
