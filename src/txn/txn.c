/* SPDX-License-Identifier: MIT */
/*
 * Transactions: begin, the transaction's view (reads, staged writes,
 * listings), the one-shot paths and the retry helper. Commit is in
 * commit.c, contexts and pins in pool.c.
 *
 * Snapshots. begin() takes a snapshot through the store: O(1), no lock, no
 * allocation for the sharded store. A read-write transaction needs its run
 * to exist so that its pin holds back reclamation: otherwise a key it read
 * as absent could be created and deleted (and its node unlinked) unseen by
 * validation. A blind (write-only) transaction opens its snapshot without
 * a pin: it never reads through it.
 *
 * The view. A read looks at the transaction's own staged writes first,
 * then at the snapshot, and joins the read set (present or absent) unless
 * the transaction is read-only. Ordered access (cursors, scans, listings)
 * is in cursor.c.
 *
 * One-shot paths. A one-shot read is one lookup of the newest committed
 * value inside an RCU read-side section, copied out before the section
 * ends. A one-shot write is a blind transaction: staged writes and
 * deferred steps, committed at once; it never conflicts.
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

static const unsigned char empty_value[1];

/* ---- begin ---- */

int rs__txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run, uint32_t flags)
{
	rs__store *st = db->store;
	rs__run *r = NULL;
	rs_txn *ctx;
	int rc;
	RS_PERF_START(t0);

	RS_PROBE(txn__begin, run, flags);
	/* A follower's own transactions only read (RS_EREADONLY at the
	 * first write, before anything is staged), after a promotion too:
	 * they create no run, so their reads were not validated. */
	if (!(flags & RS__TXN_F_APPLY) &&
	    RS_UNLIKELY(
		    atomic_load_explicit(&db->follower, memory_order_acquire)))
		flags = (flags & ~RS__TXN_F_BLIND) | RS_TXN_F_READONLY;
	rs__rcu_thread_ensure();
	ctx = rs__ctx_get(db);
	if (!ctx)
		return RS_ENOMEM;
	/* The hold is published inside the lookup's read-side section: a
	 * reaper's grace period after the shard was killed ends after it,
	 * so the reaper sees it (pool.c). */
	rs__rcu_read_lock();
	rc = st->ops->run_find(
		st, run, !(flags & (RS_TXN_F_READONLY | RS__TXN_F_APPLY)), &r);
	if (r) /* the grace period orders it for the reaper */
		atomic_store_explicit(&ctx->hold, r, memory_order_release);
	rs__rcu_read_unlock();
	if (rc < 0 && rc != RS_ENOTFOUND)
		goto fail;
	RS_DEBUG_YIELD_POINT();
	rc = st->ops->snap_open(st, r,
				(flags & RS__TXN_F_BLIND) ? NULL : &ctx->pin,
				&ctx->snap);
	if (rc < 0)
		goto fail;
	ctx->run = r;
	ctx->run_id = *run;
	ctx->flags = flags;
	ctx->dur_mode = db->mode;
	ctx->state = RS__TXN_ACTIVE;
	RS_PERF_TXN_BEGUN(ctx, t0);
	RS_PROBE(txn__snapshot, run, ctx->snap.ver);
	*out = ctx;
	return 0;
fail:
	rs__ctx_put(ctx);
	return rc;
}

uint64_t rs__txn_base(const rs_txn *txn)
{
	/* The snapshot's: the unified store starts a run's next life in
	 * the same run, so the live run's start may be newer. */
	return txn->snap.base;
}

uint64_t rs__txn_base_latest(rs_db *db, const rs_run_id *run)
{
	rs__store *st = db->store;
	rs__run *r = NULL;
	uint64_t base;

	rs__rcu_thread_ensure();
	rs__rcu_read_lock();
	if (st->ops->run_find(st, run, false, &r) == 0)
		base = st->ops->run_start(r);
	else
		base = atomic_load_explicit(&st->run_base,
					    memory_order_acquire);
	rs__rcu_read_unlock();
	return base;
}

void rs__txn_abort(rs_txn *txn)
{
	rs__ctx_put(txn);
}

/* ---- reads and staged writes ---- */

static uint64_t key_hash(const rs_txn *txn, uint8_t tag, const void *key,
			 size_t klen)
{
	const rs__store *st = txn->db->store;

	return st->ops->hash(st, tag, key, klen);
}

static int record_read(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		       uint64_t hash)
{
	rs__op rd = { 0 };

	if (rs__keyset_find(&txn->reads, tag, key, klen, hash) >= 0)
		return 0;
	rd.key = rs__arena_dup(&txn->arena, key, klen);
	if (!rd.key)
		return RS_ENOMEM;
	rd.klen = (uint32_t)klen;
	rd.hash = hash;
	rd.tag = tag;
	return rs__keyset_add(&txn->db->alloc, &txn->reads, &rd);
}

static int read_view(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		     rs_bytes *out)
{
	rs__store *st = txn->db->store;
	uint64_t hash = key_hash(txn, tag, key, klen);
	int rc = rs__keyset_view(&txn->writes, tag, key, klen, hash, out);

	assert(!(txn->flags & RS__TXN_F_BLIND));
	if (rc <= 0)
		return rc;
	rc = st->ops->read(st, &txn->snap, tag, key, klen, hash, out);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	if (!rs__txn_readonly(txn))
		RS_TRY(record_read(txn, tag, key, klen, hash));
	return rc;
}

