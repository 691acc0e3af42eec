/* SPDX-License-Identifier: MIT */
/* RunIndex semantics, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <stdlib.h>

#include "storage/store.h"
#include "txn/txn.h"
#include "util/run_id.h"

static rs_run_id create_run(fx *f, const char *name, const rs_run_id *parent,
			    const char *const *tags, size_t ntags)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes t[4];
	rs_run_id id;

	for (size_t i = 0; i < ntags; i++) {
		t[i].data = tags[i];
		t[i].len = strlen(tags[i]);
	}
	o.name = name;
	o.name_len = name ? strlen(name) : 0;
	o.parent = parent;
	o.tags = t;
	o.ntags = ntags;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), 0);
	return id;
}

static void move(fx *f, const rs_run_id *id, rs_run_status to)
{
	assert_int_equal(rs_runindex_transition(f->db, id, to, NULL), 0);
}

static void runindex__create_and_get(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags[2] = { { "team:a", 6 }, { "prod", 4 } }, tag;
	rs_run_id parent, id, got = { { 0 } };
	rs_run_info info;
	char buf[256];
	size_t need = 0;

	parent = create_run(f, NULL, NULL, NULL, 0);
	o.name = "nightly";
	o.name_len = 7;
	o.parent = &parent;
	o.tags = tags;
	o.ntags = 2;
	o.metadata = "\x00\x01meta";
	o.metadata_len = 6;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), 0);
	assert_false(rs_run_id_is_nil(&id));
	assert_int_equal(
		rs_runindex_get(f->db, &id, &info, buf, sizeof(buf), &need), 0);
	assert_memory_equal(info.id.bytes, id.bytes, 16);
	assert_int_equal(info.status, RS_RUN_ACTIVE);
	assert_true(info.has_parent);
	assert_memory_equal(info.parent.bytes, parent.bytes, 16);
	assert_true(info.created_ns > 0);
	assert_int_equal(info.updated_ns, info.created_ns);
	assert_int_equal(info.name.len, 7);
	assert_memory_equal(info.name.data, "nightly", 7);
	assert_int_equal(info.metadata.len, 6);
	assert_memory_equal(info.metadata.data, "\x00\x01meta", 6);
	assert_int_equal(info.ntags, 2);
	assert_int_equal(rs_run_info_tag(&info, 1, &tag), 0);
	assert_memory_equal(tag.data, "prod", 4);
	assert_int_equal(rs_run_info_tag(&info, 2, &tag), RS_EINVAL);
	assert_int_equal(rs_runindex_get(f->db, &id, &info, buf, 4, &need),
			 RS_ENOSPC);
	assert_true(need > 4);
	assert_int_equal(rs_runindex_get_by_name(f->db, S("nightly"), &info,
						 buf, sizeof(buf), NULL),
			 0);
	assert_memory_equal(info.id.bytes, id.bytes, 16);
	assert_int_equal(
		rs_runindex_get(f->db, &parent, &info, buf, sizeof(buf), NULL),
		0);
	assert_false(info.has_parent);
	assert_null(info.name.data);
	assert_int_equal(info.metadata.len, 0);
	/* Defaults, and a caller-supplied id. */
	assert_int_equal(rs_runindex_create(f->db, NULL, NULL), 0);
	o = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	o.id = &f->run;
	assert_int_equal(rs_runindex_create(f->db, &o, &got), 0);
	assert_memory_equal(got.bytes, f->run.bytes, 16);
	assert_int_equal(rs_runindex_create(f->db, &o, NULL), RS_EEXIST);
	/* Missing ones. */
	assert_int_equal(rs_runindex_get_by_name(f->db, S("other"), &info, buf,
						 sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_run_id_generate(&got), 0);
	assert_int_equal(
		rs_runindex_get(f->db, &got, &info, buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
}

static int count_cb(const rs_run_info *info, void *ctx)
{
	(void)info;
	(*(size_t *)ctx)++;
	return 0;
}

static void runindex__names_are_unique(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_run_id a, b;
	rs_run_info info;
	char buf[128];
	uint64_t cursor = 0;
	size_t n = 0;

	a = create_run(f, "job", NULL, NULL, 0);
	o.name = "job";
	o.name_len = 3;
	assert_int_equal(rs_runindex_create(f->db, &o, &b), RS_EEXIST);
	/* The refused create registered nothing. */
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 0, NULL, count_cb, &n), 0);
	assert_int_equal(n, 1);
	/* Free again after delete. */
	assert_int_equal(rs_runindex_delete(f->db, &a), 0);
	b = create_run(f, "job", NULL, NULL, 0);
	assert_int_equal(rs_runindex_get_by_name(f->db, S("job"), &info, buf,
						 sizeof(buf), NULL),
			 0);
	assert_memory_equal(info.id.bytes, b.bytes, 16);
}

