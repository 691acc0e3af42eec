/* SPDX-License-Identifier: MIT */
/*
 * Heap allocations of the primitives after warm-up (sharded store),
 * counted through the allocator hooks: reads allocate nothing, and writes
 * allocate only the store's new version records and key nodes. Deferred
 * steps, their arguments, staged keys and step-built values come from the
 * pooled context (txn.c), so they add nothing.
 */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <stdatomic.h>
#include <stdlib.h>

#define N 64

static atomic_ulong g_mallocs, g_reallocs;

static void *count_malloc(void *ctx, size_t size)
{
	(void)ctx;
	atomic_fetch_add(&g_mallocs, 1);
	return malloc(size);
}

static void *count_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	atomic_fetch_add(&g_reallocs, 1);
	return realloc(p, size);
}

static void count_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static int setup(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	o.allocator.malloc_fn = count_malloc;
	o.allocator.realloc_fn = count_realloc;
	o.allocator.free_fn = count_free;
	if (rs_db_open(&f->db, &o) != 0 || rs_run_id_generate(&f->run) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static unsigned long mallocs(void)
{
	return atomic_load(&g_mallocs);
}

static int noop_event(const rs_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 0;
}

static int noop_trace(const rs_trace *t, void *ctx)
{
	(void)t;
	(void)ctx;
	return 0;
}

static void warm_up(fx *f)
{
	rs_txn *txn;

	/* Enough keys that the table does not grow in the measured
	 * windows below (each grows it by at most 2 * N keys). */
	for (int i = 0; i < 1200; i++) {
		assert_int_equal(rs_eventlog_append(f->db, &f->run, S("e"), &i,
						    sizeof(i), NULL),
				 0);
		assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"),
						      NULL, 0, NULL, 0,
						      RS_TRACE_NONE, NULL),
				 0);
	}
	assert_int_equal(
		rs_statecell_init(f->db, &f->run, S("c"), S("v"), NULL), 0);
	assert_int_equal(rs_kv_put(f->db, &f->run, S("k"), S("v")), 0);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_statecell_set(txn, S("c"), S("w"), NULL), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("e"), S("p"), NULL), 0);
	assert_int_equal(rs_txn_commit(txn), 0);
}

static void prim_alloc__reads_allocate_nothing(void **state)
{
	fx *f = *state;
	unsigned long before, reallocs;
	uint64_t cursor, len;
	rs_trace t;
	rs_event ev;
	char buf[64];

	warm_up(f);
	before = mallocs();
	reallocs = atomic_load(&g_reallocs);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rs_eventlog_read(f->db, &f->run, (uint64_t)i,
						  &ev, buf, sizeof(buf), NULL),
				 0);
		assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
		assert_int_equal(rs_statecell_read(f->db, &f->run, S("c"), buf,
						   sizeof(buf), NULL, NULL),
				 0);
		assert_int_equal(rs_tracestore_get(f->db, &f->run, (uint64_t)i,
						   &t, buf, sizeof(buf), NULL),
				 0);
		assert_int_equal(rs_eventlog_read_range(f->db, &f->run, 0, 100,
							noop_event, NULL),
				 0);
		cursor = 0;
		assert_int_equal(rs_tracestore_query_by_type(
					 f->db, &f->run, S("t"), &cursor, 100,
					 NULL, noop_trace, NULL),
				 0);
	}
	assert_int_equal(mallocs() - before, 0);
	assert_int_equal(atomic_load(&g_reallocs), reallocs);
}

static void prim_alloc__writes_allocate_only_versions(void **state)
{
	fx *f = *state;
	unsigned long before, reallocs;
	rs_txn *txn;

	warm_up(f);
	reallocs = atomic_load(&g_reallocs);

	/* A cell set: one version. */
	before = mallocs();
	for (int i = 0; i < N; i++)
		assert_int_equal(rs_statecell_set(f->db, &f->run, S("c"), &i,
						  sizeof(i), NULL),
				 0);
	assert_int_equal(mallocs() - before, N);

	/* An append: event and type entry (2 new nodes, each holding its
	 * first version), type count and head (2 versions). */
	before = mallocs();
	for (int i = 0; i < N; i++)
		assert_int_equal(rs_eventlog_append(f->db, &f->run, S("e"), &i,
						    sizeof(i), NULL),
				 0);
	assert_int_equal(mallocs() - before, 4 * N);

	/* A minimal trace: the same shape. */
	before = mallocs();
	for (int i = 0; i < N; i++)
		assert_int_equal(rs_tracestore_record(f->db, &f->run, S("t"),
						      NULL, 0, NULL, 0,
						      RS_TRACE_NONE, NULL),
				 0);
	assert_int_equal(mallocs() - before, 4 * N);

	/* A cross-primitive transaction: cell and KV versions plus an
	 * append's four. */
	before = mallocs();
	for (int i = 0; i < N; i++) {
		assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
		assert_int_equal(
			rs_txn_statecell_set(txn, S("c"), S("w"), NULL), 0);
		assert_int_equal(rs_txn_kv_put(txn, S("k"), S("v")), 0);
		assert_int_equal(
			rs_txn_eventlog_append(txn, S("e"), S("p"), NULL), 0);
		assert_int_equal(rs_txn_commit(txn), 0);
	}
	assert_int_equal(mallocs() - before, 6 * N);
	assert_int_equal(atomic_load(&g_reallocs), reallocs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			prim_alloc__reads_allocate_nothing, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
			prim_alloc__writes_allocate_only_versions, setup,
			fx_teardown),
	};

	return cmocka_run_group_tests_name("prim_alloc", tests, NULL, NULL);
}
