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

/* A fresh environment holding every key of k. */
static int lenv_open(lenv *l, unsigned flags, const rs_bench_keys *k, char *err,
		     size_t cap)
{
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
	    (rc = mdb_env_set_mapsize(l->env, (size_t)64 << 20)) ||
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

		if ((rc = mdb_put(txn, l->dbi, &key, &val, 0))) {
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
	if (lenv_open(&l, flags, &k, err, sizeof(err)) < 0)
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
}

#else

void rs_bench_suite_lmdb(void)
{
	rs_bench_note_set("lmdb.status",
			  "liblmdb (liblmdb-dev) was not installed when this "
			  "bench was built: no LMDB numbers");
}

#endif /* RS_HAVE_LMDB */
