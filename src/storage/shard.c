/* SPDX-License-Identifier: MIT */
/*
 * The sharded store (default): a lock-free RCU hash table (liburcu's
 * cds_lfht) maps each RunId to its shard; a shard is one key table
 * (table.c), one commit lock and one visible version.
 *
 * Lock order: a shard's `lock` is the only lock taken on the commit path,
 * one shard at a time. Readers take none.
 *
 * Versions: `visible` is the newest published commit version. Commits of a
 * shard are serialized by `lock`, and a commit installs all its versions
 * before it stores `visible` (release), so a reader that loads `visible`
 * (acquire) sees every version at or below it complete: no torn commit.
 *
 * Snapshot pins: snap_open() writes (run, version) into the caller's pin
 * and re-reads `visible` until the pinned version is still current after
 * the pin is globally visible (seq_cst). A reclaimer reads `visible` before
 * it scans the pins (seq_cst too), so a pin it misses was written after
 * that read and therefore holds a version at least as new: reclamation,
 * which keeps what min(pins, visible) can see, never frees what a snapshot
 * still reads.
 *
 * Shards are freed only when the store is destroyed (close). What commits
 * unlink is retired onto the committer's list (util/rcu.h). Dropping a
 * run's data (RunIndex delete) is an ordinary commit of a tombstone for
 * each live key (live_keys), so snapshots that predate it keep reading.
 *
 * Flags (RS__RUN_F_FENCED) are written and read under the shard's lock;
 * they are atomic only so that a future lock-free reader stays race-free.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "storage/store.h"
#include "storage/table.h"
#include "util/random.h"
#include "util/hash.h"
#include "util/rcu.h"

struct rs__run {
	struct cds_lfht_node lf;
	rs_run_id id;
	pthread_mutex_t lock;
	rs__table table;
	struct rs__run *all_next; /* every shard, for destroy */
	_Atomic uint32_t flags;	  /* RS__RUN_F_*, under `lock` */
	/* Own cache line: readers load it on every snapshot. Padding, not
	 * _Alignas: shards come from the allocator hooks, which only
	 * promise malloc's alignment. */
	char pad_before[RS__CACHE_LINE];
	_Atomic uint64_t visible;
	char pad_after[RS__CACHE_LINE - sizeof(uint64_t)];
};

typedef struct sharded {
	/* `base` (ops, seed) is read by every operation of every thread:
	 * padding keeps other objects' hot writes off its cache line. */
	unsigned char pad_before[RS__CACHE_LINE];
	rs__store base;
	struct cds_lfht *runs;
	pthread_mutex_t all_lock; /* guards `all` (creation only) */
	rs__run *all;
	unsigned char pad_after[RS__CACHE_LINE];
} sharded;

static uint64_t run_hash(const sharded *s, const rs_run_id *id)
{
	return rs__hash_bytes(s->base.seed, id->bytes, sizeof(id->bytes));
}

static int run_match(struct cds_lfht_node *node, const void *key)
{
	const rs__run *r = rs__container_of(node, rs__run, lf);

	/* liburcu publishes the node with its own (uninstrumented) barriers:
	 * tell TSan, pairing with the release before cds_lfht_add_unique. */
	RS__TSAN_ACQUIRE(r);
	return memcmp(r->id.bytes, key, sizeof(r->id.bytes)) == 0;
}

/* Inside an RCU read-side section. */
static rs__run *run_lookup(sharded *s, const rs_run_id *id)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(s->runs, run_hash(s, id), run_match, id->bytes, &it);
	node = cds_lfht_iter_get_node(&it);
	return node ? rs__container_of(node, rs__run, lf) : NULL;
}

static void run_free(const rs__alloc *a, rs__run *r)
{
	rs__table_destroy(&r->table);
	pthread_mutex_destroy(&r->lock);
	rs__free(a, r);
}

