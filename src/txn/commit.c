/* SPDX-License-Identifier: MIT */
/*
 * Commit: validation, deferred steps, the two-run commit.
 *
 * Every write reaches the store through rs__txn_commit(): transactions
 * and one-shot writes alike (a one-shot write is a blind transaction whose
 * read set is empty, so it validates trivially and never conflicts).
 *
 * Under the run's commit lock: reject a fenced run, validate the read set
 * (every key read, present or absent, and every key inside a scanned range
 * must have no version newer than the snapshot: first committer wins), release the
 * snapshot, run the deferred steps (which read the newest committed state
 * and stage more writes), prepare (allocate all version records and
 * nodes), hand one record to the durability backend, apply, publish the
 * new visible version, reclaim what no pin can see, unlock. Any failure
 * before apply changes nothing. The record carries the transaction's
 * durability mode (the database's unless rs_txn_set_durability()
 * overrode it); a Strict backend returns only once the record is synced,
 * so the commit lock of the run is held through that sync: commits of one
 * run are serialized, fsync included, while commits of different runs
 * share syncs (group commit). Transactions that staged nothing skip all of
 * it: no lock, no version bump, no durability record.
 *
 * Two runs. A transaction on the nil run may name a second run
 * (rs__txn_also): it is locked after the nil run (the only order in which
 * a thread holds two run locks), and the steps may set its flags or drop
 * all its keys; the drop is the same atomic record (RS__REC_DROP_RUN) as
 * the nil run's writes. The second run is looked up under the nil run's
 * lock: every drop holds it, so the run found is not being killed.
 *
 * Lives of a run. A drop ends the dropped run's life: its tombstones go
 * at its drop version (rs__cc_also_drop), above every version and counter
 * that life used and above the drop mark, which it becomes (the store's
 * run_base: every run created from then on starts there, a next life of
 * the same id included), and the store kills the run (store.h). The mark
 * only grows, so versions, sequences, ids and cell versions never repeat
 * for an id across delete and re-create; recovery rebuilds it
 * (replay.c). A transaction that began on a run killed before it commits
 * conflicts if it read anything of it; one that only wrote (a one-shot
 * write among them) moves to the run's next life and commits there. One
 * that read the run conflicts too when the life its commit finds began
 * after its snapshot (the run's start is not the snapshot's base).
 *
 * Results. A step's results reach the caller through its type's done(),
 * called with the commit's result once the locks are released.
 */
#include <assert.h>
#include <string.h>

#include "durability/wal_format.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/random.h"
#include "util/run_id.h"

struct rs__cc {
	rs_db *db;
	rs_txn *txn;
	rs__run *run;  /* the transaction's run, locked */
	rs__run *also; /* the second locked run, or NULL */
	uint32_t also_flags;
	bool also_flags_set;
	bool also_drop;
	uint64_t drop_floor; /* rs__cc_also_drop's */
	/* rs__txn_commit_applied(): the record being applied, else NULL,
	 * and where the run's life starts for it (UINT64_MAX: where it
	 * does already; applied_version). */
	const rs__commit_record *applied;
	uint64_t applied_start;
};

/* ---- validation ---- */

static int validate(const rs_txn *txn, rs__store *st, rs__run *run)
{
	uint64_t snap = txn->snap.ver;

	for (size_t i = 0; i < txn->reads.n; i++) {
		const rs__op *rd = &txn->reads.ops[i];

		if (st->ops->newest(st, run, rd->tag, rd->key, rd->klen,
				    rd->hash, NULL) > snap)
			return RS_ECONFLICT;
	}
	for (size_t i = 0; i < txn->nranges; i++) {
		const rs__range_read *rr = &txn->ranges[i];

		if (st->ops->range_changed(st, run, rr->tag, &rr->lo, &rr->hi,
					   snap))
			return RS_ECONFLICT;
	}
	return 0;
}

/* ---- deferred steps ---- */

int rs__txn_defer(rs_txn *txn, const rs__step_type *type, size_t arg_size,
		  void **arg_out)
{
	rs__step *step;
	void *arg;

	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	RS_TRY(rs__grow(&txn->db->alloc, (void **)&txn->steps, &txn->csteps,
			txn->nsteps + 1, sizeof(*txn->steps)));
	arg = rs__arena_alloc(&txn->arena, arg_size);
	if (!arg)
		return RS_ENOMEM;
	memset(arg, 0, arg_size);
	step = &txn->steps[txn->nsteps++];
	step->type = type;
	step->arg = arg;
	*arg_out = arg;
	return 0;
}

