/* SPDX-License-Identifier: MIT */
/* runstate.h must come first: it has to stand on its own. */
#include <runstate.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	const char *v = rs_version_string();

	if (v == NULL || strstr(v, RS_EXPECTED_VERSION) == NULL) {
		fprintf(stderr, "rs_version_string() = \"%s\", want \"%s\"\n",
			v ? v : "(null)", RS_EXPECTED_VERSION);
		return 1;
	}
	printf("C11: runstate %s\n", v);
	return 0;
}
