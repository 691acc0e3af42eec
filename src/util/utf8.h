/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_UTF8_H
#define RS_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether `len` bytes are well-formed UTF-8 (RFC 3629): no overlong forms,
 * no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence. NUL bytes are well-formed.
 */
bool rs__utf8_valid(const void *s, size_t len);

#endif