void rs__txn_also(rs_txn *txn, const rs_run_id *other, bool create)
{
	assert(rs_run_id_is_nil(&txn->run_id));
	txn->also_id = *other;
	txn->has_also = true;
	txn->also_create = create;
}

uint64_t rs__cc_base(rs__cc *cc)
{
	return cc->db->store->ops->run_start(cc->run);
}

int rs__cc_read(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		rs_bytes *out)
{
	rs__store *st = cc->db->store;
	uint64_t hash = st->ops->hash(st, tag, key, klen);
	int rc = rs__keyset_view(&cc->txn->writes, tag, key, klen, hash, out);

	if (rc <= 0)
		return rc;
	return st->ops->latest(st, cc->run, tag, key, klen, hash, out);
}

int rs__cc_write(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		 const void *val, size_t vlen, uint8_t flags)
{
	return rs__txn_write_ref(cc->txn, tag, key, klen, val, vlen, flags);
}

void *rs__cc_alloc(rs__cc *cc, size_t size)
{
	return rs__arena_alloc(&cc->txn->arena, size);
}

rs_txn *rs__cc_txn(rs__cc *cc)
{
	return cc->txn;
}

void *rs__cc_step_arg(rs__cc *cc, size_t i, const rs__step_type *type)
{
	return rs__txn_step_arg(cc->txn, i, type);
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

	return cc->also && st->ops->live_keys(st, cc->also, any_key, NULL) != 0;
}

uint32_t rs__cc_also_flags(rs__cc *cc)
{
	return cc->also ? cc->db->store->ops->run_flags(cc->also) : 0;
}

void rs__cc_also_set_flags(rs__cc *cc, uint32_t flags)
{
	cc->also_flags = flags;
	cc->also_flags_set = cc->also != NULL;
}

void rs__cc_also_drop(rs__cc *cc, uint64_t floor)
{
	/* A run that does not exist has nothing to drop and no counter. */
	cc->also_drop = cc->also != NULL;
	cc->drop_floor = floor;
}

uint64_t rs__cc_also_base(rs__cc *cc)
{
	return cc->also ? cc->db->store->ops->run_start(cc->also) : 0;
}

int rs__cc_also_read(rs__cc *cc, uint8_t tag, const void *key, size_t klen,
		     rs_bytes *out)
{
	rs__store *st = cc->db->store;

	if (!cc->also)
		return RS_ENOTFOUND;
	return st->ops->latest(st, cc->also, tag, key, klen,
			       st->ops->hash(st, tag, key, klen), out);
}

struct each_ctx {
	rs__cc *cc;
	uint8_t tag;
	int (*cb)(rs_bytes key, rs_bytes val, void *ctx);
	void *ctx;
};

static int each_key(uint8_t tag, const void *key, size_t klen, uint64_t hash,
		    void *arg)
{
	struct each_ctx *e = arg;
	rs__store *st = e->cc->db->store;
	rs_bytes k = { key, klen }, v;
	int rc;

	if (tag != e->tag)
		return 0;
	if ((rc = st->ops->latest(st, e->cc->also, tag, key, klen, hash, &v)))
		return rc;
	return e->cb(k, v, e->ctx);
}

int rs__cc_also_each(rs__cc *cc, uint8_t tag,
		     int (*cb)(rs_bytes key, rs_bytes val, void *ctx),
		     void *ctx)
{
	struct each_ctx e = { cc, tag, cb, ctx };
	rs__store *st = cc->db->store;

	if (!cc->also)
		return 0;
	return st->ops->live_keys(st, cc->also, each_key, &e);
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
	op->val = ""; /* a tombstone has no value */
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
		RS_TRY(txn->steps[i].type->run(cc, txn->steps[i].arg));
	if (cc->also_drop) {
		txn->ndrop = 0;
		RS_TRY(st->ops->live_keys(st, cc->also, drop_key, txn));
	}
	return 0;
}

/* ---- commit ---- */

/*
 * An applied record begins the run's life (no commit in it yet) at
 * another start than the run has here. The start a new run got here (the
 * local drop mark) may be above the record's: the writer created the run
 * before a drop whose record came first. Then the run's visible version
 * goes back, and a snapshot opened at the higher one would see the
 * record's versions as they are installed: wait until no read-side
 * section and no pinned snapshot of the run can be at it (they read an
 * empty run; new ones see the lower version). Under the run's lock,
 * after prepare, before apply.
 */
