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
#include "util/rcu.h"

/* The database: a store, a durability backend, and the context registry. */
/* A cache line (x86-64, and the usual size elsewhere). */
#define RS__CACHE_LINE 64

struct rs_db {
	/* Read on every operation by every thread: kept off cache lines
	 * that other allocations of its size class may share with hot
	 * writes (padding on both sides; the hooks align to 16 only). */
	unsigned char pad_before[RS__CACHE_LINE];
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
	unsigned char pad_after[RS__CACHE_LINE];
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

/*
 * Internal rs__txn_begin() flag: a write-only context with no snapshot, for
 * one-shot writes whose work is all in deferred steps. It must not read.
 */
#define RS__TXN_F_BLIND 0x100u

typedef struct rs__cc rs__cc;
/* A deferred step: runs at commit, under the run's lock. See txn.c. */
typedef int (*rs__step_fn)(rs__cc *cc, void *arg);

typedef struct rs__step {
	rs__step_fn fn;
	void *arg; /* zeroed, in the txn's arena */
	void *out; /* receives out_len bytes at arg + out_off on commit */
	size_t out_off;
	size_t out_len;
} rs__step;

struct rs_txn {
	/*
	 * What committers of other runs read (min_pin() scans every pin):
	 * kept off the cache lines the owner keeps writing (its sets, its
	 * arena), with padding on both sides because allocator hooks promise
	 * only malloc's alignment; the pin itself splits its run and its
	 * version (storage/store.h). Beside the owner's hot fields these
	 * lines bounced between cores on every commit: 2 threads putting to
	 * 2 runs ran slower than 1.
	 */
	unsigned char pad_before[RS__CACHE_LINE];
	rs_txn *reg_next; /* db->ctx_all; set once */
	rs__pin pin;
	unsigned char pad_after[RS__CACHE_LINE];

	rs_db *db;
	rs_txn *free_next; /* db->ctx_free */
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
	/* What this context's commits unlinked, freed after a grace period
	 * once RS__RETIRE_BATCH have gathered (util/rcu.h). */
	rs__retire_list retired;

	rs__step *steps; /* deferred steps, in registration order */
	size_t nsteps, csteps;
	rs_run_id also_id; /* a second run locked at commit (has_also) */
	bool has_also;
	rs__op *drop_ops; /* tombstones of also_id's keys (drop) */
	size_t ndrop, cdrop;
};

/*
 * What a deferred step sees: the commit in progress, under the lock of
 * `run` (and of `also`). Steps read through rs__cc_read() and stage writes
 * with rs__cc_write(); a negative return aborts the whole commit, which
 * returns it.
 */
struct rs__cc {
	rs_db *db;
	rs_txn *txn;
	rs__run *run;  /* the transaction's run, locked */
	rs__run *also; /* the second locked run, or NULL */
	uint32_t also_flags;
	bool also_flags_set;
	bool also_drop;
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
/* rs__txn_write without copying the value: it must live until the
 * transaction ends (its arena, or static memory). */
int rs__txn_write_ref(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
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
 * Free, after a grace period, what the calling thread's idle contexts of
 * `db` have retired (normally done per RS__RETIRE_BATCH). For tests and
 * memory accounting.
 */
void rs__txn_flush_retired(rs_db *db);

/* ---- deferred steps ---- */

/*
 * Register a step to run at commit under the run's lock, after validation,
 * in registration order. *arg_out receives arg_size zeroed bytes in the
 * transaction's arena, owned by the step. If `out` is not NULL, a
 * successful commit copies out_len bytes at arg + out_off to it (results
 * such as an assigned sequence); a failed commit leaves it alone.
 */
int rs__txn_defer(rs_txn *txn, rs__step_fn fn, size_t arg_size, void **arg_out,
		  void *out, size_t out_off, size_t out_len);
/*
 * Lock `other` too at commit, after the transaction's own run, which must
 * be the nil run (lock order: nil run, then one other). Steps may then set
 * its flags or drop all its keys.
 */
void rs__txn_also(rs_txn *txn, const rs_run_id *other);

/* The newest committed value merged with the writes staged so far in this
 * transaction (its own and earlier steps'). The view lives until the
 * commit ends. RS_ENOTFOUND when absent. */
int rs__cc_read(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		rs_bytes *out);
/* Stage a write. The key is copied; the value is not: it must live until
 * the commit ends (the step's arg, rs__cc_alloc() memory, or static). */
int rs__cc_write(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		 const void *val, size_t vlen, uint8_t flags);
/* Memory that lives until the commit ends; NULL on out of memory. */
void *rs__cc_alloc(rs__cc *cc, size_t size);
/* The second run: whether it has a live key; its flags; set its flags
 * (applied if the commit succeeds); drop all its keys in this commit. */
bool rs__cc_also_has_data(rs__cc *cc);
uint32_t rs__cc_also_flags(rs__cc *cc);
void rs__cc_also_set_flags(rs__cc *cc, uint32_t flags);
void rs__cc_also_drop(rs__cc *cc);

/* ---- durability host (replay.c) ---- */

/* The callbacks the durability backend uses: replay, load, image. */
void rs__db_host_init(rs_db *db, rs__dur_host *out);

/* Retry helper with randomized exponential backoff. */
int rs__txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
		unsigned max_attempts, rs_txn_fn fn, void *ctx);

/* Validate a key and value against the public limits. */
int rs__check_key(const void *key, size_t klen);
int rs__check_value(const void *val, size_t vlen);

#endif
