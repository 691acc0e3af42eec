/* SPDX-License-Identifier: MIT */
/* TraceStore semantics, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

static uint64_t record(fx *f, const char *type, const char *payload,
		       const char *const *tags, size_t ntags, uint64_t parent)
{
	rs_bytes t[8];
	uint64_t id = 12345;

	for (size_t i = 0; i < ntags; i++) {
		t[i].data = tags[i];
		t[i].len = strlen(tags[i]);
	}
	assert_int_equal(rs_tracestore_record(
				 f->db, &f->run, type, strlen(type), payload,
				 strlen(payload), t, ntags, parent, &id),
			 0);
	return id;
}

struct seen {
	uint64_t ids[64];
	uint64_t parents[64];
	unsigned depths[64];
	uint32_t flags[64];
	size_t n;
};

static int seen_cb(const rs_trace *t, void *ctx)
{
	struct seen *s = ctx;

	s->ids[s->n] = t->id;
	s->parents[s->n] = t->parent;
	s->flags[s->n++] = t->flags;
	return 0;
}

static int tree_cb(const rs_trace *t, unsigned depth, void *ctx)
{
	struct seen *s = ctx;

	s->depths[s->n] = depth;
	return seen_cb(t, ctx);
}

static void expect_ids(const struct seen *s, const uint64_t *want, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s->ids[i], want[i]);
}

static void tracestore__record_assigns_dense_ids(void **state)
{
	fx *f = *state;

	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(record(f, "llm", "", NULL, 0, RS_TRACE_NONE),
				 i);
	/* id_out may be NULL. */
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("llm"), NULL, 0,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 0);
}

static void tracestore__get_returns_fields_and_tags(void **state)
{
	fx *f = *state;
	const char *tags[] = { "model:x", "cost", "é" };
	rs_trace t;
	char buf[128];
	size_t need = 0;
	rs_bytes tag;
	uint64_t root, child;

	root = record(f, "agent.step", "root-payload", NULL, 0, RS_TRACE_NONE);
	child = record(f, "llm.call", "{}", tags, 3, root);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, child, &t, buf,
					   sizeof(buf), &need),
			 0);
	assert_int_equal(t.id, child);
	assert_int_equal(t.parent, root);
	assert_int_equal(t.flags, 0);
	assert_true(t.timestamp_ns > 0);
	assert_int_equal(t.type.len, 8);
	assert_memory_equal(t.type.data, "llm.call", 8);
	assert_int_equal(t.payload.len, 2);
	assert_memory_equal(t.payload.data, "{}", 2);
	assert_int_equal(t.ntags, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(rs_trace_tag(&t, i, &tag), 0);
		assert_int_equal(tag.len, strlen(tags[i]));
		assert_memory_equal(tag.data, tags[i], tag.len);
	}
	assert_int_equal(rs_trace_tag(&t, 3, &tag), RS_EINVAL);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, root, &t, buf,
					   sizeof(buf), NULL),
			 0);
	assert_int_equal(t.parent, RS_TRACE_NONE);
	assert_int_equal(t.ntags, 0);
	/* Too small a buffer, a missing id. */
	assert_int_equal(
		rs_tracestore_get(f->db, &f->run, child, &t, buf, 4, &need),
		RS_ENOSPC);
	assert_true(need > 4);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, 99, &t, buf,
					   sizeof(buf), NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, RS_TRACE_PENDING | 1,
					   &t, buf, sizeof(buf), NULL),
			 RS_ENOTFOUND);
}