static void restart_life(rs_db *db, rs__run *r, uint64_t start)
{
	rs__store *st = db->store;
	uint64_t was = st->ops->visible(r);

	st->ops->run_set_start(r, start);
	if (start < was) {
		rs__rcu_synchronize();
		rs__db_wait_pins(db, r, start);
	}
}

/*
 * Under the locks, after validation and the steps: log, then install.
 * The transaction's own writes go to cc->run at ver; a drop (two-run
 * commit) also tombstones every key of cc->also at also_ver, in the same
 * record. Straight-line for the one-run case: this is every commit's path.
 */
static int install(rs_txn *txn, rs__cc *cc)
{
	rs_db *db = txn->db;
	rs__store *st = db->store;
	rs__op *ops = txn->writes.ops, *dops = txn->drop_ops;
	size_t n = txn->writes.n, nd = txn->ndrop;
	bool drop = cc->also_drop;
	const rs__commit_record *applied = cc->applied;
	uint64_t ver = applied ? applied->version
			       : st->ops->visible(cc->run) + 1,
		 also_ver = 0;
	/* The drop mark, written only under the nil run's lock. */
	uint64_t mark =
		atomic_load_explicit(&st->run_base, memory_order_relaxed);
	rs__commit_record rec;
	int rc;

	if (drop) {
		/* Above the life it ends and above the drop mark. */
		also_ver = st->ops->visible(cc->also) + 1;
		if (also_ver < cc->drop_floor)
			also_ver = cc->drop_floor;
		if (also_ver <= mark)
			also_ver = mark + 1;
	}
	/* An applied drop is where the writer's was: that version is above
	 * the life it ends and the mark there, and so here (the nil run's
	 * records, which alone move the mark, came before it in order). */
	if (applied && applied->kind == RS__REC_DROP_RUN &&
	    (drop ? also_ver != applied->drop_version
		  : applied->drop_version <= mark))
		return RS_ECORRUPT;
	/* In every mode, the log's too: the store keeps a version in 63
	 * bits (storage/table.h, rs__vref). */
	if (ver > RS__VERSION_MAX || also_ver > RS__VERSION_MAX)
		return RS_ERANGE;
	RS_TRY(st->ops->prepare(st, cc->run, ops, n, &txn->retired));
	if (drop) {
		rc = st->ops->prepare(st, cc->also, dops, nd, &txn->retired);
		if (rc < 0) {
			st->ops->discard(st, cc->run, ops, n);
			return rc;
		}
	}
	rec.kind = drop ? RS__REC_DROP_RUN : RS__REC_COMMIT;
	rec.run = &txn->run_id;
	rec.version = ver;
	rec.timestamp_ns = 0;
	rec.ops = ops;
	rec.nops = n;
	rec.mode = txn->dur_mode;
	rec.drop_run = drop ? &txn->also_id : NULL;
	rec.drop_version = also_ver;
	RS_PERF_TXN_PREPARED(txn);
	RS_PROBE(commit__prepared, &txn->run_id, ver, n);
	/* An applied record is in the backend's log already. */
	if (!applied && (rc = db->dur.ops->commit(db->dur.state, &rec)) < 0) {
		st->ops->discard(st, cc->run, ops, n);
		if (drop)
			st->ops->discard(st, cc->also, dops, nd);
		return rc;
	}
	if (applied && cc->applied_start != UINT64_MAX)
		restart_life(db, cc->run, cc->applied_start);
	RS_PERF_TXN_LOGGED(txn);
	RS_PROBE(commit__logged, &txn->run_id, ver, rec.mode);
	RS_DEBUG_YIELD_POINT();
	st->ops->apply(st, cc->run, ops, n, ver);
	if (drop)
		st->ops->apply(st, cc->also, dops, nd, also_ver);
	RS_PERF_TXN_SPLIT(txn, RS_PERF_APPLY);
	RS_PROBE(commit__applied, &txn->run_id, ver, n);
	RS_DEBUG_YIELD_POINT();
	st->ops->publish(st, cc->run, ver);
	if (drop)
		st->ops->publish(st, cc->also, also_ver);
	if (cc->also_flags_set)
		st->ops->run_set_flags(cc->also, cc->also_flags);
	if (drop) {
		/* The mark first: a run created once the kill has unlinked
		 * this one starts above everything it had. */
		atomic_store_explicit(&st->run_base, also_ver,
				      memory_order_seq_cst);
		st->ops->run_kill(st, cc->also);
	} else if (applied && applied->kind == RS__REC_DROP_RUN) {
		/* The dropped run has no state here (it had none but its
		 * existence on the writer): the mark moves all the same. */
		atomic_store_explicit(&st->run_base, applied->drop_version,
				      memory_order_seq_cst);
	}
	RS_PERF_TXN_PUBLISHED(txn);
	RS_PROBE(commit__published, &txn->run_id, ver);
	st->ops->reclaim(st, cc->run, ops, n, rs__db_min_pin(db, cc->run, ver),
			 &txn->retired);
	if (drop)
		st->ops->reclaim(st, cc->also, dops, nd,
				 rs__db_min_pin(db, cc->also, also_ver),
				 &txn->retired);
	return 0;
}

