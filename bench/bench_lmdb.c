/* SPDX-License-Identifier: MIT */
/*
 * Report 6, the embedded peer: the same KV workloads on LMDB, in the same
 * run (compiled only when liblmdb was found at build time). Each call of a
 * benchmark creates an environment in a fresh temporary directory
 * ($TMPDIR or /tmp; the report names its filesystem), fills it in one
 * write transaction, runs, closes it and removes the directory. Keys and
 * values are the suite's (16 and 100 bytes). Per operation:
 *
 *  peer_lmdb_get_hot      a database of 10,000 keys, always the same key
 *                         (as cache_hot_key): mdb_txn_renew of one read
 *                         transaction kept for the whole loop, mdb_get,
 *                         copy of the 100-byte value into a caller buffer
 *                         (as rs_kv_get does), mdb_txn_reset.
 *  peer_lmdb_get_10k      the same over uniform random keys of the 10,000,
 *                         in the very sequence cache_uniform_10k reads.
 *  peer_lmdb_put_nosync   a database of 1024 keys, opened with
 *                         MDB_WRITEMAP | MDB_NOSYNC (LMDB's fastest mode,
 *                         not durable): mdb_txn_begin, mdb_put of the next
 *                         key in the shuffled order kvstore_put uses (an
 *                         overwrite), mdb_txn_commit.
 *  peer_lmdb_put_durable  the same with default flags: every commit
 *                         writes and fdatasyncs.
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RS_HAVE_LMDB

#include <errno.h>
#include <unistd.h>

#include <lmdb.h>

enum lop {
	L_GET_HOT,
	L_GET_10K,
	L_PUT_NOSYNC,
	L_PUT_DURABLE
};

typedef struct lenv {
	char dir[256];
	MDB_env *env;
	MDB_dbi dbi;
} lenv;

static void lenv_close(lenv *l)
{
	if (l->env)
		mdb_env_close(l->env);
	l->env = NULL;
	if (l->dir[0])
		rs_bench_rmdir(l->dir);
}

/* A fresh environment holding every key of k; `append`: filled with
 * MDB_APPEND (k's keys ascend), which packs the pages full. */
static int lenv_open(lenv *l, unsigned flags, bool append,
		     const rs_bench_keys *k, char *err, size_t cap)
{
	/* 64 MiB, or 512 bytes per key: room for the 1M-key database. */
	size_t map =
		k->n > ((size_t)64 << 20) / 512 ? k->n * 512 : (size_t)64 << 20;
	const char *tmp = getenv("TMPDIR");
	MDB_txn *txn;
	int rc;

	memset(l, 0, sizeof(*l));
	if (rs_bench_mkdtemp(l->dir, sizeof(l->dir), "lmdb", "lmdb.fs") < 0) {
		snprintf(err, cap, "mkdtemp under %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_create(&l->env)) ||
	    (rc = mdb_env_set_mapsize(l->env, map)) ||
	    (rc = mdb_env_open(l->env, l->dir, flags, 0600)) ||
	    (rc = mdb_txn_begin(l->env, NULL, 0, &txn)))
		goto fail;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &l->dbi))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	for (size_t i = 0; i < k->n; i++) {
		MDB_val key = { RS_BENCH_KEY_LEN, (void *)rs_bench_key(k, i) };
		MDB_val val = { RS_BENCH_VAL_LEN, (void *)rs_bench_val(k, i) };

		if ((rc = mdb_put(txn, l->dbi, &key, &val,
				  append ? MDB_APPEND : 0))) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	return 0;
fail:
	snprintf(err, cap, "lmdb: %s", mdb_strerror(rc));
	lenv_close(l);
	return -1;
}