#define RUNS_MAX 96

struct runs {
	rs_run_id ids[RUNS_MAX];
	rs_run_status status[RUNS_MAX];
	size_t n;
};

static int runs_cb(const rs_run_info *info, void *ctx)
{
	struct runs *r = ctx;

	assert_true(r->n < RUNS_MAX);
	r->ids[r->n] = info->id;
	r->status[r->n++] = info->status;
	return 0;
}

static void expect_runs(const struct runs *r, const rs_run_id *want, size_t n)
{
	assert_int_equal(r->n, n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(r->ids[i].bytes, want[i].bytes, 16);
}

static void runindex__list_and_queries_page(void **state)
{
	fx *f = *state;
	const char *ta[] = { "a" }, *tab[] = { "a__b", "z" };
	struct runs r = { 0 };
	rs_run_id id[6];
	uint64_t cursor = 0;
	bool more = false;

	id[0] = create_run(f, "r0", NULL, tab, 2);
	id[1] = create_run(f, NULL, &id[0], ta, 1);
	id[2] = create_run(f, NULL, &id[0], NULL, 0);
	id[3] = create_run(f, "r3", NULL, ta, 1);
	id[4] = create_run(f, NULL, &id[0], ta, 1);
	id[5] = create_run(f, NULL, NULL, NULL, 0);
	move(f, &id[1], RS_RUN_PAUSED);
	move(f, &id[4], RS_RUN_PAUSED);
	move(f, &id[5], RS_RUN_PAUSED);
	assert_int_equal(rs_runindex_delete(f->db, &id[2]), 0);

	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 2, &more, runs_cb, &r), 0);
	assert_true(more);
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 2, &more, runs_cb, &r), 0);
	assert_true(more);
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 2, &more, runs_cb, &r), 0);
	assert_false(more);
	expect_runs(&r,
		    (const rs_run_id[]){ id[0], id[1], id[3], id[4], id[5] },
		    5);

	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_status(f->db, RS_RUN_PAUSED,
						     &cursor, 2, &more, runs_cb,
						     &r),
			 0);
	assert_true(more);
	assert_int_equal(rs_runindex_query_by_status(f->db, RS_RUN_PAUSED,
						     &cursor, 2, &more, runs_cb,
						     &r),
			 0);
	assert_false(more);
	expect_runs(&r, (const rs_run_id[]){ id[1], id[4], id[5] }, 3);
	assert_int_equal(r.status[2], RS_RUN_PAUSED);

	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_status(f->db, RS_RUN_ACTIVE,
						     &cursor, 0, &more, runs_cb,
						     &r),
			 0);
	expect_runs(&r, (const rs_run_id[]){ id[0], id[3] }, 2);

	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_tag(f->db, S("a"), &cursor, 0,
						  &more, runs_cb, &r),
			 0);
	assert_false(more);
	expect_runs(&r, (const rs_run_id[]){ id[1], id[3], id[4] }, 3);
	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_tag(f->db, S("a__b"), &cursor, 0,
						  &more, runs_cb, &r),
			 0);
	expect_runs(&r, (const rs_run_id[]){ id[0] }, 1);

	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_parent(f->db, &id[0], &cursor, 1,
						     &more, runs_cb, &r),
			 0);
	assert_true(more);
	assert_int_equal(rs_runindex_query_by_parent(f->db, &id[0], &cursor, 1,
						     &more, runs_cb, &r),
			 0);
	assert_false(more);
	expect_runs(&r, (const rs_run_id[]){ id[1], id[4] }, 2);
	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_parent(f->db, &id[5], &cursor, 0,
						     &more, runs_cb, &r),
			 0);
	assert_int_equal(r.n, 0);
	assert_false(more);
}

static const rs_run_status all_status[] = {
	RS_RUN_ACTIVE, RS_RUN_PAUSED,	 RS_RUN_COMPLETED,
	RS_RUN_FAILED, RS_RUN_CANCELLED, RS_RUN_ARCHIVED,
};

/* DESIGN.md section 3, written out (rows: from; columns: to). */
static const bool allowed[6][6] = {
	/* A  P  Co F  Ca Ar */
	{ 0, 1, 1, 1, 1, 0 }, /* Active */
	{ 1, 0, 0, 0, 1, 0 }, /* Paused */
	{ 0, 0, 0, 0, 0, 1 }, /* Completed */
	{ 0, 0, 0, 0, 0, 1 }, /* Failed */
	{ 0, 0, 0, 0, 0, 1 }, /* Cancelled */
	{ 0, 0, 0, 0, 0, 0 }, /* Archived */
};

static void drive_to(fx *f, const rs_run_id *id, rs_run_status s)
{
	if (s == RS_RUN_ACTIVE)
		return;
	if (s == RS_RUN_ARCHIVED) {
		move(f, id, RS_RUN_COMPLETED);
		move(f, id, RS_RUN_ARCHIVED);
		return;
	}
	move(f, id, s);
}

