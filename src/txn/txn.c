/* SPDX-License-Identifier: MIT */
/*
 * Transactions: contexts, snapshots, read/write sets, validation, commit.
 *
 * Contexts. A context (struct rs_txn) belongs to one database for its whole
 * life: it is allocated with the database's allocator, appended to the
 * database's registry `ctx_all` (never unlinked; freed at close) and reused.
 * Each thread caches up to 8 idle contexts in `tls_pool`, tagged with the
 * owning database's id (ids are never reused, so a slot of a closed
 * database can never match). Contexts beyond that, and those of an exiting
 * thread, go to the database's `ctx_free` list. After warm-up, begin and
 * commit allocate nothing: the read/write sets, the arena holding staged
 * keys and values, and the list scratch keep their capacity across reuse.
 *
 * Snapshots. begin() takes a snapshot through the store: O(1), no lock, no
 * allocation for the sharded store. The context's `pin` says which run and
 * version it reads; reclamation (commit_core) keeps every version some pin
 * can see. The pin protocol and its memory ordering are described in
 * storage/shard.c. A pin is dropped (ver = RS__PIN_NONE) when the
 * transaction commits or aborts; views it handed out die with it.
 *
 * Commit. Under the run's commit lock: validate the read set (every key
 * read, present or absent, and every listed prefix must have no version
 * newer than the snapshot: first committer wins), prepare (allocate all
 * version records and nodes), hand one record to the durability backend,
 * apply, publish the new visible version, reclaim what no pin can see,
 * unlock (commit_core). Any failure before apply changes nothing.
 * The record carries the transaction's durability mode (the database's
 * unless rs_txn_set_durability() overrode it); a Strict backend returns
 * only once the record is synced, so the commit lock of the run is held
 * through that sync: commits of one run are serialized, fsync included,
 * while commits of different runs share syncs (group commit). Read-only and
 * write-free transactions skip all of it: no lock, no version bump, no
 * durability record.
 *
 * Reclamation. What a commit unlinks (cut versions, dead key nodes,
 * replaced slot arrays) goes onto the committing context's retire list,
 * and ctx_put() frees the list after a grace period once it holds
 * RS__RETIRE_BATCH objects: outside every lock, on the allocating thread,
 * with at most RS__RETIRE_BATCH - 1 objects waiting per context. One-shot
 * commits borrow a context for its list.
 *
 * Locks, in order: g_lock (process-wide list of open databases) before a
 * database's ctx_lock; a run's commit lock is never held with either. Run
 * commit locks: the nil run's before any other run's, at most two held.
 */
#define _GNU_SOURCE
#include "txn/txn.h"

#include <assert.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/error.h"
#include "util/random.h"
#include "util/rcu.h"

#define POOL_SLOTS 8u
#define SET_INDEX_MIN 9u /* sets up to 8 entries are scanned linearly */
#define KEEP_OPS_MAX 4096u

/* ---- process-wide registry of open databases ---- */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static rs_db *g_live;
static _Atomic uint64_t g_next_id = 1;
/* Bumped by every close; threads then drop cached slots of dead dbs. */
static _Atomic uint64_t g_close_gen;

struct pool_slot {
	rs_db *db;
	uint64_t db_id;
	rs_txn *ctx;
};

static RS_TLS struct {
	struct pool_slot s[POOL_SLOTS];
	unsigned n;
	uint64_t gen;
} tls_pool;

/* Under g_lock. */
static bool db_alive(const rs_db *db, uint64_t id)
{
	for (const rs_db *d = g_live; d; d = d->live_next)
		if (d == db && d->id == id)
			return true;
	return false;
}

static void ctx_to_free_list(rs_txn *ctx)
{
	rs_db *db = ctx->db;

	pthread_mutex_lock(&db->ctx_lock);
	ctx->free_next = db->ctx_free;
	db->ctx_free = ctx;
	pthread_mutex_unlock(&db->ctx_lock);
}

/* Drop cached slots whose database was closed since we last looked. */
static void pool_purge(void)
{
	uint64_t gen = atomic_load_explicit(&g_close_gen, memory_order_acquire);
	unsigned kept = 0;

	if (tls_pool.gen == gen)
		return;
	pthread_mutex_lock(&g_lock);
	for (unsigned i = 0; i < tls_pool.n; i++)
		if (db_alive(tls_pool.s[i].db, tls_pool.s[i].db_id))
			tls_pool.s[kept++] = tls_pool.s[i];
	tls_pool.n = kept;
	tls_pool.gen = gen;
	pthread_mutex_unlock(&g_lock);
}

