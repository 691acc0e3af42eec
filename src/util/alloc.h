/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_ALLOC_H
#define RS_UTIL_ALLOC_H

#include <stddef.h>

#include <runstate.h>

/*
 * Every allocation of the library goes through an rs__alloc: the user's
 * hooks from rs_db_options, or the C library's functions. One rs__alloc
 * lives in each rs_db; RCU callbacks find it through their retire list or
 * batch (util/rcu.h), so objects need not keep a pointer to it.
 */
typedef struct rs__alloc {
	void *(*malloc_fn)(void *ctx, size_t size);
	void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
	void (*free_fn)(void *ctx, void *ptr);
	void *ctx;
} rs__alloc;

/*
 * A cache line (x86-64, and the usual size elsewhere): the padding that
 * keeps fields written by different threads off each other's lines.
 */
#define RS__CACHE_LINE 64

/* Fill `a` from user hooks; all three or none. Returns RS_EINVAL if mixed. */
int rs__alloc_init(rs__alloc *a, const rs_allocator *hooks);

static inline void *rs__malloc(const rs__alloc *a, size_t size)
{
	return a->malloc_fn(a->ctx, size ? size : 1);
}

static inline void *rs__realloc(const rs__alloc *a, void *p, size_t size)
{
	return a->realloc_fn(a->ctx, p, size ? size : 1);
}

static inline void rs__free(const rs__alloc *a, void *p)
{
	if (p)
		a->free_fn(a->ctx, p);
}

void *rs__calloc(const rs__alloc *a, size_t n, size_t size);

/*
 * Grow a dynamic array to hold at least `need` elements of `elem` bytes.
 * Capacity doubles; *cap is updated. Returns 0 or RS_ENOMEM (array intact).
 */
int rs__grow(const rs__alloc *a, void **arr, size_t *cap, size_t need,
	     size_t elem);

#endif
