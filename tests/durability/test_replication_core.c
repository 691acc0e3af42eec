/* SPDX-License-Identifier: MIT */
/*
 * The core's replication interface (<runstate/durability.h>, version 2),
 * through the in-process shipping backend of tests/common/rs_ship.h: a
 * writer whose commits go to a shared in-memory log, followers that
 * recover from it and tail it with rs_db_apply(), promotion, fencing,
 * checkpoints through the backend, follower stats, bad records, and
 * version-1 backends.
 *
 * RS_REPL_STEPS (default 1500) sets the model workload's length (the
 * slow test_replication_core_long runs 30000).
 */
#include "common/rs_test.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/rs_chk.h"
#include "common/rs_ship.h"
#include "dur_util.h"
#include "model/driver.h"
#include "txn/txn.h"

static rs_run_id run_n(unsigned n)
{
	rs_run_id id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x52;
	id.bytes[15] = (uint8_t)(n + 1);
	return id;
}

static void put(rs_db *db, unsigned run, const char *key, const char *val)
{
	rs_run_id id = run_n(run);

	assert_ok(rs_kv_put(db, &id, key, strlen(key), val, strlen(val)));
}

static uint64_t run_version(rs_db *db, unsigned run)
{
	rs_run_id id = run_n(run);
	uint64_t v = 0;

	assert_ok(rs_db_run_version(db, &id, &v));
	return v;
}

/* A record of `nops` ops at ops (its drop fields zero). */
static rs_commit_record record(uint32_t kind, const rs_run_id *run,
			       uint64_t version, const rs_record_op *ops,
			       size_t nops)
{
	rs_commit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = kind;
	rec.run = *run;
	rec.version = version;
	rec.ops = ops;
	rec.nops = nops;
	return rec;
}

static void assert_same_state(rs_db *a, rs_db *b)
{
	char *da = ship_dump(a), *db = ship_dump(b);

	if (strcmp(da, db) != 0) {
		fprintf(stderr, "--- writer\n%s--- follower\n%s", da, db);
		fail_msg("the databases differ");
	}
	free(da);
	free(db);
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 10) : def;
}

/* ---- (a) the model workload, followed ---- */

static void check_model_on(md *m, rs_db **db)
{
	rs_db **keep = m->dbp;

	m->dbp = db;
	if (!md_check_all(m))
		fail_msg("model check on the follower: %s", m->why);
	m->dbp = keep;
}

static void follow_model(rs_storage storage, uint64_t seed)
{
	ship_log log;
	ship_node w, f, late;
	md_cfg cfg = { 0 };
	md m;
	long steps = env_long("RS_REPL_STEPS", 1500);

	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, storage));
	assert_ok(ship_open_follower(&log, &f, storage));
	cfg.mode = RS_DURABILITY_INMEMORY;
	cfg.storage = storage;
	cfg.backend_checkpoints = true;
	md_init(&m, &cfg, &w.db, NULL, seed);
	for (long i = 1; i <= steps; i++) {
		if (!md_step(&m))
			fail_msg("step %ld: %s", m.step, m.why);
		if (i % 250 == 0 || i == steps) {
			assert_true(ship_wait_caught_up(&f));
			assert_same_state(w.db, f.db);
			check_model_on(&m, &f.db);
		}
	}
	/* The workload deleted runs and gave ids a next life, and went
	 * through checkpoints (into the log's image). */
	assert_true(m.deletes > 0);
	assert_true(m.relived > 0);
	assert_true(m.checkpoints > 0);
	assert_true(m.archived > 0);
	assert_int_equal(atomic_load(&f.tail_err), 0);
	/* A follower that starts now: the newest image, then the tail. */
	assert_ok(ship_open_follower(&log, &late, storage));
	assert_true(late.loaded_image);
	assert_true(late.replayed < ship_log_len(&log));
	assert_true(ship_wait_caught_up(&late));
	assert_same_state(w.db, late.db);
	check_model_on(&m, &late.db);
	fprintf(stderr,
		"follow_model: %ld steps, %zu records, %" PRIu64
		" deletes (%" PRIu64 " ids relived), %" PRIu64
		" checkpoints; late follower replayed %zu\n",
		steps, ship_log_len(&log), m.deletes, m.relived, m.checkpoints,
		late.replayed);
	md_free(&m);
	ship_close(&late);
	ship_close(&f);
	ship_close(&w);
	ship_log_free(&log);
}

