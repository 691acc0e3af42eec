/* SPDX-License-Identifier: MIT */
#include "durability/durability.h"

static int mem_commit(void *state, const rs__commit_record *rec)
{
	(void)state;
	(void)rec;
	return 0;
}

/* Nothing to recover, flush, checkpoint, count or close. */
static const rs__durability_ops mem_ops = { .commit = mem_commit };

int rs__durability_mem_open(rs__durability *out, const rs__alloc *a)
{
	(void)a;
	out->ops = &mem_ops;
	out->state = NULL;
	return 0;
}
