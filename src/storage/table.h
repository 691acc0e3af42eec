/* SPDX-License-Identifier: MIT */
#ifndef RS_STORAGE_TABLE_H
#define RS_STORAGE_TABLE_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "util/alloc.h"
#include "util/rcu.h"

/*
 * One run's key table: open addressing over key nodes, each holding an MVCC
 * version chain (newest first). See table.c for the concurrency contract.
 * Nodes, versions and slot arrays carry no allocator pointer nor retire
 * link: whoever frees them has the table's allocator (retire lists carry
 * it), so a version of a 100-byte value is 24 + 100 bytes (40 + 100
 * with a skip link).
 */

#define RS__VER_TOMB 0x1u
/* A skip link (rs__skip) lies right before the header, in the same
 * allocation: the block starts sizeof(rs__skip) bytes before the version. */
#define RS__VER_SKIP 0x4u
/* The version's place in its chain's skip structure (see "Skip links"
 * below): its own rank k and its link target's rank, one byte each. */
#define RS__VER_K_SHIFT 8u
#define RS__VER_KJ_SHIFT 16u

/*
 * Where a chain link leads (a node's `head`, a version's `older`, a skip
 * link's `to`): 0, the end of the chain; a heap version's address (even);
 * or, odd, the node's own first version, stored inside the node without a
 * header of its own: (its commit version << 1) | 1, its length and
 * tombstone bit in the node (rs__node.first, .first_len). That version is
 * always the chain's oldest, so nothing leads on from it. Commit versions
 * stay below 2^63 (RS__VERSION_MAX), so the shift loses nothing.
 */
typedef uintptr_t rs__vref;

static inline rs__vref rs__vref_first(uint64_t ver)
{
	return (rs__vref)ver << 1 | 1u;
}

static inline bool rs__vref_is_first(rs__vref r)
{
	return r & 1u;
}

typedef struct rs__ver {
	_Atomic rs__vref older; /* the next older version, or 0 */
	uint64_t ver;		/* commit version of the run */
	uint32_t len;
	uint32_t flags; /* RS__VER_*, and the ranks */
	unsigned char data[];
} rs__ver;

/*
 * Skip links: a long-lived snapshot reads under many newer versions of a
 * key, and walking them one by one made its reads O(newer commits). So
 * the versions of a chain carry the jump pointers of Myers' skew-binary
 * random-access lists (E. W. Myers, "An applicative random-access
 * stack", 1983): a version of rank k >= 1 links to the version 2^k - 1
 * places older (rank 1: its `older`, no extra field); a new version gets
 * rank k + 1 and the link of its parent's link when its parent (rank k)
 * and its parent's link target have the same rank, else rank 1. A search
 * for the newest version at or below a snapshot takes a link whenever
 * its target is still newer than the snapshot, else steps to `older`:
 * O(log n) versions for n newer versions, and insertion stays O(1).
 *
 * Only versions of rank >= 2 store a link (about half of a deep chain;
 * almost none of a pruned one), in front of their header, so a version's
 * data stays where it was and the newest-version read is unchanged.
 *
 * Pruning cuts a chain at its old end, so a link may point at a version
 * that is freed. A link records its target's commit version, and readers
 * follow one only when that is newer than their snapshot: such a version
 * is never pruned while a pinned snapshot reads (prunes keep everything
 * newer than their min_snap, which is at most any pinned snapshot), and
 * an unpinned reader loaded its snapshot inside its read-side section,
 * so every version freed before the section began is older than it
 * (table.c has the argument). The writer, under the commit lock, reads
 * a link target only when its version is above the table's floor (never
 * cut) or it is reached through `older` (0 once cut); when it cannot,
 * the new version becomes a root of rank 0, under which the structure
 * starts afresh (rs__ver_new_on).
 */
typedef struct rs__skip {
	rs__vref to;  /* 2^k - 1 versions older */
	uint64_t ver; /* its commit version */
} rs__skip;

static inline const rs__skip *rs__ver_skip(const rs__ver *v)
{
	return (const rs__skip *)(const void *)v - 1;
}

