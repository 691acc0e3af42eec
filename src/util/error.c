/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const messages[] = {
#define XX(name, msg) msg,
	RS_ERROR_MAP(XX)
#undef XX
};

static const char *const names[] = {
#define XX(name, msg) "RS_" #name,
	RS_ERROR_MAP(XX)
#undef XX
};

const char *rs_strerror(int rc)
{
	if (rc == 0)
		return "success";
	if (rc < 0 && rc >= -(int)RS__ERROR_COUNT)
		return messages[-rc - 1];
	return "unknown error";
}

const char *rs_errname(int rc)
{
	if (rc == 0)
		return "RS_OK";
	if (rc < 0 && rc >= -(int)RS__ERROR_COUNT)
		return names[-rc - 1];
	return "RS_UNKNOWN";
}

#ifndef NDEBUG
/*
 * Debug builds say where an error was raised when RS_DEBUG_TRACE is set in
 * the environment; the check is cached after the first call.
 */
void rs__debug_log(const char *file, int line, const char *what, int rc)
{
	static int enabled = -1;

	if (enabled < 0)
		enabled = getenv("RS_DEBUG_TRACE") != NULL;
	if (enabled)
		fprintf(stderr, "runstate: %s:%d: %s -> %s\n", file, line, what,
			rs_errname(rc));
}
#endif
