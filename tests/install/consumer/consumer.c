/* SPDX-License-Identifier: MIT */
#include <runstate.h>

#include <stdio.h>

int main(void)
{
	const char *v = rs_version_string();
	const char *e = rs_strerror(RS_EINVAL);

	if (v == NULL || e == NULL || *e == '\0')
		return 1;
	printf("C consumer: runstate %s, RS_EINVAL: %s\n", v, e);
	return 0;
}
