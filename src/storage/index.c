/* SPDX-License-Identifier: MIT */
/*
 * The ordered index: a skiplist over the key nodes of one run, with one
 * writer (the run's commit lock holder) and lock-free readers under RCU.
 *
 * Shape. Each node has a tower of `height` forward links (height 1 + a
 * geometric variable, p = 1/4, so 1.33 links per node on average) and one
 * backward link at level 0, so a reverse step is O(1) like a forward one.
 * A sentinel head with the full height starts every search. A search
 * visits O(log n) nodes: about 4/3 · log4(n) levels, at most ~3 per level.
 *
 * Publication. A node is initialized, its links pointing at its future
 * successors, before it is published. Insert links level 0 first (the
 * predecessor's next[0] with release, then the successor's prev), then the
 * higher levels bottom-up, so a reader that reaches a node at any level
 * finds it linked at every level below. Readers load links with acquire.
 *
 * Unlink. The writer rewrites the predecessors' links top-down to skip
 * the node, and the successor's prev, but never the node's own links: a
 * reader standing on it (inside its read-side section) still walks on to
 * nodes that were its neighbours when it was unlinked, and the node is
 * freed only after a grace period (table.c retires it).
 *
 * What a reader sees. A reader at snapshot s loads its first link after s
 * was published; every link it loads is at least that new. Links change
 * afterwards only to add nodes created after s (their versions are all
 * newer than s) or to skip nodes that reclamation unlinked, which every
 * snapshot that may still read (s included: it holds a pin) sees as
 * absent. So a walk from any node, filtered by rs__node_visible(), meets
 * every key live at s exactly once, in order, stale links included.
 */
#include "storage/index.h"

int rs__index_init(rs__index *ix, const rs__alloc *a)
{
	ix->head = rs__node_new_height(a, 0, NULL, 0, RS__INDEX_MAX_HEIGHT);
	if (!ix->head)
		return RS_ENOMEM;
	atomic_init(&ix->top, 1);
	ix->n = 0;
	return 0;
}

void rs__index_destroy(rs__index *ix, const rs__alloc *a)
{
	rs__free(a, ix->head);
	ix->head = NULL;
}

/*
 * Walk down from the top level; preds[i] (when not NULL) receives the last
 * node at level i before the position (at it too, when `incl`).
 */
static rs__node *descend(const rs__index *ix, unsigned tag, const void *key,
			 size_t klen, bool incl, rs__node **preds)
{
	rs__node *x = ix->head;
	unsigned top = atomic_load_explicit(&ix->top, memory_order_relaxed);

	if (preds)
		for (unsigned i = top; i < RS__INDEX_MAX_HEIGHT; i++)
			preds[i] = x;
	for (unsigned i = top; i-- > 0;) {
		for (;;) {
			rs__node *nx = atomic_load_explicit(
				&x->next[i], memory_order_acquire);
			int c;

			if (!nx)
				break;
			c = rs__index_cmp(nx, tag, key, klen);
			if (c > 0 || (c == 0 && !incl))
				break;
			x = nx;
		}
		if (preds)
			preds[i] = x;
	}
	return x;
}

rs__node *rs__index_floor(const rs__index *ix, unsigned tag, const void *key,
			  size_t klen, bool incl)
{
	return descend(ix, tag, key, klen, incl, NULL);
}

void rs__index_insert(rs__index *ix, rs__node *n)
{
	rs__node *preds[RS__INDEX_MAX_HEIGHT];
	rs__node *succ;
	unsigned h = n->height;

	descend(ix, n->tag, rs__node_key(n), n->klen, false, preds);
	for (unsigned i = 0; i < h; i++)
		atomic_store_explicit(
			&n->next[i],
			atomic_load_explicit(&preds[i]->next[i],
					     memory_order_relaxed),
			memory_order_relaxed);
	atomic_store_explicit(&n->prev, preds[0], memory_order_relaxed);
	succ = atomic_load_explicit(&n->next[0], memory_order_relaxed);
	/* Pairs with the acquire loads of the links in the readers. */
	atomic_store_explicit(&preds[0]->next[0], n, memory_order_release);
	if (succ)
		atomic_store_explicit(&succ->prev, n, memory_order_release);
	for (unsigned i = 1; i < h; i++)
		atomic_store_explicit(&preds[i]->next[i], n,
				      memory_order_release);
	if (h > atomic_load_explicit(&ix->top, memory_order_relaxed))
		atomic_store_explicit(&ix->top, h, memory_order_relaxed);
	ix->n++;
}

void rs__index_unlink(rs__index *ix, rs__node *n)
{
	rs__node *preds[RS__INDEX_MAX_HEIGHT];
	rs__node *succ;

	descend(ix, n->tag, rs__node_key(n), n->klen, false, preds);
	for (unsigned i = n->height; i-- > 0;) {
		/* Keys are unique, so the predecessor links to n itself. */
		if (atomic_load_explicit(&preds[i]->next[i],
					 memory_order_relaxed) != n)
			continue;
		atomic_store_explicit(
			&preds[i]->next[i],
			atomic_load_explicit(&n->next[i], memory_order_relaxed),
			memory_order_release);
	}
	succ = atomic_load_explicit(&n->next[0], memory_order_relaxed);
	if (succ)
		atomic_store_explicit(&succ->prev, preds[0],
				      memory_order_release);
	ix->n--;
}
