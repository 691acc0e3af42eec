/* SPDX-License-Identifier: MIT */
#ifndef RS_TXN_TXN_H
#define RS_TXN_TXN_H

/*
 * The txn layer: the database handle, transaction contexts and their
 * snapshots, read and write sets, validation and commit, deferred commit
 * steps, and the one-shot read and write paths. It is the only way up
 * from storage: the primitives above call these functions and never the
 * store's vtable.
 *
 *   pool.c    open databases, per-thread pools of contexts, snapshot pins
 *   keyset.c  read and write sets
 *   txn.c     begin, read, stage, list; one-shot reads and writes; retry
 *   commit.c  validation, deferred steps, the two-run commit, commit
 *   replay.c  what the durability backend calls back: replay, load, image
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "durability/durability.h"
#include "storage/store.h"
#include "txn/keyset.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/op.h"
#include "util/perf.h"
#include "util/rcu.h"

/* The database: a store, a durability backend, and the context registry. */
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
	/* RS_DB_F_FOLLOWER and not promoted: transactions begin read-only
	 * (txn.c); only rs__txn_apply() writes. Cleared once, by promote. */
	_Atomic bool follower;
	_Atomic uint64_t records_applied; /* by rs__txn_apply() */

	/* Every context ever made for this database (append-only, read
	 * without a lock by reclaimers scanning pins); freed at close. */
	rs_txn *_Atomic ctx_all;
	pthread_mutex_t ctx_lock; /* guards ctx_free and appends to ctx_all */
	rs_txn *ctx_free;	  /* contexts not cached by any thread */
	rs__reclaimer reclaim;	  /* grace periods for retire lists (rcu.h) */

	struct rs_db *live_next; /* the process-wide list of open dbs */
	unsigned char pad_after[RS__CACHE_LINE];
};

/*
 * A key range a transaction scanned (cursor.c): validation conflicts when
 * any key of `tag` inside it has a version newer than the snapshot. The
 * bounds' keys live until the transaction ends (its arena, its staged
 * writes, or key nodes its pinned snapshot keeps).
 */
typedef struct rs__range_read {
	rs__bound lo, hi;
	uint8_t tag;
} rs__range_read;

enum {
	RS__TXN_IDLE = 0,
	RS__TXN_ACTIVE = 1
};

/*
 * Internal rs__txn_begin() flag: a write-only transaction whose work is
 * staged writes and deferred steps (the one-shot writes). Its snapshot
 * holds nothing back and it must not read through it; its commit never
 * conflicts, since its read set stays empty.
 */
#define RS__TXN_F_BLIND 0x100u
/*
 * Internal: the transaction of rs__txn_apply(), a record of another
 * writer. Its begin never creates the run (its commit does, and then the
 * record starts the run's life), it may write on a follower, and its
 * commit takes its versions from the record and calls no backend.
 */
#define RS__TXN_F_APPLY 0x200u

/* What a deferred step sees at commit (commit.c). */
typedef struct rs__cc rs__cc;

/*
 * A kind of deferred step. `run` executes at commit under the run's lock,
 * after validation, and may read the newest committed state and stage
 * writes (rs__cc_*); a negative return aborts the whole commit, which
 * returns it. `done`, if not NULL, runs once the commit has ended, outside
 * the lock, with the commit's result (`rc`, 0 or an RS_E* code), and hands
 * the step's typed results (an assigned sequence, a version) to the
 * caller's out-params, which the step's arg points to: on success, and on
 * whatever failure the facade documents as reporting them.
 */
typedef struct rs__step_type {
	int (*run)(rs__cc *cc, void *arg);
	void (*done)(const void *arg, int rc);
} rs__step_type;

typedef struct rs__step {
	const rs__step_type *type;
	void *arg; /* zeroed, in the txn's arena */
} rs__step;