static void runindex__transitions_follow_the_table(void **state)
{
	fx *f = *state;
	rs_run_info info;
	char buf[64];

	for (int from = 0; from < 6; from++) {
		for (int to = 0; to < 6; to++) {
			rs_run_id id = create_run(f, NULL, NULL, NULL, 0);
			rs_run_status seen = (rs_run_status)99;
			int rc;

			drive_to(f, &id, all_status[from]);
			assert_int_equal(
				rs_runindex_transition_allowed(all_status[from],
							       all_status[to]),
				allowed[from][to]);
			rc = rs_runindex_transition(f->db, &id, all_status[to],
						    &seen);
			assert_int_equal(
				rc, allowed[from][to] ? 0 : RS_ETRANSITION);
			assert_int_equal(seen, all_status[from]);
			assert_int_equal(rs_runindex_get(f->db, &id, &info, buf,
							 sizeof(buf), NULL),
					 0);
			assert_int_equal(info.status,
					 allowed[from][to] ? all_status[to]
							   : all_status[from]);
			if (allowed[from][to])
				assert_true(info.updated_ns >= info.created_ns);
		}
	}
	assert_string_equal(rs_run_status_name(RS_RUN_ACTIVE), "active");
	assert_string_equal(rs_run_status_name(RS_RUN_CANCELLED), "cancelled");
	assert_string_equal(rs_run_status_name(RS_RUN_ARCHIVED), "archived");
	assert_string_equal(rs_run_status_name((rs_run_status)6), "unknown");
	assert_string_equal(rs_run_status_name((rs_run_status)-1), "unknown");
	assert_false(rs_runindex_transition_allowed((rs_run_status)7,
						    RS_RUN_ACTIVE));
	assert_false(rs_runindex_transition_allowed(RS_RUN_ACTIVE,
						    (rs_run_status)-3));
	{
		rs_run_id none;

		assert_int_equal(rs_run_id_generate(&none), 0);
		assert_int_equal(rs_runindex_transition(f->db, &none,
							RS_RUN_PAUSED, NULL),
				 RS_ENOTFOUND);
	}
}

static int cell_fn(rs_bytes value, uint64_t version, rs_bytes *nv, void *ctx)
{
	(void)version;
	(void)ctx;
	*nv = value;
	return 0;
}

/* The i-th kind of transactional write, staged on a run holding cell "c". */
static int archived_txn_write(rs_txn *txn, int i)
{
	switch (i) {
	case 0:
		return rs_txn_kv_put(txn, S("k3"), S("v"));
	case 1:
		return rs_txn_kv_delete(txn, S("k"), NULL);
	case 2:
		return rs_txn_eventlog_append(txn, S("t"), NULL, 0, NULL);
	case 3:
		return rs_txn_statecell_init(txn, S("new"), NULL, 0, NULL);
	case 4:
		return rs_txn_statecell_set(txn, S("c"), S("y"), NULL);
	case 5:
		return rs_txn_statecell_cas(txn, S("c"), 1, S("y"), NULL);
	case 6:
		return rs_txn_statecell_delete(txn, S("c"), NULL);
	default:
		return rs_txn_tracestore_record(txn, S("t"), NULL, 0, NULL, 0,
						RS_TRACE_NONE, NULL);
	}
}

static int archived_run_fn(rs_txn *txn, void *ctx)
{
	(void)ctx;
	return rs_txn_kv_put(txn, S("k4"), S("v"));
}

