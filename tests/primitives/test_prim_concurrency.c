/* SPDX-License-Identifier: MIT */
/*
 * The primitives' invariants under threads, on both stores: exact counts
 * for contended transitions, dense unique sequences without conflict
 * errors for concurrent appenders, one winner among concurrent inits, no
 * torn cross-primitive commit seen by readers, atomic run delete and
 * archive. Every loop is bounded; nothing depends on timing. Threads
 * overlap by construction (common/rs_overlap.h): they start together at a
 * barrier, writers keep going until every reader has read a few times, and
 * readers keep going while a writer is at work, each bounded by a count
 * and by a time cap.
 */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include "common/rs_overlap.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4

static void put_u64(unsigned char b[8], uint64_t v)
{
	memcpy(b, &v, 8);
}

static uint64_t get_u64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void spawn(pthread_t *t, size_t n, void *(*fn)(void *), void *args,
		  size_t arg_size)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn,
						(char *)args + i * arg_size),
				 0);
}

static void join(pthread_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* ---- N threads transition one cell ---- */

#define TRANSITIONS 100

struct incr_arg {
	fx *f;
	rs_ovl *ovl;
	int successes;
	int conflicts;
	int other;
};

static int incr_fn(rs_bytes value, uint64_t version, rs_bytes *nv, void *ctx)
{
	unsigned char *out = ctx;

	(void)version;
	put_u64(out, get_u64(value.data) + 1);
	nv->data = out;
	nv->len = 8;
	return 0;
}

static void *incr_thread(void *p)
{
	struct incr_arg *a = p;
	unsigned char out[8];

	rs_ovl_start(a->ovl);
	for (int i = 0; i < TRANSITIONS; i++) {
		int rc = rs_statecell_transition(a->f->db, &a->f->run,
						 S("counter"), 64, NULL,
						 incr_fn, out);

		if (rc == 0)
			a->successes++;
		else if (rc == RS_ECONFLICT)
			a->conflicts++;
		else
			a->other++;
	}
	return NULL;
}

static void concurrency__transitions_count_exactly(void **state)
{
	fx *f = *state;
	struct incr_arg args[NTHREADS] = { 0 };
	pthread_t t[NTHREADS];
	unsigned char zero[8] = { 0 }, buf[8];
	uint64_t version;
	int total = 0;
	rs_ovl ovl;

	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("counter"), zero, 8, NULL),
		0);
	rs_ovl_init(&ovl, NTHREADS, 0, NTHREADS, 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i].f = f;
		args[i].ovl = &ovl;
	}
	spawn(t, NTHREADS, incr_thread, args, sizeof(args[0]));
	join(t, NTHREADS);
	rs_ovl_destroy(&ovl);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(args[i].other, 0);
		assert_true(args[i].successes >= 1);
		total += args[i].successes;
	}
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("counter"), buf,
					   sizeof(buf), NULL, &version),
			 0);
	assert_int_equal(get_u64(buf), (uint64_t)total);
	assert_int_equal(version, 1 + (uint64_t)total);
}

/* ---- N threads append to one run ---- */

#define APPENDS 150

struct append_arg {
	fx *f;
	rs_ovl *ovl;
	bool use_txn;
	int errors;
	int attempts;
	rs_event_receipt receipts[APPENDS * 2];
	size_t n;
};

struct two_appends {
	struct append_arg *a;
	rs_event_receipt r[2];
};

static int append_body(rs_txn *txn, void *ctx)
{
	struct two_appends *ta = ctx;
	int rc;

	ta->a->attempts++;
	rc = rs_txn_eventlog_append(txn, S("txn"), S("first"), &ta->r[0]);
	if (rc == 0)
		rc = rs_txn_eventlog_append(txn, S("txn"), S("second"),
					    &ta->r[1]);
	return rc;
}

static void *append_thread(void *p)
{
	struct append_arg *a = p;

	rs_ovl_start(a->ovl);
	for (int i = 0; i < APPENDS; i++) {
		int rc;

		if (a->use_txn) {
			struct two_appends ta = { a, { { 0 } } };

			rc = rs_txn_run(a->f->db, &a->f->run, 0, 1, append_body,
					&ta);
			if (rc == 0) {
				a->receipts[a->n++] = ta.r[0];
				a->receipts[a->n++] = ta.r[1];
			}
		} else {
			rc = rs_eventlog_append(a->f->db, &a->f->run, S("one"),
						&i, sizeof(i),
						&a->receipts[a->n]);
			if (rc == 0)
				a->n++;
		}
		if (rc != 0)
			a->errors++;
	}
	return NULL;
}

