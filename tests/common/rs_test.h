/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: CMocka includes, return-code assertions, a counting
 * allocator, a per-test database fixture run against both storage engines,
 * a seeded PRNG and small KV helpers. Public API only (the integration
 * tests use it against the shared library too).
 */
#ifndef RS_TESTS_COMMON_RS_TEST_H
#define RS_TESTS_COMMON_RS_TEST_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <runstate.h>

/* ---- return codes ---- */

/* Fails with both symbolic names when expr does not return `expected`. */
#define assert_rc(expr, expected)                                            \
	do {                                                                 \
		int rs_t_rc_ = (expr);                                       \
		int rs_t_ex_ = (expected);                                   \
		if (rs_t_rc_ != rs_t_ex_)                                    \
			fail_msg("%s: got %s (%d), expected %s (%d)", #expr, \
				 rs_errname(rs_t_rc_), rs_t_rc_,             \
				 rs_errname(rs_t_ex_), rs_t_ex_);            \
	} while (0)
#define assert_ok(expr) assert_rc((expr), 0)

/* ---- counting allocator ---- */

/*
 * Counts calls and live bytes of everything allocated through its hooks.
 * Each block carries a 16-byte header with its size. `fail_after`, when
 * >= 0, is the number of further malloc/realloc calls that succeed; every
 * one after that returns NULL (fault injection).
 */
typedef struct rs_test_alloc {
	_Atomic uint64_t mallocs;
	_Atomic uint64_t reallocs;
	_Atomic uint64_t frees;
	_Atomic int64_t live_bytes;
	_Atomic int64_t live_blocks;
	_Atomic int64_t fail_after;
} rs_test_alloc;

/* Usable bytes (malloc_usable_size) of the blocks the hooks of any
 * rs_test_alloc obtained on the calling thread, ever. */
extern _Thread_local uint64_t rs_test_tl_usable;

/* Reset the counters and fill `hooks` to use them. */
void rs_test_alloc_init(rs_test_alloc *ta, rs_allocator *hooks);
/* malloc + realloc calls so far. */
uint64_t rs_test_alloc_calls(const rs_test_alloc *ta);
int64_t rs_test_alloc_live(const rs_test_alloc *ta);

/* ---- fixture: one database per test, both storage engines ---- */

typedef struct rs_fx {
	rs_storage storage;
	rs_db *db;
	rs_run_id run;	/* a fresh random run per test */
	rs_run_id run2; /* another one */
	rs_test_alloc ta;
} rs_fx;

/* Group setups choose the engine; the group teardown frees the state. */
int rs_fx_group_setup_sharded(void **state);
int rs_fx_group_setup_unified(void **state);
int rs_fx_group_teardown(void **state);
/* Per test: open (counting allocator, fresh runs) / close (and check that
 * every byte allocated through the hooks was returned). */
int rs_fx_setup(void **state);
int rs_fx_teardown(void **state);

#define RS_FX_TEST(f) \
	cmocka_unit_test_setup_teardown(f, rs_fx_setup, rs_fx_teardown)

/* Run `tests` once per storage engine, as groups "<name>/sharded" and
 * "<name>/unified". Returns the number of failures. */
int rs_fx_run_both(const char *name, const struct CMUnitTest *tests, size_t n);
#define RS_FX_RUN_BOTH(name, tests) \
	rs_fx_run_both((name), (tests), sizeof(tests) / sizeof((tests)[0]))
/* Run `tests` on the sharded engine only, as group "<name>/sharded". */
int rs_fx_run_sharded(const char *name, const struct CMUnitTest *tests,
		      size_t n);
#define RS_FX_RUN_SHARDED(name, tests) \
	rs_fx_run_sharded((name), (tests), sizeof(tests) / sizeof((tests)[0]))

/* Open a database with this engine (and hooks when non-NULL). */
rs_db *rs_t_open(rs_storage storage, const rs_allocator *hooks);
const char *rs_t_storage_name(rs_storage s);

/* ---- KV helpers (string keys and values) ---- */

void rs_t_put(rs_db *db, const rs_run_id *run, const char *k, const char *v);
void rs_t_del(rs_db *db, const rs_run_id *run, const char *k);
/* Asserts the one-shot value of k: `expected` NULL means absent. */
void rs_t_expect(rs_db *db, const rs_run_id *run, const char *k,
		 const char *expected);
void rs_t_txn_put(rs_txn *txn, const char *k, const char *v);
/* Asserts the value of k in txn's view: NULL means absent. */
void rs_t_txn_expect(rs_txn *txn, const char *k, const char *expected);
uint64_t rs_t_version(rs_db *db, const rs_run_id *run);
rs_run_id rs_t_run(void);
/* Remove a directory tree (best effort; a missing one is fine). */
void rs_t_rmtree(const char *dir);

/* Collects a listing: keys and values as NUL-terminated strings. */
#define RS_T_LIST_MAX 256
typedef struct rs_t_list {
	size_t n;
	char keys[RS_T_LIST_MAX][64];
	char vals[RS_T_LIST_MAX][64];
	int stop_after; /* >0: return 77 from the callback after this many */
} rs_t_list;
int rs_t_list_cb(rs_bytes key, rs_bytes value, void *ctx);

/* ---- deterministic PRNG (splitmix64) ---- */

static inline uint64_t rs_t_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

#endif