static int sh_run_find(rs__store *st, const rs_run_id *id, bool create,
		       rs__run **out)
{
	sharded *s = rs__container_of(st, sharded, base);
	struct cds_lfht_node *won;
	rs__run *r;

	rs__rcu_read_lock();
	r = run_lookup(s, id);
	rs__rcu_read_unlock();
	if (r || !create) {
		*out = r;
		return r ? 0 : RS_ENOTFOUND;
	}

	r = rs__calloc(st->alloc, 1, sizeof(*r));
	if (!r)
		return RS_ENOMEM;
	if (rs__table_init(&r->table, st->alloc, 0) < 0) {
		rs__free(st->alloc, r);
		return RS_ENOMEM;
	}
	r->id = *id;
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->visible, 0);
	atomic_init(&r->flags, 0);
	cds_lfht_node_init(&r->lf);
	RS__TSAN_RELEASE(r); /* pairs with the acquire in run_match() */

	rs__rcu_read_lock();
	won = cds_lfht_add_unique(s->runs, run_hash(s, id), run_match,
				  id->bytes, &r->lf);
	rs__rcu_read_unlock();
	if (won != &r->lf) {
		/* Lost the race; ours was never visible to anyone. */
		run_free(st->alloc, r);
		*out = rs__container_of(won, rs__run, lf);
		return 0;
	}
	pthread_mutex_lock(&s->all_lock);
	r->all_next = s->all;
	s->all = r;
	pthread_mutex_unlock(&s->all_lock);
	*out = r;
	return 0;
}

static uint64_t sh_visible(rs__run *r)
{
	return atomic_load_explicit(&r->visible, memory_order_acquire);
}

static uint64_t sh_hash(const rs__store *s, uint8_t tag, const void *key,
			size_t klen)
{
	return rs__hash_key(s->seed, tag, key, klen);
}

/* The run a snapshot reads (its state). */
static inline rs__run *snap_run(const rs__snap *snap)
{
	return snap->state;
}

static int sh_snap_open(rs__store *s, rs__run *r, void *pinp, rs__snap *out)
{
	rs__pin *pin = pinp;
	uint64_t v, again;

	(void)s;
	out->state = r;
	if (!r || !pin) {
		out->ver = r ? atomic_load_explicit(&r->visible,
						    memory_order_acquire)
			     : 0;
		return 0;
	}
	/* A context reused on the same run keeps its pin's run: only the
	 * version store below orders against reclaimers. */
	if (atomic_load_explicit(&pin->run, memory_order_relaxed) != r)
		atomic_store_explicit(&pin->run, r, memory_order_seq_cst);
	v = atomic_load_explicit(&r->visible, memory_order_seq_cst);
	for (;;) {
		atomic_store_explicit(&pin->ver, v, memory_order_seq_cst);
		RS_DEBUG_YIELD_POINT();
		again = atomic_load_explicit(&r->visible, memory_order_seq_cst);
		if (again == v)
			break;
		v = again;
	}
	out->ver = v;
	return 0;
}

static void sh_snap_close(rs__store *s, rs__snap *snap)
{
	(void)s;
	(void)snap;
}

static int sh_read(rs__store *s, const rs__snap *snap, uint8_t tag,
		   const void *key, size_t klen, uint64_t hash, rs_bytes *out)
{
	const rs__node *n;
	const rs__ver *v = NULL;
	bool pruned;

	(void)s;
	if (!snap->state)
		return RS_ENOTFOUND;
	rs__rcu_read_lock();
	n = rs__table_find(&snap_run(snap)->table, tag, key, klen, hash);
	if (n)
		v = rs__node_visible(n, snap->ver, &pruned);
	rs__rcu_read_unlock();
	/* A pinned snapshot's versions are never pruned or freed, so the
	 * view outlives the read-side section. */
	if (!v)
		return RS_ENOTFOUND;
	out->data = v->data;
	out->len = v->len;
	return 0;
}

/* One visitor for both scans: `all` ignores tag and prefix. */
struct scan_ctx {
	uint64_t snap;
	bool all;
	uint8_t tag;
	const void *prefix;
	size_t plen;
	rs__scan_fn fn;	     /* !all */
	rs__scan_all_fn afn; /* all */
	void *ctx;
};

static int scan_node(const rs__node *n, void *arg)
{
	struct scan_ctx *sc = arg;
	const rs__ver *v;
	bool pruned;

	if (!sc->all && (n->tag != sc->tag || n->klen < sc->plen ||
			 memcmp(n->key, sc->prefix, sc->plen) != 0))
		return 0;
	v = rs__node_visible(n, sc->snap, &pruned);
	if (!v)
		return 0;
	if (sc->all)
		return sc->afn(n->tag, n->key, n->klen, v->data, v->len,
			       sc->ctx);
	return sc->fn(n->key, n->klen, v->data, v->len, sc->ctx);
}