static inline unsigned rs__ver_rank(const rs__ver *v)
{
	return (v->flags >> RS__VER_K_SHIFT) & 0xffu;
}

static inline unsigned rs__ver_link_rank(const rs__ver *v)
{
	return (v->flags >> RS__VER_KJ_SHIFT) & 0xffu;
}

/* Most levels of a node's tower in the ordered index (storage/index.h). */
#define RS__INDEX_MAX_HEIGHT 16u
/* A first version up to this long is stored inside its node. */
#define RS__VER_INLINE_MAX 256u

/*
 * A key node. What a lookup, an index search and a step read comes first
 * and together (the key's length, tag and tower height, the newest
 * version, the tower, the key), so a node costs one or two adjacent cache
 * lines, not two scattered ones; behind the key lie, for a small first
 * value, that version's bytes (its commit version is in the link that
 * leads to it, rs__vref): one allocation per new key, and a step through
 * the index reaches the value without another miss. A 16-byte key and a
 * 100-byte value make 140 + 8 bytes a level, jemalloc's 160-byte class
 * up to two levels (15 nodes in 16). The price: a key overwritten after
 * its first value keeps that value's bytes until the node is freed (at
 * most RS__VER_INLINE_MAX).
 */
/* rs__node.first: the node holds its first version (its bytes behind
 * the key), and that version is a tombstone. */
#define RS__FIRST_INLINE 0x1u
#define RS__FIRST_TOMB 0x2u

typedef struct rs__node {
	uint16_t klen;
	uint8_t tag;
	uint8_t height; /* levels in the index tower, 1..RS__INDEX_MAX_HEIGHT */
	bool pending;	/* on its run's pending-prune list (writer-only) */
	uint8_t first;	/* RS__FIRST_*, set before the node is published */
	uint16_t first_len;    /* the inline first version's length */
	_Atomic rs__vref head; /* newest version; never 0 once linked */
	/* The ordered index (storage/index.c): the level-0 predecessor and
	 * `height` successors; then the key's klen bytes (rs__node_key) and,
	 * maybe, the first version's bytes (8-aligned behind the key). */
	struct rs__node *_Atomic prev;
	struct rs__node *_Atomic next[];
} rs__node;

_Static_assert(RS__VER_INLINE_MAX <= UINT16_MAX, "first_len holds it");
/* The longest key a node holds (rs__node_new refuses longer ones). */
#define RS__NODE_KEY_MAX UINT16_MAX

/* The key bytes, stored behind the tower. */
static inline const unsigned char *rs__node_key(const rs__node *n)
{
	return (const unsigned char *)(n->next + n->height);
}

/* Bytes of a node up to its inline version, 8-aligned behind the key. */
static inline size_t rs__node_size(unsigned height, size_t klen)
{
	return (offsetof(rs__node, next) + height * sizeof(void *) + klen + 7) &
	       ~(size_t)7;
}

/* The bytes of n's inline first version, behind the key. */
static inline const unsigned char *rs__node_first_data(const rs__node *n)
{
	return (const unsigned char *)n + rs__node_size(n->height, n->klen);
}

/* The heap version r leads to (r neither 0 nor a first version). */
static inline const rs__ver *rs__vref_heap(rs__vref r)
{
	assert(r && !rs__vref_is_first(r));
	return (const rs__ver *)r;
}

/* The commit version of what r leads to (r not 0). */
static inline uint64_t rs__vref_ver(rs__vref r)
{
	return rs__vref_is_first(r) ? (uint64_t)(r >> 1)
				    : rs__vref_heap(r)->ver;
}

/* Whether the version r of n is a tombstone. */
static inline bool rs__vref_tomb(const rs__node *n, rs__vref r)
{
	return rs__vref_is_first(r)
		       ? (n->first & RS__FIRST_TOMB) != 0
		       : (rs__vref_heap(r)->flags & RS__VER_TOMB) != 0;
}

/* The value of the version r of n: false for a tombstone, else true with
 * *out a view of its bytes (as long as the version lives). */
