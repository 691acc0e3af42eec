/* SPDX-License-Identifier: MIT */
#ifndef RS_STORAGE_STORE_H
#define RS_STORAGE_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "util/alloc.h"
#include "util/op.h"
#include "util/rcu.h"

/*
 * The storage interface. Two implementations: the sharded store (default,
 * shard.c) and the unified store (the M3 baseline, unified.c). The txn
 * layer drives both through this vtable and owns the transaction logic:
 * read/write sets, validation order, snapshot pins, durability hand-off.
 *
 * Keys are (tag, bytes): primitive tags (util/op.h) separate the key
 * spaces of the primitives inside a run.
 */

typedef struct rs__store rs__store;
typedef struct rs__run rs__run;

/* A read snapshot of one run at version `ver`. `state` is the store's
 * own (the run for the sharded store, a deep copy for the unified one);
 * NULL when the run did not exist: reads see nothing and ver is 0.
 * `base`: the start of the run's life the snapshot sees (run_start), or
 * run_base when there is no run. */
typedef struct rs__snap {
	void *state;
	uint64_t ver;
	uint64_t base;
} rs__snap;

/* Receives a value read on a fast path, inside the store's read section. */
typedef int (*rs__sink_fn)(const void *val, size_t len, void *ctx);
/* Receives one live key of a run, under its commit lock. */
typedef int (*rs__key_fn)(uint8_t tag, const void *key, size_t klen,
			  uint64_t hash, void *ctx);

/* Receives one live entry of a run, for scans over every tag. */
typedef int (*rs__scan_all_fn)(uint8_t tag, const void *key, size_t klen,
			       const void *val, size_t vlen, void *ctx);

/*
 * Ordered iteration. A position is one visible entry of one tag at a
 * snapshot; `pos` is the store's own (a key node, an index into a copy).
 * The views live while the snapshot is open: a pinned snapshot keeps
 * every entry it can see, and the node that holds it, linked and
 * allocated.
 */
#define RS__ITER_AHEAD 8u
typedef struct rs__iter_ent {
	const void *pos;
	rs_bytes key;
	rs_bytes val;
} rs__iter_ent;

typedef struct rs__iter {
	const void *pos;
	rs_bytes key;
	rs_bytes val;
	/*
	 * Read-ahead, which a store's step may fill (the sharded store's
	 * does: shard.c, "Read-ahead"): the `nahead` entries that the next
	 * steps in direction `adir` would reach, in order, from
	 * ahead[iahead] on, valid as long as the iterator's own views. A
	 * seek empties it. rs__iter_take() is then exactly a step in that
	 * direction, without calling the store.
	 */
	rs__iter_ent ahead[RS__ITER_AHEAD];
	uint8_t nahead, iahead;
	uint8_t grow; /* the store's: the size of its last batch */
	int8_t adir;
} rs__iter;

/* A step in direction dir from the read-ahead: false (it unchanged)
 * when it holds nothing for that direction. */
static inline bool rs__iter_take(rs__iter *it, int dir)
{
	const rs__iter_ent *e;

	if (!it->nahead || it->adir != dir)
		return false;
	e = &it->ahead[it->iahead++];
	it->nahead--;
	it->pos = e->pos;
	it->key = e->key;
	it->val = e->val;
	return true;
}

/* Where a seek lands, relative to its key. */
enum {
	RS__SEEK_GE, /* the first entry at or after the key */
	RS__SEEK_GT, /* the first entry after it */
	RS__SEEK_LE, /* the last entry at or before it */
	RS__SEEK_LT  /* the last entry before it */
};

/*
 * One end of a key range of a tag: `inf` is no bound (the first or the
 * last key of the tag); otherwise the key, included when `incl`.
 */
typedef struct rs__bound {
	const void *key;
	uint32_t len;
	bool incl;
	bool inf;
} rs__bound;