static void concurrency__appenders_never_conflict(void **state)
{
	fx *f = *state;
	struct append_arg *args = calloc(NTHREADS, sizeof(*args));
	pthread_t t[NTHREADS];
	uint64_t len, total = 0;
	unsigned char *seen;
	rs_event ev;
	char buf[64];
	rs_ovl ovl;

	assert_non_null(args);
	rs_ovl_init(&ovl, NTHREADS, 0, NTHREADS, 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i].f = f;
		args[i].ovl = &ovl;
		args[i].use_txn = i % 2 == 1;
	}
	spawn(t, NTHREADS, append_thread, args, sizeof(args[0]));
	join(t, NTHREADS);
	rs_ovl_destroy(&ovl);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(args[i].errors, 0);
		total += args[i].n;
		if (args[i].use_txn) /* never retried: no conflict at all */
			assert_int_equal(args[i].attempts, APPENDS);
	}
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, total);
	seen = calloc(len, 1);
	assert_non_null(seen);
	for (int i = 0; i < NTHREADS; i++) {
		for (size_t k = 0; k < args[i].n; k++) {
			const rs_event_receipt *r = &args[i].receipts[k];

			assert_true(r->seq < len);
			assert_int_equal(seen[r->seq], 0);
			seen[r->seq] = 1;
			/* A transaction's appends are consecutive. */
			if (args[i].use_txn && k % 2 == 1)
				assert_int_equal(r->seq,
						 args[i].receipts[k - 1].seq +
							 1);
			assert_int_equal(rs_eventlog_read(f->db, &f->run,
							  r->seq, &ev, buf,
							  sizeof(buf), NULL),
					 0);
			assert_memory_equal(ev.hash, r->hash, RS_HASH_LEN);
		}
	}
	for (uint64_t s = 0; s < len; s++)
		assert_int_equal(seen[s], 1);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
	free(seen);
	free(args);
}

/* ---- concurrent inits: one winner ---- */

#define INIT_ROUNDS 40

struct init_arg {
	fx *f;
	pthread_barrier_t *barrier;
	int id;
	int results[INIT_ROUNDS];
};

struct init_body {
	const char *name;
	size_t len;
};

static int init_body(rs_txn *txn, void *ctx)
{
	struct init_body *b = ctx;

	return rs_txn_statecell_init(txn, b->name, b->len, S("v"), NULL);
}

static void *init_thread(void *p)
{
	struct init_arg *a = p;
	char name[16];

	for (int r = 0; r < INIT_ROUNDS; r++) {
		struct init_body b = { name, 0 };

		b.len = (size_t)snprintf(name, sizeof(name), "cell%d", r);
		pthread_barrier_wait(a->barrier);
		if (a->id % 2 == 0)
			a->results[r] =
				rs_statecell_init(a->f->db, &a->f->run, name,
						  b.len, S("v"), NULL);
		else
			a->results[r] = rs_txn_run(a->f->db, &a->f->run, 0, 0,
						   init_body, &b);
	}
	return NULL;
}

static void concurrency__concurrent_inits_one_winner(void **state)
{
	fx *f = *state;
	struct init_arg args[NTHREADS];
	pthread_barrier_t barrier;
	pthread_t t[NTHREADS];

	assert_int_equal(pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i].f = f;
		args[i].barrier = &barrier;
		args[i].id = i;
	}
	spawn(t, NTHREADS, init_thread, args, sizeof(args[0]));
	join(t, NTHREADS);
	pthread_barrier_destroy(&barrier);
	for (int r = 0; r < INIT_ROUNDS; r++) {
		int winners = 0;

		for (int i = 0; i < NTHREADS; i++) {
			if (args[i].results[r] == 0)
				winners++;
			else
				assert_int_equal(args[i].results[r], RS_EEXIST);
		}
		assert_int_equal(winners, 1);
	}
}

/* ---- cross-primitive commits are never seen torn ---- */

#define CROSS_COMMITS 300	/* at least */
#define CROSS_COMMITS_MAX 20000 /* at most, waiting for the readers */
#define READER_NEED 20		/* reads of each reader the writer waits for */
#define READER_CAP 200000

