/* SPDX-License-Identifier: MIT */
/*
 * Bad input on every public function (DESIGN.md section 4): each returns
 * its documented error, never crashes, and changes nothing (checked by
 * comparing the run's full contents and version before and after).
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define S(x) (x), strlen(x)

/* Asserts the code and that it has a real message. */
#define expect_rc(expr, code)                                       \
	do {                                                        \
		int e_rc_ = (expr);                                 \
		assert_rc(e_rc_, (code));                           \
		assert_true(strlen(rs_strerror(e_rc_)) > 0);        \
		if (e_rc_ != 0)                                     \
			assert_string_not_equal(rs_strerror(e_rc_), \
						"unknown error");   \
	} while (0)

static const rs_run_id nil_run;

/* The whole visible state of a run: "k=v;..." plus its version. */
typedef struct dump {
	char text[4096];
	size_t len;
	uint64_t version;
} dump;

static int dump_cb(rs_bytes k, rs_bytes v, void *ctx)
{
	dump *d = ctx;
	int n = snprintf(d->text + d->len, sizeof(d->text) - d->len,
			 "%.*s=%.*s;", (int)k.len, (const char *)k.data,
			 (int)v.len, (const char *)v.data);

	assert_true(n > 0 && (size_t)n < sizeof(d->text) - d->len);
	d->len += (size_t)n;
	return 0;
}

static void take_dump(rs_fx *fx, dump *d)
{
	memset(d, 0, sizeof(*d));
	assert_ok(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, NULL,
			     dump_cb, d));
	d->version = rs_t_version(fx->db, &fx->run);
}

static void expect_unchanged(rs_fx *fx, const dump *before)
{
	dump now;

	take_dump(fx, &now);
	assert_string_equal(now.text, before->text);
	assert_int_equal(now.version, before->version);
}

static void seed(rs_fx *fx, dump *d)
{
	rs_t_put(fx->db, &fx->run, "a", "1");
	rs_t_put(fx->db, &fx->run, "b", "2");
	rs_t_put(fx->db, &fx->run, "e", "");
	take_dump(fx, d);
	assert_string_equal(d->text, "a=1;b=2;e=;");
	assert_int_equal(d->version, 3);
}

