/* SPDX-License-Identifier: MIT */
/*
 * The durability API: open options, per-commit overrides, flush,
 * checkpoint and statistics calls, closing with transactions open, one
 * owner per directory within a process, the Buffered flusher, and a user
 * durability backend (rs_durability_ops).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"

static void api__open_validates_options(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o;
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;

	(void)state;
	o = dur_opts(dir, RS_DURABILITY_INMEMORY);
	o.path = dir; /* InMemory takes no path */
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_STRICT);
	o.path = NULL;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o.path = "";
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.flags = 0x80;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.durability = (rs_durability)7;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.segment_bytes = 100;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.flush_interval_ms = 3600001;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.version = 99;
	assert_int_equal(dur_open_rc(&o), RS_EVERSION);
	/* A user backend: versioned, commit required, no path. */
	o = dur_opts(dir, RS_DURABILITY_INMEMORY);
	o.durability_ops = &ops;
	assert_int_equal(dur_open_rc(&o), RS_EINVAL);
	ops.version = RS_DURABILITY_OPS_VERSION + 1;
	assert_int_equal(dur_open_rc(&o), RS_EVERSION);
	ops.version = 0;
	assert_int_equal(dur_open_rc(&o), RS_EVERSION);
	/* A path below a file cannot be created. */
	dur_write(dur_path(dir, "file"), "x", 1);
	o = dur_opts(dur_path(dir, "file/db"), RS_DURABILITY_STRICT);
	assert_int_equal(dur_open_rc(&o), RS_EIO);
	/* The directory is created when missing. */
	o = dur_opts(dur_path(dir, "newdb"), RS_DURABILITY_STRICT);
	assert_int_equal(dur_open_rc(&o), 0);
	dur_rmdir(dir);
}

static void api__calls_reject_bad_arguments(void **state)
{
	rs_db *db = dur_open(NULL);
	rs_db_stats st;
	rs_run_id run = dur_run(0);
	rs_txn *txn;

	(void)state;
	assert_int_equal(rs_db_flush(NULL), RS_EINVAL);
	assert_int_equal(rs_db_checkpoint(NULL), RS_EINVAL);
	assert_int_equal(rs_db_stat(NULL, &st), RS_EINVAL);
	assert_int_equal(rs_db_stat(db, NULL), RS_EINVAL);
	st.version = 42;
	assert_int_equal(rs_db_stat(db, &st), RS_EVERSION);
	assert_int_equal(rs_txn_set_durability(NULL, RS_DURABILITY_STRICT),
			 RS_EINVAL);
	/* InMemory: nothing to flush, no checkpoints, zero statistics. */
	assert_int_equal(rs_db_flush(db), 0);
	assert_int_equal(rs_db_checkpoint(db), RS_ENOTSUP);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 0);
	assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
	assert_int_equal(rs_txn_set_durability(txn, (rs_durability)9),
			 RS_EINVAL);
	assert_int_equal(rs_txn_commit(txn), 0);
	/* A finished (pooled) transaction. */
	assert_int_equal(rs_txn_set_durability(txn, RS_DURABILITY_INMEMORY),
			 RS_EDONE);
	rs_db_close(db);
}

/* Commit one put in txn mode `m` on `db`; returns the commit's rc after
 * the override call returned `set_rc`. */
static int commit_with(rs_db *db, rs_durability m, int want_set_rc)
{
	rs_run_id run = dur_run(0);
	rs_txn *txn;

	assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, "k", 1, "v", 1), 0);
	assert_int_equal(rs_txn_set_durability(txn, m), want_set_rc);
	return rs_txn_commit(txn);
}