static inline bool rs__vref_value(const rs__node *n, rs__vref r, rs_bytes *out)
{
	if (rs__vref_is_first(r)) {
		if (n->first & RS__FIRST_TOMB)
			return false;
		out->data = rs__node_first_data(n);
		out->len = n->first_len;
		return true;
	}
	const rs__ver *v = rs__vref_heap(r);

	if (v->flags & RS__VER_TOMB)
		return false;
	out->data = v->data;
	out->len = v->len;
	return true;
}

/* The next older version of r: 0 after a first version (the oldest). */
static inline rs__vref rs__vref_older(rs__vref r)
{
	return rs__vref_is_first(r)
		       ? 0
		       : atomic_load_explicit(&rs__vref_heap(r)->older,
					      memory_order_acquire);
}

/*
 * A slot is one word: its node's address in the low RS__SLOT_ADDR_BITS
 * bits and the top 16 bits of the key's hash above them (the slot's tag),
 * so a probe compares tags in the array and dereferences a node only on a
 * tag match (an insert of a new key, which probes for it first, touches a
 * node about once in 65,536 occupied slots it passes). An array costs 8
 * bytes a slot, half of a pointer and a hash side by side. No full hash
 * is kept anywhere (a node does not keep one: 8 bytes took a two-level
 * node of a 16-byte key and a 100-byte value past jemalloc's 192-byte
 * class): the writer passes a key's hash to insert and prune, and a
 * rehash computes it again from the node's key (rs__table.node_hash). The
 * word is published with release and read with acquire, address and tag
 * at once; a match is then confirmed on the node's tag and key bytes.
 *
 * User-space addresses on x86-64 and AArch64 Linux lie below 2^47 and
 * 2^48 unless a mapping is asked for above; a node the allocator places
 * higher is refused as out of memory (node_alloc), never truncated.
 */
#define RS__SLOT_ADDR_BITS 48u
#define RS__SLOT_ADDR_MASK (((uintptr_t)1 << RS__SLOT_ADDR_BITS) - 1)
_Static_assert(sizeof(uintptr_t) == 8, "a slot packs a tag with a pointer");

typedef struct rs__slot {
	_Atomic uintptr_t w; /* 0: free; else node address | tag */
} rs__slot;

/* The slot tag of a hash, in place: the hash's top 16 bits. */
static inline uintptr_t rs__slot_tag(uint64_t hash)
{
	return (uintptr_t)hash & ~RS__SLOT_ADDR_MASK;
}

static inline rs__node *rs__slot_node(uintptr_t w)
{
	return (rs__node *)(w & RS__SLOT_ADDR_MASK);
}

typedef struct rs__slots {
	size_t mask;
	/* While this array is being filled from the one it replaces (an
	 * incremental rehash, table.c): that array, intact; NULL once every
	 * node is here too. Set before the array is published, cleared
	 * with release once the last node is moved; readers load it with
	 * acquire before probing this array. */
	struct rs__slots *_Atomic old;
	/* The mask + 1 slots, a block of their own: exactly a power of two
	 * times 8 bytes, an allocator size class (a header in the same
	 * block made jemalloc round 4 MiB + 16 up to 5 MiB). Readers load
	 * it beside the mask, from the same cache line. */
	rs__slot *s;
} rs__slots;

typedef struct rs__table rs__table;
/* The hash a node was inserted under, from its tag and key. */
typedef uint64_t (*rs__table_hash_fn)(const rs__table *t, const rs__node *n);

