/* SPDX-License-Identifier: MIT */
/*
 * The raw key table (storage/table.c): open addressing with unlink
 * markers, MVCC chains, pruning. Hashes are chosen by the test, so
 * collisions are crafted by passing the same hash for different keys; the
 * table's node_hash (which a rehash asks, as slots keep only a tag) answers
 * from the fixture's record of what each node was inserted under.
 */
#include "common/rs_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage/table.h"
#include "util/alloc.h"
#include "util/rcu.h"

typedef struct tfx {
	rs_test_alloc ta;
	rs__alloc alloc;
	rs__table t;
	rs__retire_list rl;
	/* Node address -> the hash the test inserted it under (open
	 * addressing, never more than half full; a freed node's address
	 * reused by a new node takes the new hash). */
	uintptr_t *hk;
	uint64_t *hv;
	size_t hcap, hn;
} tfx;

static size_t hslot(const tfx *f, uintptr_t k)
{
	size_t i = (size_t)((k >> 4) * 0x9e3779b97f4a7c15ull) & (f->hcap - 1);

	while (f->hk[i] && f->hk[i] != k)
		i = (i + 1) & (f->hcap - 1);
	return i;
}

static void hash_record(tfx *f, const rs__node *n, uint64_t hash)
{
	size_t i;

	if ((f->hn + 1) * 2 > f->hcap) {
		uintptr_t *ok = f->hk;
		uint64_t *ov = f->hv;
		size_t ocap = f->hcap;

		f->hcap = ocap ? 2 * ocap : 1024;
		f->hk = calloc(f->hcap, sizeof(*f->hk));
		f->hv = calloc(f->hcap, sizeof(*f->hv));
		assert_non_null(f->hk);
		assert_non_null(f->hv);
		f->hn = 0;
		for (size_t j = 0; j < ocap; j++)
			if (ok[j]) {
				i = hslot(f, ok[j]);
				f->hk[i] = ok[j];
				f->hv[i] = ov[j];
				f->hn++;
			}
		free(ok);
		free(ov);
	}
	i = hslot(f, (uintptr_t)n);
	if (!f->hk[i]) {
		f->hk[i] = (uintptr_t)n;
		f->hn++;
	}
	f->hv[i] = hash;
}

/* The hash the test inserted n under. */
static uint64_t hash_of(const tfx *f, const rs__node *n)
{
	size_t i = hslot(f, (uintptr_t)n);

	if (!f->hk[i])
		fail_msg("node %p was never inserted", (const void *)n);
	return f->hv[i];
}

static uint64_t fixture_hash(const rs__table *t, const rs__node *n)
{
	return hash_of(rs__container_of(t, tfx, t), n);
}

/* rs__table_insert() under `hash`, recorded for node_hash. */
static void tinsert(tfx *f, rs__node *n, uint64_t hash)
{
	hash_record(f, n, hash);
	rs__table_insert(&f->t, n, hash);
}

