/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <ftw.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

_Thread_local uint64_t rs_test_tl_usable;

/* ---- counting allocator ---- */

#define HDR 16u

static bool take_one(rs_test_alloc *ta)
{
	int64_t left =
		atomic_load_explicit(&ta->fail_after, memory_order_relaxed);

	while (left >= 0) {
		if (left == 0)
			return false;
		if (atomic_compare_exchange_weak_explicit(
			    &ta->fail_after, &left, left - 1,
			    memory_order_relaxed, memory_order_relaxed))
			return true;
	}
	return true;
}

static void *ta_malloc(void *ctx, size_t size)
{
	rs_test_alloc *ta = ctx;
	unsigned char *p;

	atomic_fetch_add_explicit(&ta->mallocs, 1, memory_order_relaxed);
	if (!take_one(ta))
		return NULL;
	p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	rs_test_tl_usable += malloc_usable_size(p);
	atomic_fetch_add_explicit(&ta->live_bytes, (int64_t)size,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&ta->live_blocks, 1, memory_order_relaxed);
	return p + HDR;
}

static void *ta_realloc(void *ctx, void *ptr, size_t size)
{
	rs_test_alloc *ta = ctx;
	unsigned char *p;
	size_t old = 0;

	atomic_fetch_add_explicit(&ta->reallocs, 1, memory_order_relaxed);
	if (!take_one(ta))
		return NULL;
	if (!ptr)
		atomic_fetch_add_explicit(&ta->live_blocks, 1,
					  memory_order_relaxed);
	else
		memcpy(&old, (unsigned char *)ptr - HDR, sizeof(old));
	p = realloc(ptr ? (unsigned char *)ptr - HDR : NULL, size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	rs_test_tl_usable += malloc_usable_size(p);
	atomic_fetch_add_explicit(&ta->live_bytes, (int64_t)size - (int64_t)old,
				  memory_order_relaxed);
	return p + HDR;
}

static void ta_free(void *ctx, void *ptr)
{
	rs_test_alloc *ta = ctx;
	size_t size;

	if (!ptr)
		return;
	atomic_fetch_add_explicit(&ta->frees, 1, memory_order_relaxed);
	memcpy(&size, (unsigned char *)ptr - HDR, sizeof(size));
	atomic_fetch_sub_explicit(&ta->live_bytes, (int64_t)size,
				  memory_order_relaxed);
	atomic_fetch_sub_explicit(&ta->live_blocks, 1, memory_order_relaxed);
	free((unsigned char *)ptr - HDR);
}

void rs_test_alloc_init(rs_test_alloc *ta, rs_allocator *hooks)
{
	atomic_init(&ta->mallocs, 0);
	atomic_init(&ta->reallocs, 0);
	atomic_init(&ta->frees, 0);
	atomic_init(&ta->live_bytes, 0);
	atomic_init(&ta->live_blocks, 0);
	atomic_init(&ta->fail_after, -1);
	hooks->malloc_fn = ta_malloc;
	hooks->realloc_fn = ta_realloc;
	hooks->free_fn = ta_free;
	hooks->ctx = ta;
}

uint64_t rs_test_alloc_calls(const rs_test_alloc *ta)
{
	return atomic_load(&ta->mallocs) + atomic_load(&ta->reallocs);
}

int64_t rs_test_alloc_live(const rs_test_alloc *ta)
{
	return atomic_load(&ta->live_bytes);
}

/* ---- databases and runs ---- */

const char *rs_t_storage_name(rs_storage s)
{
	return s == RS_STORAGE_UNIFIED ? "unified" : "sharded";
}

rs_db *rs_t_open(rs_storage storage, const rs_allocator *hooks)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db = NULL;

	o.storage = storage;
	if (hooks)
		o.allocator = *hooks;
	assert_ok(rs_db_open(&db, &o));
	assert_non_null(db);
	return db;
}

