/* SPDX-License-Identifier: MIT */
/*
 * Open databases, transaction contexts and their per-thread pools, and the
 * snapshot pins reclamation reads.
 *
 * Contexts. A context (struct rs_txn) belongs to one database for its whole
 * life: it is allocated with the database's allocator, appended to the
 * database's registry `ctx_all` (never unlinked; freed at close) and reused.
 * Each thread caches up to POOL_SLOTS idle contexts in `tls_pool`, tagged
 * with the owning database's id (ids are never reused, so a slot of a
 * closed database can never match). Contexts beyond that, and those of an
 * exiting thread, go to the database's `ctx_free` list. After warm-up,
 * begin and commit allocate nothing: the read/write sets, the arena
 * holding staged keys and values, and the range reads keep their capacity
 * across reuse. Since a context is reused, a handle the caller keeps after
 * commit or abort may name a newer transaction of the same thread: the
 * header makes using it undefined, and `state` catches it only while the
 * context sits idle.
 *
 * Pins. A context's `pin` says which run and version its snapshot reads;
 * a committer keeps every version some pin of its run can see
 * (rs__db_min_pin). The pin protocol and its memory ordering are described
 * in storage/shard.c. A pin is dropped (ver = RS__PIN_NONE) when the
 * transaction's snapshot is released: at commit once validated, or at
 * abort; views it handed out die with it.
 *
 * Reclamation. What a commit unlinks (cut versions, dead key nodes,
 * replaced slot arrays) goes onto the committing context's retire list,
 * and rs__ctx_put(), outside every lock, ends each commit with
 * rs__retire_end() (util/rcu.h): it frees a share of the previous batch
 * once the database's reclaimer thread has seen its grace period end, and
 * queues the list for a grace period once it holds RS__RETIRE_BATCH
 * entries, waiting only if the previous batch's grace period is not over
 * yet (back-pressure). Close joins the reclaimer before it frees the
 * contexts and what they still hold.
 *
 * Deleted runs. A run delete kills the run's shard (storage/store.h): the
 * shard leaves the run map and waits, dead, until a reap frees it. A
 * context names the shard it uses in `hold`, stored inside the read-side
 * section of the lookup that found it (txn.c) and cleared when the
 * context goes back to its pool; a reap waits for a grace period, then
 * frees the dead shards no context holds (rs__db_holds). A delete's
 * commit reaps once RS__REAP_BATCH dead shards wait, so memory stays
 * bounded however many runs a process creates and deletes.
 *
 * Locks, in order: g_lock (process-wide list of open databases) before a
 * database's ctx_lock; a run's commit lock is never held with either.
 */
#include <sched.h>
#include <string.h>

#include "txn/txn.h"
#include "util/error.h"

#define POOL_SLOTS 8u

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
	RS_TRY(rs__reclaim_init(&db->reclaim));
	if (pthread_mutex_init(&db->ctx_lock, NULL) != 0) {
		rs__reclaim_fini(&db->reclaim);
		return RS_ENOMEM;
	}
	db->id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
	rs__thread_set_exit_hook(pool_thread_exit);
	pthread_mutex_lock(&g_lock);
	db->live_next = g_live;
	g_live = db;
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void ctx_destroy(rs_txn *ctx)
{
	const rs__alloc *a = &ctx->db->alloc;

	rs__keyset_free(a, &ctx->reads);
	rs__keyset_free(a, &ctx->writes);
	rs__free(a, ctx->steps);
	rs__free(a, ctx->drop_ops);
	rs__free(a, ctx->ranges);
	rs__free(a, ctx->wsorted);
	rs__arena_free(&ctx->arena);
	/* Close is exclusive: no reader is left to wait for. */
	rs__retire_list_fini(&ctx->retired);
	rs__free(a, ctx);
}

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
	/* First: the contexts' batches may still be queued there. */
	rs__reclaim_fini(&db->reclaim);

	ctx = atomic_load_explicit(&db->ctx_all, memory_order_acquire);
	while (ctx) {
		rs_txn *next = ctx->reg_next;

		/* A transaction left open at close is aborted here: its
		 * snapshot (a deep copy in the unified store) goes too. */
		if (ctx->state == RS__TXN_ACTIVE)
			rs__ctx_release_snapshot(ctx);
		ctx_destroy(ctx);
		ctx = next;
	}
	pthread_mutex_destroy(&db->ctx_lock);
}

/* ---- contexts ---- */

