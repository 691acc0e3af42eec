/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure at every allocation a workload reaches (issue 8,
 * deliver item 4, allocation half), as SQLite's malloc tests do: a
 * workload over every primitive, transactions, scans and cursors, a
 * checkpoint, close and reopen of a write-ahead-log database, in steps of
 * one public call (or one transaction). Each step runs with the 1st, 2nd,
 * ... nth allocation failing (and every one after it, on every thread),
 * until it runs without reaching the failure. After each failed attempt:
 *  - it returned RS_ENOMEM;
 *  - the database's whole state (every primitive of every run, versions,
 *    hashes and timestamps included) is what it was before the attempt;
 *  - the same failed attempt, repeated, holds no more memory (live blocks
 *    through the hooks) than the first did: nothing leaks per failure;
 *    and the workload then goes on. After each step, the state equals that
 *    of a shadow database that ran the same steps without faults (but for
 *    timestamps and hashes, which differ between the two). At the end,
 *    close returns every block to the hooks (and ASan checks for leaks).
 *
 * Prints the allocation sites covered: the distinct (step, allocation
 * index) pairs failed, and the distinct call stacks (return addresses of
 * the hook's caller chain, 12 frames) they failed at.
 *
 * Knobs: RS_ALLOCFAIL_STRIDE (fail every nth index only; default 1, i.e.
 * every one), RS_ALLOCFAIL_VERBOSE (print each step's count).
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- hooks: counting, failing ---- */

typedef struct hooks {
	_Atomic int64_t live_blocks;
	_Atomic int armed;	 /* failing allowed */
	_Atomic int64_t allow;	 /* allocations left before failing */
	_Atomic uint64_t calls;	 /* attempts while armed */
	_Atomic uint64_t failed; /* failures injected */
	void *fail_stack[12];	 /* where the first failure of an attempt hit */
	int fail_depth;
} hooks;

static bool fail_now(hooks *h)
{
	if (!atomic_load(&h->armed))
		return false;
	atomic_fetch_add(&h->calls, 1);
	if (atomic_fetch_sub(&h->allow, 1) > 0)
		return false;
	if (atomic_fetch_add(&h->failed, 1) == 0)
		h->fail_depth = backtrace(h->fail_stack, 12);
	return true;
}

#define HDR 16

static void *h_malloc(void *ctx, size_t size)
{
	hooks *h = ctx;
	char *p;

	if (fail_now(h))
		return NULL;
	p = malloc(size + HDR);
	if (!p)
		return NULL;
	atomic_fetch_add(&h->live_blocks, 1);
	return p + HDR;
}

static void *h_realloc(void *ctx, void *ptr, size_t size)
{
	hooks *h = ctx;
	char *p;

	if (fail_now(h))
		return NULL;
	p = realloc(ptr ? (char *)ptr - HDR : NULL, size + HDR);
	if (!p)
		return NULL;
	if (!ptr)
		atomic_fetch_add(&h->live_blocks, 1);
	return p + HDR;
}

static void h_free(void *ctx, void *ptr)
{
	hooks *h = ctx;

	if (!ptr)
		return;
	atomic_fetch_sub(&h->live_blocks, 1);
	free((char *)ptr - HDR);
}

static void arm(hooks *h, int64_t allow)
{
	atomic_store(&h->allow, allow);
	atomic_store(&h->calls, 0);
	atomic_store(&h->failed, 0);
	h->fail_depth = 0;
	atomic_store(&h->armed, 1);
}

static void disarm(hooks *h)
{
	atomic_store(&h->armed, 0);
}

/* ---- the database under test and its shadow ---- */

typedef struct side {
	hooks h;
	char dir[256];
	rs_db *db;
	bool shadow;
} side;

static rs_run_id run_a, run_b;

static int open_side(side *s)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = RS_DURABILITY_BUFFERED;
	o.path = s->dir;
	o.hash_seed = 42;
	o.allocator.malloc_fn = h_malloc;
	o.allocator.realloc_fn = h_realloc;
	o.allocator.free_fn = h_free;
	o.allocator.ctx = &s->h;
	/* The background threads stay idle but for what a call asks of
	 * them (flush, checkpoint, close): allocations happen in the same
	 * order on every run. */
	o.flush_interval_ms = 3600000;
	o.flush_batch_commits = 1u << 30;
	o.flush_batch_bytes = (size_t)1 << 40;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	s->db = NULL;
	return rs_db_open(&s->db, &o);
}

/* ---- state dump ---- */

typedef struct dump {
	char *text;
	size_t len, cap;
	bool exact; /* timestamps and hashes too */
} dump;

__attribute__((format(printf, 2, 3))) static void put(dump *d, const char *fmt,
						      ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = d->cap - d->len;

		va_start(ap, fmt);
		n = vsnprintf(d->text + d->len, room, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < room)
			break;
		d->cap = d->cap * 2 + (size_t)n + 64;
		d->text = realloc(d->text, d->cap);
		assert_non_null(d->text);
	}
	d->len += (size_t)n;
}