static int setup(void **state)
{
	tfx *f = calloc(1, sizeof(*f));
	rs_allocator hooks;

	if (!f)
		return -1;
	rs__rcu_thread_ensure();
	rs_test_alloc_init(&f->ta, &hooks);
	if (rs__alloc_init(&f->alloc, &hooks) != 0 ||
	    rs__table_init(&f->t, &f->alloc, 0, 0) != 0)
		return -1;
	f->t.node_hash = fixture_hash;
	/* More room than any test retires between two flushes. */
	rs__retire_list_init(&f->rl, &f->alloc, 0);
	if (rs__retire_reserve(&f->rl, RS__RETIRE_BATCH) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	tfx *f = *state;
	int bad;

	rs__table_destroy(&f->t);
	rs__retire_flush(&f->rl); /* pruned versions and unlinked nodes */
	rs__retire_list_fini(&f->rl);
	free(f->hk);
	free(f->hv);
	bad = atomic_load(&f->ta.live_blocks) != 0;
	if (bad)
		fprintf(stderr, "table teardown: %lld blocks leaked\n",
			(long long)atomic_load(&f->ta.live_blocks));
	free(f);
	return bad ? -1 : 0;
}

/* A version at `ver`; tomb when val is NULL. */
static rs__ver *mkver(tfx *f, uint64_t ver, const char *val)
{
	rs__ver *v = rs__ver_new(&f->alloc, val ? val : "",
				 val ? strlen(val) : 0, val ? 0 : RS__VER_TOMB);

	assert_non_null(v);
	v->ver = ver;
	return v;
}

/* Insert a node with one first version. */
static rs__node *insert(tfx *f, uint8_t tag, const char *key, size_t klen,
			uint64_t hash, uint64_t ver, const char *val)
{
	rs__node *n = rs__node_new(&f->alloc, tag, key, klen);

	assert_non_null(n);
	rs__node_push(n, mkver(f, ver, val));
	assert_int_equal(rs__table_reserve(&f->t, 1, &f->rl), 0);
	tinsert(f, n, hash);
	return n;
}

/* Insert a node holding its first version (rs__node_new_with, as the
 * store makes new keys); tomb when val is NULL. */
static rs__node *insert_inline(tfx *f, uint8_t tag, const char *key,
			       size_t klen, uint64_t hash, uint64_t ver,
			       const char *val)
{
	rs__node *n =
		rs__node_new_with(&f->alloc, tag, key, klen, val ? val : "",
				  val ? strlen(val) : 0, val == NULL);

	assert_non_null(n);
	rs__node_push_first(n, ver);
	assert_int_equal(rs__table_reserve(&f->t, 1, &f->rl), 0);
	tinsert(f, n, hash);
	return n;
}

/* rs__table_prune() of a linked node, under the hash it was inserted with. */
static bool prune(tfx *f, rs__node *n, uint64_t min_snap)
{
	return rs__table_prune(&f->t, n, hash_of(f, n), min_snap, &f->rl);
}

/* Blocks freed by a prune of n at min_snap, once its grace period is
 * over (what earlier calls retired is freed first). */
static int64_t prune_frees(tfx *f, rs__node *n, uint64_t min_snap)
{
	int64_t before;

	rs__retire_flush(&f->rl);
	before = atomic_load(&f->ta.live_blocks);
	prune(f, n, min_snap);
	rs__retire_flush(&f->rl);
	return before - atomic_load(&f->ta.live_blocks);
}

static rs__node *find(tfx *f, uint8_t tag, const char *key, size_t klen,
		      uint64_t hash)
{
	rs__node *n;

	rs__rcu_read_lock();
	n = rs__table_find(&f->t, tag, key, klen, hash);
	rs__rcu_read_unlock();
	return n;
}

/* The value a snapshot at `snap` reads from n of f's table: NULL absent,
 * "?" pruned (the chain ended above snap, which lies below the floor). */
static const char *visible(const tfx *f, const rs__node *n, uint64_t snap,
			   char *buf)
{
	bool ended = false;
	rs_bytes v;

	if (rs__node_visible(n, snap, &v, &ended)) {
		assert_false(ended);
		assert_true(v.len < 64);
		memcpy(buf, v.data, v.len);
		buf[v.len] = '\0';
		return buf;
	}
	return ended && rs__table_pruned_at(&f->t, snap) ? "?" : NULL;
}

#define assert_visible(n, snap, want)                           \
	do {                                                    \
		char b_[64];                                    \
		const char *got_ = visible(f, (n), (snap), b_); \
		const char *want_ = (want);                     \
		if (!want_)                                     \
			assert_null(got_);                      \
		else {                                          \
			assert_non_null(got_);                  \
			assert_string_equal(got_, want_);       \
		}                                               \
	} while (0)

static size_t chain_len(const rs__node *n)
{
	size_t len = 0;

	for (rs__vref v = atomic_load(&n->head); v; v = rs__vref_older(v))
		len++;
	return len;
}

static int count_cb(const rs__node *n, void *ctx)
{
	(void)n;
	(*(size_t *)ctx)++;
	return 0;
}

static size_t capacity(const tfx *f)
{
	return atomic_load(&f->t.slots)->mask + 1;
}

static void table__insert_find_and_grow_with_many_keys(void **state)
{
	tfx *f = *state;
	enum {
		N = 5000
	};
	char k[32];
	size_t seen = 0;
	uint64_t seed = 1;

	assert_int_equal(f->t.live, 0);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key-%d", i);
		insert(f, 1, k, strlen(k), rs_t_rand(&seed), 1, k);
	}
	assert_int_equal(f->t.live, N);
	/* Load factor kept: at most 3/4, so probes terminate. */
	assert_true((f->t.live + f->t.dead) * 4 <= capacity(f) * 3);
	seed = 1;
	for (int i = 0; i < N; i++) {
		uint64_t h = rs_t_rand(&seed);
		rs__node *n;

		snprintf(k, sizeof(k), "key-%d", i);
		n = find(f, 1, k, strlen(k), h);
		assert_non_null(n);
		assert_int_equal(n->klen, strlen(k));
		assert_memory_equal(rs__node_key(n), k, n->klen);
		assert_visible(n, 1, k);
		assert_visible(n, 0, NULL);
		/* Same key, another tag, or a hash of another slot tag (its
		 * top 16 bits; the probe starts where h's does): not found. */
		assert_null(find(f, 2, k, strlen(k), h));
		assert_null(find(f, 1, k, strlen(k), h ^ ((uint64_t)1 << 63)));
	}
	assert_null(find(f, 1, "key-", 4, 12345));
	assert_int_equal(rs__table_foreach(&f->t, count_cb, &seen), 0);
	assert_int_equal(seen, N);
}

