/* SPDX-License-Identifier: MIT */
#ifndef RS_TESTS_PRIM_FIXTURE_H
#define RS_TESTS_PRIM_FIXTURE_H

/*
 * Test fixture for the primitives: each test gets a fresh in-memory
 * database on the store chosen for its group, and a fresh run id.
 * Public API only, so it also serves the shared-library tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <runstate.h>

typedef struct fx {
	rs_db *db;
	rs_run_id run;
	rs_storage storage;
} fx;

/* Per-test setup/teardown: open/close a database on the group's store. */
int fx_setup(void **state);
int fx_teardown(void **state);

/*
 * Run `tests` once per store ("<name>/sharded", "<name>/unified").
 * Returns the number of failures.
 */
int fx_run_both(const char *name, const struct CMUnitTest *tests, size_t n);

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
#define FX_RUN(name, tests) \
	fx_run_both(name, tests, sizeof(tests) / sizeof(tests[0]))

/* Open a database with a write-ahead log in the directory `path`. */
int fx_open_dir(rs_db **db, rs_durability mode, rs_storage storage,
		const char *path);
/* Remove a test's database directory with everything in it; 0 or -1. */
int fx_remove_dir(const char *path);

/* String helpers: a literal's pointer and length. */
#define S(lit) (lit), (sizeof(lit) - 1)

#endif