static void repl__follower_state_equals_writer(void **state)
{
	(void)state;
	follow_model(RS_STORAGE_SHARDED, 11);
}

static void repl__follower_state_equals_writer_unified(void **state)
{
	(void)state;
	follow_model(RS_STORAGE_UNIFIED, 12);
}

/* ---- (b) no torn transaction on a follower ---- */

#define TORN_KEYS 8
#define TORN_COMMITS 1500

typedef struct torn_arg {
	ship_node *f;
	_Atomic bool done;
	chk c;
	unsigned long snapshots, nonempty;
} torn_arg;

static void *torn_reader(void *p)
{
	torn_arg *a = p;
	rs_run_id id = run_n(0);

	/* Bounded: until the writer is done and then a few more. */
	for (unsigned long i = 0; i < 2000000; i++) {
		bool last = atomic_load(&a->done);
		rs_txn *txn;
		rs_bytes v0 = { NULL, 0 };
		char k[8];
		int rc;

		if (rs_txn_begin(&txn, a->f->db, &id, RS_TXN_F_READONLY)) {
			chk_fail(&a->c, __LINE__, "begin");
			break;
		}
		for (unsigned j = 0; j < TORN_KEYS; j++) {
			rs_bytes v = { NULL, 0 };

			snprintf(k, sizeof(k), "k%u", j);
			rc = rs_txn_kv_get(txn, k, strlen(k), &v);
			if (j == 0) {
				v0 = v;
				if (rc == 0)
					a->nonempty++;
				continue;
			}
			if (!CHECK(&a->c,
				   (rc == 0) == (v0.data != NULL) &&
					   (rc != 0 || (v.len == v0.len &&
							memcmp(v.data, v0.data,
							       v.len) == 0)),
				   "torn: key %u differs from key 0", j))
				break;
		}
		rs_txn_abort(txn);
		a->snapshots++;
		if (last)
			break;
	}
	return NULL;
}

static void repl__reader_never_sees_a_torn_transaction(void **state)
{
	ship_log log;
	ship_node w, f;
	torn_arg a;
	pthread_t t;
	rs_run_id id = run_n(0), other = run_n(1);

	(void)state;
	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, RS_STORAGE_SHARDED));
	assert_ok(ship_open_follower(&log, &f, RS_STORAGE_SHARDED));
	memset(&a, 0, sizeof(a));
	a.f = &f;
	chk_init(&a.c);
	assert_int_equal(pthread_create(&t, NULL, torn_reader, &a), 0);
	for (unsigned i = 0; i < TORN_COMMITS; i++) {
		char val[16], k[8];
		rs_txn *txn;

		snprintf(val, sizeof(val), "%u", i);
		assert_ok(rs_txn_begin(&txn, w.db, &id, 0));
		for (unsigned j = 0; j < TORN_KEYS; j++) {
			snprintf(k, sizeof(k), "k%u", j);
			/* Every 10th removes them all (what readers pinned
			 * must outlive the reclamation of the next commits). */
			if (i % 10 == 9)
				assert_ok(rs_txn_kv_delete(txn, k, strlen(k),
							   NULL));
			else
				assert_ok(rs_txn_kv_put(txn, k, strlen(k), val,
							strlen(val)));
		}
		assert_ok(rs_txn_commit(txn));
		/* Another run's commits in between, and the two-run
		 * records of a RunIndex delete. */
		if (i % 3 == 0)
			assert_ok(rs_kv_put(w.db, &other, "x", 1, val,
					    strlen(val)));
		if (i % 50 == 49)
			assert_ok(rs_runindex_delete(w.db, &other));
	}
	assert_true(ship_wait_caught_up(&f));
	atomic_store(&a.done, true);
	pthread_join(t, NULL);
	chk_assert(&a.c);
	assert_true(a.snapshots > 0);
	fprintf(stderr, "torn: %lu snapshots read (%lu non-empty)\n",
		a.snapshots, a.nonempty);
	assert_same_state(w.db, f.db);
	ship_close(&f);
	ship_close(&w);
	ship_log_free(&log);
}

