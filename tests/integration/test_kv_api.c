/* SPDX-License-Identifier: MIT */
/*
 * End-to-end smoke of the whole KV API through the public header only.
 * Built twice: against the static and the shared library.
 */
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

#define S(x) (x), strlen(x)

static int add_one(rs_txn *txn, void *ctx)
{
	rs_bytes v;
	char buf[32];
	long n = 0;
	int rc = rs_txn_kv_get(txn, S("counter"), &v);

	(void)ctx;
	if (rc == 0) {
		memcpy(buf, v.data, v.len);
		buf[v.len] = '\0';
		n = strtol(buf, NULL, 10);
	} else if (rc != RS_ENOTFOUND) {
		return rc;
	}
	snprintf(buf, sizeof(buf), "%ld", n + 1);
	return rs_txn_kv_put(txn, S("counter"), S(buf));
}

static void kvapi__end_to_end(void **state)
{
	rs_fx *fx = *state;
	char text[RS_RUN_ID_STRLEN + 1];
	rs_run_id run, parsed;
	rs_t_list l = { 0 };
	rs_bytes keys[3] = { { "user:1", 6 }, { "user:2", 6 }, { "none", 4 } };
	rs_bytes vals[3];
	char buf[64];
	size_t need = 0, len = 0;
	bool ex = false, more = true;
	rs_txn *t, *old;
	uint64_t ver = 0;

	/* A run id as an application would get it. */
	assert_ok(rs_run_id_generate(&run));
	assert_ok(rs_run_id_format(&run, text, sizeof(text)));
	assert_ok(rs_run_id_parse(&parsed, text, RS_RUN_ID_STRLEN));
	assert_memory_equal(parsed.bytes, run.bytes, 16);

	/* One-shot. */
	rs_t_put(fx->db, &run, "user:1", "alice");
	rs_t_put(fx->db, &run, "user:2", "bob");
	rs_t_put(fx->db, &run, "config", "{}");
	assert_ok(rs_kv_get(fx->db, &run, S("user:1"), buf, sizeof(buf), &len));
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "alice", 5);
	assert_ok(rs_kv_exists(fx->db, &run, S("user:2"), &ex));
	assert_true(ex);
	assert_ok(rs_kv_get_many(fx->db, &run, 3, keys, vals, buf, sizeof(buf),
				 &need));
	assert_int_equal(need, 8);
	assert_memory_equal(vals[1].data, "bob", 3);
	assert_null(vals[2].data);
	assert_ok(rs_kv_list(fx->db, &run, "user:", 5, NULL, 0, 1, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 1);
	assert_true(more);
	assert_ok(rs_kv_list(fx->db, &run, "user:", 5, "user:1", 6, 1, &more,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[1], "user:2");
	assert_false(more);
	assert_ok(rs_db_run_version(fx->db, &run, &ver));
	assert_int_equal(ver, 3);

	/* A transaction next to an older snapshot. */
	assert_ok(rs_txn_begin(&old, fx->db, &run, RS_TXN_F_READONLY));
	assert_ok(rs_txn_begin(&t, fx->db, &run, 0));
	rs_t_txn_expect(t, "user:1", "alice");
	rs_t_txn_put(t, "user:1", "alice2");
	assert_ok(rs_txn_kv_delete(t, S("config"), &ex));
	assert_true(ex);
	rs_t_txn_put(t, "user:3", "carol");
	memset(&l, 0, sizeof(l));
	assert_ok(rs_txn_kv_list(t, "user:", 5, NULL, 0, 0, NULL, rs_t_list_cb,
				 &l));
	assert_int_equal(l.n, 3);
	assert_ok(rs_txn_snapshot_version(t, &ver));
	assert_int_equal(ver, 3);
	assert_ok(rs_txn_commit(t));
	rs_t_expect(fx->db, &run, "user:1", "alice2");
	rs_t_expect(fx->db, &run, "config", NULL);
	rs_t_txn_expect(old, "user:1", "alice");
	rs_t_txn_expect(old, "config", "{}");
	rs_t_txn_expect(old, "user:3", NULL);
	rs_txn_abort(old);

	/* Conflict, then the retry helper. */
	assert_ok(rs_txn_begin(&t, fx->db, &run, 0));
	rs_t_txn_expect(t, "user:2", "bob");
	rs_t_txn_put(t, "user:2", "bobby");
	rs_t_put(fx->db, &run, "user:2", "robert");
	assert_rc(rs_txn_commit(t), RS_ECONFLICT);
	rs_t_expect(fx->db, &run, "user:2", "robert");
	for (int i = 0; i < 5; i++)
		assert_ok(rs_txn_run(fx->db, &run, 0, 0, add_one, NULL));
	rs_t_expect(fx->db, &run, "counter", "5");

	/* Deletes. */
	assert_ok(rs_kv_delete(fx->db, &run, S("user:2"), &ex));
	assert_true(ex);
	assert_ok(rs_kv_delete(fx->db, &run, S("user:2"), &ex));
	assert_false(ex);
	assert_ok(rs_db_run_version(fx->db, &run, &ver));
	assert_int_equal(ver, 4 + 1 + 5 + 1);
	memset(&l, 0, sizeof(l));
	assert_ok(rs_kv_list(fx->db, &run, NULL, 0, NULL, 0, 0, NULL,
			     rs_t_list_cb, &l));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[0], "counter");
	assert_string_equal(l.keys[1], "user:1");
	assert_string_equal(l.keys[2], "user:3");
}