static int scan_run(const rs__snap *snap, struct scan_ctx *sc)
{
	int rc;

	if (!snap->state)
		return 0;
	rs__rcu_read_lock();
	rc = rs__table_foreach(&snap_run(snap)->table, scan_node, sc);
	rs__rcu_read_unlock();
	return rc;
}

static int sh_scan(rs__store *s, const rs__snap *snap, uint8_t tag,
		   const void *prefix, size_t plen, rs__scan_fn fn, void *ctx)
{
	struct scan_ctx sc = { snap->ver, false, tag,  prefix,
			       plen,	  fn,	 NULL, ctx };

	(void)s;
	return scan_run(snap, &sc);
}

static int sh_scan_all(rs__store *s, const rs__snap *snap, rs__scan_all_fn fn,
		       void *ctx)
{
	struct scan_ctx sc = { snap->ver, true, 0, NULL, 0, NULL, fn, ctx };

	(void)s;
	return scan_run(snap, &sc);
}

static int sh_run_list(rs__store *st, rs_run_id **ids_out, size_t *n_out)
{
	sharded *s = rs__container_of(st, sharded, base);
	rs_run_id *ids = NULL;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&s->all_lock);
	for (const rs__run *r = s->all; r; r = r->all_next)
		n++;
	if (n) {
		ids = rs__malloc(st->alloc, n * sizeof(*ids));
		if (!ids) {
			pthread_mutex_unlock(&s->all_lock);
			return RS_ENOMEM;
		}
		for (const rs__run *r = s->all; r; r = r->all_next)
			ids[i++] = r->id;
	}
	pthread_mutex_unlock(&s->all_lock);
	*ids_out = ids;
	*n_out = n;
	return 0;
}

static int sh_read_latest(rs__store *st, const rs_run_id *id, uint8_t tag,
			  const void *key, size_t klen, rs__sink_fn sink,
			  void *ctx)
{
	sharded *s = rs__container_of(st, sharded, base);
	uint64_t hash = rs__hash_key(st->seed, tag, key, klen);
	const rs__ver *v = NULL;
	rs__run *r;
	int rc = RS_ENOTFOUND;

	rs__rcu_read_lock();
	r = run_lookup(s, id);
	if (r) {
		/*
		 * No pin: the answer is the newest version at or below a
		 * `visible` loaded during this call, a state the run was in
		 * at that instant. If reclamation cut the chain below it
		 * meanwhile, read again at a newer one.
		 */
		for (;;) {
			uint64_t snap = atomic_load_explicit(
				&r->visible, memory_order_acquire);
			RS_DEBUG_YIELD_POINT();
			const rs__node *n =
				rs__table_find(&r->table, tag, key, klen, hash);
			bool pruned = false;

			v = n ? rs__node_visible(n, snap, &pruned) : NULL;
			if (!pruned)
				break;
		}
		if (v)
			rc = sink(v->data, v->len, ctx);
	}
	rs__rcu_read_unlock();
	return rc;
}

static void sh_lock(rs__store *s, rs__run *r)
{
	(void)s;
	pthread_mutex_lock(&r->lock);
}

static void sh_unlock(rs__store *s, rs__run *r)
{
	(void)s;
	pthread_mutex_unlock(&r->lock);
}

/*
 * The newest version of a key, under the run's commit lock: it can be
 * neither cut nor freed until the lock is released (both happen only
 * under it), but the table is still read with the readers' protocol.
 */
static const rs__ver *newest_locked(rs__run *r, uint8_t tag, const void *key,
				    size_t klen, uint64_t hash)
{
	const rs__node *n;
	const rs__ver *v;

	rs__rcu_read_lock();
	n = rs__table_find(&r->table, tag, key, klen, hash);
	v = n ? atomic_load_explicit(&n->head, memory_order_acquire) : NULL;
	rs__rcu_read_unlock();
	return v;
}

static uint64_t sh_newest(rs__store *s, rs__run *r, uint8_t tag,
			  const void *key, size_t klen, uint64_t hash,
			  bool *present)
{
	const rs__ver *v = newest_locked(r, tag, key, klen, hash);

	(void)s;
	if (present)
		*present = v && !(v->flags & RS__VER_TOMB);
	return v ? v->ver : 0;
}

