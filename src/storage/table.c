/* SPDX-License-Identifier: MIT */
/*
 * The key table of one run.
 *
 * Layout. Open addressing with linear probing over an array of slots
 * (power-of-two capacity), each one word: a node's address with the top
 * 16 bits of its hash (table.h), so probing compares tags without touching
 * nodes. A node is one
 * key (primitive tag + bytes, hashed by the caller with XXH3-64 and the database's seed) with a
 * version chain, newest first. A version carries its commit version, a
 * tombstone flag and the value bytes (a node's first version, when small,
 * lives inside the node: table.h, rs__vref); versions and nodes are
 * immutable once published except for the chain links.
 *
 * Concurrency. Readers never lock. They run inside an RCU read-side
 * section, load `slots` and `head`/`older` with acquire, and never write.
 * Writers are serialized by the owning run's commit lock (the caller's):
 * every function marked "writer" in table.h runs under it. Publication
 * order is always: initialize an object, then store its pointer with
 * release (rs__node_push, rs__table_insert, the new array of a rehash).
 *
 * Slots are never cleared to NULL while readers may probe: an unlinked
 * node's slot gets RS__SLOT_UNLINKED, which probing steps over, so no probe
 * chain is ever cut. Inserts may reuse such a slot (the caller has checked
 * the key is absent).
 *
 * Rehash (growth), incremental as in Redis's dict, with lock-free readers.
 * When a reserve finds too little room, it allocates a bigger array N,
 * sets N->old to the current array A and publishes N (release). From then
 * on new keys go into N only, and A is never written again except for
 * unlink markers. Every later reserve (one per commit) moves the next
 * rs__table_rehash_budget(extra) slots of A into N: their nodes are
 * copied (each placed by its hash, computed again from its key: a slot
 * keeps only a tag; the step prefetches the nodes ahead of it), and A
 * keeps them too. Once all of A is copied, N->old is set to
 * NULL (release) and A is retired. So while rehashing, every linked node is
 * in N (inserted since the start, or moved) or still in A (not moved yet),
 * and A stays complete for every node older than the rehash.
 *
 * Readers load `slots`, then `slots->old`, both with acquire, and only then
 * probe: N, then A. Order matters at the end of a rehash: a reader that
 * sees old == NULL synchronizes with the store that cleared it and so sees
 * every move into N; a reader that probed N first and loaded `old` after
 * could miss a node moved in between and find A gone. At the start, a
 * reader that still loads `slots` == A reads A alone, which holds every
 * node but those inserted since; those belong to commits newer than the
 * reader's snapshot (a snapshot that includes such a commit loaded
 * `visible` after that commit published N, and so loads N). A rehash only
 * starts once the previous one is done, so there is never an older array
 * to look into. Unlink marks the node's slot in N and, while rehashing, in
 * A: once retired, a node is reachable from no array still in use, and A's
 * copy never comes back (moving skips markers). Writers, under the commit
 * lock, find keys in both arrays with the same rs__table_find().
 *
 * Pace. Let A have C slots and L live nodes when the rehash starts, for a
 * commit adding E keys; N gets at least C slots and at least 2(L + E). A
 * commit adding k keys moves max(64, 4k) slots of A before it inserts, so
 * while the rehash is unfinished the keys added during it (E and every
 * later k, the current commit's included) number fewer than C/4, and the
 * slots N uses, plus the nodes of A still to move, are at most
 * L + E + C/4 < N/2 + N/4: the rehash always finishes before N passes its
 * 3/4 load limit, so no reserve ever needs to finish one at once or start
 * a second (t->forced counts that fallback; it stays 0). A huge commit
 * (k of the order of C) moves the rest of A in one go: work proportional
 * to the commit. Growth allocates N zeroed (calloc; large arrays come
 * from fresh pages), so no commit ever copies a whole table.
 *
 * Reclamation. rs__table_prune() cuts a chain below the version the oldest
 * snapshot (`min_snap`, computed by the txn layer from its pins) can see.
 * It raises the table's `floor` before cutting, so an unpinned reader that
 * runs off the end of a cut chain knows its answer is unknown rather than
 * "absent".
 * Cut versions, unlinked nodes and replaced slot arrays are retired onto
 * the caller's list (util/rcu.h) and freed after a grace period, once every
 * reader that could hold them has left its read-side section.
 * Memory therefore stays O(live keys + versions some snapshot can see).
 *
 * Skip links (table.h) and pruning. A link may outlive its target: a prune
 * cuts below the version its min_snap sees and stores no link. So no one
 * follows a link without knowing its target is still allocated, from the
 * target's version recorded in the link:
 *  - A pinned reader at snap follows a link only to a version newer than
 *    snap. Every prune, before or after the pin, ran at a min_snap at most
 *    snap (before: min_snap <= visible <= snap; after: the pin protocol of
 *    shard.c), and kept every version newer than its min_snap.
 *  - An unpinned reader (rs__txn_read_latest) loaded snap = visible inside
 *    its read-side section. A version freed before the section began was
 *    cut, and its grace period ended, before it; the cut ran at a min_snap
 *    <= the visible version of then, which the reader sees (the grace
 *    period orders it), so the version is older than snap and the reader
 *    never follows a link to it. One retired later is not freed before the
 *    section ends.
 *  - The writer (rs__ver_new_on, rs__table_prune), under the commit lock,
 *    reads a link target only when its version is above floor, the
 *    largest min_snap so far, or reaches it through `older`, which a cut
 *    sets to NULL first.
 *
 * Termination. Capacity keeps the used slots of the current array (nodes
 * and markers) at most 3/4 of it, and the old array is never filled
 * further, so every probe meets a NULL slot. The only way into an array
 * is cur_place(): from rs__table_insert(), whose caller reserved room for
 * it (rs__table_reserve() counts the node as `extra`, so live + dead stay
 * within 3/4), or from a rehash step, which moves a node already counted
 * in `live`. `nodes` never exceeds `live`, so nodes + dead, the used
 * slots, stay within 3/4 too; unlink only turns a node into a marker.
 * Debug builds assert both (cur_place, rs__slots_find), and
 * tests/unit/storage/test_table.c churns inserts and unlinks through
 * rehashes counting the slots against nodes and dead.
 */