static void put_bytes(dump *d, rs_bytes b)
{
	put(d, "[%zu:", b.len);
	for (size_t i = 0; i < b.len; i++)
		put(d, "%02x", ((const unsigned char *)b.data)[i]);
	put(d, "]");
}

static void put_hash(dump *d, const uint8_t *h)
{
	if (!d->exact)
		return;
	for (unsigned i = 0; i < RS_HASH_LEN; i++)
		put(d, "%02x", h[i]);
}

static int kv_cb(rs_bytes k, rs_bytes v, void *ctx)
{
	put(ctx, "kv ");
	put_bytes(ctx, k);
	put_bytes(ctx, v);
	put(ctx, "\n");
	return 0;
}

static int ev_cb(const rs_event *ev, void *ctx)
{
	dump *d = ctx;

	put(d, "ev %llu ", (unsigned long long)ev->seq);
	if (d->exact)
		put(d, "t%llu ", (unsigned long long)ev->timestamp_ns);
	put_bytes(d, ev->type);
	put_bytes(d, ev->payload);
	put_hash(d, ev->prev_hash);
	put_hash(d, ev->hash);
	put(d, "\n");
	return 0;
}

static int cell_cb(rs_bytes name, rs_bytes val, uint64_t version, void *ctx)
{
	put(ctx, "cell ");
	put_bytes(ctx, name);
	put_bytes(ctx, val);
	put(ctx, " v%llu\n", (unsigned long long)version);
	return 0;
}

static int trace_cb(const rs_trace *t, void *ctx)
{
	dump *d = ctx;

	put(d, "trace %llu p%llu f%u ", (unsigned long long)t->id,
	    (unsigned long long)t->parent, (unsigned)t->flags);
	if (d->exact)
		put(d, "t%llu ", (unsigned long long)t->timestamp_ns);
	put_bytes(d, t->type);
	put_bytes(d, t->payload);
	for (size_t i = 0; i < t->ntags; i++) {
		rs_bytes tag;

		assert_ok(rs_trace_tag(t, i, &tag));
		put_bytes(d, tag);
	}
	put(d, "\n");
	return 0;
}

static int run_cb(const rs_run_info *info, void *ctx)
{
	dump *d = ctx;
	char id[64];

	assert_ok(rs_run_id_format(&info->id, id, sizeof(id)));
	put(d, "run %s s%d p%d ", id, (int)info->status, (int)info->has_parent);
	if (info->has_parent) {
		assert_ok(rs_run_id_format(&info->parent, id, sizeof(id)));
		put(d, "%s ", id);
	}
	if (d->exact)
		put(d, "t%llu/%llu ", (unsigned long long)info->created_ns,
		    (unsigned long long)info->updated_ns);
	put_bytes(d, info->name);
	put_bytes(d, info->metadata);
	for (size_t i = 0; i < info->ntags; i++) {
		rs_bytes tag;

		assert_ok(rs_run_info_tag(info, i, &tag));
		put_bytes(d, tag);
	}
	put(d, "\n");
	return 0;
}