int rs__txn_read(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		 rs_bytes *out)
{
	RS_PERF_START(t0);
	int rc;

	RS_PROBE(read__start, &txn->run_id, tag, klen);
	rc = read_view(txn, tag, key, klen, out);
	RS_PERF_SINCE(t0, RS_PERF_READ);
	RS_PROBE(read__done, &txn->run_id, rc, rc == 0 ? out->len : 0);
	return rc;
}

/* What stage_write() copies into the arena. */
#define COPY_KEY 0x1u
#define COPY_VAL 0x2u

static int stage_write(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen, uint8_t flags,
		       unsigned copy)
{
	uint64_t hash = key_hash(txn, tag, key, klen);
	const void *vcopy = empty_value;
	rs__op op = { 0 };
	long w;

	if (vlen) {
		vcopy = (copy & COPY_VAL)
				? rs__arena_dup(&txn->arena, val, vlen)
				: val;
		if (!vcopy)
			return RS_ENOMEM;
	}
	w = rs__keyset_find(&txn->writes, tag, key, klen, hash);
	if (w >= 0) {
		rs__op *old = &txn->writes.ops[w];

		old->val = vcopy;
		old->vlen = (uint32_t)vlen;
		old->flags = flags;
		return 0;
	}
	op.key =
		(copy & COPY_KEY) ? rs__arena_dup(&txn->arena, key, klen) : key;
	if (!op.key)
		return RS_ENOMEM;
	op.val = vcopy;
	op.klen = (uint32_t)klen;
	op.vlen = (uint32_t)vlen;
	op.hash = hash;
	op.tag = tag;
	op.flags = flags;
	return rs__keyset_add(&txn->db->alloc, &txn->writes, &op);
}

int rs__txn_write(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		  const void *val, size_t vlen, uint8_t flags)
{
	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	return stage_write(txn, tag, key, klen, val, vlen, flags,
			   COPY_KEY | COPY_VAL);
}

int rs__txn_write_ref(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		      const void *val, size_t vlen, uint8_t flags)
{
	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	return stage_write(txn, tag, key, klen, val, vlen, flags, COPY_KEY);
}

int rs__txn_write_view(rs_txn *txn, uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen, uint8_t flags)
{
	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	return stage_write(txn, tag, key, klen, val, vlen, flags, 0);
}

/* ---- one-shot paths ---- */

/* Inside the store's read section: copy the value out before it ends. */
static int copy_sink(const void *val, size_t len, void *arg)
{
	rs__copy_out *co = arg;
	const unsigned char *p = val;

	if (!co)
		return 0;
	if (len < co->head_len)
		return RS_ECORRUPT;
	if (co->head_len)
		memcpy(co->head, p, co->head_len);
	co->len = len - co->head_len;
	if (co->len > co->cap)
		return RS_ENOSPC;
	if (co->len)
		memcpy(co->buf, p + co->head_len, co->len);
	return 0;
}

int rs__txn_read_latest(rs_db *db, const rs_run_id *run, uint8_t tag,
			const void *key, size_t klen, rs__copy_out *co)
{
	rs__store *st = db->store;
	RS_PERF_START(t0);
	int rc;

	RS_PROBE(read__start, run, tag, klen);
	rs__rcu_thread_ensure();
	rc = st->ops->read_latest(st, run, tag, key, klen, copy_sink, co);
	RS_PERF_SINCE(t0, RS_PERF_READ);
	RS_PROBE(read__done, run, rc,
		 rc == 0 && co ? co->head_len + co->len : 0);
	return rc;
}

int rs__txn_oneshot(rs_db *db, const rs_run_id *run, rs__stage_fn stage,
		    const void *req)
{
	rs_txn *txn;
	int rc;

	/* A follower takes writes only from its backend (rs__txn_apply). */
	if (RS_UNLIKELY(
		    atomic_load_explicit(&db->follower, memory_order_acquire)))
		return RS_EREADONLY;
	RS_TRY(rs__txn_begin(&txn, db, run, RS__TXN_F_BLIND));
	if ((rc = stage(txn, req)) < 0) {
		rs__txn_abort(txn);
		return rc;
	}
	return rs__txn_commit(txn);
}

int rs__txn_apply_begin(rs_txn **out, rs_db *db, const rs__commit_record *rec)
{
	rs_txn *txn;
	int rc = 0;

	RS_TRY(rs__txn_begin(&txn, db, rec->run,
			     RS__TXN_F_BLIND | RS__TXN_F_APPLY));
	for (size_t i = 0; i < rec->nops && rc == 0; i++) {
		const rs__op *op = &rec->ops[i];

		rc = rs__txn_write_view(txn, op->tag, op->key, op->klen,
					op->val, op->vlen, op->flags);
	}
	/* A commit's write set is a set: a key twice is no record of it. */
	if (rc == 0 && txn->writes.n != rec->nops)
		rc = RS_EINVAL;
	if (rc < 0) {
		rs__txn_abort(txn);
		return rc;
	}
	if (rec->kind == RS__REC_DROP_RUN)
		rs__txn_also(txn, rec->drop_run, false);
	*out = txn;
	return 0;
}

/* ---- retry helper ---- */

static void backoff(unsigned attempt)
{
	unsigned shift = attempt - 1;
	uint64_t cap_ns = RS__BACKOFF_MAX_NS;
	uint64_t wait, until;

	/* RS__BACKOFF_FIRST_NS << shift, without overflowing the shift. */
	if (shift < 32 && ((uint64_t)RS__BACKOFF_FIRST_NS << shift) < cap_ns)
		cap_ns = (uint64_t)RS__BACKOFF_FIRST_NS << shift;
	wait = rs__random_fast() % cap_ns;
	if (wait >= RS__BACKOFF_SLEEP_NS) {
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
