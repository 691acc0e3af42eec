/* SPDX-License-Identifier: MIT */
/* runstate.h must come first: it has to stand on its own. */
#include <runstate.h>

#include <cstdio>
#include <cstring>

int main()
{
	const char *v = rs_version_string();

	if (v == nullptr || std::strstr(v, RS_EXPECTED_VERSION) == nullptr) {
		std::fprintf(stderr,
			     "rs_version_string() = \"%s\", want \"%s\"\n",
			     v ? v : "(null)", RS_EXPECTED_VERSION);
		return 1;
	}
	std::printf("C++17: runstate %s\n", v);
	return 0;
}