struct rs__table {
	rs__slots *_Atomic slots; /* the current array */
	/* Writer-only (under the commit lock): */
	size_t live;  /* linked nodes, wherever they sit */
	size_t nodes; /* slots of the current array holding a node */
	size_t dead;  /* slots of the current array holding the marker */
	size_t mig;   /* next slot of slots->old to move (rehashing) */
	/* For tests: old slots the last rs__table_reserve() moved, rehashes
	 * started, and rehashes finished at once because the pace had not
	 * (never, by the argument in table.c). */
	size_t moved;
	uint64_t rehashes;
	uint64_t forced;
	/*
	 * The largest min_snap any rs__table_prune() ran at, raised before
	 * it cuts: every snapshot at or after it finds its version in every
	 * chain. A walk that runs off a chain's end at an older snapshot
	 * cannot tell "absent" from "pruned"; only unpinned fast-path
	 * readers hold such a snapshot, and they retry at a newer one. (One
	 * word for the table, not one a node: 8 bytes took a two-level node
	 * of a 16-byte key and a 100-byte value out of jemalloc's 160-byte
	 * class.)
	 */
	_Atomic uint64_t floor;
	const rs__alloc *alloc;
	/* The keys' hash: rs__hash_key() with `seed` (rs__table_init; the
	 * tests set their own). A rehash calls it for every node it moves,
	 * as slots keep only a tag. */
	rs__table_hash_fn node_hash;
	uint64_t seed;
};

/* The marker left in a slot whose node was unlinked: probing continues. */
extern rs__node rs__table_unlinked;
#define RS__SLOT_UNLINKED (&rs__table_unlinked)

/* seed: the one the caller hashes keys with (rs__hash_key). */
int rs__table_init(rs__table *t, const rs__alloc *a, size_t cap_hint,
		   uint64_t seed);
/* Free everything now. Only when no reader can exist (close). */
void rs__table_destroy(rs__table *t);

/* ---- readers: inside an RCU read-side section ---- */

/* The node holds (tag, key). Its hash's slot tag is compared in the slot
 * (a node does not keep its hash; the writer passes it). */
static inline bool rs__node_matches(const rs__node *n, uint8_t tag,
				    const void *key, size_t klen)
{
	return n->tag == tag && n->klen == klen &&
	       __builtin_memcmp(rs__node_key(n), key, klen) == 0;
}

static inline rs__node *rs__slots_find(const rs__slots *sl, uint8_t tag,
				       const void *key, size_t klen,
				       uint64_t hash)
{
	/* In locals: the acquire loads below would make the compiler load
	 * the array's fields again at every probe. */
	const size_t mask = sl->mask;
	const rs__slot *s = sl->s;
	const uintptr_t htag = rs__slot_tag(hash);
	size_t i = (size_t)hash & mask;

	/* Every array keeps a free slot (table.c, "Termination"): debug
	 * builds check that no probe goes round. */
	for (size_t probes = 0;; probes++) {
		uintptr_t w =
			atomic_load_explicit(&s[i].w, memory_order_acquire);

		assert(probes <= mask);
		if (!w)
			return NULL;
		/* The marker's word has tag 0: it is skipped by its address. */
		if ((w & ~RS__SLOT_ADDR_MASK) == htag) {
			rs__node *n = rs__slot_node(w);

			if (n != RS__SLOT_UNLINKED &&
			    rs__node_matches(n, tag, key, klen))
				return n;
		}
		i = (i + 1) & mask;
	}
}

/* A linked node: in the current array, else (rehashing) in the old one.
 * `old` is loaded before the current array is probed: see table.c. */
static inline rs__node *rs__table_find(const rs__table *t, uint8_t tag,
				       const void *key, size_t klen,
				       uint64_t hash)
{
	const rs__slots *sl =
		atomic_load_explicit(&t->slots, memory_order_acquire);
	/* Pairs with the release store of NULL when the rehash ends. */
	const rs__slots *old =
		atomic_load_explicit(&sl->old, memory_order_acquire);
	rs__node *n = rs__slots_find(sl, tag, key, klen, hash);

	if (n || !old)
		return n;
	return rs__slots_find(old, tag, key, klen, hash);
}

/*
 * One step down a chain from `v`, which is newer than `snap`, towards the
 * newest version at or below snap: its skip link when the target is still
 * newer than snap, else `older`. Readers: inside a read-side section, with
 * snap pinned or loaded inside the section; writers: under the commit
 * lock, with snap at or above the table's floor.
 */
static inline rs__vref rs__ver_toward(const rs__ver *v, uint64_t snap)
{
	if ((v->flags & RS__VER_SKIP) && rs__ver_skip(v)->ver > snap)
		return rs__ver_skip(v)->to;
	return atomic_load_explicit(&v->older, memory_order_acquire);
}

