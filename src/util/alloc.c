/* SPDX-License-Identifier: MIT */
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void *libc_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return realloc(p, size);
}

static void libc_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

int rs__alloc_init(rs__alloc *a, const rs_allocator *hooks)
{
	int set = 0;

	if (hooks)
		set = !!hooks->malloc_fn + !!hooks->realloc_fn +
		      !!hooks->free_fn;
	if (set != 0 && set != 3)
		return RS_EINVAL;
	if (set == 3) {
		a->malloc_fn = hooks->malloc_fn;
		a->realloc_fn = hooks->realloc_fn;
		a->free_fn = hooks->free_fn;
		a->ctx = hooks->ctx;
	} else {
		a->malloc_fn = libc_malloc;
		a->realloc_fn = libc_realloc;
		a->free_fn = libc_free;
		a->ctx = NULL;
	}
	return 0;
}

void *rs__calloc(const rs__alloc *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = rs__malloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

int rs__grow(const rs__alloc *a, void **arr, size_t *cap, size_t need,
	     size_t elem)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return RS_ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return RS_ENOMEM;
	p = rs__realloc(a, *arr, ncap * elem);
	if (!p)
		return RS_ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