static void expect_archived_writes_fail(fx *f)
{
	rs_txn *txn;

	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v")),
			 RS_EARCHIVED);
	assert_int_equal(rs_kv_delete(f->db, &f->run, S("k"), NULL),
			 RS_EARCHIVED);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 0, NULL),
		RS_EARCHIVED);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("new"), NULL, 0, NULL),
		RS_EARCHIVED);
	assert_int_equal(
		rs_statecell_set(f->db, &f->run, S("c"), NULL, 0, NULL),
		RS_EARCHIVED);
	assert_int_equal(
		rs_statecell_cas(f->db, &f->run, S("c"), 1, NULL, 0, NULL),
		RS_EARCHIVED);
	assert_int_equal(rs_statecell_delete(f->db, &f->run, S("c"), NULL),
			 RS_EARCHIVED);
	assert_int_equal(rs_statecell_transition(f->db, &f->run, S("c"), 0,
						 NULL, cell_fn, NULL),
			 RS_EARCHIVED);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 RS_EARCHIVED);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, S("k2"), S("v")), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("t"), NULL, 0, NULL), 0);
	assert_int_equal(rs_txn_commit(txn), RS_EARCHIVED);
	/* Every transactional write stages, then fails at commit. */
	for (int i = 0; i < 8; i++) {
		assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
		assert_int_equal(archived_txn_write(txn, i), 0);
		assert_int_equal(rs_txn_commit(txn), RS_EARCHIVED);
	}
	assert_int_equal(
		rs_txn_run(f->db, &f->run, 0, 0, archived_run_fn, NULL),
		RS_EARCHIVED);
	/* Read-only transactions are fine. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY),
			 0);
	assert_int_equal(rs_txn_commit(txn), 0);
}

static void runindex__archived_run_is_read_only(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_run_status from;
	uint64_t len, v0, v1;
	char buf[8];

	o.id = &f->run;
	assert_int_equal(rs_runindex_create(f->db, &o, NULL), 0);
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v")), 0);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 0, NULL), 0);
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("c"), S("x"), NULL), 0);
	move(f, &f->run, RS_RUN_COMPLETED);
	/* Completed is not read-only yet. */
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v2")), 0);
	move(f, &f->run, RS_RUN_ARCHIVED);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v0), 0);
	expect_archived_writes_fail(f);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	assert_int_equal(v1, v0);
	/* Reads work. */
	assert_int_equal(
		rs_kv_get(f->db, &f->run, S("k"), buf, sizeof(buf), NULL), 0);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
	/* Archived is terminal... */
	assert_int_equal(
		rs_runindex_transition(f->db, &f->run, RS_RUN_ACTIVE, &from),
		RS_ETRANSITION);
	assert_int_equal(from, RS_RUN_ARCHIVED);
	/* ...other runs are untouched, and delete frees the id again. */
	{
		rs_run_id other;

		assert_int_equal(rs_run_id_generate(&other), 0);
		assert_int_equal(rs_kv_put(f->db, &other, S("k"), S("v")), 0);
	}
	assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);
	/* The id's next life starts at the drop version (its base). */
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	assert_true(v1 > v0);
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v")), 0);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 0, NULL), 0);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, v1 + 1);
}

static void populate(fx *f, const rs_run_id *run)
{
	assert_int_equal(rs_kv_put(f->db, run, S("k"), S("v")), 0);
	assert_int_equal(rs_eventlog_append(f->db, run, S("t"), S("p"), NULL),
			 0);
	assert_int_equal(rs_statecell_init(f->db, run, S("c"), S("x"), NULL),
			 0);
	assert_int_equal(rs_tracestore_record(f->db, run, S("t"), NULL, 0, NULL,
					      0, RS_TRACE_NONE, NULL),
			 0);
}

/* A run with no data: its log is empty at its base, the version its next
 * life starts at (its version now). */