static void table__colliding_hashes_stay_distinct(void **state)
{
	tfx *f = *state;
	enum {
		N = 300,
		H = 0x5555
	};
	char k[32];

	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "c%d", i);
		insert(f, 1, k, strlen(k), H, 1, k);
	}
	/* Same bytes and hash under another tag; a key that is a prefix of
	 * another ("c1" vs "c10") with the same hash. */
	insert(f, 3, "c7", 2, H, 1, "tag3");
	for (int i = 0; i < N; i++) {
		rs__node *n;

		snprintf(k, sizeof(k), "c%d", i);
		n = find(f, 1, k, strlen(k), H);
		assert_non_null(n);
		assert_visible(n, 1, k);
	}
	assert_visible(find(f, 3, "c7", 2, H), 1, "tag3");
	assert_null(find(f, 2, "c7", 2, H));
	assert_null(find(f, 1, "c", 1, H));
	assert_null(find(f, 1, "c1000", 5, H));
	assert_int_equal(f->t.live, N + 1);
}

static void table__prune_keeps_what_min_snap_sees(void **state)
{
	tfx *f = *state;
	rs__node *n = insert(f, 1, "k", 1, 99, 1, "v1");
	int64_t blocks;

	rs__node_push(n, mkver(f, 3, "v3"));
	rs__node_push(n, mkver(f, 5, "v5"));
	rs__node_push(n, mkver(f, 7, "v7"));
	assert_int_equal(chain_len(n), 4);
	rs__retire_flush(&f->rl);
	blocks = atomic_load(&f->ta.live_blocks);

	/* Below every version: nothing to cut. */
	prune(f, n, 0);
	assert_int_equal(chain_len(n), 4);
	/* min_snap 1: the oldest is what it sees; nothing older. */
	prune(f, n, 1);
	assert_int_equal(chain_len(n), 4);
	/* The floor is the last prune's min_snap, cut or not. */
	assert_int_equal(atomic_load(&f->t.floor), 1);

	/* min_snap 4 sees v3: v1 goes, the floor rises to 4. */
	prune(f, n, 4);
	assert_int_equal(chain_len(n), 3);
	assert_int_equal(atomic_load(&f->t.floor), 4);
	assert_visible(n, 4, "v3");
	assert_visible(n, 3, "v3");
	assert_visible(n, 6, "v5");
	assert_visible(n, 100, "v7");
	assert_visible(n, 2, "?"); /* below the floor: unknown, not absent */
	rs__retire_flush(&f->rl);
	assert_int_equal(atomic_load(&f->ta.live_blocks), blocks - 1);

	/* min_snap 7: only the head is left. */
	prune(f, n, 7);
	assert_int_equal(chain_len(n), 1);
	assert_int_equal(atomic_load(&f->t.floor), 7);
	assert_visible(n, 7, "v7");
	assert_visible(n, 6, "?");
	rs__retire_flush(&f->rl);
	assert_int_equal(atomic_load(&f->ta.live_blocks), blocks - 3);
	assert_ptr_equal(find(f, 1, "k", 1, 99), n); /* still linked */

	/* A tombstone in the middle is cut like any version. */
	rs__node_push(n, mkver(f, 8, NULL));
	rs__node_push(n, mkver(f, 9, "v9"));
	assert_visible(n, 8, NULL);
	prune(f, n, 9);
	assert_int_equal(chain_len(n), 1);
	assert_visible(n, 9, "v9");
	assert_visible(n, 8, "?");
}

static void table__prune_at_unchanged_min_snap_is_a_no_op(void **state)
{
	tfx *f = *state;
	rs__node *n = insert(f, 1, "k", 1, 5, 1, "v1");

	rs__node_push(n, mkver(f, 2, "v2"));
	prune(f, n, 1); /* a snapshot at 1 is held */
	assert_int_equal(chain_len(n), 2);
	/* More versions while the snapshot is still the oldest. */
	for (uint64_t v = 3; v <= 50; v++) {
		rs__node_push(n, mkver(f, v, "vx"));
		prune(f, n, 1);
	}
	assert_int_equal(chain_len(n), 50);
	assert_visible(n, 1, "v1");
	/* The snapshot ends: everything below the newest goes. */
	prune(f, n, 50);
	assert_int_equal(chain_len(n), 1);
	assert_visible(n, 50, "vx");
}

/*
 * A first version kept inside its node (rs__node_new_with): its commit
 * version lives in the link that leads to it, so reads, pushes onto it,
 * prunes that cut it off and frees must all tell it from a heap version;
 * it is freed with the node, never alone (ASan checks the frees).
 */
