/* SPDX-License-Identifier: MIT */
/*
 * Compiled, never linked, by the header_experimental_{hidden,shown} tests:
 * RS_STORAGE_UNIFIED must exist with RS_EXPERIMENTAL_API and only then.
 */
#include <runstate.h>

int main(void)
{
	rs_storage s = RS_STORAGE_UNIFIED;

	return s == RS_STORAGE_SHARDED;
}