static void expect_empty(fx *f, const rs_run_id *run)
{
	rs_trace t;
	uint64_t len = 1, base = 0;
	char buf[32];

	assert_int_equal(rs_kv_get(f->db, run, S("k"), buf, sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_db_run_version(f->db, run, &base), 0);
	assert_int_equal(rs_eventlog_len(f->db, run, &len), 0);
	assert_int_equal(len, base);
	assert_int_equal(
		rs_statecell_read(f->db, run, S("c"), NULL, 0, NULL, NULL),
		RS_ENOTFOUND);
	assert_int_equal(
		rs_tracestore_get(f->db, run, 0, &t, buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
}

static void runindex__delete_removes_metadata_and_data(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tag = { "tg", 2 };
	rs_run_id other, parent;
	struct runs r = { 0 };
	rs_txn *before, *writer;
	rs_run_info info;
	rs_bytes v;
	uint64_t cursor = 0, v0 = 0, v1 = 0;
	char buf[64];

	parent = create_run(f, NULL, NULL, NULL, 0);
	o.id = &f->run;
	o.name = "doomed";
	o.name_len = 6;
	o.tags = &tag;
	o.ntags = 1;
	o.parent = &parent;
	assert_int_equal(rs_runindex_create(f->db, &o, NULL), 0);
	populate(f, &f->run);
	assert_int_equal(rs_run_id_generate(&other), 0);
	populate(f, &other);

	assert_int_equal(
		rs_txn_begin(&before, f->db, &f->run, RS_TXN_F_READONLY), 0);
	assert_int_equal(rs_txn_begin(&writer, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_kv_get(writer, S("k"), &v), 0);
	assert_int_equal(rs_txn_kv_put(writer, S("k2"), S("v")), 0);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v0), 0);

	assert_int_equal(rs_runindex_delete(f->db, &f->run), 0);

	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	assert_int_equal(v1, v0 + 1);
	expect_empty(f, &f->run);
	assert_int_equal(
		rs_runindex_get(f->db, &f->run, &info, buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
	assert_int_equal(rs_runindex_get_by_name(f->db, S("doomed"), &info, buf,
						 sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_runindex_list(f->db, &cursor, 0, NULL, runs_cb, &r),
			 0);
	expect_runs(&r, &parent, 1);
	r.n = 0;
	cursor = 0;
	assert_int_equal(rs_runindex_query_by_tag(f->db, S("tg"), &cursor, 0,
						  NULL, runs_cb, &r),
			 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(rs_runindex_query_by_parent(f->db, &parent, &cursor, 0,
						     NULL, runs_cb, &r),
			 0);
	assert_int_equal(r.n, 0);
	/* A snapshot taken before still sees everything... */
	assert_int_equal(rs_txn_kv_get(before, S("k"), &v), 0);
	assert_int_equal(rs_txn_eventlog_len(before, &cursor), 0);
	assert_int_equal(cursor, 1);
	rs_txn_abort(before);
	/* ...and a transaction that read the run conflicts. */
	assert_int_equal(rs_txn_commit(writer), RS_ECONFLICT);
	/* Other runs keep their data. */
	assert_int_equal(
		rs_kv_get(f->db, &other, S("k"), buf, sizeof(buf), NULL), 0);
	/* Unregistered data can be deleted too; nothing at all cannot. */
	assert_int_equal(rs_runindex_delete(f->db, &other), 0);
	expect_empty(f, &other);
	assert_int_equal(rs_runindex_delete(f->db, &other), RS_ENOTFOUND);
	assert_int_equal(rs_runindex_delete(f->db, &f->run), RS_ENOTFOUND);
	/* The id is a fresh namespace whose sequences, ids and cell
	 * versions continue past everything it had (from its base). */
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	populate(f, &f->run);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &cursor), 0);
	assert_int_equal(cursor, v1 + 1);
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("c"), NULL, 0,
					   NULL, &cursor),
			 RS_ENOSPC);
	assert_int_equal(cursor, v1 + 1);
}

/* ---- listings are range scans of lists that hold only live runs ---- */

/*
 * The store calls a listing makes, counted by wrapping the store's
 * vtable (single-threaded tests only): point reads, seeks and steps.
 */
static struct {
	unsigned long reads, seeks, steps;
} g_ops;
static const rs__store_ops *g_real;
static rs__store_ops g_counting;

static int count_read(rs__store *s, const rs__snap *snap, uint8_t tag,
		      const void *key, size_t klen, uint64_t hash,
		      rs_bytes *out)
{
	g_ops.reads++;
	return g_real->read(s, snap, tag, key, klen, hash, out);
}

static int count_seek(rs__store *s, const rs__snap *snap, uint8_t tag,
		      const void *key, size_t klen, int mode, rs__iter *it)
{
	g_ops.seeks++;
	return g_real->seek(s, snap, tag, key, klen, mode, it);
}

static int count_step(rs__store *s, const rs__snap *snap, uint8_t tag,
		      rs__iter *it, int dir)
{
	g_ops.steps++;
	return g_real->step(s, snap, tag, it, dir);
}

static void counting_on(rs_db *db)
{
	g_real = db->store->ops;
	g_counting = *g_real;
	g_counting.read = count_read;
	g_counting.seek = count_seek;
	g_counting.step = count_step;
	db->store->ops = &g_counting;
	memset(&g_ops, 0, sizeof(g_ops));
}

static void counting_off(rs_db *db)
{
	db->store->ops = g_real;
}

#define MODEL_MAX RUNS_MAX

enum {
	Q_LIST,
	Q_STATUS,
	Q_TAG,
	Q_PARENT
};

static const rs_run_id g_parent = { { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
				      0xFF, 0xFE } };

static int query(fx *f, int kind, rs_run_status status, uint64_t *cursor,
		 size_t limit, bool *more, struct runs *s)
{
	switch (kind) {
	case Q_LIST:
		return rs_runindex_list(f->db, cursor, limit, more, runs_cb, s);
	case Q_STATUS:
		return rs_runindex_query_by_status(f->db, status, cursor, limit,
						   more, runs_cb, s);
	case Q_TAG:
		return rs_runindex_query_by_tag(f->db, S("odd"), cursor, limit,
						more, runs_cb, s);
	default:
		return rs_runindex_query_by_parent(f->db, &g_parent, cursor,
						   limit, more, runs_cb, s);
	}
}

/* Page through a listing `limit` runs at a time (0: one page). */
static void collect(fx *f, int kind, rs_run_status status, size_t limit,
		    struct runs *s)
{
	uint64_t cursor = 0;
	bool more = true;

	s->n = 0;
	while (more) {
		size_t before = s->n;

		assert_int_equal(
			query(f, kind, status, &cursor, limit, &more, s), 0);
		if (more)
			assert_int_equal(s->n - before, limit);
		else
			assert_true(!limit || s->n - before <= limit);
	}
	/* Past the end: nothing, and the cursor stays. */
	{
		uint64_t at = cursor;
		size_t n = s->n;

		assert_int_equal(
			query(f, kind, status, &cursor, limit, &more, s), 0);
		assert_false(more);
		assert_int_equal(s->n, n);
		assert_int_equal(cursor, at);
	}
}

struct model {
	rs_run_id id[MODEL_MAX];
	rs_run_status status[MODEL_MAX];
	bool live[MODEL_MAX];
	size_t n;
};

static bool model_has(const struct model *m, size_t i, int kind,
		      rs_run_status status)
{
	if (!m->live[i])
		return false;
	switch (kind) {
	case Q_LIST:
		return true;
	case Q_STATUS:
		return m->status[i] == status;
	case Q_TAG:
		return i % 2 == 1;
	default:
		return i % 3 == 0;
	}
}

static void expect_model(fx *f, const struct model *m, size_t limit)
{
	struct runs s;

	for (int kind = Q_LIST; kind <= Q_PARENT; kind++) {
		for (int st = 0; st < (kind == Q_STATUS ? 6 : 1); st++) {
			size_t k = 0;

			collect(f, kind, all_status[st], limit, &s);
			for (size_t i = 0; i < m->n; i++) {
				if (!model_has(m, i, kind, all_status[st]))
					continue;
				assert_true(k < s.n);
				assert_memory_equal(s.ids[k].bytes,
						    m->id[i].bytes, 16);
				k++;
			}
			assert_int_equal(s.n, k);
		}
	}
}

static void model_create(fx *f, struct model *m)
{
	const char *odd[] = { "odd" };
	size_t i = m->n++;

	m->id[i] =
		create_run(f, NULL, i % 3 == 0 ? &g_parent : NULL, odd, i % 2);
	m->status[i] = RS_RUN_ACTIVE;
	m->live[i] = true;
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

/* Random creates, transitions and deletes against a model: after each
 * step every listing, paged, equals the model's runs in registration
 * order, so the status index follows every transition and delete. */
static void runindex__listings_follow_a_model(void **state)
{
	fx *f = *state;
	struct model m = { 0 };
	uint64_t x = 12;

	for (int step = 0; step < 300; step++) {
		unsigned op = (unsigned)(lcg(&x) % 10);
		size_t i = m.n ? (size_t)(lcg(&x) % m.n) : 0;

		if (op < 3 || m.n == 0) {
			if (m.n < MODEL_MAX)
				model_create(f, &m);
		} else if (op < 9) {
			rs_run_status to = all_status[lcg(&x) % 6], from;
			int rc = rs_runindex_transition(f->db, &m.id[i], to,
							&from);

			if (!m.live[i]) {
				assert_int_equal(rc, RS_ENOTFOUND);
			} else if (allowed[m.status[i]][to]) {
				assert_int_equal(rc, 0);
				m.status[i] = to;
			} else {
				assert_int_equal(rc, RS_ETRANSITION);
				assert_int_equal(from, m.status[i]);
			}
		} else if (m.live[i]) {
			assert_int_equal(rs_runindex_delete(f->db, &m.id[i]),
					 0);
			m.live[i] = false;
		}
		expect_model(f, &m, (size_t)(step % 4));
	}
}

/*
 * The cost, deterministically: a listing makes one seek, one step per run
 * returned (plus the one that finds the end) and one point read per run
 * returned (its record), however many runs were deleted or are in other
 * statuses. The walk of the old ordinal lists read every position.
 */
static void runindex__listings_cost_only_what_they_return(void **state)
{
	fx *f = *state;
	const char *odd[] = { "odd" };
	rs_run_id id[200];
	struct runs s;
	uint64_t cursor;
	bool more;

	for (size_t i = 0; i < 200; i++)
		id[i] = create_run(f, NULL, &g_parent, odd, 1);
	/* Keep 4 runs; all others deleted, many after transitions. */
	for (size_t i = 0; i < 200; i++) {
		if (i % 50 == 7)
			continue;
		if (i % 2)
			move(f, &id[i], RS_RUN_PAUSED);
		assert_int_equal(rs_runindex_delete(f->db, &id[i]), 0);
	}
	move(f, &id[57], RS_RUN_FAILED);
	move(f, &id[107], RS_RUN_PAUSED);
	for (int kind = Q_LIST; kind <= Q_PARENT; kind++) {
		s.n = 0;
		cursor = 0;
		counting_on(f->db);
		assert_int_equal(
			query(f, kind, RS_RUN_ACTIVE, &cursor, 0, &more, &s),
			0);
		counting_off(f->db);
		assert_int_equal(s.n, kind == Q_STATUS ? 2 : 4);
		assert_int_equal(g_ops.seeks, 1);
		assert_int_equal(g_ops.steps, s.n);
		assert_int_equal(g_ops.reads, s.n);
	}
	/* A page from the middle: the same, and more_out reads one more. */
	s.n = 0;
	cursor = 8;
	counting_on(f->db);
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 1, &more, runs_cb, &s), 0);
	counting_off(f->db);
	assert_true(more);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0].bytes, id[57].bytes, 16);
	assert_int_equal(g_ops.seeks, 1);
	assert_int_equal(g_ops.steps, 1);
	assert_int_equal(g_ops.reads, 1);
	/* Failed and Paused hold one run each; Archived none. */
	collect(f, Q_STATUS, RS_RUN_FAILED, 0, &s);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0].bytes, id[57].bytes, 16);
	collect(f, Q_STATUS, RS_RUN_PAUSED, 0, &s);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0].bytes, id[107].bytes, 16);
	collect(f, Q_STATUS, RS_RUN_ARCHIVED, 0, &s);
	assert_int_equal(s.n, 0);
}