static void table__inline_first_version_reads_prunes_and_frees(void **state)
{
	tfx *f = *state;
	rs__node *t = insert_inline(f, 1, "t", 1, 11, 2, NULL);
	rs__node *n, *m;
	char big[RS__NODE_KEY_MAX + 1];

	/* A tombstone as the first version: absent at and above it, and
	 * absent (not pruned) below it while the floor is 0. */
	assert_visible(t, 2, NULL);
	assert_visible(t, 1, NULL);
	assert_int_equal(chain_len(t), 1);
	assert_true(rs__vref_tomb(t, atomic_load(&t->head)));
	assert_int_equal(rs__node_newest(t), 2);

	n = insert_inline(f, 1, "k", 1, 12, 1, "v1");
	assert_int_equal(rs__node_newest(n), 1);
	assert_visible(n, 1, "v1");
	assert_visible(n, 0, NULL);
	rs__node_push(n, mkver(f, 3, "v3"));
	rs__node_push(n, mkver(f, 5, "v5"));
	assert_int_equal(chain_len(n), 3);
	assert_visible(n, 2, "v1");
	assert_visible(n, 4, "v3");
	assert_visible(n, 9, "v5");

	/* min_snap 4 sees v3: the first version is cut off, nothing is
	 * retired (its bytes go with the node), and a read below the floor
	 * is unknown, not absent. */
	assert_int_equal(prune_frees(f, n, 4), 0);
	assert_int_equal(chain_len(n), 2);
	assert_visible(n, 4, "v3");
	assert_visible(n, 2, "?");
	assert_int_equal(prune_frees(f, n, 5), 1);
	assert_int_equal(chain_len(n), 1);

	/* A cut tail of heap versions that ends in the first version: only
	 * the heap ones are retired. */
	m = insert_inline(f, 1, "m", 1, 13, 6, "m6");
	rs__node_push(m, mkver(f, 7, "m7"));
	rs__node_push(m, mkver(f, 8, "m8"));
	rs__node_push(m, mkver(f, 9, "m9"));
	assert_int_equal(prune_frees(f, m, 9), 2);
	assert_int_equal(chain_len(m), 1);
	assert_visible(m, 9, "m9");
	assert_visible(m, 7, "?");

	/* The tombstone node goes whole once no snapshot sees below it:
	 * one block, the node. */
	assert_int_equal(prune_frees(f, t, 9), 1);
	assert_null(find(f, 1, "t", 1, 11));

	/* A key a node cannot hold is refused, not truncated. */
	memset(big, 'x', sizeof(big));
	assert_null(rs__node_new(&f->alloc, 1, big, sizeof(big)));
	assert_null(rs__node_new_with(&f->alloc, 1, big, sizeof(big), "v", 1,
				      false));
}

static void table__prune_unlinks_node_when_newest_is_old_tombstone(void **state)
{
	tfx *f = *state;
	rs__node *n = insert(f, 1, "k", 1, 7, 1, "v1");
	rs__node *other = insert(f, 1, "j", 1, 7, 1, "j1"); /* probes past */
	int64_t blocks;

	rs__node_push(n, mkver(f, 2, NULL));
	/* A snapshot at 1 still sees v1: keep everything. */
	prune(f, n, 1);
	assert_int_equal(chain_len(n), 2);
	assert_ptr_equal(find(f, 1, "k", 1, 7), n);
	assert_visible(n, 1, "v1");
	assert_visible(n, 2, NULL);
	rs__retire_flush(&f->rl);
	blocks = atomic_load(&f->ta.live_blocks);

	/* No snapshot below the tombstone: the node goes. */
	prune(f, n, 2);
	assert_null(find(f, 1, "k", 1, 7));
	assert_int_equal(f->t.live, 1);
	assert_int_equal(f->t.dead, 1);
	/* The node sharing its probe chain is still reachable. */
	assert_ptr_equal(find(f, 1, "j", 1, 7), other);
	assert_visible(other, 5, "j1");
	rs__retire_flush(&f->rl);
	/* Node + its two versions freed after the grace period. */
	assert_int_equal(atomic_load(&f->ta.live_blocks), blocks - 3);

	/* A tombstone newer than min_snap is kept (the snapshot sees the
	 * value before it). */
	rs__node_push(other, mkver(f, 3, NULL));
	prune(f, other, 2);
	assert_ptr_equal(find(f, 1, "j", 1, 7), other);
	assert_visible(other, 2, "j1");
}

static void table__unlinked_slots_are_reused(void **state)
{
	tfx *f = *state;
	enum {
		N = 5,
		H = 3
	};
	rs__node *nodes[N];
	char k[8];
	size_t cap;

	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "u%d", i);
		nodes[i] = insert(f, 1, k, strlen(k), H, 1, k);
	}
	cap = capacity(f);
	/* Delete u1 and u3 and unlink them. */
	for (int i = 1; i < N; i += 2) {
		rs__node_push(nodes[i], mkver(f, 2, NULL));
		prune(f, nodes[i], 2);
	}
	assert_int_equal(f->t.live, N - 2);
	assert_int_equal(f->t.dead, 2);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "u%d", i);
		if (i % 2)
			assert_null(find(f, 1, k, strlen(k), H));
		else
			assert_ptr_equal(find(f, 1, k, strlen(k), H), nodes[i]);
	}
	/* New colliding keys take the unlinked slots first. */
	insert(f, 1, "n1", 2, H, 3, "n1");
	assert_int_equal(f->t.dead, 1);
	insert(f, 1, "n2", 2, H, 3, "n2");
	assert_int_equal(f->t.dead, 0);
	assert_int_equal(f->t.live, N);
	assert_int_equal(capacity(f), cap);
	{
		/* The first N slots of the probe chain hold exactly N live
		 * nodes again: the new ones sit where u1 and u3 were. */
		const rs__slots *sl = atomic_load(&f->t.slots);
		for (size_t i = 0; i < N; i++) {
			rs__node *s = rs__slot_node(
				atomic_load(&sl->s[(H + i) & sl->mask].w));
			assert_non_null(s);
			assert_ptr_not_equal(s, RS__SLOT_UNLINKED);
		}
	}
	assert_visible(find(f, 1, "n1", 2, H), 3, "n1");
	assert_visible(find(f, 1, "n2", 2, H), 3, "n2");
	assert_visible(find(f, 1, "u4", 2, H), 3, "u4");
}