struct cross_ctx {
	fx *f;
	rs_ovl ovl; /* readers 0 (snapshot) and 1 (fast path), one writer */
	atomic_int torn;
	atomic_int errors; /* cmocka asserts only on the main thread */
};

struct commit_body {
	uint64_t i;
};

static int cross_body(rs_txn *txn, void *ctx)
{
	struct commit_body *b = ctx;
	unsigned char v[8];
	int rc;

	put_u64(v, b->i);
	if ((rc = rs_txn_kv_put(txn, S("n"), v, 8)) != 0)
		return rc;
	if (b->i == 1)
		rc = rs_txn_statecell_init(txn, S("n"), v, 8, NULL);
	else
		rc = rs_txn_statecell_set(txn, S("n"), v, 8, NULL);
	if (rc)
		return rc;
	if ((rc = rs_txn_eventlog_append(txn, S("e"), v, 8, NULL)) != 0)
		return rc;
	return rs_txn_tracestore_record(txn, S("t"), v, 8, NULL, 0,
					RS_TRACE_NONE, NULL);
}

static void *cross_writer(void *p)
{
	struct cross_ctx *c = p;

	rs_ovl_start(&c->ovl);
	for (uint64_t i = 1; rs_ovl_writer_more(&c->ovl, i - 1, CROSS_COMMITS,
						CROSS_COMMITS_MAX);
	     i++) {
		struct commit_body b = { i };

		if (rs_txn_run(c->f->db, &c->f->run, 0, 0, cross_body, &b))
			atomic_fetch_add(&c->errors, 1);
	}
	rs_ovl_writer_done(&c->ovl);
	return NULL;
}

/* A snapshot reader: all four primitives agree exactly. */
static void *snapshot_reader(void *p)
{
	struct cross_ctx *c = p;

	rs_ovl_start(&c->ovl);
	for (uint64_t it = 0; rs_ovl_reader_more(&c->ovl, it, 0, READER_CAP);
	     it++) {
		uint64_t kv = 0, cell = 0, len = 0;
		rs_trace t;
		rs_txn *txn;
		rs_bytes v;
		int rc;

		if (rs_txn_begin(&txn, c->f->db, &c->f->run,
				 RS_TXN_F_READONLY)) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
		rc = rs_txn_kv_get(txn, S("n"), &v);
		if (rc == 0)
			kv = get_u64(v.data);
		if (rs_txn_statecell_read(txn, S("n"), &v, NULL) == 0)
			cell = get_u64(v.data);
		if (rs_txn_eventlog_len(txn, &len))
			atomic_fetch_add(&c->errors, 1);
		if (kv != cell || kv != len ||
		    (kv && rs_txn_tracestore_get(txn, kv - 1, &t) != 0) ||
		    rs_txn_tracestore_get(txn, kv, &t) != RS_ENOTFOUND)
			atomic_fetch_add(&c->torn, 1);
		rs_txn_abort(txn);
		rs_ovl_read(&c->ovl, 0);
	}
	return NULL;
}

/* A fast-path reader: reads in order kv, log, cell, trace; each later read
 * sees a state at least as new, so a torn commit would show as kv > len
 * or len > cell. */
static void *fast_reader(void *p)
{
	struct cross_ctx *c = p;

	rs_ovl_start(&c->ovl);
	for (uint64_t it = 0; rs_ovl_reader_more(&c->ovl, it, 0, READER_CAP);
	     it++) {
		unsigned char b[8];
		uint64_t kv = 0, cell = 0, len = 0;
		rs_trace t;
		char tb[64];

		if (rs_kv_get(c->f->db, &c->f->run, S("n"), b, 8, NULL) == 0)
			kv = get_u64(b);
		if (rs_eventlog_len(c->f->db, &c->f->run, &len))
			atomic_fetch_add(&c->errors, 1);
		if (rs_statecell_read(c->f->db, &c->f->run, S("n"), b, 8, NULL,
				      NULL) == 0)
			cell = get_u64(b);
		if (kv > len || len > cell ||
		    (cell && rs_tracestore_get(c->f->db, &c->f->run, cell - 1,
					       &t, tb, sizeof(tb), NULL) != 0))
			atomic_fetch_add(&c->torn, 1);
		rs_ovl_read(&c->ovl, 1);
	}
	return NULL;
}