static int rmtree_entry(const char *p, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void rs_t_rmtree(const char *dir)
{
	(void)nftw(dir, rmtree_entry, 8, FTW_DEPTH | FTW_PHYS);
}

rs_run_id rs_t_run(void)
{
	static _Atomic uint64_t next = 1;
	uint64_t n = atomic_fetch_add(&next, 1);
	rs_run_id id;

	/* A deterministic version-4 id; never nil. */
	memset(id.bytes, 0x5a, sizeof(id.bytes));
	memcpy(id.bytes + 8, &n, sizeof(n));
	id.bytes[6] = 0x40;
	return id;
}

/* ---- fixture ---- */

static int group_setup(void **state, rs_storage s)
{
	rs_fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->storage = s;
	*state = fx;
	return 0;
}

int rs_fx_group_setup_sharded(void **state)
{
	return group_setup(state, RS_STORAGE_SHARDED);
}

int rs_fx_group_setup_unified(void **state)
{
	return group_setup(state, RS_STORAGE_UNIFIED);
}

int rs_fx_group_teardown(void **state)
{
	free(*state);
	*state = NULL;
	return 0;
}

int rs_fx_setup(void **state)
{
	rs_fx *fx = *state;
	rs_allocator hooks;

	rs_test_alloc_init(&fx->ta, &hooks);
	fx->db = rs_t_open(fx->storage, &hooks);
	fx->run = rs_t_run();
	fx->run2 = rs_t_run();
	return 0;
}

int rs_fx_teardown(void **state)
{
	rs_fx *fx = *state;
	int64_t live;

	rs_db_close(fx->db);
	fx->db = NULL;
	live = rs_test_alloc_live(&fx->ta);
	if (live != 0 || atomic_load(&fx->ta.live_blocks) != 0) {
		fprintf(stderr,
			"rs_fx_teardown: %lld bytes in %lld blocks "
			"not returned by rs_db_close\n",
			(long long)live,
			(long long)atomic_load(&fx->ta.live_blocks));
		return -1;
	}
	return 0;
}

int rs_fx_run_sharded(const char *name, const struct CMUnitTest *tests,
		      size_t n)
{
	char g[128];

	snprintf(g, sizeof(g), "%s/sharded", name);
	return _cmocka_run_group_tests(g, tests, n, rs_fx_group_setup_sharded,
				       rs_fx_group_teardown);
}

int rs_fx_run_both(const char *name, const struct CMUnitTest *tests, size_t n)
{
	char g1[128], g2[128];
	int failed = 0;

	snprintf(g1, sizeof(g1), "%s/sharded", name);
	snprintf(g2, sizeof(g2), "%s/unified", name);
	failed += _cmocka_run_group_tests(
		g1, tests, n, rs_fx_group_setup_sharded, rs_fx_group_teardown);
	failed += _cmocka_run_group_tests(
		g2, tests, n, rs_fx_group_setup_unified, rs_fx_group_teardown);
	return failed;
}

/* ---- KV helpers ---- */

void rs_t_put(rs_db *db, const rs_run_id *run, const char *k, const char *v)
{
	assert_ok(rs_kv_put(db, run, k, strlen(k), v, strlen(v)));
}

void rs_t_del(rs_db *db, const rs_run_id *run, const char *k)
{
	assert_ok(rs_kv_delete(db, run, k, strlen(k), NULL));
}

void rs_t_expect(rs_db *db, const rs_run_id *run, const char *k,
		 const char *expected)
{
	char buf[256];
	size_t len = 9999;
	int rc = rs_kv_get(db, run, k, strlen(k), buf, sizeof(buf), &len);

	if (!expected) {
		if (rc != RS_ENOTFOUND)
			fail_msg("key '%s': expected absent, got %s", k,
				 rs_errname(rc));
		return;
	}
	if (rc != 0)
		fail_msg("key '%s': expected '%s', got %s", k, expected,
			 rs_errname(rc));
	if (len != strlen(expected) || memcmp(buf, expected, len) != 0)
		fail_msg("key '%s': expected '%s', got '%.*s'", k, expected,
			 (int)(len < sizeof(buf) ? len : sizeof(buf)), buf);
}

void rs_t_txn_put(rs_txn *txn, const char *k, const char *v)
{
	assert_ok(rs_txn_kv_put(txn, k, strlen(k), v, strlen(v)));
}

void rs_t_txn_expect(rs_txn *txn, const char *k, const char *expected)
{
	rs_bytes v = { NULL, 0 };
	int rc = rs_txn_kv_get(txn, k, strlen(k), &v);

	if (!expected) {
		if (rc != RS_ENOTFOUND)
			fail_msg("txn key '%s': expected absent, got %s", k,
				 rs_errname(rc));
		return;
	}
	if (rc != 0)
		fail_msg("txn key '%s': expected '%s', got %s", k, expected,
			 rs_errname(rc));
	assert_non_null(v.data);
	if (v.len != strlen(expected) || memcmp(v.data, expected, v.len) != 0)
		fail_msg("txn key '%s': expected '%s', got '%.*s'", k, expected,
			 (int)v.len, (const char *)v.data);
}

uint64_t rs_t_version(rs_db *db, const rs_run_id *run)
{
	uint64_t v = UINT64_MAX;

	assert_ok(rs_db_run_version(db, run, &v));
	return v;
}

int rs_t_list_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	rs_t_list *l = ctx;

	if (l->n >= RS_T_LIST_MAX || key.len >= sizeof(l->keys[0]) ||
	    value.len >= sizeof(l->vals[0]))
		return 99;
	memcpy(l->keys[l->n], key.data, key.len);
	l->keys[l->n][key.len] = '\0';
	if (value.len)
		memcpy(l->vals[l->n], value.data, value.len);
	l->vals[l->n][value.len] = '\0';
	l->n++;
	if (l->stop_after > 0 && (int)l->n >= l->stop_after)
		return 77;
	return 0;
}
