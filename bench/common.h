/* SPDX-License-Identifier: MIT */
#ifndef RS_BENCH_COMMON_H
#define RS_BENCH_COMMON_H

/*
 * Fixtures shared by the C benchmark bodies: pre-generated keys and values,
 * database setup on either store, a counting allocator and the clock used by
 * the percentile probes. Everything here runs outside the timed loops.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <runstate.h>

#include "shim.h"

/* The workload of every tier A/B benchmark: 16-byte keys, 100-byte
 * values (the catalog's mem_bytes_per_kv_entry shape). */
#define RS_BENCH_KEY_LEN 16u
#define RS_BENCH_VAL_LEN 100u
/* Distinct values cycled through by the writers. */
#define RS_BENCH_NVALS 64u
/* The hot set: keys that stay in cache (a multiple of RS_BENCH_BATCH). */
#define RS_BENCH_HOT_KEYS 1024u
/* cache_*: the run of the locality benchmarks and of the LMDB peer. */
#define RS_BENCH_10K_KEYS 10000u
/* kvstore_put/100k. */
#define RS_BENCH_100K_KEYS 100000u
/* The ordered tier (bench_ordered.c) and its LMDB peers: a 1M-key run. */
#define RS_BENCH_1M_KEYS 1000000u
/* Entries read by kvstore_scan/100, kvstore_scan_reverse/100 and their
 * LMDB peers. */
#define RS_BENCH_SCAN_LEN 100u

typedef struct rs_bench_keys {
	size_t n;
	unsigned char *keys; /* n keys of RS_BENCH_KEY_LEN, ascending */
	unsigned char *vals; /* RS_BENCH_NVALS values of RS_BENCH_VAL_LEN */
	uint32_t *order;     /* access order: a fixed-seed permutation of n */
} rs_bench_keys;

/* Keys "k000000000000042" (ascending bytewise, so filling the unified
 * store appends), values of varied bytes, a shuffled access order. */
int rs_bench_keys_make(rs_bench_keys *k, size_t n);
void rs_bench_keys_free(rs_bench_keys *k);

static inline const unsigned char *rs_bench_key(const rs_bench_keys *k,
						size_t i)
{
	return k->keys + i * RS_BENCH_KEY_LEN;
}

static inline const unsigned char *rs_bench_val(const rs_bench_keys *k,
						size_t i)
{
	return k->vals + (i % RS_BENCH_NVALS) * RS_BENCH_VAL_LEN;
}

/* The next index of k's access order, cycling (*pos wraps at k->n). */
static inline uint32_t rs_bench_next(const rs_bench_keys *k, size_t *pos)
{
	uint32_t i = k->order[*pos];

	if (++*pos == k->n)
		*pos = 0;
	return i;
}

/*
 * The suite's keys for RS_BENCH_1M_KEYS (rs_bench_keys_make), made on the
 * first call and shared by every later caller until exit, so that the
 * ordered tier and its LMDB peers read the same keys in the same order.
 * NULL when out of memory. Not thread-safe (benchmark bodies and probes
 * run one at a time).
 */
const rs_bench_keys *rs_bench_keys_1m(void);

/*
 * The key index where the next scan of RS_BENCH_SCAN_LEN entries starts
 * (the next of k's access order, cut to leave room for the scan): a
 * forward scan reads it and the keys after it, a reverse scan it and the
 * keys before it. *pos as rs_bench_next().
 */
static inline uint32_t rs_bench_scan_start(const rs_bench_keys *k, size_t *pos,
					   bool reverse)
{
	uint32_t room = (uint32_t)k->n - (RS_BENCH_SCAN_LEN - 1);
	uint32_t i = rs_bench_next(k, pos) % room;

	return reverse ? i + (RS_BENCH_SCAN_LEN - 1) : i;
}

/* A StateCell transition (rs_statecell_transition_fn): the 8-byte counter
 * in value, plus one, written to *(uint64_t *)ctx. */