static void concurrency__cross_commit_never_torn(void **state)
{
	fx *f = *state;
	struct cross_ctx c;
	pthread_t w, r[2];

	c.f = f;
	rs_ovl_init(&c.ovl, 3, 2, 1, READER_NEED);
	atomic_init(&c.torn, 0);
	atomic_init(&c.errors, 0);
	assert_int_equal(pthread_create(&r[0], NULL, snapshot_reader, &c), 0);
	assert_int_equal(pthread_create(&r[1], NULL, fast_reader, &c), 0);
	assert_int_equal(pthread_create(&w, NULL, cross_writer, &c), 0);
	join(&w, 1);
	join(r, 2);
	rs_ovl_destroy(&c.ovl);
	assert_int_equal(atomic_load(&c.errors), 0);
	assert_int_equal(atomic_load(&c.torn), 0);
	/* Both readers read while the writer was committing. */
	if (!rs_ovl_overlapped(&c.ovl, 1))
		fail_msg(
			"readers starved: %llu and %llu reads during the "
			"writes",
			(unsigned long long)atomic_load(&c.ovl.reads_during[0]),
			(unsigned long long)atomic_load(
				&c.ovl.reads_during[1]));
}

/* ---- run delete: a reader sees all of the run or none ---- */

#define DELETE_ROUNDS 5
#define DELETE_KEYS 20

struct delete_ctx {
	fx *f;
	rs_ovl ovl; /* two readers; the test thread is the writer */
	atomic_int mixed;
	atomic_int errors;
	uint64_t base; /* the round's life's base: its first trace id */
};

static int count_event(const rs_event *ev, void *ctx)
{
	(void)ev;
	++*(uint64_t *)ctx;
	return 0;
}

struct delete_arg {
	struct delete_ctx *d;
	unsigned me; /* reader index */
};

static void populate(fx *f)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;

	o.id = &f->run;
	assert_int_equal(rs_runindex_create(f->db, &o, NULL), 0);
	for (int i = 0; i < DELETE_KEYS; i++) {
		char k[8];
		size_t n = (size_t)snprintf(k, sizeof(k), "k%d", i);

		assert_int_equal(rs_kv_put(f->db, &f->run, k, n, S("v")), 0);
		assert_int_equal(rs_eventlog_append(f->db, &f->run, S("e"),
						    NULL, 0, NULL),
				 0);
		assert_int_equal(
			rs_statecell_init(f->db, &f->run, k, n, S("v"), NULL),
			0);
		assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"),
						      NULL, 0, NULL, 0,
						      RS_TRACE_NONE, NULL),
				 0);
	}
}

static void *delete_reader(void *p)
{
	const struct delete_arg *a = p;
	struct delete_ctx *d = a->d;

	rs_ovl_start(&d->ovl);
	for (uint64_t it = 0; rs_ovl_reader_more(&d->ovl, it, 0, READER_CAP);
	     it++) {
		int present = 0;
		uint64_t len = 0;
		rs_trace t;
		rs_txn *txn;
		rs_bytes v;

		if (rs_txn_begin(&txn, d->f->db, &d->f->run,
				 RS_TXN_F_READONLY)) {
			atomic_fetch_add(&d->errors, 1);
			break;
		}
		for (int i = 0; i < DELETE_KEYS; i++) {
			char k[8];
			size_t n = (size_t)snprintf(k, sizeof(k), "k%d", i);

			present += rs_txn_kv_get(txn, k, n, &v) == 0;
			present +=
				rs_txn_statecell_read(txn, k, n, &v, NULL) == 0;
			present += rs_txn_tracestore_get(
					   txn, d->base + (uint64_t)i, &t) == 0;
		}
		if (rs_txn_eventlog_read_range(txn, 0, UINT64_MAX, count_event,
					       &len))
			atomic_fetch_add(&d->errors, 1);
		rs_txn_abort(txn);
		if (!((present == 0 && len == 0) ||
		      (present == 3 * DELETE_KEYS && len == DELETE_KEYS)))
			atomic_fetch_add(&d->mixed, 1);
		rs_ovl_read(&d->ovl, a->me);
	}
	return NULL;
}

