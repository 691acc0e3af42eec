/* SPDX-License-Identifier: MIT */
/*
 * The ordered tier: the ordered index of a run (seek, scans, pages, the
 * newest key under a prefix) and the commit path of a large run. Public
 * API only (runstate.h), InMemory. The reads run on the sharded store
 * (their catalog name) and the unified store (name@unified); the puts on
 * the sharded store only. Keys are the suite's (16 bytes,
 * "k000000000000042"; 100-byte values) unless said otherwise.
 *
 * The 1M-key run of each store is built once per process, on first use
 * (about a second; transactions of ORD_FILL_BATCH puts), and shared by
 * every benchmark and probe that reads or overwrites it; it is freed at
 * exit. So is each prefix run of kvstore_latest_under_prefix. Per
 * operation, inside the timed loop:
 *
 *  kvstore_seek/1M          a one-shot cursor opened once (its snapshot is
 *                           fixed): rs_cursor_seek(RS_SEEK_GE) at the next
 *                           key of the shuffled order (it exists), copy of
 *                           its 100-byte value into a caller buffer.
 *  kvstore_scan/100         the same cursor: rs_cursor_seek(RS_SEEK_GE) at
 *                           the next start (rs_bench_scan_start), then 99
 *                           rs_cursor_next: 100 entries, each value copied.
 *                           Time per scan.
 *  kvstore_scan_reverse/100 rs_cursor_seek(RS_SEEK_LE) and 99
 *                           rs_cursor_prev.
 *  kvstore_list_first_page  rs_kv_list of the prefix "k" (every key),
 *                           limit 100, more_out asked, no cursor: the
 *                           first page; the callback copies each value.
 *  kvstore_list_deep_page   the same with `after` = the last key of page
 *                           999: the 1,000th page (keys 99,900..99,999).
 *  kvstore_latest_under_prefix/{1k,100k}
 *                           a run of nine prefixes "t000/".."t008/" (keys
 *                           "t004/00000000042", 16 bytes) holding 1,000
 *                           keys each but "t004/", which holds 1,000 or
 *                           100,000: on a one-shot cursor opened once,
 *                           rs_cursor_last("t004/"), value copied.
 *  kvstore_latest_under_prefix_oneshot/{1k,100k}
 *                           the same as a caller does it once:
 *                           rs_kv_cursor_open, rs_cursor_last,
 *                           rs_cursor_close.
 *  kvstore_put_overwrite/1M rs_kv_put of a uniform random key of the 1M
 *                           run (a pre-generated sequence of 2^20 keys):
 *                           an overwrite.
 *  kvstore_put_growing      rs_kv_put of the next key of the 1M keys'
 *                           shuffled order into a run that starts empty;
 *                           after the 1,000,000th the timer is paused, the
 *                           database is closed and a fresh one opened.
 *
 * Every result is checked: return codes and value lengths in the loop,
 * the keys reached (bytes) in an untimed pass before it, the page sizes
 * and more_out of every listing.
 *
 * Probes (outside any timed loop, one clock read per put): latency of
 * each of 1,000,000 puts growing a fresh run from 0 to 1M keys
 * ("lat.kvstore_put_growing"), and of 1,000,000 uniform overwrites of the
 * 1M-key run ("lat.kvstore_put_overwrite/1M"), each with the number of
 * times the thread was preempted meanwhile (".nivcsw": getrusage's
 * involuntary context switches), since each of those is a sample of the
 * tail that the library did not cause. Then, with the overwrite probe,
 * the machine's own tail ("lat.floor", probe_floor): as many operations
 * of constant work, timed the same way.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

/* Length of the uniform sequence of kvstore_put_overwrite/1M. */
#define ORD_UNI_LEN (1u << 20)
#define ORD_UNI_SEED 0x0bd3e7ull
/* Untimed operations before each timed loop: the run is shared and warm,
 * only the new cursor or snapshot needs them. */
