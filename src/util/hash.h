/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_HASH_H
#define RS_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/*
 * Key hash: XXH3-64 with the database's seed, mixed with the primitive tag
 * so the same bytes under two tags land apart.
 */
static inline uint64_t rs__hash_key(uint64_t seed, uint8_t tag, const void *key,
				    size_t len)
{
	return XXH3_64bits_withSeed(key, len, seed ^ ((uint64_t)tag << 56));
}

static inline uint64_t rs__hash_bytes(uint64_t seed, const void *p, size_t len)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

#endif