struct changed_ctx {
	uint8_t tag;
	const void *prefix;
	size_t plen;
	uint64_t since;
};

static int changed_node(const rs__node *n, void *arg)
{
	const struct changed_ctx *cc = arg;

	if (n->tag != cc->tag || n->klen < cc->plen ||
	    memcmp(n->key, cc->prefix, cc->plen) != 0)
		return 0;
	return rs__node_newest(n) > cc->since;
}

static bool sh_prefix_changed(rs__store *s, rs__run *r, uint8_t tag,
			      const void *prefix, size_t plen, uint64_t since)
{
	struct changed_ctx cc = { tag, prefix, plen, since };
	int rc;

	(void)s;
	rs__rcu_read_lock();
	rc = rs__table_foreach(&r->table, changed_node, &cc);
	rs__rcu_read_unlock();
	return rc != 0;
}

/*
 * prep[0]: the new version; prep[1]: the key's node, found or (with
 * PREP_NEW_NODE) allocated here. Everything is allocated in prepare(), so
 * apply() cannot fail after the durability backend has accepted the
 * commit, and apply()/reclaim() need no second lookup.
 */
#define PREP_NEW_NODE 0x1u

static void prep_release(const rs__alloc *a, rs__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rs__ver_free_unpublished(a, ops[i].prep[0]);
		if (ops[i].prep_flags & PREP_NEW_NODE)
			rs__node_free_unpublished(a, ops[i].prep[1]);
		ops[i].prep[0] = ops[i].prep[1] = NULL;
		ops[i].prep_flags = 0;
	}
}

static int sh_prepare(rs__store *s, rs__run *r, rs__op *ops, size_t n,
		      rs__retire_list *rl)
{
	size_t fresh = 0;

	/* Room for all this commit retires: a prune per key, the table's. */
	RS_TRY(rs__retire_reserve(rl, n + RS__TABLE_RESERVE_RETIRES));
	for (size_t i = 0; i < n; i++) {
		ops[i].prep[0] = ops[i].prep[1] = NULL;
		ops[i].prep_flags = 0;
	}
	for (size_t i = 0; i < n; i++) {
		rs__op *op = &ops[i];
		rs__node *node;

		op->prep[0] = rs__ver_new(
			s->alloc, op->val, op->vlen,
			(op->flags & RS__OP_F_DELETE) ? RS__VER_TOMB : 0);
		if (!op->prep[0])
			goto nomem;
		rs__rcu_read_lock();
		node = rs__table_find(&r->table, op->tag, op->key, op->klen,
				      op->hash);
		rs__rcu_read_unlock();
		if (!node) {
			/* The txn layer deduplicates its write set, so a new
			 * key gets exactly one node. */
			node = rs__node_new(s->alloc, op->tag, op->key,
					    op->klen, op->hash);
			if (!node)
				goto nomem;
			op->prep_flags = PREP_NEW_NODE;
			fresh++;
		}
		/* Under the commit lock nothing unlinks a found node. */
		op->prep[1] = node;
	}
	/* Every commit: a rehash in progress moves a share of its slots. */
	if (rs__table_reserve(&r->table, fresh, rl) < 0)
		goto nomem;
	return 0;
nomem:
	prep_release(s->alloc, ops, n);
	return RS_ENOMEM;
}

static void sh_discard(rs__store *s, rs__run *r, rs__op *ops, size_t n)
{
	(void)r;
	prep_release(s->alloc, ops, n);
}

static void sh_apply(rs__store *s, rs__run *r, rs__op *ops, size_t n,
		     uint64_t ver)
{
	(void)s;
	for (size_t i = 0; i < n; i++) {
		rs__ver *v = ops[i].prep[0];
		rs__node *node = ops[i].prep[1];

		v->ver = ver;
		rs__node_push(node, v);
		if (ops[i].prep_flags & PREP_NEW_NODE)
			rs__table_insert(&r->table, node);
		/* prep[1] stays for reclaim(); the version is published. */
		ops[i].prep[0] = NULL;
		ops[i].prep_flags = 0;
	}
}