/*
 * Under the run's lock: where an applied record stands against the run.
 * The first record of a life (no commit in it yet: the run was created
 * for it, or killed and created again, or exists empty) may be at any
 * version: the life starts just below it, as on the writer
 * (restart_life, once nothing can fail any more).
 */
static int applied_version(rs_db *db, rs__cc *cc)
{
	rs__store *st = db->store;
	uint64_t ver = cc->applied->version;
	uint64_t cur = st->ops->visible(cc->run);
	uint64_t start = st->ops->run_start(cc->run);

	cc->applied_start = UINT64_MAX;
	if (cur != start) {
		if (ver <= cur)
			return 1;
		return ver == cur + 1 ? 0 : RS_ECORRUPT;
	}
	if (ver - 1 != start)
		cc->applied_start = ver - 1;
	return 0;
}

static int commit_locked(rs_txn *txn, rs__cc *cc)
{
	rs__store *st = txn->db->store;

	if (cc->applied) {
		/* What the writer committed is applied as it is, an
		 * archived run's included (on the writer the same record
		 * passed this check). */
		int rc = applied_version(txn->db, cc);

		if (rc != 0)
			return rc;
		if (cc->applied->kind == RS__REC_DROP_RUN) {
			cc->also_drop = cc->also != NULL;
			cc->drop_floor = cc->applied->drop_version;
		}
	} else if (st->ops->run_flags(cc->run) & RS__RUN_F_FENCED) {
		return RS_EARCHIVED;
	}
	RS_TRY(validate(txn, st, cc->run));
	/* The pin held reclamation back until validation was done (under the
	 * lock nothing more is unlinked); drop it so this commit's reclaim
	 * is not held back by its own snapshot. Views it gave out die here. */
	rs__ctx_release_snapshot(txn);
	RS_PERF_TXN_SPLIT(txn, RS_PERF_VALIDATE);
	RS_PROBE(commit__validated, &txn->run_id, txn->snap.ver);
	RS_TRY(run_steps(cc));
	if (txn->writes.n == 0 && !cc->also_drop && !cc->also_flags_set &&
	    !cc->applied)
		return 0;
	return install(txn, cc);
}

/* The transaction's run is locked and dead (deleted since it began):
 * unlock it; a transaction that read nothing moves to the run's next
 * life (0), any other conflicts. */
static int move_to_next_life(rs_txn *txn, rs__cc *cc)
{
	rs__store *st = txn->db->store;
	rs__run *r = NULL;
	int rc;

	st->ops->unlock(st, cc->run);
	if (txn->reads.n || txn->nranges)
		return RS_ECONFLICT;
	rs__ctx_release_snapshot(txn);
	rs__rcu_read_lock();
	rc = st->ops->run_find(st, &txn->run_id, true, &r);
	if (rc == 0)
		atomic_store_explicit(&txn->hold, r, memory_order_release);
	rs__rcu_read_unlock();
	RS_TRY(rc);
	cc->run = txn->run = r;
	return 0;
}

