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
 * What commits unlink is retired onto the committer's list (util/rcu.h).
 * Dropping a run's data (RunIndex delete) is an ordinary commit of a
 * tombstone for each live key (live_keys), so snapshots that predate it
 * keep reading; then run_kill() unlinks the shard from the map (a later
 * write to the id creates a new shard, at the store's run_base) and keeps
 * it on the dead list. run_reap() frees a dead shard once a grace period
 * has passed since (no read-side section can still be inside it) and the
 * txn layer's `held` says no transaction context names it: a context
 * publishes the shard it uses inside the read-side section of its lookup
 * (txn/txn.c), so after the grace period every context that found the
 * shard shows it. Live shards are freed when the store is destroyed.
 *
 * Flags (RS__RUN_F_FENCED) are written and read under the shard's lock;
 * they are atomic only so that a future lock-free reader stays race-free.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "storage/index.h"
#include "storage/store.h"
#include "storage/table.h"
#include "util/random.h"
#include "util/hash.h"
#include "util/rcu.h"

/* Pending prunes done per commit (sh_reclaim). */
#define RS__PENDING_STEP 16u

struct rs__run {
	struct cds_lfht_node lf;
	rs_run_id id;
	pthread_mutex_t lock;
	rs__table table;
	rs__index index; /* the same nodes, in key order */
	/* Nodes a pinned snapshot kept from being pruned at their write
	 * (writer-only): see sh_reclaim(). */
	rs__node **pending;
	size_t npending, cpending, pending_at;
	/* Every live shard (doubly linked), or the dead list; all_lock. */
	struct rs__run *all_next, *all_prev;
	_Atomic uint32_t flags; /* RS__RUN_F_*, under `lock` */
	/* The version its life started at: set at creation, and by
	 * rs_db_apply() under `lock` for a life begun at another (read
	 * without the lock by snapshots, hence atomic). */
	_Atomic uint64_t start;
	_Atomic bool dead; /* killed: unlinked from the map */
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
	pthread_mutex_t all_lock; /* guards `all` and `dead` */
	rs__run *all;
	rs__run *dead; /* killed, not yet reaped (singly linked) */
	size_t ndead;
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
	rs__free(a, r->pending);
	rs__index_destroy(&r->index, a);
	rs__table_destroy(&r->table);
	pthread_mutex_destroy(&r->lock);
	rs__free(a, r);
}

static int sh_run_find(rs__store *st, const rs_run_id *id, bool create,
		       rs__run **out)
{
	sharded *s = rs__container_of(st, sharded, base);
	struct cds_lfht_node *won;
	uint64_t start;
	rs__run *r;

	rs__rcu_read_lock();
	r = run_lookup(s, id);
	rs__rcu_read_unlock();
	if (r || !create) {
		*out = r;
		return r ? 0 : RS_ENOTFOUND;
	}
	/* After a miss: a shard killed for this id was unlinked after its
	 * drop raised run_base, and the miss saw the unlink. */
	start = atomic_load_explicit(&st->run_base, memory_order_seq_cst);

	r = rs__calloc(st->alloc, 1, sizeof(*r));
	if (!r)
		return RS_ENOMEM;
	if (rs__table_init(&r->table, st->alloc, 0, st->seed) < 0) {
		rs__free(st->alloc, r);
		return RS_ENOMEM;
	}
	if (rs__index_init(&r->index, st->alloc) < 0) {
		rs__table_destroy(&r->table);
		rs__free(st->alloc, r);
		return RS_ENOMEM;
	}
	r->id = *id;
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->start, start);
	atomic_init(&r->visible, start);
	atomic_init(&r->flags, 0);
	atomic_init(&r->dead, false);
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
	r->all_prev = NULL;
	if (s->all)
		s->all->all_prev = r;
	s->all = r;
	pthread_mutex_unlock(&s->all_lock);
	*out = r;
	return 0;
}

static uint64_t sh_run_start(rs__run *r)
{
	return atomic_load_explicit(&r->start, memory_order_relaxed);
}

static void sh_run_set_start(rs__run *r, uint64_t start)
{
	atomic_store_explicit(&r->start, start, memory_order_relaxed);
	atomic_store_explicit(&r->visible, start, memory_order_release);
}

static bool sh_run_dead(rs__run *r)
{
	return atomic_load_explicit(&r->dead, memory_order_acquire);
}

