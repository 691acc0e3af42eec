/* SPDX-License-Identifier: MIT */
#ifndef RS_DURABILITY_DURABILITY_H
#define RS_DURABILITY_DURABILITY_H

#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "util/alloc.h"
#include "util/op.h"

/*
 * The durability layer sits beneath the commit path: every committed write
 * transaction hands exactly one record to it, under its run's commit lock,
 * after validation and before its versions become visible. A backend that
 * fails leaves the commit unapplied.
 */
/*
 * Record kinds. RS__REC_DROP_RUN (RunIndex delete) carries, besides the
 * ops of its own run (the nil run's RunIndex metadata), a second run whose
 * every key it removes: replaying it drops all of drop_run's keys and sets
 * that run's version to drop_version. Both halves are one atomic record.
 */
enum {
	RS__REC_COMMIT = 0,
	RS__REC_DROP_RUN = 1
};

typedef struct rs__commit_record {
	const rs_run_id *run;
	uint64_t version;      /* the run's new commit version */
	uint64_t timestamp_ns; /* 0: the backend stamps it if it logs */
	const rs__op *ops;
	size_t nops;
	rs_durability mode; /* the mode this commit asks for */
	int kind;	    /* RS__REC_* */
	/* RS__REC_DROP_RUN only (NULL and 0 otherwise). */
	const rs_run_id *drop_run;
	uint64_t drop_version; /* drop_run's new commit version */
} rs__commit_record;

typedef struct rs__durability_ops {
	uint32_t version;
	/* Must provide. Returns 0 once the record is as durable as
	 * rec->mode promises, or RS_EIO. */
	int (*commit)(void *state, const rs__commit_record *rec);
	/* May be NULL. Flush and release everything. */
	void (*close)(void *state);
} rs__durability_ops;

typedef struct rs__durability {
	const rs__durability_ops *ops;
	void *state;
} rs__durability;

/* InMemory: no files; every commit is accepted as is. */
int rs__durability_mem_open(rs__durability *out, const rs__alloc *a);

#endif
