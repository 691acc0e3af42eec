/* SPDX-License-Identifier: MIT */
/* RunIndex semantics, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

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

struct runs {
	rs_run_id ids[16];
	rs_run_status status[16];
	size_t n;
};

static int runs_cb(const rs_run_info *info, void *ctx)
{
	struct runs *r = ctx;

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
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v")), 0);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 0, NULL), 0);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 1);
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

static void expect_empty(fx *f, const rs_run_id *run)
{
	rs_trace t;
	uint64_t len = 1;
	char buf[32];

	assert_int_equal(rs_kv_get(f->db, run, S("k"), buf, sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_eventlog_len(f->db, run, &len), 0);
	assert_int_equal(len, 0);
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
	/* The id is a fresh namespace: sequences and ids restart. */
	populate(f, &f->run);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &cursor), 0);
	assert_int_equal(cursor, 1);
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("c"), NULL, 0,
					   NULL, &cursor),
			 RS_ENOSPC);
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
		FX_TEST(runindex__bad_input),
	};

	return FX_RUN("runindex", tests);
}