/* ---- (c) a follower refuses writes; promotion; fencing ---- */

static void repl__follower_is_read_only_until_promoted(void **state)
{
	ship_log log;
	ship_node w, f;
	rs_run_id id = run_n(0);
	rs_runindex_create_options co = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_db_stats st = RS_DB_STATS_INIT;
	rs_txn *txn;
	char *before, *after;
	uint64_t v;
	size_t n;

	(void)state;
	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, RS_STORAGE_SHARDED));
	put(w.db, 0, "a", "1");
	put(w.db, 0, "b", "2");
	assert_ok(ship_open_follower(&log, &f, RS_STORAGE_SHARDED));
	assert_true(ship_wait_caught_up(&f));
	assert_ok(rs_db_stat(f.db, &st));
	assert_true(st.follower);
	assert_int_equal(st.repl_position, 2);
	before = ship_dump(f.db);
	n = ship_log_len(&log);

	/* Every kind of write, and a checkpoint, is refused. */
	assert_rc(rs_kv_put(f.db, &id, "a", 1, "x", 1), RS_EREADONLY);
	assert_rc(rs_kv_delete(f.db, &id, "a", 1, NULL), RS_EREADONLY);
	assert_rc(rs_eventlog_append(f.db, &id, "t", 1, "p", 1, NULL),
		  RS_EREADONLY);
	assert_rc(rs_runindex_create(f.db, &co, NULL), RS_EREADONLY);
	assert_rc(rs_runindex_delete(f.db, &id), RS_EREADONLY);
	assert_ok(rs_txn_begin(&txn, f.db, &id, 0));
	assert_rc(rs_txn_kv_put(txn, "c", 1, "3", 1), RS_EREADONLY);
	assert_ok(rs_txn_commit(txn));
	assert_rc(rs_db_checkpoint(f.db), RS_EREADONLY);
	assert_int_equal(atomic_load(&f.commits), 0);
	assert_int_equal(atomic_load(&f.checkpoints), 0);
	assert_int_equal(ship_log_len(&log), n);
	after = ship_dump(f.db);
	assert_string_equal(before, after);
	free(after);
	/* Reads are served. */
	{
		char buf[8];
		size_t len;

		assert_ok(rs_kv_get(f.db, &id, "b", 1, buf, sizeof(buf), &len));
		assert_int_equal(len, 1);
		assert_int_equal(buf[0], '2');
	}

	/* A transaction begun on the follower stays read-only. */
	assert_ok(rs_txn_begin(&txn, f.db, &id, 0));
	/* Promotion: the backend fences the writer, then writes work and
	 * versions continue. */
	assert_ok(rs_db_promote(f.db));
	assert_int_equal(atomic_load(&f.promotes), 1);
	assert_rc(rs_txn_kv_put(txn, "c", 1, "3", 1), RS_EREADONLY);
	rs_txn_abort(txn);
	assert_rc(rs_db_promote(f.db), RS_EINVAL);
	st.version = RS_DB_STATS_VERSION;
	assert_ok(rs_db_stat(f.db, &st));
	assert_false(st.follower);
	v = run_version(f.db, 0);
	assert_int_equal(v, 2);
	put(f.db, 0, "c", "3");
	assert_int_equal(run_version(f.db, 0), 3);
	assert_int_equal(ship_log_len(&log), n + 1);
	assert_ok(rs_db_checkpoint(f.db));

	/* The old writer is fenced: its commit fails and appears nowhere. */
	assert_rc(rs_kv_put(w.db, &id, "z", 1, "zombie", 6), RS_EFENCED);
	assert_rc(rs_kv_get(w.db, &id, "z", 1, NULL, 0, NULL), RS_ENOTFOUND);
	assert_int_equal(run_version(w.db, 0), 2);
	assert_int_equal(log.fenced, 1);
	assert_int_equal(ship_log_len(&log), n + 1);
	assert_rc(rs_kv_get(f.db, &id, "z", 1, NULL, 0, NULL), RS_ENOTFOUND);
	assert_string_equal(rs_errname(RS_EFENCED), "RS_EFENCED");
	assert_non_null(strstr(rs_strerror(RS_EFENCED), "fenced"));

	free(before);
	ship_close(&f);
	ship_close(&w);
	ship_log_free(&log);
}

