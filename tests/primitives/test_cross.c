/* SPDX-License-Identifier: MIT */
/* Cross-primitive transactions and run isolation, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

#define ECUSTOM (-1000)

struct body {
	fx *f;
	int attempts;
	int fail_with;	/* returned after staging everything; 0: commit */
	bool interfere; /* first attempt: make the commit conflict */
	rs_event_receipt receipt;
	uint64_t trace_id;
	uint64_t cell_version;
};

static int all_primitives(rs_txn *txn, void *ctx)
{
	struct body *b = ctx;
	rs_bytes tag = { "tool", 4 }, v;
	int rc;

	b->attempts++;
	rc = rs_txn_statecell_read(txn, S("count"), &v, NULL);
	if (rc != 0 && rc != RS_ENOTFOUND)
		return rc;
	if (rc == RS_ENOTFOUND)
		rc = rs_txn_statecell_init(txn, S("count"), S("1"),
					   &b->cell_version);
	else
		rc = rs_txn_statecell_set(txn, S("count"), S("2"),
					  &b->cell_version);
	if (rc)
		return rc;
	if ((rc = rs_txn_kv_put(txn, S("k"), S("v"))) != 0)
		return rc;
	if ((rc = rs_txn_eventlog_append(txn, S("step"), S("p"),
					 &b->receipt)) != 0)
		return rc;
	if ((rc = rs_txn_tracestore_record(txn, S("call"), NULL, 0, &tag, 1,
					   RS_TRACE_NONE, &b->trace_id)) != 0)
		return rc;
	if (b->interfere && b->attempts == 1)
		assert_int_equal(rs_statecell_init(b->f->db, &b->f->run,
						   S("count"), S("x"), NULL),
				 0);
	return b->fail_with;
}

static void expect_nothing(fx *f)
{
	rs_trace t;
	uint64_t len = 9;
	char buf[16];

	assert_int_equal(
		rs_kv_get(f->db, &f->run, S("k"), buf, sizeof(buf), NULL),
		RS_ENOTFOUND);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("count"), NULL, 0,
					   NULL, NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, 0, &t, buf,
					   sizeof(buf), NULL),
			 RS_ENOTFOUND);
}

static void cross__txn_commits_all_primitives_atomically(void **state)
{
	fx *f = *state;
	struct body b = { f, 0, 0, false, { 0 }, 0, 0 };
	uint64_t v0, v1, len;
	rs_trace t;
	char buf[64];
	rs_txn *txn;

	assert_int_equal(rs_db_run_version(f->db, &f->run, &v0), 0);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(all_primitives(txn, &b), 0);
	expect_nothing(f);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(rs_db_run_version(f->db, &f->run, &v1), 0);
	assert_int_equal(v1, v0 + 1); /* one commit for all four */
	assert_int_equal(
		rs_kv_get(f->db, &f->run, S("k"), buf, sizeof(buf), NULL), 0);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(b.receipt.seq, 0);
	assert_int_equal(b.trace_id, 0);
	assert_int_equal(b.cell_version, 1);
	assert_int_equal(rs_tracestore_get(f->db, &f->run, 0, &t, buf,
					   sizeof(buf), NULL),
			 0);
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("count"), buf,
					   sizeof(buf), NULL, &len),
			 0);
	assert_int_equal(len, 1);
}

static void cross__callback_error_rolls_back_everything(void **state)
{
	fx *f = *state;
	struct body b = { f, 0, ECUSTOM, false, { 0 }, 0, 0 };

	memset(&b.receipt, 0xab, sizeof(b.receipt));
	assert_int_equal(rs_txn_run(f->db, &f->run, 0, 0, all_primitives, &b),
			 ECUSTOM);
	assert_int_equal(b.attempts, 1);
	expect_nothing(f);
	/* Receipts are filled only by a commit. */
	assert_int_equal(b.receipt.seq, 0xababababababababull);
	/* A positive return is passed back unchanged too. */
	b.fail_with = 7;
	assert_int_equal(rs_txn_run(f->db, &f->run, 0, 0, all_primitives, &b),
			 7);
	expect_nothing(f);
}