#define ORD_WARMUP 8192u
/* Puts per transaction filling the runs (few copies on the unified
 * store, whose transactions begin with a copy of the run). */
#define ORD_FILL_BATCH 65536u
/* Warm-up of the operations that take a snapshot each on the unified
 * store (a copy of the whole run: milliseconds at 1M keys). */
#define ORD_WARMUP_COPY 2u
/* kvstore_list_*: entries per page, and the deep page (1-based). */
#define ORD_PAGE 100u
#define ORD_DEEP_PAGE 1000u
/* Samples of each put latency probe. */
#define ORD_LAT_SAMPLES 1000000u

/* ---- the shared runs ---- */

typedef struct big_run {
	bool tried;
	int rc;
	rs_db *db;
	rs_run_id run;
	const rs_bench_keys *k;
	uint32_t *uni; /* ORD_UNI_LEN uniform indices into k */
} big_run;

/* kvstore_latest_under_prefix: nine prefixes, the middle one holding
 * `n` keys, the others LP_OTHER keys. */
#define LP_PREFIXES 9u
#define LP_TARGET 4u
#define LP_OTHER 1000u
#define LP_PLEN 5u

typedef struct lp_run {
	bool tried;
	int rc;
	uint32_t n;
	rs_db *db;
	rs_run_id run;
	unsigned char prefix[LP_PLEN];
	unsigned char last[RS_BENCH_KEY_LEN]; /* the newest key under it */
} lp_run;

/* By store (RS_STORAGE_SHARDED, RS_STORAGE_UNIFIED), and for lp by
 * size (1k, 100k). */
static big_run big[2];
static lp_run lp[2][2];

static void ord_free(void)
{
	for (size_t i = 0; i < 2; i++) {
		rs_db_close(big[i].db);
		big[i].db = NULL;
		free(big[i].uni);
		big[i].uni = NULL;
		for (size_t j = 0; j < 2; j++) {
			rs_db_close(lp[i][j].db);
			lp[i][j].db = NULL;
		}
	}
}

static void ord_atexit(void)
{
	static bool done;

	if (!done)
		atexit(ord_free);
	done = true;
}

/* The 1M-key run on `storage`, built on the first call: 0 or an RS_E*
 * code. */
static int big_get(big_run **out, rs_storage storage)
{
	big_run *b = *out = &big[storage == RS_STORAGE_UNIFIED];
	uint64_t x = ORD_UNI_SEED;

	if (b->tried)
		return b->rc;
	b->tried = true;
	ord_atexit();
	b->k = rs_bench_keys_1m();
	b->uni = malloc(ORD_UNI_LEN * sizeof(*b->uni));
	if (!b->k || !b->uni)
		return b->rc = RS_ENOMEM;
	for (size_t i = 0; i < ORD_UNI_LEN; i++)
		b->uni[i] = (uint32_t)(rs_bench_rand(&x) % b->k->n);
	rs_bench_run_id(&b->run, 12);
	if ((b->rc = rs_bench_db_open(&b->db, storage, false)) < 0)
		return b->rc;
	return b->rc = rs_bench_db_fill_batch(b->db, &b->run, b->k,
					      ORD_FILL_BATCH);
}

/* "t%03u/%011u": prefix p, sequence s. */
static void lp_key(unsigned char *key, unsigned p, uint32_t s)
{
	key[0] = 't';
	for (size_t d = 3; d >= 1; d--, p /= 10)
		key[d] = (unsigned char)('0' + p % 10);
	key[4] = '/';
	for (size_t d = RS_BENCH_KEY_LEN - 1; d >= LP_PLEN; d--, s /= 10)
		key[d] = (unsigned char)('0' + s % 10);
}