static void dump_run(rs_db *db, const rs_run_id *run, dump *d)
{
	uint64_t ver = 0, len = 0, cursor = 0, bad = 0;
	uint8_t head[RS_HASH_LEN];
	int rc;

	rc = rs_db_run_version(db, run, &ver);
	assert_true(rc == 0 || rc == RS_ENOTFOUND);
	put(d, "version %llu\n", (unsigned long long)ver);
	assert_ok(rs_kv_list(db, run, NULL, 0, NULL, 0, 0, NULL, kv_cb, d));
	assert_ok(rs_eventlog_head(db, run, &len, head));
	put(d, "events %llu ", (unsigned long long)len);
	put_hash(d, head);
	put(d, "\n");
	assert_ok(rs_eventlog_read_range(db, run, 0, UINT64_MAX, ev_cb, d));
	rc = rs_eventlog_verify_chain(db, run, &bad);
	put(d, "verify %d\n", rc);
	assert_ok(rs_statecell_list(db, run, NULL, 0, NULL, 0, 0, NULL, cell_cb,
				    d));
	assert_ok(rs_tracestore_query_by_time(db, run, 0, UINT64_MAX, &cursor,
					      0, NULL, trace_cb, d));
}

/* The whole state, read with faults off. */
static void take(side *s, dump *d, bool exact)
{
	uint64_t cursor = 0;
	bool armed = atomic_load(&s->h.armed);

	disarm(&s->h);
	d->len = 0;
	d->exact = exact;
	put(d, "%s", ""); /* an empty dump is "" */
	dump_run(s->db, &run_a, d);
	dump_run(s->db, &run_b, d);
	assert_ok(rs_runindex_list(s->db, &cursor, 0, NULL, run_cb, d));
	if (armed)
		atomic_store(&s->h.armed, 1);
}

/* ---- the workload: one public call (or transaction) per step ---- */

typedef int (*step_fn)(rs_db *db);

#define RA (&run_a)
#define S(x) (x), strlen(x)

static int st_create_a(rs_db *db)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags[2] = { { "t1", 2 }, { "t2", 2 } };
	rs_run_id out;

	o.id = &run_a;
	o.name = "alpha";
	o.name_len = 5;
	o.tags = tags;
	o.ntags = 2;
	o.metadata = "meta";
	o.metadata_len = 4;
	return rs_runindex_create(db, &o, &out);
}

static int st_create_b(rs_db *db)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_run_id out;

	o.id = &run_b;
	o.name = "beta";
	o.name_len = 4;
	o.parent = &run_a;
	return rs_runindex_create(db, &o, &out);
}

static int st_put1(rs_db *db)
{
	return rs_kv_put(db, RA, S("k1"), S("one"));
}

static int st_put2(rs_db *db)
{
	return rs_kv_put(db, RA, S("k2"), S("two"));
}

static int st_put_big(rs_db *db)
{
	char big[600];

	memset(big, 'b', sizeof(big));
	return rs_kv_put(db, RA, S("k3"), big, sizeof(big));
}

static int st_overwrite(rs_db *db)
{
	return rs_kv_put(db, RA, S("k1"), S("uno"));
}

static int st_get(rs_db *db)
{
	char buf[16];
	size_t len;
	int rc = rs_kv_get(db, RA, S("k1"), buf, sizeof(buf), &len);

	return rc ? rc : (len == 3 && !memcmp(buf, "uno", 3) ? 0 : -999);
}

static int st_delete(rs_db *db)
{
	return rs_kv_delete(db, RA, S("k2"), NULL);
}

static int st_get_many(rs_db *db)
{
	rs_bytes keys[3] = { { "k1", 2 }, { "k2", 2 }, { "k3", 2 } };
	rs_bytes vals[3];
	char buf[1024];

	return rs_kv_get_many(db, RA, 3, keys, vals, buf, sizeof(buf), NULL);
}