struct rs_txn {
	/*
	 * What committers of other runs read (rs__db_min_pin() scans every
	 * pin): kept off the cache lines the owner keeps writing (its sets,
	 * its arena), with padding on both sides because allocator hooks
	 * promise only malloc's alignment; the pin itself splits its run and
	 * its version (storage/store.h). Beside the owner's hot fields these
	 * lines bounced between cores on every commit: 2 threads putting to
	 * 2 runs ran slower than 1.
	 */
	unsigned char pad_before[RS__CACHE_LINE];
	rs_txn *reg_next; /* db->ctx_all; set once */
	rs__pin pin;
	unsigned char pad_after[RS__CACHE_LINE];

	rs_db *db;
	rs_txn *free_next; /* db->ctx_free */
	rs__run *run;	   /* NULL: a read-only txn of a run never written */
	/* `run` while the context uses it, else NULL: a shard killed by a
	 * run delete is not freed while a context holds it (pool.c). Written
	 * only by the owner, inside the read-side section of the lookup;
	 * read by reapers. */
	_Atomic(rs__run *) hold;
	_Atomic(rs__run *) hold_also; /* the second run's, at commit */
	rs__snap snap;
	rs_run_id run_id;
	uint32_t flags;
	int state;
	rs_durability dur_mode; /* the database's, or the override */

	rs__keyset reads;
	rs__keyset writes;
	rs__range_read *ranges;
	size_t nranges, cranges;
	/* The staged writes in key order, for cursors: rebuilt when
	 * writes.n changed since (cursor.c). */
	const rs__op **wsorted;
	size_t nwsorted, cwsorted;
	rs__arena arena;
	/* What this context's commits unlinked: freed by its own later
	 * commits once a grace period has passed (util/rcu.h). */
	rs__retire_list retired;

	rs__step *steps; /* deferred steps, in registration order */
	size_t nsteps, csteps;
	rs_run_id also_id; /* a second run locked at commit (has_also) */
	bool has_also;
	bool also_create; /* create the second run if it does not exist */
	rs__op *drop_ops; /* tombstones of also_id's keys (drop) */
	size_t ndrop, cdrop;
#ifdef RS_PERF_TRACE
	/* The commit path's last phase boundary, and whether it reached
	 * RS_PERF_PUBLISH (util/perf.h). */
	uint64_t perf_t;
	bool perf_published;
#endif
};

/* ---- databases and contexts (pool.c) ---- */

/* Register an open database / unregister it and free its contexts. */
int rs__db_init(rs_db *db);
void rs__db_fini(rs_db *db);

/* An idle context of db (the thread's pool first); NULL on no memory. */
rs_txn *rs__ctx_get(rs_db *db);
/* Reset a context and give it back to the thread's pool. */
void rs__ctx_put(rs_txn *ctx);
/* Close the context's snapshot and drop its pin. */
void rs__ctx_release_snapshot(rs_txn *ctx);
/* The oldest version a snapshot of `run` may still read; `visible` was
 * just published (seq_cst) by the caller, before the pins are read. */
uint64_t rs__db_min_pin(rs_db *db, rs__run *run, uint64_t visible);
/* Wait (yielding) until no pinned snapshot of `run` is above `ver`:
 * after the run's visible version went back to ver (txn/commit.c). */
void rs__db_wait_pins(rs_db *db, rs__run *run, uint64_t ver);
/* Whether a context holds run r (txn->hold): the store's reap test. */
bool rs__db_holds(void *db, const rs__run *r);
/* Free the runs deleted runs left (store run_reap) once at least `min`
 * wait; outside every lock and read-side section. */
void rs__db_reap(rs_db *db, size_t min);
/* Dead runs a delete lets wait before its commit reaps them. */
#define RS__REAP_BATCH 32u

/*
 * Free what the calling thread's idle contexts of `db` have retired,
 * waiting for the grace periods that needs (normally done a share per
 * commit), and every deleted run no context holds. For tests and memory
 * accounting.
 */
void rs__txn_flush_retired(rs_db *db);

/* ---- transactions (txn.c, commit.c) ---- */

