/* SPDX-License-Identifier: MIT */
/*
 * The key table of one run.
 *
 * Layout. Open addressing with linear probing over an array of slots
 * (power-of-two capacity), each a node pointer with the node's hash beside
 * it, so probing compares hashes without touching nodes. A node is one key (primitive tag +
 * bytes, hashed by the caller with XXH3-64 and the database's seed) with a
 * version chain, newest first. A version carries its commit version, a
 * tombstone flag and the value bytes; versions and nodes are immutable once
 * published except for the chain links and `floor`.
 *
 * Concurrency. Readers never lock. They run inside an RCU read-side
 * section, load `slots` and `head`/`older` with acquire, and never write.
 * Writers are serialized by the owning run's commit lock (the caller's):
 * every function marked "writer" in table.h runs under it. Publication
 * order is always: initialize an object, then store its pointer with
 * release (rs__node_push, rs__table_insert, the slots swap on resize).
 *
 * Slots are never cleared to NULL while readers may probe: an unlinked
 * node's slot gets RS__SLOT_UNLINKED, which probing steps over, so no probe
 * chain is ever cut. Inserts may reuse such a slot (the caller has checked
 * the key is absent). Resizes copy the live nodes into a new array, publish
 * it, and retire the old one; readers still on the old
 * array see every node that existed when they loaded it, and any node
 * inserted later has only versions newer than their snapshot.
 *
 * Reclamation. rs__table_prune() cuts a chain below the version the oldest
 * snapshot (`min_snap`, computed by the txn layer from its pins) can see.
 * It raises `floor` before cutting, so an unpinned reader that runs off the
 * end of a cut chain knows its answer is unknown rather than "absent".
 * Cut versions, unlinked nodes and old slot arrays are retired onto the
 * caller's list (util/rcu.h) and freed after a grace period, once every
 * reader that could hold them has left its read-side section.
 * Memory therefore stays O(live keys + versions some snapshot can see).
 *
 * Termination. Capacity keeps live + unlinked slots at most 3/4 of the
 * array, so every probe meets a NULL slot.
 */
#include "storage/table.h"

#include "util/random.h"

#include <string.h>

rs__node rs__table_unlinked;

#define MIN_CAP 8u

static rs__slots *slots_new(const rs__alloc *a, size_t cap)
{
	rs__slots *sl = rs__calloc(a, 1, sizeof(*sl) + cap * sizeof(sl->s[0]));

	if (!sl)
		return NULL;
	sl->mask = cap - 1;
	sl->alloc = a;
	return sl;
}

int rs__table_init(rs__table *t, const rs__alloc *a, size_t cap_hint)
{
	size_t cap = MIN_CAP;

	while (cap < cap_hint * 2 && cap < ((size_t)1 << 40))
		cap *= 2;
	t->alloc = a;
	t->live = 0;
	t->dead = 0;
	atomic_init(&t->slots, slots_new(a, cap));
	return atomic_load_explicit(&t->slots, memory_order_relaxed)
		       ? 0
		       : RS_ENOMEM;
}

static void ver_chain_free(const rs__alloc *a, rs__ver *v)
{
	while (v) {
		rs__ver *older =
			atomic_load_explicit(&v->older, memory_order_relaxed);
		rs__free(a, v);
		v = older;
	}
}

void rs__node_free_unpublished(rs__node *n)
{
	if (!n)
		return;
	ver_chain_free(n->alloc,
		       atomic_load_explicit(&n->head, memory_order_relaxed));
	rs__free(n->alloc, n);
}

void rs__ver_free_unpublished(rs__ver *v)
{
	if (v)
		rs__free(v->alloc, v);
}

void rs__table_destroy(rs__table *t)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);

	if (!sl)
		return;
	for (size_t i = 0; i <= sl->mask; i++) {
		rs__node *n = atomic_load_explicit(&sl->s[i].node,
						   memory_order_relaxed);
		if (n && n != RS__SLOT_UNLINKED)
			rs__node_free_unpublished(n);
	}
	rs__free(t->alloc, sl);
	atomic_store_explicit(&t->slots, NULL, memory_order_relaxed);
}