static void repl__stats_of_a_follower(void **state)
{
	ship_log log;
	ship_node w, f;
	rs_db_stats st = RS_DB_STATS_INIT;
	union {
		rs_db_stats s;
		unsigned char b[sizeof(rs_db_stats)];
	} v1;
	size_t v1_size = offsetof(rs_db_stats, wal_bytes_since_checkpoint) +
			 sizeof(uint64_t);

	(void)state;
	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, RS_STORAGE_SHARDED));
	assert_ok(ship_open_follower(&log, &f, RS_STORAGE_SHARDED));
	for (unsigned i = 0; i < 5; i++)
		put(w.db, i % 2, "k", "v");
	assert_true(ship_wait_caught_up(&f));
	assert_ok(rs_db_stat(f.db, &st));
	assert_true(st.follower);
	assert_int_equal(st.records_applied, 5);
	assert_int_equal(st.repl_position, 5);
	assert_int_equal(st.repl_lag_records, 0);
	assert_int_equal(st.repl_lag_ns, 0);
	st.version = RS_DB_STATS_VERSION;
	assert_ok(rs_db_stat(w.db, &st));
	assert_false(st.follower);
	assert_int_equal(st.records_applied, 0);
	assert_int_equal(st.repl_position, 5);
	/* A version-1 struct: its fields only. */
	memset(v1.b, 0xA5, sizeof(v1.b));
	v1.s.version = 1;
	assert_ok(rs_db_stat(f.db, &v1.s));
	assert_int_equal(v1.s.version, 1);
	assert_int_equal(v1.s.wal_records, 0);
	for (size_t i = v1_size; i < sizeof(v1.b); i++)
		assert_int_equal(v1.b[i], 0xA5);
	ship_close(&f);
	ship_close(&w);
	ship_log_free(&log);
}

/* ---- (d) checkpoint through the backend, then image + tail ---- */

static void repl__new_follower_from_checkpoint_and_tail(void **state)
{
	ship_log log;
	ship_node w, f;
	rs_run_id id = run_n(3), got;
	rs_runindex_create_options co = RS_RUNINDEX_CREATE_OPTIONS_INIT;

	(void)state;
	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, RS_STORAGE_SHARDED));
	for (unsigned i = 0; i < 40; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%u", i % 7);
		put(w.db, i % 3, k, "v");
		assert_ok(rs_eventlog_append(w.db, &id, "t", 1, k, strlen(k),
					     NULL));
	}
	co.id = &id;
	assert_ok(rs_runindex_create(w.db, &co, &got));
	assert_ok(rs_runindex_delete(w.db, &id));
	assert_ok(rs_eventlog_append(w.db, &id, "t", 1, "again", 5, NULL));
	assert_ok(rs_db_checkpoint(w.db));
	assert_int_equal(atomic_load(&w.checkpoints), 1);
	assert_int_equal(log.img_pos, ship_log_len(&log));
	/* The tail after the image. */
	put(w.db, 0, "after", "1");
	put(w.db, 5, "after", "2");
	assert_ok(rs_eventlog_append(w.db, &id, "t", 1, "tail", 4, NULL));
	assert_ok(ship_open_follower(&log, &f, RS_STORAGE_SHARDED));
	assert_true(f.loaded_image);
	assert_int_equal(f.replayed, 3);
	assert_true(ship_wait_caught_up(&f));
	assert_same_state(w.db, f.db);
	{
		uint64_t bad = 0, len = 0, wlen = 0;

		assert_ok(rs_eventlog_verify_chain(f.db, &id, &bad));
		assert_ok(rs_eventlog_len(f.db, &id, &len));
		assert_ok(rs_eventlog_len(w.db, &id, &wlen));
		/* The sequences of the run's second life continue above
		 * its first's 40 events. */
		assert_true(len > 40);
		assert_int_equal(len, wlen);
	}
	ship_close(&f);
	ship_close(&w);
	ship_log_free(&log);
}

/* ---- (e) bad records ---- */

static int noop_commit(void *ctx, const rs_commit_record *rec)
{
	(void)ctx;
	(void)rec;
	return 0;
}