/* Under r's lock (and the nil run's), its drop published. */
static void sh_run_kill(rs__store *st, rs__run *r)
{
	sharded *s = rs__container_of(st, sharded, base);

	/* Before the unlink: a committer that still finds the shard, locks
	 * it after this commit and sees it dead starts over. */
	atomic_store_explicit(&r->dead, true, memory_order_seq_cst);
	rs__rcu_read_lock();
	cds_lfht_del(s->runs, &r->lf);
	rs__rcu_read_unlock();
	pthread_mutex_lock(&s->all_lock);
	if (r->all_prev)
		r->all_prev->all_next = r->all_next;
	else
		s->all = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
	r->all_prev = NULL;
	r->all_next = s->dead;
	s->dead = r;
	s->ndead++;
	pthread_mutex_unlock(&s->all_lock);
}

static size_t sh_run_reap(rs__store *st, size_t min,
			  bool (*held)(void *ctx, const rs__run *r), void *ctx)
{
	sharded *s = rs__container_of(st, sharded, base);
	rs__run *list, *next;
	size_t left = 0;

	pthread_mutex_lock(&s->all_lock);
	if (!s->dead || s->ndead < min) {
		left = s->ndead;
		pthread_mutex_unlock(&s->all_lock);
		return left;
	}
	list = s->dead;
	s->dead = NULL;
	s->ndead = 0;
	pthread_mutex_unlock(&s->all_lock);

	/* Every read-side section that could have found one of them (and
	 * every context lookup publishing it) is over. */
	rs__rcu_synchronize();
	RS__TSAN_ACQUIRE(&rs__tsan_grace_token);
	for (rs__run *r = list; r; r = next) {
		next = r->all_next;
		if (held && held(ctx, r)) {
			pthread_mutex_lock(&s->all_lock);
			r->all_next = s->dead;
			s->dead = r;
			s->ndead++;
			pthread_mutex_unlock(&s->all_lock);
			left++;
			continue;
		}
		run_free(st->alloc, r);
	}
	return left;
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

	out->state = r;
	out->base =
		r ? atomic_load_explicit(&r->start, memory_order_relaxed)
		  : atomic_load_explicit(&s->run_base, memory_order_acquire);
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
	bool found = false, ended;

	(void)s;
	if (!snap->state)
		return RS_ENOTFOUND;
	rs__rcu_read_lock();
	n = rs__table_find(&snap_run(snap)->table, tag, key, klen, hash);
	if (n)
		found = rs__node_visible(n, snap->ver, out, &ended);
	rs__rcu_read_unlock();
	/* A pinned snapshot's versions are never pruned or freed, so the
	 * view outlives the read-side section. */
	return found ? 0 : RS_ENOTFOUND;
}

/* ---- ordered iteration (index.c) ---- */

/* Whether a snapshot sees a value in a node (*val). Pinned: never
 * pruned, so a chain that ends above it means "absent". */
static bool seen(const rs__node *n, uint64_t snap, rs_bytes *val)
{
	bool ended;

	return rs__node_visible(n, snap, val, &ended);
}

static void iter_set(rs__iter *it, const rs__node *n, rs_bytes val)
{
	it->pos = n;
	it->key.data = rs__node_key(n);
	it->key.len = n->klen;
	it->val = val;
}

/*
 * Start loading the node a later step reaches: its first three cache
 * lines, which hold (a key of up to ~20 bytes with an inline first
 * version) its links, key, head version and a 100-byte value. Nodes lie
 * in memory in insertion order, not key order, so each step is a cache
 * miss unless it is started early. A prefetch never faults, so lines
 * past a smaller node cost nothing but bandwidth.
 */
static inline void node_prefetch(const rs__node *n)
{
	const char *p = (const char *)n;

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
}