int rs__txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run,
		  uint32_t flags);
/* Consumes the context whatever it returns (commit.c). */
int rs__txn_commit(rs_txn *txn);
void rs__txn_abort(rs_txn *txn);

/* An active transaction: RS_EINVAL for NULL, RS_EDONE once it ended (as
 * far as the context shows: see the header's stale-handle rule). */
static inline int rs__txn_check(const rs_txn *txn)
{
	RS_CHECK_ARG(txn);
	return RS_LIKELY(txn->state == RS__TXN_ACTIVE) ? 0 : RS_EDONE;
}

static inline bool rs__txn_readonly(const rs_txn *txn)
{
	return (txn->flags & RS_TXN_F_READONLY) != 0;
}

/* Memory that lives until the transaction ends; NULL on no memory. */
static inline void *rs__txn_alloc(rs_txn *txn, size_t size)
{
	return rs__arena_alloc(&txn->arena, size);
}

/* The database's allocator, for scratch the caller frees itself. */
static inline const rs__alloc *rs__txn_allocator(const rs_txn *txn)
{
	return &txn->db->alloc;
}

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
/* rs__txn_write copying nothing: key and value must both live until the
 * transaction ends (a one-shot write's caller's arguments). */
int rs__txn_write_view(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen, uint8_t flags);
/* ---- ordered access (cursor.c) ---- */

/*
 * A cursor over one tag of a transaction's view: its snapshot merged with
 * its own staged writes, in key order. Positions stay within [lo, hi]
 * (rs__tcur_bound). In a read-write transaction every range a cursor
 * walks over joins the read set: from where a seek starts to the last
 * entry it reached (the bound, past the last entry), extended by each
 * step. The current entry's views live until the transaction ends.
 */
typedef struct rs__tcur {
	rs_txn *txn;
	rs__bound lo, hi;
	uint8_t tag;
	bool on;	 /* positioned on key/val */
	bool from_store; /* the entry is sit's */
	rs_bytes key, val;
	rs__iter sit;
	size_t range; /* 1 + the range read it extends; 0: none */
} rs__tcur;

void rs__tcur_init(rs__tcur *c, rs_txn *txn, uint8_t tag);
/* Restrict the positions to [lo, hi] (copied); NULL: unbounded. */
int rs__tcur_bound(rs__tcur *c, const rs__bound *lo, const rs__bound *hi);
/* Restrict the positions to the keys that start with prefix. */
int rs__tcur_prefix(rs__tcur *c, const void *prefix, size_t plen);
/* Position at the entry RS__SEEK_* mode names relative to key (NULL: the
 * bound's end in the mode's direction). 0 or RS_ENOTFOUND (unpositioned),
 * RS_ENOMEM. */
int rs__tcur_seek(rs__tcur *c, const void *key, size_t klen, int mode);
/* Next (dir > 0) or previous entry; an unpositioned cursor starts from
 * the bound's end. 0, RS_ENOTFOUND (then unpositioned) or RS_ENOMEM. */
int rs__tcur_step(rs__tcur *c, int dir);

/*
 * rs__tcur_step(), inline where it is only a read-ahead entry (store.h)
 * taken in an unbounded view with nothing staged and no range recorded:
 * the steps of a long scan. Anything else goes to rs__tcur_step().
 */
static inline int rs__tcur_next(rs__tcur *c, int dir)
{
	const rs__iter_ent *e;

	if (RS_LIKELY(c->on && c->from_store && !c->range &&
		      !c->txn->writes.n && (dir > 0 ? c->hi.inf : c->lo.inf) &&
		      rs__iter_take(&c->sit, dir))) {
		e = &c->sit.ahead[c->sit.iahead - 1];
		c->key = e->key;
		c->val = e->val;
		return 0;
	}
	return rs__tcur_step(c, dir);
}