/* A backend that follows nothing: records come from the test. */
static const rs_durability_ops noop_ops = {
	.version = RS_DURABILITY_OPS_VERSION,
	.commit = noop_commit,
};

static void repl__apply_checks_its_record(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_record_op op[2];
	rs_commit_record rec;
	rs_run_id id0 = run_n(0);
	rs_db *db, *mem;
	char *before, *after;

	(void)state;
	o.durability_ops = &noop_ops;
	o.flags = RS_DB_F_FOLLOWER;
	assert_ok(rs_db_open(&db, &o));
	memset(op, 0, sizeof(op));
	op[0].tag = RS_TAG_KV;
	op[0].key = (rs_bytes){ "a", 1 };
	op[0].value = (rs_bytes){ "1", 1 };
	op[1] = op[0];
	op[1].key = (rs_bytes){ "b", 1 };
	rec = record(RS_RECORD_COMMIT, &id0, 1, op, 2);

	assert_rc(rs_db_apply(NULL, &rec), RS_EINVAL);
	assert_rc(rs_db_apply(db, NULL), RS_EINVAL);
	assert_rc(rs_db_apply(db, &rec), 0);
	assert_rc(rs_db_apply(db, &rec), 1); /* again: skipped */
	assert_int_equal(run_version(db, 0), 1);
	before = ship_dump(db);
	/* A gap. */
	rec.version = 3;
	assert_rc(rs_db_apply(db, &rec), RS_ECORRUPT);
	/* Malformed records. */
	rec.version = 2;
	rec.kind = 9;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	rec.kind = RS_RECORD_COMMIT;
	rec.version = 0;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	rec.version = 2;
	op[1].key = op[0].key; /* the same key twice */
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	op[1].key = (rs_bytes){ "b", 1 };
	op[1].tag = 6; /* the engine's, never a record's */
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	op[1].tag = 0;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	op[1].tag = RS_TAG_KV;
	op[1].key = (rs_bytes){ NULL, 0 };
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	op[1].key = (rs_bytes){ "b", 1 };
	rec.ops = NULL;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	rec.ops = op;
	rec.version = (UINT64_C(1) << 63) + 1;
	assert_rc(rs_db_apply(db, &rec), RS_ERANGE);
	/* Versions stay below 2^63 (the store keeps 63 bits of one). */
	rec.version = UINT64_C(1) << 63;
	assert_rc(rs_db_apply(db, &rec), RS_ERANGE);
	rec.version = 2;
	/* A drop is a nil-run record naming another run. */
	rec.kind = RS_RECORD_DROP_RUN;
	rec.drop_run = run_n(1);
	rec.drop_version = 1;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	memset(&rec.run, 0, sizeof(rec.run));
	memset(&rec.drop_run, 0, sizeof(rec.drop_run));
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	rec.drop_run = run_n(1);
	rec.drop_version = 0;
	assert_rc(rs_db_apply(db, &rec), RS_EINVAL);
	after = ship_dump(db);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_rc(rs_db_promote(db), RS_ENOTSUP); /* no promote */
	rs_db_close(db);

	/* A database without durability_ops follows nothing. */
	assert_ok(rs_db_open(&mem, NULL));
	rec.kind = RS_RECORD_COMMIT;
	rec.run = run_n(0);
	rec.version = 1;
	assert_rc(rs_db_apply(mem, &rec), RS_EINVAL);
	assert_int_equal(run_version(mem, 0), 0);
	rs_db_close(mem);
	/* Nor does a follower without one open. */
	o.durability_ops = NULL;
	assert_rc(rs_db_open(&db, &o), RS_EINVAL);
}

/* A run's first record after a drop moved the mark past it: its life
 * starts below the mark, where the writer's began. */