static void bm_lmdb(rs_bench_state *st)
{
	enum lop op = (enum lop)(uintptr_t)rs_bench_arg(st);
	bool get = op == L_GET_HOT || op == L_GET_10K;
	unsigned flags = op == L_PUT_NOSYNC ? MDB_WRITEMAP | MDB_NOSYNC : 0;
	rs_bench_keys k;
	lenv l;
	uint32_t *seq = NULL;
	MDB_txn *rtxn = NULL;
	unsigned char buf[RS_BENCH_VAL_LEN];
	size_t pos = 0;
	char err[300] = "";
	int rc = 0;

	memset(&l, 0, sizeof(l));
	memset(buf, 0, sizeof(buf));
	if (rs_bench_keys_make(&k, get ? RS_BENCH_10K_KEYS
				       : RS_BENCH_HOT_KEYS) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(RS_ENOMEM));
		return;
	}
	if (get) {
		seq = malloc(RS_BENCH_SEQ_LEN * sizeof(*seq));
		if (!seq) {
			snprintf(err, sizeof(err), "out of memory");
			goto out;
		}
		if (op == L_GET_10K)
			rs_bench_seq_uniform(seq, (uint32_t)k.n,
					     RS_BENCH_UNIFORM_SEED);
		else
			for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
				seq[i] = (uint32_t)(k.n / 2);
	}
	if (lenv_open(&l, flags, false, &k, err, sizeof(err)) < 0)
		goto out;
	if (get) {
		if ((rc = mdb_txn_begin(l.env, NULL, MDB_RDONLY, &rtxn))) {
			snprintf(err, sizeof(err), "lmdb: %s",
				 mdb_strerror(rc));
			goto out;
		}
		mdb_txn_reset(rtxn);
	}
	for (int phase = 0; phase < 2 && !rc; phase++) {
		size_t warm = get ? RS_BENCH_SEQ_LEN : 4096;

		if (op == L_PUT_DURABLE)
			warm = 32; /* each costs an fdatasync */
		while (!rc &&
		       (phase ? rs_bench_keep_running_batch(st, RS_BENCH_BATCH)
			      : warm > 0)) {
			unsigned n = phase ? RS_BENCH_BATCH : 1u;

			if (!phase)
				warm--;
			for (unsigned j = 0; j < n; j++) {
				if (get) {
					MDB_val key = { RS_BENCH_KEY_LEN,
							(void *)rs_bench_key(
								&k, seq[pos]) };
					MDB_val val;

					pos = (pos + 1) &
					      (RS_BENCH_SEQ_LEN - 1);
					if (RS_BENCH_UNLIKELY(
						    (rc = mdb_txn_renew(rtxn))))
						break;
					rc = mdb_get(rtxn, l.dbi, &key, &val);
					if (!rc && val.mv_size == sizeof(buf))
						memcpy(buf, val.mv_data,
						       sizeof(buf));
					else if (!rc)
						rc = MDB_CORRUPTED;
					mdb_txn_reset(rtxn);
					RS_BENCH_DO_NOT_OPTIMIZE(buf[0]);
				} else {
					uint32_t i = k.order[pos];
					MDB_val key = { RS_BENCH_KEY_LEN,
							(void *)rs_bench_key(
								&k, i) };
					MDB_val val = { RS_BENCH_VAL_LEN,
							(void *)rs_bench_val(
								&k, i + pos) };
					MDB_txn *w;

					if (++pos == k.n)
						pos = 0;
					if (RS_BENCH_UNLIKELY(
						    (rc = mdb_txn_begin(l.env,
									NULL, 0,
									&w))))
						break;
					if (RS_BENCH_UNLIKELY((
						    rc = mdb_put(w, l.dbi, &key,
								 &val, 0)))) {
						mdb_txn_abort(w);
						break;
					}
					rc = mdb_txn_commit(w);
				}
				if (RS_BENCH_UNLIKELY(rc))
					break;
			}
		}
	}
	if (rc)
		snprintf(err, sizeof(err), "lmdb: %s", mdb_strerror(rc));
out:
	if (rtxn)
		mdb_txn_abort(rtxn);
	if (err[0])
		rs_bench_skip_with_error(st, err);
	rs_bench_items_processed(st, rs_bench_iterations(st));
	lenv_close(&l);
	free(seq);
	rs_bench_keys_free(&k);
}

/* ---- the ordered tier's peers ---- */

enum lord {
	LO_SEEK,
	LO_SCAN,
	LO_SCAN_REV
};

/* The 1M-key environment, built on first use and shared until exit. */
static lenv big_env;
static bool big_tried;
static char big_err[300];

static void big_env_close(void)
{
	lenv_close(&big_env);
}

static const lenv *big_env_get(void)
{
	const rs_bench_keys *k = rs_bench_keys_1m();

	if (!big_tried) {
		big_tried = true;
		if (!k)
			snprintf(big_err, sizeof(big_err), "out of memory");
		else if (lenv_open(&big_env, MDB_WRITEMAP | MDB_NOSYNC, true, k,
				   big_err, sizeof(big_err)) == 0)
			atexit(big_env_close);
	}
	return big_env.env ? &big_env : NULL;
}

static inline int lord_take(int rc, const MDB_val *key, const MDB_val *val,
			    unsigned char *buf)
{
	if (rc)
		return rc;
	if (RS_BENCH_UNLIKELY(key->mv_size != RS_BENCH_KEY_LEN))
		return MDB_CORRUPTED;
	return rs_bench_copy_val(buf, val->mv_data, val->mv_size) < 0
		       ? MDB_CORRUPTED
		       : 0;
}