#include "storage/table.h"

#include "util/hash.h"
#include "util/random.h"

#include <assert.h>
#include <string.h>

rs__node rs__table_unlinked;

/* A version of a 100-byte value must fit jemalloc's 128-byte class. */
_Static_assert(sizeof(rs__ver) == 24, "rs__ver header is 24 bytes");

#define MIN_CAP 8u
/* Slots ahead of a rehash step whose nodes it prefetches. */
#define REHASH_AHEAD 8u

static rs__slots *slots_new(const rs__alloc *a, size_t cap)
{
	rs__slots *sl = rs__malloc(a, sizeof(*sl));

	if (!sl)
		return NULL;
	if (!(sl->s = rs__calloc(a, cap, sizeof(sl->s[0])))) {
		rs__free(a, sl);
		return NULL;
	}
	sl->mask = cap - 1;
	atomic_init(&sl->old, NULL);
	return sl;
}

static void slots_free(const rs__alloc *a, void *p)
{
	rs__slots *sl = p;

	rs__free(a, sl->s);
	rs__free(a, sl);
}

/* The default node_hash: the caller's rs__hash_key() with its seed. */
static uint64_t key_hash(const rs__table *t, const rs__node *n)
{
	return rs__hash_key(t->seed, n->tag, rs__node_key(n), n->klen);
}

int rs__table_init(rs__table *t, const rs__alloc *a, size_t cap_hint,
		   uint64_t seed)
{
	size_t cap = MIN_CAP;

	while (cap < cap_hint * 2 && cap < ((size_t)1 << 40))
		cap *= 2;
	t->alloc = a;
	t->live = 0;
	t->nodes = 0;
	t->dead = 0;
	t->mig = 0;
	t->moved = 0;
	t->rehashes = 0;
	t->forced = 0;
	atomic_init(&t->floor, 0);
	t->node_hash = key_hash;
	t->seed = seed;
	atomic_init(&t->slots, slots_new(a, cap));
	return atomic_load_explicit(&t->slots, memory_order_relaxed)
		       ? 0
		       : RS_ENOMEM;
}

