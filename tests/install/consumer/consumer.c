/* SPDX-License-Identifier: MIT */
/* The umbrella header: it brings <runstate/durability.h> along. */
#include <runstate.h>

#include <stdio.h>

#ifdef RS_EXPERIMENTAL_API
#error "the installed package must not define RS_EXPERIMENTAL_API"
#endif

int main(void)
{
	const char *v = rs_version_string();
	const char *e = rs_strerror(RS_EINVAL);
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;

	if (v == NULL || e == NULL || *e == '\0' ||
	    ops.version != RS_DURABILITY_OPS_VERSION)
		return 1;
	printf("C consumer: runstate %s, RS_EINVAL: %s\n", v, e);
	return 0;
}