/*
 * One operation: MDB_SET_RANGE at the next key (LO_SEEK) or scan start
 * (as kvstore_scan*), then RS_BENCH_SCAN_LEN - 1 MDB_NEXT or MDB_PREV.
 * With `check`, the keys reached are compared with k's (bytes).
 */
RS_BENCH_INLINE int lord_op(MDB_cursor *cur, const rs_bench_keys *k,
			    size_t *pos, enum lord op, unsigned char *buf,
			    bool check)
{
	bool rev = op == LO_SCAN_REV;
	uint32_t i = op == LO_SEEK ? rs_bench_next(k, pos)
				   : rs_bench_scan_start(k, pos, rev);
	unsigned steps = op == LO_SEEK ? 1 : RS_BENCH_SCAN_LEN;
	MDB_val key = { RS_BENCH_KEY_LEN, (void *)rs_bench_key(k, i) };
	MDB_val val;
	int rc;

	rc = lord_take(mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE), &key,
		       &val, buf);
	for (unsigned j = 1; j <= steps && rc == 0; j++) {
		if (check &&
		    memcmp(key.mv_data,
			   rs_bench_key(k, rev ? i - j + 1 : i + j - 1),
			   RS_BENCH_KEY_LEN) != 0)
			return MDB_CORRUPTED;
		if (j < steps)
			rc = lord_take(
				mdb_cursor_get(cur, &key, &val,
					       rev ? MDB_PREV : MDB_NEXT),
				&key, &val, buf);
	}
	return rc;
}

/*
 * One read transaction and one cursor, opened before the loop and kept
 * for it (as kvstore_seek/1M keeps its one-shot cursor): a fixed
 * snapshot on both sides.
 */
static void bm_lmdb_ordered(rs_bench_state *st)
{
	enum lord op = (enum lord)(uintptr_t)rs_bench_arg(st);
	const rs_bench_keys *k = rs_bench_keys_1m();
	const lenv *l = big_env_get();
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	unsigned char buf[RS_BENCH_VAL_LEN];
	size_t pos = 0;
	int rc;

	if (!l) {
		rs_bench_skip_with_error(st, big_err);
		return;
	}
	if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_cursor_open(txn, l->dbi, &cur)))
		goto out;
	/* Untimed: the first keys the loop visits are checked, then a
	 * warm-up as kvstore_seek/1M's. */
	for (unsigned w = 0; w < 64 && !rc; w++)
		rc = lord_op(cur, k, &pos, op, buf, true);
	for (unsigned w = 64; w < 8192 && !rc; w++)
		rc = lord_op(cur, k, &pos, op, buf, false);
	while (!rc && rs_bench_keep_running_batch(st, RS_BENCH_BATCH))
		for (unsigned j = 0; j < RS_BENCH_BATCH && !rc; j++)
			rc = lord_op(cur, k, &pos, op, buf, false);
out:
	if (rc)
		rs_bench_skip_with_error(st, mdb_strerror(rc));
	rs_bench_items_processed(
		st, rs_bench_iterations(st) *
			    (op == LO_SEEK ? 1 : RS_BENCH_SCAN_LEN));
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
}

void rs_bench_suite_lmdb(void)
{
	static const struct {
		const char *name;
		enum lop op;
	} b[] = {
		{ "peer_lmdb_get_hot", L_GET_HOT },
		{ "peer_lmdb_get_10k", L_GET_10K },
		{ "peer_lmdb_put_nosync", L_PUT_NOSYNC },
		{ "peer_lmdb_put_durable", L_PUT_DURABLE },
	};

	int maj, min, pat;
	char ver[64];

	mdb_version(&maj, &min, &pat);
	snprintf(ver, sizeof(ver), "%d.%d.%d", maj, min, pat);
	rs_bench_note_set("lmdb.version", ver);
	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		RS_BENCH(b[i].name, bm_lmdb, (void *)(uintptr_t)b[i].op);
	RS_BENCH("peer_lmdb_seek_1m", bm_lmdb_ordered,
		 (void *)(uintptr_t)LO_SEEK);
	RS_BENCH("peer_lmdb_scan_100", bm_lmdb_ordered,
		 (void *)(uintptr_t)LO_SCAN);
	RS_BENCH("peer_lmdb_scan_reverse_100", bm_lmdb_ordered,
		 (void *)(uintptr_t)LO_SCAN_REV);
}

#else

void rs_bench_suite_lmdb(void)
{
	rs_bench_note_set("lmdb.status",
			  "liblmdb (liblmdb-dev) was not installed when this "
			  "bench was built: no LMDB numbers");
}

#endif /* RS_HAVE_LMDB */