/* The block a heap version was allocated as (its skip link first). */
static void *ver_block(rs__ver *v)
{
	return (v->flags & RS__VER_SKIP) ? (char *)v - sizeof(rs__skip)
					 : (void *)v;
}

/* The heap versions from r down (a first version is freed with its
 * node). */
static void ver_chain_free(const rs__alloc *a, rs__vref r)
{
	while (r && !rs__vref_is_first(r)) {
		rs__ver *v = (rs__ver *)r;

		r = atomic_load_explicit(&v->older, memory_order_relaxed);
		rs__free(a, ver_block(v));
	}
}

void rs__node_free_unpublished(const rs__alloc *a, rs__node *n)
{
	if (!n)
		return;
	ver_chain_free(a, atomic_load_explicit(&n->head, memory_order_relaxed));
	rs__free(a, n);
}

void rs__ver_free_unpublished(const rs__alloc *a, rs__ver *v)
{
	if (v)
		rs__free(a, ver_block(v));
}

static void slots_free_nodes(const rs__alloc *a, rs__slots *sl)
{
	for (size_t i = 0; i <= sl->mask; i++) {
		rs__node *n = rs__slot_node(atomic_load_explicit(
			&sl->s[i].w, memory_order_relaxed));
		if (n && n != RS__SLOT_UNLINKED)
			rs__node_free_unpublished(a, n);
	}
}

static void rehash_step(rs__table *t, size_t budget, rs__retire_list *rl);

void rs__table_destroy(rs__table *t)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);

	if (!sl)
		return;
	/* Every node then sits in the current array, exactly once. */
	rehash_step(t, SIZE_MAX, NULL);
	slots_free_nodes(t->alloc, sl);
	slots_free(t->alloc, sl);
	atomic_store_explicit(&t->slots, NULL, memory_order_relaxed);
}

/* Whether `n` (of that hash) has a slot in `sl` (a pointer match along
 * its probe chain). */
static bool slots_holds(const rs__slots *sl, const rs__node *n, uint64_t hash)
{
	size_t i = (size_t)hash & sl->mask;

	for (;;) {
		const rs__node *cur = rs__slot_node(atomic_load_explicit(
			&sl->s[i].w, memory_order_acquire));
		if (!cur)
			return false;
		if (cur == n)
			return true;
		i = (i + 1) & sl->mask;
	}
}

static int slots_foreach(const rs__table *t, const rs__slots *sl,
			 const rs__slots *skip,
			 int (*fn)(const rs__node *n, void *ctx), void *ctx)
{
	for (size_t i = 0; i <= sl->mask; i++) {
		const rs__node *n = rs__slot_node(atomic_load_explicit(
			&sl->s[i].w, memory_order_acquire));
		int rc;

		if (!n || n == RS__SLOT_UNLINKED)
			continue;
		if (skip && slots_holds(skip, n, t->node_hash(t, n)))
			continue;
		if ((rc = fn(n, ctx)) != 0)
			return rc;
	}
	return 0;
}

int rs__table_foreach(const rs__table *t,
		      int (*fn)(const rs__node *n, void *ctx), void *ctx)
{
	const rs__slots *sl =
		atomic_load_explicit(&t->slots, memory_order_acquire);
	const rs__slots *old =
		atomic_load_explicit(&sl->old, memory_order_acquire);
	int rc;

	if (!old)
		return slots_foreach(t, sl, NULL, fn, ctx);
	/* Rehashing: every node of the old array, then those of the new one
	 * the old one lacks (inserted since), so each is visited once. A
	 * node unlinked meanwhile may be visited twice; it is one that every
	 * snapshot sees deleted. */
	if ((rc = slots_foreach(t, old, NULL, fn, ctx)) != 0)
		return rc;
	return slots_foreach(t, sl, old, fn, ctx);
}