/*
 * Prefetch ahead of a walk over a stream of nodes. Nodes allocated one
 * after another usually lie one after another (an allocator carves
 * blocks of one size class from a slab in order), so the keys of a run
 * inserted in key order (growing keys, a bulk load) lie in memory in key
 * order too, one node (~200 bytes with a 100-byte value) apart, the
 * nodes of other size classes (taller towers) in streams of their own.
 * A walk chases its links, one dependent load a node, and each node is
 * a miss unless its lines were requested before the walk had its
 * address. So where the node a walk stands on and the next one lie
 * near() each other, st bytes apart, window_prefetch() requests the
 * lines RS__WIN_NODES strides on in the walk's direction: there, the
 * node that many steps ahead, one node a step, so the next
 * RS__WIN_NODES nodes are in flight or in cache when the walk reaches
 * them. The first step after a seek opens that window at once
 * (burst_prefetch(): the nodes between the next one and the window), so
 * a scan's first steps do not wait on one miss after another. Over
 * nodes scattered in memory (keys inserted out of order) no pair is
 * near() and nothing is issued: unconditional prefetches made such
 * walks ~25% slower. A prefetch never faults and changes no data; the
 * walk reads only the nodes its links name. This replaced a span of 768
 * bytes beside the node two ahead, requested at every step (12
 * prefetches a step, reaching six nodes ahead): the window reaches
 * further with 3, and scans of 100 entries out of cache took 5-10% less
 * time both ways (docs/engine.md, "Locality", has the measurements and
 * what else was tried).
 */
#define RS__WIN_NODES 10
/* At most this many bytes of nodes are requested at once by a burst. */
#define RS__WIN_BURST 1536u

/*
 * Only in a run whose index has at least this many levels (about 4^7 =
 * 16K keys, 3 MiB of nodes with 100-byte values: more than a core's L2):
 * in a smaller run the nodes stay cached, and the prefetches only cost
 * their instructions (~3 ns a step, in a 1,000-key run).
 */
#define RS__NEAR_MIN_TOP 8u

/* Whether two nodes lie within RS__NEAR_GAP bytes of each other. */
#define RS__NEAR_GAP 1024u
static inline bool near(const rs__node *a, const rs__node *b)
{
	return (uintptr_t)a - (uintptr_t)b + RS__NEAR_GAP <= 2 * RS__NEAR_GAP;
}

/* Request the cache lines of the len bytes at address p. */
static inline void block_prefetch(uintptr_t p, uintptr_t len)
{
	for (uintptr_t a = p & ~(uintptr_t)63; a < p + len; a += 64)
		__builtin_prefetch((const void *)a);
}

/* x and nx: consecutive nodes of a walk that lie near() each other. The
 * first three lines of the node RS__WIN_NODES strides on, as
 * node_prefetch() takes them. The arithmetic is on addresses (modulo
 * 2^64), never on pointers. */
static inline void window_prefetch(const rs__node *x, const rs__node *nx)
{
	const char *p =
		(const char *)((uintptr_t)x +
			       RS__WIN_NODES * ((uintptr_t)nx - (uintptr_t)x));

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
}

/* The nodes 2 to RS__WIN_NODES - 1 strides from x, nearest first (at
 * most RS__WIN_BURST bytes): what the window of the steps to come has
 * not requested. */
static inline void burst_prefetch(const rs__node *x, const rs__node *nx)
{
	uintptr_t st = (uintptr_t)nx - (uintptr_t)x;
	uintptr_t len = (intptr_t)st < 0 ? -st : st;
	uintptr_t span = (RS__WIN_NODES - 2) * len;

	if (span > RS__WIN_BURST)
		span = RS__WIN_BURST;
	if ((intptr_t)st > 0)
		block_prefetch((uintptr_t)x + 2 * len, span);
	else
		block_prefetch((uintptr_t)x - len - span, span);
}

/* The level-0 neighbour in direction dir (inside a read-side section). */
static inline const rs__node *link_to(const rs__node *x, int dir)
{
	return dir > 0 ? rs__index_next(x) : rs__index_prev(x);
}

/* From x (included), the first node of `tag` the snapshot sees, walking
 * forward (dir > 0) or backward; inside a read-side section. */
static inline __attribute__((always_inline)) int
walk(const rs__run *r, const rs__node *x, uint8_t tag, uint64_t snap, int dir,
     rs__iter *it)
{
	while (x && x != r->index.head && x->tag == tag) {
		rs_bytes val;
		bool found = seen(x, snap, &val);
		const rs__node *nx = link_to(x, dir);

		if (found) {
			if (nx)
				node_prefetch(nx);
			iter_set(it, x, val);
			return 0;
		}
		x = nx;
	}
	return RS_ENOTFOUND;
}

/*
 * The node a seek starts from. A key that exists in the table is found by
 * its hash in O(1) (a node in the table is always linked in the index
 * too: apply links the index first); otherwise the index is searched.
 */
