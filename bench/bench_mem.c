/* SPDX-License-Identifier: MIT */
/*
 * Memory: bytes per stored item, from the allocator hooks of
 * rs_db_options (every allocation of the library goes through them). The
 * hooks here keep a live-byte count: malloc_usable_size() of every block
 * allocated and not yet freed (the allocator's size class, so rounding is
 * counted; the allocator's own metadata is not). Atomic, since RCU
 * callbacks free on other threads.
 *
 * Each round opens a fresh sharded InMemory database with those hooks
 * (untimed), notes the live bytes, then runs the timed part:
 *
 *  mem_bytes_per_kv_entry  100,000 one-shot rs_kv_put of distinct 16-byte
 *                          keys with 100-byte values into one run.
 *  mem_bytes_per_run       10,000 one-shot rs_kv_put into 10,000 distinct
 *                          runs: each put creates its run, which then
 *                          holds one 16-byte key with a 100-byte value.
 *  mem_bytes_per_event     100,000 rs_eventlog_append into one run (type
 *                          "tool_call", 100-byte payload).
 *  mem_bytes_per_trace     100,000 rs_tracestore_record into one run (type
 *                          "llm_call", 100-byte payload, no tags, no
 *                          parent: tracestore_record_minimal's trace).
 *  index_amp_ratio_trace   100,000 rs_tracestore_record into one run, each with
 *                          one of 10 types, 3 tags (the same 3 on every
 *                          trace) and a parent (trace i's parent is
 *                          (i - 1) / 3: a ternary tree), i.e. every kind
 *                          of index entry.
 *  index_amp_ratio_run     10,000 rs_runindex_create, each with a unique
 *                          16-byte name, 3 tags (the same 3) and one of
 *                          100 parents.
 *
 * then, untimed: what the thread's contexts retired is freed
 * (rs__txn_flush_retired: replaced slot arrays wait there for a grace
 * period), pending call_rcu callbacks run (rs__rcu_barrier), and the live
 * bytes are read again. bytes_per_item (and the benchmark's own name for
 * it: bytes_per_entry, bytes_per_run, ...) = (live after - live before) /
 * items: the nodes, versions, the table's slot arrays at their final size,
 * run records, index entries, everything. Also reported: live blocks per
 * item and, with jemalloc, the same difference from its stats.allocated
 * (after an epoch refresh) as a cross-check.
 *
 * The two ratios divide that by the bytes of the bare record: the item's
 * own record without any index entry. Its size is taken from the commit
 * record of one item (a durability backend that only notes records: the
 * op whose key starts with the kind byte 0x01), and its bytes are
 * measured the same way as a round of as many rs_kv_put of keys and
 * values of exactly those lengths into one run (a KV entry and a
 * primitive's entry are the same table entry). keys_per_item counts the
 * keys one item's commit writes (index entries, list lengths and heads
 * included).
 *
 * The time per operation is that of an insert into a growing table with
 * counting hooks (two atomic adds per allocation); it is not a gated
 * figure. The hooks, the flush and the barrier are in live.c (the
 * latter two are library internals, used for accounting only); this file
 * uses the public API only.
 */
#include "common.h"
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define MEM_RUNS 10000u
#define MEM_PARENTS 100u

/* ---- rounds ---- */

static double je_allocated(void)
{
#ifdef RS_HAVE_JEMALLOC
	uint64_t epoch = 1;
	size_t v = 0, sz = sizeof(v);

	if (mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0 ||
	    mallctl("stats.allocated", &v, &sz, NULL, 0) != 0)
		return -1;
	return (double)v;
#else
	return -1;
#endif
}

typedef struct mem_round {
	rs_db *db;
	int64_t bytes0, blocks0;
	double je0;
} mem_round;

typedef struct mem_sum {
	double bytes, blocks, je;
	int rounds;
	bool je_ok;
} mem_sum;

static int round_open(mem_round *r)
{
	int rc;

	if ((rc = rs_bench_live_open(&r->db)) < 0)
		return rc;
	r->bytes0 = rs_bench_live_bytes();
	r->blocks0 = rs_bench_live_blocks();
	r->je0 = je_allocated();
	return 0;
}