rs_txn *rs__ctx_get(rs_db *db)
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
	atomic_init(&ctx->hold, NULL);
	atomic_init(&ctx->hold_also, NULL);
	atomic_init(&ctx->pin.run, NULL);
	atomic_init(&ctx->pin.ver, RS__PIN_NONE);
	rs__arena_init(&ctx->arena, &db->alloc);
	rs__retire_list_init(&ctx->retired, &db->alloc, RS__RETIRE_CAP);
	pthread_mutex_lock(&db->ctx_lock);
	ctx->reg_next =
		atomic_load_explicit(&db->ctx_all, memory_order_relaxed);
	/* Pairs with the acquire load in rs__db_min_pin(): reg_next is set. */
	atomic_store_explicit(&db->ctx_all, ctx, memory_order_release);
	pthread_mutex_unlock(&db->ctx_lock);
	return ctx;
}

void rs__ctx_release_snapshot(rs_txn *ctx)
{
	rs__store *st = ctx->db->store;

	if (ctx->snap.state)
		st->ops->snap_close(st, &ctx->snap);
	/* Only when pinned: committers of other runs read this line. */
	if (atomic_load_explicit(&ctx->pin.ver, memory_order_relaxed) !=
	    RS__PIN_NONE)
		atomic_store_explicit(&ctx->pin.ver, RS__PIN_NONE,
				      memory_order_release);
	ctx->snap.state = NULL;
}

/* Free an array that one huge transaction grew, so the pool keeps no
 * more than RS__KEYSET_KEEP_MAX entries of it. */
static void shrink(const rs__alloc *a, void **arr, size_t *cap)
{
	if (*cap > RS__KEYSET_KEEP_MAX) {
		rs__free(a, *arr);
		*arr = NULL;
		*cap = 0;
	}
}

void rs__ctx_put(rs_txn *ctx)
{
	const rs__alloc *a = &ctx->db->alloc;

	rs__ctx_release_snapshot(ctx);
	rs__keyset_reset(a, &ctx->reads);
	rs__keyset_reset(a, &ctx->writes);
	shrink(a, (void **)&ctx->steps, &ctx->csteps);
	shrink(a, (void **)&ctx->drop_ops, &ctx->cdrop);
	ctx->nsteps = 0;
	ctx->ndrop = 0;
	ctx->has_also = false;
	ctx->nranges = 0;
	ctx->nwsorted = 0;
	ctx->run = NULL;
	/* Release: what the context did with the run happens before a
	 * reaper that sees NULL here frees it. */
	if (atomic_load_explicit(&ctx->hold, memory_order_relaxed))
		atomic_store_explicit(&ctx->hold, NULL, memory_order_release);
	if (atomic_load_explicit(&ctx->hold_also, memory_order_relaxed))
		atomic_store_explicit(&ctx->hold_also, NULL,
				      memory_order_release);
	rs__arena_reset(&ctx->arena);
	/* Not under any lock nor inside a read-side section here. */
	rs__retire_end(&ctx->db->reclaim, &ctx->retired);
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

/* From m, the least version pinned on `run` (or, with `max`, the
 * greatest, pins without a version left out). Inlined into each caller
 * with `max` constant: rs__db_min_pin() is on every commit's path. */
static inline uint64_t pins_on(rs_db *db, rs__run *run, uint64_t m, bool max)
{
	for (rs_txn *t =
		     atomic_load_explicit(&db->ctx_all, memory_order_acquire);
	     t; t = t->reg_next) {
		uint64_t v;

		if (atomic_load_explicit(&t->pin.run, memory_order_seq_cst) !=
		    run)
			continue;
		v = atomic_load_explicit(&t->pin.ver, memory_order_seq_cst);
		if (max ? v != RS__PIN_NONE && v > m : v < m)
			m = v;
	}
	return m;
}

uint64_t rs__db_min_pin(rs_db *db, rs__run *run, uint64_t visible)
{
	return pins_on(db, run, visible, false);
}

void rs__db_wait_pins(rs_db *db, rs__run *run, uint64_t ver)
{
	/* Each such snapshot was opened before the caller moved the
	 * version back, and ends with its transaction. */
	while (pins_on(db, run, ver, true) > ver)
		sched_yield();
}

bool rs__db_holds(void *arg, const rs__run *r)
{
	rs_db *db = arg;

	for (rs_txn *t =
		     atomic_load_explicit(&db->ctx_all, memory_order_acquire);
	     t; t = t->reg_next)
		if (atomic_load_explicit(&t->hold, memory_order_acquire) == r ||
		    atomic_load_explicit(&t->hold_also, memory_order_acquire) ==
			    r)
			return true;
	return false;
}

void rs__db_reap(rs_db *db, size_t min)
{
	db->store->ops->run_reap(db->store, min, rs__db_holds, db);
}

void rs__txn_flush_retired(rs_db *db)
{
	rs__db_reap(db, 0);
	for (unsigned i = 0; i < tls_pool.n; i++)
		if (tls_pool.s[i].db_id == db->id)
			rs__retire_drain(&db->reclaim,
					 &tls_pool.s[i].ctx->retired);
}