static int lp_fill(lp_run *r, const rs_bench_keys *vals)
{
	unsigned char key[RS_BENCH_KEY_LEN];
	rs_txn *txn = NULL;
	size_t done = 0;
	int rc = 0;

	for (unsigned p = 0; p < LP_PREFIXES && rc == 0; p++) {
		uint32_t n = p == LP_TARGET ? r->n : LP_OTHER;

		for (uint32_t s = 0; s < n && rc == 0; s++, done++) {
			if (!txn &&
			    (rc = rs_txn_begin(&txn, r->db, &r->run, 0)) < 0)
				return rc;
			lp_key(key, p, s);
			rc = rs_txn_kv_put(txn, key, sizeof(key),
					   rs_bench_val(vals, done),
					   RS_BENCH_VAL_LEN);
			if (rc == 0 &&
			    done % ORD_FILL_BATCH == ORD_FILL_BATCH - 1) {
				rc = rs_txn_commit(txn);
				txn = NULL;
			}
		}
	}
	if (txn && rc == 0)
		return rs_txn_commit(txn);
	rs_txn_abort(txn);
	return rc;
}

/* The prefix run on `storage` holding n (1,000 or 100,000) keys under
 * its prefix. */
static int lp_get(lp_run **out, rs_storage storage, uint32_t n)
{
	lp_run *r = *out = &lp[storage == RS_STORAGE_UNIFIED][n > LP_OTHER];
	const rs_bench_keys *vals = rs_bench_keys_1m();

	if (r->tried)
		return r->rc;
	r->tried = true;
	r->n = n;
	ord_atexit();
	if (!vals)
		return r->rc = RS_ENOMEM;
	lp_key(r->last, LP_TARGET, r->n - 1);
	memcpy(r->prefix, r->last, LP_PLEN);
	rs_bench_run_id(&r->run, 14);
	if ((r->rc = rs_bench_db_open(&r->db, storage, false)) < 0)
		return r->rc;
	return r->rc = lp_fill(r, vals);
}

/* ---- cursor benchmarks ---- */

typedef struct cur_fix {
	rs_db *db;
	const rs_run_id *run;
	rs_cursor *cur;
	const rs_bench_keys *k;
	size_t pos;
	const lp_run *lp;
	unsigned char buf[RS_BENCH_VAL_LEN];
} cur_fix;

static inline int cur_take(cur_fix *f, int rc, rs_bytes v)
{
	return rc < 0 ? rc : rs_bench_copy_val(f->buf, v.data, v.len);
}

RS_BENCH_INLINE int seek_op(void *p)
{
	cur_fix *f = p;
	uint32_t i = rs_bench_next(f->k, &f->pos);
	rs_bytes k, v;

	return cur_take(f,
			rs_cursor_seek(f->cur, rs_bench_key(f->k, i),
				       RS_BENCH_KEY_LEN, RS_SEEK_GE, &k, &v),
			v);
}

RS_BENCH_INLINE int scan_op(cur_fix *f, bool rev)
{
	uint32_t i = rs_bench_scan_start(f->k, &f->pos, rev);
	rs_bytes k, v;
	int rc;

	rc = cur_take(f,
		      rs_cursor_seek(f->cur, rs_bench_key(f->k, i),
				     RS_BENCH_KEY_LEN,
				     rev ? RS_SEEK_LE : RS_SEEK_GE, &k, &v),
		      v);
	for (unsigned j = 1; j < RS_BENCH_SCAN_LEN && rc == 0; j++)
		rc = cur_take(f,
			      rev ? rs_cursor_prev(f->cur, &k, &v)
				  : rs_cursor_next(f->cur, &k, &v),
			      v);
	return rc;
}

RS_BENCH_INLINE int scan_fwd_op(void *p)
{
	return scan_op(p, false);
}

RS_BENCH_INLINE int scan_rev_op(void *p)
{
	return scan_op(p, true);
}

RS_BENCH_INLINE int last_op(void *p)
{
	cur_fix *f = p;
	rs_bytes k, v;

	return cur_take(
		f, rs_cursor_last(f->cur, f->lp->prefix, LP_PLEN, &k, &v), v);
}