static const rs__node *seek_start(const rs__store *s, const rs__run *r,
				  uint8_t tag, const void *key, size_t klen,
				  int mode)
{
	bool fwd = mode == RS__SEEK_GE || mode == RS__SEEK_GT;
	const rs__node *x;

	if (!key) { /* the start of the tag's keys, or their end: tag + 1 */
		x = rs__index_floor(&r->index, fwd ? tag : tag + 1u, "", 0,
				    false);
		return fwd ? rs__index_next(x) : x;
	}
	x = rs__table_find(&r->table, tag, key, klen,
			   rs__hash_key(s->seed, tag, key, klen));
	if (x) {
		if (mode == RS__SEEK_GT)
			return rs__index_next(x);
		return mode == RS__SEEK_LT ? rs__index_prev(x) : x;
	}
	x = rs__index_floor(&r->index, tag, key, klen, false);
	return fwd ? rs__index_next(x) : x;
}

static int sh_seek(rs__store *s, const rs__snap *snap, uint8_t tag,
		   const void *key, size_t klen, int mode, rs__iter *it)
{
	const rs__run *r = snap_run(snap);
	bool fwd = mode == RS__SEEK_GE || mode == RS__SEEK_GT;
	int rc;

	it->nahead = 0;
	it->grow = 0;
	if (!r)
		return RS_ENOTFOUND;
	rs__rcu_read_lock();
	rc = walk(r, seek_start(s, r, tag, key, klen, mode), tag, snap->ver,
		  fwd ? 1 : -1, it);
	rs__rcu_read_unlock();
	return rc;
}

/*
 * Read-ahead. A step that finds its entry goes on collecting the next
 * visible entries of the tag in the same direction into the iterator
 * (it->ahead), up to a batch that doubles from 1 to RS__ITER_AHEAD along
 * a walk, so a cursor that takes one step reads one entry more, not
 * eight. The following steps in that direction are served from there:
 * no read-side section and no walk, and the batch's nodes, found in one
 * tight loop with their successors prefetched, are in cache.
 *
 * Why the saved pointers stay valid outside any read-side section: an
 * iterator works at a pinned snapshot (store.h), and every saved entry is
 * a node with its version that this snapshot sees (a live value). Such a
 * node is never unlinked while the pin holds (a node is unlinked only when
 * its newest version is a tombstone every pinned snapshot sees, and then
 * this snapshot would see that tombstone), and the version is never
 * pruned (prunes keep the newest version at or below min_snap and all
 * newer ones, and min_snap is at most the pin): the same argument that
 * keeps a cursor's borrowed views valid. Links between the saved nodes
 * may change meanwhile (a commit inserting a key between two of them), but
 * only for keys created after the snapshot, which it does not see, or
 * to skip keys it sees as deleted: the saved entries are exactly what a
 * walk at the snapshot would still meet.
 */
/*
 * fill_ahead() in one direction (a constant where it is inlined). Each
 * node's link is read once: x's successor nx was prefetched the step
 * before (as the node two ahead), so reading nx's own link to find nnx
 * rarely waits.
 */
static inline __attribute__((always_inline)) void
fill_dir(const rs__run *r, const rs__node *x, uint8_t tag, uint64_t snap,
	 int dir, rs__iter *it, unsigned want)
{
	/* A hint (index.h): a stale value only moves the threshold. */
	bool big = atomic_load_explicit(&r->index.top, memory_order_relaxed) >=
		   RS__NEAR_MIN_TOP;
	const rs__node *head = r->index.head;
	rs__iter_ent *e = it->ahead, *end = it->ahead + want;
	const rs__node *nx;

	it->iahead = 0;
	it->adir = (int8_t)dir;
	it->grow = (uint8_t)want;
	it->nahead = 0;
	if (!x || x == head || x->tag != tag)
		return;
	if ((nx = link_to(x, dir)) != NULL)
		node_prefetch(nx);
	for (;;) {
		const rs__node *nnx = NULL;

		/* nx is reachable, so reading its link is safe in this
		 * section. */
		if (nx && (nnx = link_to(nx, dir)) != NULL)
			node_prefetch(nnx);
		if (big && nx && RS_LIKELY(near(x, nx)))
			window_prefetch(x, nx);
		if (seen(x, snap, &e->val)) {
			e->pos = x;
			e->key.data = rs__node_key(x);
			e->key.len = x->klen;
			if (++e == end)
				break;
		}
		x = nx;
		nx = nnx;
		if (!x || x == head || x->tag != tag)
			break;
	}
	it->nahead = (uint8_t)(e - it->ahead);
}