static void repl__first_record_of_a_life_sets_its_base(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_record_op op;
	rs_commit_record rec;
	rs_run_id nil, id = run_n(4);
	rs_db *db;
	char buf[4];
	size_t len;

	(void)state;
	memset(&nil, 0, sizeof(nil));
	o.durability_ops = &noop_ops;
	o.flags = RS_DB_F_FOLLOWER;
	assert_ok(rs_db_open(&db, &o));
	memset(&op, 0, sizeof(op));
	op.tag = RS_TAG_KV;
	op.key = (rs_bytes){ "a", 1 };
	op.value = (rs_bytes){ "1", 1 };
	/* A drop of a run this database never saw: the mark becomes 10. */
	rec = record(RS_RECORD_DROP_RUN, &nil, 1, &op, 1);
	rec.drop_run = run_n(9);
	rec.drop_version = 10;
	assert_rc(rs_db_apply(db, &rec), 0);
	assert_int_equal(run_version(db, 7), 10);
	/* The writer had created run 4 at mark 2, before that drop. */
	rec = record(RS_RECORD_COMMIT, &id, 3, &op, 1);
	assert_rc(rs_db_apply(db, &rec), 0);
	assert_int_equal(run_version(db, 4), 3);
	assert_ok(rs_kv_get(db, &id, "a", 1, buf, sizeof(buf), &len));
	rec.version = 4;
	assert_rc(rs_db_apply(db, &rec), 0);
	assert_int_equal(run_version(db, 4), 4);
	rec.version = 6;
	assert_rc(rs_db_apply(db, &rec), RS_ECORRUPT);
	rs_db_close(db);
}

/* The same, while a snapshot of the empty run is open at the higher
 * version (the run exists without a commit, at the drop mark): the
 * record waits for it, and the snapshot never sees any of the record. */
typedef struct late_arg {
	rs_db *db;
	const rs_commit_record *rec;
	_Atomic int rc;
	_Atomic bool done;
} late_arg;

static void *late_apply(void *p)
{
	late_arg *a = p;

	atomic_store(&a->rc, rs_db_apply(a->db, a->rec));
	atomic_store(&a->done, true);
	return NULL;
}

static void repl__life_moved_back_waits_for_snapshots(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_record_op op = { RS_TAG_KV, false, { "a", 1 }, { "1", 1 } };
	rs_commit_record rec;
	rs_run_id nil, id = run_n(4), other = run_n(9);
	late_arg a;
	pthread_t t;
	rs_txn *txn;
	rs_bytes v;
	uint64_t snap;
	rs_db *db;

	(void)state;
	memset(&nil, 0, sizeof(nil));
	o.durability_ops = &noop_ops;
	o.flags = RS_DB_F_FOLLOWER;
	assert_ok(rs_db_open(&db, &o));
	rec = record(RS_RECORD_DROP_RUN, &nil, 1, &op, 1);
	rec.drop_run = other;
	rec.drop_version = 10;
	assert_rc(rs_db_apply(db, &rec), 0);
	/* Run 4 exists here without a commit, at the mark (internal: no
	 * public call makes one on a follower). */
	assert_ok(rs__txn_run_add_flags(db, &id, 0));
	assert_ok(rs_txn_begin(&txn, db, &id, RS_TXN_F_READONLY));
	assert_ok(rs_txn_snapshot_version(txn, &snap));
	assert_int_equal(snap, 10);
	rec = record(RS_RECORD_COMMIT, &id, 3, &op, 1);
	memset(&a, 0, sizeof(a));
	a.db = db;
	a.rec = &rec;
	assert_int_equal(pthread_create(&t, NULL, late_apply, &a), 0);
	/* However long we look, it waits for the snapshot (no timing is
	 * asserted: a correct library never gets past this loop early). */
	for (int i = 0; i < 20; i++) {
		dur_sleep_ms(5);
		assert_false(atomic_load(&a.done));
		assert_rc(rs_txn_kv_get(txn, "a", 1, &v), RS_ENOTFOUND);
	}
	rs_txn_abort(txn);
	pthread_join(t, NULL);
	assert_rc(atomic_load(&a.rc), 0);
	assert_int_equal(run_version(db, 4), 3);
	assert_ok(rs_txn_begin(&txn, db, &id, RS_TXN_F_READONLY));
	assert_ok(rs_txn_kv_get(txn, "a", 1, &v));
	rs_txn_abort(txn);
	rs_db_close(db);
}

/* Every allocation of every record's apply fails in turn: RS_ENOMEM, and
 * the state is what it was; then the record applies. The records are a
 * model workload's (drops, archives, lives again among them). */