RS_BENCH_INLINE int last_oneshot_op(void *p)
{
	cur_fix *f = p;
	rs_cursor *cur;
	rs_bytes k, v;
	int rc;

	if ((rc = rs_kv_cursor_open(f->db, f->run, &cur)) < 0)
		return rc;
	rc = cur_take(f, rs_cursor_last(cur, f->lp->prefix, LP_PLEN, &k, &v),
		      v);
	rs_cursor_close(cur);
	return rc;
}

/* Whether the cursor's entry is key i of k (bytes compared). */
static bool cur_at(const rs_bytes *k, const void *want)
{
	return k->len == RS_BENCH_KEY_LEN &&
	       memcmp(k->data, want, RS_BENCH_KEY_LEN) == 0;
}

/* The untimed check before a timed loop: the keys the operation reaches
 * are the right ones. */
static int cur_check(cur_fix *f, rs_bench_op_fn op)
{
	rs_bytes k, v;
	int rc = 0;

	if (op == last_op || op == last_oneshot_op) {
		rc = rs_cursor_last(f->cur, f->lp->prefix, LP_PLEN, &k, &v);
		return rc < 0 ? rc : cur_at(&k, f->lp->last) ? 0 : RS_ECORRUPT;
	}
	/* The first keys the timed loop visits (its position starts at 0). */
	for (size_t t = 0, pos = 0; t < 64 && rc == 0; t++) {
		bool rev = op == scan_rev_op;
		uint32_t i = op == seek_op
				     ? rs_bench_next(f->k, &pos)
				     : rs_bench_scan_start(f->k, &pos, rev);
		unsigned steps = op == seek_op ? 1 : RS_BENCH_SCAN_LEN;

		rc = rs_cursor_seek(f->cur, rs_bench_key(f->k, i),
				    RS_BENCH_KEY_LEN,
				    rev ? RS_SEEK_LE : RS_SEEK_GE, &k, &v);
		for (unsigned j = 0; j < steps && rc == 0; j++) {
			if (!cur_at(&k,
				    rs_bench_key(f->k, rev ? i - j : i + j)))
				return RS_ECORRUPT;
			if (j + 1 < steps)
				rc = rev ? rs_cursor_prev(f->cur, &k, &v)
					 : rs_cursor_next(f->cur, &k, &v);
		}
	}
	return rc;
}

RS_BENCH_INLINE void cur_run(rs_bench_state *st, rs_bench_op_fn op)
{
	const rs_bench_cfg *cfg = rs_bench_cfg_of(st);
	bool prefix = op == last_op || op == last_oneshot_op;
	cur_fix f;
	int rc;

	memset(&f, 0, sizeof(f));
	if (prefix) {
		lp_run *r;

		rc = lp_get(&r, cfg->storage, (uint32_t)cfg->nkeys);
		f.db = r->db;
		f.run = &r->run;
		f.lp = r;
	} else {
		big_run *b;

		rc = big_get(&b, cfg->storage);
		f.db = b->db;
		f.run = &b->run;
		f.k = b->k;
	}
	if (rc == 0)
		rc = rs_kv_cursor_open(f.db, f.run, &f.cur);
	if (rc == 0)
		rc = cur_check(&f, op);
	if (rc < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
	} else {
		size_t warm = cfg->storage == RS_STORAGE_UNIFIED &&
					      op == last_oneshot_op
				      ? ORD_WARMUP_COPY
				      : ORD_WARMUP;

		rs_bench_finish(st, rs_bench_loop(st, op, &f, warm));
		if (op == scan_fwd_op || op == scan_rev_op)
			rs_bench_items_processed(st, rs_bench_iterations(st) *
							     RS_BENCH_SCAN_LEN);
	}
	rs_cursor_close(f.cur);
}

#define CUR_BENCH(bm, op)                  \
	static void bm(rs_bench_state *st) \
	{                                  \
		cur_run(st, op);           \
	}