/* Account for the round's `items`, then close its database. */
static void round_close(mem_round *r, size_t items, mem_sum *sum)
{
	double je1;

	rs_bench_live_settle(r->db);
	je1 = je_allocated();
	sum->bytes =
		(double)(rs_bench_live_bytes() - r->bytes0) / (double)items;
	sum->blocks =
		(double)(rs_bench_live_blocks() - r->blocks0) / (double)items;
	sum->je_ok = r->je0 >= 0 && je1 >= 0;
	sum->je = sum->je_ok ? (je1 - r->je0) / (double)items : 0;
	sum->rounds++;
	rs_db_close(r->db);
	r->db = NULL;
}

/* ---- items ---- */

enum mem_kind {
	MK_KV,
	MK_RUN,
	MK_EVENT,
	MK_TRACE,
	MK_TRACE_FULL,
	MK_RUN_REG,
	MK_BARE /* rs_kv_put of the bare record's shape (ratios) */
};

typedef struct mem_cfg {
	enum mem_kind kind;
	size_t n;	     /* items per round */
	const char *counter; /* bytes per item, under this name */
	enum mem_kind ratio; /* MK_TRACE_FULL / MK_RUN_REG: a ratio */
	uint8_t tag;	     /* the item's primitive tag (ratios) */
} mem_cfg;

typedef struct mem_ctx {
	rs_bench_keys k;
	rs_run_id run;
	rs_run_id *runs;    /* MK_RUN: n runs; MK_RUN_REG: n ids */
	rs_run_id *parents; /* MK_RUN_REG */
	rs_bytes tags[3];
	char types[10][8];
	unsigned char *bare_keys; /* MK_BARE: n keys of bare_klen */
	unsigned char *bare_val;
	size_t bare_klen, bare_vlen;
} mem_ctx;

static const char *const mem_tags[3] = { "env:prod", "model:large",
					 "agent:planner" };

static inline int mem_item(const mem_ctx *m, enum mem_kind kind, rs_db *db,
			   size_t i)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	const char *t;

	switch (kind) {
	case MK_KV:
		return rs_kv_put(db, &m->run, rs_bench_key(&m->k, i),
				 RS_BENCH_KEY_LEN, rs_bench_val(&m->k, i),
				 RS_BENCH_VAL_LEN);
	case MK_RUN:
		return rs_kv_put(db, &m->runs[i], rs_bench_key(&m->k, 0),
				 RS_BENCH_KEY_LEN, rs_bench_val(&m->k, i),
				 RS_BENCH_VAL_LEN);
	case MK_EVENT:
		return rs_eventlog_append(db, &m->run, "tool_call", 9,
					  rs_bench_val(&m->k, i),
					  RS_BENCH_VAL_LEN, NULL);
	case MK_TRACE:
		return rs_tracestore_record(
			db, &m->run, "llm_call", 8, rs_bench_val(&m->k, i),
			RS_BENCH_VAL_LEN, NULL, 0, RS_TRACE_NONE, NULL);
	case MK_TRACE_FULL:
		t = m->types[i % 10];
		return rs_tracestore_record(
			db, &m->run, t, 6, rs_bench_val(&m->k, i),
			RS_BENCH_VAL_LEN, m->tags, 3,
			i ? (uint64_t)(i - 1) / 3 : RS_TRACE_NONE, NULL);
	case MK_RUN_REG:
		o.id = &m->runs[i];
		o.name = (const char *)rs_bench_key(&m->k, i);
		o.name_len = RS_BENCH_KEY_LEN;
		o.parent = &m->parents[i % MEM_PARENTS];
		o.tags = m->tags;
		o.ntags = 3;
		return rs_runindex_create(db, &o, NULL);
	case MK_BARE:
		return rs_kv_put(db, &m->run, m->bare_keys + i * m->bare_klen,
				 m->bare_klen, m->bare_val, m->bare_vlen);
	}
	return RS_EINVAL;
}