static void table__growth_drops_unlinked_markers(void **state)
{
	tfx *f = *state;
	enum {
		N = 400
	};
	rs__node *nodes[N];
	char k[16];
	size_t seen = 0;

	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "g%d", i);
		nodes[i] = insert(f, 1, k, strlen(k), (uint64_t)i * 31, 1, k);
	}
	for (int i = 0; i < N; i++) {
		if (i % 4 == 0)
			continue;
		rs__node_push(nodes[i], mkver(f, 2, NULL));
		prune(f, nodes[i], 2);
	}
	assert_int_equal(f->t.live, N / 4);
	assert_true(f->t.dead > 0);
	/* Insert until a resize happens; markers do not survive it. */
	for (int i = N; f->t.dead != 0 && i < 100 * N; i++) {
		snprintf(k, sizeof(k), "g%d", i);
		insert(f, 1, k, strlen(k), (uint64_t)i * 31, 3, k);
	}
	assert_int_equal(f->t.dead, 0);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "g%d", i);
		if (i % 4 == 0)
			assert_ptr_equal(
				find(f, 1, k, strlen(k), (uint64_t)i * 31),
				nodes[i]);
		else
			assert_null(find(f, 1, k, strlen(k), (uint64_t)i * 31));
	}
	assert_int_equal(rs__table_foreach(&f->t, count_cb, &seen), 0);
	assert_int_equal(seen, f->t.live);
}

/* ---- incremental rehash ---- */

static bool rehashing(const tfx *f)
{
	return atomic_load(&atomic_load(&f->t.slots)->old) != NULL;
}

/* Key i of the growth tests: its 8 bytes, and a well-mixed hash. */
static uint64_t grow_hash(uint64_t i)
{
	uint64_t s = i * 0x9e3779b97f4a7c15ull;

	return rs_t_rand(&s);
}

static rs__node *grow_node(tfx *f, uint64_t i)
{
	rs__node *n = rs__node_new(&f->alloc, 1, &i, sizeof(i));

	assert_non_null(n);
	rs__node_push(n, mkver(f, 1, "v"));
	return n;
}

static bool grow_findable(tfx *f, uint64_t i)
{
	rs__node *n = find(f, 1, (const char *)&i, sizeof(i), grow_hash(i));

	return n && n->klen == sizeof(i) &&
	       memcmp(rs__node_key(n), &i, sizeof(i)) == 0;
}

/* Keys 0..n-1 spread over the range, and the newest ones. */
static void grow_check_sample(tfx *f, uint64_t n)
{
	uint64_t step = n / 256 + 1;

	for (uint64_t i = 0; i < n; i += step)
		if (!grow_findable(f, i))
			fail_msg("key %llu of %llu lost (rehashing: %d)",
				 (unsigned long long)i, (unsigned long long)n,
				 rehashing(f));
	for (uint64_t i = n > 16 ? n - 16 : 0; i < n; i++)
		if (!grow_findable(f, i))
			fail_msg("key %llu of %llu lost (rehashing: %d)",
				 (unsigned long long)i, (unsigned long long)n,
				 rehashing(f));
}

/* One commit adding keys [from, to): find (a miss), reserve, insert. */
static void grow_commit(tfx *f, uint64_t from, uint64_t to)
{
	size_t extra = (size_t)(to - from);

	for (uint64_t i = from; i < to; i++)
		assert_false(grow_findable(f, i));
	assert_int_equal(rs__table_reserve(&f->t, extra, &f->rl), 0);
	if (f->t.moved > rs__table_rehash_budget(extra))
		fail_msg("a commit adding %zu keys moved %zu slots", extra,
			 f->t.moved);
	for (uint64_t i = from; i < to; i++)
		tinsert(f, grow_node(f, i), grow_hash(i));
}

/*
 * A run grown from empty, one key per commit: no commit moves more than
 * its budget of old slots (no O(n) step), every rehash finishes before the
 * next growth (none is forced), and every key stays findable, checked
 * after each growth step and halfway through each rehash. 1M keys: about
 * 3 s under ASan.
 */