static void cross__conflicts_retry_the_whole_body(void **state)
{
	fx *f = *state;
	struct body b = { f, 0, 0, true, { 0 }, 0, 0 };
	uint64_t len;

	assert_int_equal(rs_txn_run(f->db, &f->run, 0, 0, all_primitives, &b),
			 0);
	assert_int_equal(b.attempts, 2);
	/* The first attempt left no trace; the second set the cell. */
	assert_int_equal(b.cell_version, 2);
	assert_int_equal(b.receipt.seq, 0);
	assert_int_equal(b.trace_id, 0);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
}

static void cross__read_your_writes_across_primitives(void **state)
{
	fx *f = *state;
	rs_trace t;
	rs_event ev;
	rs_txn *txn;
	rs_bytes v;
	uint64_t n, id;

	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, S("k"), S("kv")), 0);
	assert_int_equal(rs_txn_statecell_init(txn, S("c"), S("cell"), NULL),
			 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("e"), S("event"), NULL),
			 0);
	assert_int_equal(rs_txn_tracestore_record(txn, S("t"), S("trace"), NULL,
						  0, RS_TRACE_NONE, &id),
			 0);
	assert_int_equal(rs_txn_kv_get(txn, S("k"), &v), 0);
	assert_memory_equal(v.data, "kv", 2);
	assert_int_equal(rs_txn_statecell_read(txn, S("c"), &v, &n), 0);
	assert_memory_equal(v.data, "cell", 4);
	assert_int_equal(n, 1);
	assert_int_equal(rs_txn_eventlog_len(txn, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rs_txn_eventlog_read(txn, 0, &ev), 0);
	assert_memory_equal(ev.payload.data, "event", 5);
	assert_int_equal(rs_txn_tracestore_get(txn, id, &t), 0);
	assert_memory_equal(t.payload.data, "trace", 5);
	/* KV, cells, events and traces are separate key spaces. */
	assert_int_equal(rs_txn_kv_get(txn, S("c"), &v), RS_ENOTFOUND);
	assert_int_equal(rs_txn_commit(txn), 0);
}

static void cross__runs_are_isolated(void **state)
{
	fx *f = *state;
	rs_event_receipt r;
	rs_run_id other;
	uint64_t id, v;
	char buf[8];

	assert_int_equal(rs_run_id_generate(&other), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rs_eventlog_append(f->db, &f->run, S("e"),
						    NULL, 0, NULL),
				 0);
		assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"),
						      NULL, 0, NULL, 0,
						      RS_TRACE_NONE, NULL),
				 0);
	}
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("c"), S("a"), NULL), 0);
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("a")), 0);
	{
		fx o = { f->db, other, f->storage };

		expect_nothing(&o);
	}
	/* The other run counts from scratch. */
	assert_int_equal(rs_eventlog_append(f->db, &other, S("e"), NULL, 0, &r),
			 0);
	assert_int_equal(r.seq, 0);
	assert_int_equal(rs_tracestore_record(f->db, &other, S("t"), NULL, 0,
					      NULL, 0, RS_TRACE_NONE, &id),
			 0);
	assert_int_equal(id, 0);
	assert_int_equal(rs_statecell_init(f->db, &other, S("c"), S("b"), &v),
			 0);
	assert_int_equal(v, 1);
	assert_int_equal(rs_statecell_delete(f->db, &other, S("c"), NULL), 0);
	assert_int_equal(rs_statecell_read(f->db, &f->run, S("c"), buf,
					   sizeof(buf), NULL, &v),
			 0);
	assert_int_equal(v, 1);
	/* A trace parent must be in the same run. */
	assert_int_equal(rs_tracestore_record(f->db, &other, S("t"), NULL, 0,
					      NULL, 0, 2, NULL),
			 RS_ENOTFOUND);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &other, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(cross__txn_commits_all_primitives_atomically),
		FX_TEST(cross__callback_error_rolls_back_everything),
		FX_TEST(cross__conflicts_retry_the_whole_body),
		FX_TEST(cross__read_your_writes_across_primitives),
		FX_TEST(cross__runs_are_isolated),
	};

	return FX_RUN("cross", tests);
}