static int count_kv(rs_bytes k, rs_bytes v, void *ctx)
{
	(void)k;
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static int st_list(rs_db *db)
{
	int n = 0;
	int rc = rs_kv_list(db, RA, S("k"), NULL, 0, 0, NULL, count_kv, &n);

	return rc ? rc : (n == 2 ? 0 : -999);
}

static int st_scan(rs_db *db)
{
	rs_scan_options so = RS_SCAN_OPTIONS_INIT;
	int n = 0;
	int rc;

	so.flags = RS_SCAN_REVERSE;
	rc = rs_kv_scan(db, RA, &so, NULL, count_kv, &n);
	return rc ? rc : (n == 2 ? 0 : -999);
}

static int st_cursor(rs_db *db)
{
	rs_cursor *cur;
	rs_bytes k, v;
	int rc = rs_kv_cursor_open(db, RA, &cur);

	if (rc)
		return rc;
	rc = rs_cursor_first(cur, NULL, 0, &k, &v);
	if (!rc)
		rc = rs_cursor_next(cur, &k, &v);
	if (!rc)
		rc = rs_cursor_seek(cur, S("k0"), RS_SEEK_GE, &k, &v);
	if (!rc)
		rc = rs_cursor_last(cur, S("k"), &k, &v);
	if (!rc)
		rc = rs_cursor_prev(cur, &k, &v);
	rs_cursor_close(cur);
	return rc;
}

static int st_append1(rs_db *db)
{
	return rs_eventlog_append(db, RA, S("tool_call"), S("p0"), NULL);
}

static int st_append2(rs_db *db)
{
	return rs_eventlog_append(db, RA, S("llm"), S("p1"), NULL);
}

static int st_ev_read(rs_db *db)
{
	rs_event ev;
	char buf[256];

	return rs_eventlog_read(db, RA, 1, &ev, buf, sizeof(buf), NULL);
}

static int count_ev(const rs_event *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
	return 0;
}

static int st_ev_range(rs_db *db)
{
	int n = 0;
	int rc = rs_eventlog_read_range(db, RA, 0, 10, count_ev, &n);

	return rc ? rc : (n == 2 ? 0 : -999);
}

static int st_ev_by_type(rs_db *db)
{
	uint64_t cursor = 0;
	int n = 0;
	int rc = rs_eventlog_read_by_type(db, RA, S("llm"), &cursor, 0, NULL,
					  count_ev, &n);

	return rc ? rc : (n == 1 ? 0 : -999);
}

static int st_ev_verify(rs_db *db)
{
	return rs_eventlog_verify_chain(db, RA, NULL);
}

static int st_cell_init(rs_db *db)
{
	return rs_statecell_init(db, RA, S("c1"), S("init"), NULL);
}

static int st_cell_set(rs_db *db)
{
	return rs_statecell_set(db, RA, S("c1"), S("set"), NULL);
}

static int st_cell_cas(rs_db *db)
{
	return rs_statecell_cas(db, RA, S("c1"), 2, S("cas"), NULL);
}

static int trans(rs_bytes value, uint64_t version, rs_bytes *out, void *ctx)
{
	(void)value;
	(void)version;
	(void)ctx;
	out->data = "moved";
	out->len = 5;
	return 0;
}

static int st_cell_transition(rs_db *db)
{
	return rs_statecell_transition(db, RA, S("c1"), 3, NULL, trans, NULL);
}

static int st_cell_init2(rs_db *db)
{
	return rs_statecell_init(db, RA, S("c2"), S("x"), NULL);
}

static int st_cell_delete(rs_db *db)
{
	return rs_statecell_delete(db, RA, S("c2"), NULL);
}

static int count_cell(rs_bytes n, rs_bytes v, uint64_t ver, void *ctx)
{
	(void)n;
	(void)v;
	(void)ver;
	(*(int *)ctx)++;
	return 0;
}

static int st_cell_list(rs_db *db)
{
	int n = 0;
	int rc = rs_statecell_list(db, RA, S("c"), NULL, 0, 0, NULL, count_cell,
				   &n);

	return rc ? rc : (n == 1 ? 0 : -999);
}

static int st_trace_root(rs_db *db)
{
	rs_bytes tags[2] = { { "red", 3 }, { "blue", 4 } };

	return rs_tracestore_record(db, RA, S("llm_call"), S("root"), tags, 2,
				    RS_TRACE_NONE, NULL);
}

static int st_trace_child(rs_db *db)
{
	rs_bytes tags[1] = { { "red", 3 } };

	return rs_tracestore_record(db, RA, S("tool"), S("child"), tags, 1, 0,
				    NULL);
}

static int st_trace_get(rs_db *db)
{
	rs_trace t;
	char buf[256];

	return rs_tracestore_get(db, RA, 1, &t, buf, sizeof(buf), NULL);
}

static int count_trace(const rs_trace *t, void *ctx)
{
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

static int count_tree(const rs_trace *t, unsigned depth, void *ctx)
{
	(void)t;
	(void)depth;
	(*(int *)ctx)++;
	return 0;
}

static int st_trace_queries(rs_db *db)
{
	uint64_t c = 0;
	int n = 0, rc;

	if ((rc = rs_tracestore_query_by_type(db, RA, S("tool"), &c, 0, NULL,
					      count_trace, &n)))
		return rc;
	c = 0;
	if ((rc = rs_tracestore_query_by_tag(db, RA, S("red"), &c, 0, NULL,
					     count_trace, &n)))
		return rc;
	c = 0;
	if ((rc = rs_tracestore_children(db, RA, 0, &c, 0, NULL, count_trace,
					 &n)))
		return rc;
	c = 0;
	if ((rc = rs_tracestore_query_by_time(db, RA, 0, UINT64_MAX, &c, 0,
					      NULL, count_trace, &n)))
		return rc;
	if ((rc = rs_tracestore_get_tree(db, RA, 0, 8, count_tree, &n)))
		return rc;
	return n == 1 + 2 + 1 + 2 + 2 ? 0 : -999;
}

/* A transaction over every primitive, committed. */
static int st_txn_commit(rs_db *db)
{
	rs_txn *t;
	rs_bytes got;
	uint64_t cursor = 0;
	int n = 0;
	int rc = rs_txn_begin(&t, db, RA, 0);

	if (rc)
		return rc;
	if (!(rc = rs_txn_kv_get(t, S("k1"), &got)) &&
	    !(rc = rs_txn_kv_put(t, S("k4"), S("four"))) &&
	    !(rc = rs_txn_kv_put(t, S("k5"), S("five"))) &&
	    !(rc = rs_txn_kv_list(t, S("k"), NULL, 0, 0, NULL, count_kv, &n)) &&
	    !(rc = rs_txn_eventlog_append(t, S("txn"), S("p2"), NULL)) &&
	    !(rc = rs_txn_statecell_set(t, S("c1"), S("txn"), NULL)) &&
	    !(rc = rs_txn_tracestore_record(t, S("tool"), S("in txn"), NULL, 0,
					    1, NULL)) &&
	    !(rc = rs_txn_tracestore_query_by_type(t, S("tool"), &cursor, 0,
						   NULL, count_trace, &n)))
		return rs_txn_commit(t);
	rs_txn_abort(t);
	return rc;
}

/* A transaction that stages writes, then aborts: no change. */
static int st_txn_abort(rs_db *db)
{
	rs_txn *t;
	int rc = rs_txn_begin(&t, db, RA, 0);

	if (rc)
		return rc;
	rc = rs_txn_kv_put(t, S("gone"), S("never"));
	if (!rc)
		rc = rs_txn_eventlog_append(t, S("gone"), S(""), NULL);
	rs_txn_abort(t);
	return rc;
}

static int txn_body(rs_txn *t, void *ctx)
{
	rs_cursor *cur;
	rs_bytes k, v;
	int rc;

	(void)ctx;
	if ((rc = rs_txn_kv_cursor_open(t, &cur)))
		return rc;
	rc = rs_cursor_first(cur, NULL, 0, &k, &v);
	rs_cursor_close(cur);
	if (rc)
		return rc;
	return rs_txn_kv_put(t, S("k6"), S("six"));
}

static int st_txn_run(rs_db *db)
{
	return rs_txn_run(db, RA, 0, 3, txn_body, NULL);
}

static int st_b_put(rs_db *db)
{
	return rs_kv_put(db, &run_b, S("bk"), S("bv"));
}

static int st_b_append(rs_db *db)
{
	return rs_eventlog_append(db, &run_b, S("b"), S(""), NULL);
}

static int st_transition(rs_db *db)
{
	return rs_runindex_transition(db, &run_b, RS_RUN_PAUSED, NULL);
}

static int count_run(const rs_run_info *info, void *ctx)
{
	(void)info;
	(*(int *)ctx)++;
	return 0;
}

static int st_runindex_reads(rs_db *db)
{
	rs_run_info info;
	char buf[512];
	uint64_t c = 0;
	int n = 0, rc;

	if ((rc = rs_runindex_get(db, RA, &info, buf, sizeof(buf), NULL)) ||
	    (rc = rs_runindex_get_by_name(db, S("beta"), &info, buf,
					  sizeof(buf), NULL)))
		return rc;
	if ((rc = rs_runindex_query_by_status(db, RS_RUN_PAUSED, &c, 0, NULL,
					      count_run, &n)))
		return rc;
	c = 0;
	if ((rc = rs_runindex_query_by_tag(db, S("t1"), &c, 0, NULL, count_run,
					   &n)))
		return rc;
	c = 0;
	if ((rc = rs_runindex_query_by_parent(db, RA, &c, 0, NULL, count_run,
					      &n)))
		return rc;
	return n == 3 ? 0 : -999;
}

static int st_checkpoint(rs_db *db)
{
	return rs_db_checkpoint(db);
}

static int st_flush(rs_db *db)
{
	return rs_db_flush(db);
}

static int st_stat(rs_db *db)
{
	rs_db_stats st = { .version = RS_DB_STATS_VERSION };

	return rs_db_stat(db, &st);
}

static int st_after_reopen(rs_db *db)
{
	return rs_kv_put(db, RA, S("k7"), S("seven"));
}

static int st_delete_b(rs_db *db)
{
	return rs_runindex_delete(db, &run_b);
}

/* NULL: close and reopen the database (a step of its own). */
static const struct {
	const char *name;
	step_fn fn;
} steps[] = {
	{ "runindex_create", st_create_a },
	{ "runindex_create(parent)", st_create_b },
	{ "kv_put", st_put1 },
	{ "kv_put", st_put2 },
	{ "kv_put(600 B)", st_put_big },
	{ "kv_put(overwrite)", st_overwrite },
	{ "kv_get", st_get },
	{ "kv_delete", st_delete },
	{ "kv_get_many", st_get_many },
	{ "kv_list", st_list },
	{ "kv_scan", st_scan },
	{ "cursor", st_cursor },
	{ "eventlog_append", st_append1 },
	{ "eventlog_append", st_append2 },
	{ "eventlog_read", st_ev_read },
	{ "eventlog_read_range", st_ev_range },
	{ "eventlog_read_by_type", st_ev_by_type },
	{ "eventlog_verify_chain", st_ev_verify },
	{ "statecell_init", st_cell_init },
	{ "statecell_set", st_cell_set },
	{ "statecell_cas", st_cell_cas },
	{ "statecell_transition", st_cell_transition },
	{ "statecell_init", st_cell_init2 },
	{ "statecell_delete", st_cell_delete },
	{ "statecell_list", st_cell_list },
	{ "tracestore_record", st_trace_root },
	{ "tracestore_record(child)", st_trace_child },
	{ "tracestore_get", st_trace_get },
	{ "tracestore queries", st_trace_queries },
	{ "txn commit", st_txn_commit },
	{ "txn abort", st_txn_abort },
	{ "txn_run", st_txn_run },
	{ "kv_put(run b)", st_b_put },
	{ "eventlog_append(run b)", st_b_append },
	{ "runindex_transition", st_transition },
	{ "runindex reads", st_runindex_reads },
	{ "db_stat", st_stat },
	{ "db_checkpoint", st_checkpoint },
	{ "kv_put", st_put2 },
	{ "db_flush", st_flush },
	{ "close + open", NULL },
	{ "after reopen", st_after_reopen },
	{ "runindex_delete", st_delete_b },
	{ "db_checkpoint", st_checkpoint },
	{ "close + open", NULL },
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* ---- sites ---- */

#define MAX_STACKS 4096
static struct {
	void *pc[12];
	int depth;
} stacks[MAX_STACKS];
static size_t nstacks;

static void note_stack(const hooks *h)
{
	for (size_t i = 0; i < nstacks; i++)
		if (stacks[i].depth == h->fail_depth &&
		    !memcmp(stacks[i].pc, h->fail_stack,
			    sizeof(void *) * (size_t)h->fail_depth))
			return;
	if (nstacks < MAX_STACKS) {
		memcpy(stacks[nstacks].pc, h->fail_stack, sizeof(stacks[0].pc));
		stacks[nstacks].depth = h->fail_depth;
		nstacks++;
	}
}

static uint64_t knob(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s && strtoull(s, NULL, 10) ? strtoull(s, NULL, 10) : def;
}

static void side_init(side *s, const char *tag)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/rs_allocfail_%s_%d", base, tag,
		 (int)getpid());
	rs_t_rmtree(s->dir);
	assert_ok(open_side(s));
}

/* One attempt of step i on s, failing after `allow` allocations. */
static int attempt(side *s, size_t i, int64_t allow)
{
	int rc;

	arm(&s->h, allow);
	if (steps[i].fn) {
		rc = steps[i].fn(s->db);
		disarm(&s->h);
		return rc;
	}
	rs_db_close(s->db);
	s->db = NULL;
	rc = open_side(s);
	disarm(&s->h);
	return rc;
}

/* After a failed reopen there is no database: open one, faults off. */
static void recover_handle(side *s)
{
	if (!s->db)
		assert_ok(open_side(s));
}

static void allocfail__every_allocation_of_the_workload(void **state)
{
	side *f = calloc(1, sizeof(*f)), *sh = calloc(1, sizeof(*sh));
	dump before = { 0 }, after = { 0 }, shadow = { 0 }, mine = { 0 };
	uint64_t stride = knob("RS_ALLOCFAIL_STRIDE", 1);
	bool verbose = getenv("RS_ALLOCFAIL_VERBOSE") != NULL;
	size_t sites = 0, attempts = 0, tolerated = 0, repeats_through = 0;

	(void)state;
	assert_non_null(f);
	assert_non_null(sh);
	memset(run_a.bytes, 0xa1, sizeof(run_a.bytes));
	memset(run_b.bytes, 0xb2, sizeof(run_b.bytes));
	run_a.bytes[6] = run_b.bytes[6] = 0x40;
	side_init(f, "db");
	side_init(sh, "shadow");
	nstacks = 0;

	for (size_t i = 0; i < NSTEPS; i++) {
		size_t failed_here = 0;
		int rc;

		/* The shadow: the step without faults. */
		rc = attempt(sh, i, INT64_MAX);
		if (rc != 0)
			fail_msg("step %zu (%s): shadow got %s", i,
				 steps[i].name, rs_errname(rc));
		take(sh, &shadow, false);

		for (int64_t k = 0;; k += (int64_t)stride) {
			int64_t live1;

			take(f, &before, true);
			rc = attempt(f, i, k);
			attempts++;
			if (atomic_load(&f->h.failed) == 0) {
				if (rc != 0)
					fail_msg("step %zu (%s): %s without a "
						 "fault",
						 i, steps[i].name,
						 rs_errname(rc));
				break;
			}
			/* A failure was injected. */
			failed_here++;
			note_stack(&f->h);
			if (rc == 0 && steps[i].fn) {
				/* Tolerated (something it can do without,
				 * as a pending-prune entry): the step did
				 * its work, checked against the shadow
				 * below; its later allocations are not
				 * reached from this state. */
				tolerated++;
				break;
			}
			if (!steps[i].fn) {
				/* Reopen: whatever close did, an open
				 * without faults finds the same state; a
				 * failed open holds nothing. */
				if (rc != 0 && rc != RS_ENOMEM)
					fail_msg("reopen, allocation %lld: %s",
						 (long long)k + 1,
						 rs_errname(rc));
				if (rc != 0)
					assert_int_equal(
						atomic_load(&f->h.live_blocks),
						0);
				recover_handle(f);
				take(f, &after, true);
				assert_string_equal(after.text, before.text);
				continue;
			}
			if (rc != RS_ENOMEM)
				fail_msg("step %zu (%s), allocation %lld "
					 "failed: got %s, want RS_ENOMEM",
					 i, steps[i].name, (long long)k + 1,
					 rs_errname(rc));
			take(f, &after, true);
			if (strcmp(after.text, before.text) != 0)
				fail_msg("step %zu (%s), allocation %lld "
					 "failed: state changed\n"
					 "before:\n%s\nafter:\n%s",
					 i, steps[i].name, (long long)k + 1,
					 before.text, after.text);
			/* The same failure again, until caches it fills
			 * are warm: then it holds no more memory. */
			for (int rep = 0;; rep++) {
				live1 = atomic_load(&f->h.live_blocks);
				rc = attempt(f, i, k);
				if (rc != RS_ENOMEM && rc != 0)
					fail_msg("step %zu (%s), allocation "
						 "%lld failed again: %s",
						 i, steps[i].name,
						 (long long)k + 1,
						 rs_errname(rc));
				if (rc == 0) /* warm caches: it got through */
					break;
				if (atomic_load(&f->h.live_blocks) == live1)
					break;
				if (rep == 6) {
					/* Where it failed (addr2line). */
					backtrace_symbols_fd(f->h.fail_stack,
							     f->h.fail_depth,
							     2);
					fail_msg(
						"step %zu (%s), allocation "
						"%lld failed: %lld blocks "
						"more on each failure",
						i, steps[i].name,
						(long long)k + 1,
						(long long)(atomic_load(
								    &f->h.live_blocks) -
							    live1));
				}
			}
			if (rc == 0) {
				repeats_through++;
				break;
			}
			take(f, &after, true);
			assert_string_equal(after.text, before.text);
		}
		sites += failed_here;
		if (verbose)
			print_message("step %2zu %-26s %zu allocations failed "
				      "in turn\n",
				      i, steps[i].name, failed_here);
		take(f, &mine, false);
		if (strcmp(mine.text, shadow.text) != 0)
			fail_msg("step %zu (%s): state differs from the "
				 "shadow's\nshadow:\n%s\nhere:\n%s",
				 i, steps[i].name, shadow.text, mine.text);
	}
	print_message("%zu steps, %zu attempts: %zu (step, allocation) sites "
		      "failed, %zu distinct call stacks, %zu failures "
		      "tolerated (call succeeded), %zu steps got through "
		      "on a repeat with warm caches\n",
		      NSTEPS, attempts, sites, nstacks, tolerated,
		      repeats_through);

	rs_db_close(f->db);
	rs_db_close(sh->db);
	assert_int_equal(atomic_load(&f->h.live_blocks), 0);
	assert_int_equal(atomic_load(&sh->h.live_blocks), 0);
	rs_t_rmtree(f->dir);
	rs_t_rmtree(sh->dir);
	free(before.text);
	free(after.text);
	free(shadow.text);
	free(mine.text);
	free(f);
	free(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allocfail__every_allocation_of_the_workload),
	};

	return cmocka_run_group_tests_name("allocfail", tests, NULL, NULL);
}