/* At thread exit: give cached contexts back to their (live) databases. */
static void pool_thread_exit(void)
{
	pthread_mutex_lock(&g_lock);
	for (unsigned i = 0; i < tls_pool.n; i++)
		if (db_alive(tls_pool.s[i].db, tls_pool.s[i].db_id))
			ctx_to_free_list(tls_pool.s[i].ctx);
	tls_pool.n = 0;
	pthread_mutex_unlock(&g_lock);
}

int rs__db_init(rs_db *db)
{
	atomic_init(&db->ctx_all, NULL);
	db->ctx_free = NULL;
	if (pthread_mutex_init(&db->ctx_lock, NULL) != 0)
		return RS_ENOMEM;
	db->id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
	rs__thread_set_exit_hook(pool_thread_exit);
	pthread_mutex_lock(&g_lock);
	db->live_next = g_live;
	g_live = db;
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void ctx_destroy(rs_txn *ctx);
static void ctx_release_snapshot(rs_txn *ctx);

void rs__db_fini(rs_db *db)
{
	rs_txn *ctx;

	pthread_mutex_lock(&g_lock);
	for (rs_db **p = &g_live; *p; p = &(*p)->live_next) {
		if (*p == db) {
			*p = db->live_next;
			break;
		}
	}
	atomic_fetch_add_explicit(&g_close_gen, 1, memory_order_release);
	pthread_mutex_unlock(&g_lock);

	ctx = atomic_load_explicit(&db->ctx_all, memory_order_acquire);
	while (ctx) {
		rs_txn *next = ctx->reg_next;

		/* A transaction left open at close is aborted here: its
		 * snapshot (a deep copy in the unified store) goes too. */
		if (ctx->state == RS__TXN_ACTIVE)
			ctx_release_snapshot(ctx);
		ctx_destroy(ctx);
		ctx = next;
	}
	pthread_mutex_destroy(&db->ctx_lock);
}

/* ---- key sets ---- */

static void keyset_free(const rs__alloc *a, rs__keyset *ks)
{
	rs__free(a, ks->ops);
	rs__free(a, ks->idx);
	memset(ks, 0, sizeof(*ks));
}

static void keyset_reset(const rs__alloc *a, rs__keyset *ks)
{
	if (ks->cap > KEEP_OPS_MAX) {
		keyset_free(a, ks);
		return;
	}
	if (ks->n >= SET_INDEX_MIN && ks->idx)
		memset(ks->idx, 0, ks->idx_cap * sizeof(ks->idx[0]));
	ks->n = 0;
}

static bool op_matches(const rs__op *op, uint8_t tag, const void *key,
		       size_t klen, uint64_t hash)
{
	return op->hash == hash && op->tag == tag && op->klen == klen &&
	       memcmp(op->key, key, klen) == 0;
}

static long keyset_find(const rs__keyset *ks, uint8_t tag, const void *key,
			size_t klen, uint64_t hash)
{
	if (ks->n < SET_INDEX_MIN) {
		for (size_t i = 0; i < ks->n; i++)
			if (op_matches(&ks->ops[i], tag, key, klen, hash))
				return (long)i;
		return -1;
	}
	for (size_t i = (size_t)hash & (ks->idx_cap - 1);;
	     i = (i + 1) & (ks->idx_cap - 1)) {
		uint32_t p = ks->idx[i];

		if (!p)
			return -1;
		if (op_matches(&ks->ops[p - 1], tag, key, klen, hash))
			return (long)p - 1;
	}
}

static void index_put(rs__keyset *ks, size_t pos)
{
	size_t i = (size_t)ks->ops[pos].hash & (ks->idx_cap - 1);

	while (ks->idx[i])
		i = (i + 1) & (ks->idx_cap - 1);
	ks->idx[i] = (uint32_t)pos + 1;
}

/* Append an op (the caller checked it is not there). */
static int keyset_add(const rs__alloc *a, rs__keyset *ks, const rs__op *op)
{
	size_t n = ks->n + 1;

	if (n > UINT32_MAX - 1)
		return RS_ENOMEM;
	RS_TRY(rs__grow(a, (void **)&ks->ops, &ks->cap, n, sizeof(rs__op)));
	if (n >= SET_INDEX_MIN && n * 2 > ks->idx_cap) {
		size_t cap = ks->idx_cap ? ks->idx_cap : 32;
		uint32_t *idx;

		while (n * 2 > cap)
			cap *= 2;
		idx = rs__calloc(a, cap, sizeof(*idx));
		if (!idx)
			return RS_ENOMEM;
		rs__free(a, ks->idx);
		ks->idx = idx;
		ks->idx_cap = cap;
		ks->ops[ks->n] = *op;
		ks->n = n;
		for (size_t i = 0; i < n; i++)
			index_put(ks, i);
		return 0;
	}
	ks->ops[ks->n] = *op;
	ks->n = n;
	if (n == SET_INDEX_MIN) {
		memset(ks->idx, 0, ks->idx_cap * sizeof(ks->idx[0]));
		for (size_t i = 0; i < n; i++)
			index_put(ks, i);
	} else if (n > SET_INDEX_MIN) {
		index_put(ks, n - 1);
	}
	return 0;
}

/* ---- contexts ---- */

static void ctx_destroy(rs_txn *ctx)
{
	const rs__alloc *a = &ctx->db->alloc;

	keyset_free(a, &ctx->reads);
	keyset_free(a, &ctx->writes);
	rs__free(a, ctx->steps);
	rs__free(a, ctx->drop_ops);
	rs__free(a, ctx->preads);
	rs__free(a, ctx->scratch);
	rs__arena_free(&ctx->arena);
	/* Close is exclusive: no reader is left to wait for. */
	rs__retire_free_now(&ctx->retired);
	rs__free(a, ctx);
}

static rs_txn *ctx_get(rs_db *db)
{
	rs_txn *ctx;

	pool_purge();
	for (unsigned i = tls_pool.n; i-- > 0;) {
		if (tls_pool.s[i].db_id == db->id) {
			ctx = tls_pool.s[i].ctx;
			tls_pool.s[i] = tls_pool.s[--tls_pool.n];
			return ctx;
		}
	}
	pthread_mutex_lock(&db->ctx_lock);
	ctx = db->ctx_free;
	if (ctx)
		db->ctx_free = ctx->free_next;
	pthread_mutex_unlock(&db->ctx_lock);
	if (ctx)
		return ctx;

	ctx = rs__calloc(&db->alloc, 1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->db = db;
	atomic_init(&ctx->pin.run, NULL);
	atomic_init(&ctx->pin.ver, RS__PIN_NONE);
	rs__arena_init(&ctx->arena, &db->alloc);
	pthread_mutex_lock(&db->ctx_lock);
	ctx->reg_next =
		atomic_load_explicit(&db->ctx_all, memory_order_relaxed);
	/* Pairs with the acquire load in min_pin(): reg_next is set. */
	atomic_store_explicit(&db->ctx_all, ctx, memory_order_release);
	pthread_mutex_unlock(&db->ctx_lock);
	return ctx;
}

static void ctx_release_snapshot(rs_txn *ctx)
{
	rs__store *st = ctx->db->store;

	if (ctx->snap.run || ctx->snap.priv)
		st->ops->snap_close(st, &ctx->snap);
	/* Only when pinned: committers of other runs read this line. */
	if (atomic_load_explicit(&ctx->pin.ver, memory_order_relaxed) !=
	    RS__PIN_NONE)
		atomic_store_explicit(&ctx->pin.ver, RS__PIN_NONE,
				      memory_order_release);
	ctx->snap.run = NULL;
	ctx->snap.priv = NULL;
}

static void ctx_put(rs_txn *ctx)
{
	const rs__alloc *a = &ctx->db->alloc;

	ctx_release_snapshot(ctx);
	keyset_reset(a, &ctx->reads);
	keyset_reset(a, &ctx->writes);
	if (ctx->csteps > KEEP_OPS_MAX) {
		rs__free(a, ctx->steps);
		ctx->steps = NULL;
		ctx->csteps = 0;
	}
	if (ctx->cdrop > KEEP_OPS_MAX) {
		rs__free(a, ctx->drop_ops);
		ctx->drop_ops = NULL;
		ctx->cdrop = 0;
	}
	ctx->nsteps = 0;
	ctx->ndrop = 0;
	ctx->has_also = false;
	ctx->npreads = 0;
	rs__arena_reset(&ctx->arena);
	/* Not under any lock nor inside a read-side section here. */
	if (ctx->retired.n >= RS__RETIRE_BATCH)
		rs__retire_flush(&ctx->retired);
	ctx->state = RS__TXN_IDLE;
	if (tls_pool.n < POOL_SLOTS) {
		tls_pool.s[tls_pool.n].db = ctx->db;
		tls_pool.s[tls_pool.n].db_id = ctx->db->id;
		tls_pool.s[tls_pool.n].ctx = ctx;
		tls_pool.n++;
		return;
	}
	ctx_to_free_list(ctx);
}

/* ---- limits ---- */

int rs__check_key(const void *key, size_t klen)
{
	if (!key || klen == 0)
		return RS_EINVAL;
	return klen > RS_KEY_MAX ? RS_ETOOBIG : 0;
}

int rs__check_value(const void *val, size_t vlen)
{
	if (!val && vlen != 0)
		return RS_EINVAL;
	return vlen > RS_VALUE_MAX ? RS_ETOOBIG : 0;
}

/* ---- begin / read / write ---- */

int rs__txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run, uint32_t flags)
{
	rs__store *st = db->store;
	rs__run *r = NULL;
	rs_txn *ctx;
	int rc;

	rs__rcu_thread_ensure();
	ctx = ctx_get(db);
	if (!ctx)
		return RS_ENOMEM;
	/* A blind context reads nothing: it needs no snapshot. */
	if (flags & RS__TXN_F_BLIND)
		goto ready;
	/* A read-write transaction needs its run to exist so that its pin
	 * holds back reclamation: otherwise a key it read as absent could be
	 * created and deleted (and its node unlinked) unseen by validation. */
	rc = st->ops->run_find(st, run, !(flags & RS_TXN_F_READONLY), &r);
	if (rc < 0 && rc != RS_ENOTFOUND)
		goto fail;
	RS_DEBUG_YIELD_POINT();
	rc = st->ops->snap_open(st, r, &ctx->pin, &ctx->snap);
	if (rc < 0)
		goto fail;
ready:
	ctx->run_id = *run;
	ctx->flags = flags;
	ctx->dur_mode = db->mode;
	ctx->state = RS__TXN_ACTIVE;
	*out = ctx;
	return 0;
fail:
	ctx_put(ctx);
	return rc;
}

static const unsigned char empty_value[1];

int rs__txn_read(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		 rs_bytes *out)
{
	rs__store *st = txn->db->store;
	uint64_t hash = st->ops->hash(st, tag, key, klen);
	long w = keyset_find(&txn->writes, tag, key, klen, hash);
	int rc;

	if (w >= 0) {
		const rs__op *op = &txn->writes.ops[w];

		if (op->flags & RS__OP_F_DELETE)
			return RS_ENOTFOUND;
		out->data = op->val;
		out->len = op->vlen;
		return 0;
	}
	rc = st->ops->read(st, &txn->snap, tag, key, klen, hash, out);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	if (!(txn->flags & RS_TXN_F_READONLY) &&
	    keyset_find(&txn->reads, tag, key, klen, hash) < 0) {
		rs__op rd = { 0 };
		int arc;

		rd.key = rs__arena_dup(&txn->arena, key, klen);
		if (!rd.key)
			return RS_ENOMEM;
		rd.klen = (uint32_t)klen;
		rd.hash = hash;
		rd.tag = tag;
		if ((arc = keyset_add(&txn->db->alloc, &txn->reads, &rd)) < 0)
			return arc;
	}
	return rc;
}

/* Stage a write; the value is copied into the arena when copy_val. */
static int stage_write(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen, uint8_t flags,
		       bool copy_val)
{
	rs__store *st = txn->db->store;
	uint64_t hash = st->ops->hash(st, tag, key, klen);
	const void *vcopy = empty_value;
	long w;

	if (vlen) {
		vcopy = copy_val ? rs__arena_dup(&txn->arena, val, vlen) : val;
		if (!vcopy)
			return RS_ENOMEM;
	}
	w = keyset_find(&txn->writes, tag, key, klen, hash);
	if (w >= 0) {
		rs__op *op = &txn->writes.ops[w];

		op->val = vcopy;
		op->vlen = (uint32_t)vlen;
		op->flags = flags;
		return 0;
	} else {
		rs__op op = { 0 };

		op.key = rs__arena_dup(&txn->arena, key, klen);
		if (!op.key)
			return RS_ENOMEM;
		op.val = vcopy;
		op.klen = (uint32_t)klen;
		op.vlen = (uint32_t)vlen;
		op.hash = hash;
		op.tag = tag;
		op.flags = flags;
		return keyset_add(&txn->db->alloc, &txn->writes, &op);
	}
}

int rs__txn_write(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		  const void *val, size_t vlen, uint8_t flags)
{
	if (txn->flags & RS_TXN_F_READONLY)
		return RS_EREADONLY;
	return stage_write(txn, tag, key, klen, val, vlen, flags, true);
}

int rs__txn_write_ref(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		      const void *val, size_t vlen, uint8_t flags)
{
	if (txn->flags & RS_TXN_F_READONLY)
		return RS_EREADONLY;
	return stage_write(txn, tag, key, klen, val, vlen, flags, false);
}

/* ---- listing ---- */

typedef struct list_entry {
	const void *key;
	const void *val;
	size_t klen;
	size_t vlen;
} list_entry;

struct list_ctx {
	rs_txn *txn;
	uint8_t tag;
	const void *after;
	size_t alen;
	size_t n;
	int rc;
};

static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int entry_cmp(const void *pa, const void *pb)
{
	const list_entry *a = pa, *b = pb;

	return key_cmp(a->key, a->klen, b->key, b->klen);
}

static int list_push(struct list_ctx *lc, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	rs_txn *txn = lc->txn;
	list_entry *e;

	if (lc->after && key_cmp(key, klen, lc->after, lc->alen) <= 0)
		return 0;
	if (rs__grow(&txn->db->alloc, &txn->scratch, &txn->scratch_cap,
		     lc->n + 1, sizeof(list_entry)) < 0) {
		lc->rc = RS_ENOMEM;
		return 1;
	}
	e = (list_entry *)txn->scratch + lc->n++;
	e->key = key;
	e->klen = klen;
	e->val = val;
	e->vlen = vlen;
	return 0;
}

static int list_from_snapshot(const void *key, size_t klen, const void *val,
			      size_t vlen, void *arg)
{
	struct list_ctx *lc = arg;
	rs_txn *txn = lc->txn;
	rs__store *st = txn->db->store;

	/* Staged writes shadow the snapshot; they are merged below. */
	if (txn->writes.n &&
	    keyset_find(&txn->writes, lc->tag, key, klen,
			st->ops->hash(st, lc->tag, key, klen)) >= 0)
		return 0;
	return list_push(lc, key, klen, val, vlen);
}

int rs__txn_list(rs_txn *txn, uint8_t tag, const void *prefix, size_t plen,
		 const void *after, size_t alen, size_t limit, bool *more_out,
		 rs_kv_entry_cb cb, void *ctx)
{
	rs__store *st = txn->db->store;
	struct list_ctx lc = { txn, tag, after, alen, 0, 0 };
	size_t emit;
	int rc;

	rc = st->ops->scan(st, &txn->snap, tag, prefix, plen,
			   list_from_snapshot, &lc);
	if (lc.rc < 0)
		return lc.rc;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < txn->writes.n; i++) {
		const rs__op *op = &txn->writes.ops[i];

		if (op->tag != tag || (op->flags & RS__OP_F_DELETE) ||
		    op->klen < plen || memcmp(op->key, prefix, plen) != 0)
			continue;
		if (list_push(&lc, op->key, op->klen, op->val, op->vlen))
			return lc.rc;
	}
	if (!(txn->flags & RS_TXN_F_READONLY)) {
		rs__prefix_read *pr;

		RS_TRY(rs__grow(&txn->db->alloc, (void **)&txn->preads,
				&txn->cpreads, txn->npreads + 1,
				sizeof(*txn->preads)));
		pr = &txn->preads[txn->npreads];
		pr->prefix = plen ? rs__arena_dup(&txn->arena, prefix, plen)
				  : empty_value;
		if (!pr->prefix)
			return RS_ENOMEM;
		pr->plen = plen;
		pr->tag = tag;
		txn->npreads++;
	}
	if (lc.n) /* scratch may still be NULL */
		qsort(txn->scratch, lc.n, sizeof(list_entry), entry_cmp);
	emit = (limit && limit < lc.n) ? limit : lc.n;
	if (more_out)
		*more_out = emit < lc.n;
	for (size_t i = 0; i < emit; i++) {
		const list_entry *e = (const list_entry *)txn->scratch + i;
		rs_bytes k = { e->key, e->klen }, v = { e->val, e->vlen };

		if ((rc = cb(k, v, ctx)) != 0)
			return rc;
	}
	return 0;
}

