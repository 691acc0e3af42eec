/* SPDX-License-Identifier: MIT */
#include <runstate.h>

#include <cstdio>

int main()
{
	const char *v = rs_version_string();
	const char *e = rs_strerror(RS_EINVAL);

	if (v == nullptr || e == nullptr || *e == '\0')
		return 1;
	std::printf("C++ consumer: runstate %s, RS_EINVAL: %s\n", v, e);
	return 0;
}