static void tracestore__queries_page_in_recording_order(void **state)
{
	fx *f = *state;
	const char *ta[] = { "a" }, *tab[] = { "a__b", "x" }, *tb[] = { "a_" };
	struct seen s = { 0 };
	uint64_t cursor = 0;
	bool more;

	record(f, "tool", "", ta, 1, RS_TRACE_NONE);	  /* 0 */
	record(f, "llm", "", tab, 2, RS_TRACE_NONE);	  /* 1 */
	record(f, "tool", "", tb, 1, 0);		  /* 2 */
	record(f, "tool", "", ta, 1, 0);		  /* 3 */
	record(f, "tool__x", "", NULL, 0, RS_TRACE_NONE); /* 4 */
	record(f, "tool", "", NULL, 0, 2);		  /* 5 */

	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("tool"),
						     &cursor, 3, &more, seen_cb,
						     &s),
			 0);
	assert_true(more);
	assert_int_equal(cursor, 3);
	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("tool"),
						     &cursor, 3, &more, seen_cb,
						     &s),
			 0);
	assert_false(more);
	expect_ids(&s, (const uint64_t[]){ 0, 2, 3, 5 }, 4);

	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("a"),
						    &cursor, 0, &more, seen_cb,
						    &s),
			 0);
	assert_false(more);
	expect_ids(&s, (const uint64_t[]){ 0, 3 }, 2);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("a__b"),
						    &cursor, 0, NULL, seen_cb,
						    &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ 1 }, 1);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("nope"),
						    &cursor, 0, &more, seen_cb,
						    &s),
			 0);
	assert_int_equal(s.n, 0);
	assert_false(more);

	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_children(f->db, &f->run, 0, &cursor, 1,
						&more, seen_cb, &s),
			 0);
	assert_true(more);
	assert_int_equal(rs_tracestore_children(f->db, &f->run, 0, &cursor, 1,
						&more, seen_cb, &s),
			 0);
	assert_false(more);
	expect_ids(&s, (const uint64_t[]){ 2, 3 }, 2);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_children(f->db, &f->run, 5, &cursor, 0,
						&more, seen_cb, &s),
			 0);
	assert_int_equal(s.n, 0);
}

static void tracestore__query_by_time_half_open(void **state)
{
	fx *f = *state;
	uint64_t ts[6], cursor = 0;
	struct seen s = { 0 };
	rs_trace t;
	char buf[64];
	bool more;

	for (uint64_t i = 0; i < 6; i++) {
		record(f, "t", "", NULL, 0, RS_TRACE_NONE);
		assert_int_equal(rs_tracestore_get(f->db, &f->run, i, &t, buf,
						   sizeof(buf), NULL),
				 0);
		ts[i] = t.timestamp_ns;
		if (i)
			assert_true(ts[i] >= ts[i - 1]);
	}
	/* [ts[1], ts[4]) holds the ids whose stamps fall in it. */
	assert_int_equal(rs_tracestore_query_by_time(f->db, &f->run, ts[1],
						     ts[4], &cursor, 0, &more,
						     seen_cb, &s),
			 0);
	assert_false(more);
	for (size_t i = 0; i < s.n; i++) {
		assert_true(ts[s.ids[i]] >= ts[1] && ts[s.ids[i]] < ts[4]);
		if (i)
			assert_int_equal(s.ids[i], s.ids[i - 1] + 1);
	}
	assert_true(s.n >= 1 || ts[1] == ts[4]);
	/* Everything, a page at a time. */
	s.n = 0;
	cursor = 0;
	do {
		assert_int_equal(rs_tracestore_query_by_time(
					 f->db, &f->run, 0, UINT64_MAX, &cursor,
					 4, &more, seen_cb, &s),
				 0);
	} while (more);
	expect_ids(&s, (const uint64_t[]){ 0, 1, 2, 3, 4, 5 }, 6);
	/* Empty windows. */
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_query_by_time(f->db, &f->run, 0, ts[0],
						     &cursor, 0, &more, seen_cb,
						     &s),
			 0);
	assert_int_equal(rs_tracestore_query_by_time(f->db, &f->run, ts[5] + 1,
						     UINT64_MAX, &cursor, 0,
						     &more, seen_cb, &s),
			 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(rs_tracestore_query_by_time(f->db, &f->run, 5, 4,
						     &cursor, 0, &more, seen_cb,
						     &s),
			 RS_EINVAL);
}

