/* SPDX-License-Identifier: MIT */
#ifndef RS_TXN_TXN_H
#define RS_TXN_TXN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "durability/durability.h"
#include "storage/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/op.h"

/* The database: a store, a durability backend, and the context registry. */
struct rs_db {
	rs__alloc alloc;
	rs__store *store;
	rs__durability dur;
	rs__dur_host host; /* what the backend calls back (replay.c) */
	rs_durability mode;
	uint32_t flags; /* rs_db_options.flags */
	uint64_t id;	/* unique in the process, never reused */

	/* Every context ever made for this database (append-only, read
	 * without a lock by reclaimers scanning pins); freed at close. */
	rs_txn *_Atomic ctx_all;
	pthread_mutex_t ctx_lock; /* guards ctx_free and appends to ctx_all */
	rs_txn *ctx_free;	  /* contexts not cached by any thread */

	struct rs_db *live_next; /* the process-wide list of open dbs */
};

/* A set of keys (tag + bytes) over an rs__op array, with a hash index. */
typedef struct rs__keyset {
	rs__op *ops;
	size_t n, cap;
	uint32_t *idx; /* position + 1, 0 = empty; power-of-two size */
	size_t idx_cap;
} rs__keyset;

typedef struct rs__prefix_read {
	const void *prefix;
	size_t plen;
	uint8_t tag;
} rs__prefix_read;

enum {
	RS__TXN_IDLE = 0,
	RS__TXN_ACTIVE = 1
};

struct rs_txn {
	rs_db *db;
	rs_txn *reg_next;  /* db->ctx_all */
	rs_txn *free_next; /* db->ctx_free */
	rs__pin pin;
	rs__snap snap;
	rs_run_id run_id;
	uint32_t flags;
	int state;
	rs_durability dur_mode; /* the database's, or the override */

	rs__keyset reads;
	rs__keyset writes;
	rs__prefix_read *preads;
	size_t npreads, cpreads;
	rs__arena arena;
	void *scratch; /* list merging */
	size_t scratch_cap;
};

/* ---- database core (txn.c) ---- */
int rs__db_init(rs_db *db);
void rs__db_fini(rs_db *db);

/* ---- transactions ---- */
int rs__txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run,
		  uint32_t flags);
int rs__txn_commit(rs_txn *txn);
void rs__txn_abort(rs_txn *txn);

/* Read a key in the txn view; records the read. RS_ENOTFOUND if absent. */
int rs__txn_read(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		 rs_bytes *out);
/* Stage a write (val NULL + RS__OP_F_DELETE for a delete). */
int rs__txn_write(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		  const void *val, size_t vlen, uint8_t flags);
/* Sorted, paginated prefix listing of the txn view; records the prefix. */
int rs__txn_list(rs_txn *txn, uint8_t tag, const void *prefix, size_t plen,
		 const void *after, size_t alen, size_t limit, bool *more_out,
		 rs_kv_entry_cb cb, void *ctx);

/* ---- one-shot paths ---- */

/*
 * Commit `ops` on a run without a transaction context: lock, run `locked`
 * (may edit *nops, e.g. drop a delete of an absent key), hand the record to
 * durability, install, publish, reclaim. Never conflicts.
 */
typedef int (*rs__locked_fn)(rs_db *db, rs__run *run, rs__op *ops, size_t *nops,
			     void *ctx);
int rs__db_commit_ops(rs_db *db, const rs_run_id *run, rs__op *ops, size_t nops,
		      rs__locked_fn locked, void *ctx);

/*
 * Under lock(run): take the next version of the run, prepare `ops`, hand
 * the record (of `kind`; a DROP_RUN record carries no ops) to durability
 * with `mode`, apply, publish, reclaim. Any failure changes nothing.
 */
int rs__commit_locked(rs_db *db, rs__run *run, const rs_run_id *id,
		      uint32_t kind, rs__op *ops, size_t nops,
		      rs_durability mode);

/* ---- durability host (replay.c) ---- */

/* The callbacks the durability backend uses: replay, load, image. */
void rs__db_host_init(rs_db *db, rs__dur_host *out);

/*
 * Delete every key of a run, of every tag, as one commit logged as a
 * single DROP_RUN record (reserved for RunIndex delete). A run with no
 * live key is left as is. Returns 0, RS_ENOMEM, RS_EIO.
 */
int rs__db_drop_run(rs_db *db, const rs_run_id *run);

/* Retry helper with randomized exponential backoff. */
int rs__txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
		unsigned max_attempts, rs_txn_fn fn, void *ctx);

/* Validate a key and value against the public limits. */
int rs__check_key(const void *key, size_t klen);
int rs__check_value(const void *val, size_t vlen);

#endif
