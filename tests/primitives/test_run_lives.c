/* SPDX-License-Identifier: MIT */
/*
 * Lives of a run id: rs_runindex_delete() ends one, the next write to the
 * id starts the next. Nothing of an earlier life repeats in a later one:
 * not a commit version, an EventLog sequence, a trace id or a StateCell
 * version (so a CAS holding a version read before the delete always
 * fails), in memory and across reopen, by log replay and from a
 * checkpoint. And a deleted run's memory is given back once no
 * transaction can see it, however many runs come and go (counted through
 * the allocator hooks; the sharded store: the unified one, the M3
 * baseline, keeps its tombstones by design).
 */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pthread.h>

#include "common/rs_overlap.h"
#include "common/rs_test.h"
#include "txn/txn.h"

/* What one life of a run used: the highest of each. */
struct life {
	uint64_t version, seq, trace, cell;
};

static int set_body(rs_txn *txn, void *ctx)
{
	(void)ctx;
	return rs_txn_statecell_set(txn, S("c"), S("again"), NULL);
}

/* A life with a bit of everything: several appends in one commit, traces
 * with a parent, a cell written a few times, KV. */
static void live(rs_db *db, const rs_run_id *run, struct life *l)
{
	rs_event_receipt r[3];
	uint64_t root, v = 0;
	rs_txn *txn;

	assert_int_equal(rs_kv_put(db, run, S("k"), S("v")), 0);
	assert_int_equal(rs_txn_begin(&txn, db, run, 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rs_txn_eventlog_append(txn, S("e"), &i,
							sizeof(i), &r[i]),
				 0);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(rs_tracestore_record(db, run, S("t"), NULL, 0, NULL, 0,
					      RS_TRACE_NONE, &root),
			 0);
	assert_int_equal(rs_tracestore_record(db, run, S("t"), NULL, 0, NULL, 0,
					      root, &l->trace),
			 0);
	assert_int_equal(rs_statecell_init(db, run, S("c"), S("a"), NULL), 0);
	assert_int_equal(rs_statecell_set(db, run, S("c"), S("b"), NULL), 0);
	assert_int_equal(rs_txn_run(db, run, 0, 0, set_body, NULL), 0);
	assert_int_equal(rs_statecell_read(db, run, S("c"), NULL, 0, NULL, &v),
			 RS_ENOSPC);
	l->seq = r[2].seq;
	l->cell = v;
	assert_int_equal(rs_db_run_version(db, run, &l->version), 0);
}

static int count_event(const rs_event *ev, void *ctx)
{
	(void)ev;
	++*(int *)ctx;
	return 0;
}

static int count_trace(const rs_trace *t, void *ctx)
{
	(void)t;
	++*(int *)ctx;
	return 0;
}

/* After the delete of a life `old`: the next life, written now, is past
 * it in everything, and a CAS with the old cell version fails. `now`
 * (may be NULL) gets what the new life used. */
static void expect_next_life(rs_db *db, const rs_run_id *run,
			     const struct life *old, struct life *now)
{
	rs_event_receipt r;
	uint64_t v = 0, id = 0, len = 0, ver = 0, cursor = 0;
	char buf[64];
	rs_event ev;
	int n = 0;

	/* Nothing of the old life reads back. */
	assert_int_equal(rs_kv_get(db, run, S("k"), buf, sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(
		rs_eventlog_read(db, run, 0, &ev, buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
	assert_int_equal(rs_db_run_version(db, run, &ver), 0);
	assert_true(ver > old->version);

	assert_int_equal(rs_statecell_init(db, run, S("c"), S("x"), &v), 0);
	assert_true(v > old->cell);
	/* Written up to the old version count again: the stale CAS fails. */
	for (uint64_t i = 1; i < old->cell; i++)
		assert_int_equal(
			rs_statecell_set(db, run, S("c"), S("y"), NULL), 0);
	assert_int_equal(
		rs_statecell_cas(db, run, S("c"), old->cell, S("aba"), NULL),
		RS_EMISMATCH);
	assert_int_equal(rs_eventlog_append(db, run, S("e"), NULL, 0, &r), 0);
	assert_true(r.seq > old->seq);
	assert_int_equal(rs_tracestore_record(db, run, S("t"), NULL, 0, NULL, 0,
					      RS_TRACE_NONE, &id),
			 0);
	assert_true(id > old->trace);
	assert_int_equal(rs_db_run_version(db, run, &v), 0);
	assert_true(v > old->version);

	/* The new life reads as a whole log and trace set of its own. */
	assert_int_equal(rs_eventlog_len(db, run, &len), 0);
	assert_int_equal(len, r.seq + 1);
	assert_int_equal(rs_eventlog_verify_chain(db, run, NULL), 0);
	assert_int_equal(
		rs_eventlog_read_range(db, run, 0, UINT64_MAX, count_event, &n),
		0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(rs_tracestore_query_by_time(db, run, 0, UINT64_MAX,
						     &cursor, 0, NULL,
						     count_trace, &n),
			 0);
	assert_int_equal(n, 1);
	if (now) {
		now->seq = r.seq;
		now->trace = id;
		assert_int_equal(rs_statecell_read(db, run, S("c"), NULL, 0,
						   NULL, &now->cell),
				 RS_ENOSPC);
		assert_int_equal(rs_db_run_version(db, run, &now->version), 0);
	}
}

static void lives__nothing_repeats_after_delete(void **state)
{
	fx *f = *state;
	struct life l;

	for (int round = 0; round < 3; round++) {
		live(f->db, &f->run, &l);
		assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);
		expect_next_life(f->db, &f->run, &l, NULL);
		assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);
	}
	/* Another run deleted raises no counter of this one's life. */
	{
		rs_run_id other;
		uint64_t v0, v1;

		assert_int_equal(rs_run_id_generate(&other), 0);
		live(f->db, &f->run, &l);
		assert_int_equal(rs_kv_put(f->db, &other, S("k"), S("v")), 0);
		assert_int_equal(rs_db_run_version(f->db, &f->run, &v0), 0);
		assert_int_equal(rs_runindex_delete(f->db, &other), 0);
		assert_int_equal(rs_kv_put(f->db, &f->run, S("k2"), S("v")), 0);
		assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
		assert_int_equal(v1, v0 + 1);
	}
}

/* A transaction that only wrote, begun before the delete, commits into
 * the next life; one that read conflicts. */
static void lives__writers_across_a_delete(void **state)
{
	fx *f = *state;
	rs_txn *blind, *reader;
	char buf[8];
	rs_bytes v;
	struct life l;

	live(f->db, &f->run, &l);
	assert_int_equal(rs_txn_begin(&blind, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_kv_put(blind, S("after"), S("1")), 0);
	assert_int_equal(rs_txn_begin(&reader, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_kv_get(reader, S("k"), &v), 0);
	assert_int_equal(rs_txn_kv_put(reader, S("k3"), S("1")), 0);
	assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);
	assert_int_equal(rs_txn_commit(reader), RS_ECONFLICT);
	assert_int_equal(rs_txn_commit(blind), 0);
	assert_int_equal(
		rs_kv_get(f->db, &f->run, S("after"), buf, sizeof(buf), NULL),
		0);
	assert_int_equal(
		rs_kv_get(f->db, &f->run, S("k"), buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &l.cell), 0);
	assert_true(l.cell > l.version);
}

/* ---- across reopen ---- */

enum reopen_how {
	BY_REPLAY,
	BY_CHECKPOINT
};

static void reopen(rs_db **db, rs_storage st, const char *dir,
		   enum reopen_how how)
{
	if (how == BY_CHECKPOINT)
		assert_int_equal(rs_db_checkpoint(*db), 0);
	rs_db_close(*db);
	assert_int_equal(fx_open_dir(db, RS_DURABILITY_BUFFERED, st, dir), 0);
}

static void nothing_repeats_across_reopen(fx *f, enum reopen_how how)
{
	char dir[] = "/tmp/rs_run_lives_XXXXXX";
	rs_run_id kvonly;
	struct life l, now;
	uint64_t base, v;
	rs_event_receipt r;
	rs_db *db;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(rs_run_id_generate(&kvonly), 0);
	assert_int_equal(
		fx_open_dir(&db, RS_DURABILITY_BUFFERED, f->storage, dir), 0);
	/* The delete, then a reopen before the next life. */
	live(db, &f->run, &l);
	assert_int_equal(rs_runindex_delete(db, &f->run), 0);
	reopen(&db, f->storage, dir, how);
	expect_next_life(db, &f->run, &l, &now);

	/* A reopen inside that life: it goes on where it was. */
	reopen(&db, f->storage, dir, how);
	assert_int_equal(rs_db_run_version(db, &f->run, &v), 0);
	assert_int_equal(v, now.version);
	assert_int_equal(rs_eventlog_append(db, &f->run, S("e"), NULL, 0, &r),
			 0);
	assert_int_equal(r.seq, now.seq + 1);
	assert_int_equal(rs_eventlog_verify_chain(db, &f->run, NULL), 0);
	now.seq = r.seq;
	now.version++;

	/* A run started after a delete with KV only: its first append after
	 * a reopen gets the sequence it would have got before (its base). */
	assert_int_equal(rs_kv_put(db, &kvonly, S("k"), S("v")), 0);
	assert_int_equal(rs_eventlog_len(db, &kvonly, &base), 0);
	assert_true(base > 0);
	reopen(&db, f->storage, dir, how);
	assert_int_equal(rs_eventlog_len(db, &kvonly, &v), 0);
	assert_int_equal(v, base);
	assert_int_equal(rs_eventlog_append(db, &kvonly, S("e"), NULL, 0, &r),
			 0);
	assert_int_equal(r.seq, base);

	/* A second delete, after the reopens, still goes past that life. */
	assert_int_equal(rs_runindex_delete(db, &f->run), 0);
	reopen(&db, f->storage, dir, how);
	expect_next_life(db, &f->run, &now, NULL);
	rs_db_close(db);
	assert_int_equal(fx_remove_dir(dir), 0);
}

static void lives__nothing_repeats_across_replay(void **state)
{
	nothing_repeats_across_reopen(*state, BY_REPLAY);
}

static void lives__nothing_repeats_across_checkpoint(void **state)
{
	nothing_repeats_across_reopen(*state, BY_CHECKPOINT);
}

/* Checkpoints taken while runs are created and deleted: the reopened
 * database continues past every life of every id. */
#define CKPT_IDS 4
#define CKPT_ROUNDS 12

struct ckpt_thread {
	rs_db *db;
	rs_ovl *ovl; /* reader 0: this thread's checkpoints */
	int errors;
};

static void *checkpointer(void *p)
{
	struct ckpt_thread *c = p;

	rs_ovl_start(c->ovl);
	for (uint64_t i = 0; rs_ovl_reader_more(c->ovl, i, 1, 1000); i++) {
		if (rs_db_checkpoint(c->db) != 0)
			c->errors++;
		rs_ovl_read(c->ovl, 0);
	}
	return NULL;
}

static void lives__checkpoints_during_deletes(void **state)
{
	fx *f = *state;
	char dir[] = "/tmp/rs_run_lives_XXXXXX";
	rs_run_id ids[CKPT_IDS];
	struct life last[CKPT_IDS], l;
	struct ckpt_thread c;
	pthread_t th;
	rs_ovl ovl;
	rs_db *db;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(
		fx_open_dir(&db, RS_DURABILITY_BUFFERED, f->storage, dir), 0);
	for (int k = 0; k < CKPT_IDS; k++)
		assert_int_equal(rs_run_id_generate(&ids[k]), 0);
	rs_ovl_init(&ovl, 2, 1, 1, 2);
	c = (struct ckpt_thread){ db, &ovl, 0 };
	assert_int_equal(pthread_create(&th, NULL, checkpointer, &c), 0);
	rs_ovl_start(&ovl);
	for (int round = 0;
	     rs_ovl_writer_more(&ovl, (uint64_t)round, CKPT_ROUNDS, 1000);
	     round++) {
		for (int k = 0; k < CKPT_IDS; k++) {
			live(db, &ids[k], &l);
			last[k] = l;
			assert_int_equal(rs_runindex_delete(db, &ids[k]), 0);
		}
	}
	rs_ovl_writer_done(&ovl);
	assert_int_equal(pthread_join(th, NULL), 0);
	rs_ovl_destroy(&ovl);
	assert_int_equal(c.errors, 0);
	assert_true(rs_ovl_overlapped(&ovl, 1));
	rs_db_close(db);
	assert_int_equal(
		fx_open_dir(&db, RS_DURABILITY_BUFFERED, f->storage, dir), 0);
	for (int k = 0; k < CKPT_IDS; k++)
		expect_next_life(db, &ids[k], &last[k], NULL);
	rs_db_close(db);
	assert_int_equal(fx_remove_dir(dir), 0);
}

/* ---- memory ---- */

#define LIVES_LOOP 2000
#define LIVES_SLACK 4096 /* bytes: what a loop may leave behind */

static rs_db *open_counted(rs_test_alloc *ta)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db;

	rs_test_alloc_init(ta, &o.allocator);
	o.storage = RS_STORAGE_SHARDED;
	assert_int_equal(rs_db_open(&db, &o), 0);
	return db;
}

static void create_use_delete(rs_db *db, int i)
{
	rs_run_id id;

	assert_int_equal(rs_runindex_create(db, NULL, &id), 0);
	assert_int_equal(rs_kv_put(db, &id, &i, sizeof(i), S("v")), 0);
	assert_int_equal(rs_eventlog_append(db, &id, S("e"), NULL, 0, NULL), 0);
	assert_int_equal(rs_statecell_init(db, &id, S("c"), NULL, 0, NULL), 0);
	assert_int_equal(rs_runindex_delete(db, &id), 0);
}

/* Live bytes after everything reclaimable was reclaimed (grace periods
 * waited for, dead runs no transaction holds freed). */
static int64_t settled(rs_db *db, const rs_test_alloc *ta)
{
	rs__txn_flush_retired(db);
	return rs_test_alloc_live(ta);
}

static void lives__deleted_runs_free_their_memory(void **state)
{
	rs_test_alloc ta;
	rs_db *db = open_counted(&ta);
	int64_t warm, now, peak = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		create_use_delete(db, i);
	warm = settled(db, &ta);
	for (int i = 100; i < LIVES_LOOP; i++) {
		create_use_delete(db, i);
		/* Bounded on the way, without any flush: a batch of dead runs
		 * and what the retire lists hold. */
		now = rs_test_alloc_live(&ta) - warm;
		if (now > peak)
			peak = now;
	}
	now = settled(db, &ta) - warm;
	if (now > LIVES_SLACK)
		fail_msg("%d runs created and deleted kept %lld bytes",
			 LIVES_LOOP - 100, (long long)now);
	printf("run lives: %d runs created and deleted: +%lld bytes settled, "
	       "+%lld at most on the way\n",
	       LIVES_LOOP - 100, (long long)now, (long long)peak);
	rs_db_close(db);
	assert_int_equal(rs_test_alloc_live(&ta), 0);
}

/* A deleted run stays readable to a snapshot taken before, however long
 * it is held, and is freed when the snapshot ends. */
static void lives__held_snapshot_keeps_a_deleted_run(void **state)
{
	rs_test_alloc ta;
	rs_db *db = open_counted(&ta);
	rs_run_id id;
	int64_t before, held;
	rs_txn *snap;
	rs_bytes v;
	uint64_t len, want;

	(void)state;
	/* Warm two contexts (a transaction stays open below while one-shot
	 * writes take another): each keeps its retire arrays. */
	assert_int_equal(rs_run_id_generate(&id), 0);
	assert_int_equal(rs_txn_begin(&snap, db, &id, 0), 0);
	create_use_delete(db, 0);
	assert_int_equal(rs_txn_kv_put(snap, S("k"), S("v")), 0);
	assert_int_equal(rs_txn_commit(snap), 0);
	assert_int_equal(rs_runindex_delete(db, &id), 0);
	before = settled(db, &ta);
	assert_int_equal(rs_runindex_create(db, NULL, &id), 0);
	assert_int_equal(rs_kv_put(db, &id, S("k"), S("v")), 0);
	assert_int_equal(rs_eventlog_append(db, &id, S("e"), NULL, 0, NULL), 0);
	assert_int_equal(rs_eventlog_len(db, &id, &want), 0);
	assert_int_equal(rs_txn_begin(&snap, db, &id, RS_TXN_F_READONLY), 0);
	assert_int_equal(rs_runindex_delete(db, &id), 0);
	for (int i = 1; i < 3 * (int)RS__REAP_BATCH; i++)
		create_use_delete(db, i);
	held = settled(db, &ta);
	/* Still there for the snapshot (ASan: not freed under it). */
	assert_int_equal(rs_txn_kv_get(snap, S("k"), &v), 0);
	assert_int_equal(v.len, 1);
	assert_int_equal(rs_txn_eventlog_len(snap, &len), 0);
	assert_int_equal(len, want);
	assert_int_equal(rs_txn_eventlog_verify_chain(snap, NULL), 0);
	rs_txn_abort(snap);
	if (settled(db, &ta) >= held)
		fail_msg("the deleted run was not freed once its snapshot "
			 "ended (%lld bytes, %lld held)",
			 (long long)rs_test_alloc_live(&ta), (long long)held);
	if (rs_test_alloc_live(&ta) > before + LIVES_SLACK)
		fail_msg("%lld bytes left over",
			 (long long)(rs_test_alloc_live(&ta) - before));
	rs_db_close(db);
}

int main(void)
{
	const struct CMUnitTest both[] = {
		FX_TEST(lives__nothing_repeats_after_delete),
		FX_TEST(lives__writers_across_a_delete),
		FX_TEST(lives__nothing_repeats_across_replay),
		FX_TEST(lives__nothing_repeats_across_checkpoint),
		FX_TEST(lives__checkpoints_during_deletes),
	};
	const struct CMUnitTest sharded[] = {
		cmocka_unit_test(lives__deleted_runs_free_their_memory),
		cmocka_unit_test(lives__held_snapshot_keeps_a_deleted_run),
	};

	return FX_RUN("run_lives", both) +
	       cmocka_run_group_tests_name("run_lives/memory", sharded, NULL,
					   NULL);
}