/* The benchmark's 13-node tree: a root, 3 children, 3 grandchildren each. */
static void tracestore__get_tree_preorder_with_depth(void **state)
{
	fx *f = *state;
	uint64_t root = record(f, "root", "", NULL, 0, RS_TRACE_NONE), c[3];
	struct seen s = { 0 };

	for (int i = 0; i < 3; i++)
		c[i] = record(f, "child", "", NULL, 0, root);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			record(f, "leaf", "", NULL, 0, c[i]);
	record(f, "other-root", "", NULL, 0, RS_TRACE_NONE);

	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, root, 10, tree_cb, &s),
		0);
	/* Pre-order: root, child 1, its leaves, child 2, ... */
	expect_ids(
		&s,
		(const uint64_t[]){ 0, 1, 4, 5, 6, 2, 7, 8, 9, 3, 10, 11, 12 },
		13);
	assert_int_equal(s.depths[0], 0);
	assert_int_equal(s.depths[1], 1);
	assert_int_equal(s.depths[2], 2);
	assert_int_equal(s.parents[2], 1);
	s.n = 0;
	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, root, 1, tree_cb, &s),
		0);
	expect_ids(&s, (const uint64_t[]){ 0, 1, 2, 3 }, 4);
	s.n = 0;
	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, c[1], 0, tree_cb, &s),
		0);
	expect_ids(&s, (const uint64_t[]){ 2 }, 1);
	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, 99, 3, tree_cb, &s),
		RS_ENOTFOUND);
}

static void tracestore__missing_parent_is_enotfound(void **state)
{
	fx *f = *state;
	uint64_t id = 7, cursor = 0;
	struct seen s = { 0 };

	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      NULL, 0, 0, &id),
			 RS_ENOTFOUND);
	assert_int_equal(id, 7);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      NULL, 0, RS_TRACE_PENDING | 0,
					      &id),
			 RS_ENOTFOUND);
	record(f, "t", "", NULL, 0, RS_TRACE_NONE);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      NULL, 0, 1, &id),
			 RS_ENOTFOUND);
	/* Nothing half-recorded: one trace, one index entry. */
	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("t"),
						     &cursor, 0, NULL, seen_cb,
						     &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ 0 }, 1);
}

static void tracestore__index_keys_do_not_collide_with_kv(void **state)
{
	fx *f = *state;
	const char *tags[] = { "a" };
	struct seen s = { 0 };
	uint64_t cursor = 0;

	/* KV keys spelled like the index's keys live in another space. */
	assert_int_equal(rs_kv_put(f->db, &f->run,
				   S("\x03\0\0\0\x01"
				     "a"),
				   S("\0\0\0\0\0\0\0\x09")),
			 0);
	assert_int_equal(rs_kv_put(f->db, &f->run, S("\x00"), S("junk")), 0);
	record(f, "t", "", tags, 1, RS_TRACE_NONE);
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("a"),
						    &cursor, 0, NULL, seen_cb,
						    &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ 0 }, 1);
}