static void repl__apply_out_of_memory_changes_nothing(void **state)
{
	ship_log log;
	ship_node w;
	md_cfg cfg = { 0 };
	md m;
	rs_test_alloc ta;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db;
	uint64_t failures = 0;
	size_t n;

	(void)state;
	ship_log_init(&log);
	assert_ok(ship_open_writer(&log, &w, RS_STORAGE_SHARDED));
	cfg.mode = RS_DURABILITY_INMEMORY;
	cfg.backend_checkpoints = true;
	md_init(&m, &cfg, &w.db, NULL, 21);
	for (int i = 0; i < 300; i++)
		if (!md_step(&m))
			fail_msg("step %ld: %s", m.step, m.why);
	assert_true(m.deletes > 0);
	rs_test_alloc_init(&ta, &o.allocator);
	o.durability_ops = &noop_ops;
	o.flags = RS_DB_F_FOLLOWER;
	assert_ok(rs_db_open(&db, &o));
	n = ship_log_len(&log);
	for (size_t i = 0; i < n; i++) {
		const rs_commit_record *rec = ship_log_record(&log, i);
		int64_t k;
		int rc = RS_ENOMEM;

		for (k = 0; k < 100000 && rc == RS_ENOMEM; k++) {
			char *before = ship_dump(db), *after;

			atomic_store(&ta.fail_after, k);
			rc = rs_db_apply(db, rec);
			atomic_store(&ta.fail_after, -1);
			if (rc != RS_ENOMEM) {
				free(before);
				break;
			}
			failures++;
			after = ship_dump(db);
			if (strcmp(before, after) != 0)
				fail_msg("record %zu, allocation %" PRId64
					 ": RS_ENOMEM changed the state",
					 i, k);
			free(before);
			free(after);
		}
		assert_rc(rc, 0);
	}
	assert_same_state(w.db, db);
	fprintf(stderr,
		"apply out of memory: %zu records, %" PRIu64
		" failed allocations\n",
		n, failures);
	rs_db_close(db);
	assert_int_equal(rs_test_alloc_live(&ta), 0);
	md_free(&m);
	ship_close(&w);
	ship_log_free(&log);
}

/* ---- rs_db_apply beside local commits of other runs ---- */

#define MIX_RECORDS 600

typedef struct mix_arg {
	rs_db *db;
	unsigned first; /* runs first .. first + 3 */
	bool apply;	/* records through rs_db_apply, else local commits */
	chk *c;
} mix_arg;

static void *mix_worker(void *p)
{
	mix_arg *a = p;

	for (unsigned i = 0; i < MIX_RECORDS; i++) {
		unsigned r = a->first + i % 4;
		rs_run_id id = run_n(r);
		char k[8], v[8];
		rs_record_op op[2];
		rs_commit_record rec;
		int rc;

		snprintf(k, sizeof(k), "k%u", i % 5);
		snprintf(v, sizeof(v), "%u", i);
		if (!a->apply) {
			rc = rs_kv_put(a->db, &id, k, strlen(k), v, strlen(v));
			if (!CHECK(a->c, rc == 0, "put: %s", rs_errname(rc)))
				return NULL;
			continue;
		}
		memset(op, 0, sizeof(op));
		op[0].tag = op[1].tag = RS_TAG_KV;
		op[0].key = (rs_bytes){ k, strlen(k) };
		op[0].value = (rs_bytes){ v, strlen(v) };
		op[1].key = (rs_bytes){ "n", 1 };
		op[1].value = op[0].value;
		rec = record(RS_RECORD_COMMIT, &id, i / 4 + 1, op, 2);
		rc = rs_db_apply(a->db, &rec);
		if (!CHECK(a->c, rc == 0, "apply: %s", rs_errname(rc)))
			return NULL;
	}
	return NULL;
}

