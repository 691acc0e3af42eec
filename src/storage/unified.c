/* SPDX-License-Identifier: MIT */
/*
 * The unified store: the M3 baseline design, kept so the benchmark suite
 * can show in one run what the sharded store buys. One global
 * reader-writer lock guards one ordered map (a sorted array) of every
 * entry of every run, ordered by (run, tag, key). A snapshot is a deep
 * copy of its run's entries, O(entries in the run). Each entry holds only
 * its newest version (commit version + tombstone flag), which is all OCC
 * validation needs; tombstones are kept so a key read as absent cannot be
 * re-created and deleted unnoticed. Nothing is pooled. As in M3, every
 * transaction begins with that copy, the implicit one of a one-shot write
 * included (snap_open copies whether or not it is given a pin); one-shot
 * reads take the read lock only.
 *
 * Same semantics as the sharded store; only the costs differ.
 *
 * The commit lock of every run is the global lock taken for writing. A
 * RunIndex commit holds the nil run's lock and one other run's, so the
 * write side is reentrant: `owner` names the holding thread (the address
 * of a thread-local, set only while the lock is held and cleared before it
 * is released, so no other thread can ever read its own address there).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "storage/store.h"
#include "util/hash.h"

struct rs__run {
	rs_run_id id;
	_Atomic uint64_t visible;
	_Atomic uint32_t flags; /* RS__RUN_F_*, under the write lock */
	_Atomic uint64_t start; /* the version its life started at */
};

typedef struct uentry {
	rs__run *run;
	uint64_t ver;
	uint32_t klen;
	uint32_t vlen;
	uint8_t tag;
	bool tomb;
	unsigned char *val;
	unsigned char key[];
} uentry;

typedef struct unified {
	rs__store base;
	pthread_rwlock_t lock;
	_Atomic(const void *) owner; /* &u_self of the writer, or NULL */
	unsigned depth;		     /* write-lock nesting (owner only) */
	uentry **e;		     /* sorted by (run id, tag, key) */
	size_t n, cap;
	rs__run **runs; /* sorted by id */
	size_t nruns, cruns;
} unified;

/* The deep copy behind a snapshot. */
typedef struct ucopy {
	size_t n;
	struct centry {
		const unsigned char *key;
		const unsigned char *val;
		uint32_t klen;
		uint32_t vlen;
		uint8_t tag;
		bool tomb;
	} * e;
} ucopy;

static int entry_cmp(const rs_run_id *run, uint8_t tag, const void *key,
		     size_t klen, const uentry *e)
{
	int c = memcmp(run->bytes, e->run->id.bytes, sizeof(run->bytes));

	if (c)
		return c;
	return rs__tagkey_cmp(tag, key, klen, e->tag, e->key, e->klen);
}