static void tracestore__txn_pending_parents_resolve(void **state)
{
	fx *f = *state;
	const char *tags[] = { "k" };
	rs_bytes tag = { "k", 1 };
	uint64_t root = 0, child = 0, grand = 0, cursor = 0;
	struct seen s = { 0 };
	rs_trace t;
	rs_txn *txn;
	bool more;

	record(f, "pre", "", tags, 1, RS_TRACE_NONE); /* id 0 */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("root"), S("r"), NULL,
						  0, RS_TRACE_NONE, &root),
			 0);
	assert_true(root & RS_TRACE_PENDING);
	assert_int_equal(rs_txn_tracestore_record(txn, S("child"), S("c"), &tag,
						  1, root, &child),
			 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("child"), S("g"), NULL,
						  0, child, &grand),
			 0);
	/* A committed parent works too; a missing one does not. */
	assert_int_equal(rs_txn_tracestore_record(txn, S("child"), NULL, 0,
						  NULL, 0, 0, NULL),
			 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("child"), NULL, 0,
						  NULL, 0, 77, NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_txn_tracestore_record(txn, S("child"), NULL, 0,
						  NULL, 0,
						  RS_TRACE_PENDING | 40, NULL),
			 RS_ENOTFOUND);

	/* Read-your-writes with pending handles. */
	assert_int_equal(rs_txn_tracestore_get(txn, child, &t), 0);
	assert_int_equal(t.flags, RS_TRACE_F_PENDING);
	assert_int_equal(t.parent, root);
	assert_int_equal(t.payload.len, 1);
	assert_int_equal(t.ntags, 1);
	assert_int_equal(rs_txn_tracestore_query_by_type(txn, S("child"),
							 &cursor, 0, &more,
							 seen_cb, &s),
			 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], child);
	assert_int_equal(s.flags[0], RS_TRACE_F_PENDING);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_txn_tracestore_query_by_tag(txn, S("k"), &cursor, 1,
							&more, seen_cb, &s),
			 0);
	assert_true(more);
	assert_int_equal(rs_txn_tracestore_query_by_tag(txn, S("k"), &cursor, 1,
							&more, seen_cb, &s),
			 0);
	assert_false(more);
	expect_ids(&s, (const uint64_t[]){ 0, child }, 2);
	s.n = 0;
	assert_int_equal(rs_txn_tracestore_get_tree(txn, root, 5, tree_cb, &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ root, child, grand }, 3);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_txn_tracestore_children(txn, 0, &cursor, 0, NULL,
						    seen_cb, &s),
			 0);
	assert_int_equal(s.n, 1);
	/* Time queries see committed traces only. */
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_txn_tracestore_query_by_time(txn, 0, UINT64_MAX,
							 &cursor, 0, NULL,
							 seen_cb, &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ 0 }, 1);

	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(root, 1);
	assert_int_equal(child, 2);
	assert_int_equal(grand, 3);
	s.n = 0;
	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, 1, 5, tree_cb, &s), 0);
	expect_ids(&s, (const uint64_t[]){ 1, 2, 3 }, 3);
	assert_int_equal(s.parents[2], 2);
	s.n = 0;
	cursor = 0;
	assert_int_equal(rs_tracestore_children(f->db, &f->run, 0, &cursor, 0,
						NULL, seen_cb, &s),
			 0);
	expect_ids(&s, (const uint64_t[]){ 4 }, 1);
}

/* Page through a query in a transaction (y: type "a", t: tag "k", c:
 * children of parent) from `cursor`, `limit` traces at a time. */
static void pages(rs_txn *txn, char kind, uint64_t parent, uint64_t cursor,
		  size_t limit, struct seen *s)
{
	bool more = true;
	int rc;

	s->n = 0;
	while (more) {
		size_t before = s->n;

		if (kind == 'y')
			rc = rs_txn_tracestore_query_by_type(
				txn, S("a"), &cursor, limit, &more, seen_cb, s);
		else if (kind == 't')
			rc = rs_txn_tracestore_query_by_tag(
				txn, S("k"), &cursor, limit, &more, seen_cb, s);
		else
			rc = rs_txn_tracestore_children(
				txn, parent, &cursor, limit, &more, seen_cb, s);
		assert_int_equal(rc, 0);
		assert_true(!more || s->n - before == limit);
	}
}

/* A transaction's pending traces page like committed ones, after them:
 * by type, by tag, as children and in a tree, from any cursor. */