static void repl__apply_beside_local_commits(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	mix_arg args[3];
	pthread_t t[3];
	chk c;
	rs_db *db;

	(void)state;
	chk_init(&c);
	o.durability_ops = &noop_ops;
	assert_ok(rs_db_open(&db, &o));
	/* Two appliers of disjoint runs, one local committer of others. */
	for (unsigned i = 0; i < 3; i++) {
		args[i] = (mix_arg){ db, 4 * i, i > 0, &c };
		assert_int_equal(
			pthread_create(&t[i], NULL, mix_worker, &args[i]), 0);
	}
	for (unsigned i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	chk_assert(&c);
	for (unsigned r = 0; r < 12; r++) {
		rs_run_id id = run_n(r);
		char buf[8];
		size_t len;

		assert_int_equal(run_version(db, r), MIX_RECORDS / 4);
		assert_ok(rs_kv_get(db, &id, "k0", 2, buf, sizeof(buf), &len));
		if (r >= 4)
			assert_ok(rs_kv_get(db, &id, "n", 1, buf, sizeof(buf),
					    &len));
	}
	{
		rs_db_stats st = RS_DB_STATS_INIT;

		assert_ok(rs_db_stat(db, &st));
		assert_int_equal(st.records_applied, 2 * MIX_RECORDS);
	}
	rs_db_close(db);
}

/* ---- (f) a version-1 backend ---- */

typedef struct v1_backend {
	unsigned commits, recovers;
	uint64_t last_version;
} v1_backend;

static int v1_commit(void *ctx, const rs_commit_record *rec)
{
	v1_backend *b = ctx;

	b->commits++;
	b->last_version = rec->version;
	return 0;
}

static int v1_recover(void *ctx, rs_replay_fn replay, void *replay_ctx)
{
	v1_backend *b = ctx;
	rs_record_op op = { RS_TAG_KV, false, { "k", 1 }, { "old", 3 } };
	rs_run_id id = run_n(0);
	rs_commit_record rec = record(RS_RECORD_COMMIT, &id, 1, &op, 1);

	b->recovers++;
	return replay(&rec, replay_ctx);
}

static void repl__version_1_ops_still_work(void **state)
{
	/* Exactly the version-1 layout, in memory of that size, so that a
	 * read of a later field is out of bounds (ASan). */
	size_t v1_size =
		offsetof(rs_durability_ops, close) + sizeof(void (*)(void *));
	rs_durability_ops *ops = malloc(v1_size);
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db_stats st = RS_DB_STATS_INIT;
	v1_backend b = { 0, 0, 0 };
	rs_run_id id = run_n(0);
	char buf[8];
	size_t len;
	rs_db *db;

	(void)state;
	assert_non_null(ops);
	memset(ops, 0, v1_size);
	ops->version = 1;
	ops->commit = v1_commit;
	ops->recover = v1_recover;
	o.durability_ops = ops;
	o.durability_ctx = &b;
	assert_ok(rs_db_open(&db, &o));
	assert_int_equal(b.recovers, 1);
	assert_ok(rs_kv_get(db, &id, "k", 1, buf, sizeof(buf), &len));
	assert_int_equal(len, 3);
	put(db, 0, "k", "new");
	assert_int_equal(b.commits, 1);
	assert_int_equal(b.last_version, 2);
	assert_rc(rs_db_checkpoint(db), RS_ENOTSUP);
	assert_ok(rs_db_stat(db, &st));
	assert_int_equal(st.repl_position, 0);
	assert_ok(rs_db_flush(db));
	rs_db_close(db);
	/* A version-1 follower has no promote. */
	o.flags = RS_DB_F_FOLLOWER;
	assert_ok(rs_db_open(&db, &o));
	assert_rc(rs_kv_put(db, &id, "k", 1, "x", 1), RS_EREADONLY);
	assert_rc(rs_db_promote(db), RS_ENOTSUP);
	assert_rc(rs_kv_put(db, &id, "k", 1, "x", 1), RS_EREADONLY);
	rs_db_close(db);
	free(ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(repl__follower_state_equals_writer),
		cmocka_unit_test(repl__follower_state_equals_writer_unified),
		cmocka_unit_test(repl__reader_never_sees_a_torn_transaction),
		cmocka_unit_test(repl__follower_is_read_only_until_promoted),
		cmocka_unit_test(repl__stats_of_a_follower),
		cmocka_unit_test(repl__new_follower_from_checkpoint_and_tail),
		cmocka_unit_test(repl__apply_checks_its_record),
		cmocka_unit_test(repl__first_record_of_a_life_sets_its_base),
		cmocka_unit_test(repl__life_moved_back_waits_for_snapshots),
		cmocka_unit_test(repl__apply_out_of_memory_changes_nothing),
		cmocka_unit_test(repl__apply_beside_local_commits),
		cmocka_unit_test(repl__version_1_ops_still_work),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
