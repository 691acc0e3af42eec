/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_ERROR_H
#define RS_UTIL_ERROR_H

#include <runstate.h>

#if defined(__GNUC__) || defined(__clang__)
#define RS_LIKELY(x) __builtin_expect(!!(x), 1)
#define RS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RS_LIKELY(x) (x)
#define RS_UNLIKELY(x) (x)
#endif

#ifndef NDEBUG
void rs__debug_log(const char *file, int line, const char *what, int rc);
#define RS__TRACE(what, rc) rs__debug_log(__FILE__, __LINE__, (what), (rc))
#else
#define RS__TRACE(what, rc) ((void)0)
#endif

/* Forward a negative return code. */
#define RS_TRY(expr)                               \
	do {                                       \
		int rs__rc_ = (expr);              \
		if (RS_UNLIKELY(rs__rc_ < 0)) {    \
			RS__TRACE(#expr, rs__rc_); \
			return rs__rc_;            \
		}                                  \
	} while (0)

/* Return RS_EINVAL when an argument check fails. */
#define RS_CHECK_ARG(cond)                           \
	do {                                         \
		if (RS_UNLIKELY(!(cond))) {          \
			RS__TRACE(#cond, RS_EINVAL); \
			return RS_EINVAL;            \
		}                                    \
	} while (0)

#endif