static void ver_init(rs__ver *v, const void *val, size_t len, uint32_t flags)
{
	atomic_init(&v->older, 0);
	v->ver = 0;
	v->len = (uint32_t)len;
	v->flags = flags;
	if (len)
		memcpy(v->data, val, len);
}

/* A node of `height` with room for `extra` bytes behind its tail. */
static rs__node *node_alloc(const rs__alloc *a, uint8_t tag, const void *key,
			    size_t klen, unsigned height, size_t extra)
{
	rs__node *n;

	if (klen > RS__NODE_KEY_MAX)
		return NULL;
	n = rs__malloc(a, rs__node_size(height, klen) + extra);
	if (!n)
		return NULL;
	/* A slot keeps the address in RS__SLOT_ADDR_BITS bits (table.h). */
	if ((uintptr_t)n & ~RS__SLOT_ADDR_MASK) {
		rs__free(a, n);
		return NULL;
	}
	n->klen = (uint16_t)klen;
	n->tag = tag;
	n->height = (uint8_t)height;
	n->pending = false;
	n->first = 0;
	n->first_len = 0;
	atomic_init(&n->head, 0);
	atomic_init(&n->prev, NULL);
	for (unsigned i = 0; i < height; i++)
		atomic_init(&n->next[i], NULL);
	if (klen)
		memcpy((unsigned char *)rs__node_key(n), key, klen);
	return n;
}

rs__node *rs__node_new_height(const rs__alloc *a, uint8_t tag, const void *key,
			      size_t klen, unsigned height)
{
	return node_alloc(a, tag, key, klen, height, 0);
}

/* Each further level with probability 1/4: two random bits each. */
static unsigned random_height(void)
{
	uint64_t r = rs__random_fast();
	unsigned height = 1;

	while (height < RS__INDEX_MAX_HEIGHT && (r & 3) == 0) {
		height++;
		r >>= 2;
	}
	return height;
}

rs__node *rs__node_new(const rs__alloc *a, uint8_t tag, const void *key,
		       size_t klen)
{
	return node_alloc(a, tag, key, klen, random_height(), 0);
}

rs__node *rs__node_new_with(const rs__alloc *a, uint8_t tag, const void *key,
			    size_t klen, const void *val, size_t len, bool tomb)
{
	rs__node *n;

	assert(len <= RS__VER_INLINE_MAX);
	n = node_alloc(a, tag, key, klen, random_height(), len);
	if (!n)
		return NULL;
	n->first = RS__FIRST_INLINE | (tomb ? RS__FIRST_TOMB : 0);
	n->first_len = (uint16_t)len;
	if (len)
		memcpy((unsigned char *)rs__node_first_data(n), val, len);
	return n;
}

rs__ver *rs__ver_new(const rs__alloc *a, const void *val, size_t len,
		     uint32_t flags)
{
	rs__ver *v = rs__malloc(a, sizeof(*v) + len);

	if (v)
		ver_init(v, val, len, flags);
	return v;
}

static uint32_t ranks(unsigned k, unsigned kj)
{
	return (uint32_t)k << RS__VER_K_SHIFT | (uint32_t)kj
							<< RS__VER_KJ_SHIFT;
}

/*
 * The skip structure of the next version pushed onto a chain whose head
 * is p (table.h, "Skip links"): its rank bits, and in *skip its link when
 * its rank is 2 or more (skip->to 0: none). Writer. Every version this
 * reads is one no prune can have cut: p (the head), a version reached by
 * `older` from a version not cut (a cut stores 0 there first), or a
 * link target above `floor` (every prune so far kept all versions newer
 * than its min_snap, and floor is the largest). A link target that is not
 * read is only copied, with its version, into the new link. A first
 * version kept in its node (odd rs__vref) has rank 0 and links nowhere,
 * so a version of rank 1 or more, and any version with a link of that
 * rank, is a heap one.
 */