/* ---- commit ---- */

/*
 * The oldest version a snapshot of `run` may still read. `visible` was
 * just published (seq_cst) by this committer, before the pins are read.
 */
static uint64_t min_pin(rs_db *db, rs__run *run, uint64_t visible)
{
	uint64_t m = visible;

	for (rs_txn *t =
		     atomic_load_explicit(&db->ctx_all, memory_order_acquire);
	     t; t = t->reg_next) {
		uint64_t v;

		if (atomic_load_explicit(&t->pin.run, memory_order_seq_cst) !=
		    run)
			continue;
		v = atomic_load_explicit(&t->pin.ver, memory_order_seq_cst);
		if (v < m)
			m = v;
	}
	return m;
}

static int validate(const rs_txn *txn, rs__store *st, rs__run *run)
{
	uint64_t snap = txn->snap.ver;

	for (size_t i = 0; i < txn->reads.n; i++) {
		const rs__op *rd = &txn->reads.ops[i];

		if (st->ops->newest(st, run, rd->tag, rd->key, rd->klen,
				    rd->hash, NULL) > snap)
			return RS_ECONFLICT;
	}
	for (size_t i = 0; i < txn->npreads; i++) {
		const rs__prefix_read *pr = &txn->preads[i];

		if (st->ops->prefix_changed(st, run, pr->tag, pr->prefix,
					    pr->plen, snap))
			return RS_ECONFLICT;
	}
	return 0;
}