/* The cursor is a position: deletes and creates between pages neither
 * repeat nor skip the runs that stay. */
static void runindex__cursor_is_a_position(void **state)
{
	fx *f = *state;
	rs_run_id id[6], late;
	struct runs s = { .n = 0 };
	uint64_t cursor = 0, status_cursor = 0;
	bool more;

	for (size_t i = 0; i < 6; i++)
		id[i] = create_run(f, NULL, NULL, NULL, 0);
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 2, &more, runs_cb, &s), 0);
	assert_true(more);
	assert_int_equal(rs_runindex_query_by_status(f->db, RS_RUN_ACTIVE,
						     &status_cursor, 2, &more,
						     runs_cb, &s),
			 0);
	/* id[1] was the last returned: deleting it or id[0] changes nothing
	 * ahead; id[2] goes; id[3] leaves Active; a new run comes last. */
	assert_int_equal(rs_runindex_delete(f->db, &id[1]), 0);
	assert_int_equal(rs_runindex_delete(f->db, &id[2]), 0);
	move(f, &id[3], RS_RUN_PAUSED);
	late = create_run(f, NULL, NULL, NULL, 0);
	s.n = 0;
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 0, &more, runs_cb, &s), 0);
	assert_false(more);
	expect_runs(&s, (const rs_run_id[]){ id[3], id[4], id[5], late }, 4);
	s.n = 0;
	assert_int_equal(rs_runindex_query_by_status(f->db, RS_RUN_ACTIVE,
						     &status_cursor, 0, &more,
						     runs_cb, &s),
			 0);
	expect_runs(&s, (const rs_run_id[]){ id[4], id[5], late }, 3);
	/* A cursor past every run. */
	cursor = UINT64_MAX;
	s.n = 0;
	assert_int_equal(
		rs_runindex_list(f->db, &cursor, 0, &more, runs_cb, &s), 0);
	assert_int_equal(s.n, 0);
	assert_false(more);
	assert_int_equal(cursor, UINT64_MAX);
}

