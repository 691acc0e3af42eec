/* SPDX-License-Identifier: MIT */
/*
 * The database side of durability: the callbacks (rs__dur_host) through
 * which a backend replays log records and loads checkpoint images at
 * recovery, and reads a consistent image of every run for a checkpoint.
 *
 * Recovery runs in rs_db_open() before the database is handed out: one
 * thread, no snapshot, no concurrent commit. Records go through the same
 * store operations as a commit (run_find, lock, prepare, apply at the
 * record's version, publish, reclaim), so versions continue after reopen.
 *
 * Images run concurrently with commits; see image() below and
 * durability/checkpoint.c for why they are consistent.
 *
 * Lives of runs (txn/commit.c). The drop mark and each run's base are
 * rebuilt at recovery without a format of their own: a DROP_RUN's
 * trailer version is the mark it set, and a checkpoint image carries the
 * mark (nil run) and a run's nonzero base as ENTRY items of tag
 * RS__TAG_ENGINE ("m", "b": u64 big-endian), which loading takes back
 * out. A run's first record of a life is at its base + 1: a run that has
 * no state yet at that point of the replay starts there; after that a
 * run's records must follow without a gap. A drop's version may skip
 * (it is above everything the dropped life used), and the dropped run
 * is killed as at run time.
 */
#include <stdlib.h>
#include <string.h>

#include "durability/wal_format.h"
#include "storage/store.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/rcu.h"
#include "util/run_id.h"

_Static_assert((int)RS_TAG_KV == (int)RS__TAG_KV &&
		       (int)RS_TAG_EVENTLOG == (int)RS__TAG_EVENTLOG &&
		       (int)RS_TAG_STATECELL == (int)RS__TAG_STATECELL &&
		       (int)RS_TAG_TRACESTORE == (int)RS__TAG_TRACESTORE &&
		       (int)RS_TAG_RUNINDEX == (int)RS__TAG_RUNINDEX,
	       "public and internal primitive tags differ");
_Static_assert(RS_RECORD_COMMIT == RS__REC_COMMIT &&
		       RS_RECORD_DROP_RUN == RS__REC_DROP_RUN,
	       "public and internal record kinds differ");

/* Live keys of a run, as delete ops (their bytes stay in the store). */
typedef struct collect {
	rs__store *st;
	rs__op *ops;
	size_t n, cap;
} collect;

static int collect_live(uint8_t tag, const void *key, size_t klen,
			uint64_t hash, void *arg)
{
	collect *c = arg;
	rs__op *op;

	if (rs__grow(c->st->alloc, (void **)&c->ops, &c->cap, c->n + 1,
		     sizeof(*c->ops)) < 0)
		return RS_ENOMEM;
	op = &c->ops[c->n++];
	memset(op, 0, sizeof(*op));
	op->key = key;
	op->klen = (uint32_t)klen;
	op->val = "";
	op->tag = tag;
	op->flags = RS__OP_F_DELETE;
	op->hash = hash;
	return 0;
}

/* Under lock(r), at recovery: install ops at `ver` and publish it. No
 * reader exists yet, so what is retired is freed at once. */
static int op_order(const void *a, const void *b)
{
	const rs__op *x = *(const rs__op *const *)a,
		     *y = *(const rs__op *const *)b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return rs__tagkey_cmp(x->tag, x->key, x->klen, y->tag, y->key, y->klen);
}

/*
 * The store applies a batch of ops on the promise that no two name the
 * same key (a transaction's write set is a set): a batch that does would
 * get two nodes for one key. The library never writes such a record or
 * image; a damaged or hostile one is corruption. O(n log n) per batch, at
 * recovery only.
 */
static int check_unique(rs__store *st, const rs__op *ops, size_t n)
{
	const rs__op **v;
	int rc = 0;

	if (n < 2)
		return 0;
	if (!(v = rs__malloc(st->alloc, n * sizeof(*v))))
		return RS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &ops[i];
	qsort(v, n, sizeof(*v), op_order);
	for (size_t i = 1; i < n && rc == 0; i++)
		if (op_order(&v[i - 1], &v[i]) == 0)
			rc = RS_ECORRUPT;
	rs__free(st->alloc, v);
	return rc;
}

static int install(rs__store *st, rs__run *r, rs__op *ops, size_t n,
		   uint64_t ver)
{
	rs__retire_list rl;
	int rc;

	RS_TRY(check_unique(st, ops, n));
	rs__retire_list_init(&rl, st->alloc, 0);
	if (n) {
		if ((rc = st->ops->prepare(st, r, ops, n, &rl)) < 0) {
			rs__retire_list_fini(&rl);
			return rc;
		}
		st->ops->apply(st, r, ops, n, ver);
	}
	st->ops->publish(st, r, ver);
	/* No snapshot exists yet: keep only the newest versions. */
	if (n)
		st->ops->reclaim(st, r, ops, n, ver, &rl);
	rs__retire_list_fini(&rl);
	return 0;
}