static void mem_ctx_free(mem_ctx *m)
{
	rs_bench_keys_free(&m->k);
	free(m->runs);
	free(m->parents);
	free(m->bare_keys);
	free(m->bare_val);
}

static int mem_ctx_init(mem_ctx *m, const mem_cfg *c)
{
	bool per_run = c->kind == MK_RUN || c->kind == MK_RUN_REG;
	int rc;

	memset(m, 0, sizeof(*m));
	rs_bench_run_id(&m->run, 4);
	for (int i = 0; i < 3; i++) {
		m->tags[i].data = mem_tags[i];
		m->tags[i].len = strlen(mem_tags[i]);
	}
	for (unsigned i = 0; i < 10; i++)
		snprintf(m->types[i], sizeof(m->types[i]), "type_%u", i);
	if ((rc = rs_bench_keys_make(&m->k, c->kind == MK_RUN ? 1 : c->n)) < 0)
		return rc;
	if (per_run) {
		m->runs = malloc(c->n * sizeof(*m->runs));
		m->parents = malloc(MEM_PARENTS * sizeof(*m->parents));
		if (!m->runs || !m->parents)
			return RS_ENOMEM;
		for (size_t i = 0; i < c->n; i++)
			rs_bench_run_id_n(&m->runs[i], 0x70u, i);
		for (size_t i = 0; i < MEM_PARENTS; i++)
			rs_bench_run_id_n(&m->parents[i], 0x71u, i);
	}
	return 0;
}

/* Two items into a capturing database: the second one's commit (a trace
 * with a parent) is the typical one. */
typedef struct cap_arg {
	const mem_ctx *m;
	enum mem_kind kind;
} cap_arg;

static int cap_items(rs_db *db, void *ctx)
{
	const cap_arg *a = ctx;
	int rc = 0;

	for (size_t i = 0; i < 5 && rc == 0; i++)
		rc = mem_item(a->m, a->kind, db, i);
	return rc;
}