static uint32_t skip_plan(rs__vref p, uint64_t floor, rs__skip *skip)
{
	const rs__ver *pv, *pjv;
	rs__vref pj, pjj;
	unsigned kp;

	skip->to = 0;
	skip->ver = 0;
	if (!p || rs__vref_is_first(p))
		return ranks(!p ? 0 : 1, 0);
	pv = rs__vref_heap(p);
	kp = rs__ver_rank(pv);
	if (kp == 0 || kp != rs__ver_link_rank(pv) || kp >= 62)
		return ranks(1, kp);
	/* p and its link target have rank kp: link two past them. */
	if (kp == 1)
		pj = atomic_load_explicit(&pv->older, memory_order_relaxed);
	else
		pj = rs__ver_skip(pv)->ver > floor ? rs__ver_skip(pv)->to : 0;
	if (!pj) /* cut, or maybe cut: a root */
		return ranks(0, 0);
	pjv = rs__vref_heap(pj); /* rank kp >= 1 */
	if (kp == 1) {
		pjj = atomic_load_explicit(&pjv->older, memory_order_relaxed);
		if (!pjj)
			return ranks(0, 0);
		skip->to = pjj;
		skip->ver = rs__vref_ver(pjj);
	} else {
		*skip = *rs__ver_skip(pjv);
	}
	return ranks(kp + 1, rs__ver_link_rank(pjv));
}

rs__ver *rs__ver_new_on(const rs__table *t, const rs__node *n, const void *val,
			size_t len, uint32_t flags)
{
	rs__skip skip;
	uint32_t rk;
	char *block;
	rs__ver *v;

	rk = skip_plan(
		n ? atomic_load_explicit(&n->head, memory_order_relaxed) : 0,
		atomic_load_explicit(&t->floor, memory_order_relaxed), &skip);
	if (!skip.to)
		return rs__ver_new(t->alloc, val, len, flags | rk);
	block = rs__malloc(t->alloc, sizeof(skip) + sizeof(*v) + len);
	if (!block)
		return NULL;
	memcpy(block, &skip, sizeof(skip));
	v = (rs__ver *)(void *)(block + sizeof(skip));
	ver_init(v, val, len, flags | rk | RS__VER_SKIP);
	return v;
}

#ifndef NDEBUG
_Thread_local size_t rs__node_seek_visits;
#define SEEK_VISITS (&rs__node_seek_visits)
#else
#define SEEK_VISITS NULL
#endif

rs__vref rs__node_seek(rs__vref head, uint64_t snap)
{
	return rs__chain_seek(head, snap, SEEK_VISITS);
}

/* A cut tail of a chain: every version from p down, in one entry. */
static void chain_free(const rs__alloc *a, void *p)
{
	ver_chain_free(a, (rs__vref)p);
}

/* A cut tail of one version (the common case: an overwrite): freed
 * without reading it, so the reclaimer thread does not pull its cache
 * lines away from the writer that will reuse the memory. */
static void ver_free(const rs__alloc *a, void *p)
{
	rs__free(a, p);
}

/* The same for a version with a skip link in front of it. */
static void ver_skip_free(const rs__alloc *a, void *p)
{
	rs__free(a, (char *)p - sizeof(rs__skip));
}

/* An unlinked node and what is left of its chain. */
static void node_free(const rs__alloc *a, void *p)
{
	rs__node_free_unpublished(a, p);
}

/*
 * Place `n` in the first free or unlinked slot of its probe chain in the
 * current array (the caller has checked the key is absent there) and
 * count it: its address and its hash's tag, in one word stored with
 * release (a reader that loads it, acquire, sees the node initialized).
 */
static void cur_place(rs__table *t, rs__slots *sl, rs__node *n, uint64_t hash)
{
	size_t i = (size_t)hash & sl->mask;
	rs__node *cur;

	for (;;) {
		cur = rs__slot_node(atomic_load_explicit(&sl->s[i].w,
							 memory_order_relaxed));
		if (!cur || cur == RS__SLOT_UNLINKED)
			break;
		i = (i + 1) & sl->mask;
	}
	if (cur == RS__SLOT_UNLINKED)
		t->dead--;
	t->nodes++;
	/* The reserve made room (has_room): the array stays at most 3/4
	 * used, so probes terminate ("Termination" above). */
	assert((t->nodes + t->dead) * 4 <= (sl->mask + 1) * 3);
	/* Pairs with the acquire loads of slots in rs__slots_find(). */
	atomic_store_explicit(&sl->s[i].w, (uintptr_t)n | rs__slot_tag(hash),
			      memory_order_release);
}

