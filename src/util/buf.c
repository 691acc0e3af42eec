/* SPDX-License-Identifier: MIT */
#include "util/buf.h"

#include <string.h>

#define BLOCK_MIN 4096u
#define RETAIN_MAX (1u << 20)

void rs__arena_init(rs__arena *ar, const rs__alloc *a)
{
	ar->alloc = a;
	ar->head = NULL;
	ar->cur = NULL;
	ar->kept = 0;
}

static rs__arena_block *block_new(const rs__alloc *a, size_t cap)
{
	rs__arena_block *b = rs__malloc(a, sizeof(*b) + cap);

	if (b) {
		b->next = NULL;
		b->cap = cap;
		b->used = 0;
	}
	return b;
}

void *rs__arena_alloc(rs__arena *ar, size_t size)
{
	rs__arena_block *b = ar->cur;
	size_t need = (size + 15u) & ~(size_t)15u;

	if (need < size)
		return NULL;
	/* Use the current block, else the next retained one that fits. */
	while (b && b->cap - b->used < need) {
		b = b->next;
		if (b)
			b->used = 0;
	}
	if (!b) {
		size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;

		b = block_new(ar->alloc, cap);
		if (!b)
			return NULL;
		ar->kept += cap;
		/* Append after cur so retained blocks keep their order. */
		if (ar->cur) {
			b->next = ar->cur->next;
			ar->cur->next = b;
		} else {
			b->next = ar->head;
			ar->head = b;
		}
	}
	ar->cur = b;
	b->used += need;
	return b->data + b->used - need;
}

void *rs__arena_dup(rs__arena *ar, const void *p, size_t size)
{
	void *d = rs__arena_alloc(ar, size);

	if (d && size)
		memcpy(d, p, size);
	return d;
}

void rs__arena_reset(rs__arena *ar)
{
	size_t kept = 0;
	rs__arena_block **link = &ar->head;

	/* Blocks past `cur` were not touched since the last reset (alloc
	 * clears a block's `used` when it moves on to it). */
	for (rs__arena_block *b = ar->head; b; b = b->next) {
		b->used = 0;
		if (b == ar->cur)
			break;
	}
	ar->cur = ar->head;
	if (ar->kept <= RETAIN_MAX)
		return;
	while (*link) {
		rs__arena_block *b = *link;

		if (kept + b->cap > RETAIN_MAX && kept > 0) {
			*link = b->next;
			rs__free(ar->alloc, b);
			continue;
		}
		kept += b->cap;
		link = &b->next;
	}
	ar->kept = kept;
	ar->cur = ar->head;
}

void rs__arena_free(rs__arena *ar)
{
	rs__arena_block *b = ar->head;

	while (b) {
		rs__arena_block *next = b->next;
		rs__free(ar->alloc, b);
		b = next;
	}
	ar->head = ar->cur = NULL;
	ar->kept = 0;
}