typedef struct rs__store_ops {
	void (*destroy)(rs__store *s);
	uint64_t (*hash)(const rs__store *s, uint8_t tag, const void *key,
			 size_t klen);

	/* Find a run; create it when `create`, at version run_base (below).
	 * RS_ENOTFOUND when absent and not created. The pointer stays valid
	 * inside the caller's RCU read-side section, or while something the
	 * txn layer reads at reap time (run_reap's `held`) names it. */
	int (*run_find)(rs__store *s, const rs_run_id *id, bool create,
			rs__run **out);
	uint64_t (*visible)(rs__run *r);

	/*
	 * Lives of a run. A run (its shard) starts at a version, its
	 * `start`: run_base when it was created, or what recovery sets
	 * (run_set_start: its start and visible version, before its
	 * first commit and before anything reads it; or, under the run's
	 * lock, a record of another writer that begins the run's life
	 * elsewhere: txn/commit.c, applied_version). run_kill(), under the
	 * run's lock once its drop (a tombstone for every key) is published,
	 * ends that life: the sharded store unlinks the shard (run_find then
	 * finds nothing or creates a new one) and keeps it, dead, until
	 * run_reap() frees it; the unified store keeps the run and starts
	 * its next life at its current version. run_reap() waits for a grace
	 * period, then frees every dead run that `held` does not name;
	 * nothing when fewer than `min` are dead. It returns how many it
	 * left. Never inside a read-side section or under a run lock.
	 */
	uint64_t (*run_start)(rs__run *r);
	void (*run_set_start)(rs__run *r, uint64_t start);
	void (*run_kill)(rs__store *s, rs__run *r);
	bool (*run_dead)(rs__run *r);
	size_t (*run_reap)(rs__store *s, size_t min,
			   bool (*held)(void *ctx, const rs__run *r),
			   void *ctx);

	/* Open a snapshot at the newest visible version. `pin` is the
	 * caller's pin slot (rs__pin), published before the version is used
	 * so reclamation keeps what the snapshot can see. A NULL pin is a
	 * write-only transaction's snapshot, never read through: it holds
	 * nothing back. */
	int (*snap_open)(rs__store *s, rs__run *r, void *pin, rs__snap *out);
	void (*snap_close)(rs__store *s, rs__snap *snap);
	/* Read at a snapshot. The view stays valid while it is open. */
	int (*read)(rs__store *s, const rs__snap *snap, uint8_t tag,
		    const void *key, size_t klen, uint64_t hash, rs_bytes *out);
	/*
	 * Position `it` at the entry of `tag` visible at the snapshot that
	 * `mode` (RS__SEEK_*) names relative to the key; a NULL key is
	 * before every key of the tag for GE/GT and after every key for
	 * LE/LT. RS_ENOTFOUND when there is none. O(log n) plus the
	 * invisible entries stepped over.
	 */
	int (*seek)(rs__store *s, const rs__snap *snap, uint8_t tag,
		    const void *key, size_t klen, int mode, rs__iter *it);
	/* Move `it` to the next (dir > 0) or previous visible entry of the
	 * same tag: RS_ENOTFOUND at the end, `it` unchanged. */
	int (*step)(rs__store *s, const rs__snap *snap, uint8_t tag,
		    rs__iter *it, int dir);
	/* Every live entry of every tag, in order (checkpoints). The
	 * sharded store calls fn inside one RCU read-side section. */
	int (*scan_all)(rs__store *s, const rs__snap *snap, rs__scan_all_fn fn,
			void *ctx);
	/* The ids of every run, in an array allocated with the store's
	 * allocator (the caller frees it); *ids_out may be NULL when n is 0. */
	int (*run_list)(rs__store *s, rs_run_id **ids_out, size_t *n_out);
	/* One-shot read of the newest committed value, no snapshot held:
	 * sink is called with the value (RS_ENOTFOUND when absent). */
	int (*read_latest)(rs__store *s, const rs_run_id *id, uint8_t tag,
			   const void *key, size_t klen, rs__sink_fn sink,
			   void *ctx);

	/* ---- commit, under lock(r) ---- */
	/* A thread may hold two runs' locks: the nil run's (RunIndex) first,
	 * then one other run's (txn/commit.c states the order). A store whose runs
	 * share one lock makes it reentrant. */
	void (*lock)(rs__store *s, rs__run *r);
	void (*unlock)(rs__store *s, rs__run *r);
	/* Newest committed version of a key (0: never written or
	 * reclaimed); *present: whether it is a live value. */
	uint64_t (*newest)(rs__store *s, rs__run *r, uint8_t tag,
			   const void *key, size_t klen, uint64_t hash,
			   bool *present);
	/* Whether any key of `tag` between lo and hi has a version newer
	 * than `since` (created, changed or deleted after it). */
	bool (*range_changed)(rs__store *s, rs__run *r, uint8_t tag,
			      const rs__bound *lo, const rs__bound *hi,
			      uint64_t since);
	/* Allocate all that apply() needs; RS_ENOMEM changes nothing. What
	 * becomes unreachable (a replaced slot array) goes onto rl. */
	int (*prepare)(rs__store *s, rs__run *r, rs__op *ops, size_t n,
		       rs__retire_list *rl);
	/* Undo prepare() (a later step failed). */
	void (*discard)(rs__store *s, rs__run *r, rs__op *ops, size_t n);
	/* Install prepared ops at `ver`; cannot fail; not yet visible. */
	void (*apply)(rs__store *s, rs__run *r, rs__op *ops, size_t n,
		      uint64_t ver);
	/* Make `ver` visible to new snapshots. */
	void (*publish)(rs__store *s, rs__run *r, uint64_t ver);
	/* Retire onto rl what no snapshot at or after min_snap can see,
	 * among the keys just written. */
	void (*reclaim)(rs__store *s, rs__run *r, const rs__op *ops, size_t n,
			uint64_t min_snap, rs__retire_list *rl);

	/* ---- also under lock(r) ---- */
	/* The newest committed value of a key: RS_ENOTFOUND when absent or
	 * deleted. The view stays valid while the lock is held. */
	int (*latest)(rs__store *s, rs__run *r, uint8_t tag, const void *key,
		      size_t klen, uint64_t hash, rs_bytes *out);
	/* Calls fn for every key whose newest version is live, in order;
	 * stops at and returns fn's nonzero. The views die with the lock. */
	int (*live_keys)(rs__store *s, rs__run *r, rs__key_fn fn, void *ctx);
	/* The run's RS__RUN_F_* flags; set only under lock(r) (read there
	 * too). Kept in memory only: the RunIndex rebuilds them at open. */
	uint32_t (*run_flags)(rs__run *r);
	void (*run_set_flags)(rs__run *r, uint32_t flags);
} rs__store_ops;

struct rs__store {
	const rs__store_ops *ops;
	const rs__alloc *alloc;
	uint64_t seed;
	/* The version a run created from now on starts at: the txn layer's
	 * drop mark (txn/commit.c), raised by run drops only. */
	_Atomic uint64_t run_base;
};

/*
 * A snapshot pin: which run and version a snapshot reads. Lives in the txn
 * layer's contexts; the sharded store writes it in snap_open(), and the txn
 * layer reads all pins to compute min_snap for reclaim(). See txn/pool.c.
 */
typedef struct rs__pin {
	/* Rewritten only when the context moves to another run. */
	_Atomic(rs__run *) run;
	/* Every committer reads `run` of every pin, but `ver` (written twice
	 * per transaction) only of pins on its own run: a cache line apart,
	 * so writers of different runs do not bounce each other's lines. */
	unsigned char pad[RS__CACHE_LINE];
	_Atomic uint64_t ver;
} rs__pin;

#define RS__PIN_NONE UINT64_MAX

int rs__store_sharded_new(rs__store **out, const rs__alloc *a, uint64_t seed);
int rs__store_unified_new(rs__store **out, const rs__alloc *a, uint64_t seed);

#endif