/*
 * Up to `limit` (0: all) entries of [lo, hi] in order (reverse: from hi
 * down), after `resume` in that order when not NULL; *more_out (may be
 * NULL) tells whether entries remain (found by reading one more). cb's
 * nonzero return stops the scan and is returned.
 */
int rs__txn_scan(rs_txn *txn, uint8_t tag, const rs__bound *lo,
		 const rs__bound *hi, const void *resume, size_t rlen,
		 bool reverse, size_t limit, bool *more_out, rs_kv_entry_cb cb,
		 void *ctx);
/* The keys under a prefix after `after`, forward: rs__txn_scan over the
 * prefix's range. */
int rs__txn_list(rs_txn *txn, uint8_t tag, const void *prefix, size_t plen,
		 const void *after, size_t alen, size_t limit, bool *more_out,
		 rs_kv_entry_cb cb, void *ctx);

/* ---- one-shot paths (txn.c) ---- */

/*
 * Where a one-shot read puts the value it finds: its first head_len bytes
 * into `head` (a record's fixed header; a shorter value is RS_ECORRUPT),
 * the rest into the caller's buffer. `len` receives the rest's length, on
 * RS_ENOSPC too (the size needed).
 */
typedef struct rs__copy_out {
	void *head;
	size_t head_len;
	void *buf;
	size_t cap;
	size_t len;
} rs__copy_out;

/*
 * One-shot read of the newest committed value of a key: no snapshot held,
 * one lookup inside an RCU read-side section. `co` NULL only asks whether
 * the key is there. 0, RS_ENOTFOUND, RS_ENOSPC or RS_ECORRUPT.
 */
int rs__txn_read_latest(rs_db *db, const rs_run_id *run, uint8_t tag,
			const void *key, size_t klen, rs__copy_out *co);

/*
 * The one-shot write path of every facade: a blind transaction on `run`,
 * `stage` (staging writes and deferred steps into it), then its commit.
 * Returns stage's error (nothing committed) or the commit's result.
 */
typedef int (*rs__stage_fn)(rs_txn *txn, const void *req);
int rs__txn_oneshot(rs_db *db, const rs_run_id *run, rs__stage_fn stage,
		    const void *req);

/* ---- deferred steps (commit.c) ---- */

/*
 * Register a step of `type` to run at commit, in registration order.
 * *arg_out receives arg_size zeroed bytes in the transaction's arena,
 * owned by the step.
 */
int rs__txn_defer(rs_txn *txn, const rs__step_type *type, size_t arg_size,
		  void **arg_out);
/* Steps registered so far, and step i's arg if it is of `type` (else
 * NULL): how a transaction's reads see its own pending steps. */
static inline size_t rs__txn_nsteps(const rs_txn *txn)
{
	return txn->nsteps;
}

static inline void *rs__txn_step_arg(const rs_txn *txn, size_t i,
				     const rs__step_type *type)
{
	return i < txn->nsteps && txn->steps[i].type == type ? txn->steps[i].arg
							     : NULL;
}

/*
 * Lock `other` too at commit, after the transaction's own run, which must
 * be the nil run (lock order: nil run, then one other), creating it when
 * `create` (else a run that does not exist is absent: no data, no flags,
 * nothing to drop). Steps may then set its flags or drop all its keys.
 */
void rs__txn_also(rs_txn *txn, const rs_run_id *other, bool create);

/*
 * Bases. Every life of a run starts at a base version: 0 for a run
 * created before any run was deleted, else the database's drop mark when
 * it was created (a deleted id's next life included). Its commit
 * versions continue from there, and the counters the primitives assign
 * (EventLog sequences, trace ids, StateCell versions) start at the base,
 * so nothing of an earlier life of the id ever repeats. The base of a run
 * in a transaction (its snapshot's run; for a run not written yet, what a
 * run created now would get), at commit, and on the fast path.
 */
uint64_t rs__txn_base(const rs_txn *txn);
uint64_t rs__cc_base(rs__cc *cc);
uint64_t rs__txn_base_latest(rs_db *db, const rs_run_id *run);

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
/* The transaction being committed: a step may also stage into it with
 * rs__txn_write_ref() (what it stages is read back by rs__cc_read). */