static void kvapi__many_runs_and_keys(void **state)
{
	rs_fx *fx = *state;
	enum {
		RUNS = 20,
		KEYS = 200
	};
	rs_run_id runs[RUNS];
	char k[32], v[32];

	for (int r = 0; r < RUNS; r++) {
		assert_ok(rs_run_id_generate(&runs[r]));
		for (int i = 0; i < KEYS; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "r%d-%d", r, i);
			rs_t_put(fx->db, &runs[r], k, v);
		}
	}
	for (int r = 0; r < RUNS; r++) {
		rs_t_list l = { 0 };

		for (int i = 0; i < KEYS; i += 17) {
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "r%d-%d", r, i);
			rs_t_expect(fx->db, &runs[r], k, v);
		}
		assert_ok(rs_kv_list(fx->db, &runs[r], "k1", 2, NULL, 0, 0,
				     NULL, rs_t_list_cb, &l));
		assert_int_equal(l.n, 1 + 10 + 100); /* k1, k1x, k1xx */
		assert_int_equal(rs_t_version(fx->db, &runs[r]), KEYS);
	}
}

static void kvapi__open_close_cycles_with_pooled_contexts(void **state)
{
	(void)state;
	/* Each cycle leaves this thread's pool holding contexts of a closed
	 * database; a new one (maybe at the same address) must not use
	 * them. */
	for (int i = 0; i < 50; i++) {
		rs_db *a = rs_t_open(
			i % 2 ? RS_STORAGE_UNIFIED : RS_STORAGE_SHARDED, NULL);
		rs_db *b = rs_t_open(RS_STORAGE_SHARDED, NULL);
		rs_run_id run = rs_t_run();
		rs_txn *t1, *t2;

		rs_t_put(a, &run, "k", "a");
		rs_t_put(b, &run, "k", "b");
		assert_ok(rs_txn_begin(&t1, a, &run, 0));
		assert_ok(rs_txn_begin(&t2, b, &run, RS_TXN_F_READONLY));
		rs_t_txn_expect(t1, "k", "a");
		rs_t_txn_expect(t2, "k", "b");
		rs_t_txn_put(t1, "k", "a2");
		assert_ok(rs_txn_commit(t1));
		assert_ok(rs_txn_commit(t2));
		rs_t_expect(a, &run, "k", "a2");
		rs_t_expect(b, &run, "k", "b");
		if (i % 3 == 0) {
			rs_db_close(b);
			rs_db_close(a);
		} else {
			rs_db_close(a);
			rs_db_close(b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(kvapi__end_to_end),
		RS_FX_TEST(kvapi__many_runs_and_keys),
	};
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(kvapi__open_close_cycles_with_pooled_contexts),
	};
	int failed = RS_FX_RUN_BOTH("kv_api", tests);

	failed += cmocka_run_group_tests_name("kv_api", plain, NULL, NULL);
	return failed;
}