/* ---- deferred steps ---- */

int rs__txn_defer(rs_txn *txn, rs__step_fn fn, size_t arg_size, void **arg_out,
		  void *out, size_t out_off, size_t out_len)
{
	rs__step *step;
	void *arg;

	if (txn->flags & RS_TXN_F_READONLY)
		return RS_EREADONLY;
	RS_TRY(rs__grow(&txn->db->alloc, (void **)&txn->steps, &txn->csteps,
			txn->nsteps + 1, sizeof(*txn->steps)));
	arg = rs__arena_alloc(&txn->arena, arg_size);
	if (!arg)
		return RS_ENOMEM;
	memset(arg, 0, arg_size);
	step = &txn->steps[txn->nsteps++];
	step->fn = fn;
	step->arg = arg;
	step->out = out;
	step->out_off = out_off;
	step->out_len = out_len;
	*arg_out = arg;
	return 0;
}

void rs__txn_also(rs_txn *txn, const rs_run_id *other)
{
	assert(rs_run_id_is_nil(&txn->run_id));
	txn->also_id = *other;
	txn->has_also = true;
}

int rs__cc_read(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		rs_bytes *out)
{
	rs__store *st = cc->db->store;
	uint64_t hash = st->ops->hash(st, tag, key, klen);
	long w = keyset_find(&cc->txn->writes, tag, key, klen, hash);

	if (w >= 0) {
		const rs__op *op = &cc->txn->writes.ops[w];

		if (op->flags & RS__OP_F_DELETE)
			return RS_ENOTFOUND;
		out->data = op->val;
		out->len = op->vlen;
		return 0;
	}
	return st->ops->latest(st, cc->run, tag, key, klen, hash, out);
}