static void hash_ops(rs__store *st, rs__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ops[i].hash =
			st->ops->hash(st, ops[i].tag, ops[i].key, ops[i].klen);
}

static void raise_mark(rs__store *st, uint64_t mark)
{
	if (mark > atomic_load(&st->run_base))
		atomic_store(&st->run_base, mark);
}

/*
 * Take the engine's entries (RS__TAG_ENGINE) out of ops, compacting the
 * rest to *n: the drop mark raises the store's, a base goes to *base
 * (UINT64_MAX: none). A checkpoint image carries them; a tool that
 * replays an image as a commit record may pass them that way too.
 */
static int take_engine(rs__store *st, rs__op *ops, size_t nops, size_t *n,
		       uint64_t *base)
{
	*n = 0;
	*base = UINT64_MAX;
	for (size_t i = 0; i < nops; i++) {
		const rs__op *op = &ops[i];

		if (op->tag != RS__TAG_ENGINE) {
			ops[(*n)++] = *op;
			continue;
		}
		/* A mark or base is a run version: none passes the log's
		 * limit (durability/wal_format.h). */
		if (op->klen != 1 || op->vlen != 8 ||
		    (op->flags & RS__OP_F_DELETE) ||
		    rs__get_u64(op->val) > RS__VERSION_MAX)
			return RS_ECORRUPT;
		if (*(const char *)op->key == 'm')
			raise_mark(st, rs__get_u64(op->val));
		else if (*(const char *)op->key == 'b')
			*base = rs__get_u64(op->val);
		else
			return RS_ECORRUPT;
	}
	return 0;
}

/*
 * Apply one half of a record to run `id` at `version`: its ops, or (drop)
 * a delete of every live key, which ends the run's life. 1 when the run
 * already holds that version (from a checkpoint, or replayed before);
 * RS_ECORRUPT on a gap unless salvaging.
 */
static int replay_half(rs_db *db, const rs_run_id *id, uint64_t version,
		       rs__op *ops, size_t nops, uint64_t base, bool drop)
{
	rs__store *st = db->store;
	collect c = { 0 };
	rs__run *r;
	uint64_t cur;
	int rc;

	rc = st->ops->run_find(st, id, false, &r);
	if (rc == RS_ENOTFOUND) {
		if (drop) { /* nothing of the run is left to drop */
			raise_mark(st, version);
			return 1;
		}
		/* The first record of a life: the run starts below it (or
		 * at the base given with an image replayed as a record). */
		if (base != UINT64_MAX && base >= version)
			return RS_ECORRUPT;
		RS_TRY(st->ops->run_find(st, id, true, &r));
		st->ops->run_set_start(r,
				       base != UINT64_MAX ? base : version - 1);
	} else if (rc < 0) {
		return rc;
	}
	st->ops->lock(st, r);
	cur = st->ops->visible(r);
	if (version <= cur) {
		rc = 1;
		goto out;
	}
	if (version != cur + 1 && !drop && !(db->flags & RS_DB_F_SALVAGE)) {
		rc = RS_ECORRUPT; /* a record of this run is missing */
		goto out;
	}
	if (drop) {
		c.st = st;
		if ((rc = st->ops->live_keys(st, r, collect_live, &c)) < 0)
			goto out;
		rc = install(st, r, c.ops, c.n, version);
		if (rc == 0) {
			raise_mark(st, version);
			st->ops->run_kill(st, r);
		}
	} else {
		hash_ops(st, ops, nops);
		rc = install(st, r, ops, nops, version);
	}
out:
	st->ops->unlock(st, r);
	rs__free(st->alloc, c.ops);
	/* No context exists yet: the dead run goes at the next reap. */
	if (drop && rc == 0)
		rs__db_reap(db, RS__REAP_BATCH);
	return rc;
}

/*
 * A DROP_RUN record's two halves (the RunIndex ops on the nil run, the
 * drop of the other run) are checked against their own runs' versions: a
 * checkpoint may hold one half and not the other (it reads runs one at a
 * time), and then only the missing half is applied.
 */
static int host_replay(void *ctx, const rs__commit_record *rec, rs__op *ops)
{
	rs_db *db = ctx;
	uint64_t base;
	size_t n;
	int rc, rc2;

	RS_TRY(take_engine(db->store, ops, rec->nops, &n, &base));
	rc = replay_half(db, rec->run, rec->version, ops, n, base, false);
	if (rc < 0 || rec->kind != RS__REC_DROP_RUN)
		return rc;
	rc2 = replay_half(db, rec->drop_run, rec->drop_version, NULL, 0,
			  UINT64_MAX, true);
	if (rc2 < 0)
		return rc2;
	return rc == 1 && rc2 == 1 ? 1 : 0;
}