/* First index whose entry is >= (run, tag, key). */
static size_t lower_bound(const unified *u, const rs_run_id *run, uint8_t tag,
			  const void *key, size_t klen)
{
	size_t lo = 0, hi = u->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_cmp(run, tag, key, klen, u->e[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uentry *find(const unified *u, const rs_run_id *run, uint8_t tag,
		    const void *key, size_t klen)
{
	size_t i = lower_bound(u, run, tag, key, klen);

	if (i < u->n && entry_cmp(run, tag, key, klen, u->e[i]) == 0)
		return u->e[i];
	return NULL;
}

static size_t run_lower_bound(const unified *u, const rs_run_id *id)
{
	size_t lo = 0, hi = u->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(id->bytes, u->runs[mid]->id.bytes, 16) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static rs__run *run_lookup(const unified *u, const rs_run_id *id)
{
	size_t i = run_lower_bound(u, id);

	if (i < u->nruns && memcmp(id->bytes, u->runs[i]->id.bytes, 16) == 0)
		return u->runs[i];
	return NULL;
}

static uint64_t u_hash(const rs__store *s, uint8_t tag, const void *key,
		       size_t klen)
{
	return rs__hash_key(s->seed, tag, key, klen);
}

static int u_run_find(rs__store *st, const rs_run_id *id, bool create,
		      rs__run **out)
{
	unified *u = (unified *)st;
	rs__run *r;
	size_t i;
	int rc = 0;

	pthread_rwlock_rdlock(&u->lock);
	r = run_lookup(u, id);
	pthread_rwlock_unlock(&u->lock);
	if (r || !create) {
		*out = r;
		return r ? 0 : RS_ENOTFOUND;
	}
	pthread_rwlock_wrlock(&u->lock);
	r = run_lookup(u, id);
	if (r)
		goto out;
	rc = rs__grow(st->alloc, (void **)&u->runs, &u->cruns, u->nruns + 1,
		      sizeof(*u->runs));
	if (rc < 0)
		goto out;
	r = rs__calloc(st->alloc, 1, sizeof(*r));
	if (!r) {
		rc = RS_ENOMEM;
		goto out;
	}
	r->id = *id;
	atomic_init(&r->start, atomic_load(&st->run_base));
	atomic_init(&r->visible, atomic_load(&r->start));
	atomic_init(&r->flags, 0);
	i = run_lower_bound(u, id);
	memmove(&u->runs[i + 1], &u->runs[i],
		(u->nruns - i) * sizeof(*u->runs));
	u->runs[i] = r;
	u->nruns++;
out:
	pthread_rwlock_unlock(&u->lock);
	*out = r;
	return rc;
}

static uint64_t u_visible(rs__run *r)
{
	return atomic_load_explicit(&r->visible, memory_order_acquire);
}

static uint64_t u_run_start(rs__run *r)
{
	return atomic_load_explicit(&r->start, memory_order_acquire);
}

static void u_run_set_start(rs__run *r, uint64_t start)
{
	atomic_store_explicit(&r->start, start, memory_order_release);
	atomic_store_explicit(&r->visible, start, memory_order_release);
}

/* Runs are kept (with their tombstones, as every key is): the next life
 * starts where the drop left the version. Under the write lock. */
static void u_run_kill(rs__store *st, rs__run *r)
{
	(void)st;
	atomic_store_explicit(
		&r->start,
		atomic_load_explicit(&r->visible, memory_order_relaxed),
		memory_order_release);
}

static bool u_run_dead(rs__run *r)
{
	(void)r;
	return false;
}

static size_t u_run_reap(rs__store *st, size_t min,
			 bool (*held)(void *ctx, const rs__run *r), void *ctx)
{
	(void)st;
	(void)min;
	(void)held;
	(void)ctx;
	return 0;
}

static int u_snap_open(rs__store *st, rs__run *r, void *pin, rs__snap *out)
{
	unified *u = (unified *)st;
	size_t lo, hi, bytes = 0;
	ucopy *c;
	unsigned char *p;

	/* No pin: nothing is shared to hold back. Every snapshot is a deep
	 * copy, a write-only transaction's too, as in M3. */
	(void)pin;
	out->state = NULL;
	out->ver = 0;
	out->base = atomic_load(&st->run_base);
	if (!r)
		return 0;
	pthread_rwlock_rdlock(&u->lock);
	lo = lower_bound(u, &r->id, 0, "", 0);
	for (hi = lo; hi < u->n && u->e[hi]->run == r; hi++)
		bytes += u->e[hi]->klen + u->e[hi]->vlen;
	c = rs__malloc(st->alloc,
		       sizeof(*c) + (hi - lo) * sizeof(struct centry) + bytes);
	if (!c) {
		pthread_rwlock_unlock(&u->lock);
		return RS_ENOMEM;
	}
	c->n = hi - lo;
	c->e = (struct centry *)(c + 1);
	p = (unsigned char *)(c->e + c->n);
	for (size_t i = 0; i < c->n; i++) {
		const uentry *e = u->e[lo + i];
		struct centry *ce = &c->e[i];

		memcpy(p, e->key, e->klen);
		ce->key = p;
		p += e->klen;
		if (e->vlen)
			memcpy(p, e->val, e->vlen);
		ce->val = p;
		p += e->vlen;
		ce->klen = e->klen;
		ce->vlen = e->vlen;
		ce->tag = e->tag;
		ce->tomb = e->tomb;
	}
	out->ver = atomic_load_explicit(&r->visible, memory_order_relaxed);
	/* A kill changes it under the write lock. */
	out->base = atomic_load_explicit(&r->start, memory_order_relaxed);
	pthread_rwlock_unlock(&u->lock);
	out->state = c;
	return 0;
}

static void u_snap_close(rs__store *st, rs__snap *snap)
{
	rs__free(st->alloc, snap->state);
	snap->state = NULL;
}

static int centry_cmp(unsigned tag, const void *key, size_t klen,
		      const struct centry *e)
{
	return rs__tagkey_cmp(tag, key, klen, e->tag, e->key, e->klen);
}

static int u_read(rs__store *st, const rs__snap *snap, uint8_t tag,
		  const void *key, size_t klen, uint64_t hash, rs_bytes *out)
{
	const ucopy *c = snap->state;
	size_t lo = 0, hi;

	(void)st;
	(void)hash;
	if (!c)
		return RS_ENOTFOUND;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = centry_cmp(tag, key, klen, &c->e[mid]);

		if (cmp == 0) {
			if (c->e[mid].tomb)
				return RS_ENOTFOUND;
			out->data = c->e[mid].val;
			out->len = c->e[mid].vlen;
			return 0;
		}
		if (cmp > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return RS_ENOTFOUND;
}

static int u_scan_all(rs__store *st, const rs__snap *snap, rs__scan_all_fn fn,
		      void *ctx)
{
	const ucopy *c = snap->state;

	(void)st;
	if (!c)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct centry *e = &c->e[i];
		int rc;

		if (e->tomb)
			continue;
		if ((rc = fn(e->tag, e->key, e->klen, e->val, e->vlen, ctx)) !=
		    0)
			return rc;
	}
	return 0;
}

/* ---- ordered iteration over the copy ---- */

/* The first entry of the copy after (tag, key) (at it too, unless
 * `strict`): a binary search. */
static size_t copy_bound(const ucopy *c, unsigned tag, const void *key,
			 size_t klen, bool strict)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		/* The entry against the position. */
		int cmp = -centry_cmp(tag, key, klen, &c->e[mid]);

		if (cmp < 0 || (cmp == 0 && strict))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* From entry i (a position, may be out of range), the first live entry of
 * `tag` walking in direction dir. */
static int copy_walk(const ucopy *c, size_t i, uint8_t tag, int dir,
		     rs__iter *it)
{
	for (; i < c->n && c->e[i].tag == tag; i += (size_t)(ptrdiff_t)dir) {
		const struct centry *e = &c->e[i];

		if (e->tomb)
			continue;
		it->pos = e;
		it->key.data = e->key;
		it->key.len = e->klen;
		it->val.data = e->val;
		it->val.len = e->vlen;
		return 0;
	}
	return RS_ENOTFOUND;
}

static int u_seek(rs__store *st, const rs__snap *snap, uint8_t tag,
		  const void *key, size_t klen, int mode, rs__iter *it)
{
	const ucopy *c = snap->state;
	bool fwd = mode == RS__SEEK_GE || mode == RS__SEEK_GT;
	size_t i;

	(void)st;
	it->nahead = 0; /* no read-ahead here: steps are cheap */
	if (!c)
		return RS_ENOTFOUND;
	if (!key) /* the start of the tag's keys, or the end: tag + 1 */
		i = copy_bound(c, fwd ? tag : tag + 1u, "", 0, false);
	else
		i = copy_bound(c, tag, key, klen,
			       mode == RS__SEEK_GT || mode == RS__SEEK_LE);
	return copy_walk(c, fwd ? i : i - 1, tag, fwd ? 1 : -1, it);
}

static int u_step(rs__store *st, const rs__snap *snap, uint8_t tag,
		  rs__iter *it, int dir)
{
	const ucopy *c = snap->state;
	size_t i = (size_t)((const struct centry *)it->pos - c->e);

	(void)st;
	return copy_walk(c, i + (size_t)(ptrdiff_t)dir, tag, dir, it);
}

static int u_run_list(rs__store *st, rs_run_id **ids_out, size_t *n_out)
{
	unified *u = (unified *)st;
	rs_run_id *ids = NULL;
	size_t n;

	pthread_rwlock_rdlock(&u->lock);
	n = u->nruns;
	if (n) {
		ids = rs__malloc(st->alloc, n * sizeof(*ids));
		if (!ids) {
			pthread_rwlock_unlock(&u->lock);
			return RS_ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			ids[i] = u->runs[i]->id;
	}
	pthread_rwlock_unlock(&u->lock);
	*ids_out = ids;
	*n_out = n;
	return 0;
}

static int u_read_latest(rs__store *st, const rs_run_id *id, uint8_t tag,
			 const void *key, size_t klen, rs__sink_fn sink,
			 void *ctx)
{
	unified *u = (unified *)st;
	const uentry *e;
	int rc = RS_ENOTFOUND;

	pthread_rwlock_rdlock(&u->lock);
	e = find(u, id, tag, key, klen);
	if (e && !e->tomb)
		rc = sink(e->val, e->vlen, ctx);
	pthread_rwlock_unlock(&u->lock);
	return rc;
}

static _Thread_local char u_self;

static void u_lock(rs__store *st, rs__run *r)
{
	unified *u = (unified *)st;

	(void)r;
	/* Relaxed: only this thread ever stores its own address. */
	if (atomic_load_explicit(&u->owner, memory_order_relaxed) == &u_self) {
		u->depth++;
		return;
	}
	pthread_rwlock_wrlock(&u->lock);
	atomic_store_explicit(&u->owner, &u_self, memory_order_relaxed);
	u->depth = 1;
}

static void u_unlock(rs__store *st, rs__run *r)
{
	unified *u = (unified *)st;

	(void)r;
	if (--u->depth > 0)
		return;
	atomic_store_explicit(&u->owner, NULL, memory_order_relaxed);
	pthread_rwlock_unlock(&u->lock);
}

static uint64_t u_newest(rs__store *st, rs__run *r, uint8_t tag,
			 const void *key, size_t klen, uint64_t hash,
			 bool *present)
{
	const uentry *e = find((unified *)st, &r->id, tag, key, klen);

	(void)hash;
	if (present)
		*present = e && !e->tomb;
	return e ? e->ver : 0;
}

static bool u_range_changed(rs__store *st, rs__run *r, uint8_t tag,
			    const rs__bound *lo, const rs__bound *hi,
			    uint64_t since)
{
	unified *u = (unified *)st;
	size_t i = lo->inf ? lower_bound(u, &r->id, tag, "", 0)
			   : lower_bound(u, &r->id, tag, lo->key, lo->len);

	for (; i < u->n; i++) {
		const uentry *e = u->e[i];
		int c;

		if (e->run != r || e->tag != tag)
			break;
		if (!lo->inf && !lo->incl &&
		    rs__key_cmp(e->key, e->klen, lo->key, lo->len) == 0)
			continue;
		if (!hi->inf) {
			c = rs__key_cmp(e->key, e->klen, hi->key, hi->len);
			if (c > 0 || (c == 0 && !hi->incl))
				break;
		}
		if (e->ver > since)
			return true;
	}
	return false;
}

/* prep[0]: the new value bytes; prep[1]: a new entry for a new key. */
static int u_prepare(rs__store *st, rs__run *r, rs__op *ops, size_t n,
		     rs__retire_list *rl)
{
	unified *u = (unified *)st;
	size_t fresh = 0;

	(void)rl;
	for (size_t i = 0; i < n; i++) {
		rs__op *op = &ops[i];

		op->prep[0] = op->prep[1] = NULL;
		op->prep[0] = rs__malloc(st->alloc, op->vlen);
		if (!op->prep[0])
			goto nomem;
		if (op->vlen)
			memcpy(op->prep[0], op->val, op->vlen);
		if (find(u, &r->id, op->tag, op->key, op->klen))
			continue;
		op->prep[1] =
			rs__calloc(st->alloc, 1, sizeof(uentry) + op->klen);
		if (!op->prep[1])
			goto nomem;
		fresh++;
	}
	if (rs__grow(st->alloc, (void **)&u->e, &u->cap, u->n + fresh,
		     sizeof(*u->e)) < 0)
		goto nomem;
	return 0;
nomem:
	for (size_t i = 0; i < n; i++) {
		rs__free(st->alloc, ops[i].prep[0]);
		rs__free(st->alloc, ops[i].prep[1]);
		ops[i].prep[0] = ops[i].prep[1] = NULL;
	}
	return RS_ENOMEM;
}

static void u_discard(rs__store *st, rs__run *r, rs__op *ops, size_t n)
{
	(void)r;
	for (size_t i = 0; i < n; i++) {
		rs__free(st->alloc, ops[i].prep[0]);
		rs__free(st->alloc, ops[i].prep[1]);
		ops[i].prep[0] = ops[i].prep[1] = NULL;
	}
}

static void u_apply(rs__store *st, rs__run *r, rs__op *ops, size_t n,
		    uint64_t ver)
{
	unified *u = (unified *)st;

	for (size_t i = 0; i < n; i++) {
		rs__op *op = &ops[i];
		uentry *e = op->prep[1];

		if (e) {
			size_t at = lower_bound(u, &r->id, op->tag, op->key,
						op->klen);

			e->run = r;
			e->tag = op->tag;
			e->klen = op->klen;
			memcpy(e->key, op->key, op->klen);
			memmove(&u->e[at + 1], &u->e[at],
				(u->n - at) * sizeof(*u->e));
			u->e[at] = e;
			u->n++;
		} else {
			e = find(u, &r->id, op->tag, op->key, op->klen);
			rs__free(st->alloc, e->val);
		}
		e->val = op->prep[0];
		e->vlen = op->vlen;
		e->ver = ver;
		e->tomb = (op->flags & RS__OP_F_DELETE) != 0;
		op->prep[0] = op->prep[1] = NULL;
	}
}

static void u_publish(rs__store *st, rs__run *r, uint64_t ver)
{
	(void)st;
	atomic_store_explicit(&r->visible, ver, memory_order_release);
}

static void u_reclaim(rs__store *st, rs__run *r, const rs__op *ops, size_t n,
		      uint64_t min_snap, rs__retire_list *rl)
{
	/* Snapshots are private copies: nothing is shared to reclaim. */
	(void)st;
	(void)r;
	(void)ops;
	(void)n;
	(void)min_snap;
	(void)rl;
}

static int u_latest(rs__store *st, rs__run *r, uint8_t tag, const void *key,
		    size_t klen, uint64_t hash, rs_bytes *out)
{
	const uentry *e = find((unified *)st, &r->id, tag, key, klen);

	(void)hash;
	if (!e || e->tomb)
		return RS_ENOTFOUND;
	out->data = e->val;
	out->len = e->vlen;
	return 0;
}

static int u_live_keys(rs__store *st, rs__run *r, rs__key_fn fn, void *ctx)
{
	unified *u = (unified *)st;

	for (size_t i = lower_bound(u, &r->id, 0, "", 0);
	     i < u->n && u->e[i]->run == r; i++) {
		const uentry *e = u->e[i];
		int rc;

		if (e->tomb)
			continue;
		rc = fn(e->tag, e->key, e->klen,
			u_hash(st, e->tag, e->key, e->klen), ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static uint32_t u_run_flags(rs__run *r)
{
	return atomic_load_explicit(&r->flags, memory_order_relaxed);
}

static void u_run_set_flags(rs__run *r, uint32_t flags)
{
	atomic_store_explicit(&r->flags, flags, memory_order_relaxed);
}

static void u_destroy(rs__store *st)
{
	unified *u = (unified *)st;

	for (size_t i = 0; i < u->n; i++) {
		rs__free(st->alloc, u->e[i]->val);
		rs__free(st->alloc, u->e[i]);
	}
	for (size_t i = 0; i < u->nruns; i++)
		rs__free(st->alloc, u->runs[i]);
	rs__free(st->alloc, u->e);
	rs__free(st->alloc, u->runs);
	pthread_rwlock_destroy(&u->lock);
	rs__free(st->alloc, u);
}

static const rs__store_ops unified_ops = {
	.destroy = u_destroy,
	.hash = u_hash,
	.run_find = u_run_find,
	.visible = u_visible,
	.run_start = u_run_start,
	.run_set_start = u_run_set_start,
	.run_kill = u_run_kill,
	.run_dead = u_run_dead,
	.run_reap = u_run_reap,
	.snap_open = u_snap_open,
	.snap_close = u_snap_close,
	.read = u_read,
	.seek = u_seek,
	.step = u_step,
	.scan_all = u_scan_all,
	.run_list = u_run_list,
	.read_latest = u_read_latest,
	.lock = u_lock,
	.unlock = u_unlock,
	.newest = u_newest,
	.range_changed = u_range_changed,
	.prepare = u_prepare,
	.discard = u_discard,
	.apply = u_apply,
	.publish = u_publish,
	.reclaim = u_reclaim,
	.latest = u_latest,
	.live_keys = u_live_keys,
	.run_flags = u_run_flags,
	.run_set_flags = u_run_set_flags,
};

int rs__store_unified_new(rs__store **out, const rs__alloc *a, uint64_t seed)
{
	unified *u = rs__calloc(a, 1, sizeof(*u));

	if (!u)
		return RS_ENOMEM;
	u->base.ops = &unified_ops;
	u->base.alloc = a;
	u->base.seed = seed;
	atomic_init(&u->base.run_base, 0);
	atomic_init(&u->owner, NULL);
	if (pthread_rwlock_init(&u->lock, NULL) != 0) {
		rs__free(a, u);
		return RS_ENOMEM;
	}
	*out = &u->base;
	return 0;
}