/* ---- durability: the lists are ordinary keys ---- */

/* Listings, the status index and the next ordinal survive reopen; and a
 * RunIndex of the earlier layout (dense lists with holes) is refused. */
static void runindex__lists_survive_reopen(void **state)
{
	fx *f = *state;
	char path[] = "/tmp/rs-runindex-XXXXXX";
	fx d = { NULL, { { 0 } }, f->storage };
	struct model m = { 0 };
	unsigned char old_key[5] = { 0x03, 0, 0, 0, 0 };
	rs_txn *txn;

	assert_non_null(mkdtemp(path));
	assert_int_equal(
		fx_open_dir(&d.db, RS_DURABILITY_BUFFERED, f->storage, path),
		0);
	for (size_t i = 0; i < 12; i++)
		model_create(&d, &m);
	move(&d, &m.id[1], RS_RUN_FAILED);
	move(&d, &m.id[1], RS_RUN_ARCHIVED);
	m.status[1] = RS_RUN_ARCHIVED;
	move(&d, &m.id[4], RS_RUN_PAUSED);
	m.status[4] = RS_RUN_PAUSED;
	assert_int_equal(rs_runindex_delete(d.db, &m.id[6]), 0);
	m.live[6] = false;
	rs_db_close(d.db);

	assert_int_equal(
		fx_open_dir(&d.db, RS_DURABILITY_BUFFERED, f->storage, path),
		0);
	expect_model(&d, &m, 5);
	/* Fences rebuilt from the status index. */
	assert_int_equal(rs_kv_put(d.db, &m.id[1], S("k"), S("v")),
			 RS_EARCHIVED);
	assert_int_equal(rs_kv_put(d.db, &m.id[2], S("k"), S("v")), 0);
	/* Ordinals continue: a new run lists last. */
	model_create(&d, &m);
	move(&d, &m.id[0], RS_RUN_PAUSED);
	m.status[0] = RS_RUN_PAUSED;
	expect_model(&d, &m, 3);
	/* Plant the earlier layout's list length: refused at open. */
	assert_int_equal(
		rs__txn_begin(&txn, d.db, &rs__nil_run, RS__TXN_F_BLIND), 0);
	assert_int_equal(rs__txn_write(txn, RS__TAG_RUNINDEX, old_key,
				       sizeof(old_key), "\0\0\0\0\0\0\0\1", 8,
				       0),
			 0);
	assert_int_equal(rs__txn_commit(txn), 0);
	rs_db_close(d.db);
	assert_int_equal(
		fx_open_dir(&d.db, RS_DURABILITY_BUFFERED, f->storage, path),
		RS_ECORRUPT);
	assert_int_equal(fx_remove_dir(path), 0);
}