/*
 * Move up to `budget` slots of the old array into the current one; when
 * the last is moved, end the rehash and retire the old array onto rl (or,
 * rl NULL: no reader can exist, free it).
 */
static void rehash_step(rs__table *t, size_t budget, rs__retire_list *rl)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	rs__slots *old = atomic_load_explicit(&sl->old, memory_order_relaxed);
	size_t cap;

	if (!old)
		return;
	cap = old->mask + 1;
	for (; budget && t->mig < cap; budget--, t->mig++, t->moved++) {
		rs__node *n = rs__slot_node(atomic_load_explicit(
			&old->s[t->mig].w, memory_order_relaxed));

		/* Its hash is read from the node's key: fetch the nodes a
		 * few slots ahead, so their misses overlap. */
		if (t->mig + REHASH_AHEAD < cap && budget > REHASH_AHEAD) {
			const rs__node *next =
				rs__slot_node(atomic_load_explicit(
					&old->s[t->mig + REHASH_AHEAD].w,
					memory_order_relaxed));
			if (next)
				__builtin_prefetch(next);
		}
		if (n && n != RS__SLOT_UNLINKED)
			cur_place(t, sl, n, t->node_hash(t, n));
	}
	if (t->mig < cap)
		return;
	RS_DEBUG_YIELD_POINT();
	/* Pairs with the acquire load of `old` in the readers: one that sees
	 * NULL sees every move above. */
	atomic_store_explicit(&sl->old, NULL, memory_order_release);
	t->mig = 0;
	if (rl)
		rs__retire(rl, old, slots_free);
	else
		slots_free(t->alloc, old);
}

static int rehash_start(rs__table *t, size_t cap)
{
	rs__slots *old = atomic_load_explicit(&t->slots, memory_order_relaxed);
	rs__slots *sl = slots_new(t->alloc, cap);

	if (!sl)
		return RS_ENOMEM;
	atomic_init(&sl->old, old);
	t->nodes = 0;
	t->dead = 0;
	t->mig = 0;
	t->rehashes++;
	/* Pairs with the acquire load of `slots` in the readers: one that
	 * loads the new array sees its `old`. */
	RS_DEBUG_YIELD_POINT();
	atomic_store_explicit(&t->slots, sl, memory_order_release);
	return 0;
}

/*
 * Room for `extra` more nodes in the current array, counting the nodes of
 * the old one still to move: used slots (nodes + dead) plus those
 * (live - nodes) is live + dead.
 */
static bool has_room(const rs__table *t, const rs__slots *sl, size_t extra)
{
	return (t->live + t->dead + extra) * 4 <= (sl->mask + 1) * 3;
}

int rs__table_reserve(rs__table *t, size_t extra, rs__retire_list *rl)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	size_t budget = rs__table_rehash_budget(extra);
	size_t cap, need;

	t->moved = 0;
	rehash_step(t, budget, rl);
	if (has_room(t, sl, extra))
		return 0;
	if (atomic_load_explicit(&sl->old, memory_order_relaxed)) {
		/* Unreachable by the pace argument (top of file); if it ever
		 * were reached, finishing keeps probes terminating. */
		t->forced++;
		rehash_step(t, SIZE_MAX, rl);
	}
	/* Grow until live keys fill at most half; unlinked slots go away. */
	cap = sl->mask + 1;
	need = t->live + extra;
	while (need * 2 > cap) {
		if (cap > ((size_t)1 << 40))
			return RS_ENOMEM;
		cap *= 2;
	}
	RS_TRY(rehash_start(t, cap));
	rehash_step(t, budget, rl);
	return 0;
}