static void fill_ahead(const rs__run *r, const rs__node *x, uint8_t tag,
		       uint64_t snap, int dir, rs__iter *it, unsigned want)
{
	if (dir > 0)
		fill_dir(r, x, tag, snap, 1, it, want);
	else
		fill_dir(r, x, tag, snap, -1, it, want);
}

/* A step that finds its entry by walking, then reads ahead. */
static __attribute__((noinline)) int
step_walk(const rs__snap *snap, uint8_t tag, rs__iter *it, int dir)
{
	const rs__run *r = snap_run(snap);
	const rs__node *x = it->pos;
	unsigned want = it->adir == dir ? 2u * it->grow : 0;
	int rc;

	it->nahead = 0;
	rs__rcu_read_lock();
	if (!it->grow) {
		/* The first step since a seek: start the window of the walk
		 * to come (x is reachable in this section, so its link is
		 * safe to read). Not in the seek itself: a seek that no
		 * step follows would pay for lines it never reads
		 * (kvstore_seek/1M took ~2x as long). */
		const rs__node *nx = link_to(x, dir);

		if (nx && near(x, nx) &&
		    atomic_load_explicit(&r->index.top, memory_order_relaxed) >=
			    RS__NEAR_MIN_TOP)
			burst_prefetch(x, nx);
	}
	if (!want)
		want = 1;
	if (want > RS__ITER_AHEAD)
		want = RS__ITER_AHEAD;
	rc = walk(r, link_to(x, dir), tag, snap->ver, dir, it);
	if (rc == 0)
		fill_ahead(r, link_to(it->pos, dir), tag, snap->ver, dir, it,
			   want);
	rs__rcu_read_unlock();
	return rc;
}

static int sh_step(rs__store *s, const rs__snap *snap, uint8_t tag,
		   rs__iter *it, int dir)
{
	(void)s;
	if (RS_LIKELY(rs__iter_take(it, dir)))
		return 0;
	return step_walk(snap, tag, it, dir);
}