static void table__growth_moves_a_bounded_share_per_commit(void **state)
{
	tfx *f = *state;
	const uint64_t n = 1000000;
	uint64_t started = 0, finished = 0;
	size_t cap = capacity(f), most = 0;

	for (uint64_t i = 0; i < n; i++) {
		bool was = rehashing(f);
		uint64_t before = f->t.rehashes, forced = f->t.forced;
		size_t half = cap / 2;

		grow_commit(f, i, i + 1);
		if (f->t.moved > most)
			most = f->t.moved;
		assert_int_equal(f->t.forced, forced);
		if (f->t.rehashes != before) {
			/* A growth step; a rehash under way had finished. */
			assert_int_equal(f->t.rehashes, before + 1);
			finished += was;
			started++;
			finished += !rehashing(f); /* a small array: at once */
			cap = capacity(f);
			grow_check_sample(f, i + 1);
		} else if (was && !rehashing(f)) {
			finished++;
			grow_check_sample(f, i + 1);
		} else if (rehashing(f) && f->t.mig >= half &&
			   f->t.mig - f->t.moved < half) {
			grow_check_sample(f, i + 1);
		}
	}
	/* Commits without new keys finish a rehash still under way, within
	 * (old capacity) / 64 of them. */
	for (size_t left = cap / 2 / RS__TABLE_REHASH_MIN + 1; rehashing(f);
	     left--) {
		assert_true(left > 0);
		assert_int_equal(rs__table_reserve(&f->t, 0, &f->rl), 0);
		assert_true(f->t.moved <= RS__TABLE_REHASH_MIN);
		if (!rehashing(f))
			finished++;
	}
	assert_true(started >= 10);
	assert_int_equal(f->t.rehashes, started);
	assert_int_equal(finished, started);
	assert_int_equal(f->t.forced, 0);
	assert_int_equal(f->t.live, n);
	assert_true(most <= RS__TABLE_REHASH_MIN);
	for (uint64_t i = 0; i < n; i++)
		if (!grow_findable(f, i))
			fail_msg("key %llu lost", (unsigned long long)i);
	rs__retire_flush(&f->rl);
}

/* Grow one key per commit until a rehash is under way, past its start. */
static uint64_t grow_until_rehashing(tfx *f, uint64_t i, size_t min_cap)
{
	while (!rehashing(f) || capacity(f) < min_cap || f->t.mig == 0) {
		grow_commit(f, i, i + 1);
		i++;
	}
	return i;
}

/* A commit adding many keys mid-rehash moves what it needs of the rest,
 * within its own budget; nothing is forced and nothing is lost. */
static void table__huge_commit_during_rehash(void **state)
{
	tfx *f = *state;
	uint64_t i = grow_until_rehashing(f, 0, 4096);
	uint64_t big = 3 * capacity(f);
	size_t seen = 0;

	grow_commit(f, i, i + big);
	i += big;
	assert_int_equal(f->t.forced, 0);
	assert_int_equal(f->t.live, i);
	assert_true((f->t.live + f->t.dead) * 4 <= capacity(f) * 3);
	for (uint64_t k = 0; k < i; k++)
		if (!grow_findable(f, k))
			fail_msg("key %llu lost", (unsigned long long)k);
	/* The same from a table that is not rehashing. */
	while (rehashing(f))
		assert_int_equal(rs__table_reserve(&f->t, 0, &f->rl), 0);
	big = 5 * capacity(f);
	grow_commit(f, i, i + big);
	i += big;
	assert_int_equal(f->t.forced, 0);
	for (uint64_t k = 0; k < i; k += 7)
		assert_true(grow_findable(f, k));
	assert_int_equal(rs__table_foreach(&f->t, count_cb, &seen), 0);
	assert_int_equal(seen, i);
	rs__retire_flush(&f->rl);
}

/* Unlinks during a rehash, of nodes moved already and of nodes still
 * only in the old array: gone from both arrays, not brought back by the
 * moves that follow; a scan meanwhile visits every other node once. */