int rs_bench_incr_u64(rs_bytes value, uint64_t version, rs_bytes *nv,
		      void *ctx);

/* The registration argument of every tier A1/B benchmark. */
typedef struct rs_bench_cfg {
	rs_storage storage;
	size_t nkeys;
	bool count_allocs; /* open the db with the counting allocator */
} rs_bench_cfg;

static inline const rs_bench_cfg *rs_bench_cfg_of(const rs_bench_state *st)
{
	return (const rs_bench_cfg *)rs_bench_arg(st);
}

/*
 * Register `name` on the sharded store and `name@unified` on the unified
 * store (the M3 baseline), with `nkeys` keys in the run.
 */
void rs_bench_register_both(const char *name, rs_bench_fn fn, size_t nkeys,
			    bool count_allocs);

/*
 * Allocations made through the counting allocator by the calling thread
 * (malloc and realloc calls). Thread-local and non-atomic, so counting
 * adds no locked instruction to the measured path. Frees, which RCU
 * callbacks make on liburcu's call_rcu thread, are not counted.
 */
uint64_t rs_bench_allocs(void);

/* A database for benchmarking: InMemory, on `storage`, fixed hash seed. */
int rs_bench_db_open(rs_db **out, rs_storage storage, bool count_allocs);
/* Put every key of `k` (value rs_bench_val(k, i)) in `run`. */
int rs_bench_db_fill(rs_db *db, const rs_run_id *run, const rs_bench_keys *k);
/* The same in transactions of `batch` puts (rs_bench_db_fill: 4096). On
 * the unified store every transaction begins with a copy of the run, so a
 * 1M-key run is filled in few large ones. */
int rs_bench_db_fill_batch(rs_db *db, const rs_run_id *run,
			   const rs_bench_keys *k, size_t batch);

/* A fixed, non-nil run id. */
void rs_bench_run_id(rs_run_id *out, unsigned salt);
/* The n-th of a family of distinct run ids (rs_bench_run_id(salt) with n
 * mixed into its last 7 bytes): fresh runs for rotation, id pools. */
void rs_bench_run_id_n(rs_run_id *out, unsigned salt, uint64_t n);

/* Monotonic clock in ns (probes only; never inside a timed loop). */
uint64_t rs_bench_now_ns(void);

/*
 * Turn per-operation latency samples into metrics <prefix>.mean_ns,
 * .p50_ns, .p95_ns, .p99_ns, .p999_ns (p99.9), .max_ns, .samples. Sorts
 * `s` in place.
 */
void rs_bench_record_latency(const char *prefix, uint64_t *s, size_t n);

/* Operations to run untimed before a timed loop (steady state). */
size_t rs_bench_warmup_ops(size_t nkeys);

/* One operation of a timed loop: 0 or more on success, or a negative
 * RS_E* code (the loop goes on; see rs_bench_loop). */
typedef int (*rs_bench_op_fn)(void *ctx);

/* For a function that takes the operation of a timed loop as an argument
 * (inlined into each caller, so that the operation is a constant there),
 * and for the operations themselves (so that gcc and clang alike inline
 * them into the loop once it is a constant). */
#if defined(__GNUC__) || defined(__clang__)
#define RS_BENCH_INLINE static inline __attribute__((always_inline))
#else
#define RS_BENCH_INLINE static inline
#endif

/*
 * Read a value as rs_kv_get does: copy it into buf (RS_BENCH_VAL_LEN
 * bytes, kept by the compiler). 0, or RS_ECORRUPT when len is not
 * RS_BENCH_VAL_LEN.
 */
RS_BENCH_INLINE int rs_bench_copy_val(unsigned char *buf, const void *data,
				      size_t len)
{
	if (RS_BENCH_UNLIKELY(len != RS_BENCH_VAL_LEN))
		return RS_ECORRUPT;
	memcpy(buf, data, RS_BENCH_VAL_LEN);
	RS_BENCH_DO_NOT_OPTIMIZE(buf);
	return 0;
}