static void runindex__bad_input(void **state)
{
	fx *f = *state;
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_run_id nil = { { 0 } }, id;
	rs_bytes tags[2] = { { "t", 1 }, { "t", 1 } };
	char name[RS_NAME_MAX + 1], buf[16];
	struct runs r = { 0 };
	uint64_t cursor = 0;
	rs_run_info info;

	memset(name, 'n', sizeof(name));
	assert_int_equal(rs_runindex_create(NULL, &o, &id), RS_EINVAL);
	o.version = 99;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EVERSION);
	o.version = RS_RUNINDEX_CREATE_OPTIONS_VERSION;
	o.id = &nil;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.id = &f->run;
	o.parent = &f->run;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.parent = &nil;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.parent = NULL;
	o.name = name;
	o.name_len = sizeof(name);
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_ETOOBIG);
	o.name_len = 0;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.name = "\xf5\x80\x80\x80";
	o.name_len = 4;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EUTF8);
	o.name = NULL;
	o.name_len = 3;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.name_len = 0;
	o.tags = tags;
	o.ntags = 2;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.ntags = RS_TAGS_MAX + 1;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_ETOOBIG);
	o.ntags = 0;
	o.metadata_len = 1;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_EINVAL);
	o.metadata = buf;
	o.metadata_len = (size_t)RS_VALUE_MAX + 1;
	assert_int_equal(rs_runindex_create(f->db, &o, &id), RS_ETOOBIG);
	/* Nothing was registered. */
	assert_int_equal(rs_runindex_list(f->db, &cursor, 0, NULL, runs_cb, &r),
			 0);
	assert_int_equal(r.n, 0);

	assert_int_equal(rs_runindex_get(f->db, &nil, &info, buf, 16, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_runindex_get(f->db, &f->run, NULL, buf, 16, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_runindex_get(f->db, &f->run, &info, NULL, 16, NULL),
			 RS_EINVAL);
	assert_int_equal(
		rs_runindex_get_by_name(f->db, NULL, 0, &info, buf, 16, NULL),
		RS_EINVAL);
	assert_int_equal(rs_runindex_get_by_name(f->db, S("\xc1\xbf"), &info,
						 buf, 16, NULL),
			 RS_EUTF8);
	assert_int_equal(rs_runindex_list(f->db, NULL, 0, NULL, runs_cb, &r),
			 RS_EINVAL);
	assert_int_equal(rs_runindex_query_by_status(f->db, (rs_run_status)6,
						     &cursor, 0, NULL, runs_cb,
						     &r),
			 RS_EINVAL);
	assert_int_equal(rs_runindex_query_by_tag(f->db, "", 0, &cursor, 0,
						  NULL, runs_cb, &r),
			 RS_EINVAL);
	assert_int_equal(rs_runindex_query_by_parent(f->db, &nil, &cursor, 0,
						     NULL, runs_cb, &r),
			 RS_EINVAL);
	assert_int_equal(
		rs_runindex_transition(f->db, &nil, RS_RUN_PAUSED, NULL),
		RS_EINVAL);
	assert_int_equal(
		rs_runindex_transition(f->db, &f->run, (rs_run_status)9, NULL),
		RS_EINVAL);
	assert_int_equal(rs_runindex_delete(f->db, &nil), RS_EINVAL);
	assert_int_equal(rs_runindex_delete(NULL, &f->run), RS_EINVAL);
	assert_int_equal(rs_run_info_tag(NULL, 0, tags), RS_EINVAL);
	/* The nil run's space is not reachable through data operations. */
	assert_int_equal(rs_kv_put(f->db, &nil, S("k"), S("v")), RS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(runindex__create_and_get),
		FX_TEST(runindex__names_are_unique),
		FX_TEST(runindex__list_and_queries_page),
		FX_TEST(runindex__transitions_follow_the_table),
		FX_TEST(runindex__archived_run_is_read_only),
		FX_TEST(runindex__delete_removes_metadata_and_data),
		FX_TEST(runindex__listings_follow_a_model),
		FX_TEST(runindex__listings_cost_only_what_they_return),
		FX_TEST(runindex__cursor_is_a_position),
		FX_TEST(runindex__lists_survive_reopen),
		FX_TEST(runindex__bad_input),
	};

	return FX_RUN("runindex", tests);
}
