/* SPDX-License-Identifier: MIT */
/*
 * A deliberately simple reference model of one run's data, every
 * primitive but the RunIndex: KV keys (a sorted kvmodel.h array), StateCells
 * (name -> version and value, plus the version floors of deleted names),
 * the EventLog and the TraceStore (plain arrays). Write operations are
 * values (sm_op) that can be applied to the model (sm_apply()) and to the
 * library (sm_exec()), one-shot or inside a transaction, so that a test
 * can compare every return code and output; sm_check_run() compares a
 * run's whole state in the library with the model.
 *
 * Used by the model-based tests (tests/model/) and by the crash test's
 * expected state (tests/durability/test_crash.c). Plain C and the public
 * header only; no CMocka (worker threads and forked children use it):
 * mismatches are reported as text.
 */
#ifndef RS_TESTS_COMMON_STATEMODEL_H
#define RS_TESTS_COMMON_STATEMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "common/kvmodel.h"

/* Text (cell names, types, tags): NUL-terminated, shorter than SM_TXT. */
#define SM_TXT 24
/* Values and payloads: at most SM_VAL bytes. */
#define SM_VAL 40
/* Tags per trace. */
#define SM_TAGS 3

typedef struct sm_event {
	char type[SM_TXT];
	unsigned char pl[SM_VAL];
	size_t plen;
	uint64_t ts;
	uint8_t hash[RS_HASH_LEN];
	bool pending; /* in a transaction's view: not committed */
} sm_event;

typedef struct sm_trace {
	char type[SM_TXT];
	unsigned char pl[SM_VAL];
	size_t plen;
	char tags[SM_TAGS][SM_TXT];
	size_t ntags;
	uint64_t parent; /* an id, RS_TRACE_NONE, or (pending) a handle */
	uint64_t ts;
	uint64_t handle; /* pending: its handle */
	bool pending;
} sm_trace;

typedef struct sm_run {
	rs_run_id id;
	/* The base of the run's life (docs/primitives.md, "Lives of a run
	 * id"): its versions are above it, its sequences and trace ids dense
	 * from it, a new cell's first version is base + 1. */
	uint64_t base;
	uint64_t version;
	rs_model kv;
	rs_model cells;	 /* name -> u64 big-endian version, then value */
	rs_model floors; /* name -> u64 big-endian version of a deleted cell */
	sm_event *ev;
	size_t nev, cev;
	sm_trace *tr;
	size_t ntr, ctr;
	bool archived;
	/* Whether event timestamps and hashes and trace timestamps were
	 * recorded from the library (then they are compared too). */
	bool known;
} sm_run;

void sm_run_init(sm_run *r, const rs_run_id *id);
/* Whether r's life has not begun: no commit since its init or delete. */
bool sm_unborn(const sm_run *r);
/* Before its life begins, a run's base follows the library's (the
 * database's drop mark, or the base of a run that exists without a
 * commit): read it with rs_db_run_version() into r's base and version.
 * False (with a description) on an error or when it is below floor
 * (what an earlier life of the id used) or, in a database where no run
 * was deleted (floor UINT64_MAX), not 0. */
bool sm_rebase(rs_db *db, sm_run *r, uint64_t floor, char *why, size_t cap);
/* The least base a next life of r's id may start at once r's run is
 * deleted: above every version, sequence, trace id and cell version this
 * life used. */
uint64_t sm_next_floor(const sm_run *r);
void sm_run_free(sm_run *r);
/* dst (uninitialized or freed) becomes a copy of src. */
void sm_run_copy(sm_run *dst, const sm_run *src);

typedef enum sm_kind {
	SM_KV_PUT,
	SM_KV_DEL,
	SM_EV_APPEND,
	SM_CELL_INIT,
	SM_CELL_SET,
	SM_CELL_CAS,
	SM_CELL_DEL,
	SM_CELL_TRANS,
	SM_TR_RECORD,
	SM_NKINDS
} sm_kind;

const char *sm_kind_name(sm_kind k);

/* A write operation. key: the KV key, or (NUL-terminated text) the cell
 * name or the event or trace type. */
typedef struct sm_op {
	sm_kind kind;
	unsigned char key[RS_KEY_MAX + 1];
	size_t klen;
	unsigned char val[SM_VAL];
	size_t vlen;
	uint64_t ver;	 /* SM_CELL_CAS: the expected version */
	uint64_t parent; /* SM_TR_RECORD */
	char tags[SM_TAGS][SM_TXT];
	size_t ntags;
} sm_op;

/* What an operation returned (or, from the model, should return). */
typedef struct sm_res {
	int rc;
	bool existed;	  /* KV and cell delete */
	uint64_t version; /* cell init, set, cas, transition */
	uint64_t id;	  /* trace id (a pending handle until commit) */
	rs_event_receipt receipt;
	bool wrote; /* model only: whether it staged or made a write */
	bool step;  /* model only: a deferred step (append, record) */
} sm_res;

/* Apply op to the model. One-shot (txn false): refused with RS_EARCHIVED
 * on an archived run; bumps the version when it wrote. In a transaction's
 * view (txn true): appends and records become pending and `nsteps` (the
 * deferred steps staged so far, updated) numbers pending handles; the
 * version is left alone (the commit bumps it once). */
void sm_apply(sm_run *r, const sm_op *op, bool txn, size_t *nsteps,
	      sm_res *out);
/* Re-apply a committed transaction's ops (res: what staging returned)
 * onto the newest state r: pending handles resolve to the real ids, and
 * the version rises by one if any op wrote. Fills each res's receipt and
 * real trace id as the commit does. */
void sm_commit(sm_run *r, const sm_op *ops, sm_res *res, size_t n);

/* Run op in the library: one-shot when txn is NULL, else staged in txn
 * (receipt and id are then filled at its commit: keep `out` alive). */
void sm_exec(rs_db *db, const rs_run_id *run, rs_txn *txn, const sm_op *op,
	     sm_res *out);
/* Whether the library's result got matches the model's want (rc and
 * every output the rc implies); if not, a description. In a transaction
 * before commit, receipts and ids are not compared (pass staged true). */
bool sm_same_res(const sm_op *op, const sm_res *got, const sm_res *want,
		 bool staged, char *why, size_t cap);

/* The statecell transition function both sides use (ctx: a buffer of
 * SM_VAL bytes): appends '+' to the value; returns 77 for a value that
 * starts with '!'; writes nothing for a full one. */
int sm_trans_fn(rs_bytes value, uint64_t version, rs_bytes *new_value_out,
		void *ctx);

/* A random write operation valid or (sometimes) failing against r: KV
 * keys of a small binary alphabet, names and types from small sets. */
void sm_gen_write(const sm_run *r, uint64_t *rng, sm_op *op);

/* Compare the whole state of r's run in the library with r (version, KV,
 * cells, events with their chain, traces). */
bool sm_check_run(rs_db *db, const sm_run *r, char *why, size_t cap);

/* Record the timestamps and hashes of r's events from ev_from and traces
 * from tr_from as the library assigned them (after their commit), and set
 * r->known. False (with a description) when the library lacks them. */
bool sm_learn(rs_db *db, sm_run *r, size_t ev_from, size_t tr_from, char *why,
	      size_t cap);

/* splitmix64 step; and a draw in [0, n) (0 when n is 0). */
uint64_t sm_rand(uint64_t *s);
uint64_t sm_rnd(uint64_t *s, uint64_t n);

#endif