static int commit(rs_txn *txn, const rs__commit_record *applied, bool *killed)
{
	rs__store *st = txn->db->store;
	rs__cc cc = { txn->db, txn,   txn->run, NULL,	 0,
		      false,   false, 0,	applied, UINT64_MAX };
	int rc;

	if (!cc.run) {
		rs__rcu_read_lock();
		rc = st->ops->run_find(st, &txn->run_id, true, &cc.run);
		if (rc == 0) {
			atomic_store_explicit(&txn->hold, cc.run,
					      memory_order_release);
			txn->run = cc.run;
		}
		rs__rcu_read_unlock();
		RS_TRY(rc);
	}
	if (txn->has_also) {
		/* Held from inside the lookup's read-side section, as a
		 * transaction's own run is (pool.c). */
		rs__rcu_read_lock();
		rc = st->ops->run_find(st, &txn->also_id, txn->also_create,
				       &cc.also);
		if (rc == 0)
			atomic_store_explicit(&txn->hold_also, cc.also,
					      memory_order_release);
		rs__rcu_read_unlock();
		if (rc < 0 && rc != RS_ENOTFOUND)
			return rc;
	}
	for (;;) {
		st->ops->lock(st, cc.run);
		if (!st->ops->run_dead(cc.run))
			break;
		RS_TRY(move_to_next_life(txn, &cc));
	}
	/* A life begun since the snapshot (a run absent then is created at
	 * the drop mark of now; the unified store restarts a run in place):
	 * what the transaction read of the run, a cell's first version or a
	 * log's first sequence, was at the other base. */
	if ((txn->reads.n || txn->nranges) &&
	    st->ops->run_start(cc.run) != txn->snap.base) {
		st->ops->unlock(st, cc.run);
		return RS_ECONFLICT;
	}
	if (cc.also && st->ops->run_dead(cc.also)) {
		/* Killed before the nil run's lock was ours; under it no drop
		 * can kill what is found now (the sharded store's lookup takes
		 * no lock; the unified store never kills). */
		rc = st->ops->run_find(st, &txn->also_id, txn->also_create,
				       &cc.also);
		if (rc < 0 && rc != RS_ENOTFOUND) {
			st->ops->unlock(st, cc.run);
			return rc;
		}
	}
	if (cc.also)
		st->ops->lock(st, cc.also);
	RS_PERF_TXN_SPLIT(txn, RS_PERF_LOCK);
	RS_PROBE(commit__locked, &txn->run_id, txn->snap.ver);
	rc = commit_locked(txn, &cc);
	*killed = rc == 0 && cc.also_drop;
	if (cc.also)
		st->ops->unlock(st, cc.also);
	st->ops->unlock(st, cc.run);
	return rc;
}

static int commit_and_end(rs_txn *txn, const rs__commit_record *applied)
{
	rs_db *db = txn->db;
	bool killed = false;
	int rc = 0;

	if (txn->writes.n || txn->nsteps || txn->has_also || applied) {
		RS_PERF_TXN_SPLIT(txn, RS_PERF_BODY);
		RS_PROBE(commit__start, &txn->run_id, txn->writes.n,
			 txn->nsteps);
		rc = commit(txn, applied, &killed);
	}
	for (size_t i = 0; i < txn->nsteps; i++) {
		const rs__step *step = &txn->steps[i];

		if (step->type->done)
			step->type->done(step->arg, rc);
	}
	RS_PERF_TXN_KEEP(perf_t, txn);
	RS_PERF_ONLY(rs_run_id perf_run = txn->run_id;
		     bool perf_wrote =
			     txn->writes.n || txn->nsteps || txn->has_also;)
	rs__ctx_put(txn);
	/* Outside every lock: free what deleted runs left, a batch at a
	 * time (a grace period each). */
	if (killed)
		rs__db_reap(db, RS__REAP_BATCH);
	RS_PERF_TXN_END(perf_t);
	RS_PERF_ONLY(if (perf_wrote) RS_PROBE(commit__done, &perf_run, rc);)
	return rc;
}

int rs__txn_commit(rs_txn *txn)
{
	return commit_and_end(txn, NULL);
}

int rs__txn_commit_applied(rs_txn *txn, const rs__commit_record *rec)
{
	rs_db *db = txn->db;
	int rc;

	assert(txn->flags & RS__TXN_F_APPLY);
	rc = commit_and_end(txn, rec);
	if (rc == 0)
		atomic_fetch_add_explicit(&db->records_applied, 1,
					  memory_order_relaxed);
	return rc;
}

/* ---- run flags at open ---- */

int rs__txn_run_add_flags(rs_db *db, const rs_run_id *run, uint32_t flags)
{
	rs__store *st = db->store;
	rs__run *r;

	RS_TRY(st->ops->run_find(st, run, true, &r));
	st->ops->lock(st, r);
	st->ops->run_set_flags(r, st->ops->run_flags(r) | flags);
	st->ops->unlock(st, r);
	return 0;
}