static void tracestore__txn_pending_traces_page(void **state)
{
	fx *f = *state;
	const char *tags[] = { "k" };
	rs_bytes tag = { "k", 1 };
	uint64_t h[30], want_a[20], want_k[20], want_c[20], root;
	size_t na = 0, nk = 0, nc = 0;
	struct seen s = { 0 };
	rs_txn *txn;

	for (uint64_t i = 0; i < 3; i++)
		want_a[na++] = record(f, "a", "", tags, 1, RS_TRACE_NONE);
	want_k[nk++] = want_a[0];
	want_k[nk++] = want_a[1];
	want_k[nk++] = want_a[2];
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("root"), NULL, 0, NULL,
						  0, RS_TRACE_NONE, &root),
			 0);
	for (size_t i = 0; i < 30; i++) {
		bool is_a = i % 2 == 0, tagged = i % 3 == 0, child = i % 4 == 1;

		assert_int_equal(rs_txn_tracestore_record(
					 txn, is_a ? "a" : "b", 1, NULL, 0,
					 &tag, tagged, child ? root : 0, &h[i]),
				 0);
		if (is_a)
			want_a[na++] = h[i];
		if (tagged)
			want_k[nk++] = h[i];
		if (child)
			want_c[nc++] = h[i];
	}
	pages(txn, 'y', root, 0, 4, &s); /* by type, 4 per page */
	expect_ids(&s, want_a, na);
	pages(txn, 't', root, 5, 0, &s); /* from inside the pending ones */
	expect_ids(&s, want_k + 5, nk - 5);
	pages(txn, 't', root, 100, 3, &s); /* past the end */
	assert_int_equal(s.n, 0);
	pages(txn, 'c', root, 0, 1, &s); /* children of a pending root */
	expect_ids(&s, want_c, nc);
	/* The tree: the root, then its children. */
	s.n = 0;
	assert_int_equal(rs_txn_tracestore_get_tree(txn, root, 1, tree_cb, &s),
			 0);
	assert_int_equal(s.n, nc + 1);
	assert_int_equal(s.ids[0], root);
	for (size_t i = 0; i < nc; i++) {
		assert_int_equal(s.ids[i + 1], want_c[i]);
		assert_int_equal(s.depths[i + 1], 1);
	}
	rs_txn_abort(txn);
}

static void tracestore__txn_abort_records_nothing(void **state)
{
	fx *f = *state;
	uint64_t id = 0, cursor = 0;
	struct seen s = { 0 };
	rs_txn *txn;

	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("t"), NULL, 0, NULL, 0,
						  RS_TRACE_NONE, &id),
			 0);
	rs_txn_abort(txn);
	assert_true(id & RS_TRACE_PENDING);
	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("t"),
						     &cursor, 0, NULL, seen_cb,
						     &s),
			 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(record(f, "t", "", NULL, 0, RS_TRACE_NONE), 0);
}