int rs__cc_write(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		 const void *val, size_t vlen, uint8_t flags)
{
	return stage_write(cc->txn, tag, key, klen, val, vlen, flags, false);
}

void *rs__cc_alloc(rs__cc *cc, size_t size)
{
	return rs__arena_alloc(&cc->txn->arena, size);
}

static int any_key(uint8_t tag, const void *key, size_t klen, uint64_t hash,
		   void *ctx)
{
	(void)tag;
	(void)key;
	(void)klen;
	(void)hash;
	(void)ctx;
	return 1;
}

bool rs__cc_also_has_data(rs__cc *cc)
{
	rs__store *st = cc->db->store;

	return st->ops->live_keys(st, cc->also, any_key, NULL) != 0;
}

uint32_t rs__cc_also_flags(rs__cc *cc)
{
	return cc->db->store->ops->run_flags(cc->also);
}

void rs__cc_also_set_flags(rs__cc *cc, uint32_t flags)
{
	cc->also_flags = flags;
	cc->also_flags_set = true;
}

void rs__cc_also_drop(rs__cc *cc)
{
	cc->also_drop = true;
}

/* Under the second run's lock: stage a tombstone for one live key. */
static int drop_key(uint8_t tag, const void *key, size_t klen, uint64_t hash,
		    void *ctx)
{
	rs_txn *txn = ctx;
	rs__op *op;

	if (rs__grow(&txn->db->alloc, (void **)&txn->drop_ops, &txn->cdrop,
		     txn->ndrop + 1, sizeof(*txn->drop_ops)) < 0)
		return RS_ENOMEM;
	op = &txn->drop_ops[txn->ndrop];
	memset(op, 0, sizeof(*op));
	/* Copied: the key's node may be reclaimed by this very commit. */
	op->key = rs__arena_dup(&txn->arena, key, klen);
	if (!op->key)
		return RS_ENOMEM;
	op->val = empty_value;
	op->klen = (uint32_t)klen;
	op->hash = hash;
	op->tag = tag;
	op->flags = RS__OP_F_DELETE;
	txn->ndrop++;
	return 0;
}