CUR_BENCH(bm_seek, seek_op)
CUR_BENCH(bm_scan, scan_fwd_op)
CUR_BENCH(bm_scan_rev, scan_rev_op)
CUR_BENCH(bm_latest, last_op)
CUR_BENCH(bm_latest_oneshot, last_oneshot_op)

/* ---- listing pages ---- */

typedef struct list_fix {
	rs_db *db;
	const rs_run_id *run;
	const unsigned char *after; /* NULL: the first page */
	const unsigned char *first; /* the page's first key */
	size_t n;		    /* entries of the current page */
	bool bad;		    /* a value of the wrong length */
	unsigned char buf[RS_BENCH_VAL_LEN];
} list_fix;

static int list_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	list_fix *f = ctx;

	(void)key;
	f->bad |= rs_bench_copy_val(f->buf, value.data, value.len) < 0;
	f->n++;
	return 0;
}

RS_BENCH_INLINE int list_op(void *p)
{
	list_fix *f = p;
	bool more = false;
	int rc;

	f->n = 0;
	rc = rs_kv_list(f->db, f->run, "k", 1, f->after,
			f->after ? RS_BENCH_KEY_LEN : 0, ORD_PAGE, &more,
			list_cb, f);
	if (rc < 0)
		return rc;
	return f->n == ORD_PAGE && more && !f->bad ? 0 : RS_ECORRUPT;
}

static int list_check_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	list_fix *f = ctx;

	(void)value;
	if (f->n++ == 0 && !cur_at(&key, f->first))
		f->bad = true;
	return 0;
}

RS_BENCH_INLINE void list_run(rs_bench_state *st, bool deep)
{
	rs_storage storage = rs_bench_cfg_of(st)->storage;
	big_run *b;
	list_fix f;
	int rc;

	memset(&f, 0, sizeof(f));
	if ((rc = big_get(&b, storage)) == 0) {
		/* A quick run has 1/10 of the keys: page 100, as deep. */
		size_t page = rs_bench_quick()
				      ? ORD_DEEP_PAGE / RS_BENCH_QUICK_DIV
				      : ORD_DEEP_PAGE;
		size_t first = deep ? (page - 1) * ORD_PAGE : 0;

		f.db = b->db;
		f.run = &b->run;
		f.after = deep ? rs_bench_key(b->k, first - 1) : NULL;
		f.first = rs_bench_key(b->k, first);
		rc = rs_kv_list(f.db, f.run, "k", 1, f.after,
				f.after ? RS_BENCH_KEY_LEN : 0, ORD_PAGE, NULL,
				list_check_cb, &f);
		if (rc == 0 && (f.bad || f.n != ORD_PAGE))
			rc = RS_ECORRUPT;
	}
	if (rc < 0)
		rs_bench_skip_with_error(st, rs_strerror(rc));
	else
		rs_bench_finish(st, rs_bench_loop(st, list_op, &f,
						  storage == RS_STORAGE_UNIFIED
							  ? ORD_WARMUP_COPY
							  : ORD_WARMUP));
}

static void bm_list_first(rs_bench_state *st)
{
	list_run(st, false);
}

static void bm_list_deep(rs_bench_state *st)
{
	list_run(st, true);
}

/* ---- puts ---- */

typedef struct put_fix {
	rs_db *db;
	const rs_run_id *run;
	const rs_bench_keys *k;
	const uint32_t *uni;
	size_t pos;
} put_fix;

RS_BENCH_INLINE int overwrite_op(void *p)
{
	put_fix *f = p;
	uint32_t i = f->uni[f->pos++ & (ORD_UNI_LEN - 1)];

	return rs_kv_put(f->db, f->run, rs_bench_key(f->k, i), RS_BENCH_KEY_LEN,
			 rs_bench_val(f->k, i + f->pos), RS_BENCH_VAL_LEN);
}