static void api__override_rules(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o;
	rs_db *db;
	rs_db_stats st;

	(void)state;
	/* InMemory: asking for a log is rejected. */
	db = dur_open(NULL);
	assert_int_equal(commit_with(db, RS_DURABILITY_STRICT, RS_EINVAL), 0);
	assert_int_equal(commit_with(db, RS_DURABILITY_BUFFERED, RS_EINVAL), 0);
	assert_int_equal(commit_with(db, RS_DURABILITY_INMEMORY, 0), 0);
	assert_int_equal(dur_version(db, 0), 3);
	rs_db_close(db);

	/* Buffered, with a flusher that never fires on its own. */
	o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	o.flush_interval_ms = 3600000;
	db = dur_open(&o);
	assert_int_equal(commit_with(db, RS_DURABILITY_BUFFERED, 0), 0);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 1);
	assert_int_equal(st.wal_syncs, 0);
	/* Strict on a Buffered database: synced before it returns, with the
	 * Buffered record before it. */
	assert_int_equal(commit_with(db, RS_DURABILITY_STRICT, 0), 0);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 2);
	assert_int_equal(st.wal_syncs, 1);
	assert_int_equal(st.wal_bytes, st.wal_bytes_since_checkpoint);
	/* Skipping the log is rejected and changes nothing: still logged. */
	assert_int_equal(commit_with(db, RS_DURABILITY_INMEMORY, RS_EINVAL), 0);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 3);
	assert_int_equal(st.wal_syncs, 1);
	rs_db_close(db);

	/* Strict: Buffered returns without a sync; flush syncs it. */
	o.durability = RS_DURABILITY_STRICT;
	db = dur_open(&o);
	assert_int_equal(dur_stats(db).records_replayed, 3);
	assert_int_equal(commit_with(db, RS_DURABILITY_STRICT, 0), 0);
	assert_int_equal(dur_stats(db).wal_syncs, 1);
	assert_int_equal(commit_with(db, RS_DURABILITY_BUFFERED, 0), 0);
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 2);
	assert_int_equal(st.wal_syncs, 1);
	assert_int_equal(rs_db_flush(db), 0);
	assert_int_equal(dur_stats(db).wal_syncs, 2);
	assert_int_equal(commit_with(db, RS_DURABILITY_INMEMORY, RS_EINVAL), 0);
	assert_int_equal(dur_stats(db).wal_syncs, 3);
	rs_db_close(db);
	db = dur_open(&o);
	assert_int_equal(dur_version(db, 0), 6);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void api__close_with_open_transactions(void **state)
{
	static const rs_storage stores[] = { RS_STORAGE_SHARDED,
					     RS_STORAGE_UNIFIED };

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char *dir = dur_tmpdir();
		rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
		rs_run_id run = dur_run(0);
		rs_txn *w, *r, *idle;
		rs_db *db;
		char *v;

		o.storage = stores[s];
		db = dur_open(&o);
		dur_put(db, 0, "a", "1");
		assert_int_equal(rs_txn_begin(&w, db, &run, 0), 0);
		assert_int_equal(rs_txn_kv_put(w, "b", 1, "2", 1), 0);
		assert_int_equal(rs_txn_begin(&r, db, &run, RS_TXN_F_READONLY),
				 0);
		assert_int_equal(rs_txn_begin(&idle, db, &run, 0), 0);
		/* Closing aborts all three (no leak, nothing logged). */
		rs_db_close(db);
		db = dur_open(&o);
		v = dur_get(db, 0, "a");
		assert_string_equal(v, "1");
		free(v);
		assert_null(dur_get(db, 0, "b"));
		assert_int_equal(dur_version(db, 0), 1);
		rs_db_close(db);
		dur_rmdir(dir);
	}
}