static void concurrency__run_delete_is_atomic_for_readers(void **state)
{
	fx *f = *state;
	struct delete_ctx d;
	struct delete_arg args[2] = { { &d, 0 }, { &d, 1 } };
	pthread_t r[2];

	d.f = f;
	atomic_init(&d.mixed, 0);
	atomic_init(&d.errors, 0);
	for (int round = 0; round < DELETE_ROUNDS; round++) {
		bool before, after;
		uint64_t n;

		/* Each round is a new life of the id, from its base. */
		assert_int_equal(rs_db_run_version(f->db, &f->run, &d.base), 0);
		populate(f);
		rs_ovl_init(&d.ovl, 3, 2, 1, 0);
		assert_int_equal(
			pthread_create(&r[0], NULL, delete_reader, &args[0]),
			0);
		assert_int_equal(
			pthread_create(&r[1], NULL, delete_reader, &args[1]),
			0);
		rs_ovl_start(&d.ovl);
		/* Both readers read the whole run before the delete and after
		 * it (bounded by the overlap time cap). */
		before = rs_ovl_wait_reads(&d.ovl, 4);
		assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);
		n = atomic_load(&d.ovl.reads[0]);
		if (atomic_load(&d.ovl.reads[1]) > n)
			n = atomic_load(&d.ovl.reads[1]);
		after = rs_ovl_wait_reads(&d.ovl, n + 4);
		rs_ovl_writer_done(&d.ovl);
		join(r, 2);
		rs_ovl_destroy(&d.ovl);
		if (!before || !after)
			fail_msg("round %d: readers starved (%s the delete)",
				 round, before ? "after" : "before");
	}
	assert_int_equal(atomic_load(&d.errors), 0);
	assert_int_equal(atomic_load(&d.mixed), 0);
}

/* ---- deletes racing writers and readers of the same run ---- */

#define LIVES_DELETES 40 /* at least */
#define LIVES_DELETES_MAX 4000
#define LIVES_WRITES_MAX 200000

struct lives_ctx {
	fx *f;
	rs_ovl ovl; /* readers: 0, 1 the writers, 2 the reader */
	atomic_int errors;
	atomic_int backwards;
};

struct lives_arg {
	struct lives_ctx *c;
	unsigned me;
};

/* One-shot writes only: they never fail across a delete, and each one's
 * sequence is above the one before, whatever lives lie between. */
static void *lives_writer(void *p)
{
	const struct lives_arg *a = p;
	struct lives_ctx *c = a->c;
	uint64_t last = 0;

	rs_ovl_start(&c->ovl);
	for (uint64_t i = 0;
	     rs_ovl_reader_more(&c->ovl, i, 0, LIVES_WRITES_MAX); i++) {
		rs_event_receipt r;

		if (rs_kv_put(c->f->db, &c->f->run, &i, sizeof(i), S("v")) ||
		    rs_eventlog_append(c->f->db, &c->f->run, S("e"), NULL, 0,
				       &r)) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
		if (i && r.seq <= last)
			atomic_fetch_add(&c->backwards, 1);
		last = r.seq;
		rs_ovl_read(&c->ovl, a->me);
	}
	return NULL;
}

/* Snapshots of the run: whatever life they see verifies as a whole. */
static void *lives_reader(void *p)
{
	const struct lives_arg *a = p;
	struct lives_ctx *c = a->c;

	rs_ovl_start(&c->ovl);
	for (uint64_t i = 0; rs_ovl_reader_more(&c->ovl, i, 0, READER_CAP);
	     i++) {
		uint64_t n = 0, len = 0, v = 0;
		rs_txn *txn;

		if (rs_txn_begin(&txn, c->f->db, &c->f->run,
				 RS_TXN_F_READONLY)) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
		if (rs_txn_eventlog_verify_chain(txn, NULL) ||
		    rs_txn_eventlog_read_range(txn, 0, UINT64_MAX, count_event,
					       &n) ||
		    rs_txn_eventlog_len(txn, &len) ||
		    rs_txn_snapshot_version(txn, &v) || len < n)
			atomic_fetch_add(&c->errors, 1);
		rs_txn_abort(txn);
		rs_ovl_read(&c->ovl, a->me);
	}
	return NULL;
}