/* Live bytes per item of n items of `kind` into one fresh database. */
static int mem_once(const mem_ctx *m, enum mem_kind kind, size_t n,
		    mem_sum *sum)
{
	mem_round r;
	int rc;

	if ((rc = round_open(&r)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = mem_item(m, kind, r.db, i);
	round_close(&r, n, sum);
	return rc;
}

/* The bare record of `kind`: its shape from a captured commit, its bytes
 * measured as n KV entries of that shape. */
static int mem_bare(mem_ctx *m, const mem_cfg *c, rs_bench_capture *cap,
		    mem_sum *bare)
{
	cap_arg a = { m, c->kind };
	int rc;

	cap->tag = c->tag;
	if ((rc = rs_bench_capture_last(cap_items, &a, cap)) < 0)
		return rc;
	if (!cap->rec_klen || cap->rec_klen < 9)
		return RS_ECORRUPT;
	m->bare_klen = cap->rec_klen;
	m->bare_vlen = cap->rec_vlen;
	m->bare_keys = calloc(c->n, m->bare_klen);
	m->bare_val = malloc(m->bare_vlen ? m->bare_vlen : 1);
	if (!m->bare_keys || !m->bare_val)
		return RS_ENOMEM;
	memset(m->bare_val, 'r', m->bare_vlen ? m->bare_vlen : 1);
	for (size_t i = 0; i < c->n; i++) {
		unsigned char *k = m->bare_keys + i * m->bare_klen;

		k[0] = 0x01;
		for (size_t b = 0; b < 8; b++)
			k[m->bare_klen - 1 - b] = (unsigned char)(i >> (8 * b));
	}
	return mem_once(m, MK_BARE, c->n, bare);
}

static void bm_mem(rs_bench_state *st)
{
	const mem_cfg *c = rs_bench_arg(st);
	size_t n = c->n;
	mem_ctx m;
	mem_round r = { 0 };
	mem_sum sum = { 0 }, bare = { 0 };
	rs_bench_capture cap = { 0 };
	bool first = true;
	int rc, bad = 0;

	if ((rc = mem_ctx_init(&m, c)) < 0 || (rc = round_open(&r)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		goto out;
	}
	/* Each batch is one round: n items into a fresh database. */
	while (!bad && rs_bench_keep_running_batch(st, n)) {
		if (!first) {
			rs_bench_pause(st);
			round_close(&r, n, &sum);
			if ((rc = round_open(&r)) < 0)
				bad = rc;
			rs_bench_resume(st);
			if (bad)
				break;
		}
		first = false;
		for (size_t i = 0; i < n; i++)
			if (RS_BENCH_UNLIKELY(
				    (rc = mem_item(&m, c->kind, r.db, i)) < 0))
				bad = rc;
	}
	if (r.db)
		round_close(&r, n, &sum);
	if (!bad && c->ratio == c->kind && (rc = mem_bare(&m, c, &cap, &bare)))
		bad = rc;
	if (!bad && !cap.nops && c->kind != MK_KV && c->kind != MK_RUN) {
		cap_arg a = { &m, c->kind };

		cap.tag = c->tag;
		if ((rc = rs_bench_capture_last(cap_items, &a, &cap)) < 0)
			bad = rc;
	}
	if (bad) {
		rs_bench_skip_with_error(st, rs_strerror(bad));
		goto out;
	}
	/* Every round inserts the same items: the last round's figures. */
	rs_bench_counter(st, c->counter, sum.bytes, RS_BENCH_COUNTER_PLAIN);
	if (c->ratio == c->kind) {
		rs_bench_counter(st, "bytes_bare_record", bare.bytes,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "bare_key_len", (double)cap.rec_klen,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "bare_value_len", (double)cap.rec_vlen,
				 RS_BENCH_COUNTER_PLAIN);
		rs_bench_counter(st, "ratio",
				 bare.bytes > 0 ? sum.bytes / bare.bytes : 0,
				 RS_BENCH_COUNTER_PLAIN);
	}
	if (c->kind != MK_KV && c->kind != MK_RUN)
		rs_bench_counter(st, "keys_per_item", (double)cap.nops,
				 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "blocks_per_item", sum.blocks,
			 RS_BENCH_COUNTER_PLAIN);
	if (sum.je_ok)
		rs_bench_counter(st, "jemalloc_bytes_per_item", sum.je,
				 RS_BENCH_COUNTER_PLAIN);
	rs_bench_counter(st, "rounds", sum.rounds, RS_BENCH_COUNTER_PLAIN);
	rs_bench_items_processed(st, rs_bench_iterations(st));
out:
	mem_ctx_free(&m);
}

void rs_bench_suite_mem(void)
{
	/* .ratio == .kind marks a ratio benchmark (MK_KV is 0: never). */
	static const mem_cfg kv = { MK_KV, RS_BENCH_100K_KEYS,
				    "bytes_per_entry", MK_BARE, 0 },
			     run = { MK_RUN, MEM_RUNS, "bytes_per_run", MK_BARE,
				     0 },
			     ev = { MK_EVENT, RS_BENCH_100K_KEYS,
				    "bytes_per_event", MK_BARE,
				    RS_TAG_EVENTLOG },
			     tr = { MK_TRACE, RS_BENCH_100K_KEYS,
				    "bytes_per_trace", MK_BARE,
				    RS_TAG_TRACESTORE },
			     amp_tr = { MK_TRACE_FULL, RS_BENCH_100K_KEYS,
					"bytes_per_trace", MK_TRACE_FULL,
					RS_TAG_TRACESTORE },
			     amp_run = { MK_RUN_REG, MEM_RUNS, "bytes_per_run",
					 MK_RUN_REG, RS_TAG_RUNINDEX };

	RS_BENCH("mem_bytes_per_kv_entry", bm_mem, (void *)&kv);
	RS_BENCH("mem_bytes_per_run", bm_mem, (void *)&run);
	RS_BENCH("mem_bytes_per_event", bm_mem, (void *)&ev);
	RS_BENCH("mem_bytes_per_trace", bm_mem, (void *)&tr);
	RS_BENCH("index_amp_ratio_trace", bm_mem, (void *)&amp_tr);
	RS_BENCH("index_amp_ratio_run", bm_mem, (void *)&amp_run);
}