static void api__close_and_flush_drain_buffered(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	rs_db *db;
	rs_db_stats st;

	(void)state;
	o.flush_interval_ms = 3600000;
	o.flush_batch_commits = 1000000;
	o.flush_batch_bytes = 1u << 30;
	db = dur_open(&o);
	for (int i = 0; i < 100; i++)
		dur_put(db, i % 3, "k", "v");
	st = dur_stats(db);
	assert_int_equal(st.wal_records, 100);
	assert_int_equal(st.wal_bytes, 0);
	assert_int_equal(rs_db_flush(db), 0);
	st = dur_stats(db);
	assert_true(st.wal_bytes > 0);
	assert_int_equal(st.wal_syncs, 1);
	/* Flushing nothing costs nothing. */
	assert_int_equal(rs_db_flush(db), 0);
	assert_int_equal(dur_stats(db).wal_syncs, 1);
	for (int i = 0; i < 50; i++)
		dur_put(db, 5, "k", "v");
	rs_db_close(db); /* writes the last 50 */
	db = dur_open(&o);
	assert_int_equal(dur_stats(db).records_replayed, 150);
	assert_int_equal(dur_version(db, 5), 50);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void api__buffered_flushes_when_idle_and_on_batch(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	rs_db *db;
	int waited = 0;

	(void)state;
	/* The interval fires with no further commit. */
	o.flush_interval_ms = 5;
	db = dur_open(&o);
	dur_put(db, 0, "k", "v");
	while (dur_stats(db).wal_syncs == 0 && waited++ < 10000)
		dur_sleep_ms(1);
	assert_true(dur_stats(db).wal_syncs >= 1);
	assert_true(dur_stats(db).wal_bytes > 0);
	rs_db_close(db);

	/* A full batch fires long before the interval. */
	o.flush_interval_ms = 3600000;
	o.flush_batch_commits = 10;
	db = dur_open(&o);
	for (int i = 0; i < 10; i++)
		dur_put(db, 0, "k", "v");
	waited = 0;
	while (dur_stats(db).wal_syncs == 0 && waited++ < 10000)
		dur_sleep_ms(1);
	assert_true(dur_stats(db).wal_syncs >= 1);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void api__second_open_of_a_directory_is_busy(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db *db = dur_open(&o), *db2 = NULL;

	(void)state;
	assert_int_equal(rs_db_open(&db2, &o), RS_EBUSY);
	assert_null(db2);
	o.durability = RS_DURABILITY_BUFFERED;
	assert_int_equal(rs_db_open(&db2, &o), RS_EBUSY);
	rs_db_close(db);
	db2 = dur_open(&o);
	rs_db_close(db2);
	dur_rmdir(dir);
}

/* ---- a user backend that keeps records in memory ---- */

typedef struct saved_op {
	uint8_t tag;
	bool del;
	char key[64], val[64];
} saved_op;

typedef struct saved_rec {
	rs_commit_record rec;
	saved_op ops[8];
} saved_rec;

typedef struct backend {
	saved_rec recs[64];
	size_t n;
	int fail_next;
	int flushes, closes;
} backend;

static int be_commit(void *ctx, const rs_commit_record *rec)
{
	backend *b = ctx;
	saved_rec *s;

	if (b->fail_next) {
		b->fail_next = 0;
		return RS_EIO;
	}
	assert_true(b->n < 64 && rec->nops <= 8);
	s = &b->recs[b->n++];
	s->rec = *rec;
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *op = &rec->ops[i];

		s->ops[i].tag = op->tag;
		s->ops[i].del = op->is_delete;
		memcpy(s->ops[i].key, op->key.data, op->key.len);
		s->ops[i].key[op->key.len] = '\0';
		if (op->is_delete) {
			assert_null(op->value.data);
		} else {
			memcpy(s->ops[i].val, op->value.data, op->value.len);
			s->ops[i].val[op->value.len] = '\0';
		}
	}
	return 0;
}

static int be_recover(void *ctx, rs_replay_fn replay, void *rctx)
{
	backend *b = ctx;

	for (size_t i = 0; i < b->n; i++) {
		saved_rec *s = &b->recs[i];
		rs_record_op ops[8];
		rs_commit_record rec = s->rec;
		int rc;

		for (size_t j = 0; j < rec.nops; j++) {
			ops[j].tag = s->ops[j].tag;
			ops[j].is_delete = s->ops[j].del;
			ops[j].key.data = s->ops[j].key;
			ops[j].key.len = strlen(s->ops[j].key);
			ops[j].value.data =
				s->ops[j].del ? NULL : s->ops[j].val;
			ops[j].value.len =
				s->ops[j].del ? 0 : strlen(s->ops[j].val);
		}
		rec.ops = ops;
		if ((rc = replay(&rec, rctx)) != 0)
			return rc;
	}
	return 0;
}

static int be_flush(void *ctx)
{
	((backend *)ctx)->flushes++;
	return 0;
}

static void be_close(void *ctx)
{
	((backend *)ctx)->closes++;
}

static void api__user_backend_gets_records_and_recovers(void **state)
{
	static const rs_durability_ops ops = {
		.version = RS_DURABILITY_OPS_VERSION,
		.commit = be_commit,
		.recover = be_recover,
		.flush = be_flush,
		.close = be_close,
	};
	backend *b = calloc(1, sizeof(*b));
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_run_id run = dur_run(0);
	rs_txn *txn;
	rs_db *db;
	bool existed;
	char *v;

	(void)state;
	o.durability = RS_DURABILITY_STRICT;
	o.durability_ops = &ops;
	o.durability_ctx = b;
	db = dur_open(&o);
	dur_put(db, 0, "a", "1");
	assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, "b", 1, "2", 1), 0);
	assert_int_equal(rs_txn_kv_put(txn, "c", 1, "3", 1), 0);
	assert_int_equal(rs_txn_set_durability(txn, RS_DURABILITY_BUFFERED), 0);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(rs_kv_delete(db, &run, "a", 1, &existed), 0);
	/* A failing backend fails the commit, which is not applied. */
	b->fail_next = 1;
	{
		rs_run_id r = dur_run(0);

		assert_int_equal(rs_kv_put(db, &r, "x", 1, "y", 1), RS_EIO);
	}
	assert_null(dur_get(db, 0, "x"));
	assert_int_equal(rs_db_flush(db), 0);
	assert_int_equal(b->flushes, 1);
	assert_int_equal(rs_db_checkpoint(db), RS_ENOTSUP);
	rs_db_close(db);
	assert_int_equal(b->closes, 1);

	assert_int_equal(b->n, 3);
	assert_int_equal(b->recs[0].rec.kind, RS_RECORD_COMMIT);
	assert_int_equal(b->recs[0].rec.version, 1);
	assert_int_equal(b->recs[0].rec.mode, RS_DURABILITY_STRICT);
	assert_memory_equal(&b->recs[0].rec.run, &run, sizeof(run));
	assert_true(b->recs[0].rec.timestamp_ns > 0);
	assert_int_equal(b->recs[0].ops[0].tag, RS_TAG_KV);
	assert_string_equal(b->recs[0].ops[0].key, "a");
	assert_string_equal(b->recs[0].ops[0].val, "1");
	assert_int_equal(b->recs[1].rec.nops, 2);
	assert_int_equal(b->recs[1].rec.mode, RS_DURABILITY_BUFFERED);
	assert_int_equal(b->recs[1].rec.version, 2);
	assert_true(b->recs[2].ops[0].del);
	assert_int_equal(b->recs[2].rec.version, 3);

	/* Recovery through the backend. */
	db = dur_open(&o);
	assert_null(dur_get(db, 0, "a"));
	v = dur_get(db, 0, "c");
	assert_string_equal(v, "3");
	free(v);
	assert_int_equal(dur_version(db, 0), 3);
	rs_db_close(db);
	assert_int_equal(b->closes, 2);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api__open_validates_options),
		cmocka_unit_test(api__calls_reject_bad_arguments),
		cmocka_unit_test(api__override_rules),
		cmocka_unit_test(api__close_with_open_transactions),
		cmocka_unit_test(api__close_and_flush_drain_buffered),
		cmocka_unit_test(api__buffered_flushes_when_idle_and_on_batch),
		cmocka_unit_test(api__second_open_of_a_directory_is_busy),
		cmocka_unit_test(api__user_backend_gets_records_and_recovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