/* `n` untimed operations of a timed loop (warm-up): 0, or the last
 * negative code an operation returned. */
RS_BENCH_INLINE int rs_bench_warm(rs_bench_op_fn op, void *ctx, size_t n)
{
	int rc, bad = 0;

	for (size_t w = n; w; w--)
		if ((rc = op(ctx)) < 0)
			bad = rc;
	return bad;
}

/*
 * The timed loop of every tier: `warmup` untimed operations
 * (rs_bench_warm; pass 0 and call that first to read a counter between
 * the two), then batches of RS_BENCH_BATCH operations until Google
 * Benchmark has measured enough (each iteration is one operation). A
 * failing operation does not stop the loop, so the timing stays that of
 * whole batches; the last negative code is returned (0 when every
 * operation succeeded), for rs_bench_finish().
 *
 * Always inlined: with `op` a constant, the compiler inlines it too, so
 * the loop costs what a hand-written one does (no call per operation).
 */
RS_BENCH_INLINE int rs_bench_loop(rs_bench_state *st, rs_bench_op_fn op,
				  void *ctx, size_t warmup)
{
	int rc, bad = rs_bench_warm(op, ctx, warmup);

	while (rs_bench_keep_running_batch(st, RS_BENCH_BATCH))
		for (unsigned j = 0; j < RS_BENCH_BATCH; j++)
			if (RS_BENCH_UNLIKELY((rc = op(ctx)) < 0))
				bad = rc;
	return bad;
}

/*
 * rs_bench_loop() that counts the allocations of its timed part through
 * the counting allocator (rs_bench_allocs) and, when `count` is set,
 * reports them per operation as the counter allocs_per_op.
 */
RS_BENCH_INLINE int rs_bench_loop_allocs(rs_bench_state *st, rs_bench_op_fn op,
					 void *ctx, size_t warmup, bool count)
{
	int rc, bad = rs_bench_warm(op, ctx, warmup);
	uint64_t allocs = rs_bench_allocs();

	if ((rc = rs_bench_loop(st, op, ctx, 0)) < 0)
		bad = rc;
	allocs = rs_bench_allocs() - allocs;
	if (count)
		rs_bench_counter(st, "allocs_per_op", (double)allocs,
				 RS_BENCH_COUNTER_AVG_ITERATIONS);
	return bad;
}

/* After a timed loop: fail the benchmark when bad is an RS_E* code, and
 * count every iteration as an item processed. */
void rs_bench_finish(rs_bench_state *st, int bad);

/* xorshift64: the benchmarks' only random source (fixed seeds, so every
 * run visits the same sequence). *x must not be 0. */
static inline uint64_t rs_bench_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Length of a pre-generated access sequence (a power of two: the loops
 * wrap with a mask). 256 KiB of indices, read sequentially. */
#define RS_BENCH_SEQ_LEN 65536u

/* seq[i] = uniform random index in [0, n), i < RS_BENCH_SEQ_LEN, from a
 * fixed seed: cache_uniform_10k and the LMDB peer read the same keys in
 * the same order. */
void rs_bench_seq_uniform(uint32_t *seq, uint32_t n, uint64_t seed);
#define RS_BENCH_UNIFORM_SEED 0x10c0ffeeull

/* Thread count of the contention benchmarks and of the machine: online
 * cores (sysconf(_SC_NPROCESSORS_ONLN)). */
int rs_bench_cores(void);

/*
 * A fresh directory "$TMPDIR/runstate-bench-<what>-XXXXXX" (/tmp when
 * TMPDIR is unset) written to dir. When note_key is not NULL, the file
 * system it lies on is recorded as that report note. Returns 0, or -1 with
 * errno set and dir[0] == 0.
 */
int rs_bench_mkdtemp(char *dir, size_t cap, const char *what,
		     const char *note_key);
/* Remove such a directory and everything under it; sets dir[0] = 0. A
 * dir already empty ("") is left alone. */
void rs_bench_rmdir(char *dir);

#endif