/* The next new key of a growing run; the caller keeps f->pos < n. */
RS_BENCH_INLINE int grow_op(void *p)
{
	put_fix *f = p;
	uint32_t i = f->k->order[f->pos++];

	return rs_kv_put(f->db, f->run, rs_bench_key(f->k, i), RS_BENCH_KEY_LEN,
			 rs_bench_val(f->k, i), RS_BENCH_VAL_LEN);
}

static int overwrite_setup(put_fix *f)
{
	big_run *b;
	int rc = big_get(&b, RS_STORAGE_SHARDED);

	memset(f, 0, sizeof(*f));
	f->db = b->db;
	f->run = &b->run;
	f->k = b->k;
	f->uni = b->uni;
	return rc;
}

static void bm_put_overwrite(rs_bench_state *st)
{
	put_fix f;
	int rc = overwrite_setup(&f);

	if (rc < 0)
		rs_bench_skip_with_error(st, rs_strerror(rc));
	else
		rs_bench_finish(
			st, rs_bench_loop(st, overwrite_op, &f, ORD_WARMUP));
}

static rs_run_id grow_run;

static int grow_setup(put_fix *f)
{
	memset(f, 0, sizeof(*f));
	rs_bench_run_id(&grow_run, 13);
	f->run = &grow_run;
	if (!(f->k = rs_bench_keys_1m()))
		return RS_ENOMEM;
	return rs_bench_db_open(&f->db, RS_STORAGE_SHARDED, false);
}

static void bm_put_growing(rs_bench_state *st)
{
	put_fix f;
	int rc, bad = grow_setup(&f);

	/* RS_BENCH_1M_KEYS is a multiple of the batch: a batch never
	 * crosses a restart. */
	while (!bad && rs_bench_keep_running_batch(st, RS_BENCH_BATCH)) {
		if (f.pos == f.k->n) {
			rs_bench_pause(st);
			rs_db_close(f.db);
			f.db = NULL;
			f.pos = 0;
			bad = rs_bench_db_open(&f.db, RS_STORAGE_SHARDED,
					       false);
			rs_bench_resume(st);
		}
		for (unsigned j = 0; j < RS_BENCH_BATCH && !bad; j++)
			if (RS_BENCH_UNLIKELY((rc = grow_op(&f)) < 0))
				bad = rc;
	}
	rs_bench_finish(st, bad);
	rs_db_close(f.db);
}

/* ---- probes ---- */

/* Involuntary context switches of the calling thread so far. */
static double nivcsw(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) == 0 ? (double)ru.ru_nivcsw : 0;
}

/* n operations by op (puts, or the floor's), one clock read each,
 * recorded as <prefix>, and as <prefix>.nivcsw the times the thread was
 * preempted meanwhile. */
static void put_latency(void *f, rs_bench_op_fn op, size_t n,
			const char *prefix)
{
	uint64_t *s = malloc(n * sizeof(*s));
	uint64_t t0, t1;
	char name[128];
	double cs;
	int bad = 0;

	if (!s)
		return;
	cs = nivcsw();
	t0 = rs_bench_now_ns();
	for (size_t i = 0; i < n; i++) {
		bad |= op(f) < 0;
		t1 = rs_bench_now_ns();
		s[i] = t1 - t0;
		t0 = t1;
	}
	cs = nivcsw() - cs;
	if (!bad) {
		rs_bench_record_latency(prefix, s, n);
		snprintf(name, sizeof(name), "%s.nivcsw", prefix);
		rs_bench_metric_set(name, cs);
	}
	free(s);
}

static void probe_put_overwrite(void)
{
	put_fix f;

	if (overwrite_setup(&f) < 0 ||
	    rs_bench_warm(overwrite_op, &f, ORD_WARMUP) < 0)
		return;
	put_latency(&f, overwrite_op, rs_bench_scaled(ORD_LAT_SAMPLES),
		    "lat.kvstore_put_overwrite/1M");
}

static void probe_put_growing(void)
{
	put_fix f;

	if (grow_setup(&f) == 0)
		put_latency(&f, grow_op, f.k->n, "lat.kvstore_put_growing");
	rs_db_close(f.db);
}

