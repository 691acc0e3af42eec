/* SPDX-License-Identifier: MIT */
/*
 * The arena (util/buf.c) behind every transaction's staged keys and
 * values: pointers stay put until reset, a reused arena stops allocating,
 * what it keeps is bounded, and a reset only walks the blocks it filled.
 */
#include "common/rs_test.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"

typedef struct afx {
	rs_test_alloc ta;
	rs__alloc alloc;
	rs__arena ar;
} afx;

static void afx_init(afx *f)
{
	rs_allocator hooks;

	rs_test_alloc_init(&f->ta, &hooks);
	assert_int_equal(rs__alloc_init(&f->alloc, &hooks), 0);
	rs__arena_init(&f->ar, &f->alloc);
}

static size_t nblocks(const rs__arena *ar)
{
	size_t n = 0;

	for (const rs__arena_block *b = ar->head; b; b = b->next)
		n++;
	return n;
}

/* Fill with `n` allocations of `size` bytes, each stamped with its index;
 * check every one kept its bytes (no block moved or was reused). */
static void fill_and_check(afx *f, size_t n, size_t size)
{
	unsigned char **p = calloc(n, sizeof(*p));

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		p[i] = rs__arena_alloc(&f->ar, size);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)(i & 0xff), size);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < size; j++)
			if (p[i][j] != (unsigned char)(i & 0xff))
				fail_msg("allocation %zu changed", i);
	free(p);
}

static void arena__reuse_allocates_nothing(void **state)
{
	afx f;

	(void)state;
	afx_init(&f);
	fill_and_check(&f, 1000, 100);
	rs__arena_reset(&f.ar);
	{
		uint64_t before = rs_test_alloc_calls(&f.ta);

		for (int round = 0; round < 50; round++) {
			fill_and_check(&f, 1000, 100);
			rs__arena_reset(&f.ar);
		}
		assert_int_equal(rs_test_alloc_calls(&f.ta), before);
	}
	rs__arena_free(&f.ar);
	assert_int_equal(rs_test_alloc_live(&f.ta), 0);
}

static void arena__keeps_at_most_a_mebibyte(void **state)
{
	afx f;

	(void)state;
	afx_init(&f);
	fill_and_check(&f, 8192, 1000); /* ~8 MiB */
	assert_true(f.ar.kept > (8u << 20) - 4096);
	rs__arena_reset(&f.ar);
	assert_true(f.ar.kept <= (1u << 20));
	assert_true(rs_test_alloc_live(&f.ta) <= (1 << 20) + 64 * 1024);
	/* A large allocation gets a block of its own, kept within budget. */
	fill_and_check(&f, 1, 200000);
	rs__arena_reset(&f.ar);
	assert_true(f.ar.kept <= (1u << 20));
	rs__arena_free(&f.ar);
	assert_int_equal(rs_test_alloc_live(&f.ta), 0);
}

/* After a big use, a small one: the reset must not depend on how many
 * blocks are kept. Checked by structure: a reset leaves `cur` at the head
 * and blocks past the last one filled untouched (their stale `used` is
 * cleared by the allocation that moves on to them). */
static void arena__small_use_after_big_one(void **state)
{
	afx f;
	rs__arena_block *second;

	(void)state;
	afx_init(&f);
	fill_and_check(&f, 2000, 200); /* ~400 KiB: many 4 KiB blocks */
	rs__arena_reset(&f.ar);
	assert_true(nblocks(&f.ar) > 50);
	second = f.ar.head->next;
	fill_and_check(&f, 1, 16);
	assert_ptr_equal(f.ar.cur, f.ar.head);
	rs__arena_reset(&f.ar);
	assert_ptr_equal(f.ar.cur, f.ar.head);
	assert_ptr_equal(f.ar.head->next, second);
	/* The kept blocks are reused in order, without allocating. */
	{
		uint64_t before = rs_test_alloc_calls(&f.ta);

		fill_and_check(&f, 2000, 200);
		assert_int_equal(rs_test_alloc_calls(&f.ta), before);
	}
	rs__arena_free(&f.ar);
	assert_int_equal(rs_test_alloc_live(&f.ta), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arena__reuse_allocates_nothing),
		cmocka_unit_test(arena__keeps_at_most_a_mebibyte),
		cmocka_unit_test(arena__small_use_after_big_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