static int run_steps(rs__cc *cc)
{
	rs_txn *txn = cc->txn;
	rs__store *st = cc->db->store;

	for (size_t i = 0; i < txn->nsteps; i++)
		RS_TRY(txn->steps[i].fn(cc, txn->steps[i].arg));
	if (cc->also_drop) {
		txn->ndrop = 0;
		RS_TRY(st->ops->live_keys(st, cc->also, drop_key, txn));
	}
	return 0;
}

static int commit_core(rs_db *db, rs__run *run, const rs_run_id *id,
		       rs__op *ops, size_t nops, rs_txn *txn,
		       rs__locked_fn locked, void *lctx, rs__retire_list *rl)
{
	rs__store *st = db->store;
	rs__cc cc = { db, txn, run, NULL, 0, false, false };
	rs__commit_record rec;
	rs__op *dops = NULL;
	size_t ndops = 0;
	uint64_t ver, also_ver = 0;
	int rc = 0;

	if (txn && txn->has_also)
		RS_TRY(st->ops->run_find(st, &txn->also_id, true, &cc.also));
	st->ops->lock(st, run);
	if (cc.also)
		st->ops->lock(st, cc.also);
	if (st->ops->run_flags(run) & RS__RUN_F_ARCHIVED) {
		rc = RS_EARCHIVED;
		goto out;
	}
	if (txn && (rc = validate(txn, st, run)) < 0)
		goto out;
	/* The pin held reclamation back until validation was done (under the
	 * lock nothing more is unlinked); drop it so this commit's reclaim
	 * is not held back by its own snapshot. Views it gave out die here. */
	if (txn)
		ctx_release_snapshot(txn);
	if (locked && (rc = locked(db, run, ops, &nops, lctx)) < 0)
		goto out;
	if (txn && (txn->nsteps || cc.also)) {
		if ((rc = run_steps(&cc)) < 0)
			goto out;
		/* Steps staged into the write set; it may have moved. */
		ops = txn->writes.ops;
		nops = txn->writes.n;
		if (cc.also_drop) {
			dops = txn->drop_ops;
			ndops = txn->ndrop;
		}
	}
	if (nops == 0 && !cc.also_drop && !cc.also_flags_set)
		goto out;
	ver = st->ops->visible(run) + 1;
	if ((rc = st->ops->prepare(st, run, ops, nops, rl)) < 0)
		goto out;
	if (cc.also_drop) {
		also_ver = st->ops->visible(cc.also) + 1;
		if ((rc = st->ops->prepare(st, cc.also, dops, ndops, rl)) < 0) {
			st->ops->discard(st, run, ops, nops);
			goto out;
		}
	}
	rec.run = id;
	rec.version = ver;
	rec.timestamp_ns = 0;
	rec.ops = ops;
	rec.nops = nops;
	rec.mode = txn ? txn->dur_mode : db->mode;
	rec.kind = cc.also_drop ? RS__REC_DROP_RUN : RS__REC_COMMIT;
	rec.drop_run = cc.also_drop ? &txn->also_id : NULL;
	rec.drop_version = also_ver;
	if ((rc = db->dur.ops->commit(db->dur.state, &rec)) < 0) {
		st->ops->discard(st, run, ops, nops);
		if (cc.also_drop)
			st->ops->discard(st, cc.also, dops, ndops);
		goto out;
	}
	RS_DEBUG_YIELD_POINT();
	st->ops->apply(st, run, ops, nops, ver);
	if (cc.also_drop)
		st->ops->apply(st, cc.also, dops, ndops, also_ver);
	RS_DEBUG_YIELD_POINT();
	st->ops->publish(st, run, ver);
	if (cc.also_drop)
		st->ops->publish(st, cc.also, also_ver);
	if (cc.also_flags_set)
		st->ops->run_set_flags(cc.also, cc.also_flags);
	st->ops->reclaim(st, run, ops, nops, min_pin(db, run, ver), rl);
	if (cc.also_drop)
		st->ops->reclaim(st, cc.also, dops, ndops,
				 min_pin(db, cc.also, also_ver), rl);
out:
	if (cc.also)
		st->ops->unlock(st, cc.also);
	st->ops->unlock(st, run);
	return rc;
}