/*
 * The machine's own tail ("lat.floor"), measured right after the put
 * probes and the same way: ORD_LAT_SAMPLES operations of constant work,
 * FLOOR_LOADS dependent loads each through one random cycle over
 * FLOOR_SLOTS 4-byte slots (64 MiB: cache misses, as a put into the
 * 1M-key run has). Nothing in it varies but what the scheduler,
 * interrupts and the hypervisor add, so its p99.9 / p50 is the floor
 * under the puts' on this machine in this run.
 */
#define FLOOR_SLOTS (1u << 24)
#define FLOOR_LOADS 8u

typedef struct floor_fix {
	uint32_t *next;
	uint32_t at;
} floor_fix;

RS_BENCH_INLINE int floor_op(void *p)
{
	floor_fix *f = p;
	uint32_t at = f->at;

	for (unsigned i = 0; i < FLOOR_LOADS; i++)
		at = f->next[at];
	f->at = at;
	return 0;
}

static void probe_floor(void)
{
	/* A quick run (1/10 of the data) only checks that it runs. */
	uint32_t slots = (uint32_t)rs_bench_scaled(FLOOR_SLOTS);
	floor_fix f = { malloc(slots * sizeof(uint32_t)), 0 };
	uint64_t x = ORD_UNI_SEED;

	if (!f.next)
		return;
	/* Sattolo's shuffle: one cycle through every slot. */
	for (uint32_t i = 0; i < slots; i++)
		f.next[i] = i;
	for (uint32_t i = slots - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rs_bench_rand(&x) % i), t = f.next[i];

		f.next[i] = f.next[j];
		f.next[j] = t;
	}
	if (rs_bench_warm(floor_op, &f, ORD_WARMUP) == 0)
		put_latency(&f, floor_op, rs_bench_scaled(ORD_LAT_SAMPLES),
			    "lat.floor");
	free(f.next);
}

void rs_bench_suite_ordered(void)
{
	/* Reads on both stores; nkeys: keys under the prefix (latest). */
	rs_bench_register_both("kvstore_seek/1M", bm_seek, RS_BENCH_1M_KEYS,
			       false);
	rs_bench_register_both("kvstore_scan/100", bm_scan, RS_BENCH_1M_KEYS,
			       false);
	rs_bench_register_both("kvstore_scan_reverse/100", bm_scan_rev,
			       RS_BENCH_1M_KEYS, false);
	rs_bench_register_both("kvstore_list_first_page", bm_list_first,
			       RS_BENCH_1M_KEYS, false);
	rs_bench_register_both("kvstore_list_deep_page", bm_list_deep,
			       RS_BENCH_1M_KEYS, false);
	rs_bench_register_both("kvstore_latest_under_prefix/1k", bm_latest,
			       1000, false);
	rs_bench_register_both("kvstore_latest_under_prefix/100k", bm_latest,
			       rs_bench_scaled(100000), false);
	rs_bench_register_both("kvstore_latest_under_prefix_oneshot/1k",
			       bm_latest_oneshot, 1000, false);
	rs_bench_register_both("kvstore_latest_under_prefix_oneshot/100k",
			       bm_latest_oneshot, rs_bench_scaled(100000),
			       false);
	/* Puts on the sharded store only: on the unified store each one-shot
	 * put copies the whole 1M-key run. */
	RS_BENCH("kvstore_put_overwrite/1M", bm_put_overwrite, NULL);
	RS_BENCH("kvstore_put_growing", bm_put_growing, NULL);

	rs_bench_register_probe("kvstore_put_overwrite/1M latency",
				"kvstore_put_overwrite/1M",
				probe_put_overwrite);
	rs_bench_register_probe("kvstore_put_growing latency",
				"kvstore_put_growing", probe_put_growing);
	rs_bench_register_probe("machine floor latency",
				"kvstore_put_overwrite/1M", probe_floor);
}