static void concurrency__deletes_race_writers_and_readers(void **state)
{
	fx *f = *state;
	struct lives_ctx c;
	struct lives_arg args[3] = { { &c, 0 }, { &c, 1 }, { &c, 2 } };
	pthread_t t[3];
	uint64_t deletes = 0;

	c.f = f;
	atomic_init(&c.errors, 0);
	atomic_init(&c.backwards, 0);
	rs_ovl_init(&c.ovl, 4, 3, 1, 20);
	assert_int_equal(pthread_create(&t[0], NULL, lives_writer, &args[0]),
			 0);
	assert_int_equal(pthread_create(&t[1], NULL, lives_writer, &args[1]),
			 0);
	assert_int_equal(pthread_create(&t[2], NULL, lives_reader, &args[2]),
			 0);
	rs_ovl_start(&c.ovl);
	/* Delete the run under the writers and the reader: until each has
	 * gone on 20 times, at least LIVES_DELETES times. */
	while (rs_ovl_writer_more(&c.ovl, deletes, LIVES_DELETES,
				  LIVES_DELETES_MAX)) {
		int rc = rs_runindex_delete(f->db, &f->run);

		if (rc != 0 && rc != RS_ENOTFOUND)
			atomic_fetch_add(&c.errors, 1);
		deletes++;
		sched_yield();
	}
	rs_ovl_writer_done(&c.ovl);
	join(t, 3);
	rs_ovl_destroy(&c.ovl);
	assert_int_equal(atomic_load(&c.errors), 0);
	assert_int_equal(atomic_load(&c.backwards), 0);
	assert_true(rs_ovl_overlapped(&c.ovl, 1));
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
}

/* ---- archive: once it returns, no write of the run lands ---- */

#define ARCHIVE_OPS_MIN 10     /* each writer's, before the archive */
#define ARCHIVE_OPS_MAX 200000 /* each writer's, waiting for it */

struct archive_arg {
	fx *f;
	rs_ovl *ovl; /* the writers count their writes as "reads" */
	unsigned me;
	int ok_after_refusal;
	int refused;
	int other;
};

static void *archive_writer(void *p)
{
	struct archive_arg *a = p;

	rs_ovl_start(a->ovl);
	for (int i = 0;
	     i < ARCHIVE_OPS_MAX && a->refused < 20 && !rs_ovl_expired(a->ovl);
	     i++) {
		int rc = i % 2 ? rs_kv_put(a->f->db, &a->f->run, S("k"), &i,
					   sizeof(i))
			       : rs_eventlog_append(a->f->db, &a->f->run,
						    S("e"), NULL, 0, NULL);

		if (rc == RS_EARCHIVED)
			a->refused++;
		else if (rc != 0)
			a->other++;
		else if (a->refused)
			a->ok_after_refusal++;
		rs_ovl_read(a->ovl, a->me);
	}
	return NULL;
}

static void concurrency__archive_stops_writers(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	struct archive_arg args[2];
	pthread_t t[2];
	uint64_t v0, v1;
	rs_ovl ovl;
	bool started;

	o.id = &f->run;
	assert_int_equal(rs_runindex_create(f->db, &o, NULL), 0);
	assert_int_equal(
		rs_runindex_transition(f->db, &f->run, RS_RUN_COMPLETED, NULL),
		0);
	rs_ovl_init(&ovl, 3, 2, 1, 0);
	for (int i = 0; i < 2; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].f = f;
		args[i].ovl = &ovl;
		args[i].me = (unsigned)i;
	}
	spawn(t, 2, archive_writer, args, sizeof(args[0]));
	rs_ovl_start(&ovl);
	/* The archive lands while both writers are writing. */
	started = rs_ovl_wait_reads(&ovl, ARCHIVE_OPS_MIN);
	assert_int_equal(
		rs_runindex_transition(f->db, &f->run, RS_RUN_ARCHIVED, NULL),
		0);
	/* From here on no write of the run may land. */
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v0), 0);
	join(t, 2);
	rs_ovl_destroy(&ovl);
	assert_true(started);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	assert_int_equal(v1, v0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(args[i].other, 0);
		assert_int_equal(args[i].ok_after_refusal, 0);
		/* Each was still writing when the archive returned. */
		assert_true(args[i].refused > 0);
	}
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(concurrency__transitions_count_exactly),
		FX_TEST(concurrency__appenders_never_conflict),
		FX_TEST(concurrency__concurrent_inits_one_winner),
		FX_TEST(concurrency__cross_commit_never_torn),
		FX_TEST(concurrency__run_delete_is_atomic_for_readers),
		FX_TEST(concurrency__deletes_race_writers_and_readers),
		FX_TEST(concurrency__archive_stops_writers),
	};

	return FX_RUN("prim_concurrency", tests);
}