int rs__db_commit_ops(rs_db *db, const rs_run_id *id, rs__op *ops, size_t nops,
		      rs__locked_fn locked, void *ctx)
{
	rs__store *st = db->store;
	rs__run *run;
	rs_txn *holder;
	int rc;

	rs__rcu_thread_ensure();
	for (size_t i = 0; i < nops; i++)
		ops[i].hash =
			st->ops->hash(st, ops[i].tag, ops[i].key, ops[i].klen);
	RS_TRY(st->ops->run_find(st, id, true, &run));
	/* No transaction, but a context all the same: its retire list. */
	holder = ctx_get(db);
	if (!holder)
		return RS_ENOMEM;
	if (st->ops->oneshot_snapshot &&
	    (rc = st->ops->snap_open(st, run, &holder->pin, &holder->snap)) < 0)
		goto out;
	rc = commit_core(db, run, id, ops, nops, NULL, locked, ctx,
			 &holder->retired);
out:
	ctx_put(holder);
	return rc;
}

int rs__txn_commit(rs_txn *txn)
{
	rs_db *db = txn->db;
	rs__store *st = db->store;
	rs__run *run = txn->snap.run;
	int rc = 0;

	if (txn->writes.n == 0 && txn->nsteps == 0 && !txn->has_also)
		goto out;
	if (!run && (rc = st->ops->run_find(st, &txn->run_id, true, &run)) < 0)
		goto out;
	rc = commit_core(db, run, &txn->run_id, txn->writes.ops, txn->writes.n,
			 txn, NULL, NULL, &txn->retired);
	for (size_t i = 0; rc == 0 && i < txn->nsteps; i++) {
		const rs__step *step = &txn->steps[i];

		if (step->out)
			memcpy(step->out,
			       (const unsigned char *)step->arg + step->out_off,
			       step->out_len);
	}
out:
	ctx_put(txn);
	return rc;
}