static int host_load(void *ctx, const rs_run_id *id, uint64_t version,
		     rs__op *ops, size_t nops)
{
	rs_db *db = ctx;
	rs__store *st = db->store;
	uint64_t base, cur;
	size_t n;
	rs__run *r;
	bool fresh;
	int rc;

	/* The engine's entries are state, not keys: take them out. A run's
	 * base comes with its last chunk. */
	RS_TRY(take_engine(st, ops, nops, &n, &base));
	if (base != UINT64_MAX && base > version)
		return RS_ECORRUPT;
	/* A run created here starts at the drop mark loaded so far: its
	 * start is set below. */
	rc = st->ops->run_find(st, id, false, &r);
	fresh = rc == RS_ENOTFOUND;
	if (fresh)
		rc = st->ops->run_find(st, id, true, &r);
	RS_TRY(rc);
	hash_ops(st, ops, n);
	st->ops->lock(st, r);
	/* A checkpoint holds each run once, loaded in chunks at its one
	 * version: a run already at another version was listed twice, by a
	 * damaged or hostile image. */
	cur = st->ops->visible(r);
	fresh = fresh || cur == 0;
	if (!fresh && cur != version) {
		rc = RS_ECORRUPT;
	} else {
		if (fresh || base != UINT64_MAX)
			st->ops->run_set_start(r,
					       base != UINT64_MAX ? base : 0);
		rc = install(st, r, ops, n, version);
	}
	st->ops->unlock(st, r);
	return rc;
}

static int image_entry(uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen, void *arg)
{
	const rs__image_sink *sink = arg;

	return sink->entry(sink->ctx, tag, key, klen, val, vlen);
}

static int image_u64(const rs__image_sink *sink, char key, uint64_t v)
{
	unsigned char b[8];

	rs__put_u64(b, v);
	return sink->entry(sink->ctx, RS__TAG_ENGINE, &key, 1, b, sizeof(b));
}

/*
 * For each run that exists now: take and release its commit lock, so that
 * every commit that had handed its record to the backend before this call
 * has published (a commit holds the lock from before its hand-off until
 * after publish); then read the run at a pinned snapshot, which is at least
 * that new. Commits keep going meanwhile. The run is held by a read-only
 * transaction throughout. A run gone since the list was taken is left
 * out, and so is one killed by now (its drop published): if the drop's
 * record is before the image's LSN, the run's absence is its state; if
 * not, replay applies the drop (and the records before it) to no run,
 * which ends the same. A life started since is after the LSN, replayed.
 * The base imaged is the snapshot's (the unified store restarts a killed
 * run in place). The drop mark is read after the nil run's snapshot, so
 * it is at least the one that snapshot implies.
 */
static int host_image(void *ctx, const rs__image_sink *sink)
{
	rs_db *db = ctx;
	rs__store *st = db->store;
	rs_run_id *ids;
	size_t n;
	int rc;

	RS_TRY(st->ops->run_list(st, &ids, &n));
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t base;
		rs_txn *txn;

		if ((rc = rs__txn_begin(&txn, db, &ids[i], RS_TXN_F_READONLY)) <
		    0)
			break;
		if (!txn->run) {
			rs__txn_abort(txn);
			continue;
		}
		st->ops->lock(st, txn->run);
		st->ops->unlock(st, txn->run);
		rs__ctx_release_snapshot(txn);
		rc = st->ops->snap_open(st, txn->run, &txn->pin, &txn->snap);
		if (rc == 0 && st->ops->run_dead(txn->run)) {
			rs__txn_abort(txn);
			continue;
		}
		if (rc == 0)
			rc = sink->run(sink->ctx, &ids[i], txn->snap.ver);
		if (rc == 0)
			rc = st->ops->scan_all(st, &txn->snap, image_entry,
					       (void *)sink);
		base = txn->snap.base;
		if (rc == 0 && base)
			rc = image_u64(sink, 'b', base);
		if (rc == 0 && rs_run_id_is_nil(&ids[i]) &&
		    atomic_load(&st->run_base))
			rc = image_u64(sink, 'm', atomic_load(&st->run_base));
		rs__txn_abort(txn);
	}
	rs__free(st->alloc, ids);
	return rc;
}

void rs__db_host_init(rs_db *db, rs__dur_host *out)
{
	out->replay = host_replay;
	out->load = host_load;
	out->image = host_image;
	out->ctx = db;
}