static void tracestore__bad_input(void **state)
{
	fx *f = *state;
	rs_run_id nil = { { 0 } };
	rs_bytes tags[RS_TAGS_MAX + 1], dup[2] = { { "x", 1 }, { "x", 1 } };
	rs_bytes bad = { "\xc3", 1 }, empty = { "", 0 };
	char big[RS_TAG_MAX + 1], buf[16];
	struct seen s = { 0 };
	uint64_t cursor = 0;
	rs_trace t;
	rs_txn *txn;

	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i <= RS_TAGS_MAX; i++) {
		tags[i].data = &big[i];
		tags[i].len = RS_TAGS_MAX + 1 - i;
	}
	assert_int_equal(rs_tracestore_record(NULL, &f->run, S("t"), NULL, 0,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &nil, S("t"), NULL, 0,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, "", 0, NULL, 0,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, big,
					      RS_TYPE_MAX + 1, NULL, 0, NULL, 0,
					      RS_TRACE_NONE, NULL),
			 RS_ETOOBIG);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 1,
					      NULL, 0, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      NULL, 1, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      tags, RS_TAGS_MAX + 1,
					      RS_TRACE_NONE, NULL),
			 RS_ETOOBIG);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      tags, RS_TAGS_MAX, RS_TRACE_NONE,
					      NULL),
			 0);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      dup, 2, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      &bad, 1, RS_TRACE_NONE, NULL),
			 RS_EUTF8);
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      &empty, 1, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	tags[0].len = RS_TAG_MAX + 1;
	tags[0].data = big;
	assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"), NULL, 0,
					      tags, 1, RS_TRACE_NONE, NULL),
			 RS_ETOOBIG);
	/* Only the valid record landed. */
	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("t"),
						     &cursor, 0, NULL, seen_cb,
						     &s),
			 0);
	assert_int_equal(s.n, 1);

	assert_int_equal(
		rs_tracestore_get(f->db, &f->run, 0, NULL, buf, 16, NULL),
		RS_EINVAL);
	assert_int_equal(
		rs_tracestore_get(f->db, &f->run, 0, &t, NULL, 16, NULL),
		RS_EINVAL);
	assert_int_equal(rs_trace_tag(NULL, 0, &bad), RS_EINVAL);
	assert_int_equal(rs_tracestore_query_by_type(f->db, &f->run, S("t"),
						     NULL, 0, NULL, seen_cb,
						     &s),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("\xff"),
						    &cursor, 0, NULL, seen_cb,
						    &s),
			 RS_EUTF8);
	assert_int_equal(rs_tracestore_query_by_tag(f->db, &f->run, S("t"),
						    &cursor, 0, NULL, NULL,
						    NULL),
			 RS_EINVAL);
	assert_int_equal(rs_tracestore_children(f->db, &f->run, RS_TRACE_NONE,
						&cursor, 0, NULL, seen_cb, &s),
			 RS_EINVAL);
	assert_int_equal(
		rs_tracestore_get_tree(f->db, &f->run, 0, 1, NULL, NULL),
		RS_EINVAL);
	assert_int_equal(rs_tracestore_get_tree(f->db, &nil, 0, 1, tree_cb, &s),
			 RS_EINVAL);

	assert_int_equal(rs_txn_tracestore_record(NULL, S("t"), NULL, 0, NULL,
						  0, RS_TRACE_NONE, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY),
			 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("t"), NULL, 0, NULL, 0,
						  RS_TRACE_NONE, NULL),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_tracestore_get(txn, 0, NULL), RS_EINVAL);
	assert_int_equal(rs_txn_tracestore_children(txn, RS_TRACE_NONE, &cursor,
						    0, NULL, seen_cb, &s),
			 RS_EINVAL);
	assert_int_equal(rs_txn_tracestore_query_by_time(txn, 2, 1, &cursor, 0,
							 NULL, seen_cb, &s),
			 RS_EINVAL);
	assert_int_equal(
		rs_txn_tracestore_get_tree(txn, RS_TRACE_NONE, 1, tree_cb, &s),
		RS_EINVAL);
	rs_txn_abort(txn);
	assert_int_equal(rs_txn_tracestore_get(txn, 0, &t), RS_EDONE);
	assert_int_equal(rs_txn_tracestore_query_by_type(txn, S("t"), &cursor,
							 0, NULL, seen_cb, &s),
			 RS_EDONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(tracestore__record_assigns_dense_ids),
		FX_TEST(tracestore__get_returns_fields_and_tags),
		FX_TEST(tracestore__queries_page_in_recording_order),
		FX_TEST(tracestore__query_by_time_half_open),
		FX_TEST(tracestore__get_tree_preorder_with_depth),
		FX_TEST(tracestore__missing_parent_is_enotfound),
		FX_TEST(tracestore__index_keys_do_not_collide_with_kv),
		FX_TEST(tracestore__txn_pending_parents_resolve),
		FX_TEST(tracestore__txn_pending_traces_page),
		FX_TEST(tracestore__txn_abort_records_nothing),
		FX_TEST(tracestore__bad_input),
	};

	return FX_RUN("tracestore", tests);
}
