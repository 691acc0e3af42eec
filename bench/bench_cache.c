/* SPDX-License-Identifier: MIT */
/*
 * Locality (cache_*) and access pattern (branch_*): rs_kv_get, public API
 * only (runstate.h), InMemory, on the sharded store (catalog name) and the
 * unified store (name@unified).
 *
 * Every benchmark reads keys in an order fixed before the timed loop: a
 * sequence of RS_BENCH_SEQ_LEN key indices (256 KiB, read sequentially,
 * the same cost in every benchmark). Per operation, inside the timed loop:
 * load the next index of the sequence, rs_kv_get of that key into one
 * caller buffer (100-byte copy), check the return code.
 *
 *  cache_hot_key          a run of 10,000 keys; always the same key.
 *  cache_working_set_8    the same run; uniform random among 8 keys
 *  cache_working_set_64   (64, 512) picked at random from the 10,000.
 *  cache_working_set_512
 *  cache_uniform_10k      the same run; uniform random among all 10,000.
 *  branch_sequential      a run of RS_BENCH_HOT_KEYS (1024) keys, read in
 *                         ascending key order (the order they were put).
 *  branch_strided         the same keys, index i*33 mod 1024 (33 is
 *                         coprime to 1024: every key once per cycle).
 *  branch_random          the same keys, each cycle a fresh random
 *                         permutation (64 different permutations).
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIDE 33u

enum pattern {
	P_HOT,
	P_WORKING_SET, /* uniform over `ws` keys (ws = RS_BENCH_10K_KEYS: all) */
	P_SEQUENTIAL,
	P_STRIDED,
	P_RANDOM
};

typedef struct cache_cfg {
	rs_storage storage;
	enum pattern pat;
	uint32_t ws;	/* P_WORKING_SET: keys in the working set */
	uint32_t nkeys; /* keys in the run */
} cache_cfg;

static int make_seq(uint32_t *seq, const cache_cfg *c)
{
	uint64_t x = 0x853c49e6748fea9bull ^ ((uint64_t)c->ws << 20) ^ c->pat;
	uint32_t *ws = NULL;

	switch (c->pat) {
	case P_HOT:
		for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
			seq[i] = c->nkeys / 2;
		return 0;
	case P_WORKING_SET:
		if (c->ws >= c->nkeys) {
			rs_bench_seq_uniform(seq, c->nkeys,
					     RS_BENCH_UNIFORM_SEED);
			return 0;
		}
		/* The working set: the first ws of a random permutation. */
		ws = malloc(c->nkeys * sizeof(*ws));
		if (!ws)
			return RS_ENOMEM;
		for (uint32_t i = 0; i < c->nkeys; i++)
			ws[i] = i;
		for (uint32_t i = 0; i < c->ws; i++) {
			uint32_t j = i + (uint32_t)(rs_bench_rand(&x) %
						    (c->nkeys - i));
			uint32_t t = ws[i];

			ws[i] = ws[j];
			ws[j] = t;
		}
		for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
			seq[i] = ws[rs_bench_rand(&x) % c->ws];
		free(ws);
		return 0;
	case P_SEQUENTIAL:
		for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
			seq[i] = (uint32_t)(i % c->nkeys);
		return 0;
	case P_STRIDED:
		for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
			seq[i] = (uint32_t)((i * STRIDE) % c->nkeys);
		return 0;
	case P_RANDOM:
		/* RS_BENCH_SEQ_LEN is a multiple of nkeys (1024). */
		for (size_t base = 0; base + c->nkeys <= RS_BENCH_SEQ_LEN;
		     base += c->nkeys) {
			uint32_t *p = seq + base;

			for (uint32_t i = 0; i < c->nkeys; i++)
				p[i] = i;
			for (uint32_t i = c->nkeys; i > 1; i--) {
				uint32_t j = (uint32_t)(rs_bench_rand(&x) % i);
				uint32_t t = p[i - 1];

				p[i - 1] = p[j];
				p[j] = t;
			}
		}
		return 0;
	}
	return RS_EINVAL;
}

/* What one lookup of the timed loop reads. */
typedef struct cache_fix {
	rs_db *db;
	rs_run_id run;
	rs_bench_keys k;
	uint32_t *seq;
	size_t pos;
	unsigned char buf[RS_BENCH_VAL_LEN];
} cache_fix;

/* rs_kv_get of the next key of the sequence. */
RS_BENCH_INLINE int cache_get(void *ctx)
{
	cache_fix *f = ctx;
	size_t len;
	int rc = rs_kv_get(f->db, &f->run, rs_bench_key(&f->k, f->seq[f->pos]),
			   RS_BENCH_KEY_LEN, f->buf, sizeof(f->buf), &len);

	f->pos = (f->pos + 1) & (RS_BENCH_SEQ_LEN - 1);
	return rc;
}

static void bm_cache(rs_bench_state *st)
{
	const cache_cfg *c = rs_bench_arg(st);
	cache_fix f;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	rs_bench_run_id(&f.run, 3);
	f.seq = malloc(RS_BENCH_SEQ_LEN * sizeof(*f.seq));
	if (!f.seq)
		rc = RS_ENOMEM;
	if (!rc)
		rc = make_seq(f.seq, c);
	if (!rc)
		rc = rs_bench_keys_make(&f.k, c->nkeys);
	if (!rc)
		rc = rs_bench_db_open(&f.db, c->storage, false);
	if (!rc)
		rc = rs_bench_db_fill(f.db, &f.run, &f.k);
	if (rc < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		goto out;
	}
	/* Warm-up: one pass over the whole sequence (pos wraps back to 0). */
	rs_bench_finish(st, rs_bench_loop(st, cache_get, &f, RS_BENCH_SEQ_LEN));
out:
	rs_db_close(f.db);
	rs_bench_keys_free(&f.k);
	free(f.seq);
}

static void reg(const char *name, enum pattern pat, uint32_t ws, uint32_t nkeys)
{
	/* Live as long as the registrations: until exit. */
	static cache_cfg cfgs[32];
	static size_t n;
	char full[128];

	for (int i = 0; i < 2; i++) {
		cache_cfg *c;

		if (n == sizeof(cfgs) / sizeof(cfgs[0]))
			abort(); /* raise the pool size */
		c = &cfgs[n++];
		c->storage = i ? RS_STORAGE_UNIFIED : RS_STORAGE_SHARDED;
		c->pat = pat;
		c->ws = ws;
		c->nkeys = nkeys;
		snprintf(full, sizeof(full), "%s%s", name,
			 i ? RS_BENCH_UNIFIED_SUFFIX : "");
		RS_BENCH(full, bm_cache, c);
	}
}

void rs_bench_suite_cache(void)
{
	reg("cache_hot_key", P_HOT, 1, RS_BENCH_10K_KEYS);
	reg("cache_working_set_8", P_WORKING_SET, 8, RS_BENCH_10K_KEYS);
	reg("cache_working_set_64", P_WORKING_SET, 64, RS_BENCH_10K_KEYS);
	reg("cache_working_set_512", P_WORKING_SET, 512, RS_BENCH_10K_KEYS);
	reg("cache_uniform_10k", P_WORKING_SET, RS_BENCH_10K_KEYS,
	    RS_BENCH_10K_KEYS);
	reg("branch_sequential", P_SEQUENTIAL, 0, RS_BENCH_HOT_KEYS);
	reg("branch_strided", P_STRIDED, 0, RS_BENCH_HOT_KEYS);
	reg("branch_random", P_RANDOM, 0, RS_BENCH_HOT_KEYS);
}