static int never_cb(rs_bytes k, rs_bytes v, void *ctx)
{
	(void)k;
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static int never_fn(rs_txn *t, void *ctx)
{
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

/* ---- database ---- */

static int rm_cb(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void badinput__db_open_rejects_bad_options(void **state)
{
	rs_db *const sentinel = (rs_db *)(uintptr_t)0x1234;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db = sentinel;
	rs_test_alloc ta;
	rs_allocator full;

	(void)state;
	expect_rc(rs_db_open(NULL, NULL), RS_EINVAL);
	expect_rc(rs_db_open(NULL, &o), RS_EINVAL);
	for (uint32_t v = 0; v < 5; v++) {
		if (v == RS_DB_OPTIONS_VERSION)
			continue;
		o = (rs_db_options)RS_DB_OPTIONS_INIT;
		o.version = v;
		expect_rc(rs_db_open(&db, &o), RS_EVERSION);
	}
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.version = 0xffffffffu;
	expect_rc(rs_db_open(&db, &o), RS_EVERSION);
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.path = "/tmp/should-not-be-used"; /* path with InMemory */
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.flags = 0x80000000u; /* no such flag */
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.storage = (rs_storage)7;
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.durability = (rs_durability)9;
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	/* Durable modes need a path. */
	o = (rs_db_options)RS_DB_OPTIONS_INIT;
	o.durability = RS_DURABILITY_STRICT;
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	o.durability = RS_DURABILITY_BUFFERED;
	expect_rc(rs_db_open(&db, &o), RS_EINVAL);

	/* Partial allocator hooks: every mix of set and unset. */
	rs_test_alloc_init(&ta, &full);
	for (unsigned mask = 1; mask < 7; mask++) {
		o = (rs_db_options)RS_DB_OPTIONS_INIT;
		o.allocator.malloc_fn = (mask & 1) ? full.malloc_fn : NULL;
		o.allocator.realloc_fn = (mask & 2) ? full.realloc_fn : NULL;
		o.allocator.free_fn = (mask & 4) ? full.free_fn : NULL;
		o.allocator.ctx = &ta;
		expect_rc(rs_db_open(&db, &o), RS_EINVAL);
	}
	assert_int_equal(rs_test_alloc_calls(&ta), 0);
	assert_ptr_equal(db, sentinel); /* set only on success */

	/* NULL options are the defaults; close(NULL) is a no-op. */
	db = NULL;
	expect_rc(rs_db_open(&db, NULL), 0);
	assert_non_null(db);
	rs_db_close(db);
	rs_db_close(NULL);
}

static void badinput__durable_modes_are_enotsup_or_work(void **state)
{
	char dir[] = "/tmp/rs-badinput-XXXXXX";
	char path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db", dir);
	for (int m = 0; m < 2; m++) {
		rs_db_options o = RS_DB_OPTIONS_INIT;
		rs_db *db = NULL;
		int rc;

		o.durability =
			m ? RS_DURABILITY_STRICT : RS_DURABILITY_BUFFERED;
		o.path = path;
		rc = rs_db_open(&db, &o);
		if (rc == RS_ENOTSUP) {
			assert_null(db);
			continue;
		}
		/* Once the durability work lands this opens. */
		assert_rc(rc, 0);
		assert_non_null(db);
		rs_db_close(db);
	}
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(access(dir, F_OK), -1);
}

static void badinput__run_version_and_close(void **state)
{
	rs_fx *fx = *state;
	uint64_t v = 77;

	expect_rc(rs_db_run_version(NULL, &fx->run, &v), RS_EINVAL);
	expect_rc(rs_db_run_version(fx->db, NULL, &v), RS_EINVAL);
	expect_rc(rs_db_run_version(fx->db, &nil_run, &v), RS_EINVAL);
	expect_rc(rs_db_run_version(fx->db, &fx->run, NULL), RS_EINVAL);
	assert_int_equal(v, 77);
	expect_rc(rs_db_run_version(fx->db, &fx->run, &v), 0);
	assert_int_equal(v, 0);
}

/* ---- transactions ---- */

static void badinput__txn_begin_commit_run(void **state)
{
	rs_fx *fx = *state;
	rs_txn *const sentinel = (rs_txn *)(uintptr_t)0x4321;
	rs_txn *t = sentinel;
	uint64_t v = 55;
	int calls = 0;
	dump d;

	seed(fx, &d);
	expect_rc(rs_txn_begin(NULL, fx->db, &fx->run, 0), RS_EINVAL);
	expect_rc(rs_txn_begin(&t, NULL, &fx->run, 0), RS_EINVAL);
	expect_rc(rs_txn_begin(&t, fx->db, NULL, 0), RS_EINVAL);
	expect_rc(rs_txn_begin(&t, fx->db, &nil_run, 0), RS_EINVAL);
	expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0x2), RS_EINVAL);
	expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0x80000001u), RS_EINVAL);
	assert_ptr_equal(t, sentinel);
	expect_rc(rs_txn_commit(NULL), RS_EINVAL);
	rs_txn_abort(NULL);
	expect_rc(rs_txn_snapshot_version(NULL, &v), RS_EINVAL);

	expect_rc(rs_txn_run(NULL, &fx->run, 0, 0, never_fn, &calls),
		  RS_EINVAL);
	expect_rc(rs_txn_run(fx->db, NULL, 0, 0, never_fn, &calls), RS_EINVAL);
	expect_rc(rs_txn_run(fx->db, &nil_run, 0, 0, never_fn, &calls),
		  RS_EINVAL);
	expect_rc(rs_txn_run(fx->db, &fx->run, 0x4, 0, never_fn, &calls),
		  RS_EINVAL);
	expect_rc(rs_txn_run(fx->db, &fx->run, 0, 0, NULL, &calls), RS_EINVAL);
	assert_int_equal(calls, 0);

	expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0), 0);
	expect_rc(rs_txn_snapshot_version(t, NULL), RS_EINVAL);
	expect_rc(rs_txn_snapshot_version(t, &v), 0);
	assert_int_equal(v, 3);
	rs_txn_abort(t);
	expect_unchanged(fx, &d);
}

