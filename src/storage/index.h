/* SPDX-License-Identifier: MIT */
#ifndef RS_STORAGE_INDEX_H
#define RS_STORAGE_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/table.h"
#include "util/alloc.h"
#include "util/op.h"

/*
 * The ordered index of one run: a single-writer skiplist threaded through
 * the key nodes of its table (table.h), ordered by (tag, key bytes). The
 * index reaches the same nodes, and so the same version chains, as point
 * lookups: a scan at a snapshot filters nodes with rs__node_visible()
 * exactly as a read does. See index.c for the read-side protocol.
 */
typedef struct rs__index {
	rs__node *head;	      /* sentinel: no key, RS__INDEX_MAX_HEIGHT */
	_Atomic unsigned top; /* levels in use (readers: a hint) */
	size_t n;	      /* linked nodes (writer-only) */
} rs__index;

int rs__index_init(rs__index *ix, const rs__alloc *a);
/* Free the sentinel; the nodes belong to the table. */
void rs__index_destroy(rs__index *ix, const rs__alloc *a);

/*
 * Order of a node against the position (tag, key). `tag` is unsigned so
 * that tag + 1 (the end of a tag's keys, with an empty key) is a position.
 */
static inline int rs__index_cmp(const rs__node *n, unsigned tag,
				const void *key, size_t klen)
{
	return rs__tagkey_cmp(n->tag, rs__node_key(n), n->klen, tag, key, klen);
}

/* ---- readers: inside an RCU read-side section ---- */

/*
 * The last node before (tag, key), or at it when `incl`; the sentinel
 * (ix->head) when there is none. Its level-0 successor is then the first
 * node at or after (after, when `incl`) the position.
 */
rs__node *rs__index_floor(const rs__index *ix, unsigned tag, const void *key,
			  size_t klen, bool incl);

static inline rs__node *rs__index_next(const rs__node *n)
{
	return atomic_load_explicit(&n->next[0], memory_order_acquire);
}

/* The level-0 predecessor; the sentinel before the first node. */
static inline rs__node *rs__index_prev(const rs__node *n)
{
	return atomic_load_explicit(&n->prev, memory_order_acquire);
}

/* ---- writers: under the run's commit lock ---- */

/* Link a node that is in the table, its first version pushed. */
void rs__index_insert(rs__index *ix, rs__node *n);
/* Unlink a node (before it is retired); its own links stay intact for
 * the readers still on it. */
void rs__index_unlink(rs__index *ix, rs__node *n);

#endif
