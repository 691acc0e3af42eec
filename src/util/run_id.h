/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_RUN_ID_H
#define RS_UTIL_RUN_ID_H

#include <stdbool.h>
#include <string.h>

#include <runstate.h>

/*
 * Run ids. The public rs_run_id_* functions are implemented in run_id.c,
 * here at the bottom of the layers, because every layer names runs: the
 * txn layer (the nil run's lock order), durability (records and images)
 * and the primitives.
 */

/* Whether two run ids are equal. */
static inline bool rs__run_id_eq(const rs_run_id *a, const rs_run_id *b)
{
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* The nil run (all zero bytes): the RunIndex's own run. */
extern const rs_run_id rs__nil_run;

#endif
