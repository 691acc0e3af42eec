/* SPDX-License-Identifier: MIT */
/* The backend-author header alone: it brings <runstate.h> along. */
#include <runstate/durability.h>

#include <cstdio>

int main()
{
	const char *v = rs_version_string();
	const char *e = rs_strerror(RS_EINVAL);
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;

	if (v == nullptr || e == nullptr || *e == '\0' ||
	    ops.version != RS_DURABILITY_OPS_VERSION)
		return 1;
	std::printf("C++ consumer: runstate %s, RS_EINVAL: %s\n", v, e);
	return 0;
}