static void sh_publish(rs__store *s, rs__run *r, uint64_t ver)
{
	(void)s;
	/* seq_cst: ordered before the reclaimer's scan of the pins. */
	atomic_store_explicit(&r->visible, ver, memory_order_seq_cst);
}

static void sh_reclaim(rs__store *s, rs__run *r, const rs__op *ops, size_t n,
		       uint64_t min_snap, rs__retire_list *rl)
{
	(void)s;
	for (size_t i = 0; i < n; i++)
		if (ops[i].prep[1])
			rs__table_prune(&r->table, ops[i].prep[1], min_snap,
					rl);
}

static int sh_latest(rs__store *s, rs__run *r, uint8_t tag, const void *key,
		     size_t klen, uint64_t hash, rs_bytes *out)
{
	const rs__ver *v = newest_locked(r, tag, key, klen, hash);

	(void)s;
	if (!v || (v->flags & RS__VER_TOMB))
		return RS_ENOTFOUND;
	out->data = v->data;
	out->len = v->len;
	return 0;
}

struct live_ctx {
	rs__key_fn fn;
	void *ctx;
};

static int live_node(const rs__node *n, void *arg)
{
	const struct live_ctx *lc = arg;
	const rs__ver *v = atomic_load_explicit(&n->head, memory_order_acquire);

	if (!v || (v->flags & RS__VER_TOMB))
		return 0;
	return lc->fn(n->tag, n->key, n->klen, n->hash, lc->ctx);
}

static int sh_live_keys(rs__store *s, rs__run *r, rs__key_fn fn, void *ctx)
{
	struct live_ctx lc = { fn, ctx };
	int rc;

	(void)s;
	rs__rcu_read_lock();
	rc = rs__table_foreach(&r->table, live_node, &lc);
	rs__rcu_read_unlock();
	return rc;
}

static uint32_t sh_run_flags(rs__run *r)
{
	return atomic_load_explicit(&r->flags, memory_order_relaxed);
}

static void sh_run_set_flags(rs__run *r, uint32_t flags)
{
	atomic_store_explicit(&r->flags, flags, memory_order_relaxed);
}

static void sh_destroy(rs__store *st)
{
	sharded *s = rs__container_of(st, sharded, base);
	rs__run *r = s->all;

	/* Exclusive: no reader or writer is left. */
	rs__rcu_read_lock();
	for (rs__run *it = r; it; it = it->all_next)
		cds_lfht_del(s->runs, &it->lf);
	rs__rcu_read_unlock();
	cds_lfht_destroy(s->runs, NULL);
	while (r) {
		rs__run *next = r->all_next;
		run_free(st->alloc, r);
		r = next;
	}
	pthread_mutex_destroy(&s->all_lock);
	rs__free(st->alloc, s);
}

static const rs__store_ops sharded_ops = {
	.destroy = sh_destroy,
	.hash = sh_hash,
	.run_find = sh_run_find,
	.visible = sh_visible,
	.snap_open = sh_snap_open,
	.snap_close = sh_snap_close,
	.read = sh_read,
	.scan = sh_scan,
	.scan_all = sh_scan_all,
	.run_list = sh_run_list,
	.read_latest = sh_read_latest,
	.lock = sh_lock,
	.unlock = sh_unlock,
	.newest = sh_newest,
	.prefix_changed = sh_prefix_changed,
	.prepare = sh_prepare,
	.discard = sh_discard,
	.apply = sh_apply,
	.publish = sh_publish,
	.reclaim = sh_reclaim,
	.latest = sh_latest,
	.live_keys = sh_live_keys,
	.run_flags = sh_run_flags,
	.run_set_flags = sh_run_set_flags,
};

int rs__store_sharded_new(rs__store **out, const rs__alloc *a, uint64_t seed)
{
	sharded *s = rs__calloc(a, 1, sizeof(*s));

	if (!s)
		return RS_ENOMEM;
	s->base.ops = &sharded_ops;
	s->base.alloc = a;
	s->base.seed = seed;
	pthread_mutex_init(&s->all_lock, NULL);
	s->runs = cds_lfht_new_flavor(
		64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
		rs__rcu_flavor, NULL);
	if (!s->runs) {
		pthread_mutex_destroy(&s->all_lock);
		rs__free(a, s);
		return RS_ENOMEM;
	}
	*out = &s->base;
	return 0;
}