static int sh_scan_all(rs__store *s, const rs__snap *snap, rs__scan_all_fn fn,
		       void *ctx)
{
	const rs__run *r = snap_run(snap);
	int rc = 0;

	(void)s;
	if (!r)
		return 0;
	rs__rcu_read_lock();
	for (const rs__node *x = rs__index_next(r->index.head); x && !rc;
	     x = rs__index_next(x)) {
		rs_bytes val;

		if (seen(x, snap->ver, &val))
			rc = fn(x->tag, rs__node_key(x), x->klen, val.data,
				val.len, ctx);
	}
	rs__rcu_read_unlock();
	return rc;
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
	bool found = false;
	rs_bytes val;
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
		for (uint64_t last = UINT64_MAX;;) {
			uint64_t snap = atomic_load_explicit(
				&r->visible, memory_order_acquire);
			RS_DEBUG_YIELD_POINT();
			const rs__node *n =
				rs__table_find(&r->table, tag, key, klen, hash);
			bool ended = false;

			found = n && rs__node_visible(n, snap, &val, &ended);
			if (!ended || !rs__table_pruned_at(&r->table, snap))
				break;
			/* A prune keeps what `visible` sees, so a chain cut
			 * below it means `visible` moved on: not so once it
			 * reads the same again (a state no commit builds,
			 * e.g. a damaged image loaded): give up, not spin. */
			if (snap == last) {
				rc = RS_ECORRUPT;
				break;
			}
			last = snap;
		}
		if (found)
			rc = sink(val.data, val.len, ctx);
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
static rs__vref newest_locked(rs__run *r, uint8_t tag, const void *key,
			      size_t klen, uint64_t hash, const rs__node **node)
{
	rs__vref v;

	rs__rcu_read_lock();
	*node = rs__table_find(&r->table, tag, key, klen, hash);
	v = *node ? atomic_load_explicit(&(*node)->head, memory_order_acquire)
		  : 0;
	rs__rcu_read_unlock();
	return v;
}

static uint64_t sh_newest(rs__store *s, rs__run *r, uint8_t tag,
			  const void *key, size_t klen, uint64_t hash,
			  bool *present)
{
	const rs__node *n;
	rs__vref v = newest_locked(r, tag, key, klen, hash, &n);

	(void)s;
	if (present)
		*present = v && !rs__vref_tomb(n, v);
	return v ? rs__vref_ver(v) : 0;
}

/* Whether node x lies at or before the range's upper end. */
static bool below_hi(const rs__node *x, uint8_t tag, const rs__bound *hi)
{
	int c;

	if (x->tag != tag)
		return false;
	if (hi->inf)
		return true;
	c = rs__index_cmp(x, tag, hi->key, hi->len);
	return c < 0 || (c == 0 && hi->incl);
}

static bool sh_range_changed(rs__store *s, rs__run *r, uint8_t tag,
			     const rs__bound *lo, const rs__bound *hi,
			     uint64_t since)
{
	const rs__node *x;
	bool changed = false;

	(void)s;
	rs__rcu_read_lock();
	x = lo->inf ? rs__index_floor(&r->index, tag, "", 0, false)
		    : rs__index_floor(&r->index, tag, lo->key, lo->len,
				      !lo->incl);
	/* Unlinked nodes are not here, but only tombstones every snapshot
	 * (this transaction's included, pinned until now) sees as absent
	 * are unlinked: they were deleted at or before `since`. */
	for (x = rs__index_next(x); x && below_hi(x, tag, hi);
	     x = rs__index_next(x))
		if (rs__node_newest(x) > since) {
			changed = true;
			break;
		}
	rs__rcu_read_unlock();
	return changed;
}

/*
 * prep[0]: the new version (NULL for a new node that holds it:
 * rs__node_new_with); prep[1]: the key's node, found or (with
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
	/* Room for what reclaim() retires: one entry per op, the slot
	 * arrays of a reserve, and the pending walk's prunes. */
	RS_TRY(rs__retire_reserve(rl, n + RS__TABLE_RESERVE_RETIRES +
					      RS__PENDING_STEP));
	for (size_t i = 0; i < n; i++) {
		ops[i].prep[0] = ops[i].prep[1] = NULL;
		ops[i].prep_flags = 0;
	}
	for (size_t i = 0; i < n; i++) {
		rs__op *op = &ops[i];
		uint32_t vflags =
			(op->flags & RS__OP_F_DELETE) ? RS__VER_TOMB : 0;
		rs__node *node;

		rs__rcu_read_lock();
		node = rs__table_find(&r->table, op->tag, op->key, op->klen,
				      op->hash);
		rs__rcu_read_unlock();
		if (!node && op->vlen <= RS__VER_INLINE_MAX) {
			/* The txn layer deduplicates its write set, so a new
			 * key gets exactly one node: here with its version
			 * inside (one allocation). */
			node = rs__node_new_with(s->alloc, op->tag, op->key,
						 op->klen, op->val, op->vlen,
						 vflags & RS__VER_TOMB);
			if (!node)
				goto nomem;
			op->prep_flags = PREP_NEW_NODE;
			fresh++;
		} else {
			/* Its skip link is set from the node's head now:
			 * nothing else is pushed or pruned there before
			 * apply() pushes it (one op per key). */
			op->prep[0] = rs__ver_new_on(&r->table, node, op->val,
						     op->vlen, vflags);
			if (!op->prep[0])
				goto nomem;
		}
		if (!node) {
			node = rs__node_new(s->alloc, op->tag, op->key,
					    op->klen);
			if (!node)
				goto nomem;
			op->prep_flags = PREP_NEW_NODE;
			fresh++;
		}
		/* Under the commit lock nothing unlinks a found node. */
		op->prep[1] = node;
	}
	/* Room for the new keys; and every commit moves a share of a
	 * rehash in progress. */
	if ((fresh || rs__table_rehashing(&r->table)) &&
	    rs__table_reserve(&r->table, fresh, rl) < 0)
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

		if (!v) { /* a new node holding its first version */
			rs__node_push_first(node, ver);
		} else {
			v->ver = ver;
			rs__node_push(node, v);
		}
		if (ops[i].prep_flags & PREP_NEW_NODE) {
			/* The index first: a reader that finds the node by
			 * its hash may walk on from it (sh_seek). */
			rs__index_insert(&r->index, node);
			rs__table_insert(&r->table, node, ops[i].hash);
		}
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

/*
 * Pending prunes. A key's versions are pruned when the key is written; a
 * snapshot pinned at that moment may keep a tombstone linked, or older
 * versions in the chain, that nothing will need once it ends. A key that
 * is never written again (a deleted key, a list entry) would keep them
 * forever, and every scan would step over its tombstone. So such a node
 * goes onto its run's pending list, and every later commit of the run
 * prunes up to RS__PENDING_STEP of them (round robin, at the commit's
 * min_snap), until each is fully pruned or unlinked: bounded work per
 * commit, and memory given back within a few commits of the snapshot's
 * end. Only that walk prunes a pending node. A run that gets no further
 * commit keeps what it holds until it does (or the database closes).
 */
/* Whether a pruned node still holds what a later prune can free. */
static bool prune_held(const rs__node *n)
{
	rs__vref head = atomic_load_explicit(&n->head, memory_order_relaxed);

	return rs__vref_tomb(n, head) || rs__vref_older(head);
}

/* Prune n (of that hash); true when it is gone (unlinked from table and
 * index). */
static bool prune(rs__run *r, rs__node *n, uint64_t hash, uint64_t min_snap,
		  rs__retire_list *rl)
{
	if (!rs__table_prune(&r->table, n, hash, min_snap, rl))
		return false;
	rs__index_unlink(&r->index, n);
	return true;
}

static void pending_add(const rs__alloc *a, rs__run *r, rs__node *n)
{
	/* No memory: the node is pruned at its next write instead. */
	if (rs__grow(a, (void **)&r->pending, &r->cpending, r->npending + 1,
		     sizeof(*r->pending)) < 0)
		return;
	r->pending[r->npending++] = n;
	n->pending = true;
}

static void pending_walk(rs__run *r, uint64_t min_snap, rs__retire_list *rl)
{
	size_t budget = RS__PENDING_STEP;

	while (budget-- && r->npending) {
		size_t i = r->pending_at % r->npending;
		rs__node *n = r->pending[i];

		if (!prune(r, n, r->table.node_hash(&r->table, n), min_snap,
			   rl) &&
		    prune_held(n)) {
			r->pending_at = i + 1;
			continue;
		}
		n->pending = false;
		r->pending[i] = r->pending[--r->npending];
		r->pending_at = i;
	}
}

static void sh_reclaim(rs__store *s, rs__run *r, const rs__op *ops, size_t n,
		       uint64_t min_snap, rs__retire_list *rl)
{
	for (size_t i = 0; i < n; i++) {
		rs__node *node = ops[i].prep[1];

		if (!node || node->pending)
			continue;
		if (!prune(r, node, ops[i].hash, min_snap, rl) &&
		    prune_held(node))
			pending_add(s->alloc, r, node);
	}
	if (r->npending)
		pending_walk(r, min_snap, rl);
}

static int sh_latest(rs__store *s, rs__run *r, uint8_t tag, const void *key,
		     size_t klen, uint64_t hash, rs_bytes *out)
{
	const rs__node *n;
	rs__vref v = newest_locked(r, tag, key, klen, hash, &n);

	(void)s;
	return v && rs__vref_value(n, v, out) ? 0 : RS_ENOTFOUND;
}

static int sh_live_keys(rs__store *s, rs__run *r, rs__key_fn fn, void *ctx)
{
	int rc = 0;

	(void)s;
	rs__rcu_read_lock();
	for (const rs__node *x = rs__index_next(r->index.head); x && !rc;
	     x = rs__index_next(x)) {
		rs__vref v =
			atomic_load_explicit(&x->head, memory_order_acquire);

		if (v && !rs__vref_tomb(x, v))
			rc = fn(x->tag, rs__node_key(x), x->klen,
				r->table.node_hash(&r->table, x), ctx);
	}
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
	for (r = s->dead; r;) {
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
	.run_start = sh_run_start,
	.run_set_start = sh_run_set_start,
	.run_kill = sh_run_kill,
	.run_dead = sh_run_dead,
	.run_reap = sh_run_reap,
	.snap_open = sh_snap_open,
	.snap_close = sh_snap_close,
	.read = sh_read,
	.seek = sh_seek,
	.step = sh_step,
	.scan_all = sh_scan_all,
	.run_list = sh_run_list,
	.read_latest = sh_read_latest,
	.lock = sh_lock,
	.unlock = sh_unlock,
	.newest = sh_newest,
	.range_changed = sh_range_changed,
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
	atomic_init(&s->base.run_base, 0);
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