/* The most versions rs__chain_seek() looks at for a snapshot under
 * `newer` newer versions when no root lies between (3 log2(newer + 2) + 3,
 * log rounded up); with one root in between (the most a pinned snapshot
 * can have, docs/engine.md), twice that. The tests check it. */
static inline size_t rs__chain_seek_bound(uint64_t newer)
{
	unsigned l = 0;

	while (l < 64 && ((uint64_t)1 << l) < newer + 2)
		l++;
	return 3 * (size_t)l + 3;
}

/* From `r` down its chain, the newest version at or below `snap` (0 when
 * the chain ends first); *visits, when not NULL, counts the versions
 * looked at (the tests bound it). */
static inline rs__vref rs__chain_seek(rs__vref r, uint64_t snap, size_t *visits)
{
	while (r) {
		if (visits)
			++*visits;
		if (rs__vref_ver(r) <= snap)
			return r;
		if (rs__vref_is_first(r)) /* the oldest: nothing below */
			return 0;
		r = rs__ver_toward(rs__vref_heap(r), snap);
	}
	return 0;
}

/* rs__chain_seek() from a node's head, already loaded, out of line
 * (table.c): so the newest-version read below stays as short as it was
 * without links. */
rs__vref rs__node_seek(rs__vref head, uint64_t snap);
#ifndef NDEBUG
/* Debug builds: versions rs__node_seek() looked at on this thread, ever
 * (the tests bound a deep snapshot read with it). */
extern _Thread_local size_t rs__node_seek_visits;
#endif

/*
 * The value of `n` a snapshot at `snap` sees: true with *out its view;
 * false when the key is absent at snap (a tombstone, or no version at or
 * below snap). *ended is set in the second case: the chain ended above
 * snap, which means "absent" to a pinned reader but "unknown" to an
 * unpinned one whose snap lies below the table's floor (the chain was
 * pruned below it; rs__table_pruned_at()). Cost: O(log n) versions for
 * n versions of the key newer than snap (skip links, above); one for the
 * newest.
 */
static inline bool rs__node_visible(const rs__node *n, uint64_t snap,
				    rs_bytes *out, bool *ended)
{
	rs__vref r = atomic_load_explicit(&n->head, memory_order_acquire);

	*ended = false;
	if (__builtin_expect(r && rs__vref_ver(r) <= snap, 1))
		return rs__vref_value(n, r, out);
	/* A first version newer than snap has nothing below it. */
	if (r && !rs__vref_is_first(r) && (r = rs__node_seek(r, snap)) != 0)
		return rs__vref_value(n, r, out);
	*ended = true;
	return false;
}

/* Whether a walk at `snap` that ran off a chain's end (rs__node_visible's
 * *ended) may have missed a pruned version: snap below the floor. */
static inline bool rs__table_pruned_at(const rs__table *t, uint64_t snap)
{
	return snap < atomic_load_explicit(&t->floor, memory_order_acquire);
}

/* Newest version number of a node (0 when it has none). */
static inline uint64_t rs__node_newest(const rs__node *n)
{
	rs__vref r = atomic_load_explicit(&n->head, memory_order_acquire);
	return r ? rs__vref_ver(r) : 0;
}

/* Calls fn for every linked node; stops at and returns fn's nonzero.
 * (Walks every slot: the tests check the table's contents with it; the
 * library walks the ordered index instead.) */
int rs__table_foreach(const rs__table *t,
		      int (*fn)(const rs__node *n, void *ctx), void *ctx);

/* ---- writers: under the owner's commit lock ---- */

/*
 * What the writer functions below retire onto `rl`, at most: a reserve,
 * RS__TABLE_RESERVE_RETIRES entries (slot arrays); a prune, one (a cut
 * chain tail or an unlinked node, whatever its length). The caller
 * reserves that room on `rl` first (rs__retire_reserve).
 */
#define RS__TABLE_RESERVE_RETIRES 2u

/* Make room for `extra` more nodes without allocating on insert, and
 * move a bounded share of a rehash in progress: at most
 * rs__table_rehash_budget(extra) old slots (t->moved says how many). A
 * slot array the rehash is done with goes onto `rl`. */