int rs__table_foreach(const rs__table *t,
		      int (*fn)(const rs__node *n, void *ctx), void *ctx)
{
	const rs__slots *sl =
		atomic_load_explicit(&t->slots, memory_order_acquire);

	for (size_t i = 0; i <= sl->mask; i++) {
		const rs__node *n = atomic_load_explicit(&sl->s[i].node,
							 memory_order_acquire);
		int rc;

		if (!n || n == RS__SLOT_UNLINKED)
			continue;
		if ((rc = fn(n, ctx)) != 0)
			return rc;
	}
	return 0;
}

rs__node *rs__node_new_height(const rs__alloc *a, uint8_t tag, const void *key,
			      size_t klen, uint64_t hash, unsigned height)
{
	rs__node *n =
		rs__malloc(a, sizeof(*n) + height * sizeof(n->next[0]) + klen);

	if (!n)
		return NULL;
	n->height = (uint8_t)height;
	n->pending = false;
	atomic_init(&n->prev, NULL);
	for (unsigned i = 0; i < height; i++)
		atomic_init(&n->next[i], NULL);
	atomic_init(&n->head, NULL);
	atomic_init(&n->floor, 0);
	n->pruned_min = 0;
	n->hash = hash;
	n->alloc = a;
	n->klen = (uint32_t)klen;
	n->tag = tag;
	if (klen)
		memcpy((unsigned char *)rs__node_key(n), key, klen);
	return n;
}

rs__node *rs__node_new(const rs__alloc *a, uint8_t tag, const void *key,
		       size_t klen, uint64_t hash)
{
	/* Each further level with probability 1/4: two random bits each. */
	uint64_t r = rs__random_fast();
	unsigned height = 1;

	while (height < RS__INDEX_MAX_HEIGHT && (r & 3) == 0) {
		height++;
		r >>= 2;
	}
	return rs__node_new_height(a, tag, key, klen, hash, height);
}

rs__ver *rs__ver_new(const rs__alloc *a, const void *val, size_t len,
		     uint32_t flags)
{
	rs__ver *v = rs__malloc(a, sizeof(*v) + len);

	if (!v)
		return NULL;
	atomic_init(&v->older, NULL);
	v->ver = 0;
	v->alloc = a;
	v->len = (uint32_t)len;
	v->flags = flags;
	if (len)
		memcpy(v->data, val, len);
	return v;
}

static void slots_free(rs__retired *r)
{
	rs__slots *sl = rs__container_of(r, rs__slots, retire);

	rs__free(sl->alloc, sl);
}

static void ver_free(rs__retired *r)
{
	rs__ver *v = rs__container_of(r, rs__ver, retire);

	rs__free(v->alloc, v);
}

static void node_free(rs__retired *r)
{
	rs__node_free_unpublished(rs__container_of(r, rs__node, retire));
}

/* Fill a slot: the hash first, then the node (published with `order`). */
static void slot_set(rs__slot *slot, rs__node *n, memory_order order)
{
	atomic_store_explicit(&slot->hash, n->hash, memory_order_relaxed);
	atomic_store_explicit(&slot->node, n, order);
}

/* Place a node in an array no reader sees yet, or in a reserved slot. */
static size_t slot_place(rs__slots *sl, rs__node *n, bool reuse_unlinked)
{
	size_t i = (size_t)n->hash & sl->mask;

	for (;;) {
		rs__node *cur = atomic_load_explicit(&sl->s[i].node,
						     memory_order_relaxed);
		if (!cur || (reuse_unlinked && cur == RS__SLOT_UNLINKED))
			break;
		i = (i + 1) & sl->mask;
	}
	return i;
}