static void table__unlink_during_rehash_clears_both_arrays(void **state)
{
	tfx *f = *state;
	uint64_t n = grow_until_rehashing(f, 0, 1024);
	const rs__slots *old = atomic_load(&atomic_load(&f->t.slots)->old);
	size_t seen = 0, gone = 0;

	assert_non_null(old);
	assert_true(f->t.mig < old->mask + 1);
	for (uint64_t i = 0; i < n; i += 3) {
		rs__node *x =
			find(f, 1, (const char *)&i, sizeof(i), grow_hash(i));
		assert_non_null(x);
		rs__node_push(x, mkver(f, 2, NULL));
		prune(f, x, 2);
		gone++;
		assert_false(grow_findable(f, i));
	}
	assert_true(rehashing(f));
	assert_int_equal(f->t.live, n - gone);
	assert_int_equal(rs__table_foreach(&f->t, count_cb, &seen), 0);
	assert_int_equal(seen, n - gone);
	while (rehashing(f))
		assert_int_equal(rs__table_reserve(&f->t, 0, &f->rl), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(grow_findable(f, i), i % 3 != 0);
	seen = 0;
	assert_int_equal(rs__table_foreach(&f->t, count_cb, &seen), 0);
	assert_int_equal(seen, n - gone);
	rs__retire_flush(&f->rl);
}

/* ---- skip links (table.h): a deep snapshot's read is O(log n) ---- */

#define DEEP 100000u

/* Push version `ver` onto n as the store does (rs__ver_new_on: with its
 * skip link); its value is its version number. */
static void push_linked(tfx *f, rs__node *n, uint64_t ver)
{
	rs__ver *v = rs__ver_new_on(&f->t, n, &ver, sizeof(ver), 0);

	assert_non_null(v);
	v->ver = ver;
	rs__node_push(n, v);
}

/* The versions a seek at `snap` looks at, asserting it finds `want`. */
static size_t seek_visits(const rs__node *n, uint64_t snap, uint64_t want)
{
	size_t visits = 0;
	rs__vref v;

	rs__rcu_read_lock();
	v = rs__chain_seek(atomic_load(&n->head), snap, &visits);
	assert_true(v != 0);
	assert_int_equal(rs__vref_ver(v), want);
	rs__rcu_read_unlock();
	return visits;
}

/* The most versions one read may visit under `newer` newer versions. */
#define visit_bound rs__chain_seek_bound

static void table__deep_snapshot_read_is_logarithmic(void **state)
{
	tfx *f = *state;
	rs__node *n = insert(f, 1, "k", 1, 3, 1, "v1");
	size_t held, worst = 0;

	/* A snapshot at 1 is held while DEEP newer versions commit: each
	 * commit prunes at min_snap 1 and keeps them all. */
	for (uint64_t v = 2; v <= DEEP + 1; v++) {
		push_linked(f, n, v);
		prune(f, n, 1);
	}
	assert_int_equal(chain_len(n), DEEP + 1);
	held = seek_visits(n, 1, 1);
	/* Snapshots in between, too: every 17th, and every one of the
	 * newest 2048 (short distances). */
	for (uint64_t snap = 1; snap <= DEEP + 1;
	     snap += snap < DEEP - 2048 ? 17 : 1) {
		size_t visits = seek_visits(n, snap, snap);

		assert_true(visits <= visit_bound(DEEP + 1 - snap));
		if (visits > worst)
			worst = visits;
	}
	print_message("deep snapshot: %zu versions visited under %u newer "
		      "(bound %zu; a walk: %u); worst over all snapshots %zu\n",
		      held, DEEP, visit_bound(DEEP), DEEP + 1, worst);
	assert_true(held <= visit_bound(DEEP));
	/* The writer's own search (prune at a new min_snap) uses them too. */
	prune(f, n, DEEP / 2);
	assert_int_equal(chain_len(n), DEEP / 2 + 2);
	assert_true(seek_visits(n, DEEP / 2, DEEP / 2) <=
		    visit_bound(DEEP / 2 + 1));
	rs__retire_flush(&f->rl);
}

/*
 * Snapshots come and go while a key is overwritten: min_snap rises in
 * jumps, every prune cuts the chain's old end, and what it cut is freed
 * at once (rs__retire_flush; ASan reports any later read of it). Readers
 * at every snapshot a pin could hold (min_snap .. newest) find their
 * version with bounded visits, and the writer's links never lead it into
 * freed versions either.
 */
static void table__skip_links_never_reach_pruned_versions(void **state)
{
	tfx *f = *state;
	/* Its first version inside, as the store makes it: links lead to
	 * it until a prune cuts it off. */
	rs__node *n = insert_inline(f, 1, "k", 1, 4, 1, "v1");
	uint64_t min_snap = 1, x = 0x9e3779b97f4a7c15u;
	size_t worst = 0, roots = 0;

	for (uint64_t v = 2; v <= 12000; v++) {
		uint64_t probe[4];

		push_linked(f, n, v);
		x = x * 6364136223846793005u + 1442695040888963407u;
		/* Now and then the oldest snapshot ends; a newer one (up to
		 * 4000 versions back) becomes the oldest. */
		if ((x >> 60) == 0) {
			uint64_t back = (x >> 20) % 4000;
			uint64_t next = v > back ? v - back : 1;

			if (next > min_snap)
				min_snap = next;
		}
		prune(f, n, min_snap);
		if (v % 61 == 0)
			rs__retire_flush(&f->rl);
		if (rs__ver_rank(rs__vref_heap(atomic_load(&n->head))) == 0)
			roots++;
		probe[0] = min_snap;
		probe[1] = v;
		probe[2] = min_snap + (v - min_snap) / 2;
		probe[3] = min_snap + (x >> 8) % (v - min_snap + 1);
		for (int i = 0; i < 4; i++) {
			size_t visits = seek_visits(n, probe[i], probe[i]);

			assert_true(visits <= 2 * visit_bound(v - probe[i]));
			if (visits > worst)
				worst = visits;
		}
	}
	print_message("pruned chains: worst %zu visits, %zu roots, final "
		      "chain %zu versions\n",
		      worst, roots, chain_len(n));
	rs__retire_flush(&f->rl);
}

/* Used slots of an array: nodes and markers. */
static void slot_counts(const rs__slots *sl, size_t *nodes, size_t *marks)
{
	*nodes = *marks = 0;
	for (size_t i = 0; i <= sl->mask; i++) {
		const rs__node *n = rs__slot_node(atomic_load(&sl->s[i].w));

		if (n == RS__SLOT_UNLINKED)
			++*marks;
		else if (n)
			++*nodes;
	}
}

/*
 * Inserts (one at a time and in batches), unlinks and rehashes in random
 * order, with a third of the keys in one crowded probe chain: after every
 * step the current array holds exactly `nodes` nodes and `dead` markers,
 * at most 3/4 of it, and an old array still being moved keeps a free
 * slot: every probe ends (table.c, "Termination").
 */
static void table__churn_keeps_a_free_slot_in_every_array(void **state)
{
	tfx *f = *state;
	enum {
		STEPS = 6000,
		MAXLIVE = 1500
	};
	rs__node **live = calloc(MAXLIVE, sizeof(*live));
	uint64_t x = 42, ver = 1;
	size_t nlive = 0, rehashes = 0, crowded = 0;
	char k[32];

	assert_non_null(live);
	for (int step = 0; step < STEPS; step++) {
		uint64_t r = rs_t_rand(&x);
		const rs__slots *sl = atomic_load(&f->t.slots);
		const rs__slots *old = atomic_load(&sl->old);
		size_t nodes, marks, batch = r % 5 == 0 ? 1 + r % 40 : 1;

		if (nlive + batch <= MAXLIVE && (r >> 8) % 3 != 0) {
			rs__node *b[40];
			uint64_t bh[40];

			/* Room for the batch first, as a commit reserves. */
			assert_int_equal(
				rs__table_reserve(&f->t, batch, &f->rl), 0);
			for (size_t i = 0; i < batch; i++) {
				uint64_t h = rs_t_rand(&x);

				if (h % 3 == 0) {
					h = 7; /* the crowded chain */
					crowded++;
				}
				snprintf(k, sizeof(k), "c%d-%zu", step, i);
				b[i] = rs__node_new(&f->alloc, 1, k, strlen(k));
				bh[i] = h;
				assert_non_null(b[i]);
				rs__node_push(b[i], mkver(f, ver, k));
			}
			for (size_t i = 0; i < batch; i++) {
				tinsert(f, b[i], bh[i]);
				live[nlive++] = b[i];
			}
			ver++;
		} else if (nlive) {
			size_t at = (size_t)(r >> 16) % nlive;
			rs__node *n = live[at];

			/* A delete whose tombstone no snapshot needs. */
			rs__node_push(n, mkver(f, ++ver, NULL));
			prune(f, n, ver);
			live[at] = live[--nlive];
		}
		if (step % 50 == 0)
			rs__retire_flush(&f->rl);
		sl = atomic_load(&f->t.slots);
		old = atomic_load(&sl->old);
		if (old)
			rehashes++;
		slot_counts(sl, &nodes, &marks);
		assert_int_equal(nodes, f->t.nodes);
		assert_int_equal(marks, f->t.dead);
		assert_int_equal(f->t.live, nlive);
		assert_true(nodes <= f->t.live);
		assert_true((nodes + marks) * 4 <= (sl->mask + 1) * 3);
		if (old) {
			slot_counts(old, &nodes, &marks);
			assert_true(nodes + marks <= old->mask);
		}
	}
	/* Every live key is found, in whichever array it is. */
	for (size_t i = 0; i < nlive; i++)
		assert_ptr_equal(find(f, 1, (const char *)rs__node_key(live[i]),
				      live[i]->klen, hash_of(f, live[i])),
				 live[i]);
	assert_true(f->t.rehashes > 2);
	assert_int_equal(f->t.forced, 0);
	print_message("churn: %zu live, %" PRIu64 " rehashes (%zu steps "
		      "inside one), %zu keys on one chain\n",
		      nlive, f->t.rehashes, rehashes, crowded);
	free(live);
	rs__retire_flush(&f->rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			table__insert_find_and_grow_with_many_keys, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__colliding_hashes_stay_distinct, setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__prune_keeps_what_min_snap_sees, setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__prune_at_unchanged_min_snap_is_a_no_op, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__inline_first_version_reads_prunes_and_frees,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__prune_unlinks_node_when_newest_is_old_tombstone,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__unlinked_slots_are_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__growth_drops_unlinked_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__growth_moves_a_bounded_share_per_commit, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__huge_commit_during_rehash, setup, teardown),
		cmocka_unit_test_setup_teardown(
			table__unlink_during_rehash_clears_both_arrays, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__deep_snapshot_read_is_logarithmic, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__skip_links_never_reach_pruned_versions, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			table__churn_keeps_a_free_slot_in_every_array, setup,
			teardown),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