rs_txn *rs__cc_txn(rs__cc *cc);
/* Step i's arg if it is of `type`, else NULL (as rs__txn_step_arg). */
void *rs__cc_step_arg(rs__cc *cc, size_t i, const rs__step_type *type);
/* The second run: whether it has a live key; its RS__RUN_F_* flags; set
 * them (applied if the commit succeeds); drop all its keys in this
 * commit. */
bool rs__cc_also_has_data(rs__cc *cc);
uint32_t rs__cc_also_flags(rs__cc *cc);
void rs__cc_also_set_flags(rs__cc *cc, uint32_t flags);
/*
 * Drop every key of the second run in this commit and end its life: its
 * tombstones go at its drop version, max(its version + 1, floor, the drop
 * mark + 1), which becomes the new drop mark (the base of every run
 * created from then on). `floor`: one past every counter the run's data
 * has used (sequences, ids, cell versions), so none repeats in a later
 * life of the id.
 */
void rs__cc_also_drop(rs__cc *cc, uint64_t floor);
/* The second run's base, its newest committed value of a key
 * (RS_ENOTFOUND when absent), and every live entry of one of its tags in
 * key order (cb's nonzero return stops it). Views die with the commit. */
uint64_t rs__cc_also_base(rs__cc *cc);
int rs__cc_also_read(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		     rs_bytes *out);
int rs__cc_also_each(rs__cc *cc, uint8_t tag,
		     int (*cb)(rs_bytes key, rs_bytes val, void *ctx),
		     void *ctx);

/*
 * Add RS__RUN_F_* flags to a run outside any commit (creating the run),
 * under its commit lock: for state the layer above rebuilds at open.
 */
int rs__txn_run_add_flags(rs_db *db, const rs_run_id *run, uint32_t flags);

/*
 * Apply `rec` (checked by the caller: distinct keys need not be) as a
 * commit of `txn`, an RS__TXN_F_APPLY transaction on rec->run whose
 * writes are rec's ops, staged (for a DROP_RUN, also naming drop_run with
 * rs__txn_also(create false); deferred steps may set the second run's
 * flags). It commits like rs__txn_commit() (the same locks, install,
 * publish and reclaim) at rec->version, without calling the backend; a
 * DROP_RUN drops its second run at rec->drop_version. 0 (applied), 1
 * (skipped: the run is at or past rec->version), RS_ECORRUPT (a gap, or
 * the database's state contradicts the record), RS_ENOMEM. Consumes the
 * transaction.
 */
int rs__txn_commit_applied(rs_txn *txn, const rs__commit_record *rec);
/*
 * Begin that transaction for `rec` (rec->run nil for a DROP_RUN) and
 * stage its ops, which must name distinct keys (else RS_EINVAL). The ops
 * are borrowed: they must live until the commit.
 */
int rs__txn_apply_begin(rs_txn **out, rs_db *db, const rs__commit_record *rec);

/* ---- durability host (replay.c) ---- */

/* The callbacks the durability backend uses: replay, load, image. */
void rs__db_host_init(rs_db *db, rs__dur_host *out);

/* ---- retry (txn.c) ---- */

/*
 * rs_txn_run(): the first retry waits a random time below
 * RS__BACKOFF_FIRST_NS, each further one below twice the last cap, up to
 * RS__BACKOFF_MAX_NS (the header's "from 1 µs, capped at 1 ms"). Waits
 * from RS__BACKOFF_SLEEP_NS up sleep; shorter ones yield.
 */
#define RS__BACKOFF_FIRST_NS 1000u
#define RS__BACKOFF_MAX_NS 1000000u
#define RS__BACKOFF_SLEEP_NS 50000u

int rs__txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
		unsigned max_attempts, rs_txn_fn fn, void *ctx);

#endif