void rs__table_insert(rs__table *t, rs__node *n, uint64_t hash)
{
	/* A rehash places n by node_hash: it must be the hash given here. */
	assert(hash == t->node_hash(t, n));
	t->live++;
	cur_place(t, atomic_load_explicit(&t->slots, memory_order_relaxed), n,
		  hash);
}

/* Mark n's slot in `sl`, if it has one there; whether it had. */
static bool slots_unlink(rs__slots *sl, const rs__node *n, uint64_t hash)
{
	size_t i = (size_t)hash & sl->mask;

	for (;;) {
		rs__node *cur = rs__slot_node(atomic_load_explicit(
			&sl->s[i].w, memory_order_relaxed));
		if (!cur)
			return false;
		if (cur == n)
			break;
		i = (i + 1) & sl->mask;
	}
	/* Probes skip the marker by its address (its tag is 0). */
	atomic_store_explicit(&sl->s[i].w, (uintptr_t)RS__SLOT_UNLINKED,
			      memory_order_release);
	return true;
}

static void table_unlink(rs__table *t, rs__node *n, uint64_t hash,
			 rs__retire_list *rl)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	rs__slots *old = atomic_load_explicit(&sl->old, memory_order_relaxed);
	bool found = false;

	/* In both arrays: once freed, the node must be reachable from
	 * neither (the old one is still probed until the rehash ends). */
	if (slots_unlink(sl, n, hash)) {
		t->nodes--;
		t->dead++;
		found = true;
	}
	if (old && slots_unlink(old, n, hash))
		found = true;
	/* A linked node has a slot in one of them, on its hash's probe
	 * chain: a wrong hash would leave a slot to a freed node. */
	assert(found);
	(void)found;
	t->live--;
	rs__retire(rl, n, node_free);
}

bool rs__table_prune(rs__table *t, rs__node *n, uint64_t hash,
		     uint64_t min_snap, rs__retire_list *rl)
{
	rs__vref head = atomic_load_explicit(&n->head, memory_order_relaxed);
	uint64_t floor = atomic_load_explicit(&t->floor, memory_order_relaxed);
	rs__vref keep, tail;
	rs__ver *kv, *tv;

	/* The txn layer's min_snap never goes back. If one did, a walk
	 * below the floor could follow a link to a version an earlier prune
	 * cut, and there would be nothing left to cut there: return. */
	if (min_snap < floor)
		return false;
	/* Raise the floor first: a reader that sees the cut sees it too. */
	if (min_snap > floor)
		atomic_store_explicit(&t->floor, min_snap,
				      memory_order_release);
	RS_DEBUG_YIELD_POINT();
	/* The newest version at or below min_snap is what the oldest
	 * snapshot sees; everything older is invisible to all. Links to
	 * versions above min_snap (above floor) are safe to follow. While
	 * an old snapshot holds many versions of the key, this is O(log n)
	 * of the n versions newer than it (skip links), and a prune at the
	 * same min_snap as the last finds keep->older already 0. */
	keep = rs__chain_seek(head, min_snap, NULL);
	if (!keep)
		return false;
	if (keep == head && rs__vref_tomb(n, keep)) {
		table_unlink(t, n, hash, rl);
		return true;
	}
	if (rs__vref_is_first(keep)) /* the oldest: nothing below */
		return false;
	kv = (rs__ver *)keep;
	tail = atomic_load_explicit(&kv->older, memory_order_relaxed);
	if (!tail)
		return false;
	atomic_store_explicit(&kv->older, 0, memory_order_release);
	if (rs__vref_is_first(tail)) /* freed with the node */
		return false;
	tv = (rs__ver *)tail;
	tail = atomic_load_explicit(&tv->older, memory_order_relaxed);
	/* The tail keeps its links: one entry frees it all. It may end in
	 * the node's first version, which is freed with the node: the link
	 * to it says so (odd), so the free stops there without reading the
	 * node, and a reader still on the tail finds its bytes in the node,
	 * which outlives the reader. */
	rs__retire(rl, tv,
		   tail && !rs__vref_is_first(tail) ? chain_free
		   : (tv->flags & RS__VER_SKIP)	    ? ver_skip_free
						    : ver_free);
	return false;
}