static int table_resize(rs__table *t, size_t cap, rs__retire_list *rl)
{
	rs__slots *old = atomic_load_explicit(&t->slots, memory_order_relaxed);
	rs__slots *sl = slots_new(t->alloc, cap);

	if (!sl)
		return RS_ENOMEM;
	for (size_t i = 0; i <= old->mask; i++) {
		rs__node *n = atomic_load_explicit(&old->s[i].node,
						   memory_order_relaxed);
		if (n && n != RS__SLOT_UNLINKED)
			slot_set(&sl->s[slot_place(sl, n, false)], n,
				 memory_order_relaxed);
	}
	/* Pairs with the acquire load of `slots` in the readers. */
	RS_DEBUG_YIELD_POINT();
	atomic_store_explicit(&t->slots, sl, memory_order_release);
	t->dead = 0;
	rs__retire(rl, &old->retire, slots_free);
	return 0;
}

int rs__table_reserve(rs__table *t, size_t extra, rs__retire_list *rl)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	size_t cap = sl->mask + 1;
	size_t need = t->live + extra;

	if ((need + t->dead) * 4 <= cap * 3)
		return 0;
	/* Grow until live keys fill at most half; unlinked slots go away. */
	while (need * 2 > cap) {
		if (cap > ((size_t)1 << 40))
			return RS_ENOMEM;
		cap *= 2;
	}
	return table_resize(t, cap, rl);
}

void rs__table_insert(rs__table *t, rs__node *n)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	size_t i = slot_place(sl, n, true);

	if (atomic_load_explicit(&sl->s[i].node, memory_order_relaxed) ==
	    RS__SLOT_UNLINKED)
		t->dead--;
	t->live++;
	/* Pairs with the acquire loads of slots in rs__table_find(). */
	slot_set(&sl->s[i], n, memory_order_release);
}

static void table_unlink(rs__table *t, rs__node *n, rs__retire_list *rl)
{
	rs__slots *sl = atomic_load_explicit(&t->slots, memory_order_relaxed);
	size_t i = (size_t)n->hash & sl->mask;

	while (atomic_load_explicit(&sl->s[i].node, memory_order_relaxed) != n)
		i = (i + 1) & sl->mask;
	/* The hash stays: probes skip the marker by its pointer. */
	atomic_store_explicit(&sl->s[i].node, RS__SLOT_UNLINKED,
			      memory_order_release);
	t->live--;
	t->dead++;
	rs__retire(rl, &n->retire, node_free);
}

bool rs__table_prune(rs__table *t, rs__node *n, uint64_t min_snap,
		     rs__retire_list *rl)
{
	rs__ver *head = atomic_load_explicit(&n->head, memory_order_relaxed);
	rs__ver *keep = head;
	rs__ver *tail;

	/* Same min_snap as the last prune: that one already cut below the
	 * version min_snap sees, and every version pushed since is newer
	 * than the then-visible version >= min_snap, so there is nothing to
	 * cut or unlink. This keeps a commit O(1) while an old snapshot
	 * holds many versions of a hot key. */
	if (min_snap == n->pruned_min)
		return false;
	n->pruned_min = min_snap;
	/* The newest version at or below min_snap is what the oldest
	 * snapshot sees; everything older is invisible to all. */
	while (keep && keep->ver > min_snap)
		keep = atomic_load_explicit(&keep->older, memory_order_relaxed);
	if (!keep)
		return false;
	if (keep == head && (keep->flags & RS__VER_TOMB)) {
		table_unlink(t, n, rl);
		return true;
	}
	tail = atomic_load_explicit(&keep->older, memory_order_relaxed);
	if (!tail)
		return false;
	/* Raise the floor first: a reader that sees the cut sees it too. */
	atomic_store_explicit(&n->floor, keep->ver, memory_order_release);
	RS_DEBUG_YIELD_POINT();
	atomic_store_explicit(&keep->older, NULL, memory_order_release);
	while (tail) {
		rs__ver *older = atomic_load_explicit(&tail->older,
						      memory_order_relaxed);
		rs__retire(rl, &tail->retire, ver_free);
		tail = older;
	}
	return false;
}