static void badinput__oneshot_key_and_value_checks(void **state)
{
	rs_fx *fx = *state;
	static char big_key[RS_KEY_MAX + 1];
	const char small[8] = "smallva";
	char buf[16];
	size_t len = 123;
	bool ex = true;
	dump d;

	memset(big_key, 'k', sizeof(big_key));
	seed(fx, &d);

	/* Handles and runs. */
	expect_rc(rs_kv_put(NULL, &fx->run, S("a"), S("x")), RS_EINVAL);
	expect_rc(rs_kv_put(fx->db, NULL, S("a"), S("x")), RS_EINVAL);
	expect_rc(rs_kv_put(fx->db, &nil_run, S("a"), S("x")), RS_EINVAL);
	expect_rc(rs_kv_get(NULL, &fx->run, S("a"), buf, sizeof(buf), &len),
		  RS_EINVAL);
	expect_rc(rs_kv_get(fx->db, NULL, S("a"), buf, sizeof(buf), &len),
		  RS_EINVAL);
	expect_rc(rs_kv_get(fx->db, &nil_run, S("a"), buf, sizeof(buf), &len),
		  RS_EINVAL);
	expect_rc(rs_kv_delete(NULL, &fx->run, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_kv_delete(fx->db, NULL, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_kv_delete(fx->db, &nil_run, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_kv_exists(NULL, &fx->run, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_kv_exists(fx->db, NULL, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_kv_exists(fx->db, &nil_run, S("a"), &ex), RS_EINVAL);

	/* Keys: NULL, empty, one byte too long (and far too long). */
	expect_rc(rs_kv_put(fx->db, &fx->run, NULL, 1, S("x")), RS_EINVAL);
	expect_rc(rs_kv_put(fx->db, &fx->run, "a", 0, S("x")), RS_EINVAL);
	expect_rc(rs_kv_put(fx->db, &fx->run, big_key, RS_KEY_MAX + 1, S("x")),
		  RS_ETOOBIG);
	expect_rc(rs_kv_put(fx->db, &fx->run, "a", SIZE_MAX, S("x")),
		  RS_ETOOBIG);
	expect_rc(rs_kv_get(fx->db, &fx->run, NULL, 1, buf, sizeof(buf), &len),
		  RS_EINVAL);
	expect_rc(rs_kv_get(fx->db, &fx->run, "a", 0, buf, sizeof(buf), &len),
		  RS_EINVAL);
	expect_rc(rs_kv_get(fx->db, &fx->run, big_key, RS_KEY_MAX + 1, buf,
			    sizeof(buf), &len),
		  RS_ETOOBIG);
	expect_rc(rs_kv_delete(fx->db, &fx->run, NULL, 1, &ex), RS_EINVAL);
	expect_rc(rs_kv_delete(fx->db, &fx->run, "a", 0, &ex), RS_EINVAL);
	expect_rc(rs_kv_delete(fx->db, &fx->run, big_key, RS_KEY_MAX + 1, &ex),
		  RS_ETOOBIG);
	expect_rc(rs_kv_exists(fx->db, &fx->run, NULL, 1, &ex), RS_EINVAL);
	expect_rc(rs_kv_exists(fx->db, &fx->run, "a", 0, &ex), RS_EINVAL);
	expect_rc(rs_kv_exists(fx->db, &fx->run, big_key, RS_KEY_MAX + 1, &ex),
		  RS_ETOOBIG);

	/* Values: oversized (an 8-byte buffer claiming more: rejected before
	 * it is read), NULL with a length. */
	expect_rc(rs_kv_put(fx->db, &fx->run, S("a"), small,
			    (size_t)RS_VALUE_MAX + 1),
		  RS_ETOOBIG);
	expect_rc(rs_kv_put(fx->db, &fx->run, S("a"), small, SIZE_MAX),
		  RS_ETOOBIG);
	expect_rc(rs_kv_put(fx->db, &fx->run, S("a"), NULL, 1), RS_EINVAL);
	/* Output arguments. */
	expect_rc(rs_kv_get(fx->db, &fx->run, S("a"), NULL, 4, &len),
		  RS_EINVAL);
	expect_rc(rs_kv_exists(fx->db, &fx->run, S("a"), NULL), RS_EINVAL);
	assert_int_equal(len, 123);
	assert_true(ex);
	expect_unchanged(fx, &d);

	/* The limits themselves are fine. */
	expect_rc(rs_kv_put(fx->db, &fx->run, big_key, RS_KEY_MAX, S("max")),
		  0);
	expect_rc(rs_kv_get(fx->db, &fx->run, big_key, RS_KEY_MAX, buf,
			    sizeof(buf), &len),
		  0);
	assert_int_equal(len, 3);
	expect_rc(rs_kv_delete(fx->db, &fx->run, big_key, RS_KEY_MAX, &ex), 0);
	assert_true(ex);
	expect_rc(rs_kv_put(fx->db, &fx->run, S("n"), NULL, 0), 0);
	expect_rc(rs_kv_delete(fx->db, &fx->run, S("n"), NULL), 0);
}

static void badinput__value_of_exactly_value_max_is_accepted(void **state)
{
	rs_fx *fx = *state;
	unsigned char *v = malloc(RS_VALUE_MAX);
	size_t len = 0;

	assert_non_null(v);
	memset(v, 0xab, RS_VALUE_MAX);
	v[RS_VALUE_MAX - 1] = 0xcd;
	expect_rc(rs_kv_put(fx->db, &fx->run, S("big"), v, RS_VALUE_MAX), 0);
	memset(v, 0, RS_VALUE_MAX);
	expect_rc(rs_kv_get(fx->db, &fx->run, S("big"), v, RS_VALUE_MAX, &len),
		  0);
	assert_int_equal(len, RS_VALUE_MAX);
	assert_int_equal(v[0], 0xab);
	assert_int_equal(v[RS_VALUE_MAX - 1], 0xcd);
	free(v);
}

static void badinput__get_many_and_list_checks(void **state)
{
	rs_fx *fx = *state;
	static char big_key[RS_KEY_MAX + 1];
	rs_bytes keys[3] = { { "a", 1 }, { "b", 1 }, { "e", 1 } };
	rs_bytes vals[3];
	char buf[16];
	size_t need = 99;
	int calls = 0;
	bool more = true;
	dump d;

	memset(big_key, 'k', sizeof(big_key));
	seed(fx, &d);
	expect_rc(rs_kv_get_many(NULL, &fx->run, 3, keys, vals, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	expect_rc(rs_kv_get_many(fx->db, NULL, 3, keys, vals, buf, sizeof(buf),
				 &need),
		  RS_EINVAL);
	expect_rc(rs_kv_get_many(fx->db, &nil_run, 3, keys, vals, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	expect_rc(rs_kv_get_many(fx->db, &fx->run, 3, NULL, vals, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	expect_rc(rs_kv_get_many(fx->db, &fx->run, 3, keys, NULL, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	expect_rc(
		rs_kv_get_many(fx->db, &fx->run, 3, keys, vals, NULL, 4, &need),
		RS_EINVAL);
	/* One bad key among good ones. */
	keys[1] = (rs_bytes){ NULL, 1 };
	expect_rc(rs_kv_get_many(fx->db, &fx->run, 3, keys, vals, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	keys[1] = (rs_bytes){ "b", 0 };
	expect_rc(rs_kv_get_many(fx->db, &fx->run, 3, keys, vals, buf,
				 sizeof(buf), &need),
		  RS_EINVAL);
	keys[1] = (rs_bytes){ big_key, RS_KEY_MAX + 1 };
	expect_rc(rs_kv_get_many(fx->db, &fx->run, 3, keys, vals, buf,
				 sizeof(buf), &need),
		  RS_ETOOBIG);
	assert_int_equal(need, 99);

	expect_rc(rs_kv_list(NULL, &fx->run, NULL, 0, NULL, 0, 0, &more,
			     never_cb, &calls),
		  RS_EINVAL);
	expect_rc(rs_kv_list(fx->db, NULL, NULL, 0, NULL, 0, 0, &more, never_cb,
			     &calls),
		  RS_EINVAL);
	expect_rc(rs_kv_list(fx->db, &nil_run, NULL, 0, NULL, 0, 0, &more,
			     never_cb, &calls),
		  RS_EINVAL);
	expect_rc(rs_kv_list(fx->db, &fx->run, NULL, 3, NULL, 0, 0, &more,
			     never_cb, &calls),
		  RS_EINVAL);
	expect_rc(rs_kv_list(fx->db, &fx->run, big_key, RS_KEY_MAX + 1, NULL, 0,
			     0, &more, never_cb, &calls),
		  RS_ETOOBIG);
	expect_rc(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 2, 0, &more,
			     never_cb, &calls),
		  RS_EINVAL);
	expect_rc(rs_kv_list(fx->db, &fx->run, NULL, 0, big_key, RS_KEY_MAX + 1,
			     0, &more, never_cb, &calls),
		  RS_ETOOBIG);
	expect_rc(rs_kv_list(fx->db, &fx->run, NULL, 0, NULL, 0, 0, &more, NULL,
			     &calls),
		  RS_EINVAL);
	assert_int_equal(calls, 0);
	assert_true(more);
	expect_unchanged(fx, &d);
}

static void badinput__txn_operations_reject_bad_input(void **state)
{
	rs_fx *fx = *state;
	static char big_key[RS_KEY_MAX + 1];
	const char small[8] = "smallva";
	rs_bytes keys[2] = { { "a", 1 }, { NULL, 1 } };
	rs_bytes vals[2], v = { "sentinel", 8 };
	int calls = 0;
	bool ex = true;
	rs_txn *t;
	dump d;

	memset(big_key, 'k', sizeof(big_key));
	seed(fx, &d);
	/* NULL transaction. */
	expect_rc(rs_txn_kv_put(NULL, S("a"), S("x")), RS_EINVAL);
	expect_rc(rs_txn_kv_get(NULL, S("a"), &v), RS_EINVAL);
	expect_rc(rs_txn_kv_delete(NULL, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_txn_kv_exists(NULL, S("a"), &ex), RS_EINVAL);
	expect_rc(rs_txn_kv_get_many(NULL, 1, keys, vals), RS_EINVAL);
	expect_rc(rs_txn_kv_list(NULL, NULL, 0, NULL, 0, 0, NULL, never_cb,
				 &calls),
		  RS_EINVAL);

	expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0), 0);
	rs_t_txn_put(t, "good", "1"); /* the only write that counts */
	expect_rc(rs_txn_kv_put(t, NULL, 1, S("x")), RS_EINVAL);
	expect_rc(rs_txn_kv_put(t, "a", 0, S("x")), RS_EINVAL);
	expect_rc(rs_txn_kv_put(t, big_key, RS_KEY_MAX + 1, S("x")),
		  RS_ETOOBIG);
	expect_rc(rs_txn_kv_put(t, S("a"), small, (size_t)RS_VALUE_MAX + 1),
		  RS_ETOOBIG);
	expect_rc(rs_txn_kv_put(t, S("a"), NULL, 5), RS_EINVAL);
	expect_rc(rs_txn_kv_get(t, NULL, 1, &v), RS_EINVAL);
	expect_rc(rs_txn_kv_get(t, "a", 0, &v), RS_EINVAL);
	expect_rc(rs_txn_kv_get(t, big_key, RS_KEY_MAX + 1, &v), RS_ETOOBIG);
	expect_rc(rs_txn_kv_get(t, S("a"), NULL), RS_EINVAL);
	expect_rc(rs_txn_kv_delete(t, NULL, 1, &ex), RS_EINVAL);
	expect_rc(rs_txn_kv_delete(t, "a", 0, &ex), RS_EINVAL);
	expect_rc(rs_txn_kv_delete(t, big_key, RS_KEY_MAX + 1, &ex),
		  RS_ETOOBIG);
	expect_rc(rs_txn_kv_exists(t, NULL, 1, &ex), RS_EINVAL);
	expect_rc(rs_txn_kv_exists(t, big_key, RS_KEY_MAX + 1, &ex),
		  RS_ETOOBIG);
	expect_rc(rs_txn_kv_exists(t, S("a"), NULL), RS_EINVAL);
	expect_rc(rs_txn_kv_get_many(t, 2, NULL, vals), RS_EINVAL);
	expect_rc(rs_txn_kv_get_many(t, 1, keys, NULL), RS_EINVAL);
	expect_rc(rs_txn_kv_get_many(t, 2, keys, vals), RS_EINVAL);
	keys[1] = (rs_bytes){ big_key, RS_KEY_MAX + 1 };
	expect_rc(rs_txn_kv_get_many(t, 2, keys, vals), RS_ETOOBIG);
	expect_rc(
		rs_txn_kv_list(t, NULL, 1, NULL, 0, 0, NULL, never_cb, &calls),
		RS_EINVAL);
	expect_rc(rs_txn_kv_list(t, big_key, RS_KEY_MAX + 1, NULL, 0, 0, NULL,
				 never_cb, &calls),
		  RS_ETOOBIG);
	expect_rc(
		rs_txn_kv_list(t, NULL, 0, NULL, 1, 0, NULL, never_cb, &calls),
		RS_EINVAL);
	expect_rc(rs_txn_kv_list(t, NULL, 0, NULL, 0, 0, NULL, NULL, &calls),
		  RS_EINVAL);
	assert_int_equal(calls, 0);
	assert_true(ex);
	assert_memory_equal(v.data, "sentinel", 8);
	/* None of that touched the transaction or the database. */
	rs_t_txn_expect(t, "a", "1");
	expect_unchanged(fx, &d);
	expect_rc(rs_txn_commit(t), 0);
	rs_t_expect(fx->db, &fx->run, "good", "1");
	rs_t_expect(fx->db, &fx->run, "a", "1");
	assert_int_equal(rs_t_version(fx->db, &fx->run), 4);
}

static void
badinput__readonly_txn_with_writes_attempted_commits_nothing(void **state)
{
	rs_fx *fx = *state;
	rs_txn *t;
	bool ex = false;
	dump d;

	seed(fx, &d);
	expect_rc(rs_txn_begin(&t, fx->db, &fx->run, RS_TXN_F_READONLY), 0);
	expect_rc(rs_txn_kv_put(t, S("a"), S("changed")), RS_EREADONLY);
	expect_rc(rs_txn_kv_put(t, S("new"), S("x")), RS_EREADONLY);
	expect_rc(rs_txn_kv_delete(t, S("b"), &ex), RS_EREADONLY);
	assert_false(ex);
	rs_t_txn_expect(t, "a", "1");
	rs_t_txn_expect(t, "b", "2");
	expect_rc(rs_txn_commit(t), 0);
	expect_unchanged(fx, &d);
}

static void badinput__finished_txn_handle_is_edone(void **state)
{
	rs_fx *fx = *state;
	rs_bytes keys[1] = { { "a", 1 } }, vals[1], v;
	uint64_t sv;
	bool ex;
	int calls = 0;
	dump d;

	seed(fx, &d);
	for (int how = 0; how < 3; how++) {
		rs_txn *t;

		expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0), 0);
		rs_t_txn_put(t, "a", "staged");
		if (how == 0) {
			rs_t_txn_put(t, "a", "1"); /* same value: commits */
			expect_rc(rs_txn_commit(t), 0);
			d.version++;
		} else if (how == 1) {
			rs_txn_abort(t);
		} else {
			/* A conflicted commit also finishes the handle. */
			rs_t_txn_expect(t, "b", "2");
			rs_t_put(fx->db, &fx->run, "b", "2");
			expect_rc(rs_txn_commit(t), RS_ECONFLICT);
			d.version++;
		}
		/* The context is idle (pooled, not reused yet). */
		expect_rc(rs_txn_kv_put(t, S("a"), S("late")), RS_EDONE);
		expect_rc(rs_txn_kv_get(t, S("a"), &v), RS_EDONE);
		expect_rc(rs_txn_kv_delete(t, S("a"), &ex), RS_EDONE);
		expect_rc(rs_txn_kv_exists(t, S("a"), &ex), RS_EDONE);
		expect_rc(rs_txn_kv_get_many(t, 1, keys, vals), RS_EDONE);
		expect_rc(rs_txn_kv_list(t, NULL, 0, NULL, 0, 0, NULL, never_cb,
					 &calls),
			  RS_EDONE);
		expect_rc(rs_txn_snapshot_version(t, &sv), RS_EDONE);
		expect_rc(rs_txn_commit(t), RS_EDONE);
		rs_txn_abort(t); /* no-op */
		assert_int_equal(calls, 0);
		expect_unchanged(fx, &d);
	}
}

static void badinput__allocation_failure_changes_nothing(void **state)
{
	rs_fx *fx = *state;
	enum {
		K = 12
	};
	char k[16];
	dump d;
	int failures = 0;

	seed(fx, &d);
	for (int64_t budget = 0; budget < 64; budget++) {
		rs_txn *t;
		int rc;

		expect_rc(rs_txn_begin(&t, fx->db, &fx->run, 0), 0);
		for (int i = 0; i < K; i++) {
			snprintf(k, sizeof(k), "n%02d", i);
			rs_t_txn_put(t, k, k);
		}
		rs_t_txn_put(t, "a", "changed");
		atomic_store(&fx->ta.fail_after, budget);
		rc = rs_txn_commit(t);
		atomic_store(&fx->ta.fail_after, -1);
		if (rc == RS_ENOMEM) {
			failures++;
			expect_unchanged(fx, &d);
			continue;
		}
		assert_rc(rc, 0);
		for (int i = 0; i < K; i++) {
			snprintf(k, sizeof(k), "n%02d", i);
			rs_t_expect(fx->db, &fx->run, k, k);
		}
		break;
	}
	assert_true(failures > 0); /* the loop did inject failures */
	rs_t_expect(fx->db, &fx->run, "a", "changed");

	/* One-shot put of a new key, with no memory at all. */
	take_dump(fx, &d);
	atomic_store(&fx->ta.fail_after, 0);
	expect_rc(rs_kv_put(fx->db, &fx->run, S("zz"), S("v")), RS_ENOMEM);
	atomic_store(&fx->ta.fail_after, -1);
	expect_unchanged(fx, &d);
	rs_t_put(fx->db, &fx->run, "zz", "v");
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(badinput__db_open_rejects_bad_options),
		cmocka_unit_test(badinput__durable_modes_are_enotsup_or_work),
	};
	const struct CMUnitTest tests[] = {
		RS_FX_TEST(badinput__run_version_and_close),
		RS_FX_TEST(badinput__txn_begin_commit_run),
		RS_FX_TEST(badinput__oneshot_key_and_value_checks),
		RS_FX_TEST(badinput__value_of_exactly_value_max_is_accepted),
		RS_FX_TEST(badinput__get_many_and_list_checks),
		RS_FX_TEST(badinput__txn_operations_reject_bad_input),
		RS_FX_TEST(
			badinput__readonly_txn_with_writes_attempted_commits_nothing),
		RS_FX_TEST(badinput__finished_txn_handle_is_edone),
		RS_FX_TEST(badinput__allocation_failure_changes_nothing),
	};
	int failed;

	failed = cmocka_run_group_tests_name("badinput", plain, NULL, NULL);
	failed += RS_FX_RUN_BOTH("badinput", tests);
	return failed;
}