void rs__txn_abort(rs_txn *txn)
{
	ctx_put(txn);
}

void rs__txn_flush_retired(rs_db *db)
{
	for (unsigned i = 0; i < tls_pool.n; i++)
		if (tls_pool.s[i].db_id == db->id)
			rs__retire_flush(&tls_pool.s[i].ctx->retired);
}

/* ---- retry helper ---- */

static void backoff(unsigned attempt)
{
	unsigned shift = attempt < 11 ? attempt : 10;
	uint64_t cap_ns = 1000ull << shift; /* 2 µs .. 1 ms */
	uint64_t wait = rs__random_fast() % cap_ns;
	uint64_t until;

	if (wait >= 50000) {
		rs__clock_sleep_ns(wait);
		return;
	}
	until = rs__clock_monotonic_ns() + wait;
	while (rs__clock_monotonic_ns() < until)
		sched_yield();
}

int rs__txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
		unsigned max_attempts, rs_txn_fn fn, void *ctx)
{
	if (max_attempts == 0)
		max_attempts = RS_TXN_RUN_DEFAULT_ATTEMPTS;
	for (unsigned attempt = 1;; attempt++) {
		rs_txn *txn;
		int rc = rs__txn_begin(&txn, db, run, flags);

		if (rc < 0)
			return rc;
		rc = fn(txn, ctx);
		if (rc != 0)
			rs__txn_abort(txn);
		else
			rc = rs__txn_commit(txn);
		if (rc != RS_ECONFLICT || attempt >= max_attempts)
			return rc;
		backoff(attempt);
	}
}
