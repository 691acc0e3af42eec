/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_BUF_H
#define RS_UTIL_BUF_H

#include <stddef.h>

#include "util/alloc.h"

/*
 * A chunked arena: bump allocation from blocks that never move, so
 * pointers into it stay valid until reset. Reset keeps the blocks (up to a
 * retained budget), so a reused arena stops allocating after warm-up.
 */
typedef struct rs__arena_block {
	struct rs__arena_block *next;
	size_t cap;
	size_t used;
	_Alignas(16) unsigned char data[];
} rs__arena_block;

typedef struct rs__arena {
	const rs__alloc *alloc;
	rs__arena_block *head; /* first block */
	rs__arena_block *cur;  /* block being filled */
	size_t kept;	       /* capacity of all blocks, in bytes */
} rs__arena;

void rs__arena_init(rs__arena *ar, const rs__alloc *a);
/* 16-byte aligned; NULL on out of memory. */
void *rs__arena_alloc(rs__arena *ar, size_t size);
void *rs__arena_dup(rs__arena *ar, const void *p, size_t size);
/* Forget the contents; keep up to 1 MiB of blocks for reuse. O(blocks
 * this use of the arena filled), not O(blocks kept). */
void rs__arena_reset(rs__arena *ar);
void rs__arena_free(rs__arena *ar);

#endif