int rs__table_reserve(rs__table *t, size_t extra, rs__retire_list *rl);
/* Whether a rehash is under way (writer-only): reserve() then has work
 * even for a commit without new keys. */
static inline bool rs__table_rehashing(const rs__table *t)
{
	const rs__slots *sl =
		atomic_load_explicit(&t->slots, memory_order_relaxed);

	return atomic_load_explicit(&sl->old, memory_order_relaxed) != NULL;
}
#define RS__TABLE_REHASH_MIN 64u
static inline size_t rs__table_rehash_budget(size_t extra)
{
	if (extra > SIZE_MAX / 4)
		return SIZE_MAX;
	return extra > RS__TABLE_REHASH_MIN / 4 ? 4 * extra
						: RS__TABLE_REHASH_MIN;
}
/* A node with a random tower height (1 + geometric, p = 1/4). */
rs__node *rs__node_new(const rs__alloc *a, uint8_t tag, const void *key,
		       size_t klen);
/* The same with its first version's bytes inside (len at most
 * RS__VER_INLINE_MAX; a tombstone when `tomb`): published by
 * rs__node_push_first() with its commit version. */
rs__node *rs__node_new_with(const rs__alloc *a, uint8_t tag, const void *key,
			    size_t klen, const void *val, size_t len,
			    bool tomb);
/* A node of the given height (the index's head sentinel: the most). */
rs__node *rs__node_new_height(const rs__alloc *a, uint8_t tag, const void *key,
			      size_t klen, unsigned height);
rs__ver *rs__ver_new(const rs__alloc *a, const void *val, size_t len,
		     uint32_t flags);
/* The same for the next version of `n` (NULL: a new node's first) of
 * table t (its allocator), with its skip rank and, when it needs one, its
 * skip link set from n's current head and t's floor: it must be pushed
 * onto n before anything else is pushed or pruned there (writer). A
 * version from rs__ver_new() is a root (rank 0): correct, but reads under
 * it walk one by one. */
rs__ver *rs__ver_new_on(const rs__table *t, const rs__node *n, const void *val,
			size_t len, uint32_t flags);
/* Free objects never published (no reader can hold them), with the
 * allocator they came from (objects do not record it). */
void rs__node_free_unpublished(const rs__alloc *a, rs__node *n);
void rs__ver_free_unpublished(const rs__alloc *a, rs__ver *v);
/* Link a node with its first version already pushed, under its key's
 * hash (node_hash of the node; neither slot nor node keeps it); needs a
 * reserve. */
void rs__table_insert(rs__table *t, rs__node *n, uint64_t hash);
/* Publish `v` (its ver already set) as the newest version of `n`. */
static inline void rs__node_push(rs__node *n, rs__ver *v)
{
	atomic_store_explicit(
		&v->older, atomic_load_explicit(&n->head, memory_order_relaxed),
		memory_order_relaxed);
	/* Pairs with the acquire loads of head in the readers. */
	atomic_store_explicit(&n->head, (rs__vref)v, memory_order_release);
}
/* Publish the inline first version of a node from rs__node_new_with(),
 * committed at `ver` (below 2^63), as its only version. */
static inline void rs__node_push_first(rs__node *n, uint64_t ver)
{
	assert((n->first & RS__FIRST_INLINE) && ver >> 63 == 0 &&
	       !atomic_load_explicit(&n->head, memory_order_relaxed));
	atomic_store_explicit(&n->head, rs__vref_first(ver),
			      memory_order_release);
}
/*
 * Drop the versions of `n` that no snapshot at or after `min_snap` can see;
 * unlink and retire the node when all it has left is a tombstone no such
 * snapshot can see past (then true: the caller unlinks it from its other
 * structures before the retired list is flushed). What is cut or unlinked
 * goes onto `rl`. `hash` is the one n was inserted under (it finds n's
 * slot to unlink).
 */
bool rs__table_prune(rs__table *t, rs__node *n, uint64_t hash,
		     uint64_t min_snap, rs__retire_list *rl);

#endif
