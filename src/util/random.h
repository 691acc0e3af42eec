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

#endif
