/* SPDX-License-Identifier: MIT */
/*
 * The model-based test's driver: random steps over a few runs (slots),
 * each applied to the library and to the reference model
 * (tests/common/statemodel.h for the runs' data, a plain array here for
 * the RunIndex), comparing every return code, every value read and, on
 * demand, the whole state. Steps: one-shot writes of every primitive;
 * explicit transactions mixing writes and reads of every primitive that
 * commit, abort, are read-only, or meet a second commit in between (which
 * must make them conflict, or must not, by construction); rs_txn_run()
 * bodies that commit, fail or keep conflicting; one-shot reads (KV get,
 * get_many, list, scans, cursors; EventLog read, range, by type, head,
 * verify; StateCell read, list, scan; every TraceStore query; RunIndex
 * get, by name, list and queries with paging); RunIndex create,
 * transitions (invalid ones too), archive and writes to archived runs,
 * delete; flush, checkpoint and reopen.
 *
 * A deleted run's slot takes a fresh id or keeps the deleted one, whose
 * next life must start past everything the last one used (versions,
 * sequences, trace ids, cell versions: docs/primitives.md, "Lives of a
 * run id"). Before a slot's life begins its base follows the library's
 * (the drop mark moves with every delete); in a shared database a life
 * begins at once, with a KV put, since other workers move the mark.
 *
 * Deterministic for a seed as long as the library agrees with the model:
 * every draw depends on the model only. No CMocka (soak workers use it):
 * a failing step returns false with a description in md.why.
 */
#ifndef RS_TESTS_MODEL_DRIVER_H
#define RS_TESTS_MODEL_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include <runstate.h>

#include "common/statemodel.h"

#define MD_SLOTS 5

typedef struct md_cfg {
	rs_durability mode;
	rs_storage storage;
	uint64_t ckpt_bytes;	/* 0: never automatically */
	uint64_t segment_bytes; /* 0: the default */
	/* Soak: the worker's number (ids, names and tags carry it) and
	 * whether other workers use the database at the same time (then the
	 * driver never reopens, and RunIndex listings are filtered to its
	 * own runs). */
	unsigned worker;
	bool shared;
	/* The test opened the database with a durability_ops backend whose
	 * checkpoint works (InMemory mode otherwise: no reopen). */
	bool backend_checkpoints;
} md_cfg;

typedef struct md_reg {
	rs_run_id id;
	rs_run_status st;
	char name[SM_TXT]; /* "" when unnamed */
	bool has_parent;
	rs_run_id parent;
	char tags[2][SM_TXT];
	size_t ntags;
	unsigned char meta[8];
	size_t mlen;
} md_reg;

typedef struct md {
	md_cfg cfg;
	rs_db **dbp; /* the database (reopen replaces it) */
	const char *dir;
	uint64_t rng;
	long step;
	sm_run runs[MD_SLOTS];
	uint32_t gen[MD_SLOTS];
	/* The least base a slot's next life may have (UINT64_MAX: 0 exactly,
	 * no run of the database was deleted yet). */
	uint64_t floor[MD_SLOTS];
	md_reg *regs; /* registered runs in registration order */
	size_t nregs, cregs;
	unsigned seq;	/* names and fresh keys */
	uint64_t calls; /* library calls compared */
	/* What the steps exercised: transactions committed, aborted,
	 * conflicting (as the model required), refused as archived; reopens;
	 * checkpoints; runs deleted, and how many of those ids lived again;
	 * the highest base a life began at. */
	uint64_t commits, aborts, conflicts, archived, reopens, checkpoints,
		deletes, relived, top_base;
	bool verbose; /* RS_MODEL_TRACE: print each step */
	char why[2048];
} md;

/* The options the driver opens its database with. */
rs_db_options md_options(const md_cfg *cfg, const char *dir);
void md_init(md *m, const md_cfg *cfg, rs_db **dbp, const char *dir,
	     uint64_t seed);
void md_free(md *m);
/* One random step; false on a mismatch (m->why says which). */
bool md_step(md *m);
/* Compare every run and the RunIndex with the model. */
bool md_check_all(md *m);
/* Close and reopen the database (durable modes), then check all. */
bool md_reopen(md *m);

#endif
